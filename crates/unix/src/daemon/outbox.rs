//! Replies on their way out: encoded into one buffer per batch, and sent with as few system
//! calls as the sockets allow.

use std::io;
use std::net::{SocketAddrV4, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;

use charrua_wire::EmitError;
use tracing::{debug, warn};

use crate::sys::{self, FrameBatch, Mmsg, PacketSocket};

/// Where one reply goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// A UDP datagram (the bytes are a DHCP message).
    Datagram(SocketAddrV4),
    /// An Ethernet frame (to the destination in its header) on the packet socket of the
    /// link with this index among the daemon's links.
    Frame(usize),
}

/// Encoded replies, back to back in one buffer.
#[derive(Debug, Default)]
pub(crate) struct Replies {
    bytes: Vec<u8>,
    /// Each reply's end in `bytes` and its target.
    items: Vec<(usize, Target)>,
}

impl Replies {
    /// Number of replies held.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// True when no reply is held.
    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Empties the buffer, keeping its memory for the next batch.
    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
        self.items.clear();
    }

    /// Adds a reply of at most `len` bytes, written by `encode` (which returns the length it
    /// wrote). On an error nothing is added.
    pub(crate) fn push(
        &mut self,
        target: Target,
        len: usize,
        encode: impl FnOnce(&mut [u8]) -> Result<usize, EmitError>,
    ) -> Result<(), EmitError> {
        let start = self.bytes.len();
        self.bytes.resize(start + len, 0);
        match encode(&mut self.bytes[start..]) {
            Ok(written) => {
                self.bytes.truncate(start + written.min(len));
                self.items.push((self.bytes.len(), target));
                Ok(())
            }
            Err(e) => {
                self.bytes.truncate(start);
                Err(e)
            }
        }
    }

    /// The replies in order, with their bytes.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], Target)> {
        let starts = std::iter::once(0).chain(self.items.iter().map(|&(end, _)| end));
        starts
            .zip(&self.items)
            .map(|(start, &(end, target))| (&self.bytes[start..end], target))
    }
}

/// The sockets replies leave through, with the buffers to batch them.
pub(crate) struct Sender {
    udp: Option<UdpSocket>,
    links: Vec<(String, Arc<PacketSocket>)>,
    batch: Mmsg,
    frames: FrameBatch,
    /// False once the UDP socket's path has refused a segmented send.
    segmenting: bool,
}

/// How sending went.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sent {
    /// Replies handed to the kernel.
    pub(crate) sent: usize,
    /// Replies that could not be sent.
    pub(crate) failed: usize,
}

/// Datagrams per `sendmmsg` call.
const BATCH: usize = 64;

impl Sender {
    /// A sender over the UDP socket (if any) and the links' packet sockets, named for
    /// messages.
    pub(crate) fn new(udp: Option<UdpSocket>, links: Vec<(String, Arc<PacketSocket>)>) -> Self {
        Sender {
            udp,
            links,
            batch: Mmsg::new(BATCH),
            frames: FrameBatch::new(BATCH),
            segmenting: true,
        }
    }

    /// Sends every reply of every buffer given, in order and in batches: datagrams
    /// together, and frames together while they go out on the same link.
    pub(crate) fn send<'a>(&mut self, all: impl IntoIterator<Item = &'a Replies>) -> Sent {
        let mut result = Sent::default();
        let mut queued = 0;
        let (mut frames, mut frame_link) = (0, 0);
        for (bytes, target) in all.into_iter().flat_map(Replies::iter) {
            match target {
                Target::Frame(link) => {
                    if frames > 0 && (link != frame_link || frames == self.frames.capacity()) {
                        self.flush_frames(frame_link, frames, &mut result);
                        frames = 0;
                    }
                    frame_link = link;
                    let len = bytes.len().min(sys::DATAGRAM);
                    self.frames.buffer(frames)[..len].copy_from_slice(&bytes[..len]);
                    self.frames.set(frames, len);
                    frames += 1;
                }
                Target::Datagram(to) => {
                    let len = bytes.len().min(sys::DATAGRAM);
                    self.batch.buffer(queued)[..len].copy_from_slice(&bytes[..len]);
                    self.batch.set(queued, len, to);
                    queued += 1;
                    if queued == self.batch.capacity() {
                        self.flush(queued, &mut result);
                        queued = 0;
                    }
                }
            }
        }
        self.flush(queued, &mut result);
        self.flush_frames(frame_link, frames, &mut result);
        result
    }

    /// Sends the first `count` frames of the frame batch on link `link`, waiting briefly
    /// when the socket buffer is full.
    fn flush_frames(&mut self, link: usize, count: usize, result: &mut Sent) {
        if count == 0 {
            return;
        }
        let Some((name, socket)) = self.links.get(link) else {
            result.failed += count;
            return;
        };
        let frames = &mut self.frames;
        let sent = send_all(socket.as_raw_fd(), count, name, |from| {
            frames.send(socket, from, count)
        });
        result.sent += sent;
        result.failed += count - sent;
    }

    /// Sends the first `count` datagrams of the batch, waiting briefly when the socket
    /// buffer is full. Replies to one relay agent are often all of one length: each run of
    /// those leaves as one segmented send (`UDP_SEGMENT`), which the kernel carries as one
    /// buffer down its stack; the rest leave together with `sendmmsg`.
    fn flush(&mut self, count: usize, result: &mut Sent) {
        if count == 0 {
            return;
        }
        let Some(socket) = &self.udp else {
            result.failed += count;
            return;
        };
        let batch = &mut self.batch;
        let mut start = 0;
        while start < count {
            let (run_end, to) = batch.segment_run(start, count);
            if self.segmenting && run_end - start > 1 {
                match batch.send_segmented(socket, start, run_end, to) {
                    Ok(n) if n > 0 => {
                        result.sent += n;
                        start = run_end;
                        continue;
                    }
                    // A full buffer: the run goes the plain way, which waits for room.
                    Ok(_) => {}
                    Err(e) => {
                        debug!("segmented sends refused on UDP ({e}); sending one by one");
                        self.segmenting = false;
                    }
                }
            }
            // The plain way: this run, and the single replies after it.
            let mut end = if self.segmenting { run_end } else { count };
            while end < count {
                let (next_end, _) = batch.segment_run(end, count);
                if next_end - end > 1 {
                    break;
                }
                end = next_end;
            }
            let plain = end - start;
            let sent = send_all(socket.as_raw_fd(), plain, "UDP", |from| {
                batch.send(socket, start + from, end)
            });
            result.sent += sent;
            result.failed += plain - sent;
            start = end;
        }
    }
}

/// Sends `count` queued messages with `send`, which sends from the given one on and says
/// how many went, waiting briefly on `fd` while its buffer is full; gives up after a few
/// waits. Returns how many went; a failure is logged with the socket's `name`.
fn send_all(
    fd: RawFd,
    count: usize,
    name: &str,
    mut send: impl FnMut(usize) -> io::Result<usize>,
) -> usize {
    let mut sent = 0;
    let mut stalls = 0;
    while sent < count {
        match send(sent) {
            Ok(n) if n > 0 => sent += n,
            outcome => {
                stalls += 1;
                let writable = matches!(sys::wait_writable(fd, 10), Ok(true));
                if stalls > 3 || !writable {
                    if let Err(e) = outcome {
                        warn!("cannot send replies on {name}: {e}");
                    }
                    break;
                }
            }
        }
    }
    sent
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn to(port: u16) -> Target {
        Target::Datagram(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
    }

    #[test]
    fn keeps_each_reply_with_its_own_bytes_and_target() {
        let mut replies = Replies::default();
        replies
            .push(to(1), 8, |buf| {
                buf[..3].copy_from_slice(b"abc");
                Ok(3)
            })
            .unwrap();
        let failed = replies.push(to(2), 4, |_| {
            Err(EmitError::BufferTooSmall {
                needed: 9,
                available: 4,
            })
        });
        assert!(failed.is_err());
        replies
            .push(to(3), 2, |buf| {
                buf.copy_from_slice(b"de");
                Ok(2)
            })
            .unwrap();
        let got: Vec<(&[u8], Target)> = replies.iter().collect();
        assert_eq!(got, vec![(&b"abc"[..], to(1)), (&b"de"[..], to(3))]);
        replies.clear();
        assert!(replies.is_empty());
        assert_eq!(replies.iter().count(), 0);
    }

    #[test]
    fn sends_datagrams_in_batches_larger_than_one_call() {
        let server = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let receiver = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let std::net::SocketAddr::V4(address) = receiver.local_addr().unwrap() else {
            panic!("IPv4 socket with an IPv6 address");
        };
        receiver
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let mut replies = Replies::default();
        let count = BATCH * 2 + 5;
        for i in 0..count {
            let tag = u16::try_from(i).unwrap().to_be_bytes();
            replies
                .push(Target::Datagram(address), 2, |buf| {
                    buf.copy_from_slice(&tag);
                    Ok(2)
                })
                .unwrap();
        }
        let mut sender = Sender::new(Some(server), Vec::new());
        let result = sender.send([&replies]);
        assert_eq!(
            result,
            Sent {
                sent: count,
                failed: 0
            }
        );
        let mut buf = [0u8; 16];
        for i in 0..count {
            let n = receiver.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], &u16::try_from(i).unwrap().to_be_bytes());
        }
    }

    #[test]
    fn sends_runs_of_one_length_to_one_relay_whole_and_in_order() {
        let receivers: Vec<UdpSocket> = (0..2)
            .map(|_| {
                let r = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
                r.set_read_timeout(Some(std::time::Duration::from_secs(5)))
                    .unwrap();
                r
            })
            .collect();
        let address = |r: &UdpSocket| match r.local_addr().unwrap() {
            std::net::SocketAddr::V4(a) => a,
            std::net::SocketAddr::V6(_) => panic!("IPv4 socket with an IPv6 address"),
        };
        let (a, b) = (address(&receivers[0]), address(&receivers[1]));
        // Runs that segment (70 of one length to `a`, crossing a batch's end; a shorter one
        // closing a run), replies that break runs (another relay, a longer reply), and
        // singles.
        let mut plan: Vec<(SocketAddrV4, usize)> = vec![(a, 300); 70];
        plan.extend([(a, 120), (a, 300), (b, 300), (b, 300), (a, 400), (a, 300)]);
        plan.extend([(b, 50), (a, 50), (b, 50), (b, 60), (b, 60)]);
        let mut replies = Replies::default();
        for (n, &(to, len)) in plan.iter().enumerate() {
            let tag = u16::try_from(n).unwrap().to_be_bytes();
            replies
                .push(Target::Datagram(to), len, |buf| {
                    buf[..2].copy_from_slice(&tag);
                    Ok(len)
                })
                .unwrap();
        }
        let server = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let mut sender = Sender::new(Some(server), Vec::new());
        let result = sender.send([&replies]);
        assert_eq!(
            result,
            Sent {
                sent: plan.len(),
                failed: 0
            }
        );
        // Loopback takes segmented sends (Linux 4.18 and later).
        assert!(sender.segmenting);
        let mut buf = [0u8; 2048];
        for (receiver, to) in receivers.iter().zip([a, b]) {
            for (n, &(_, len)) in plan.iter().enumerate().filter(|(_, p)| p.0 == to) {
                let got = receiver.recv(&mut buf).unwrap();
                assert_eq!(got, len, "reply {n}");
                assert_eq!(
                    buf[..2],
                    u16::try_from(n).unwrap().to_be_bytes(),
                    "reply {n}"
                );
            }
        }
    }

    #[test]
    fn counts_frames_for_an_unknown_link_as_failed() {
        let mut replies = Replies::default();
        replies.push(Target::Frame(3), 1, |_| Ok(1)).unwrap();
        let mut sender = Sender::new(None, Vec::new());
        assert_eq!(sender.send([&replies]), Sent { sent: 0, failed: 1 });
    }
}
