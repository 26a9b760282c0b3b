//! `charrua perf`: a DHCP load generator speaking relay-mode UDP.
//!
//! It acts as a relay agent for N simulated clients: every message carries `giaddr`, so it
//! works over loopback or any routed path without packet sockets. Exchanges run at a fixed
//! rate or as fast as the server answers with a bounded number in flight. Messages are
//! patched into templates built once, and sent and received in batches of one system call
//! each (`sendmmsg`, `recvmmsg`), so nothing is allocated per packet.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write as _};
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use charrua_wire::{
    DhcpOption, EmitOptions, Flags, HardwareAddress, Message, MessageType, MessageView, Op,
    OptionCode,
};

use crate::sys::{self, Mmsg};

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
    address: Ipv4Addr,
    server: Ipv4Addr,
}

/// A message with the offsets of the fields patched per client.
struct Template {
    bytes: Vec<u8>,
    requested: Option<usize>,
    server_id: Option<usize>,
}

const XID: usize = 4;
const CIADDR: usize = 12;
const CHADDR: usize = 28;

impl Template {
    fn new(kind: MessageType, giaddr: Ipv4Addr, extra: Vec<DhcpOption>) -> Template {
        let mut options = vec![DhcpOption::MessageType(kind)];
        options.extend(extra);
        let message = Message {
            op: Op::BOOTREQUEST,
            hops: 1,
            flags: Flags::default(),
            giaddr,
            chaddr: HardwareAddress::ethernet([2, 0, 0, 0, 0, 0]),
            options,
            ..Message::default()
        };
        let settings = EmitOptions {
            min_len: charrua_wire::BOOTP_MIN_LEN,
            ..EmitOptions::default()
        };
        // Only fixed-size options with no limit: emission cannot fail.
        let bytes = message.to_bytes(&settings).unwrap_or_default();
        let offset = |code: OptionCode| {
            MessageView::new(&bytes)
                .ok()?
                .raw_options()
                .flatten()
                .find(|o| o.code == code)
                .map(|o| o.offset + 2)
        };
        Template {
            requested: offset(OptionCode::REQUESTED_ADDRESS),
            server_id: offset(OptionCode::SERVER_IDENTIFIER),
            bytes,
        }
    }

    /// Writes the message for `client` into `out`; returns its length.
    fn write(&self, out: &mut [u8], xid: u32, mac: [u8; 6], exchange: &Exchange) -> usize {
        let len = self.bytes.len();
        out[..len].copy_from_slice(&self.bytes);
        out[XID..XID + 4].copy_from_slice(&xid.to_be_bytes());
        out[CHADDR..CHADDR + 6].copy_from_slice(&mac);
        if let Some(at) = self.requested {
            out[at..at + 4].copy_from_slice(&exchange.address.octets());
        }
        if let Some(at) = self.server_id {
            out[at..at + 4].copy_from_slice(&exchange.server.octets());
        }
        len
    }
}

/// Latencies in log-linear buckets: 16 per power of two of microseconds, about 6 % wide.
struct Histogram {
    buckets: Vec<u64>,
    count: u64,
    max: Duration,
}

impl Histogram {
    fn new() -> Histogram {
        Histogram {
            buckets: vec![0; 64 * 16],
            count: 0,
            max: Duration::ZERO,
        }
    }

    fn bucket(micros: u64) -> usize {
        if micros < 16 {
            return usize::try_from(micros).unwrap_or(0);
        }
        let exp = 63 - micros.leading_zeros(); // >= 4
        let mantissa = (micros >> (exp - 4)) & 15;
        usize::try_from(u64::from(exp - 3) * 16 + mantissa).unwrap_or(0)
    }

    fn upper(bucket: usize) -> u64 {
        let (exp, mantissa) = (bucket / 16, u64::try_from(bucket % 16).unwrap_or(0));
        if exp == 0 {
            return mantissa;
        }
        let shift = u32::try_from(exp - 1).unwrap_or(0);
        (16 + mantissa + 1) << shift
    }

    fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        let b = Self::bucket(micros).min(self.buckets.len() - 1);
        self.buckets[b] += 1;
        self.count += 1;
        self.max = self.max.max(latency);
    }

    /// The latency below which `fraction` of the samples lie, in microseconds.
    fn percentile(&self, fraction: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let wanted = (fraction * self.count as f64).ceil().max(1.0);
        let mut seen = 0u64;
        for (b, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen as f64 >= wanted {
                let max = u64::try_from(self.max.as_micros()).unwrap_or(u64::MAX);
                return Self::upper(b).min(max);
            }
        }
        u64::try_from(self.max.as_micros()).unwrap_or(u64::MAX)
    }
}

/// What a run counted.
#[derive(Default, Debug)]
struct Tally {
    started: u64,
    discovers: u64,
    offers: u64,
    requests: u64,
    acks: u64,
    naks: u64,
    renews: u64,
    renew_acks: u64,
    releases: u64,
    dropped_discover: u64,
    dropped_request: u64,
    dropped_renew: u64,
    unexpected: u64,
    send_errors: u64,
}

struct Run<'a> {
    args: &'a Args,
    socket: UdpSocket,
    table: Vec<Exchange>,
    timeouts: VecDeque<(Instant, u32, u32)>,
    salt: u32,
    discover: Template,
    request: Template,
    renew: Template,
    release: Template,
    out: Mmsg,
    queued: usize,
    tally: Tally,
    latency: Histogram,
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

fn execute(args: &Args) -> io::Result<ExitCode> {
    if args.clients == 0 {
        return Err(io::Error::other("--clients must be at least 1"));
    }
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
    let zero = Ipv4Addr::UNSPECIFIED;
    let prl = DhcpOption::ParameterRequestList([1, 3, 6, 15, 51, 54].map(OptionCode).to_vec());
    let idle = Exchange {
        stage: Stage::Idle,
        generation: 0,
        started: Instant::now(),
        address: zero,
        server: zero,
    };
    let clients = usize::try_from(args.clients).unwrap_or(usize::MAX);
    let mut run = Run {
        args,
        socket,
        table: vec![idle; clients],
        timeouts: VecDeque::with_capacity(args.inflight * 2),
        salt: args.seed.wrapping_mul(0x9e37_79b9),
        discover: Template::new(MessageType::DISCOVER, giaddr, vec![prl.clone()]),
        request: Template::new(
            MessageType::REQUEST,
            giaddr,
            vec![
                DhcpOption::RequestedAddress(zero),
                DhcpOption::ServerIdentifier(zero),
                prl.clone(),
            ],
        ),
        renew: Template::new(MessageType::REQUEST, giaddr, vec![prl]),
        release: Template::new(
            MessageType::RELEASE,
            giaddr,
            vec![DhcpOption::ServerIdentifier(zero)],
        ),
        out: Mmsg::new(64),
        queued: 0,
        tally: Tally::default(),
        latency: Histogram::new(),
        inflight: 0,
    };
    let started = Instant::now();
    let cpu_before = sys::cpu_time();
    run.drive()?;
    let elapsed = started.elapsed();
    let cpu = sys::cpu_time().saturating_sub(cpu_before);
    run.report(elapsed, cpu);
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

    fn xid(&self, client: u32) -> u32 {
        client ^ self.salt
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
        let mut inbox = Mmsg::new(64);
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
            let ready = sys::wait_readable(&[self.socket.as_raw_fd()], wait)?;
            if ready.first() == Some(&true) {
                loop {
                    let got = inbox.recv(&self.socket)?;
                    let now = Instant::now();
                    for i in 0..got {
                        let (bytes, _) = inbox.received(i);
                        self.answer(bytes, now, timeout);
                    }
                    self.flush();
                    if got < inbox.capacity() {
                        break;
                    }
                }
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

    fn enqueue(&mut self, kind: Stage, client: u32) {
        if self.queued == self.out.capacity() {
            self.flush();
        }
        let xid = self.xid(client);
        let mac = self.mac(client);
        let exchange = self.table[client as usize];
        let template = match kind {
            Stage::Discover => &self.discover,
            Stage::Request => &self.request,
            Stage::Renew => &self.renew,
            Stage::Idle => &self.release,
        };
        let slot = self.queued;
        let len = template.write(self.out.buffer(slot), xid, mac, &exchange);
        if matches!(kind, Stage::Renew | Stage::Idle) {
            self.out.buffer(slot)[CIADDR..CIADDR + 4].copy_from_slice(&exchange.address.octets());
        }
        self.out.set(slot, len, self.args.server);
        self.queued += 1;
    }

    /// Sends the queued messages, waiting briefly when the socket buffer is full; what still
    /// cannot go counts as a send error (and times out as a drop).
    fn flush(&mut self) {
        let mut sent = 0;
        let mut stalls = 0;
        while sent < self.queued {
            match self.out.send(&self.socket, sent, self.queued) {
                Ok(0) | Err(_) => {
                    stalls += 1;
                    let writable = sys::wait_writable(self.socket.as_raw_fd(), 10);
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
        self.table[client as usize].started = now;
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

    fn answer(&mut self, bytes: &[u8], now: Instant, timeout: Duration) {
        let Ok(view) = MessageView::new(bytes) else {
            self.tally.unexpected += 1;
            return;
        };
        let client = view.xid() ^ self.salt;
        let Some(exchange) = self.table.get(client as usize).copied() else {
            self.tally.unexpected += 1;
            return;
        };
        if view.op() != Op::BOOTREPLY || view.chaddr() != self.mac(client) {
            self.tally.unexpected += 1;
            return;
        }
        let server = view.raw_options().flatten().find_map(|o| match o.data {
            [a, b, c, d] if o.code == OptionCode::SERVER_IDENTIFIER => {
                Some(Ipv4Addr::new(*a, *b, *c, *d))
            }
            _ => None,
        });
        match (exchange.stage, view.message_type()) {
            (Stage::Discover, Some(MessageType::OFFER)) => {
                self.tally.offers += 1;
                self.tally.requests += 1;
                let e = &mut self.table[client as usize];
                e.address = view.yiaddr();
                e.server = server.unwrap_or(*self.args.server.ip());
                self.set_stage(client, Stage::Request, now, timeout);
                self.enqueue(Stage::Request, client);
            }
            (Stage::Request, Some(MessageType::ACK)) => {
                self.tally.acks += 1;
                self.latency.record(now.duration_since(exchange.started));
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

    fn report(&self, elapsed: Duration, cpu: Duration) {
        let t = &self.tally;
        let secs = elapsed.as_secs_f64().max(1e-9);
        let rate = t.acks as f64 / secs;
        let pct = |dropped: u64, sent: u64| {
            if sent == 0 {
                0.0
            } else {
                100.0 * dropped as f64 / sent as f64
            }
        };
        let h = &self.latency;
        let (p50, p90, p99, p999) = (
            h.percentile(0.5),
            h.percentile(0.9),
            h.percentile(0.99),
            h.percentile(0.999),
        );
        let max = u64::try_from(h.max.as_micros()).unwrap_or(u64::MAX);
        let cpu_per = if t.acks == 0 {
            0.0
        } else {
            cpu.as_secs_f64() * 1e6 / t.acks as f64
        };
        if self.args.json {
            let object = serde_json::json!({
                "exchanges": t.acks,
                "seconds": secs,
                "exchanges_per_second": rate,
                "sent": {"discover": t.discovers, "request": t.requests, "renew": t.renews,
                         "release": t.releases},
                "received": {"offer": t.offers, "ack": t.acks, "renew_ack": t.renew_acks,
                             "nak": t.naks, "unexpected": t.unexpected},
                "dropped": {"discover": t.dropped_discover, "request": t.dropped_request,
                            "renew": t.dropped_renew, "send_errors": t.send_errors},
                "latency_us": {"p50": p50, "p90": p90, "p99": p99, "p99_9": p999, "max": max},
                "cpu_seconds": cpu.as_secs_f64(),
                "cpu_us_per_exchange": cpu_per,
            });
            println!("{object}");
            return;
        }
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} exchanges in {secs:.2} s: {rate:.0} exchanges/s",
            t.acks
        );
        let _ = writeln!(
            out,
            "  sent: {} DISCOVER, {} REQUEST{}{}",
            t.discovers,
            t.requests,
            if self.args.renew {
                format!(", {} renew", t.renews)
            } else {
                String::new()
            },
            if self.args.release {
                format!(", {} RELEASE", t.releases)
            } else {
                String::new()
            },
        );
        let _ = writeln!(
            out,
            "  received: {} OFFER, {} ACK, {} NAK{}, {} unexpected",
            t.offers,
            t.acks,
            t.naks,
            if self.args.renew {
                format!(", {} renew ACK", t.renew_acks)
            } else {
                String::new()
            },
            t.unexpected
        );
        let _ = writeln!(
            out,
            "  dropped: {} DISCOVER ({:.2} %), {} REQUEST ({:.2} %){}; {} send errors",
            t.dropped_discover,
            pct(t.dropped_discover, t.discovers),
            t.dropped_request,
            pct(t.dropped_request, t.requests),
            if self.args.renew {
                format!(", {} renew", t.dropped_renew)
            } else {
                String::new()
            },
            t.send_errors
        );
        let _ = writeln!(
            out,
            "  DORA latency: p50 {p50} µs, p90 {p90} µs, p99 {p99} µs, \
             p99.9 {p999} µs, max {max} µs"
        );
        let _ = write!(
            out,
            "  own CPU: {:.2} s, {cpu_per:.1} µs per exchange",
            cpu.as_secs_f64()
        );
        println!("{out}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_grow_with_latency_and_bound_it() {
        let mut h = Histogram::new();
        for micros in [10, 100, 1_000, 10_000] {
            h.record(Duration::from_micros(micros));
        }
        assert!(h.percentile(0.25) <= 11);
        let p50 = h.percentile(0.5);
        assert!((100..=107).contains(&p50), "p50 {p50}");
        assert_eq!(h.percentile(1.0), 10_000);
        for micros in [16u64, 17, 31, 32, 1000, 123_456] {
            let b = Histogram::bucket(micros);
            assert!(Histogram::upper(b) > micros, "{micros} in bucket {b}");
            assert!(
                Histogram::upper(b) <= micros + micros / 8 + 1,
                "{micros} in bucket {b}"
            );
        }
    }

    #[test]
    fn templates_patch_the_fields_of_each_client() {
        let t = Template::new(
            MessageType::REQUEST,
            Ipv4Addr::new(198, 18, 0, 2),
            vec![
                DhcpOption::RequestedAddress(Ipv4Addr::UNSPECIFIED),
                DhcpOption::ServerIdentifier(Ipv4Addr::UNSPECIFIED),
            ],
        );
        let exchange = Exchange {
            stage: Stage::Request,
            generation: 0,
            started: Instant::now(),
            address: Ipv4Addr::new(198, 18, 1, 7),
            server: Ipv4Addr::new(198, 18, 0, 1),
        };
        let mut buf = [0u8; sys::DATAGRAM];
        let len = t.write(&mut buf, 0xabcd, [2, 1, 0, 0, 0, 9], &exchange);
        let m = Message::parse(&buf[..len]).unwrap();
        assert_eq!(m.xid, 0xabcd);
        assert_eq!(m.chaddr.mac(), Some([2, 1, 0, 0, 0, 9]));
        assert_eq!(m.requested_address(), Some(exchange.address));
        assert_eq!(m.server_identifier(), Some(exchange.server));
        assert_eq!(m.giaddr, Ipv4Addr::new(198, 18, 0, 2));
    }
}
