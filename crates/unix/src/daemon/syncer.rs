//! The syncer: threads that make appended journal records durable and only then send the
//! replies that promise them.
//!
//! The event loop appends each batch's lease records to the journal (one `write`, no wait)
//! and hands the syncer a [`Ticket`]: the pending sync and the batch's replies. The syncer
//! has [`SYNC_LANES`] threads, each syncing through a descriptor of its own. An idle lane
//! starts a sync as soon as a ticket brings records no sync has begun to cover, even while
//! another lane's sync is still running: a reply then waits for about one sync, not for the
//! end of the one in progress followed by its own. Tickets that arrive while every lane is
//! busy share the next sync, and the loop never waits for the disk.
//!
//! A sync covers every write made to its file before it began, so only the newest append of
//! each journal generation needs to be synced, and a success on any lane makes every older
//! record of that file durable (each lane's descriptor sees every write-back error; see
//! [`PendingSync::sync_on`]). Replies leave once their batch's records are durable, each
//! lane sending what its sync released; batches released by different lanes may reach the
//! wire in either order.
//!
//! After a failed sync the kernel may have dropped the unwritten pages, so a later sync of
//! the same file proves nothing: every ticket of that journal generation still waiting, and
//! every later one, is refused, until the loop has rewritten the journal from memory (a
//! compaction, which starts a new generation and syncs what the old file held).

use std::collections::VecDeque;
use std::sync::mpsc::{self, Receiver, TryIter};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use charrua_store::{PendingSync, SYNC_LANES, StoreError};
use tracing::error;

use super::outbox::{Replies, Sender, Sent};

/// Tickets that may wait for the syncer before the loop has to wait too.
const QUEUE: usize = 256;

/// A batch's replies and the sync they wait for.
pub(crate) struct Ticket {
    /// The batch's unsynced append, if it wrote anything.
    pub(crate) pending: Option<PendingSync>,
    /// The journal file's generation the append went to: it changes when a compaction
    /// replaces the file.
    pub(crate) generation: u64,
    /// Replies to send once the batch (and every batch before it) is on disk.
    pub(crate) replies: Replies,
}

/// What the syncer did with some tickets, for the loop's counters.
#[derive(Default)]
pub(crate) struct Report {
    /// Replies sent, and replies that could not be.
    pub(crate) sent: Sent,
    /// Replies not sent because their records could not be made durable.
    pub(crate) unsynced: usize,
    /// The sync failure, if there was one, and the generation it broke.
    pub(crate) failure: Option<(u64, StoreError)>,
    /// A reply buffer to reuse.
    pub(crate) spare: Replies,
}

/// The handle the event loop keeps.
pub(crate) struct Syncer {
    shared: Arc<Shared>,
    reports: Receiver<Report>,
    threads: Vec<JoinHandle<()>>,
}

/// What the loop and the lanes share.
struct Shared {
    state: Mutex<State>,
    /// Lanes wait here for a sync to start or replies to release.
    work: Condvar,
    /// The loop waits here for room in the queue.
    room: Condvar,
}

/// An append, numbered in the order the loop made them.
type Seq = u64;

/// A ticket waiting for its records, or earlier ones, to be durable.
struct Waiting {
    generation: u64,
    /// The newest append of the ticket's generation made with or before it, which must be
    /// durable before its replies leave; `None` when the generation had none.
    after: Option<Seq>,
    replies: Replies,
}

/// The newest append of one generation, not yet handed to a sync.
struct Unsynced {
    generation: u64,
    seq: Seq,
    pending: PendingSync,
}

#[derive(Default)]
struct State {
    /// Tickets in the order the loop made them.
    waiting: VecDeque<Waiting>,
    /// At most one append per generation, oldest generation first.
    unsynced: VecDeque<Unsynced>,
    /// The generation and number of the newest append.
    last: Option<(u64, Seq)>,
    /// For each generation with tickets still waiting, the newest append known durable.
    synced: VecDeque<(u64, Seq)>,
    /// The newest generation a sync failed on.
    broken: Option<u64>,
    /// Lane threads still running.
    lanes: usize,
    /// Set when the loop stops: lanes finish what is queued and return.
    closing: bool,
}

/// Whether a waiting ticket's replies may leave.
enum Verdict {
    Durable,
    Refused,
    Wait,
}

impl State {
    /// Takes a ticket in, numbering its append one more than the newest.
    fn admit(&mut self, ticket: Ticket) {
        let generation = ticket.generation;
        let seq = self.last.map_or(0, |(_, seq)| seq.wrapping_add(1));
        if let Some(pending) = ticket.pending {
            self.last = Some((generation, seq));
            match self.unsynced.back_mut() {
                Some(newest) if newest.generation == generation => {
                    // The newer append's sync covers the older one's records.
                    newest.seq = seq;
                    newest.pending = pending;
                }
                _ => self.unsynced.push_back(Unsynced {
                    generation,
                    seq,
                    pending,
                }),
            }
        }
        let after = self
            .last
            .filter(|&(g, _)| g == generation)
            .map(|(_, seq)| seq);
        self.waiting.push_back(Waiting {
            generation,
            after,
            replies: ticket.replies,
        });
    }

    /// The oldest append no sync has begun to cover, unless its generation is broken.
    fn next_sync(&mut self) -> Option<Unsynced> {
        while let Some(next) = self.unsynced.pop_front() {
            if !self.is_broken(next.generation) {
                return Some(next);
            }
        }
        None
    }

    fn is_broken(&self, generation: u64) -> bool {
        self.broken.is_some_and(|b| b >= generation)
    }

    /// Notes a sync's outcome.
    fn synced(&mut self, generation: u64, seq: Seq, result: Result<(), StoreError>) -> Report {
        let mut report = Report::default();
        match result {
            Err(e) => {
                error!("cannot sync the lease journal: {e}; replies wait until it is rewritten");
                self.broken = Some(self.broken.map_or(generation, |b| b.max(generation)));
                report.failure = Some((generation, e));
            }
            // A success after a failure on the same file proves nothing.
            Ok(()) if self.is_broken(generation) => {}
            Ok(()) => match self.synced.iter_mut().find(|(g, _)| *g == generation) {
                Some((_, newest)) => *newest = (*newest).max(seq),
                None => {
                    let at = self.synced.partition_point(|&(g, _)| g < generation);
                    self.synced.insert(at, (generation, seq));
                }
            },
        }
        report
    }

    fn verdict(&self, ticket: &Waiting) -> Verdict {
        if self.is_broken(ticket.generation) {
            return Verdict::Refused;
        }
        let Some(after) = ticket.after else {
            return Verdict::Durable;
        };
        let synced = self.synced.iter().find(|&&(g, _)| g == ticket.generation);
        if synced.is_some_and(|&(_, seq)| seq >= after) {
            Verdict::Durable
        } else {
            Verdict::Wait
        }
    }

    /// Takes the tickets at the head of the queue whose fate is known: the replies to send
    /// go to `ready`, the refused ones are counted in `report`.
    fn release(&mut self, ready: &mut Vec<Replies>, report: &mut Report) {
        while let Some(head) = self.waiting.front() {
            let verdict = self.verdict(head);
            if matches!(verdict, Verdict::Wait) {
                break;
            }
            let Some(ticket) = self.waiting.pop_front() else {
                break;
            };
            match verdict {
                Verdict::Durable => ready.push(ticket.replies),
                _ => {
                    let mut replies = ticket.replies;
                    report.unsynced += replies.len();
                    replies.clear();
                    report.spare = replies;
                }
            }
        }
        // What no waiting ticket can need any more; the newest stays for tickets to come.
        let oldest = self.waiting.front().map(|t| t.generation);
        while self.synced.len() > 1
            && self
                .synced
                .front()
                .is_some_and(|&(g, _)| oldest.is_none_or(|o| g < o))
        {
            self.synced.pop_front();
        }
    }

    /// True when a lane has nothing left to do and never will.
    fn finished(&self) -> bool {
        self.closing && self.waiting.is_empty() && self.unsynced.is_empty()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A lane that panicked left the state as consistent as any step leaves it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Syncer {
    /// Starts one lane thread per sender, each sending through its own.
    pub(crate) fn spawn(senders: [Sender; SYNC_LANES]) -> std::io::Result<Syncer> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            room: Condvar::new(),
        });
        let (report, reports) = mpsc::channel();
        let mut syncer = Syncer {
            shared: Arc::clone(&shared),
            reports,
            threads: Vec::with_capacity(SYNC_LANES),
        };
        for (lane, sender) in senders.into_iter().enumerate() {
            let shared = Arc::clone(&shared);
            let report = report.clone();
            shared.lock().lanes += 1;
            let spawned = std::thread::Builder::new()
                .name(format!("syncer-{lane}"))
                .spawn(move || {
                    let _gone = LaneGone(&shared);
                    run(&shared, lane, &report, sender);
                });
            match spawned {
                Ok(thread) => syncer.threads.push(thread),
                Err(e) => {
                    syncer.shared.lock().lanes -= 1;
                    drop(syncer.finish());
                    return Err(e);
                }
            }
        }
        Ok(syncer)
    }

    /// Queues a ticket; waits when `QUEUE` tickets are already waiting. Gives the ticket
    /// back if every lane is gone.
    pub(crate) fn submit(&self, ticket: Ticket) -> Result<(), Ticket> {
        let mut state = self.shared.lock();
        while state.lanes > 0 && state.waiting.len() >= QUEUE {
            state = self
                .shared
                .room
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if state.lanes == 0 {
            return Err(ticket);
        }
        state.admit(ticket);
        drop(state);
        self.shared.work.notify_one();
        Ok(())
    }

    /// Reports ready now.
    pub(crate) fn reports(&self) -> TryIter<'_, Report> {
        self.reports.try_iter()
    }

    /// Lets the lanes finish every queued ticket, waits for them, and returns the reports
    /// not yet read.
    pub(crate) fn finish(mut self) -> Vec<Report> {
        self.shared.lock().closing = true;
        self.shared.work.notify_all();
        for thread in self.threads.drain(..) {
            if thread.join().is_err() {
                error!("a syncer thread panicked");
            }
        }
        self.reports.try_iter().collect()
    }
}

/// Counts a lane out when its thread ends, however it ends, so that the loop never waits
/// for room that no lane will make.
struct LaneGone<'a>(&'a Shared);

impl Drop for LaneGone<'_> {
    fn drop(&mut self) {
        self.0.lock().lanes -= 1;
        self.0.room.notify_all();
        self.0.work.notify_all();
    }
}

/// One lane: syncs the newest unsynced append whenever there is one, and sends the replies
/// that each sync (its own or another lane's) released.
fn run(shared: &Shared, lane: usize, reports: &mpsc::Sender<Report>, mut sender: Sender) {
    let mut ready: Vec<Replies> = Vec::new();
    let mut state = shared.lock();
    loop {
        let mut report = Report::default();
        let job = state.next_sync();
        let idle = job.is_none();
        if let Some(job) = job {
            drop(state);
            let result = job.pending.sync_on(lane);
            state = shared.lock();
            report = state.synced(job.generation, job.seq, result);
        }
        state.release(&mut ready, &mut report);
        if ready.is_empty() && report.unsynced == 0 && report.failure.is_none() {
            if state.finished() {
                drop(state);
                shared.work.notify_all();
                return;
            }
            if idle {
                state = shared
                    .work
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            continue;
        }
        let more = !state.unsynced.is_empty();
        drop(state);
        shared.room.notify_one();
        if more {
            // An idle lane starts the next sync while this one sends.
            shared.work.notify_one();
        }
        report.sent = sender.send(&ready);
        for mut replies in ready.drain(..) {
            replies.clear();
            report.spare = replies;
        }
        if reports.send(report).is_err() {
            return;
        }
        state = shared.lock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::outbox::Target;
    use charrua_server::{Lease, LeaseState};
    use charrua_store::{Journal, LeaseStore};
    use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
    use std::path::PathBuf;
    use std::time::Duration;

    fn directory(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("charrua-syncer-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn lease(last: u8) -> Lease {
        Lease {
            address: Ipv4Addr::new(192, 0, 2, last),
            client_id: None,
            hardware: None,
            starts: 1_900_000_000,
            ends: 2_000_000_000,
            cltt: 1_900_000_000,
            state: LeaseState::Active,
            hostname: None,
        }
    }

    fn receiver() -> (UdpSocket, SocketAddrV4) {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let SocketAddr::V4(address) = socket.local_addr().unwrap() else {
            panic!("IPv4 socket with an IPv6 address");
        };
        (socket, address)
    }

    fn replies(to: SocketAddrV4, tags: &[u8]) -> Replies {
        let mut replies = Replies::default();
        for &tag in tags {
            replies
                .push(Target::Datagram(to), 1, |buf| {
                    buf[0] = tag;
                    Ok(1)
                })
                .unwrap();
        }
        replies
    }

    fn lane_senders() -> [Sender; SYNC_LANES] {
        std::array::from_fn(|_| {
            Sender::new(
                Some(UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap()),
                vec![],
            )
        })
    }

    #[test]
    fn sends_every_batch_whole_and_keeps_its_records() {
        let dir = directory("order");
        let mut journal = Journal::in_directory(&dir).unwrap();
        let (socket, address) = receiver();
        let syncer = Syncer::spawn(lane_senders()).unwrap();
        let batches = 100u8;
        for batch in 0..batches {
            let pending = journal.append(&[lease(batch + 1)]).unwrap();
            assert!(pending.is_some());
            let ticket = Ticket {
                pending,
                generation: 0,
                replies: replies(address, &[batch, batch + 128]),
            };
            assert!(syncer.submit(ticket).is_ok());
        }
        // Batches released by different lanes may interleave, but each batch's replies
        // leave in order, and every one leaves once.
        let mut seen = vec![0u8; usize::from(batches)];
        let mut buf = [0u8; 4];
        for _ in 0..2 * usize::from(batches) {
            let n = socket.recv(&mut buf).unwrap();
            assert_eq!(n, 1);
            let tag = buf[0];
            let batch = usize::from(tag % 128);
            let expected = if tag < 128 { 0 } else { 1 };
            assert_eq!(
                seen[batch], expected,
                "reply {tag} out of its batch's order"
            );
            seen[batch] += 1;
        }
        assert!(seen.iter().all(|&n| n == 2));
        let reports = syncer.finish();
        let sent: usize = reports.iter().map(|r| r.sent.sent).sum();
        assert!(
            reports
                .iter()
                .all(|r| r.failure.is_none() && r.unsynced == 0)
        );
        // Reports read by `finish` are only those not yet read: all of them here.
        assert_eq!(sent, 2 * usize::from(batches));
        let loaded = Journal::in_directory(&dir).unwrap().load().unwrap();
        assert_eq!(loaded.leases.len(), usize::from(batches));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn finishing_sends_what_is_queued() {
        let dir = directory("finish");
        let mut journal = Journal::in_directory(&dir).unwrap();
        let (socket, address) = receiver();
        let syncer = Syncer::spawn(lane_senders()).unwrap();
        for batch in 0..10u8 {
            let ticket = Ticket {
                pending: journal.append(&[lease(batch + 1)]).unwrap(),
                generation: 0,
                replies: replies(address, &[batch]),
            };
            assert!(syncer.submit(ticket).is_ok());
            // A batch with replies and no records of its own.
            assert!(syncer.submit(plain(0, address, 100 + batch)).is_ok());
        }
        let reports = syncer.finish();
        let sent: usize = reports.iter().map(|r| r.sent.sent).sum();
        assert_eq!(sent, 20);
        let mut buf = [0u8; 4];
        for _ in 0..20 {
            assert_eq!(socket.recv(&mut buf).unwrap(), 1);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A ticket with no records of its own and one reply.
    fn plain(generation: u64, to: SocketAddrV4, tag: u8) -> Ticket {
        Ticket {
            pending: None,
            generation,
            replies: replies(to, &[tag]),
        }
    }

    fn nowhere() -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::LOCALHOST, 9)
    }

    /// The first byte of each reply released.
    fn tags(ready: &[Replies]) -> Vec<u8> {
        ready
            .iter()
            .flat_map(Replies::iter)
            .map(|(bytes, _)| bytes[0])
            .collect()
    }

    fn failure() -> Result<(), StoreError> {
        Err(StoreError {
            path: PathBuf::from("dhcpd.leases"),
            action: "sync",
            source: std::io::Error::other("injected"),
        })
    }

    /// Admits a ticket for a fresh append of one lease, tagged `tag`.
    fn admit_append(state: &mut State, journal: &mut Journal, generation: u64, tag: u8) {
        let ticket = Ticket {
            pending: journal.append(&[lease(tag)]).unwrap(),
            generation,
            replies: replies(nowhere(), &[tag]),
        };
        state.admit(ticket);
    }

    fn admit_plain(state: &mut State, generation: u64, tag: u8) {
        state.admit(plain(generation, nowhere(), tag));
    }

    /// Ends a sync as `result` says (its own sync on a lane, or a failure), and takes what
    /// that released: the tags of the replies to send, and the report.
    fn settle(state: &mut State, job: Unsynced, lane: Option<usize>) -> (Vec<u8>, Report) {
        let result = match lane {
            Some(lane) => job.pending.sync_on(lane),
            None => failure(),
        };
        let report = state.synced(job.generation, job.seq, result);
        release(state, report)
    }

    /// Takes what is released with no further sync.
    fn release(state: &mut State, mut report: Report) -> (Vec<u8>, Report) {
        let mut ready = Vec::new();
        state.release(&mut ready, &mut report);
        (tags(&ready), report)
    }

    #[test]
    fn one_sync_covers_every_append_of_its_generation_before_it() {
        let dir = directory("newest");
        let mut journal = Journal::in_directory(&dir).unwrap();
        let mut state = State::default();
        for tag in 1..=3 {
            admit_append(&mut state, &mut journal, 7, tag);
        }
        admit_plain(&mut state, 7, 4);
        let job = state.next_sync().unwrap();
        assert_eq!((job.generation, job.seq), (7, 2));
        let older = state.next_sync();
        assert!(older.is_none(), "older appends need no sync of their own");
        let (sent, _) = release(&mut state, Report::default());
        assert!(sent.is_empty(), "nothing is durable before the sync");
        let (sent, report) = settle(&mut state, job, Some(0));
        assert_eq!(sent, [1, 2, 3, 4]);
        assert_eq!(report.unsynced, 0);
        // A later ticket with no records of its own leaves at once.
        admit_plain(&mut state, 7, 5);
        assert_eq!(release(&mut state, Report::default()).0, [5]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn overlapping_syncs_release_only_what_they_cover() {
        let dir = directory("overlap");
        let mut journal = Journal::in_directory(&dir).unwrap();
        let mut state = State::default();
        admit_append(&mut state, &mut journal, 0, 1);
        let first = state.next_sync().unwrap();
        admit_append(&mut state, &mut journal, 0, 2);
        admit_plain(&mut state, 0, 3);
        let second = state.next_sync().unwrap();
        admit_append(&mut state, &mut journal, 0, 4);
        let third = state.next_sync().unwrap();

        // The second sync returns first: it covers the first append too, not the third.
        assert_eq!(settle(&mut state, second, Some(1)).0, [1, 2, 3]);
        // The first then adds nothing.
        assert!(settle(&mut state, first, Some(0)).0.is_empty());
        assert_eq!(settle(&mut state, third, Some(0)).0, [4]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_failed_sync_refuses_its_generation_even_after_a_later_success() {
        let dir = directory("failed");
        let mut journal = Journal::in_directory(&dir).unwrap();
        let mut state = State::default();
        admit_append(&mut state, &mut journal, 3, 1);
        let first = state.next_sync().unwrap();
        admit_append(&mut state, &mut journal, 3, 2);
        let second = state.next_sync().unwrap();
        // A ticket of the next generation, with no records: the compaction that made that
        // generation synced everything before it.
        admit_plain(&mut state, 4, 3);

        let (sent, report) = settle(&mut state, first, None);
        assert!(matches!(report.failure, Some((3, _))));
        let refused = report.unsynced;
        assert_eq!(
            refused, 2,
            "both tickets of the broken generation are refused"
        );
        assert_eq!(sent, [3]);
        // The second sync's success comes too late to count.
        let (sent, report) = settle(&mut state, second, Some(1));
        assert!(sent.is_empty() && report.failure.is_none());
        admit_append(&mut state, &mut journal, 3, 5);
        let again = state.next_sync();
        assert!(again.is_none(), "a broken generation is not synced again");
        let (sent, report) = release(&mut state, Report::default());
        assert!(sent.is_empty());
        assert_eq!(report.unsynced, 1);
        // The next generation goes on.
        admit_append(&mut state, &mut journal, 5, 6);
        let next = state.next_sync().unwrap();
        assert_eq!(settle(&mut state, next, Some(0)).0, [6]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
