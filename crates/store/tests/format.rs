//! Reading lease files as ISC dhcpd writes them, and writing them back.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use charrua_server::leases::{INFINITE, Lease, LeaseState};
use charrua_store::{Level, read, write, write_lease};
use charrua_wire::{HardwareAddress, HardwareType, Text};

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/leases")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(192, 0, 2, last)
}

fn lease_at(leases: &[Lease], last: u8) -> &Lease {
    leases
        .iter()
        .find(|l| l.address == ip(last))
        .unwrap_or_else(|| panic!("no lease for {}", ip(last)))
}

fn mac(bytes: [u8; 6]) -> Option<(HardwareType, HardwareAddress)> {
    Some((HardwareType::ETHERNET, HardwareAddress::ethernet(bytes)))
}

#[test]
fn reads_a_file_written_by_isc_dhcpd_4_4() {
    let loaded = read(&fixture("isc-4.4.leases"));
    let errors: Vec<_> = loaded
        .problems
        .iter()
        .filter(|p| p.level == Level::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(loaded.leases.len(), 8);
    assert_eq!(loaded.records, 9);
    assert_eq!(loaded.server_duid.as_deref().map(<[u8]>::len), Some(14));

    let states: Vec<_> = loaded.leases.iter().map(|l| (l.address, l.state)).collect();
    assert_eq!(
        states,
        [
            (ip(100), LeaseState::Active),
            (ip(101), LeaseState::Free),
            (ip(102), LeaseState::Released),
            (ip(103), LeaseState::Expired),
            (ip(104), LeaseState::Abandoned),
            (ip(105), LeaseState::Active),
            (ip(106), LeaseState::Active),
            (ip(107), LeaseState::Free),
        ]
    );
    let printer = lease_at(&loaded.leases, 102);
    assert_eq!(printer.hostname, Some(Text::from("printer")));
    assert_eq!(printer.hardware, mac([0x52, 0x54, 0, 0x12, 0x34, 0x58]));
    assert_eq!(lease_at(&loaded.leases, 104).hardware, None);
    assert_eq!(lease_at(&loaded.leases, 106).ends, INFINITE);
    let fddi = lease_at(&loaded.leases, 107);
    assert_eq!(fddi.hardware.map(|(t, _)| t), Some(HardwareType(8)));
    assert_eq!(fddi.cltt, 0);
}

#[test]
fn notes_skipped_failover_and_host_records() {
    let loaded = read(&fixture("isc-4.4.leases"));
    let notes: Vec<_> = loaded
        .problems
        .iter()
        .map(|p| (p.level, p.line, p.column, p.message.as_str()))
        .collect();
    assert_eq!(
        notes,
        [
            (
                Level::Note,
                9,
                1,
                "`failover` record skipped: only leases are read"
            ),
            (
                Level::Note,
                14,
                1,
                "`host` record skipped: only leases are read"
            ),
        ]
    );
}

#[test]
fn last_record_of_an_address_wins() {
    let loaded = read(&fixture("isc-4.4.leases"));
    let desk = lease_at(&loaded.leases, 100);
    assert_eq!(desk.starts, 1_796_292_902); // 2026-12-03 10:15:02 UTC, the second record
    assert_eq!(desk.ends, 1_796_336_102);
    assert_eq!(desk.cltt, 1_796_292_902);
    assert_eq!(desk.client_id.as_deref(), Some(&b"\x01RT\x00\x124V"[..]));
    assert_eq!(desk.hostname, Some(Text::from("desk-01")));
}

#[test]
fn reads_epoch_time_format() {
    let loaded = read(&fixture("isc-4.4.leases"));
    let phone = lease_at(&loaded.leases, 105);
    assert_eq!(phone.starts, 1_796_290_200);
    assert_eq!(phone.ends, 1_796_333_400);
    assert_eq!(phone.cltt, 1_796_290_200);
    // `uid` in colon-hex form, and a token-ring hardware address.
    assert_eq!(
        phone.client_id,
        Some(vec![1, 0, 0, 0x5e, 0, 0x53, 1].into())
    );
    assert_eq!(phone.hardware.map(|(t, _)| t), Some(HardwareType::IEEE802));
}

#[test]
fn skips_a_torn_final_record_and_reports_its_line() {
    let loaded = read(&fixture("torn.leases"));
    let errors: Vec<_> = loaded
        .problems
        .iter()
        .filter(|p| p.level == Level::Error)
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    // The file ends in the middle of the hardware address.
    assert_eq!((errors[0].line, errors[0].column), (48, 21));
    assert!(
        errors[0].message.starts_with("lease 192.0.2.100: "),
        "{errors:?}"
    );
    // The earlier record for the address stands.
    assert_eq!(loaded.leases.len(), 2);
    assert_eq!(lease_at(&loaded.leases, 100).starts, 1_796_289_302);
    assert_eq!(lease_at(&loaded.leases, 101).state, LeaseState::Active);
}

#[test]
fn skips_corrupt_records_and_reads_on() {
    let loaded = read(&fixture("corrupt.leases"));
    let errors: Vec<_> = loaded
        .problems
        .iter()
        .map(|p| (p.level, p.line, p.column))
        .collect();
    // A bad address, an impossible date (February 30), an unknown statement.
    assert_eq!(
        errors,
        [
            (Level::Error, 13, 7),
            (Level::Error, 21, 10),
            (Level::Error, 29, 3)
        ]
    );
    assert!(loaded.problems[0].message.contains("192.0.2.300"));
    assert!(loaded.problems[1].message.contains("2026/02/30"));
    assert!(loaded.problems[2].message.contains("frobnicate"));
    let kept: Vec<_> = loaded.leases.iter().map(|l| l.address).collect();
    assert_eq!(kept, [ip(10), ip(13)]);
    assert_eq!(
        lease_at(&loaded.leases, 13).hostname,
        Some(Text::from("after-the-damage"))
    );
}

#[test]
fn reports_a_record_cut_at_a_line_end_at_its_first_line() {
    let text = "lease 192.0.2.1 {\n  ends never;\n}\nlease 192.0.2.2 {\n  ends never;\n";
    let loaded = read(text);
    let problems: Vec<_> = loaded.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        problems,
        ["line 4: lease 192.0.2.2: record not closed at the end of the file"]
    );
    assert_eq!(loaded.leases.len(), 1);
}

#[test]
fn resumes_after_a_record_torn_in_the_middle_of_the_file() {
    let text = "lease 192.0.2.1 {\n  starts 4 2026/12/03 09:00:00;\n  ends 4 2026/12/\n\
                lease 192.0.2.2 {\n  ends never;\n  binding state active;\n}\n";
    let loaded = read(text);
    assert_eq!(loaded.problems.len(), 1, "{:?}", loaded.problems);
    let kept: Vec<_> = loaded.leases.iter().map(|l| (l.address, l.ends)).collect();
    assert_eq!(kept, [(ip(2), INFINITE)]);
}

#[test]
fn an_unclosed_string_costs_only_its_record() {
    let text = "lease 192.0.2.1 {\n  client-hostname \"torn\n}\n\
                lease 192.0.2.2 {\n  client-hostname \"ok\";\n}\n";
    let loaded = read(text);
    assert_eq!(loaded.problems.len(), 1, "{:?}", loaded.problems);
    assert_eq!(loaded.problems[0].line, 2);
    let kept: Vec<_> = loaded.leases.iter().map(|l| l.address).collect();
    assert_eq!(kept, [ip(2)]);
}

#[test]
fn problems_display_with_path_and_line() {
    let mut loaded = read("lease 192.0.2.1 {\n  bogus;\n}\n");
    let problem = &mut loaded.problems[0];
    problem.path = Some("/var/lib/dhcp/dhcpd.leases".into());
    assert_eq!(
        problem.to_string(),
        "/var/lib/dhcp/dhcpd.leases:2: lease 192.0.2.1: unknown statement `bogus`"
    );
}

fn sample() -> Vec<Lease> {
    let base = Lease {
        address: ip(1),
        client_id: None,
        hardware: None,
        starts: 1_796_288_400,
        ends: 1_796_331_600,
        cltt: 1_796_288_400,
        state: LeaseState::Active,
        hostname: None,
    };
    vec![
        Lease {
            client_id: Some(vec![1, 0x52, 0x54, 0, 0, 0, 1].into()),
            hardware: mac([0x52, 0x54, 0, 0, 0, 1]),
            hostname: Some(Text::from("laptop")),
            ..base.clone()
        },
        Lease {
            address: ip(2),
            client_id: Some(b"\x00\"quoted\\ and \x7f\xff\n".to_vec().into()),
            hostname: Some(Text::new(&b"caf\xc3\xa9 \"x\""[..])),
            state: LeaseState::Released,
            ..base.clone()
        },
        Lease {
            address: ip(3),
            ends: INFINITE,
            hardware: Some((HardwareType::INFINIBAND, HardwareAddress::default())),
            ..base.clone()
        },
        Lease {
            address: ip(4),
            state: LeaseState::Abandoned,
            ends: INFINITE - 1,
            ..base.clone()
        },
        Lease {
            address: ip(5),
            state: LeaseState::Expired,
            starts: 0,
            ..base.clone()
        },
        Lease {
            address: ip(6),
            state: LeaseState::Free,
            hardware: Some((HardwareType::IEEE802, HardwareAddress::ethernet([1; 6]))),
            ..base
        },
    ]
}

#[test]
fn written_leases_read_back_the_same() {
    let leases = sample();
    let text = write(&leases);
    let loaded = read(&text);
    assert!(loaded.problems.is_empty(), "{:?}\n{text}", loaded.problems);
    assert_eq!(loaded.leases, leases, "{text}");
}

#[test]
fn offered_leases_are_not_written() {
    let mut offer = sample().remove(0);
    offer.state = LeaseState::Offered;
    let mut out = Vec::new();
    assert!(!write_lease(&mut out, &offer));
    assert!(out.is_empty());
    let text = write(&[offer]);
    assert!(read(&text).leases.is_empty());
    assert!(!text.contains("lease "), "{text}");
}
