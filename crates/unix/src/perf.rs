//! `charrua perf`: a DHCP load generator.
//!
//! It simulates N clients, each with its own hardware address, and runs DORA exchanges
//! (optionally a renewal and a release) at a fixed rate or as fast as the server answers
//! with a bounded number in flight. It speaks in one of two ways:
//!
//! - as a relay agent over UDP: every message carries `giaddr`, so it works over loopback
//!   or any routed path without packet sockets;
//! - as the clients themselves on an interface (`--interface`, root only): broadcast
//!   Ethernet frames from each client's own MAC address with `giaddr` 0.0.0.0 and the
//!   broadcast flag, answers read from a packet socket, and renewals and releases unicast
//!   from the leased address to the server's.
//!
//! Messages are patched into templates built once (module `packets`), sent and received in
//! batches of one system call each (`recvmmsg`, and `sendmmsg` or, over UDP, one segmented
//! `sendmsg`), and latencies go into a fixed histogram (module `stats`): nothing is
//! allocated per packet.
//!
//! Each exchange's xid names its client and, with up to 2^24 clients, how many exchanges
//! that client has started: when clients run more than one exchange each, a late answer
//! to an earlier one is counted as unexpected, not taken for an answer to the current one.

mod packets;
mod stats;

use std::collections::VecDeque;
use std::io::{self, IsTerminal, Write as _};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use charrua_wire::{DhcpOption, MessageType, OptionCode};

use crate::sys::{self, FrameBatch, Mmsg, PacketSocket};
use packets::{Addressing, Answer, Fields, Framing, Template};
use stats::{Latencies, Summary, Tally};

/// Arguments of `charrua perf`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The server's address and port.
    #[arg(long, default_value = "127.0.0.1:67")]
    server: SocketAddrV4,
    /// The local address to send from; port 0 picks one. Servers that answer relays on
    /// port 67 need `ADDRESS:67` (and root).
    #[arg(long, default_value = "127.0.0.1:0")]
    bind: SocketAddrV4,
    /// The relay address put in `giaddr` [default: the bind address].
    #[arg(long)]
    giaddr: Option<Ipv4Addr>,
    /// Act as the clients themselves on this interface, in broadcast Ethernet frames from
    /// each client's own MAC address, rather than as a relay over UDP (needs root). The
    /// interface is in promiscuous mode while this runs, so that answers sent to the
    /// clients' MAC addresses are seen.
    #[arg(long, short = 'i', value_name = "IFACE", conflicts_with_all = ["bind", "giaddr"])]
    interface: Option<String>,
    /// Distinct clients to simulate.
    #[arg(long, short = 'R', default_value_t = 1000)]
    clients: u32,
    /// Exchanges to run [default: one per client].
    #[arg(long, short = 'n')]
    exchanges: Option<u64>,
    /// Exchanges started per second [default: as fast as answers come back].
    #[arg(long, short = 'r')]
    rate: Option<u64>,
    /// Exchanges in flight at most.
    #[arg(long, default_value_t = 256)]
    inflight: usize,
    /// Seconds to run at most.
    #[arg(long, short = 'p')]
    duration: Option<f64>,
    /// Milliseconds without an answer before a message counts as dropped.
    #[arg(long, default_value_t = 1000)]
    timeout: u64,
    /// Renew each lease once after its DHCPACK.
    #[arg(long)]
    renew: bool,
    /// Release each lease at the end of its exchange.
    #[arg(long)]
    release: bool,
    /// Print the summary as one JSON object.
    #[arg(long)]
    json: bool,
    /// Seed for the clients' hardware addresses and transaction ids.
    #[arg(long, default_value_t = 1)]
    seed: u32,
}

/// Where one client's exchange stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Stage {
    Idle,
    Discover,
    Request,
    Renew,
}

#[derive(Clone, Copy)]
struct Exchange {
    stage: Stage,
    /// Bumped at every stage change, so stale timeouts are recognised.
    generation: u32,
    started: Instant,
    /// When the REQUEST was queued.
    asked: Instant,
    /// How many exchanges the client has started, modulo 256: part of the xid where the
    /// client numbers leave room, so that a late answer to an earlier exchange is not taken
    /// for one to the current exchange.
    round: u8,
    address: Ipv4Addr,
    server: Ipv4Addr,
    /// The server's MAC address, for unicast frames.
    server_mac: [u8; 6],
}

/// Clients the xid has room for next to a round number.
const ROUND_CLIENTS: u32 = 1 << 24;

/// The xid of `client`'s exchange of `round`, among `clients`: the client's number, with
/// the round in the top byte when there are at most [`ROUND_CLIENTS`], masked by `salt`.
fn xid_of(client: u32, round: u8, clients: u32, salt: u32) -> u32 {
    let round = if clients <= ROUND_CLIENTS {
        u32::from(round) << 24
    } else {
        0
    };
    (client | round) ^ salt
}

/// The client and, where the xid has one, the round that [`xid_of`] put in `xid`.
fn client_of(xid: u32, clients: u32, salt: u32) -> (u32, Option<u8>) {
    let raw = xid ^ salt;
    if clients <= ROUND_CLIENTS {
        (raw & (ROUND_CLIENTS - 1), Some(raw.to_be_bytes()[0]))
    } else {
        (raw, None)
    }
}

/// Messages in a batch: one send or receive call moves up to this many.
const BATCH: usize = sys::MAX_SEGMENTS;

/// The socket messages leave by and answers come back on, with its batches.
enum Link {
    /// A UDP socket, as a relay agent.
    Udp {
        socket: UdpSocket,
        server: SocketAddrV4,
        out: Mmsg,
        inbox: Mmsg,
        /// Whether sends go as one segmented datagram (UDP GSO): true until the path
        /// refuses one.
        segmented: bool,
    },
    /// A packet socket on an interface, as the clients.
    Frames {
        socket: PacketSocket,
        out: FrameBatch,
        inbox: FrameBatch,
    },
}

impl Link {
    fn fd(&self) -> RawFd {
        match self {
            Link::Udp { socket, .. } => socket.as_raw_fd(),
            Link::Frames { socket, .. } => socket.as_raw_fd(),
        }
    }

    /// Messages one send or receive moves at most.
    fn capacity(&self) -> usize {
        match self {
            Link::Udp { out, .. } => out.capacity(),
            Link::Frames { out, .. } => out.capacity(),
        }
    }

    /// The buffer of outgoing slot `i`.
    fn slot(&mut self, i: usize) -> &mut [u8] {
        match self {
            Link::Udp { out, .. } => out.buffer(i),
            Link::Frames { out, .. } => out.buffer(i),
        }
    }

    /// Sets outgoing slot `i` to send its first `len` bytes.
    fn set(&mut self, i: usize, len: usize) {
        match self {
            Link::Udp { out, server, .. } => out.set(i, len, *server),
            Link::Frames { out, .. } => out.set(i, len),
        }
    }

    /// Sends outgoing slots `start..end`; returns how many went.
    fn send(&mut self, start: usize, end: usize) -> io::Result<usize> {
        match self {
            Link::Udp {
                socket,
                out,
                server,
                segmented,
                ..
            } => {
                // Every template has the same length, so a batch is one segmented send;
                // where the path cannot segment, one sendmmsg carries it.
                if *segmented {
                    match out.send_segmented(socket, start, end, *server) {
                        Ok(n) => return Ok(n),
                        Err(e) if e.kind() == io::ErrorKind::InvalidInput => {}
                        Err(_) => *segmented = false,
                    }
                }
                out.send(socket, start, end)
            }
            Link::Frames { socket, out, .. } => out.send(socket, start, end),
        }
    }

    /// Receives what is waiting, up to the capacity; returns how many came.
    fn recv(&mut self) -> io::Result<usize> {
        match self {
            Link::Udp { socket, inbox, .. } => inbox.recv(socket),
            Link::Frames { socket, inbox, .. } => inbox.recv(socket),
        }
    }

    /// Received message `i`: a UDP payload or a whole frame; `None` for a frame this host
    /// sent.
    fn received(&self, i: usize) -> Option<&[u8]> {
        match self {
            Link::Udp { inbox, .. } => Some(inbox.received(i).0),
            Link::Frames { inbox, .. } => inbox.received(i),
        }
    }
}

/// The four kinds of message a client sends.
struct Templates {
    discover: Template,
    request: Template,
    renew: Template,
    release: Template,
}

impl Templates {
    fn new(framing: Framing) -> Templates {
        let zero = Ipv4Addr::UNSPECIFIED;
        let prl = DhcpOption::ParameterRequestList([1, 3, 6, 15, 51, 54].map(OptionCode).to_vec());
        let len = charrua_wire::BOOTP_MIN_LEN;
        let (broadcast, unicast) = (Addressing::Broadcast, Addressing::Unicast);
        Templates {
            discover: Template::new(
                MessageType::DISCOVER,
                framing,
                broadcast,
                std::slice::from_ref(&prl),
                len,
            ),
            request: Template::new(
                MessageType::REQUEST,
                framing,
                broadcast,
                &[
                    DhcpOption::RequestedAddress(zero),
                    DhcpOption::ServerIdentifier(zero),
                    prl.clone(),
                ],
                len,
            ),
            renew: Template::new(MessageType::REQUEST, framing, unicast, &[prl], len),
            release: Template::new(
                MessageType::RELEASE,
                framing,
                unicast,
                &[DhcpOption::ServerIdentifier(zero)],
                len,
            ),
        }
    }
}

struct Run<'a> {
    args: &'a Args,
    link: Link,
    framing: Framing,
    /// Where answers without a server identifier are taken to come from.
    server: Ipv4Addr,
    table: Vec<Exchange>,
    timeouts: VecDeque<(Instant, u32, u32)>,
    salt: u32,
    templates: Templates,
    queued: usize,
    tally: Tally,
    latency: Latencies,
    inflight: usize,
}

/// Runs `charrua perf`.
pub fn run(args: &Args) -> ExitCode {
    match execute(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("charrua perf: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Opens the relay's UDP socket.
fn relay_link(args: &Args) -> io::Result<(Link, Framing)> {
    let socket = UdpSocket::bind(args.bind)?;
    socket.set_nonblocking(true)?;
    sys::enlarge_buffers(&socket, 8 << 20);
    let local = match socket.local_addr()? {
        std::net::SocketAddr::V4(a) => a,
        std::net::SocketAddr::V6(_) => return Err(io::Error::other("bound to IPv6")),
    };
    let giaddr = args.giaddr.unwrap_or(*local.ip());
    if giaddr.is_unspecified() {
        return Err(io::Error::other(
            "a relay address is needed: give --bind ADDR or --giaddr",
        ));
    }
    let link = Link::Udp {
        socket,
        server: args.server,
        out: Mmsg::new(BATCH),
        inbox: Mmsg::new(BATCH),
        segmented: true,
    };
    Ok((link, Framing::Relay { giaddr }))
}

/// Opens a packet socket on `interface`.
fn frame_link(interface: &str) -> io::Result<(Link, Framing)> {
    let (index, _) = sys::interface_link(interface)?;
    let socket = PacketSocket::open_promiscuous_client(index).map_err(|e| {
        let hint = if e.kind() == io::ErrorKind::PermissionDenied {
            " (frames need root)"
        } else {
            ""
        };
        io::Error::new(
            e.kind(),
            format!("cannot open a packet socket on {interface}: {e}{hint}"),
        )
    })?;
    sys::enlarge_buffers(&socket, 8 << 20);
    let link = Link::Frames {
        socket,
        out: FrameBatch::new(BATCH),
        inbox: FrameBatch::new(BATCH),
    };
    Ok((link, Framing::Ethernet))
}

fn execute(args: &Args) -> io::Result<ExitCode> {
    if args.clients == 0 {
        return Err(io::Error::other("--clients must be at least 1"));
    }
    let (link, framing) = match &args.interface {
        Some(interface) => frame_link(interface)?,
        None => relay_link(args)?,
    };
    let zero = Ipv4Addr::UNSPECIFIED;
    let idle = Exchange {
        stage: Stage::Idle,
        generation: 0,
        started: Instant::now(),
        asked: Instant::now(),
        round: 0,
        address: zero,
        server: zero,
        server_mac: [0; 6],
    };
    let clients = usize::try_from(args.clients).unwrap_or(usize::MAX);
    let mut run = Run {
        args,
        link,
        framing,
        server: *args.server.ip(),
        table: vec![idle; clients],
        timeouts: VecDeque::with_capacity(args.inflight * 2),
        salt: args.seed.wrapping_mul(0x9e37_79b9),
        templates: Templates::new(framing),
        queued: 0,
        tally: Tally::default(),
        latency: Latencies::new(),
        inflight: 0,
    };
    let started = Instant::now();
    let (user_before, system_before) = sys::cpu_times();
    run.drive()?;
    let elapsed = started.elapsed();
    let (user, system) = sys::cpu_times();
    let summary = Summary {
        mode: match framing {
            Framing::Relay { .. } => "udp",
            Framing::Ethernet => "frames",
        },
        clients: args.clients,
        renew: args.renew,
        release: args.release,
        tally: &run.tally,
        latency: &run.latency,
        elapsed,
        user: user.saturating_sub(user_before),
        system: system.saturating_sub(system_before),
    };
    if args.json {
        println!("{}", summary.json());
    } else {
        println!("{}", summary.text());
    }
    Ok(ExitCode::SUCCESS)
}

impl Run<'_> {
    fn mac(&self, client: u32) -> [u8; 6] {
        let c = client.to_be_bytes();
        [
            0x02,
            self.args.seed.to_be_bytes()[3],
            c[0],
            c[1],
            c[2],
            c[3],
        ]
    }

    /// The xid of `client`'s current exchange: its number, with the exchange's round in
    /// the top byte when there are at most 2^24 clients.
    fn xid(&self, client: u32) -> u32 {
        let round = self.table[client as usize].round;
        xid_of(client, round, self.args.clients, self.salt)
    }

    /// The client and round an xid names.
    fn client_of(&self, xid: u32) -> (u32, Option<u8>) {
        client_of(xid, self.args.clients, self.salt)
    }

    fn total(&self) -> u64 {
        self.args.exchanges.unwrap_or(u64::from(self.args.clients))
    }

    fn drive(&mut self) -> io::Result<()> {
        let start = Instant::now();
        let deadline = self
            .args
            .duration
            .map(|s| start + Duration::from_secs_f64(s.max(0.0)));
        let timeout = Duration::from_millis(self.args.timeout);
        let mut next_client: u64 = 0;
        let mut last_progress = start;
        let progress = io::stderr().is_terminal() && !self.args.json;
        loop {
            let now = Instant::now();
            self.expire(now);
            let stopping = deadline.is_some_and(|d| now >= d);
            if !stopping {
                let allowed = match self.args.rate {
                    Some(rate) => {
                        let nanos = now.duration_since(start).as_nanos() * u128::from(rate);
                        u64::try_from(nanos / 1_000_000_000)
                            .unwrap_or(u64::MAX)
                            .saturating_add(1)
                    }
                    None => u64::MAX,
                };
                while self.tally.started < self.total()
                    && self.tally.started < allowed
                    && self.inflight < self.args.inflight
                {
                    let client =
                        u32::try_from(next_client % u64::from(self.args.clients)).unwrap_or(0);
                    if self.table[client as usize].stage != Stage::Idle {
                        break;
                    }
                    next_client += 1;
                    self.start(client, now, timeout);
                }
            }
            self.flush();
            let finished = self.tally.started >= self.total() || stopping;
            if finished && self.inflight == 0 {
                break;
            }
            if stopping && deadline.is_some_and(|d| now >= d + timeout) {
                break;
            }

            let wait = match self.args.rate {
                Some(_) if !finished => 1,
                _ => 10,
            };
            if sys::wait_readable_one(self.link.fd(), wait)? {
                self.receive(timeout)?;
            }
            if progress && now.duration_since(last_progress) >= Duration::from_millis(250) {
                last_progress = now;
                self.progress(start.elapsed());
            }
        }
        if progress {
            eprint!("\r\x1b[K");
        }
        Ok(())
    }

    fn progress(&self, elapsed: Duration) {
        let total = self.total().max(1);
        let done = self.tally.acks.min(total);
        let width = 30u64;
        let filled = usize::try_from(done * width / total).unwrap_or(0);
        let bar: String = "#".repeat(filled) + &".".repeat(30 - filled.min(30));
        let rate = done as f64 / elapsed.as_secs_f64().max(1e-9);
        let drops = self.tally.dropped_discover + self.tally.dropped_request;
        eprint!("\r[{bar}] {done}/{total} exchanges, {rate:.0}/s, {drops} dropped");
        let _ = io::stderr().flush();
    }

    /// Reads every waiting answer, a batch at a time, and queues what they call for; the
    /// queue leaves with the exchanges the loop starts next, in one send.
    fn receive(&mut self, timeout: Duration) -> io::Result<()> {
        loop {
            let got = self.link.recv()?;
            self.tally.receive_calls += 1;
            let now = Instant::now();
            for i in 0..got {
                let answer = match self.link.received(i) {
                    Some(bytes) => packets::read_answer(bytes, self.framing),
                    None => continue,
                };
                match answer {
                    Some(answer) => self.answer(&answer, now, timeout),
                    None => self.tally.unexpected += 1,
                }
            }
            if got < self.link.capacity() {
                return Ok(());
            }
        }
    }

    /// Queues the message of `kind` (a release for [`Stage::Idle`]) for `client`.
    fn enqueue(&mut self, kind: Stage, client: u32) {
        if self.queued == self.link.capacity() {
            self.flush();
        }
        let exchange = self.table[client as usize];
        let fields = Fields {
            xid: self.xid(client),
            mac: self.mac(client),
            address: exchange.address,
            server: exchange.server,
            server_mac: exchange.server_mac,
        };
        let template = match kind {
            Stage::Discover => &self.templates.discover,
            Stage::Request => &self.templates.request,
            Stage::Renew => &self.templates.renew,
            Stage::Idle => &self.templates.release,
        };
        let slot = self.queued;
        let len = template.write(self.link.slot(slot), &fields);
        self.link.set(slot, len);
        self.queued += 1;
    }

    /// Sends the queued messages, waiting briefly when the socket buffer is full; what still
    /// cannot go counts as a send error (and times out as a drop).
    fn flush(&mut self) {
        let mut sent = 0;
        let mut stalls = 0;
        while sent < self.queued {
            self.tally.send_calls += 1;
            match self.link.send(sent, self.queued) {
                Ok(0) | Err(_) => {
                    stalls += 1;
                    let writable = sys::wait_writable(self.link.fd(), 10);
                    if stalls > 10 || !matches!(writable, Ok(true)) {
                        let lost = self.queued - sent;
                        self.tally.send_errors += u64::try_from(lost).unwrap_or(u64::MAX);
                        break;
                    }
                }
                Ok(n) => sent += n,
            }
        }
        self.queued = 0;
    }

    fn set_stage(&mut self, client: u32, stage: Stage, now: Instant, timeout: Duration) {
        let exchange = &mut self.table[client as usize];
        exchange.stage = stage;
        exchange.generation = exchange.generation.wrapping_add(1);
        if stage != Stage::Idle {
            self.timeouts
                .push_back((now + timeout, client, exchange.generation));
        }
    }

    fn start(&mut self, client: u32, now: Instant, timeout: Duration) {
        self.tally.started += 1;
        self.tally.discovers += 1;
        self.inflight += 1;
        let exchange = &mut self.table[client as usize];
        exchange.started = now;
        exchange.round = exchange.round.wrapping_add(1);
        self.set_stage(client, Stage::Discover, now, timeout);
        self.enqueue(Stage::Discover, client);
    }

    fn finish(&mut self, client: u32, now: Instant, timeout: Duration) {
        if self.args.release {
            self.tally.releases += 1;
            self.enqueue(Stage::Idle, client);
        }
        self.set_stage(client, Stage::Idle, now, timeout);
        self.inflight = self.inflight.saturating_sub(1);
    }

    /// Counts as dropped every message whose answer is overdue.
    fn expire(&mut self, now: Instant) {
        while let Some(&(deadline, client, generation)) = self.timeouts.front() {
            if deadline > now {
                break;
            }
            self.timeouts.pop_front();
            let exchange = self.table[client as usize];
            if exchange.generation != generation || exchange.stage == Stage::Idle {
                continue;
            }
            match exchange.stage {
                Stage::Discover => self.tally.dropped_discover += 1,
                Stage::Request => self.tally.dropped_request += 1,
                Stage::Renew => self.tally.dropped_renew += 1,
                Stage::Idle => {}
            }
            let exchange = &mut self.table[client as usize];
            exchange.stage = Stage::Idle;
            exchange.generation = exchange.generation.wrapping_add(1);
            self.inflight = self.inflight.saturating_sub(1);
        }
    }

    /// Moves `answer`'s client to its next stage, if the answer is for it.
    fn answer(&mut self, answer: &Answer, now: Instant, timeout: Duration) {
        let (client, round) = self.client_of(answer.xid);
        let Some(exchange) = self.table.get(client as usize).copied() else {
            self.tally.unexpected += 1;
            return;
        };
        if answer.chaddr != Some(self.mac(client)) || round.is_some_and(|r| r != exchange.round) {
            self.tally.unexpected += 1;
            return;
        }
        match (exchange.stage, answer.kind) {
            (Stage::Discover, Some(MessageType::OFFER)) => {
                self.tally.offers += 1;
                self.tally.requests += 1;
                let e = &mut self.table[client as usize];
                e.address = answer.yiaddr;
                e.server = answer.server.unwrap_or(self.server);
                e.server_mac = answer.server_mac;
                e.asked = now;
                self.latency
                    .offer
                    .record(now.duration_since(exchange.started));
                self.set_stage(client, Stage::Request, now, timeout);
                self.enqueue(Stage::Request, client);
            }
            (Stage::Request, Some(MessageType::ACK)) => {
                self.tally.acks += 1;
                self.latency
                    .dora
                    .record(now.duration_since(exchange.started));
                self.latency.ack.record(now.duration_since(exchange.asked));
                if self.args.renew {
                    self.tally.renews += 1;
                    self.set_stage(client, Stage::Renew, now, timeout);
                    self.enqueue(Stage::Renew, client);
                } else {
                    self.finish(client, now, timeout);
                }
            }
            (Stage::Renew, Some(MessageType::ACK)) => {
                self.tally.renew_acks += 1;
                self.finish(client, now, timeout);
            }
            (Stage::Request | Stage::Renew, Some(MessageType::NAK)) => {
                self.tally.naks += 1;
                self.set_stage(client, Stage::Idle, now, timeout);
                self.inflight = self.inflight.saturating_sub(1);
            }
            _ => self.tally.unexpected += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_xid_names_its_client_and_round() {
        let salt = 0x9e37_79b9;
        for (client, round, clients) in [(0, 0, 1), (7, 200, 1000), ((1 << 24) - 1, 255, 1 << 24)] {
            let xid = xid_of(client, round, clients, salt);
            assert_eq!(client_of(xid, clients, salt), (client, Some(round)));
            // The same client's next exchange has another xid.
            assert_ne!(xid_of(client, round.wrapping_add(1), clients, salt), xid);
        }
        // Past 2^24 clients the whole xid is the client's number, with no round.
        let many = (1 << 24) + 1;
        let xid = xid_of(1 << 24, 9, many, salt);
        assert_eq!(client_of(xid, many, salt), (1 << 24, None));
    }
}
