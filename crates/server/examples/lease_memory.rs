//! Memory the lease database takes per active lease: applies N leases (default one
//! million) to a /8 pool and prints the growth of the process's resident memory and how
//! long applying them took.
//!
//! ```sh
//! cargo run --release -p charrua-server --example lease_memory -- 1000000
//! ```
//!
//! With `--reserve`, room for all the leases is made first, as a start-up load does; with
//! `--scattered`, the clients' hardware addresses (and so their identifiers) come in no
//! particular order, as real ones do, rather than counting up with the lease addresses.

use std::net::Ipv4Addr;
use std::time::Instant;

use charrua_server::{Lease, LeaseState, Leases};
use charrua_wire::options::ClientId;
use charrua_wire::{HardwareAddress, HardwareType};

/// Resident memory in KiB, from /proc/self/status.
fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let count: u32 = args
        .iter()
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let flag = |name: &str| args.iter().any(|a| a == name);
    let (low, high) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 255, 255, 254));
    let mut leases = Leases::new();
    leases.set_ranges(&[(low, high)], &[]);
    let before = resident_kib();
    let started = Instant::now();
    if flag("--reserve") {
        leases.reserve(count as usize);
    }
    // An odd multiplier is a bijection on u32: every client stays distinct.
    let multiplier: u32 = if flag("--scattered") { 0x9e37_79b9 } else { 1 };
    for i in 0..count {
        let b = i.wrapping_mul(multiplier).to_be_bytes();
        let mac = [2, 0, b[0], b[1], b[2], b[3]];
        leases.apply(Lease {
            address: Ipv4Addr::from(u32::from(low) + i),
            client_id: Some(ClientId::ethernet(mac).to_bytes().into()),
            hardware: Some((HardwareType::ETHERNET, HardwareAddress::ethernet(mac))),
            starts: 1_800_000_000,
            ends: 1_800_003_600,
            cltt: 1_800_000_000,
            state: LeaseState::Active,
            hostname: None,
        });
    }
    let took = started.elapsed();
    let after = resident_kib();
    let per_lease = (after.saturating_sub(before) * 1024) / u64::from(count.max(1));
    println!(
        "{count} active leases (client id and hardware address each): {} MiB resident, \
         {per_lease} bytes per lease; applied in {:.2} s",
        after.saturating_sub(before) / 1024,
        took.as_secs_f64()
    );
}
