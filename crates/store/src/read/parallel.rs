//! Reading a large text in parts, on several threads, with the result of reading it whole.
//!
//! The text is cut at line starts that begin with `lease ` (the start of a record, when the
//! file is sound), and each part is read by its own parser: top-level statements that begin
//! in the part, the last of which may read on past its end. The parts are then joined in
//! file order, as a single reader would have met them: a later record of an address
//! replaces an earlier one, problems keep their order, and lines are counted from the start
//! of the text.
//!
//! A part's result holds only if a single reader would have begun a statement exactly where
//! the part begins. That is so unless the statement before it ran on past the cut, as a
//! record torn just before it may. The join knows where each part's reader stopped, so it
//! sees this, and reads the rest of the part again, on the calling thread, from where the
//! earlier statement ended: the result is always the one [`read_serial`] gives.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;

use super::{Parser, Place, gather, last_of_each_address, read_serial};
use crate::Loaded;

/// Texts shorter than this are read whole, on the calling thread.
const PARALLEL_MIN_BYTES: usize = 8 << 20;

/// Parts are about this long, and there are at least a few per thread, so that a thread
/// slowed by other work does not hold up the end.
const PART_BYTES: usize = 16 << 20;
const PARTS_PER_THREAD: usize = 4;

/// Reads the text; a large one in parts, on as many threads as the machine runs at once.
pub(super) fn read(text: &[u8]) -> Loaded {
    let threads = thread::available_parallelism().map_or(1, |n| n.get());
    if text.len() < PARALLEL_MIN_BYTES {
        return read_serial(text);
    }
    let parts = (text.len() / PART_BYTES).max(threads * PARTS_PER_THREAD);
    read_in_parts(text, &cuts(text, parts), threads)
}

/// Where to cut the text into about `parts` parts of equal length: the offsets just after a
/// line break that is followed by `lease `, ascending, the first 0.
fn cuts(text: &[u8], parts: usize) -> Vec<usize> {
    let mut cuts = vec![0];
    for n in 1..parts {
        let from = (text.len() / parts * n).max(cuts[cuts.len() - 1]);
        match find_record_start(text, from) {
            Some(cut) if cut > cuts[cuts.len() - 1] => cuts.push(cut),
            Some(_) => {}
            None => break,
        }
    }
    cuts
}

/// The first offset at or after `from` that follows a line break and begins `lease `.
fn find_record_start(text: &[u8], from: usize) -> Option<usize> {
    const START: &[u8] = b"\nlease ";
    let mut at = from.checked_sub(1)?;
    loop {
        let newline = at + text.get(at..)?.iter().position(|&c| c == b'\n')?;
        if text.get(newline..newline + START.len()) == Some(START) {
            return Some(newline + 1);
        }
        at = newline + 1;
    }
}

/// What a parser read in one part, each address once.
struct Part {
    loaded: Loaded,
    /// Where its reader stopped.
    end: Place,
}

/// Reads the part from `from` up to `stop`.
fn read_part(text: &[u8], from: Place, stop: usize) -> Part {
    let mut parser = Parser::new(text, from, stop);
    parser.run();
    let end = parser.place();
    let mut loaded = parser.loaded;
    loaded.leases = last_of_each_address(loaded.leases);
    Part { end, loaded }
}

/// Reads the text in the parts that begin at `cuts` (line starts, ascending, the first 0)
/// on `threads` threads, and joins them.
pub(super) fn read_in_parts(text: &[u8], cuts: &[usize], threads: usize) -> Loaded {
    let stop = |n: usize| cuts.get(n + 1).copied().unwrap_or(text.len());
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::channel();
    thread::scope(|scope| {
        for _ in 0..threads.min(cuts.len()) {
            let sender = sender.clone();
            let next = &next;
            scope.spawn(move || {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&pos) = cuts.get(n) else {
                        return;
                    };
                    let from = Place {
                        pos,
                        line: 1,
                        line_start: pos,
                    };
                    if sender.send((n, read_part(text, from, stop(n)))).is_err() {
                        return;
                    }
                }
            });
        }
        drop(sender);

        // The parts in file order, each checked to begin where the one before it ended, are
        // gathered as they come, while later ones are still being read.
        let mut gathered = Loaded::default();
        let mut end = Place::START;
        let mut waiting: Vec<Option<Part>> = (0..cuts.len()).map(|_| None).collect();
        for n in 0..cuts.len() {
            while waiting[n].is_none() {
                // Every part is sent before its thread ends, so the parts come before the
                // channel closes.
                let Ok((m, part)) = receiver.recv() else {
                    break;
                };
                waiting[m] = Some(part);
            }
            let part = match waiting[n].take() {
                Some(mut part) if end.pos == cuts[n] => {
                    // Lines were counted from the part's first.
                    let before = end.line - 1;
                    for problem in &mut part.loaded.problems {
                        problem.line += before;
                    }
                    part.end.line += before;
                    part
                }
                // The statement before ran on past this cut (or the part is missing): read
                // the rest of the part again from where that statement ended.
                _ if end.pos < stop(n) => read_part(text, end, stop(n)),
                _ => continue,
            };
            end = part.end;
            gather(&mut gathered, part.loaded);
        }
        gathered.leases = last_of_each_address(gathered.leases);
        gathered
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::tests::lease;

    #[test]
    fn cuts_fall_where_records_begin() {
        let text = b"x\nlease 1 {\n}\nhost {\n}\nlease 2 {\n}\n#lease 3\nlease 4\n";
        assert_eq!(find_record_start(text, 0), None);
        assert_eq!(find_record_start(text, 2), Some(2));
        assert_eq!(find_record_start(text, 3), Some(23));
        assert_eq!(find_record_start(text, 40), Some(44));
        assert_eq!(find_record_start(text, 45), None);
        assert_eq!(cuts(text, 3), [0, 23, 44]);
        assert_eq!(cuts(text, 50), [0, 2, 23, 44]);
        assert_eq!(cuts(b"", 4), [0]);
    }

    #[test]
    fn a_large_text_read_in_parts_reads_as_a_whole() {
        let mut leases: Vec<_> = (0..45_000)
            .map(|n| lease(0x0a00_0000 + n % 30_000, n.into()))
            .collect();
        leases[5_000].hostname = Some(charrua_wire::Text::from("named"));
        let mut text = crate::write(&leases).into_bytes();
        // Damage right before a record near where the first cut falls.
        let near = find_record_start(&text, text.len() / 16).unwrap();
        text.splice(near..near, b"lease 10.0.0.1 {\n  ends 4 20".iter().copied());
        assert!(text.len() >= PARALLEL_MIN_BYTES, "{}", text.len());
        let whole = read_serial(&text);
        assert_eq!(whole.leases.len(), 30_000);
        assert_eq!(whole.problems.len(), 1);
        assert_eq!(read(&text), whole);
        assert_eq!(read_in_parts(&text, &cuts(&text, 64), 2), whole);
    }
}
