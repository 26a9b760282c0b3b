//! Times what `charruad` does with a journal of many leases before it serves again.
//!
//! `cargo run --release -p charrua-store --example load_million [COUNT] [SAVE_TO]`
//!
//! Builds COUNT leases (default 1,000,000) in 10.0.0.0/8 and writes them as a journal, to
//! SAVE_TO when given (and left there, for other readers to be timed on the same file) or
//! to a temporary directory. Then, three times over, it times:
//!
//! - parse: [`charrua_store::read_bytes`] over the text already in memory;
//! - load: [`Journal::open`] and [`LeaseStore::load`], which read the file and parse it;
//! - index: building the server's lease database as the daemon does at start:
//!   [`Leases::new`], [`Leases::set_ranges`] with one /8 range, then [`Leases::extend`]
//!   with the loaded leases.
//!
//! Each line gives the wall time and the process's CPU time (all threads), which tells how
//! much of the wall time other work on the machine took; then come the medians. Last, it
//! times a compaction of the journal down to the database in two phases: the snapshot and
//! [`Journal::begin_compaction`], the job (which a daemon runs on another thread), and
//! [`Journal::finish_compaction`]; then the snapshot's pieces, when it is taken in pieces
//! ([`Journal::begin_compaction_in_pieces`]).

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use charrua_server::Leases;
use charrua_server::leases::{Lease, LeaseState};
use charrua_store::{Journal, LeaseStore};
use charrua_wire::{HardwareAddress, HardwareType, Text};

const RUNS: usize = 3;

/// Leases in a piece of a snapshot taken in pieces.
const PIECE: usize = 10_000;

fn main() {
    let mut args = std::env::args().skip(1);
    let count: u32 = args
        .next()
        .map_or(1_000_000, |n| n.parse().expect("COUNT is a number"));
    let save_to = args.next().map(PathBuf::from);

    let start = 1_796_288_400;
    let leases: Vec<Lease> = (0..count)
        .map(|n| {
            let [_, a, b, c] = n.to_be_bytes();
            Lease {
                address: Ipv4Addr::from(0x0a00_0000 + n),
                client_id: Some(vec![1, 2, 0, 0, a, b, c].into()),
                hardware: Some((
                    HardwareType::ETHERNET,
                    HardwareAddress::ethernet([2, 0, 0, a, b, c]),
                )),
                starts: start + u64::from(n % 3600),
                ends: start + 43_200 + u64::from(n % 3600),
                cltt: start + u64::from(n % 3600),
                state: if n % 5 == 0 {
                    LeaseState::Released
                } else {
                    LeaseState::Active
                },
                hostname: (n % 2 == 0).then(|| Text::from(format!("host-{n}"))),
            }
        })
        .collect();

    let built = Instant::now();
    let text = charrua_store::write(&leases);
    println!(
        "wrote {count} leases, {} MB, in {:.2?}",
        text.len() / 1_000_000,
        built.elapsed()
    );
    let temporary = tempfile::tempdir().expect("a temporary directory");
    let path = save_to.unwrap_or_else(|| temporary.path().join("dhcpd.leases"));
    std::fs::write(&path, &text).expect("the journal is writable");
    let expected = leases.len();
    drop(leases);

    let mut parse = Vec::new();
    let mut load = Vec::new();
    let mut index = Vec::new();
    let mut last = None;
    for _ in 0..RUNS {
        let (loaded, took) = timed(|| charrua_store::read_bytes(text.as_bytes()));
        assert_eq!(loaded.leases.len(), expected);
        assert!(loaded.problems.is_empty());
        drop(loaded);
        println!("parse {expected} leases:  {}", show(took));
        parse.push(took);

        let (loaded, took) = timed(|| {
            let mut journal = Journal::open(&path).expect("the journal opens");
            journal.load().expect("the journal loads")
        });
        assert_eq!(loaded.leases.len(), expected);
        println!("load {expected} leases:   {}", show(took));
        load.push(took);

        let (database, took) = timed(|| {
            let mut database = Leases::new();
            let range = (Ipv4Addr::new(10, 0, 0, 0), Ipv4Addr::new(10, 255, 255, 255));
            database.set_ranges(&[range], &[]);
            database.extend(loaded.leases);
            database
        });
        assert_eq!(database.len(), expected);
        println!("index {expected} leases:  {}", show(took));
        index.push(took);
        last = Some(database);
    }
    let median = |times: &mut Vec<(Duration, Duration)>| {
        times.sort();
        times[times.len() / 2]
    };
    let (load, index) = (median(&mut load), median(&mut index));
    println!("median parse:         {}", show(median(&mut parse)));
    println!("median load:          {}", show(load));
    println!("median index:         {}", show(index));
    println!(
        "median load + index:  {:.2?} wall",
        load.0.saturating_add(index.0)
    );

    // Compacting the journal down to the database, in the two phases a daemon uses: what its
    // own thread spends (the snapshot, begin, finish) and what the job spends elsewhere.
    let database = last.expect("at least one run");
    let mut journal = Journal::open(&path).expect("the journal opens");
    let (job, snapshot) = timed(|| {
        let live: Vec<Lease> = database.iter().cloned().collect();
        journal
            .begin_compaction(live)
            .expect("no compaction is in progress")
    });
    let (done, run) = timed(|| job.run());
    let (finished, finish) = timed(|| journal.finish_compaction(done));
    finished.expect("the compaction finishes");
    println!("compaction snapshot:  {}", show(snapshot));
    println!("compaction job:       {}", show(run));
    println!("compaction finish:    {}", show(finish));

    // The same with the snapshot taken in pieces, as a daemon would between batches.
    let (job, feed) = journal
        .begin_compaction_in_pieces()
        .expect("no compaction is in progress");
    let worker = std::thread::spawn(move || job.run());
    let mut all = database.iter();
    let mut longest = (Duration::ZERO, Duration::ZERO);
    let mut pieces = 0;
    loop {
        let (piece, took) = timed(|| all.by_ref().take(PIECE).cloned().collect::<Vec<_>>());
        if piece.is_empty() {
            break;
        }
        feed.add(piece);
        longest = longest.max(took);
        pieces += 1;
    }
    feed.finish();
    let done = worker.join().expect("the job does not panic");
    journal
        .finish_compaction(done)
        .expect("the compaction finishes");
    println!(
        "snapshot in {pieces} pieces of {PIECE}, the longest: {}",
        show(longest)
    );
}

/// Runs `f`, and measures its wall time and the process's CPU time.
fn timed<T>(f: impl FnOnce() -> T) -> (T, (Duration, Duration)) {
    let (began, cpu) = (Instant::now(), cpu_time());
    let out = f();
    let took = (began.elapsed(), cpu_time().saturating_sub(cpu));
    (out, took)
}

fn show((wall, cpu): (Duration, Duration)) -> String {
    format!("{wall:>9.2?} wall, {cpu:>9.2?} CPU")
}

/// The CPU time of every thread of the process so far (user and system), from
/// `/proc/self/stat`, in the kernel's clock ticks (assumed to be 100 a second); zero where
/// there is no such file.
fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are the 14th and 15th fields; the name was the 2nd.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}
