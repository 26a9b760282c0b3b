//! Errors and warnings about a configuration, with the place in the file they refer to.

use alloc::string::String;
use core::fmt;

/// A place in a configuration file: file name, line and column, both counted from 1.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    /// The file name as given to the parser or to `include`.
    pub file: String,
    /// Line, from 1.
    pub line: u32,
    /// Column in characters, from 1.
    pub column: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A configuration the server cannot use: a syntax error, a refused statement, or a topology
/// that does not hold (overlapping subnets, a range outside its subnet).
///
/// Displays as `file:line:column: message` when the place is known, else as the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfError {
    /// Where the problem is, when the configuration came from a file.
    pub location: Option<Location>,
    /// What is wrong, lowercase, with the offending value.
    pub message: String,
}

impl ConfError {
    pub(crate) fn new(location: Option<Location>, message: impl Into<String>) -> Self {
        ConfError {
            location,
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(at) => write!(f, "{at}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ConfError {}

/// Something accepted but worth telling the operator: a statement ignored because it does not
/// change DHCP answers, a duplicate host, a fixed address outside every subnet.
///
/// Displays as `file:line:column: message` when the place is known, else as the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Where, when the configuration came from a file.
    pub location: Option<Location>,
    /// What was noticed.
    pub message: String,
    /// True for a statement accepted and ignored because it changes no answer: a note,
    /// rather than something the operator may want to fix.
    pub ignored: bool,
}

impl Warning {
    pub(crate) fn new(location: Option<Location>, message: impl Into<String>) -> Self {
        Warning {
            location,
            message: message.into(),
            ignored: false,
        }
    }

    /// A note that a statement was accepted and ignored.
    pub(crate) fn ignored(location: Option<Location>, message: impl Into<String>) -> Self {
        Warning {
            ignored: true,
            ..Warning::new(location, message)
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(at) => write!(f, "{at}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}
