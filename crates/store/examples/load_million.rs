//! Times reading a lease file of many leases.
//!
//! `cargo run --release -p charrua-store --example load_million [COUNT] [SAVE_TO]`
//!
//! Builds COUNT leases (default 1,000,000) in 10.0.0.0/8, writes them as `dhcpd.leases` text,
//! and times [`charrua_store::read`] over it, three times. With SAVE_TO, also saves the text
//! there, for other readers to be timed on the same file.

use std::net::Ipv4Addr;
use std::time::Instant;

use charrua_server::leases::{Lease, LeaseState};
use charrua_wire::{HardwareAddress, HardwareType, Text};

fn main() {
    let mut args = std::env::args().skip(1);
    let count: u32 = args
        .next()
        .map_or(1_000_000, |n| n.parse().expect("COUNT is a number"));
    let save_to = args.next();

    let start = 1_796_288_400;
    let leases: Vec<Lease> = (0..count)
        .map(|n| {
            let [_, a, b, c] = n.to_be_bytes();
            Lease {
                address: Ipv4Addr::from(0x0a00_0000 + n),
                client_id: Some(vec![1, 2, 0, 0, a, b, c]),
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
    if let Some(path) = save_to {
        std::fs::write(&path, &text).expect("SAVE_TO is writable");
    }

    for _ in 0..3 {
        let began = Instant::now();
        let loaded = charrua_store::read(&text);
        let took = began.elapsed();
        assert_eq!(loaded.leases.len(), leases.len());
        assert!(loaded.problems.is_empty());
        println!("read {} leases in {took:.2?}", loaded.leases.len());
    }
}
