//! The lease journal on disk: commits, reopening, compaction.

use std::fs;
use std::net::Ipv4Addr;

use charrua_server::leases::{Lease, LeaseState};
use charrua_store::{Journal, LeaseStore, read};
use charrua_wire::{HardwareAddress, HardwareType, Text};

fn lease(last: u8, state: LeaseState, starts: u64) -> Lease {
    Lease {
        address: Ipv4Addr::new(192, 0, 2, last),
        client_id: Some(vec![1, 2, 0, 0, 0, 0, last]),
        hardware: Some((
            HardwareType::ETHERNET,
            HardwareAddress::ethernet([2, 0, 0, 0, 0, last]),
        )),
        starts,
        ends: starts + 3600,
        cltt: starts,
        state,
        hostname: Some(Text::from("host")),
    }
}

#[test]
fn opening_creates_an_empty_journal() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::in_directory(dir.path()).unwrap();
    assert_eq!(journal.path(), dir.path().join("dhcpd.leases"));
    assert!(journal.path().exists());
    assert!(journal.is_empty());
    let loaded = journal.load().unwrap();
    assert!(loaded.leases.is_empty() && loaded.problems.is_empty());
}

#[test]
fn commit_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dhcpd.leases");
    let batch = [
        lease(10, LeaseState::Active, 1000),
        lease(11, LeaseState::Active, 1000),
    ];
    {
        let mut journal = Journal::open(&path).unwrap();
        journal.commit(&batch).unwrap();
        journal
            .commit(&[lease(10, LeaseState::Released, 2000)])
            .unwrap();
        assert_eq!(journal.len(), fs::metadata(&path).unwrap().len());
    }
    let mut journal = Journal::open(&path).unwrap();
    let loaded = journal.load().unwrap();
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(loaded.records, 3);
    assert_eq!(
        loaded.leases,
        [lease(10, LeaseState::Released, 2000), batch[1].clone()]
    );
}

#[test]
fn offered_leases_are_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::in_directory(dir.path()).unwrap();
    journal
        .commit(&[lease(10, LeaseState::Offered, 1000)])
        .unwrap();
    assert!(journal.is_empty());
    journal
        .commit(&[
            lease(10, LeaseState::Offered, 1000),
            lease(11, LeaseState::Active, 1000),
        ])
        .unwrap();
    let loaded = journal.load().unwrap();
    assert_eq!(loaded.leases, [lease(11, LeaseState::Active, 1000)]);
}

#[test]
fn compaction_keeps_only_live_leases_and_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::in_directory(dir.path()).unwrap();
    for round in 0..50 {
        let batch: Vec<_> = (1..=20)
            .map(|n| lease(n, LeaseState::Active, round))
            .collect();
        journal.commit(&batch).unwrap();
    }
    let before = fs::read(journal.path()).unwrap();
    let live: Vec<_> = journal.load().unwrap().leases;
    assert_eq!(live.len(), 20);

    let mut with_offer = live.clone();
    with_offer.push(lease(99, LeaseState::Offered, 0));
    journal.compact(&mut with_offer.iter()).unwrap();

    assert_eq!(fs::read(journal.backup_path()).unwrap(), before);
    assert!(!dir.path().join("dhcpd.leases.tmp").exists());
    let after = journal.load().unwrap();
    assert_eq!(after.records, 20);
    assert_eq!(after.leases, live);
    assert!(journal.len() * 40 < u64::try_from(before.len()).unwrap());

    // Commits after a compaction go to the new file.
    journal
        .commit(&[lease(1, LeaseState::Released, 99)])
        .unwrap();
    let reopened = Journal::in_directory(dir.path()).unwrap().load().unwrap();
    assert_eq!(reopened.leases[0], lease(1, LeaseState::Released, 99));
    assert_eq!(reopened.records, 21);
}

#[test]
fn a_second_compaction_replaces_the_backup() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::in_directory(dir.path()).unwrap();
    journal.commit(&[lease(1, LeaseState::Active, 1)]).unwrap();
    journal
        .compact(&mut [lease(2, LeaseState::Active, 2)].iter())
        .unwrap();
    journal
        .compact(&mut [lease(3, LeaseState::Active, 3)].iter())
        .unwrap();
    let backup = read(&fs::read_to_string(journal.backup_path()).unwrap());
    assert_eq!(backup.leases, [lease(2, LeaseState::Active, 2)]);
    assert_eq!(
        journal.load().unwrap().leases,
        [lease(3, LeaseState::Active, 3)]
    );
}

#[test]
fn appends_after_a_torn_tail_start_on_a_new_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dhcpd.leases");
    fs::write(
        &path,
        "lease 192.0.2.1 {\n  starts 4 2026/12/03 09:00:00;\n  ends 4 20",
    )
    .unwrap();
    let mut journal = Journal::open(&path).unwrap();
    journal.commit(&[lease(2, LeaseState::Active, 5)]).unwrap();
    let loaded = journal.load().unwrap();
    assert_eq!(loaded.problems.len(), 1, "{:?}", loaded.problems);
    assert_eq!(loaded.problems[0].line, 3);
    assert!(
        loaded.problems[0]
            .to_string()
            .starts_with(&format!("{}:3: ", path.display()))
    );
    assert_eq!(loaded.leases, [lease(2, LeaseState::Active, 5)]);
}

#[test]
fn should_compact_once_the_journal_outgrows_the_live_leases() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::in_directory(dir.path()).unwrap();
    let batch: Vec<_> = (1..=200).map(|n| lease(n, LeaseState::Active, 7)).collect();
    journal.commit(&batch).unwrap();
    // Small journals are never worth compacting.
    assert!(!journal.should_compact(1));
    while journal.len() < 2 << 20 {
        journal.commit(&batch).unwrap();
    }
    assert!(journal.should_compact(200));
    assert!(!journal.should_compact(200 * 100));
    journal.compact(&mut batch.iter()).unwrap();
    assert!(!journal.should_compact(200));
}

#[test]
fn errors_name_the_journal_and_the_operation() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-directory").join("dhcpd.leases");
    let error = Journal::open(&missing).unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with(&format!("lease journal {}: create: ", missing.display())),
        "{text}"
    );
    assert!(std::error::Error::source(&error).is_some());
}
