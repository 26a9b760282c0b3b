//! Times a journal's append-and-sync, with and without a reserve, on a real file system.
//!
//! `cargo run --release -p charrua-store --example sync_latency [DIRECTORY] [SYNCS] [LEASES]`
//!
//! In DIRECTORY (default: the current one, which should be on the disk to measure, not on
//! tmpfs), it appends SYNCS batches (default 5,000) of LEASES lease records each (default
//! 16, about 3.6 KB) to a fresh journal and syncs each batch as `charruad` does,
//! [`Journal::append`] and then [`PendingSync::sync`](charrua_store::PendingSync::sync);
//! first with no reserve, so that every append grows the file, then with the half
//! megabyte `charruad` keeps, so that appends overwrite blocks the file already has. The
//! two alternate for three rounds. Each line gives the percentiles of the time from the
//! start of the append to the end of the sync, in microseconds.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Instant;

use charrua_server::leases::{Lease, LeaseState};
use charrua_store::Journal;
use charrua_wire::{HardwareAddress, HardwareType};

const ROUNDS: usize = 3;
const RESERVE: u64 = 512 << 10;

fn main() {
    let mut args = std::env::args().skip(1);
    let directory = PathBuf::from(args.next().unwrap_or_else(|| ".".into()));
    let syncs: usize = args
        .next()
        .map_or(5_000, |n| n.parse().expect("SYNCS is a number"));
    let per_batch: u32 = args
        .next()
        .map_or(16, |n| n.parse().expect("LEASES is a number"));
    for round in 1..=ROUNDS {
        for reserve in [0, RESERVE] {
            let micros = run(&directory, syncs, per_batch, reserve);
            let at = |per_mille: usize| micros[(micros.len() - 1) * per_mille / 1000];
            println!(
                "round {round}, reserve {:>6} B: p50 {:>5} µs, p90 {:>5}, p99 {:>5}, \
                 p99.9 {:>5}, max {:>6}",
                reserve,
                at(500),
                at(900),
                at(990),
                at(999),
                at(1000)
            );
        }
    }
}

/// Appends and syncs `syncs` batches; returns each one's time in microseconds, sorted.
fn run(directory: &std::path::Path, syncs: usize, per_batch: u32, reserve: u64) -> Vec<u64> {
    let path = directory.join(format!("sync-latency-{}.leases", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut journal = Journal::open(&path).expect("journal opens");
    journal.set_reserve(reserve);
    let mut micros = Vec::with_capacity(syncs);
    let mut next = 0u32;
    for _ in 0..syncs {
        let batch: Vec<Lease> = (0..per_batch)
            .map(|_| {
                next = next.wrapping_add(1);
                lease(next)
            })
            .collect();
        let start = Instant::now();
        let pending = journal.append(&batch).expect("append");
        pending.expect("records written").sync().expect("sync");
        micros.push(u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX));
    }
    drop(journal);
    let _ = std::fs::remove_file(&path);
    micros.sort_unstable();
    micros
}

fn lease(n: u32) -> Lease {
    let [_, b, c, d] = n.to_be_bytes();
    Lease {
        address: Ipv4Addr::new(10, b, c, d),
        client_id: Some(vec![1, 2, 0, b, c, d, 7].into()),
        hardware: Some((
            HardwareType::ETHERNET,
            HardwareAddress::ethernet([2, 0, 0, b, c, d]),
        )),
        starts: 1_900_000_000,
        ends: 1_900_003_600,
        cltt: 1_900_000_000,
        state: LeaseState::Active,
        hostname: None,
    }
}
