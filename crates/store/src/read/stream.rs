//! Reading a lease file in blocks, parsed on several threads while the next ones are read.
//!
//! The file is read in blocks of about [`BLOCK_BYTES`], each ending just before a line that
//! begins `lease `, into a few buffers that are used again: a large file never sits in
//! memory whole, and reading overlaps parsing. Each block is parsed on its own; the results
//! are joined in file order, lines counted from the start of the file, and a later record
//! of an address replaces an earlier one, as a single reader of the whole text would have
//! it.
//!
//! A block's result holds unless its parser met the end of the block in the middle of a
//! statement (a record torn just before the cut): what a reader of the whole text would
//! have read there depends on what follows. Nothing else can differ, since a block ends
//! with a line break, where no atom, string or comment goes on, and the next line begins
//! with a top-level keyword, where resynchronisation stops. When it happens, the rest of
//! the file, from that block on, is read again and parsed in one go.

use std::fs::File;
use std::io::{self, Read as _, Seek as _, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Mutex, PoisonError};
use std::thread;

use super::{Parser, Place, gather, last_of_each_address, read_serial};
use crate::Loaded;

/// Files shorter than this are read whole and parsed on the calling thread.
const STREAM_MIN_BYTES: u64 = 8 << 20;

/// About how long a block is.
const BLOCK_BYTES: usize = 8 << 20;

/// Reads and parses the lease file at `path`, as [`read_bytes`](super::read_bytes) would
/// parse its whole text; also gives the bytes read.
pub(crate) fn read_file(path: &Path) -> io::Result<(Loaded, u64)> {
    let mut file = File::open(path)?;
    if file.metadata()?.len() < STREAM_MIN_BYTES {
        let mut text = Vec::new();
        file.read_to_end(&mut text)?;
        let len = u64::try_from(text.len()).unwrap_or(u64::MAX);
        return Ok((read_serial(&text), len));
    }
    let threads = thread::available_parallelism().map_or(1, |n| n.get());
    read_in_blocks(&mut file, BLOCK_BYTES, threads)
}

/// A block of the file, to parse.
struct Block {
    /// Its place in the file's order of blocks.
    n: usize,
    /// Its offset in the file.
    base: u64,
    text: Vec<u8>,
    /// True for the block that ends at the end of the file.
    last: bool,
}

/// What was parsed in a block, each address once; lines are counted from its first.
struct Parsed {
    n: usize,
    base: u64,
    loaded: Loaded,
    /// Line breaks in the block.
    newlines: usize,
    /// Whether the block's last statement met its end, and so may read otherwise in the
    /// whole text.
    cut_short: bool,
}

/// Reads the file from its current position in blocks of about `block_bytes`, parsed on
/// `threads` threads; also gives the bytes read.
pub(super) fn read_in_blocks(
    file: &mut File,
    block_bytes: usize,
    threads: usize,
) -> io::Result<(Loaded, u64)> {
    let start = file.stream_position()?;
    let stop = AtomicBool::new(false);
    let (work_sender, work) = mpsc::sync_channel::<Block>(threads);
    let work = Mutex::new(Some(work));
    let (done_sender, done) = mpsc::channel::<Parsed>();
    let (spare_sender, spare) = mpsc::channel::<Vec<u8>>();
    let (joined, read) = thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            let (work, done, spare) = (&work, done_sender.clone(), spare_sender.clone());
            let stop = &stop;
            scope.spawn(move || parse_blocks(work, &done, &spare, stop));
        }
        drop((done_sender, spare_sender));
        let joiner = scope.spawn(|| join_blocks(done, &stop));
        let read = read_blocks(file, block_bytes, &work_sender, &spare, &stop);
        drop(work_sender);
        let joined = joiner
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        (joined, read)
    });
    let mut len = read?;
    let (mut loaded, resume) = joined;
    if let Some((base, line)) = resume {
        // A statement ran into the end of a block: the rest of the file is parsed in one go.
        file.seek(SeekFrom::Start(start + base))?;
        let mut rest = Vec::new();
        file.read_to_end(&mut rest)?;
        len = base + u64::try_from(rest.len()).unwrap_or(u64::MAX);
        let from = Place {
            pos: 0,
            line,
            line_start: 0,
        };
        let mut parser = Parser::new(&rest, from, rest.len());
        parser.run();
        gather(&mut loaded, parser.loaded);
    }
    loaded.leases = last_of_each_address(loaded.leases);
    Ok((loaded, len))
}

/// Reads blocks and sends them to be parsed, until the end of the file or until `stop`;
/// gives the bytes read.
fn read_blocks(
    file: &mut File,
    block_bytes: usize,
    work: &SyncSender<Block>,
    spare: &Receiver<Vec<u8>>,
    stop: &AtomicBool,
) -> io::Result<u64> {
    let mut base = 0u64;
    let mut carry = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let mut text = spare.try_recv().unwrap_or_default();
        text.clear();
        text.append(&mut carry);
        // The carried text begins with a record, at no line break: the cut falls after it.
        let mut searched = 0;
        let last = loop {
            let want = block_bytes
                .saturating_sub(text.len())
                .max(block_bytes / 4)
                .max(1);
            let want = u64::try_from(want).unwrap_or(u64::MAX);
            let got = file.by_ref().take(want).read_to_end(&mut text)?;
            if u64::try_from(got).unwrap_or(u64::MAX) < want {
                break true;
            }
            if let Some(cut) = last_record_start(&text, searched) {
                carry.extend_from_slice(&text[cut..]);
                text.truncate(cut);
                break false;
            }
            searched = text.len();
        };
        let len = u64::try_from(text.len()).unwrap_or(u64::MAX);
        let sent = work.send(Block {
            n,
            base,
            text,
            last,
        });
        base += len;
        if sent.is_err() || last {
            break;
        }
        n += 1;
    }
    Ok(base)
}

/// The offset just after the last line break that is followed by `lease `, looking at the
/// text from `from` (where a line break may end), if there is one after the start.
fn last_record_start(text: &[u8], from: usize) -> Option<usize> {
    const START: &[u8] = b"\nlease ";
    let from = from.saturating_sub(START.len() - 1);
    text.get(from..)?
        .windows(START.len())
        .rposition(|w| w == START)
        .map(|at| from + at + 1)
}

/// The receiving end of the blocks to parse, shared by the parsers; taken away when one of
/// them panics, so that the reader stops instead of waiting for it.
type Work = Mutex<Option<Receiver<Block>>>;

/// Closes the work queue if its parser's thread panics.
struct CloseOnPanic<'a>(&'a Work);

impl Drop for CloseOnPanic<'_> {
    fn drop(&mut self) {
        if thread::panicking() {
            *self.0.lock().unwrap_or_else(PoisonError::into_inner) = None;
        }
    }
}

/// Parses the blocks that come until there are no more, sending each result on, and each
/// buffer back to be filled again. Once `stop` is set, blocks are only taken and returned.
fn parse_blocks(work: &Work, done: &Sender<Parsed>, spare: &Sender<Vec<u8>>, stop: &AtomicBool) {
    let _guard = CloseOnPanic(work);
    loop {
        let next = match &*work.lock().unwrap_or_else(PoisonError::into_inner) {
            Some(work) => work.recv(),
            None => return,
        };
        let Ok(block) = next else {
            return;
        };
        if stop.load(Ordering::Relaxed) {
            let _ = spare.send(block.text);
            continue;
        }
        let mut parser = Parser::new(&block.text, Place::START, block.text.len());
        parser.run();
        let newlines = parser.lex.line - 1;
        let cut_short = parser.lex.met_end && !block.last;
        let mut loaded = parser.loaded;
        loaded.leases = last_of_each_address(loaded.leases);
        let parsed = Parsed {
            n: block.n,
            base: block.base,
            loaded,
            newlines,
            cut_short,
        };
        let _ = spare.send(block.text);
        // Once the joiner has stopped, the rest are only taken, so that the reader ends.
        let _ = done.send(parsed);
    }
}

/// Joins the blocks' results in file order as they come. When a block was cut short, it
/// stops there, sets `stop`, and gives the block's offset and first line, from which the
/// rest must be parsed again.
fn join_blocks(done: Receiver<Parsed>, stop: &AtomicBool) -> (Loaded, Option<(u64, usize)>) {
    let mut loaded = Loaded::default();
    let mut waiting: Vec<Option<Parsed>> = Vec::new();
    let mut next = 0;
    let mut line = 1;
    for parsed in done {
        let n = parsed.n;
        if waiting.len() <= n {
            waiting.resize_with(n + 1, || None);
        }
        waiting[n] = Some(parsed);
        while let Some(parsed) = waiting.get_mut(next).and_then(Option::take) {
            if parsed.cut_short {
                stop.store(true, Ordering::Relaxed);
                return (loaded, Some((parsed.base, line)));
            }
            let mut part = parsed.loaded;
            for problem in &mut part.problems {
                problem.line += line - 1;
            }
            gather(&mut loaded, part);
            line += parsed.newlines;
            next += 1;
        }
    }
    (loaded, None)
}
