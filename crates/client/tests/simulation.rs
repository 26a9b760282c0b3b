//! The client against the `charrua-server` logic over an in-memory link, with a virtual
//! clock that jumps from one deadline to the next. Every RFC 2131 timer is checked to the
//! millisecond.

use std::net::Ipv4Addr;
use std::time::Duration;

use charrua_client::{Client, Config, Destination, Event, Lease, LossReason, Rng, State, Transmit};
use charrua_server::input::{Incoming, Outcome, input};
use charrua_server::leases::{Lease as ServerLease, LeaseState, Leases, Time};
use charrua_server::policy::{Network, Policy, Pool, PoolAccess, Settings, Subnet};
use charrua_wire::options::{RelayAgentInformation, RelaySubOption};
use charrua_wire::{
    DhcpOption, EmitOptions, HardwareAddress, HardwareType, Message, MessageType, OptionCode, Text,
};

const SERVER_A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const SERVER_B: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
/// The server clock (seconds since the Unix epoch) at the simulation's time zero.
const EPOCH: Time = 1_700_000_000;

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// A small, seedable generator (SplitMix64) for the client and the link.
#[derive(Clone)]
struct SplitMix(u64);

impl SplitMix {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// True with probability `per_mille` / 1000.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.next_u64() % 1000 < per_mille
    }
}

impl Rng for SplitMix {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
}

/// How the link treats packets: loss and duplication in thousandths, delay in milliseconds.
#[derive(Clone, Copy, Default)]
struct LinkModel {
    loss: u64,
    duplicate: u64,
    min_delay_ms: u64,
    max_delay_ms: u64,
}

struct Server {
    address: Ipv4Addr,
    policy: Policy,
    leases: Leases,
    up: bool,
    /// Extra delay on this server's replies.
    reply_delay: Duration,
    /// Drops every DHCPREQUEST (a server that offers but never commits).
    ignore_requests: bool,
}

impl Server {
    fn new(address: Ipv4Addr, low: &str, high: &str, settings: Settings) -> Self {
        let policy = Policy::new(
            vec![Network {
                name: Text::from("lab"),
                subnets: vec![Subnet {
                    network: ip("192.0.2.0"),
                    netmask: ip("255.255.255.0"),
                    params: settings.clone(),
                    pools: vec![Pool {
                        ranges: vec![(ip(low), ip(high))],
                        access: PoolAccess::default(),
                        params: settings,
                    }],
                }],
            }],
            Vec::new(),
        );
        let mut leases = Leases::new();
        let (ranges, reserved) = policy.ranges_and_reservations();
        leases.set_ranges(&ranges, &reserved);
        Server {
            address,
            policy,
            leases,
            up: true,
            reply_delay: Duration::ZERO,
            ignore_requests: false,
        }
    }
}

fn settings(lease_time: u32) -> Settings {
    let mut s = Settings {
        authoritative: true,
        default_lease_time: lease_time,
        max_lease_time: lease_time,
        ..Settings::default()
    };
    s.set_option(DhcpOption::Routers(vec![SERVER_A]));
    s.set_option(DhcpOption::DomainNameServers(vec![SERVER_A, SERVER_B]));
    s.set_option(DhcpOption::DomainName(Text::from("example.com")));
    s.set_option(DhcpOption::InterfaceMtu(1400));
    s
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum To {
    Client,
    Server(usize),
}

struct Flight {
    at: Duration,
    to: To,
    bytes: Vec<u8>,
}

/// What happened, when.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant, reason = "a test log, never moved in bulk")]
enum Record {
    Sent(Duration, Transmit),
    Event(Duration, Event),
}

struct Sim {
    now: Duration,
    client: Client,
    servers: Vec<Server>,
    link: LinkModel,
    link_rng: SplitMix,
    rng: SplitMix,
    flight: Vec<Flight>,
    log: Vec<Record>,
    /// A relay agent between the client and the servers that asks for its own address as
    /// the server identifier (RFC 5107); unicast sent to it goes on to server 0.
    relay_override: Option<Ipv4Addr>,
}

impl Sim {
    fn new(client: Client, servers: Vec<Server>, seed: u64) -> Self {
        Sim {
            now: Duration::ZERO,
            client,
            servers,
            link: LinkModel::default(),
            link_rng: SplitMix(seed ^ 0x5eed),
            rng: SplitMix(seed),
            flight: Vec::new(),
            log: Vec::new(),
            relay_override: None,
        }
    }

    fn one(servers: Vec<Server>) -> Self {
        Sim::new(
            Client::new(Config::ethernet(MAC), Duration::ZERO),
            servers,
            1,
        )
    }

    fn server_time(&self) -> Time {
        EPOCH + self.now.as_secs()
    }

    fn put(&mut self, to: To, bytes: Vec<u8>, extra: Duration) {
        let copies = if self.link_rng.chance(self.link.duplicate) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            if self.link_rng.chance(self.link.loss) {
                continue;
            }
            let spread = self.link.max_delay_ms - self.link.min_delay_ms + 1;
            let delay = self.link.min_delay_ms + self.link_rng.next_u64() % spread;
            let at = self.now + extra + Duration::from_millis(delay);
            self.flight.push(Flight {
                at,
                to,
                bytes: bytes.clone(),
            });
        }
    }

    fn take(&mut self, transmits: Vec<Transmit>, events: Vec<Event>) {
        for t in transmits {
            let bytes = t.message.to_bytes(&EmitOptions::default()).unwrap();
            let targets: Vec<usize> = match t.destination {
                Destination::Broadcast => (0..self.servers.len()).collect(),
                Destination::Unicast(addr) if Some(addr) == self.relay_override => vec![0],
                Destination::Unicast(addr) => (0..self.servers.len())
                    .filter(|&i| self.servers[i].address == addr)
                    .collect(),
            };
            for i in targets {
                self.put(To::Server(i), bytes.clone(), Duration::ZERO);
            }
            self.log.push(Record::Sent(self.now, t));
        }
        for e in events {
            self.log.push(Record::Event(self.now, e));
        }
    }

    fn deliver(&mut self, flight: Flight) {
        let message = Message::parse(&flight.bytes).unwrap();
        match flight.to {
            To::Client => {
                let out = self.client.on_packet(self.now, &message, &mut self.rng);
                self.take(out.transmits, out.events);
            }
            To::Server(i) => {
                let time = self.server_time();
                let relay = self.relay_override;
                let server = &mut self.servers[i];
                if !server.up {
                    return;
                }
                if server.ignore_requests && message.message_type() == Some(MessageType::REQUEST) {
                    return;
                }
                // A relay adds its address as giaddr and asks the server to name it as the
                // server identifier (RFC 5107), which the server then expects back.
                let mut message = message;
                if let Some(relay) = relay {
                    message.giaddr = relay;
                    message
                        .options
                        .push(DhcpOption::RelayAgentInformation(RelayAgentInformation(
                            vec![RelaySubOption::ServerIdOverride(relay)],
                        )));
                }
                let incoming = Incoming {
                    message: &message,
                    link_address: relay.is_none().then_some(server.address),
                    local_address: server.address,
                };
                match input(&server.policy, &server.leases, &incoming, time) {
                    Outcome::Reply(reply) => {
                        for lease in reply.changes {
                            server.leases.apply(lease);
                        }
                        let mut answer = reply.message;
                        // The relay strips its option before passing the reply on.
                        answer
                            .options
                            .retain(|o| o.code() != OptionCode::RELAY_AGENT_INFORMATION);
                        answer.giaddr = Ipv4Addr::UNSPECIFIED;
                        let extra = server.reply_delay;
                        let bytes = answer.to_bytes(&reply.settings).unwrap();
                        self.put(To::Client, bytes, extra);
                    }
                    Outcome::Update(changes) => {
                        for lease in changes {
                            server.leases.apply(lease);
                        }
                    }
                    Outcome::Silence(_) | Outcome::Warning(_) => {}
                }
            }
        }
    }

    /// Runs until `until`, jumping from deadline to deadline.
    fn run_until(&mut self, until: Duration) {
        loop {
            let packet = self.flight.iter().map(|f| f.at).min();
            let timer = self.client.next_deadline();
            let next = match (packet, timer) {
                (Some(p), Some(t)) => p.min(t),
                (p, t) => match p.or(t) {
                    Some(n) => n,
                    None => break,
                },
            };
            if next > until {
                break;
            }
            self.now = self.now.max(next);
            if packet == Some(next) {
                let i = self.flight.iter().position(|f| f.at == next).unwrap();
                let flight = self.flight.remove(i);
                self.deliver(flight);
            } else {
                let out = self.client.on_timeout(self.now, &mut self.rng);
                self.take(out.transmits, out.events);
            }
        }
        self.now = self.now.max(until);
    }

    fn sent(&self) -> Vec<(Duration, Transmit)> {
        self.log
            .iter()
            .filter_map(|r| match r {
                Record::Sent(at, t) => Some((*at, t.clone())),
                Record::Event(..) => None,
            })
            .collect()
    }

    fn sent_of(&self, kind: MessageType) -> Vec<(Duration, Transmit)> {
        self.sent()
            .into_iter()
            .filter(|(_, t)| t.message.message_type() == Some(kind))
            .collect()
    }

    fn events(&self) -> Vec<(Duration, Event)> {
        self.log
            .iter()
            .filter_map(|r| match r {
                Record::Event(at, e) => Some((*at, e.clone())),
                Record::Sent(..) => None,
            })
            .collect()
    }

    fn acquired(&self) -> Vec<(Duration, Lease)> {
        self.events()
            .into_iter()
            .filter_map(|(at, e)| match e {
                Event::LeaseAcquired(l) => Some((at, l)),
                _ => None,
            })
            .collect()
    }
}

fn has(message: &Message, code: u8) -> bool {
    message.option(OptionCode(code)).is_some()
}

fn state_name(client: &Client) -> &'static str {
    match client.state() {
        State::Init(_) => "init",
        State::Selecting(_) => "selecting",
        State::Requesting(_) => "requesting",
        State::Bound(_) => "bound",
        State::Renewing(_) => "renewing",
        State::Rebinding(_) => "rebinding",
        State::InitReboot(_) => "init-reboot",
        State::Rebooting(_) => "rebooting",
        State::Informing(_) => "informing",
        State::Stopped => "stopped",
    }
}

#[test]
fn acquires_a_lease_with_discover_offer_request_ack() {
    let mut sim = Sim::one(vec![Server::new(
        SERVER_A,
        "192.0.2.10",
        "192.0.2.19",
        settings(1000),
    )]);
    sim.run_until(secs(10.0));

    let sent = sim.sent();
    assert_eq!(sent.len(), 2, "{sent:?}");
    let (at, discover) = &sent[0];
    assert_eq!(*at, Duration::ZERO);
    assert_eq!(discover.destination, Destination::Broadcast);
    assert_eq!(discover.message.message_type(), Some(MessageType::DISCOVER));
    assert_eq!(discover.message.secs, 0);
    assert!(has(&discover.message, 55));
    let (_, request) = &sent[1];
    assert_eq!(request.destination, Destination::Broadcast);
    assert_eq!(
        request.message.xid, discover.message.xid,
        "same xid as the offer"
    );
    assert_eq!(request.message.server_identifier(), Some(SERVER_A));
    assert_eq!(request.message.requested_address(), Some(ip("192.0.2.10")));
    assert!(request.message.ciaddr.is_unspecified());

    let acquired = sim.acquired();
    assert_eq!(acquired.len(), 1);
    let lease = &acquired[0].1;
    assert_eq!(lease.address, ip("192.0.2.10"));
    assert_eq!(lease.subnet_mask, Some(ip("255.255.255.0")));
    assert_eq!(lease.routers, vec![SERVER_A]);
    assert_eq!(lease.dns_servers, vec![SERVER_A, SERVER_B]);
    assert_eq!(lease.domain_name, Some(Text::from("example.com")));
    assert_eq!(lease.mtu, Some(1400));
    assert_eq!(lease.server_identifier, SERVER_A);
    assert_eq!(lease.lease_time, Some(secs(1000.0)));
    assert!(
        lease
            .options
            .iter()
            .any(|o| o.code() == OptionCode::LEASE_TIME)
    );
    assert_eq!(state_name(&sim.client), "bound");
}

#[test]
fn backs_off_4_8_16_32_64_seconds_with_jitter() {
    for seed in 0..20 {
        let client = Client::new(Config::ethernet(MAC), Duration::ZERO);
        let mut sim = Sim::new(client, Vec::new(), seed);
        sim.run_until(secs(400.0));
        let discovers = sim.sent_of(MessageType::DISCOVER);
        let at: Vec<Duration> = discovers.iter().map(|(at, _)| *at).collect();
        assert!(at.len() >= 7, "{at:?}");
        for (i, expected) in [4.0, 8.0, 16.0, 32.0, 64.0, 64.0].iter().enumerate() {
            let gap = at[i + 1] - at[i];
            assert!(
                gap >= secs(expected - 1.0) && gap <= secs(expected + 1.0),
                "seed {seed}: retransmission {i} after {gap:?}, expected {expected} ± 1 s"
            );
        }
        let xid = discovers[0].1.message.xid;
        for (at, t) in &discovers {
            assert_eq!(t.message.xid, xid, "retransmissions keep the xid");
            assert_eq!(
                u64::from(t.message.secs),
                at.as_secs(),
                "secs counts from the start"
            );
        }
    }
}

#[test]
fn renews_at_t1_unicast_to_the_server() {
    let mut sim = Sim::one(vec![Server::new(
        SERVER_A,
        "192.0.2.10",
        "192.0.2.19",
        settings(1000),
    )]);
    sim.run_until(secs(1.0));
    let (bound_at, lease) = sim.acquired()[0].clone();
    // The lease starts when the DHCPREQUEST it answers was sent.
    let start = sim.sent_of(MessageType::REQUEST)[0].0;
    assert_eq!(lease.start, start);
    assert!(bound_at >= start);
    assert_eq!(sim.client.next_deadline(), Some(start + secs(500.0)));

    sim.run_until(start + secs(600.0));
    let requests = sim.sent_of(MessageType::REQUEST);
    assert_eq!(requests.len(), 2, "{requests:?}");
    let (at, renew) = &requests[1];
    assert_eq!(*at, start + secs(500.0), "T1 = 0.5 × 1000 s");
    assert_eq!(renew.destination, Destination::Unicast(SERVER_A));
    assert_eq!(renew.message.ciaddr, lease.address);
    assert!(!has(&renew.message, 54), "no server identifier in RENEWING");
    assert!(!has(&renew.message, 50), "no requested address in RENEWING");
    assert_ne!(renew.message.xid, requests[0].1.message.xid);
    assert_eq!(renew.message.secs, 0);

    let events = sim.events();
    let Some((renewed_at, Event::LeaseRenewed(renewed))) = events.last().cloned() else {
        panic!("{events:?}");
    };
    assert_eq!(renewed_at, start + secs(500.0));
    assert_eq!(renewed.address, lease.address);
    assert_eq!(renewed.start, start + secs(500.0));
    assert_eq!(sim.client.next_deadline(), Some(start + secs(1000.0)));
}

#[test]
fn retransmits_renewals_at_half_the_remaining_time_then_rebinds_then_loses_the_lease() {
    let mut sim = Sim::one(vec![Server::new(
        SERVER_A,
        "192.0.2.10",
        "192.0.2.19",
        settings(1000),
    )]);
    sim.run_until(secs(1.0));
    let start = sim.acquired()[0].1.start;
    sim.servers[0].up = false;
    sim.run_until(start + secs(1000.5));

    let requests = sim.sent_of(MessageType::REQUEST);
    let after: Vec<(f64, Destination)> = requests[1..]
        .iter()
        .map(|(at, t)| ((*at - start).as_secs_f64(), t.destination))
        .collect();
    let unicast = Destination::Unicast(SERVER_A);
    let broadcast = Destination::Broadcast;
    assert_eq!(
        after,
        vec![
            // RENEWING: at T1, then half the time left to T2, at least 60 s.
            (500.0, unicast),
            (687.5, unicast),
            (781.25, unicast),
            (841.25, unicast),
            // REBINDING: at T2 = 0.875 × 1000 s, then half the time left, at least 60 s.
            (875.0, broadcast),
            (937.5, broadcast),
            (997.5, broadcast),
        ]
    );
    for (_, t) in &requests[5..] {
        assert!(!has(&t.message, 54) && !has(&t.message, 50));
        assert_eq!(t.message.ciaddr, ip("192.0.2.10"));
    }
    let events = sim.events();
    let lost: Vec<_> = events
        .iter()
        .filter(|(_, e)| {
            matches!(
                e,
                Event::LeaseLost {
                    reason: LossReason::Expired,
                    ..
                }
            )
        })
        .collect();
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0].0, start + secs(1000.0), "expiry at 1000 s");
    // Back to INIT: a new DHCPDISCOVER at once.
    let discovers = sim.sent_of(MessageType::DISCOVER);
    assert_eq!(discovers.last().unwrap().0, start + secs(1000.0));
    assert_eq!(state_name(&sim.client), "selecting");
}

#[test]
fn rebinds_to_the_other_server_when_the_first_disappears() {
    // B can extend any address of the subnet, but is down while the client acquires.
    let mut b = Server::new(SERVER_B, "192.0.2.10", "192.0.2.29", settings(1000));
    b.up = false;
    let a = Server::new(SERVER_A, "192.0.2.10", "192.0.2.19", settings(1000));
    let mut sim = Sim::one(vec![a, b]);
    sim.run_until(secs(1.0));
    let lease = sim.acquired()[0].1.clone();
    assert_eq!(lease.server_identifier, SERVER_A);
    let start = lease.start;

    sim.servers[0].up = false;
    sim.servers[1].up = true;
    sim.run_until(start + secs(900.0));
    let requests = sim.sent_of(MessageType::REQUEST);
    let (at, rebind) = requests.last().unwrap();
    assert_eq!(*at, start + secs(875.0));
    assert_eq!(rebind.destination, Destination::Broadcast);
    let renewed = sim
        .events()
        .into_iter()
        .find_map(|(at, e)| match e {
            Event::LeaseRenewed(l) => Some((at, l)),
            _ => None,
        })
        .unwrap();
    assert_eq!(renewed.0, start + secs(875.0));
    assert_eq!(renewed.1.address, lease.address);
    assert_eq!(renewed.1.server_identifier, SERVER_B);

    // The next renewal goes to B, at T1 of the new lease.
    sim.run_until(start + secs(875.0 + 501.0));
    let (at, renew) = sim.sent_of(MessageType::REQUEST).last().cloned().unwrap();
    assert_eq!(at, start + secs(875.0 + 500.0));
    assert_eq!(renew.destination, Destination::Unicast(SERVER_B));
}

#[test]
fn collects_offers_for_a_second_and_takes_the_requested_address() {
    let a = Server::new(SERVER_A, "192.0.2.10", "192.0.2.19", settings(1000));
    let mut b = Server::new(SERVER_B, "192.0.2.20", "192.0.2.29", settings(1000));
    b.reply_delay = secs(0.3);
    let mut config = Config::ethernet(MAC);
    config.requested_address = Some(ip("192.0.2.20"));
    let mut sim = Sim::new(Client::new(config, Duration::ZERO), vec![a, b], 3);
    sim.run_until(secs(10.0));

    let (at, request) = sim.sent_of(MessageType::REQUEST)[0].clone();
    assert_eq!(at, secs(1.0), "one second after the first offer");
    assert_eq!(request.message.server_identifier(), Some(SERVER_B));
    assert_eq!(request.message.requested_address(), Some(ip("192.0.2.20")));
    assert_eq!(sim.acquired()[0].1.address, ip("192.0.2.20"));
    // A saw the REQUEST naming B and released its offer.
    let held = sim.servers[0].leases.get(ip("192.0.2.10")).unwrap();
    assert_eq!(held.state, LeaseState::Free);
}

#[test]
fn takes_the_first_offer_when_none_has_the_requested_address() {
    let mut a = Server::new(SERVER_A, "192.0.2.10", "192.0.2.19", settings(1000));
    a.reply_delay = secs(0.5);
    let b = Server::new(SERVER_B, "192.0.2.20", "192.0.2.29", settings(1000));
    let mut sim = Sim::new(
        Client::new(Config::ethernet(MAC), Duration::ZERO),
        vec![a, b],
        4,
    );
    sim.run_until(secs(10.0));
    let lease = &sim.acquired()[0].1;
    assert_eq!(lease.server_identifier, SERVER_B);
    assert_eq!(lease.address, ip("192.0.2.20"));
}

#[test]
fn gives_up_requesting_after_four_attempts_and_rediscovers() {
    let mut a = Server::new(SERVER_A, "192.0.2.10", "192.0.2.19", settings(1000));
    a.ignore_requests = true;
    let mut sim = Sim::new(
        Client::new(Config::ethernet(MAC), Duration::ZERO),
        vec![a],
        7,
    );
    sim.run_until(secs(80.0));
    let discovers = sim.sent_of(MessageType::DISCOVER);
    let second = discovers[1].0;
    let requests = sim.sent_of(MessageType::REQUEST);
    let requests: Vec<_> = requests
        .into_iter()
        .filter(|(at, _)| *at < second)
        .collect();
    assert_eq!(requests.len(), 4);
    let at: Vec<Duration> = requests.iter().map(|(at, _)| *at).collect();
    assert_eq!(at[0], secs(1.0));
    for (i, expected) in [4.0, 8.0, 16.0].iter().enumerate() {
        let gap = at[i + 1] - at[i];
        assert!(
            gap >= secs(expected - 1.0) && gap <= secs(expected + 1.0),
            "{gap:?}"
        );
    }
    for (_, r) in &requests {
        assert_eq!(r.message.secs, 0, "the DHCPDISCOVER's secs, RFC 2131 §3.1");
    }
    let gap = second - at[3];
    assert!(gap >= secs(31.0) && gap <= secs(33.0), "{gap:?}");
    assert_ne!(discovers[1].1.message.xid, discovers[0].1.message.xid);
}

#[test]
fn loses_the_lease_on_a_nak_while_renewing_and_rediscovers_after_ten_seconds() {
    let mut sim = Sim::one(vec![Server::new(
        SERVER_A,
        "192.0.2.10",
        "192.0.2.19",
        settings(1000),
    )]);
    sim.run_until(secs(1.0));
    let lease = sim.acquired()[0].1.clone();
    // The server forgets the client and gives its address to another one.
    let server = &mut sim.servers[0];
    server.leases.remove(lease.address);
    server.leases.apply(ServerLease {
        address: lease.address,
        client_id: None,
        hardware: Some((
            HardwareType::ETHERNET,
            HardwareAddress::ethernet([2, 0, 0, 0, 0, 9]),
        )),
        starts: EPOCH,
        ends: EPOCH + 10_000,
        cltt: EPOCH,
        state: LeaseState::Active,
        hostname: None,
    });
    sim.run_until(lease.start + secs(520.0));

    let lost = sim
        .events()
        .into_iter()
        .find_map(|(at, e)| match e {
            Event::LeaseLost { lease, reason } => Some((at, lease, reason)),
            _ => None,
        })
        .unwrap();
    assert_eq!(lost.0, lease.start + secs(500.0));
    assert_eq!(lost.2, LossReason::Refused);
    let discovers = sim.sent_of(MessageType::DISCOVER);
    assert_eq!(discovers.len(), 2);
    assert_eq!(
        discovers[1].0,
        lease.start + secs(510.0),
        "ten seconds after the NAK"
    );
    let again = sim.acquired();
    assert_eq!(again.len(), 2);
    assert_ne!(again[1].1.address, lease.address);
}

#[test]
fn reboots_with_a_stored_lease() {
    let mut sim = Sim::one(vec![Server::new(
        SERVER_A,
        "192.0.2.10",
        "192.0.2.19",
        settings(1000),
    )]);
    sim.run_until(secs(1.0));
    let lease = sim.acquired()[0].1.clone();

    // The machine restarts 100 s later with the lease on disk.
    let now = secs(100.0);
    sim.client = Client::reboot(Config::ethernet(MAC), lease.clone(), now);
    sim.log.clear();
    sim.run_until(secs(110.0));
    let sent = sim.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let (at, request) = &sent[0];
    assert_eq!(*at, now);
    assert_eq!(request.destination, Destination::Broadcast);
    assert_eq!(request.message.message_type(), Some(MessageType::REQUEST));
    assert_eq!(request.message.requested_address(), Some(lease.address));
    assert!(request.message.ciaddr.is_unspecified());
    assert!(!has(&request.message, 54));
    let again = sim.acquired();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].1.address, lease.address);
    assert_eq!(again[0].1.start, now);
}

#[test]
fn reboot_on_another_network_is_naked_and_restarts_at_once() {
    let mut sim = Sim::one(vec![Server::new(
        SERVER_A,
        "192.0.2.10",
        "192.0.2.19",
        settings(1000),
    )]);
    let mut elsewhere = Lease::clone(&{
        sim.run_until(secs(1.0));
        sim.acquired()[0].1.clone()
    });
    elsewhere.address = ip("198.51.100.7");
    let now = secs(50.0);
    sim.client = Client::reboot(Config::ethernet(MAC), elsewhere, now);
    sim.log.clear();
    sim.run_until(secs(60.0));
    let discovers = sim.sent_of(MessageType::DISCOVER);
    assert_eq!(discovers.len(), 1);
    assert_eq!(
        discovers[0].0, now,
        "DHCPNAK in REBOOTING restarts without delay"
    );
    assert_eq!(sim.acquired()[0].1.address, ip("192.0.2.10"));
}

#[test]
fn gives_up_rebooting_without_an_answer_and_rediscovers() {
    let mut sim = Sim::one(vec![Server::new(
        SERVER_A,
        "192.0.2.10",
        "192.0.2.19",
        settings(1000),
    )]);
    sim.run_until(secs(1.0));
    let lease = sim.acquired()[0].1.clone();
    sim.servers[0].up = false;
    sim.client = Client::reboot(Config::ethernet(MAC), lease, secs(10.0));
    sim.log.clear();
    sim.run_until(secs(80.0));
    let requests = sim.sent_of(MessageType::REQUEST);
    assert_eq!(requests.len(), 4);
    assert!(sim.sent_of(MessageType::DISCOVER)[0].0 > requests[3].0 + secs(30.0));
}

#[test]
fn declines_a_conflicting_address_and_rediscovers_after_ten_seconds() {
    let mut sim = Sim::one(vec![Server::new(
        SERVER_A,
        "192.0.2.10",
        "192.0.2.19",
        settings(1000),
    )]);
    sim.run_until(secs(1.0));
    let lease = sim.acquired()[0].1.clone();
    let at = sim.now;
    let out = sim.client.decline(at, &mut sim.rng).unwrap();
    let decline = &out.transmits[0];
    assert_eq!(decline.destination, Destination::Broadcast);
    assert_eq!(decline.message.message_type(), Some(MessageType::DECLINE));
    assert_eq!(decline.message.requested_address(), Some(lease.address));
    assert_eq!(decline.message.server_identifier(), Some(SERVER_A));
    assert!(decline.message.ciaddr.is_unspecified());
    assert!(!has(&decline.message, 55));
    assert_eq!(out.events, vec![Event::Declined(lease.address)]);
    sim.take(out.transmits, out.events);
    sim.run_until(at + secs(20.0));

    let abandoned = sim.servers[0].leases.get(lease.address).unwrap();
    assert_eq!(abandoned.state, LeaseState::Abandoned);
    let discovers = sim.sent_of(MessageType::DISCOVER);
    assert_eq!(discovers[1].0, at + secs(10.0));
    let again = sim.acquired();
    assert_eq!(again.len(), 2);
    assert_ne!(again[1].1.address, lease.address);
    assert!(sim.client.decline(sim.now, &mut sim.rng).is_ok());
}

#[test]
fn releases_unicast_to_the_server_and_stops() {
    let mut sim = Sim::one(vec![Server::new(
        SERVER_A,
        "192.0.2.10",
        "192.0.2.19",
        settings(1000),
    )]);
    sim.run_until(secs(1.0));
    let lease = sim.acquired()[0].1.clone();
    let out = sim.client.release(&mut sim.rng).unwrap();
    let release = &out.transmits[0];
    assert_eq!(release.destination, Destination::Unicast(SERVER_A));
    assert_eq!(release.message.message_type(), Some(MessageType::RELEASE));
    assert_eq!(release.message.ciaddr, lease.address);
    assert_eq!(release.message.server_identifier(), Some(SERVER_A));
    assert_eq!(out.events, vec![Event::Released(lease.address)]);
    sim.take(out.transmits, out.events);
    sim.run_until(secs(5000.0));
    let record = sim.servers[0].leases.get(lease.address).unwrap();
    assert_eq!(record.state, LeaseState::Released);
    assert_eq!(state_name(&sim.client), "stopped");
    assert_eq!(sim.client.next_deadline(), None);
    assert!(sim.client.release(&mut sim.rng).is_err());
}

#[test]
fn informs_with_ciaddr_and_reports_the_options() {
    let address = ip("192.0.2.50");
    let client = Client::inform(Config::ethernet(MAC), address, Duration::ZERO);
    let server = Server::new(SERVER_A, "192.0.2.10", "192.0.2.19", settings(1000));
    let mut sim = Sim::new(client, vec![server], 5);
    sim.run_until(secs(100.0));
    let sent = sim.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1.message.message_type(), Some(MessageType::INFORM));
    assert_eq!(sent[0].1.message.ciaddr, address);
    assert!(!has(&sent[0].1.message, 50));
    let events = sim.events();
    let [(_, Event::Informed(options))] = events.as_slice() else {
        panic!("{events:?}");
    };
    assert!(options.contains(&DhcpOption::Routers(vec![SERVER_A])));
    assert!(!options.iter().any(|o| o.code() == OptionCode::LEASE_TIME));
    assert_eq!(state_name(&sim.client), "stopped");
}

#[test]
fn rapid_commit_binds_on_an_ack_to_the_discover() {
    let mut params = settings(1000);
    params.rapid_commit = true;
    let server = Server::new(SERVER_A, "192.0.2.10", "192.0.2.19", params);
    let mut config = Config::ethernet(MAC);
    config.rapid_commit = true;
    let mut sim = Sim::new(Client::new(config, Duration::ZERO), vec![server], 6);
    sim.run_until(secs(10.0));
    let sent = sim.sent();
    assert_eq!(sent.len(), 1, "two messages only: DISCOVER and ACK");
    assert!(has(&sent[0].1.message, 80));
    let acquired = sim.acquired();
    assert_eq!(acquired[0].0, Duration::ZERO);
    assert_eq!(acquired[0].1.address, ip("192.0.2.10"));
    assert_eq!(state_name(&sim.client), "bound");
}

#[test]
fn ignores_a_rapid_commit_ack_when_rapid_commit_is_off() {
    let mut params = settings(1000);
    params.rapid_commit = true;
    let server = Server::new(SERVER_A, "192.0.2.10", "192.0.2.19", params);
    let mut sim = Sim::one(vec![server]);
    sim.run_until(secs(1.0));
    // Without option 80 in the DISCOVER the server makes an ordinary offer.
    assert_eq!(sim.sent_of(MessageType::REQUEST).len(), 1);
    assert_eq!(sim.acquired().len(), 1);
}

#[test]
fn renews_with_the_server_identifier_a_relay_put_in_the_ack() {
    let relay = ip("192.0.2.254");
    let mut sim = Sim::one(vec![Server::new(
        SERVER_A,
        "192.0.2.10",
        "192.0.2.19",
        settings(1000),
    )]);
    sim.relay_override = Some(relay);
    sim.run_until(secs(1.0));
    let lease = sim.acquired()[0].1.clone();
    assert_eq!(lease.server_identifier, relay);
    sim.run_until(lease.start + secs(501.0));
    let (_, renew) = sim.sent_of(MessageType::REQUEST).last().cloned().unwrap();
    assert_eq!(renew.destination, Destination::Unicast(relay));
    assert!(matches!(
        sim.events().last(),
        Some((_, Event::LeaseRenewed(_)))
    ));
}

#[test]
fn uses_t1_and_t2_from_the_server() {
    let mut params = settings(1000);
    params.set_option(DhcpOption::RenewalTime(100));
    params.set_option(DhcpOption::RebindingTime(200));
    let mut sim = Sim::one(vec![Server::new(
        SERVER_A,
        "192.0.2.10",
        "192.0.2.19",
        params,
    )]);
    sim.run_until(secs(1.0));
    let lease = sim.acquired()[0].1.clone();
    assert_eq!(lease.renewal_time, Some(secs(100.0)));
    assert_eq!(lease.rebinding_time, Some(secs(200.0)));
    let timers = lease.timers();
    assert_eq!(timers.renew_at, Some(lease.start + secs(100.0)));
    assert_eq!(timers.rebind_at, Some(lease.start + secs(200.0)));
    assert_eq!(timers.expires_at, Some(lease.start + secs(1000.0)));
    sim.servers[0].up = false;
    sim.run_until(lease.start + secs(201.0));
    let at: Vec<f64> = sim.sent_of(MessageType::REQUEST)[1..]
        .iter()
        .map(|(at, _)| (*at - lease.start).as_secs_f64())
        .collect();
    // Half of 100 s is under the 60 s floor, which T2 then cuts short.
    assert_eq!(at, vec![100.0, 160.0, 200.0]);
}

#[test]
fn never_renews_an_infinite_lease() {
    let mut params = settings(u32::MAX);
    params.max_lease_time = u32::MAX;
    let mut sim = Sim::one(vec![Server::new(
        SERVER_A,
        "192.0.2.10",
        "192.0.2.19",
        params,
    )]);
    sim.run_until(secs(1.0));
    let lease = sim.acquired()[0].1.clone();
    assert_eq!(lease.lease_time, None);
    assert_eq!(lease.renewal_time, None);
    assert_eq!(state_name(&sim.client), "bound");
    assert_eq!(sim.client.next_deadline(), None);
    sim.run_until(secs(10_000_000.0));
    assert_eq!(sim.sent().len(), 2);
}

#[test]
fn anonymity_profile_sends_only_what_rfc_7844_allows() {
    let mut config = Config::ethernet(MAC);
    config.anonymity = true;
    config.client_id = Some(charrua_wire::options::ClientId {
        kind: 255,
        id: vec![0, 0, 0, 1, 0, 4, 1, 2, 3, 4],
    });
    config.hostname = Some(Text::from("laptop-of-alice"));
    config.vendor_class = Some(b"os 1.2".to_vec());
    config.requested_address = Some(ip("192.0.2.15"));
    config.max_message_size = Some(1500);
    config.rapid_commit = true;
    config.lease_time = Some(5000);
    let server = Server::new(SERVER_A, "192.0.2.10", "192.0.2.19", settings(1000));
    let mut sim = Sim::new(Client::new(config, Duration::ZERO), vec![server], 8);
    sim.run_until(secs(600.0));

    let codes = |m: &Message| m.options.iter().map(|o| o.code().0).collect::<Vec<u8>>();
    let sent = sim.sent();
    let discover = &sent[0].1.message;
    assert_eq!(
        codes(discover),
        vec![53, 55, 61],
        "DISCOVER: type, PRL, client id, in order"
    );
    let expected_id = charrua_wire::options::ClientId::ethernet(MAC);
    assert_eq!(
        discover.client_id(),
        Some(&expected_id),
        "identifier from the MAC only"
    );
    let request = &sent[1].1.message;
    assert_eq!(codes(request), vec![50, 53, 54, 55, 61]);
    let renew = &sent[2].1.message;
    assert_eq!(sent[2].0, sim.acquired()[0].1.start + secs(500.0));
    assert_eq!(codes(renew), vec![53, 55, 61]);
    for (_, t) in &sent {
        assert!(!t.message.flags.broadcast());
        let prl = t.message.parameter_request_list().unwrap();
        assert_eq!(prl, &charrua_client::ANONYMOUS_PARAMETERS[..]);
    }
}

#[test]
fn sends_the_callers_options() {
    let mut config = Config::ethernet(MAC);
    config.client_id = Some(charrua_wire::options::ClientId::ethernet(MAC));
    config.hostname = Some(Text::from("printer"));
    config.vendor_class = Some(b"charrua".to_vec());
    config.max_message_size = Some(1500);
    config.broadcast = true;
    let mut sim = Sim::new(Client::new(config, Duration::ZERO), Vec::new(), 9);
    sim.run_until(secs(0.5));
    let discover = &sim.sent()[0].1.message;
    assert!(discover.flags.broadcast());
    for code in [12, 55, 57, 60, 61] {
        assert!(has(discover, code), "option {code}");
    }
    let prl = discover.parameter_request_list().unwrap();
    let expected: Vec<u8> = vec![1, 3, 6, 12, 15, 26, 28, 42, 51, 54, 58, 59, 119, 121];
    assert_eq!(prl.iter().map(|c| c.0).collect::<Vec<_>>(), expected);
}

#[test]
fn survives_loss_delay_and_duplicates() {
    for seed in 0..40 {
        let a = Server::new(SERVER_A, "192.0.2.10", "192.0.2.19", settings(600));
        let b = Server::new(SERVER_B, "192.0.2.20", "192.0.2.29", settings(600));
        let mut sim = Sim::new(
            Client::new(Config::ethernet(MAC), Duration::ZERO),
            vec![a, b],
            seed,
        );
        sim.link = LinkModel {
            loss: 300,
            duplicate: 200,
            min_delay_ms: 1,
            max_delay_ms: 800,
        };
        sim.run_until(secs(3600.0));
        let events = sim.events();
        let acquired = sim.acquired();
        assert!(
            !acquired.is_empty(),
            "seed {seed}: never bound: {:?}",
            sim.sent()
        );
        // Whatever happened, the events tell a consistent story: an address is acquired
        // only when none is held, and renewed or lost only while one is held.
        let mut held: Option<Ipv4Addr> = None;
        for (at, e) in &events {
            match e {
                Event::LeaseAcquired(l) => {
                    assert_eq!(held, None, "seed {seed} at {at:?}");
                    held = Some(l.address);
                }
                Event::LeaseRenewed(l) => assert_eq!(held, Some(l.address), "seed {seed}"),
                Event::LeaseChanged { old, new } => {
                    assert_eq!(held, Some(old.address));
                    held = Some(new.address);
                }
                Event::LeaseLost { lease, .. } => {
                    assert_eq!(held, Some(lease.address), "seed {seed}");
                    held = None;
                }
                other => panic!("seed {seed}: {other:?}"),
            }
        }
        // Every lease the client reports was granted by the server that names it.
        for (_, l) in &acquired {
            let server = sim
                .servers
                .iter()
                .find(|s| s.address == l.server_identifier)
                .unwrap();
            assert!(server.leases.get(l.address).is_some(), "seed {seed}");
        }
        assert!(held.is_some(), "seed {seed}: lost the lease for good");
    }
}

#[test]
fn requests_repeat_the_secs_of_the_last_discover() {
    let mut sim = Sim::one(vec![Server::new(
        SERVER_A,
        "192.0.2.10",
        "192.0.2.19",
        settings(1000),
    )]);
    sim.servers[0].up = false;
    sim.run_until(secs(2.0));
    sim.servers[0].up = true;
    sim.run_until(secs(30.0));
    let discovers = sim.sent_of(MessageType::DISCOVER);
    assert_eq!(discovers.len(), 2);
    let last = &discovers[1];
    assert_eq!(u64::from(last.1.message.secs), last.0.as_secs());
    assert!(last.1.message.secs >= 3);
    let (at, request) = &sim.sent_of(MessageType::REQUEST)[0];
    assert_eq!(*at, last.0 + secs(1.0));
    assert_eq!(request.message.secs, last.1.message.secs);
    assert_eq!(sim.acquired().len(), 1);
}

#[test]
fn a_nak_while_requesting_restarts_after_ten_seconds_unless_another_server_sent_it() {
    let mut a = Server::new(SERVER_A, "192.0.2.10", "192.0.2.19", settings(1000));
    a.ignore_requests = true;
    let mut sim = Sim::new(
        Client::new(Config::ethernet(MAC), Duration::ZERO),
        vec![a],
        11,
    );
    sim.run_until(secs(1.5));
    let State::Requesting(requesting) = sim.client.state().clone() else {
        panic!("{:?}", sim.client.state());
    };
    let nak = |server: Ipv4Addr| Message {
        op: charrua_wire::Op::BOOTREPLY,
        xid: requesting.exchange.xid,
        chaddr: HardwareAddress::ethernet(MAC),
        options: vec![
            DhcpOption::MessageType(MessageType::NAK),
            DhcpOption::ServerIdentifier(server),
        ],
        ..Message::default()
    };
    let now = sim.now;
    let out = sim.client.on_packet(now, &nak(SERVER_B), &mut sim.rng);
    assert!(out.transmits.is_empty() && out.events.is_empty());
    assert_eq!(
        state_name(&sim.client),
        "requesting",
        "a NAK from a server not chosen"
    );
    let out = sim.client.on_packet(now, &nak(SERVER_A), &mut sim.rng);
    assert!(out.transmits.is_empty() && out.events.is_empty());
    assert_eq!(state_name(&sim.client), "init");
    assert_eq!(sim.client.next_deadline(), Some(now + secs(10.0)));
}
