//! Durable lease storage for Charrua: an append-only lease journal in the ISC
//! `dhcpd.leases` format (see dhcpd.leases(5)).
//!
//! - [`read()`] loads a lease file as ISC dhcpd 4.x writes it, in either time format, and
//!   keeps the last record of each address. A torn or corrupt record is reported as a
//!   [`Problem`] with its line and column and skipped; loading never fails on content. A
//!   large text is parsed on all the machine's cores, and [`LeaseStore::load`] reads a
//!   large journal in blocks parsed while the next ones are read, with the same result.
//! - [`write()`] and [`write_lease`] produce records that ISC dhcpd 4.4 (`dhcpd -T`) and
//!   Debian's `dhcp-lease-list` read back.
//! - [`Journal`] implements [`LeaseStore`] over one file: [`LeaseStore::commit`] appends a
//!   batch with one write and one `fdatasync`, so the leases are durable when it returns;
//!   [`LeaseStore::compact`] rewrites the file atomically (temporary file, `fsync`, rename,
//!   directory `fsync`) and keeps the previous file as `NAME~`.
//! - The slow parts can leave the thread that owns the journal: [`Journal::append`] writes
//!   and returns a [`PendingSync`] to run elsewhere, and [`Journal::begin_compaction`]
//!   returns a [`CompactionJob`] that writes the new file elsewhere, while appends go on;
//!   [`Journal::finish_compaction`] puts it in place. Syncs may overlap, each on a lane of
//!   its own ([`PendingSync::sync_on`], [`SYNC_LANES`]).
//! - [`Journal::set_reserve`] keeps blank space (comment lines) written ahead of the
//!   records, so that appends overwrite blocks the file already has and a sync need not
//!   grow the file; [`Journal::trim_reserve`] cuts it off.
//!
//! # Limits
//!
//! - Only IPv4 leases are kept. Top-level `host`, `group`, `class`, `subclass`,
//!   `failover peer` and DHCPv6 (`ia-na`, `ia-ta`, `ia-pd`) records are skipped with a note.
//! - Inside a lease, `set`, `on …`, `billing`, `option` and `vendor-class-identifier` are
//!   read past and not kept; so are the `tstp`, `tsfp` and `atsfp` times and the `next` and
//!   `rewind` binding states. A rewritten file therefore loses them, as well as the
//!   `server-duid` (which [`read()`] reports in [`Loaded::server_duid`]).
//! - Hardware types other than Ethernet, token ring, FDDI and InfiniBand are not written,
//!   since ISC dhcpd cannot read them back.
//! - Times in the calendar format are read as UTC (`db-time-format local` files write
//!   `epoch` times, which are read too).
//! - The journal is not locked: one process writes it at a time. The trait is synchronous.

#![forbid(unsafe_code)]

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use charrua_server::leases::Lease;

mod journal;
mod read;
mod time;
mod write;

pub use journal::{
    COMPACT_FACTOR, COMPACT_MIN_BYTES, Compacted, CompactionJob, DEFAULT_NAME, DEFAULT_PATH,
    Journal, LeaseStore, PendingSync, SYNC_LANES, SnapshotFeed,
};
pub use read::{read, read_bytes};
pub use write::{write, write_header, write_lease};

/// What a lease file held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loaded {
    /// The leases, one per address (its last record), in the order addresses first appear.
    pub leases: Vec<Lease>,
    /// What could not be read, or was skipped, in file order.
    pub problems: Vec<Problem>,
    /// Lease records read, repeated addresses included.
    pub records: usize,
    /// The `server-duid` statement's bytes, when the file has one.
    pub server_duid: Option<Vec<u8>>,
}

/// How much a [`Problem`] matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// Something read past on purpose, such as a `host` record.
    Note,
    /// A record that could not be read and was skipped.
    Error,
}

/// A record in a lease file that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, when the text came from one.
    pub path: Option<PathBuf>,
    /// The line, from 1.
    pub line: usize,
    /// The column in bytes, from 1.
    pub column: usize,
    /// Whether the problem lost data.
    pub level: Level,
    /// What was wrong.
    pub message: String,
}

/// `PATH:LINE: message` (or `line LINE: message` without a path).
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{}:{}: {}", path.display(), self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// A lease journal operation that failed in the operating system.
#[derive(Debug)]
pub struct StoreError {
    /// The file or directory involved.
    pub path: PathBuf,
    /// What was being done, such as `"append"` or `"sync"`.
    pub action: &'static str,
    /// The operating system's error.
    pub source: io::Error,
}

impl StoreError {
    fn new(path: &Path, action: &'static str, source: io::Error) -> Self {
        StoreError {
            path: path.to_path_buf(),
            action,
            source,
        }
    }
}

/// `lease journal PATH: what: error`.
impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lease journal {}: {}: {}",
            self.path.display(),
            self.action,
            self.source
        )
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}
