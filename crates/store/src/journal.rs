//! The append-only lease journal over one file, and the storage trait it implements.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use charrua_server::leases::Lease;

use crate::read::read_bytes;
use crate::write::{write_header, write_lease};
use crate::{Loaded, StoreError};

/// The file name ISC dhcpd gives its lease database.
pub const DEFAULT_NAME: &str = "dhcpd.leases";

/// Where Debian's ISC dhcpd keeps its lease database.
pub const DEFAULT_PATH: &str = "/var/lib/dhcp/dhcpd.leases";

/// The journal is worth compacting once it is this many times the size of the live leases…
pub const COMPACT_FACTOR: u64 = 4;

/// … and at least this large, in bytes.
pub const COMPACT_MIN_BYTES: u64 = 1 << 20;

/// A record's assumed length before any has been read or written.
const TYPICAL_RECORD_BYTES: u64 = 256;

/// Durable lease storage, as the daemon uses it.
pub trait LeaseStore {
    /// Reads every stored lease (the last record of an address wins) and what could not be
    /// read. Bad records are problems, not errors: only IO fails a load.
    fn load(&mut self) -> Result<Loaded, StoreError>;

    /// Makes a batch of lease changes durable: when this returns `Ok`, they survive a crash
    /// or power loss. Offered leases are not durable and are skipped.
    ///
    /// After an error, whether any of the batch is stored is unknown: none of it may be
    /// acknowledged to a client.
    fn commit(&mut self, changes: &[Lease]) -> Result<(), StoreError>;

    /// Replaces the stored history with the given live leases (offers skipped), atomically:
    /// after a crash either the old or the new content is in place, whole.
    fn compact(&mut self, live: &mut dyn Iterator<Item = &Lease>) -> Result<(), StoreError>;
}

/// An append-only lease journal in ISC `dhcpd.leases` format over one file.
///
/// Commits append records and sync the data once per batch; compaction rewrites the file
/// through `NAME.tmp` and a rename, keeping the previous file as `NAME~` as ISC dhcpd does.
/// One process is expected to write a journal at a time: the file is not locked.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    /// The journal, open for appending.
    file: File,
    /// Bytes in the file.
    len: u64,
    /// Records read or written, and their bytes, for the mean record length.
    records: u64,
    record_bytes: u64,
    /// True when the file may end in the middle of a line (a torn write), so the next append
    /// starts on a new line.
    torn_tail: bool,
}

impl Journal {
    /// Opens the journal at `path`, creating an empty one (and syncing its directory) if
    /// there is none.
    pub fn open(path: impl Into<PathBuf>) -> Result<Journal, StoreError> {
        let path = path.into();
        let created = match OpenOptions::new().append(true).create_new(true).open(&path) {
            Ok(file) => Some(file),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => None,
            Err(e) => return Err(StoreError::new(&path, "create", e)),
        };
        let file = match created {
            Some(file) => {
                sync_directory(&path)?;
                file
            }
            None => OpenOptions::new()
                .read(true)
                .append(true)
                .open(&path)
                .map_err(|e| StoreError::new(&path, "open", e))?,
        };
        let mut journal = Journal {
            path,
            file,
            len: 0,
            records: 0,
            record_bytes: 0,
            torn_tail: false,
        };
        journal.len = journal.file_len()?;
        journal.torn_tail = journal.last_byte()?.is_some_and(|b| b != b'\n');
        Ok(journal)
    }

    /// Opens the journal named `dhcpd.leases` in `directory`.
    pub fn in_directory(directory: impl AsRef<Path>) -> Result<Journal, StoreError> {
        Journal::open(directory.as_ref().join(DEFAULT_NAME))
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The journal's size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when the journal holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The path of the backup compaction keeps: `NAME~`.
    pub fn backup_path(&self) -> PathBuf {
        with_suffix(&self.path, "~")
    }

    /// True when compacting would pay: the journal has grown to [`COMPACT_FACTOR`] times the
    /// size `live_count` leases take (by the mean record length seen so far) and to at least
    /// [`COMPACT_MIN_BYTES`].
    pub fn should_compact(&self, live_count: usize) -> bool {
        let mean = self
            .record_bytes
            .checked_div(self.records)
            .unwrap_or(TYPICAL_RECORD_BYTES);
        let live = u64::try_from(live_count)
            .unwrap_or(u64::MAX)
            .saturating_mul(mean);
        self.len >= COMPACT_MIN_BYTES && self.len >= live.saturating_mul(COMPACT_FACTOR)
    }

    fn file_len(&self) -> Result<u64, StoreError> {
        self.file
            .metadata()
            .map(|m| m.len())
            .map_err(|e| StoreError::new(&self.path, "read metadata", e))
    }

    fn last_byte(&self) -> Result<Option<u8>, StoreError> {
        if self.len == 0 {
            return Ok(None);
        }
        let mut file =
            File::open(&self.path).map_err(|e| StoreError::new(&self.path, "open", e))?;
        let mut byte = [0u8];
        file.seek(SeekFrom::End(-1))
            .and_then(|_| file.read_exact(&mut byte))
            .map_err(|e| StoreError::new(&self.path, "read", e))?;
        Ok(Some(byte[0]))
    }

    fn note_records(&mut self, count: usize, bytes: usize) {
        let as_u64 = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        self.records = self.records.saturating_add(as_u64(count));
        self.record_bytes = self.record_bytes.saturating_add(as_u64(bytes));
    }
}

impl LeaseStore for Journal {
    fn load(&mut self) -> Result<Loaded, StoreError> {
        let mut bytes = Vec::new();
        File::open(&self.path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|e| StoreError::new(&self.path, "read", e))?;
        let mut loaded = read_bytes(&bytes);
        for problem in &mut loaded.problems {
            problem.path = Some(self.path.clone());
        }
        self.records = 0;
        self.record_bytes = 0;
        self.note_records(loaded.records, bytes.len());
        Ok(loaded)
    }

    fn commit(&mut self, changes: &[Lease]) -> Result<(), StoreError> {
        let mut text = String::new();
        if self.torn_tail {
            text.push('\n');
        }
        let mut count = 0;
        for lease in changes {
            count += usize::from(write_lease(&mut text, lease));
        }
        if count == 0 {
            return Ok(());
        }
        // Until the sync succeeds, the file may end in a partial record.
        self.torn_tail = true;
        self.file
            .write_all(text.as_bytes())
            .map_err(|e| StoreError::new(&self.path, "append", e))?;
        self.file
            .sync_data()
            .map_err(|e| StoreError::new(&self.path, "sync", e))?;
        self.torn_tail = false;
        self.len = self
            .len
            .saturating_add(u64::try_from(text.len()).unwrap_or(u64::MAX));
        self.note_records(count, text.len());
        Ok(())
    }

    fn compact(&mut self, live: &mut dyn Iterator<Item = &Lease>) -> Result<(), StoreError> {
        let mut text = String::new();
        write_header(&mut text);
        let header = text.len();
        let mut count = 0;
        for lease in live {
            count += usize::from(write_lease(&mut text, lease));
        }

        let temporary = with_suffix(&self.path, ".tmp");
        let mut file =
            File::create(&temporary).map_err(|e| StoreError::new(&temporary, "create", e))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| StoreError::new(&temporary, "write", e))?;
        drop(file);

        // The backup is a second name for the current file, so the journal's own name never
        // goes missing; where hard links are not supported, it is a copy.
        let backup = self.backup_path();
        match fs::remove_file(&backup) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(StoreError::new(&backup, "remove the old backup", e));
            }
            _ => {}
        }
        if fs::hard_link(&self.path, &backup).is_err() {
            fs::copy(&self.path, &backup)
                .map_err(|e| StoreError::new(&backup, "back up the journal", e))?;
        }
        fs::rename(&temporary, &self.path)
            .map_err(|e| StoreError::new(&self.path, "replace with the compacted journal", e))?;
        sync_directory(&self.path)?;

        self.file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(|e| StoreError::new(&self.path, "reopen", e))?;
        self.len = u64::try_from(text.len()).unwrap_or(u64::MAX);
        self.torn_tail = false;
        self.records = 0;
        self.record_bytes = 0;
        self.note_records(count, text.len() - header);
        Ok(())
    }
}

/// `path` with `suffix` added to its file name.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

/// Syncs the directory holding `path`, so that a file created or renamed in it stays.
fn sync_directory(path: &Path) -> Result<(), StoreError> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(directory)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::new(directory, "sync directory", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use charrua_server::leases::LeaseState;
    use std::net::Ipv4Addr;

    fn active(last: u8) -> Lease {
        Lease {
            address: Ipv4Addr::new(192, 0, 2, last),
            client_id: None,
            hardware: None,
            starts: 10,
            ends: 20,
            cltt: 10,
            state: LeaseState::Active,
            hostname: None,
        }
    }

    #[test]
    fn committed_bytes_are_in_the_file_when_commit_returns() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::in_directory(dir.path()).unwrap();
        journal.commit(&[active(1), active(2)]).unwrap();
        // Nothing is buffered in the process: another handle sees the whole batch at once,
        // while the journal is still open.
        let on_disk = fs::read(journal.path()).unwrap();
        assert_eq!(u64::try_from(on_disk.len()).unwrap(), journal.len());
        let loaded = read_bytes(&on_disk);
        assert_eq!(loaded.leases, [active(1), active(2)]);
        assert!(!journal.torn_tail);
    }

    #[test]
    fn notices_a_file_that_ends_in_the_middle_of_a_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DEFAULT_NAME);
        fs::write(&path, "lease 192.0.2.1 {\n  ends 4 20").unwrap();
        assert!(Journal::open(&path).unwrap().torn_tail);
        fs::write(&path, "lease 192.0.2.1 {\n}\n").unwrap();
        assert!(!Journal::open(&path).unwrap().torn_tail);
    }
}
