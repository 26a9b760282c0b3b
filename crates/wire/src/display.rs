//! Human-readable messages, one line per field and option, in the manner of `tcpdump -v`.

use core::fmt;

use crate::message::Message;

/// One line per field, then one per option: `name (code): value`.
///
/// With `{:#}` every line is indented by two spaces, for printing under a heading.
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let indent = if f.alternate() { "  " } else { "" };
        let kind = match self.message_type() {
            Some(t) => alloc::format!("{t}"),
            None => alloc::string::String::from("BOOTP"),
        };
        writeln!(f, "{indent}{} {kind}, xid {:#010x}", self.op, self.xid)?;
        writeln!(
            f,
            "{indent}htype {}, hlen {}, hops {}",
            self.htype,
            self.chaddr.len(),
            self.hops
        )?;
        writeln!(f, "{indent}secs {}, flags {}", self.secs, self.flags)?;
        writeln!(f, "{indent}ciaddr {}", self.ciaddr)?;
        writeln!(f, "{indent}yiaddr {}", self.yiaddr)?;
        writeln!(f, "{indent}siaddr {}", self.siaddr)?;
        writeln!(f, "{indent}giaddr {}", self.giaddr)?;
        writeln!(f, "{indent}chaddr {}", self.chaddr)?;
        if !self.sname.is_empty() {
            writeln!(f, "{indent}sname \"{}\"", self.sname)?;
        }
        if !self.file.is_empty() {
            writeln!(f, "{indent}file \"{}\"", self.file)?;
        }
        for option in &self.options {
            writeln!(f, "{indent}{option}")?;
        }
        Ok(())
    }
}
