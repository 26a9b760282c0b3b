//! Memory the lease database takes per active lease: applies N leases (default one
//! million) to a /8 pool and prints the growth of the process's resident memory.
//!
//! ```sh
//! cargo run --release -p charrua-server --example lease_memory -- 1000000
//! ```

use std::net::Ipv4Addr;

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
    let count: u32 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let (low, high) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 255, 255, 254));
    let mut leases = Leases::new();
    leases.set_ranges(&[(low, high)], &[]);
    let before = resident_kib();
    for i in 0..count {
        let b = i.to_be_bytes();
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
    let after = resident_kib();
    let per_lease = (after.saturating_sub(before) * 1024) / u64::from(count.max(1));
    println!(
        "{count} active leases (client id and hardware address each): {} MiB resident, \
         {per_lease} bytes per lease",
        after.saturating_sub(before) / 1024
    );
}
