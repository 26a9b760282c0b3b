//! The lease journal on disk: commits, reopening, compaction.

use std::fs;
use std::net::Ipv4Addr;

use charrua_server::leases::{Lease, LeaseState};
use charrua_store::{Journal, LeaseStore, read, read_bytes};
use charrua_wire::{HardwareAddress, HardwareType, Text};

fn lease(last: u8, state: LeaseState, starts: u64) -> Lease {
    Lease {
        address: Ipv4Addr::new(192, 0, 2, last),
        client_id: Some(vec![1, 2, 0, 0, 0, 0, last].into()),
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

fn assert_send<T: Send>(_: &T) {}

#[test]
fn appended_records_sync_on_another_thread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dhcpd.leases");
    let mut journal = Journal::open(&path).unwrap();
    assert!(
        journal
            .append(&[lease(9, LeaseState::Offered, 1)])
            .unwrap()
            .is_none()
    );
    let first = journal
        .append(&[lease(10, LeaseState::Active, 1000)])
        .unwrap()
        .unwrap();
    let second = journal
        .append(&[lease(11, LeaseState::Active, 1000)])
        .unwrap()
        .unwrap();
    assert_send(&second);
    assert_eq!(second.path(), path);
    // Both appends are in the file before any sync.
    assert_eq!(journal.len(), fs::metadata(&path).unwrap().len());
    assert_eq!(read(&fs::read_to_string(&path).unwrap()).records, 2);
    // The later sync covers the earlier append; the earlier one may still run, later.
    std::thread::spawn(move || second.sync())
        .join()
        .unwrap()
        .unwrap();
    first.sync().unwrap();
    let loaded = Journal::open(&path).unwrap().load().unwrap();
    assert_eq!(
        loaded.leases,
        [
            lease(10, LeaseState::Active, 1000),
            lease(11, LeaseState::Active, 1000)
        ]
    );
}

/// Leases 1 to 20, `rounds` times over, committed one round at a time.
fn journal_with_history(dir: &std::path::Path, rounds: u64) -> (Journal, Vec<Lease>) {
    let mut journal = Journal::in_directory(dir).unwrap();
    for round in 0..rounds {
        let batch: Vec<_> = (1..=20)
            .map(|n| lease(n, LeaseState::Active, round))
            .collect();
        journal.commit(&batch).unwrap();
    }
    let live = journal.load().unwrap().leases;
    (journal, live)
}

#[test]
fn appends_during_a_compaction_follow_the_snapshot_in_the_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let (mut journal, live) = journal_with_history(dir.path(), 30);
    let job = journal.begin_compaction(live.clone()).unwrap();
    assert_send(&job);
    assert!(journal.is_compacting());
    let worker = std::thread::spawn(move || job.run());

    let during = [
        lease(1, LeaseState::Released, 100),
        lease(21, LeaseState::Active, 100),
    ];
    journal.commit(&during[..1]).unwrap();
    let pending = journal.append(&during[1..]).unwrap().unwrap();
    let done = worker.join().unwrap();
    assert_send(&done);
    assert_eq!(done.as_ref().unwrap().records(), 20);
    let old_file = fs::read(journal.path()).unwrap();
    journal.finish_compaction(done).unwrap();
    // A sync of an append made before the switch still succeeds.
    pending.sync().unwrap();

    assert!(!journal.is_compacting());
    assert!(!dir.path().join("dhcpd.leases.tmp").exists());
    assert_eq!(fs::read(journal.backup_path()).unwrap(), old_file);
    let text = fs::read_to_string(journal.path()).unwrap();
    assert_eq!(journal.len(), u64::try_from(text.len()).unwrap());
    let addresses: Vec<_> = text
        .lines()
        .filter_map(|l| l.strip_prefix("lease "))
        .collect();
    let mut expected: Vec<_> = (1..=20).map(|n| format!("192.0.2.{n} {{")).collect();
    expected.extend(["192.0.2.1 {".to_string(), "192.0.2.21 {".to_string()]);
    assert_eq!(addresses, expected);

    let loaded = journal.load().unwrap();
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(loaded.records, 22);
    let mut expected = live;
    expected[0] = during[0].clone();
    expected.push(during[1].clone());
    assert_eq!(loaded.leases, expected);

    // Later appends go to the new file.
    journal
        .commit(&[lease(2, LeaseState::Expired, 200)])
        .unwrap();
    let reopened = Journal::in_directory(dir.path()).unwrap().load().unwrap();
    assert_eq!(reopened.records, 23);
    assert_eq!(reopened.leases[1], lease(2, LeaseState::Expired, 200));
}

#[test]
fn only_one_compaction_runs_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let (mut journal, live) = journal_with_history(dir.path(), 2);
    let job = journal.begin_compaction(live.clone()).unwrap();
    let refused = journal.begin_compaction(live.clone()).unwrap_err();
    assert!(
        refused.to_string().contains("already in progress"),
        "{refused}"
    );
    assert!(journal.compact(&mut live.iter()).is_err());
    journal.finish_compaction(job.run()).unwrap();
    assert!(journal.finish_compaction(Err(refused)).is_err());
    journal.compact(&mut live.iter()).unwrap();
    assert_eq!(journal.load().unwrap().records, 20);
}

#[test]
fn a_failed_compaction_job_leaves_the_journal_working() {
    let dir = tempfile::tempdir().unwrap();
    let (mut journal, live) = journal_with_history(dir.path(), 3);
    // NAME.tmp cannot be created where a non-empty directory stands.
    let temporary = journal.temporary_path();
    fs::create_dir(&temporary).unwrap();
    fs::write(temporary.join("in-the-way"), "").unwrap();
    let before = fs::read(journal.path()).unwrap();

    let job = journal.begin_compaction(live.clone()).unwrap();
    journal
        .commit(&[lease(1, LeaseState::Released, 50)])
        .unwrap();
    let error = journal.finish_compaction(job.run()).unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with(&format!("lease journal {}: create: ", temporary.display())),
        "{text}"
    );

    assert!(!journal.is_compacting());
    assert!(!journal.backup_path().exists());
    journal
        .commit(&[lease(2, LeaseState::Released, 50)])
        .unwrap();
    let after = fs::read(journal.path()).unwrap();
    assert!(after.starts_with(&before));
    let loaded = journal.load().unwrap();
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(loaded.records, 62);
    assert_eq!(loaded.leases[0], lease(1, LeaseState::Released, 50));
    assert_eq!(loaded.leases[1], lease(2, LeaseState::Released, 50));
    assert_eq!(journal.len(), u64::try_from(after.len()).unwrap());
}

#[test]
fn a_failed_switch_keeps_the_old_file_and_removes_the_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let (mut journal, live) = journal_with_history(dir.path(), 3);
    // The old backup cannot be replaced where a non-empty directory stands.
    let backup = journal.backup_path();
    fs::create_dir(&backup).unwrap();
    fs::write(backup.join("in-the-way"), "").unwrap();

    let job = journal.begin_compaction(live.clone()).unwrap();
    let error = journal.finish_compaction(job.run()).unwrap_err();
    assert_eq!(error.action, "remove the old backup");
    assert_eq!(error.path, backup);
    assert!(!journal.temporary_path().exists());
    assert!(!journal.is_compacting());

    journal
        .commit(&[lease(3, LeaseState::Released, 50)])
        .unwrap();
    let loaded = journal.load().unwrap();
    assert_eq!(loaded.records, 61);
    assert_eq!(loaded.leases[2], lease(3, LeaseState::Released, 50));

    fs::remove_dir_all(&backup).unwrap();
    journal.compact(&mut loaded.leases.iter()).unwrap();
    assert_eq!(journal.load().unwrap().leases, loaded.leases);
}

#[test]
fn a_temporary_file_left_by_a_crash_is_harmless() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, live) = journal_with_history(dir.path(), 3);
    let temporary = journal.temporary_path();
    drop(journal);
    // A compaction stopped halfway: the new file is partial, the rename never happened.
    fs::write(&temporary, "lease 192.0.2.99 {\n  starts 4 20").unwrap();

    let mut journal = Journal::in_directory(dir.path()).unwrap();
    let loaded = journal.load().unwrap();
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(loaded.leases, live);
    journal.compact(&mut live.iter()).unwrap();
    assert!(!temporary.exists());
    let reopened = Journal::in_directory(dir.path()).unwrap().load().unwrap();
    assert_eq!((reopened.records, reopened.leases), (20, live));
}

#[test]
fn should_compact_counts_the_snapshot_and_the_appends_after_a_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::in_directory(dir.path()).unwrap();
    let batch: Vec<_> = (1..=200).map(|n| lease(n, LeaseState::Active, 7)).collect();
    while journal.len() < 2 << 20 {
        journal.commit(&batch).unwrap();
    }
    assert!(journal.should_compact(200));
    let job = journal.begin_compaction(batch.clone()).unwrap();
    // Never while one is in progress.
    assert!(!journal.should_compact(200));
    for _ in 0..3 {
        journal.commit(&batch).unwrap();
    }
    journal.finish_compaction(job.run()).unwrap();
    assert_eq!(journal.len(), fs::metadata(journal.path()).unwrap().len());
    // Four copies of 200 leases make a file under COMPACT_MIN_BYTES.
    assert!(!journal.should_compact(200));
    while journal.len() < 2 << 20 {
        journal.commit(&batch).unwrap();
    }
    assert!(journal.should_compact(200));
}

#[test]
fn a_snapshot_in_pieces_taken_between_appends_keeps_the_latest_records() {
    let dir = tempfile::tempdir().unwrap();
    let (mut journal, live) = journal_with_history(dir.path(), 5);
    let (job, feed) = journal.begin_compaction_in_pieces().unwrap();
    let worker = std::thread::spawn(move || job.run());

    // The first piece, then a change to one of its leases, which must win over it.
    feed.add(live[..10].to_vec());
    journal
        .commit(&[lease(3, LeaseState::Released, 60)])
        .unwrap();
    // A change to a lease of the second piece before that piece is taken, which it holds.
    journal
        .commit(&[lease(15, LeaseState::Expired, 61)])
        .unwrap();
    let mut second = live[10..].to_vec();
    second[4] = lease(15, LeaseState::Expired, 61);
    feed.add(second);
    feed.finish();
    journal.finish_compaction(worker.join().unwrap()).unwrap();

    let loaded = journal.load().unwrap();
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(loaded.records, 22);
    let mut expected = live;
    expected[2] = lease(3, LeaseState::Released, 60);
    expected[14] = lease(15, LeaseState::Expired, 61);
    assert_eq!(loaded.leases, expected);
    assert_eq!(journal.len(), fs::metadata(journal.path()).unwrap().len());
}

#[test]
fn a_snapshot_feed_dropped_before_its_end_fails_the_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let (mut journal, live) = journal_with_history(dir.path(), 2);
    let before = fs::read(journal.path()).unwrap();
    let (job, feed) = journal.begin_compaction_in_pieces().unwrap();
    feed.add(live[..5].to_vec());
    drop(feed);
    let error = journal.finish_compaction(job.run()).unwrap_err();
    assert!(
        error.to_string().contains("dropped before its end"),
        "{error}"
    );
    assert!(!journal.temporary_path().exists());
    assert!(!journal.is_compacting());
    assert_eq!(fs::read(journal.path()).unwrap(), before);
    assert_eq!(journal.load().unwrap().leases, live);
}

/// Runs the same appends and compactions through a journal with the given reserve; returns
/// the journal, open.
fn history_with_reserve(dir: &std::path::Path, reserve: u64) -> Journal {
    let mut journal = Journal::in_directory(dir).unwrap();
    journal.set_reserve(reserve);
    for round in 0..30u64 {
        let batch: Vec<_> = (1..=20)
            .map(|n| lease(n, LeaseState::Active, 100 + round))
            .collect();
        journal.commit(&batch).unwrap();
        if round == 10 {
            journal.compact(&mut batch.iter()).unwrap();
        }
        if round == 20 {
            let (job, feed) = journal.begin_compaction_in_pieces().unwrap();
            feed.add(batch.clone());
            feed.finish();
            let worker = std::thread::spawn(move || job.run());
            journal
                .commit(&[lease(21, LeaseState::Active, 200)])
                .unwrap();
            journal.finish_compaction(worker.join().unwrap()).unwrap();
        }
    }
    journal
}

#[test]
fn a_reserve_stays_ahead_of_the_records_and_trims_to_the_same_file() {
    let plain_dir = tempfile::tempdir().unwrap();
    let plain = history_with_reserve(plain_dir.path(), 0);
    let expected = fs::read(plain.path()).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let mut journal = history_with_reserve(dir.path(), 8192);
    assert_eq!(journal.len(), plain.len());
    let bytes = fs::read(journal.path()).unwrap();
    let blanks = bytes.len() - expected.len();
    assert!(
        (4096..=8192 + 64).contains(&blanks),
        "{blanks} bytes of reserve"
    );
    assert_eq!(&bytes[..expected.len()], &expected[..]);
    assert!(
        bytes[expected.len()..]
            .iter()
            .all(|&b| b" #\n".contains(&b))
    );
    // ISC dhcpd gives up on a run of 1,500 blank characters: the reserve is comments.
    let longest_blank_run = bytes
        .split(|b| !b.is_ascii_whitespace())
        .map(<[u8]>::len)
        .max();
    assert!(longest_blank_run < Some(100), "{longest_blank_run:?}");
    // Read as it is, the reserve is nothing but blank space.
    let loaded = read_bytes(&bytes);
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(loaded.leases, read_bytes(&expected).leases);
    // The backup a compaction keeps is readable too.
    let backup = read_bytes(&fs::read(journal.backup_path()).unwrap());
    assert!(backup.problems.is_empty(), "{:?}", backup.problems);

    journal.trim_reserve().unwrap();
    assert_eq!(fs::read(journal.path()).unwrap(), expected);
}

#[test]
fn reopening_after_a_crash_appends_where_the_records_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dhcpd.leases");
    {
        let mut journal = Journal::open(&path).unwrap();
        journal.set_reserve(100_000);
        journal.commit(&[lease(1, LeaseState::Active, 10)]).unwrap();
        // Dropped without trimming, as a crash leaves it.
    }
    let size = fs::metadata(&path).unwrap().len();
    let mut journal = Journal::open(&path).unwrap();
    assert!(
        journal.len() < 1000 && size > 50_000,
        "{} of {size}",
        journal.len()
    );
    journal.commit(&[lease(2, LeaseState::Active, 20)]).unwrap();
    // No reserve set this time: the old one is written over, and stays after the records.
    assert_eq!(fs::metadata(&path).unwrap().len(), size);
    let loaded = journal.load().unwrap();
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(
        loaded.leases,
        [
            lease(1, LeaseState::Active, 10),
            lease(2, LeaseState::Active, 20)
        ]
    );
    journal.trim_reserve().unwrap();
    assert_eq!(journal.len(), fs::metadata(&path).unwrap().len());
    assert_eq!(fs::read(&path).unwrap().last(), Some(&b'\n'));
}

#[test]
fn a_record_torn_inside_the_reserve_is_skipped_and_written_past() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dhcpd.leases");
    let end = {
        let mut journal = Journal::open(&path).unwrap();
        journal.set_reserve(10_000);
        journal.commit(&[lease(1, LeaseState::Active, 10)]).unwrap();
        journal.len()
    };
    // A write cut short by the crash: the start of a record over the blanks.
    let mut bytes = fs::read(&path).unwrap();
    let torn = b"lease 192.0.2.9 {\n  starts 4 2026/12/03";
    let at = usize::try_from(end).unwrap();
    bytes[at..at + torn.len()].copy_from_slice(torn);
    fs::write(&path, &bytes).unwrap();

    let mut journal = Journal::open(&path).unwrap();
    assert_eq!(journal.len(), end + torn.len() as u64);
    journal.commit(&[lease(2, LeaseState::Active, 20)]).unwrap();
    let loaded = journal.load().unwrap();
    assert_eq!(loaded.problems.len(), 1, "{:?}", loaded.problems);
    assert_eq!(
        loaded.leases,
        [
            lease(1, LeaseState::Active, 10),
            lease(2, LeaseState::Active, 20)
        ]
    );
}
