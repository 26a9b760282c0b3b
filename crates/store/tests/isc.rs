//! Files this crate writes, read by ISC dhcpd 4.4 (`dhcpd -T`) and by `dhcp-lease-list`.
//!
//! Each test runs only where the program is on the PATH, and prints a skip notice otherwise.

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use charrua_server::leases::{INFINITE, Lease, LeaseState};
use charrua_store::{Journal, LeaseStore};
use charrua_wire::{HardwareAddress, HardwareType, Text};

fn on_path(program: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()));
    if !found {
        println!("skipped: `{program}` is not on the PATH");
    }
    found
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Leases in every durable state, with identifiers and names that need escaping.
fn leases(now: u64) -> Vec<Lease> {
    let base = Lease {
        address: Ipv4Addr::new(192, 0, 2, 100),
        client_id: None,
        hardware: None,
        starts: now - 600,
        ends: now + 3000,
        cltt: now - 600,
        state: LeaseState::Active,
        hostname: None,
    };
    let mac = |n: u8| {
        Some((
            HardwareType::ETHERNET,
            HardwareAddress::ethernet([2, 0, 0, 0, 0, n]),
        ))
    };
    vec![
        Lease {
            client_id: Some(vec![1, 2, 0, 0, 0, 0, 1].into()),
            hardware: mac(1),
            hostname: Some(Text::from("desk-01")),
            ..base.clone()
        },
        Lease {
            address: Ipv4Addr::new(192, 0, 2, 101),
            client_id: Some(b"\x00\"odd\\id\xff".to_vec().into()),
            hardware: mac(2),
            hostname: Some(Text::from("laptop")),
            ..base.clone()
        },
        Lease {
            address: Ipv4Addr::new(192, 0, 2, 102),
            hardware: mac(3),
            ends: INFINITE,
            hostname: Some(Text::new(&b"caf\xc3\xa9 \"q\""[..])),
            ..base.clone()
        },
        Lease {
            address: Ipv4Addr::new(192, 0, 2, 103),
            hardware: mac(4),
            state: LeaseState::Released,
            ends: now - 60,
            ..base.clone()
        },
        Lease {
            address: Ipv4Addr::new(192, 0, 2, 104),
            hardware: mac(5),
            state: LeaseState::Expired,
            ends: now - 60,
            ..base.clone()
        },
        Lease {
            address: Ipv4Addr::new(192, 0, 2, 105),
            state: LeaseState::Abandoned,
            ..base.clone()
        },
        Lease {
            address: Ipv4Addr::new(192, 0, 2, 106),
            hardware: mac(6),
            state: LeaseState::Free,
            ends: now - 60,
            ..base
        },
    ]
}

/// Writes the leases through a journal: two commits and a compaction, so that the file has
/// the header, repeated records and appended ones; with a `reserve`, the file ends in the
/// blank space a journal keeps ahead of its records, as a crash leaves it.
fn journal_file(dir: &Path, now: u64, reserve: u64) -> std::path::PathBuf {
    let all = leases(now);
    let mut journal = Journal::in_directory(dir).unwrap();
    journal.set_reserve(reserve);
    journal.commit(&all[..3]).unwrap();
    journal.compact(&mut all[..3].iter()).unwrap();
    journal.commit(&all[2..]).unwrap();
    journal.path().to_path_buf()
}

#[test]
fn isc_dhcpd_reads_the_journal_back() {
    if !on_path("dhcpd") {
        return;
    }
    for reserve in [0, 20_000] {
        isc_dhcpd_reads(reserve);
    }
}

fn isc_dhcpd_reads(reserve: u64) {
    let dir = tempfile::tempdir().unwrap();
    let leases = journal_file(dir.path(), now(), reserve);
    if reserve > 0 {
        assert!(std::fs::metadata(&leases).unwrap().len() > reserve / 2);
    }
    let conf = dir.path().join("dhcpd.conf");
    std::fs::write(
        &conf,
        "subnet 192.0.2.0 netmask 255.255.255.0 {\n  range 192.0.2.100 192.0.2.200;\n}\n",
    )
    .unwrap();
    let output = Command::new("dhcpd")
        .args(["-T", "-4", "-cf"])
        .arg(&conf)
        .arg("-lf")
        .arg(&leases)
        .arg("-pf")
        .arg(dir.path().join("dhcpd.pid"))
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{log}");
    assert!(log.contains("Lease file test successful"), "{log}");
    assert!(!log.contains("line "), "dhcpd reported a problem:\n{log}");
    assert!(!log.contains("orrupt"), "dhcpd reported a problem:\n{log}");
    assert!(log.contains("Wrote 7 leases to leases file."), "{log}");
}

#[test]
fn dhcp_lease_list_lists_the_active_leases() {
    if !on_path("dhcp-lease-list") || !on_path("perl") {
        return;
    }
    for reserve in [0, 20_000] {
        dhcp_lease_list_lists(reserve);
    }
}

fn dhcp_lease_list_lists(reserve: u64) {
    let dir = tempfile::tempdir().unwrap();
    let leases = journal_file(dir.path(), now(), reserve);
    let output = Command::new("dhcp-lease-list")
        .arg("--parsable")
        .arg("--lease")
        .arg(&leases)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{listing}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut rows: Vec<(&str, &str)> = listing
        .lines()
        .filter_map(|line| {
            let mac = line.split("MAC ").nth(1)?.split_whitespace().next()?;
            let ip = line.split("IP ").nth(1)?.split_whitespace().next()?;
            Some((mac, ip))
        })
        .collect();
    rows.sort_unstable();
    // The active leases with an Ethernet address that end in the future; `ends never` is
    // not a date to the tool.
    assert_eq!(
        rows,
        [
            ("02:00:00:00:00:01", "192.0.2.100"),
            ("02:00:00:00:00:02", "192.0.2.101")
        ],
        "{listing}"
    );
}
