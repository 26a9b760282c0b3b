//! The syncer: a thread that makes appended journal records durable and only then sends the
//! replies that promise them.
//!
//! The event loop appends each batch's lease records to the journal (one `write`, no wait)
//! and hands the syncer a [`Ticket`]: the pending sync and the batch's replies. While the
//! syncer waits in `fdatasync`, the loop goes on receiving and answering; the tickets that
//! queue up meanwhile share the next sync. A reply therefore waits for at most two syncs,
//! and the loop never waits for the disk.
//!
//! Tickets are handled in order. A sync covers every write made to its file before it, so
//! for a run of tickets on the same file only the last one's sync is needed. After a failed
//! sync the kernel may have dropped the unwritten pages, so a later sync of the same file
//! proves nothing: every later ticket of that journal generation is refused, until the
//! loop has rewritten the journal from memory (a compaction, which starts a new
//! generation).

use std::sync::mpsc::{self, Receiver, SyncSender, TryIter};
use std::thread::JoinHandle;

use charrua_store::{PendingSync, StoreError};
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
    tickets: Option<SyncSender<Ticket>>,
    reports: Receiver<Report>,
    thread: Option<JoinHandle<()>>,
}

impl Syncer {
    /// Starts the thread, which sends through `sender`.
    pub(crate) fn spawn(sender: Sender) -> std::io::Result<Syncer> {
        let (tickets, queue) = mpsc::sync_channel(QUEUE);
        let (report, reports) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("syncer".into())
            .spawn(move || run(&queue, &report, sender))?;
        Ok(Syncer {
            tickets: Some(tickets),
            reports,
            thread: Some(thread),
        })
    }

    /// Queues a ticket; waits when the syncer is `QUEUE` tickets behind. Gives the ticket
    /// back if the thread is gone.
    pub(crate) fn submit(&self, ticket: Ticket) -> Result<(), Ticket> {
        match &self.tickets {
            Some(tickets) => tickets.send(ticket).map_err(|e| e.0),
            None => Err(ticket),
        }
    }

    /// Reports ready now.
    pub(crate) fn reports(&self) -> TryIter<'_, Report> {
        self.reports.try_iter()
    }

    /// Lets the thread finish every queued ticket, waits for it, and returns the reports
    /// not yet read.
    pub(crate) fn finish(mut self) -> Vec<Report> {
        self.tickets = None;
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                error!("the syncer thread panicked");
            }
        }
        self.reports.try_iter().collect()
    }
}

/// Most tickets taken together under one sync.
const GROUP: usize = 64;

fn run(queue: &Receiver<Ticket>, report: &mpsc::Sender<Report>, mut sender: Sender) {
    let mut broken: Option<u64> = None;
    let mut group: Vec<Ticket> = Vec::with_capacity(GROUP);
    while let Ok(first) = queue.recv() {
        group.push(first);
        while group.len() < GROUP {
            match queue.try_recv() {
                Ok(ticket) => group.push(ticket),
                Err(_) => break,
            }
        }
        let mut outcome = Report::default();
        let durable = sync_group(&mut group, &mut broken, &mut outcome);
        // The group's durable replies leave together, in as few system calls as they fill.
        let ready = group.iter().zip(&durable).filter(|&(_, &ok)| ok);
        outcome.sent = sender.send(ready.map(|(ticket, _)| &ticket.replies));
        for (ticket, ok) in group.drain(..).zip(durable) {
            if !ok {
                outcome.unsynced += ticket.replies.len();
            }
            outcome.spare = ticket.replies;
        }
        outcome.spare.clear();
        if report.send(outcome).is_err() {
            return;
        }
    }
}

/// Syncs a group of tickets: for each run of one generation, the last pending sync. Returns
/// for each ticket whether its records (and all before them) are durable.
fn sync_group(group: &mut [Ticket], broken: &mut Option<u64>, outcome: &mut Report) -> Vec<bool> {
    let mut durable = vec![true; group.len()];
    let mut start = 0;
    while start < group.len() {
        let generation = group[start].generation;
        let end = group[start..]
            .iter()
            .position(|t| t.generation != generation)
            .map_or(group.len(), |n| start + n);
        if broken.is_some_and(|g| g >= generation) {
            durable[start..end].fill(false);
        } else if let Some(last) = group[start..end].iter().rposition(|t| t.pending.is_some()) {
            let pending = group[start + last].pending.take();
            if let Some(Err(e)) = pending.map(PendingSync::sync) {
                error!("cannot sync the lease journal: {e}; replies wait until it is rewritten");
                *broken = Some(generation);
                outcome.failure = Some((generation, e));
                durable[start..end].fill(false);
            }
        }
        start = end;
    }
    durable
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

    #[test]
    fn sends_every_batch_in_order_and_keeps_its_records() {
        let dir = directory("order");
        let mut journal = Journal::in_directory(&dir).unwrap();
        let (socket, address) = receiver();
        let sender = Sender::new(
            Some(UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap()),
            vec![],
        );
        let syncer = Syncer::spawn(sender).unwrap();
        for batch in 0..20u8 {
            let pending = journal.append(&[lease(batch + 1)]).unwrap();
            assert!(pending.is_some());
            let ticket = Ticket {
                pending,
                generation: 0,
                replies: replies(address, &[batch * 2, batch * 2 + 1]),
            };
            assert!(syncer.submit(ticket).is_ok());
        }
        let mut buf = [0u8; 4];
        for expected in 0..40u8 {
            let n = socket.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], &[expected]);
        }
        let reports = syncer.finish();
        let sent: usize = reports.iter().map(|r| r.sent.sent).sum();
        assert!(
            reports
                .iter()
                .all(|r| r.failure.is_none() && r.unsynced == 0)
        );
        // Reports read by `finish` are only those not yet read: all of them here.
        assert_eq!(sent, 40);
        let loaded = Journal::in_directory(&dir).unwrap().load().unwrap();
        assert_eq!(loaded.leases.len(), 20);
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn ticket(generation: u64) -> Ticket {
        Ticket {
            pending: None,
            generation,
            replies: Replies::default(),
        }
    }

    #[test]
    fn refuses_tickets_of_a_broken_generation_and_accepts_the_next() {
        let mut group = vec![ticket(3), ticket(3), ticket(4), ticket(5)];
        let mut broken = Some(4);
        let mut outcome = Report::default();
        let durable = sync_group(&mut group, &mut broken, &mut outcome);
        assert_eq!(durable, vec![false, false, false, true]);
        assert!(outcome.failure.is_none());
    }

    #[test]
    fn syncs_only_the_last_append_of_each_generation() {
        let dir = directory("runs");
        let mut journal = Journal::in_directory(&dir).unwrap();
        let mut group: Vec<Ticket> = (1..=3)
            .map(|n| Ticket {
                pending: journal.append(&[lease(n)]).unwrap(),
                generation: 7,
                replies: Replies::default(),
            })
            .collect();
        let mut broken = None;
        let mut outcome = Report::default();
        let durable = sync_group(&mut group, &mut broken, &mut outcome);
        assert_eq!(durable, vec![true; 3]);
        assert!(broken.is_none());
        // The last ticket's sync was used up; the earlier ones were covered by it.
        assert!(group[0].pending.is_some() && group[1].pending.is_some());
        assert!(group[2].pending.is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
