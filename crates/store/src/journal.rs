//! The append-only lease journal over one file, and the storage trait it implements.

use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use charrua_server::leases::Lease;

use crate::read::read_file;
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

/// How many syncs of one journal file may run at once: each has a descriptor of its own
/// ([`PendingSync::sync_on`]).
pub const SYNC_LANES: usize = 2;

/// The length of a line of the reserve.
const BLANK_LINE: usize = 64;

/// The reserve's text, one block of it: lines that are a `#` and spaces, so a comment to
/// every reader of the format. Plain spaces would not do: ISC dhcpd refuses a file with
/// a run of 1,500 blank characters. Byte `n` of the file, in a reserve, is byte
/// `n % BLANK_LINE` of a line, so that what records leave of a line is spaces and a line
/// break.
static BLANKS: [u8; 64 << 10] = blank_block();

const fn blank_block() -> [u8; 64 << 10] {
    let mut block = [b' '; 64 << 10];
    let mut at = 0;
    while at < block.len() {
        block[at] = b'#';
        block[at + BLANK_LINE - 1] = b'\n';
        at += BLANK_LINE;
    }
    block
}

/// True for the bytes a reserve is made of.
fn is_blank(byte: u8) -> bool {
    matches!(byte, b' ' | b'#' | b'\n')
}

/// How much formatted text a compaction gathers before each write.
const COMPACTION_WRITE_BYTES: usize = 1 << 20;

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
///
/// Besides the [`LeaseStore`] methods, which block until the disk has the data, the journal
/// lets the slow parts run on other threads while its owner goes on appending:
///
/// - [`Journal::append`] writes a batch and returns a [`PendingSync`], whose
///   [`sync`](PendingSync::sync) (one `fdatasync`) may run anywhere. A batch is durable only
///   once that sync, or the sync of a later batch, has returned `Ok`.
/// - [`Journal::begin_compaction`] returns a [`CompactionJob`] that writes and syncs the new
///   file on any thread; [`Journal::finish_compaction`] then puts it in place, on the
///   journal's own thread, with what was appended in the meantime. With
///   [`Journal::begin_compaction_in_pieces`], the snapshot of live leases is handed to the
///   job in pieces, so that even taking it need not stall the owning thread.
///
/// ```no_run
/// # use charrua_server::leases::Lease;
/// # use charrua_store::{Journal, StoreError};
/// # fn serve(journal: &mut Journal, batch: &[Lease], live: Vec<Lease>) -> Result<(), StoreError> {
/// // The owning thread appends; the sync may run anywhere, and the batch's replies wait
/// // for it.
/// if let Some(pending) = journal.append(batch)? {
///     std::thread::spawn(move || pending.sync()).join().unwrap()?;
/// }
///
/// // The new file is written elsewhere while appends go on; its result comes back to the
/// // owning thread.
/// let job = journal.begin_compaction(live)?;
/// let worker = std::thread::spawn(move || job.run());
/// journal.append(batch)?; // goes to the current file, and is copied for the new one
/// journal.finish_compaction(worker.join().unwrap())?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    /// The file appends go to, shared with the syncs pending on it.
    target: Arc<Target>,
    /// Bytes of records in the file: where the next append goes.
    len: u64,
    /// Bytes in the file: the records and the blank reserve after them.
    prepared: u64,
    /// How much blank space to keep written ahead of the records; 0 for none.
    reserve: u64,
    /// Records read or written, and their bytes, for the mean record length.
    records: u64,
    record_bytes: u64,
    /// True when the file may end in the middle of a line (a torn write), so the next append
    /// starts on a new line.
    torn_tail: bool,
    /// The text of the last append, kept for its allocation.
    buffer: Vec<u8>,
    /// The compaction begun and not yet finished, if any.
    compaction: Option<PendingCompaction>,
    /// The number the next compaction gets, so that a result is matched to its journal.
    next_compaction: u64,
}

/// A journal file open for appending, and what its pending syncs must also do.
#[derive(Debug)]
struct Target {
    file: File,
    /// Descriptors of the same file for concurrent syncs, one per lane. Linux reports a
    /// write-back error once per open file description, to whichever sync checks first:
    /// two syncs sharing one description could see one of them succeed although its pages
    /// were lost. Each lane's own description, opened with the file, sees every such error.
    lanes: Box<[File]>,
    /// The journal's path, for errors.
    path: PathBuf,
    /// True while the directory entry that names this file may not be on disk: the
    /// directory sync after the rename that put it in place failed, and the next sync of the
    /// file retries it.
    directory_unsynced: AtomicBool,
}

/// What the journal keeps while a compaction job runs elsewhere.
#[derive(Debug)]
struct PendingCompaction {
    id: u64,
    /// Every byte appended to the old file since the compaction began.
    appended: Vec<u8>,
    /// Records in `appended`, and their bytes.
    records: u64,
    record_bytes: u64,
}

impl Journal {
    /// Opens the journal at `path`, creating an empty one (and syncing its directory) if
    /// there is none.
    ///
    /// A `NAME.tmp` left by a compaction that never finished (the process stopped before
    /// the rename) is ignored, and replaced by the next compaction.
    pub fn open(path: impl Into<PathBuf>) -> Result<Journal, StoreError> {
        let path = path.into();
        let created = match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
        {
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
                .write(true)
                .open(&path)
                .map_err(|e| StoreError::new(&path, "open", e))?,
        };
        let lanes = open_lanes(&path)?;
        let mut journal = Journal {
            target: Target::new(file, lanes, &path),
            path,
            len: 0,
            prepared: 0,
            reserve: 0,
            records: 0,
            record_bytes: 0,
            torn_tail: false,
            buffer: Vec::new(),
            compaction: None,
            next_compaction: 0,
        };
        journal.prepared = journal.file_len()?;
        let (len, last) = blank_tail(&journal.target.file, journal.prepared)
            .map_err(|e| StoreError::new(&journal.path, "read", e))?;
        journal.len = len;
        journal.torn_tail = last.is_some_and(|b| b != b'\n');
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

    /// The size of the journal's records in bytes (its blank reserve not counted).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when the journal holds no records, nor even a header.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Keeps `bytes` of blank space written ahead of the records from now on (0, the
    /// default, for none); each compaction writes one after the new file's records too.
    ///
    /// An append then overwrites blocks the file already has, and a data sync need not
    /// commit a new file size or newly allocated blocks to the file system's own journal:
    /// on ext4 that makes `fdatasync` about twice as fast, and rids it of most of its slow
    /// outliers. The reserve is topped up by one write whenever less than half of it is
    /// left, and costs its size in disk space.
    ///
    /// The reserve is comment lines (a `#` and spaces), which ISC dhcpd and every other
    /// reader of the format skip: after a crash the file ends in them and stays readable,
    /// and [`Journal::open`] starts appending where the records end.
    /// [`Journal::trim_reserve`] removes the reserve, for a clean stop.
    pub fn set_reserve(&mut self, bytes: u64) {
        self.reserve = bytes;
    }

    /// Cuts the blank reserve off the end of the file, leaving only the records; the next
    /// append writes a new one if a reserve is set. On an error the file is as it was, or
    /// shorter, with its records whole.
    pub fn trim_reserve(&mut self) -> Result<(), StoreError> {
        if self.prepared > self.len {
            self.target
                .file
                .set_len(self.len)
                .map_err(|e| StoreError::new(&self.path, "trim the reserve", e))?;
            self.prepared = self.len;
        }
        Ok(())
    }

    /// Writes blanks ahead of the records when less than half of the reserve is left. A
    /// failure leaves the reserve shorter, which only slows the syncs.
    fn top_up_reserve(&mut self) {
        if self.prepared.saturating_sub(self.len) >= self.reserve / 2 {
            return;
        }
        let end = self.len.saturating_add(self.reserve);
        if write_blanks(&self.target.file, self.prepared, end).is_ok() {
            self.prepared = end;
        } else if let Ok(size) = self.file_len() {
            self.prepared = size.max(self.len);
        }
    }

    /// The path of the backup compaction keeps: `NAME~`.
    pub fn backup_path(&self) -> PathBuf {
        with_suffix(&self.path, "~")
    }

    /// The path compaction writes the new file to before renaming it: `NAME.tmp`.
    pub fn temporary_path(&self) -> PathBuf {
        with_suffix(&self.path, ".tmp")
    }

    /// True when compacting would pay: no compaction is in progress, and the journal has
    /// grown to [`COMPACT_FACTOR`] times the size `live_count` leases take (by the mean record
    /// length seen so far) and to at least [`COMPACT_MIN_BYTES`].
    pub fn should_compact(&self, live_count: usize) -> bool {
        if self.compaction.is_some() {
            return false;
        }
        let mean = self
            .record_bytes
            .checked_div(self.records)
            .unwrap_or(TYPICAL_RECORD_BYTES);
        let live = u64::try_from(live_count)
            .unwrap_or(u64::MAX)
            .saturating_mul(mean);
        self.len >= COMPACT_MIN_BYTES && self.len >= live.saturating_mul(COMPACT_FACTOR)
    }

    /// True between [`Journal::begin_compaction`] and [`Journal::finish_compaction`].
    pub fn is_compacting(&self) -> bool {
        self.compaction.is_some()
    }

    /// Appends the records of a batch (offers skipped) with one write, without syncing, and
    /// returns the sync that makes them durable; `None` when there was nothing to write.
    /// The records go where the last ones end, over the reserve if there is one.
    ///
    /// The records are in the file, visible to any reader, when this returns, but not
    /// durable: none of them may be acknowledged to a client before [`PendingSync::sync`]
    /// (of this batch or of a later one) has returned `Ok`. On an error, whether any of the
    /// batch was written is unknown, and the next append starts on a new line.
    pub fn append(&mut self, changes: &[Lease]) -> Result<Option<PendingSync>, StoreError> {
        let mut text = std::mem::take(&mut self.buffer);
        text.clear();
        if self.torn_tail {
            text.push(b'\n');
        }
        let mut count = 0;
        for lease in changes {
            count += usize::from(write_lease(&mut text, lease));
        }
        if count == 0 {
            self.buffer = text;
            return Ok(None);
        }
        // Until the write succeeds, the file may end in a partial record. The next append
        // then writes over it, after a line break.
        self.torn_tail = true;
        if let Err(e) = self.target.file.write_all_at(&text, self.len) {
            if let Ok(size) = self.file_len() {
                self.prepared = size.max(self.len);
            }
            self.buffer = text;
            return Err(StoreError::new(&self.path, "append", e));
        }
        self.torn_tail = false;
        let bytes = u64::try_from(text.len()).unwrap_or(u64::MAX);
        self.len = self.len.saturating_add(bytes);
        self.prepared = self.prepared.max(self.len);
        if self.reserve > 0 {
            self.top_up_reserve();
        }
        self.note_records(as_u64(count), bytes);
        if let Some(pending) = &mut self.compaction {
            pending.appended.extend_from_slice(&text);
            pending.records = pending.records.saturating_add(as_u64(count));
            pending.record_bytes = pending.record_bytes.saturating_add(bytes);
        }
        self.buffer = text;
        Ok(Some(PendingSync {
            target: Arc::clone(&self.target),
        }))
    }

    /// Starts compacting the journal down to `live`, a snapshot of every live lease (offers
    /// are skipped). The returned job writes them to `NAME.tmp` and syncs it; it is meant to
    /// run on another thread while this journal goes on appending to the current file. The
    /// journal keeps a copy of every byte appended from now on, until the compaction is
    /// finished.
    ///
    /// The caller must hand the job's result, whatever it is, to
    /// [`Journal::finish_compaction`], which puts the new file in place. Until then the
    /// copy of appended bytes grows, [`Journal::should_compact`] is false and a second
    /// compaction is refused: this fails when one is already in progress.
    pub fn begin_compaction(&mut self, live: Vec<Lease>) -> Result<CompactionJob, StoreError> {
        if self.compaction.is_some() {
            return Err(StoreError::new(
                &self.path,
                "begin compaction",
                io::Error::other("a compaction is already in progress"),
            ));
        }
        let id = self.next_compaction;
        self.next_compaction = self.next_compaction.wrapping_add(1);
        self.compaction = Some(PendingCompaction {
            id,
            appended: Vec::new(),
            records: 0,
            record_bytes: 0,
        });
        Ok(CompactionJob {
            id,
            temporary: self.temporary_path(),
            live: Snapshot::Whole(live),
            reserve: self.reserve,
        })
    }

    /// As [`Journal::begin_compaction`], with the snapshot given in pieces afterwards,
    /// through the returned feed, so that taking it need not hold up the owning thread: a
    /// piece at a time, between appends. The job writes each piece as it comes, and syncs
    /// once the feed is finished.
    ///
    /// The pieces may be taken at any time after this call, in any order of addresses,
    /// each lease once: every record appended from now on follows the snapshot in the new
    /// file, so an address's last record there is its latest, whichever state the snapshot
    /// caught.
    pub fn begin_compaction_in_pieces(
        &mut self,
    ) -> Result<(CompactionJob, SnapshotFeed), StoreError> {
        let (pieces, fed) = mpsc::channel();
        let mut job = self.begin_compaction(Vec::new())?;
        job.live = Snapshot::Fed(fed);
        Ok((job, SnapshotFeed { pieces }))
    }

    /// Completes a compaction with its job's result, on the journal's own thread: appends
    /// to the new file the bytes appended since [`Journal::begin_compaction`], syncs it,
    /// keeps the current file as `NAME~` (a hard link, or a copy where links are not
    /// supported), renames `NAME.tmp` over `NAME`, syncs the directory, and sends later
    /// appends to the new file.
    ///
    /// On an error before the rename (including the job's own, which is returned as it is),
    /// `NAME.tmp` is removed and the journal goes on with its current file, whole. If only
    /// the directory sync fails, the new file is in place and in use, and the error is
    /// returned; the next [`PendingSync::sync`] retries the directory sync, so that no later
    /// append is reported durable while the rename may not be.
    ///
    /// This blocks for one data sync of the new file (skipped when nothing was appended
    /// meanwhile), the link, the rename and one directory sync: short, next to writing the
    /// file, which the job did. Records appended before the switch stay durable through
    /// their own [`PendingSync`]s, which sync the old file, and through the
    /// sync here, which covers the copy of them in the new one.
    ///
    /// Fails, changing nothing, when no compaction is in progress; a result of another
    /// compaction (from another journal) is refused, and this journal's own compaction
    /// stays in progress. A caller whose job was lost (its thread panicked) ends the
    /// compaction by passing any error.
    pub fn finish_compaction(
        &mut self,
        done: Result<Compacted, StoreError>,
    ) -> Result<(), StoreError> {
        let Some(pending) = self.compaction.take() else {
            return Err(StoreError::new(
                &self.path,
                "finish compaction",
                io::Error::other("no compaction is in progress"),
            ));
        };
        let compacted = match done {
            Ok(compacted) if compacted.id == pending.id => compacted,
            Ok(other) => {
                self.compaction = Some(pending);
                return Err(StoreError::new(
                    &other.temporary,
                    "finish compaction",
                    io::Error::other("the result is of another compaction"),
                ));
            }
            Err(e) => {
                remove_if_present(&self.temporary_path());
                return Err(e);
            }
        };
        let temporary = &compacted.temporary;
        let caught_up = if pending.appended.is_empty() {
            Ok(())
        } else {
            compacted
                .file
                .write_all_at(&pending.appended, compacted.len)
                .and_then(|()| compacted.file.sync_data())
        };
        // The new file's sync descriptors are opened through its temporary name, which only
        // this journal uses, before the rename.
        let replaced = caught_up
            .map_err(|e| StoreError::new(temporary, "append to the compacted journal", e))
            .and_then(|()| open_lanes(temporary))
            .and_then(|lanes| {
                self.back_up()?;
                fs::rename(temporary, &self.path).map_err(|e| {
                    StoreError::new(&self.path, "replace with the compacted journal", e)
                })?;
                Ok(lanes)
            });
        let lanes = match replaced {
            Ok(lanes) => lanes,
            Err(e) => {
                remove_if_present(temporary);
                return Err(e);
            }
        };

        let appended = u64::try_from(pending.appended.len()).unwrap_or(u64::MAX);
        self.target = Target::new(compacted.file, lanes, &self.path);
        self.len = compacted.len.saturating_add(appended);
        self.prepared = compacted.prepared.max(self.len);
        self.torn_tail = false;
        self.records = 0;
        self.record_bytes = 0;
        self.note_records(compacted.records, compacted.record_bytes);
        self.note_records(pending.records, pending.record_bytes);
        sync_directory(&self.path).inspect_err(|_| {
            self.target
                .directory_unsynced
                .store(true, Ordering::Release);
        })
    }

    /// Makes `NAME~` a second name for the current file, so that the journal's own name
    /// never goes missing; where hard links are not supported, a copy.
    fn back_up(&self) -> Result<(), StoreError> {
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
        Ok(())
    }

    fn file_len(&self) -> Result<u64, StoreError> {
        self.target
            .file
            .metadata()
            .map(|m| m.len())
            .map_err(|e| StoreError::new(&self.path, "read metadata", e))
    }

    fn note_records(&mut self, count: u64, bytes: u64) {
        self.records = self.records.saturating_add(count);
        self.record_bytes = self.record_bytes.saturating_add(bytes);
    }
}

impl LeaseStore for Journal {
    fn load(&mut self) -> Result<Loaded, StoreError> {
        let (mut loaded, len) =
            read_file(&self.path).map_err(|e| StoreError::new(&self.path, "read", e))?;
        for problem in &mut loaded.problems {
            problem.path = Some(self.path.clone());
        }
        self.records = 0;
        self.record_bytes = 0;
        // The blank reserve at the end is no record's bytes.
        self.note_records(as_u64(loaded.records), len.min(self.len));
        Ok(loaded)
    }

    fn commit(&mut self, changes: &[Lease]) -> Result<(), StoreError> {
        match self.append(changes)? {
            Some(pending) => pending.sync(),
            None => Ok(()),
        }
    }

    /// Compacts in the two phases of [`Journal::begin_compaction`] and
    /// [`Journal::finish_compaction`], on the calling thread; fails if a compaction is
    /// already in progress.
    fn compact(&mut self, live: &mut dyn Iterator<Item = &Lease>) -> Result<(), StoreError> {
        let job = self.begin_compaction(live.cloned().collect())?;
        let done = job.run();
        self.finish_compaction(done)
    }
}

impl Target {
    fn new(file: File, lanes: Box<[File]>, path: &Path) -> Arc<Target> {
        Arc::new(Target {
            file,
            lanes,
            path: path.to_path_buf(),
            directory_unsynced: AtomicBool::new(false),
        })
    }
}

/// Records appended by [`Journal::append`] and not yet synced: a handle on the file they
/// were written to, cheap to move to another thread.
///
/// Several may be outstanding for one file; syncing any of them makes every record appended
/// to that file before it durable too. Dropping one without syncing leaves its records
/// written but not known to be durable.
#[derive(Debug)]
#[must_use = "appended records are not durable until `sync` returns Ok"]
pub struct PendingSync {
    target: Arc<Target>,
}

impl PendingSync {
    /// Syncs the file's data (`fdatasync`): when this returns `Ok`, the records of this
    /// append, and of every earlier append to the same file, survive a crash or power loss.
    /// After an error, none of them may be acknowledged to a client.
    ///
    /// Two syncs of one file must not run at once through this method: the kernel would
    /// report a write-back error to only one of them. Concurrent syncs use distinct lanes,
    /// [`PendingSync::sync_on`].
    pub fn sync(self) -> Result<(), StoreError> {
        self.sync_through(&self.target.file)
    }

    /// As [`PendingSync::sync`], through the file's descriptor for `lane` (below
    /// [`SYNC_LANES`]; larger numbers wrap around). Syncs on distinct lanes may run at once,
    /// and each reports any write-back error that happened since its lane's previous sync,
    /// so a success on any lane means every record appended before it is durable. Two syncs
    /// on one lane must not run at once.
    pub fn sync_on(self, lane: usize) -> Result<(), StoreError> {
        let lanes = &self.target.lanes;
        match lanes.get(lane % lanes.len().max(1)) {
            Some(file) => self.sync_through(file),
            None => self.sync_through(&self.target.file),
        }
    }

    fn sync_through(&self, file: &File) -> Result<(), StoreError> {
        let target = &self.target;
        file.sync_data()
            .map_err(|e| StoreError::new(&target.path, "sync", e))?;
        if target.directory_unsynced.load(Ordering::Acquire) {
            sync_directory(&target.path)?;
            target.directory_unsynced.store(false, Ordering::Release);
        }
        Ok(())
    }

    /// The journal the records were appended to.
    pub fn path(&self) -> &Path {
        &self.target.path
    }
}

/// The first phase of a compaction, from [`Journal::begin_compaction`] or
/// [`Journal::begin_compaction_in_pieces`]: writes a snapshot of the live leases to
/// `NAME.tmp` and syncs it. It touches no state of the journal, so it can run on any thread.
pub struct CompactionJob {
    id: u64,
    temporary: PathBuf,
    live: Snapshot,
    /// Blank space to write after the records.
    reserve: u64,
}

/// The live leases a compaction writes.
enum Snapshot {
    /// All of them, given at once.
    Whole(Vec<Lease>),
    /// Given in pieces through a [`SnapshotFeed`]; `None` ends them.
    Fed(mpsc::Receiver<Option<Vec<Lease>>>),
}

/// Where the job writes to, and its leases' count when they were given at once.
impl fmt::Debug for CompactionJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let leases = match &self.live {
            Snapshot::Whole(live) => Some(live.len()),
            Snapshot::Fed(_) => None,
        };
        f.debug_struct("CompactionJob")
            .field("temporary", &self.temporary)
            .field("leases", &leases)
            .finish()
    }
}

/// The owning thread's end of a compaction whose snapshot is given in pieces: see
/// [`Journal::begin_compaction_in_pieces`].
#[derive(Debug)]
pub struct SnapshotFeed {
    pieces: mpsc::Sender<Option<Vec<Lease>>>,
}

impl SnapshotFeed {
    /// Adds leases to the snapshot (offers are skipped). The job writes them after the
    /// pieces added before. If the job has already failed, they are dropped: its error comes
    /// through its result.
    pub fn add(&self, leases: Vec<Lease>) {
        let _ = self.pieces.send(Some(leases));
    }

    /// Ends the snapshot: the job syncs what it was given and returns. A feed dropped
    /// without this makes the job fail, since its file would lack leases.
    pub fn finish(self) {
        let _ = self.pieces.send(None);
    }
}

impl CompactionJob {
    /// Writes the header and a record for each lease (offers skipped) to a new `NAME.tmp`,
    /// replacing any left there, and syncs it (`fsync`); with a snapshot given in pieces,
    /// it writes each as it comes, until the feed is finished. On an error the partial file
    /// is removed. The result goes to [`Journal::finish_compaction`].
    pub fn run(self) -> Result<Compacted, StoreError> {
        let temporary = self.temporary;
        remove_if_present(&temporary);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&temporary)
            .map_err(|e| StoreError::new(&temporary, "create", e))?;
        let written = match self.live {
            Snapshot::Whole(live) => write_records(&file, std::iter::once(Ok(live))),
            Snapshot::Fed(pieces) => write_records(&file, FedPieces(pieces)),
        };
        let reserve = self.reserve;
        let written = written
            .and_then(|(len, records, record_bytes)| {
                let prepared = len.saturating_add(reserve);
                write_blanks(&file, len, prepared)?;
                file.sync_all()?;
                Ok((len, prepared, records, record_bytes))
            })
            .map_err(|e| StoreError::new(&temporary, "write", e));
        let (len, prepared, records, record_bytes) = match written {
            Ok(counts) => counts,
            Err(e) => {
                drop(file);
                remove_if_present(&temporary);
                return Err(e);
            }
        };
        Ok(Compacted {
            id: self.id,
            file,
            temporary,
            len,
            prepared,
            records,
            record_bytes,
        })
    }
}

/// The pieces of a fed snapshot as they come, until the end; a feed dropped before its end
/// is an error.
struct FedPieces(mpsc::Receiver<Option<Vec<Lease>>>);

impl Iterator for FedPieces {
    type Item = io::Result<Vec<Lease>>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.0.recv() {
            Ok(Some(piece)) => Some(Ok(piece)),
            Ok(None) => None,
            Err(mpsc::RecvError) => Some(Err(io::Error::other(
                "the snapshot's feed was dropped before its end",
            ))),
        }
    }
}

/// Writes a file's header and the records of the leases in each piece, a megabyte at a
/// time; returns the bytes written, and the count of records and their bytes.
fn write_records(
    mut file: &File,
    pieces: impl Iterator<Item = io::Result<Vec<Lease>>>,
) -> io::Result<(u64, u64, u64)> {
    let mut text = Vec::with_capacity(COMPACTION_WRITE_BYTES + 4096);
    write_header(&mut text);
    let header = as_u64(text.len());
    let mut len = 0u64;
    let mut records = 0u64;
    for piece in pieces {
        for lease in &piece? {
            records += u64::from(write_lease(&mut text, lease));
            if text.len() >= COMPACTION_WRITE_BYTES {
                file.write_all(&text)?;
                len += as_u64(text.len());
                text.clear();
            }
        }
    }
    file.write_all(&text)?;
    len += as_u64(text.len());
    Ok((len, records, len - header))
}

/// A compacted journal written and synced as `NAME.tmp`, not yet in place: the result of
/// [`CompactionJob::run`], for [`Journal::finish_compaction`].
#[derive(Debug)]
pub struct Compacted {
    id: u64,
    /// `NAME.tmp`, open for writing.
    file: File,
    temporary: PathBuf,
    /// Bytes of records in the file, bytes with the reserve, records, and the records'
    /// bytes (the header not counted).
    len: u64,
    prepared: u64,
    records: u64,
    record_bytes: u64,
}

impl Compacted {
    /// The number of lease records written.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// The size of the records written (with the header), in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when the file written holds no bytes, which never happens: it has a header.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

fn as_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// Removes a file, if there is one; other failures are left for the next step to report.
fn remove_if_present(path: &Path) {
    let _ = fs::remove_file(path);
}

/// Fills `[from, to)` of `file` with blanks.
fn write_blanks(file: &File, from: u64, to: u64) -> io::Result<()> {
    let mut at = from;
    while at < to {
        let phase = usize::try_from(at % as_u64(BLANK_LINE)).unwrap_or(0);
        let block = &BLANKS[phase..];
        let n = usize::try_from(to - at).map_or(block.len(), |n| n.min(block.len()));
        file.write_all_at(&block[..n], at)?;
        at += as_u64(n);
    }
    Ok(())
}

/// Where the records of a file of `size` bytes end, before any blank reserve (with the line
/// break that ends the last of them), and their last byte.
fn blank_tail(file: &File, size: u64) -> io::Result<(u64, Option<u8>)> {
    let mut block = vec![0u8; 64 << 10];
    let mut end = size;
    while end > 0 {
        let start = end.saturating_sub(as_u64(block.len()));
        let piece = &mut block[..usize::try_from(end - start).unwrap_or(0)];
        file.read_exact_at(piece, start)?;
        let Some(i) = piece.iter().rposition(|&b| !is_blank(b)) else {
            end = start;
            continue;
        };
        let records_end = start + as_u64(i) + 1;
        let mut next = [0u8];
        if records_end < size {
            file.read_exact_at(&mut next, records_end)?;
            if next[0] == b'\n' {
                return Ok((records_end + 1, Some(b'\n')));
            }
        }
        return Ok((records_end, Some(piece[i])));
    }
    Ok((0, None))
}

/// Opens a journal file's descriptors for concurrent syncs, read-only: a data sync needs no
/// more.
fn open_lanes(path: &Path) -> Result<Box<[File]>, StoreError> {
    (0..SYNC_LANES)
        .map(|_| File::open(path).map_err(|e| StoreError::new(path, "open for syncing", e)))
        .collect()
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
        let loaded = crate::read_bytes(&on_disk);
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
