//! Arbitrary packets and timeouts: the client never panics, never stalls on a deadline it
//! has passed, and never reports a lease that no packet granted.

use std::net::Ipv4Addr;
use std::time::Duration;

use charrua_client::{Client, Config, Event, Lease, Rng, State};
use charrua_wire::{DhcpOption, HardwareAddress, Message, MessageType, Op};
use proptest::prelude::*;

const MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];

struct Counter(u32);

impl Rng for Counter {
    fn next_u32(&mut self) -> u32 {
        // A fixed odd step visits every value; xids stay distinct over a run.
        self.0 = self.0.wrapping_add(0x9e37_79b9);
        self.0
    }
}

/// A well-formed reply with chosen fields.
#[derive(Debug, Clone)]
struct Reply {
    kind: u8,
    echo_xid: bool,
    xid: u32,
    ours: bool,
    yiaddr: [u8; 4],
    server: Option<[u8; 4]>,
    lease_time: Option<u32>,
    t1: Option<u32>,
    t2: Option<u32>,
    rapid: bool,
    extra: Vec<(u8, Vec<u8>)>,
}

#[derive(Debug, Clone)]
enum Step {
    Wait(u32),
    UntilDeadline,
    Bytes(Vec<u8>),
    Reply(Reply),
    Decline,
    Release,
}

fn reply() -> impl Strategy<Value = Reply> {
    let kind = prop_oneof![3 => Just(2u8), 4 => Just(5u8), 1 => Just(6u8), 1 => any::<u8>()];
    let addr = prop_oneof![
        3 => Just([192, 0, 2, 10]),
        1 => Just([0, 0, 0, 0]),
        1 => Just([255, 255, 255, 255]),
        2 => any::<[u8; 4]>()
    ];
    let time = prop_oneof![Just(0u32), Just(u32::MAX), 0u32..5_000, any::<u32>()];
    (
        (
            kind,
            prop::bool::weighted(0.8),
            any::<u32>(),
            prop::bool::weighted(0.9),
        ),
        (addr, proptest::option::weighted(0.8, any::<[u8; 4]>())),
        (
            proptest::option::weighted(0.8, time.clone()),
            proptest::option::of(time.clone()),
            proptest::option::of(time),
        ),
        any::<bool>(),
        prop::collection::vec(
            (any::<u8>(), prop::collection::vec(any::<u8>(), 0..8)),
            0..3,
        ),
    )
        .prop_map(
            |(
                (kind, echo_xid, xid, ours),
                (yiaddr, server),
                (lease_time, t1, t2),
                rapid,
                extra,
            )| {
                Reply {
                    kind,
                    echo_xid,
                    xid,
                    ours,
                    yiaddr,
                    server,
                    lease_time,
                    t1,
                    t2,
                    rapid,
                    extra,
                }
            },
        )
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        2 => (0u32..100_000_000).prop_map(Step::Wait),
        3 => Just(Step::UntilDeadline),
        1 => prop::collection::vec(any::<u8>(), 0..600).prop_map(Step::Bytes),
        6 => reply().prop_map(Step::Reply),
        1 => Just(Step::Decline),
        1 => Just(Step::Release),
    ]
}

/// The `xid` the client's current state waits on, and whether a DHCPACK there may grant a
/// lease (INFORMING waits on one too, but an ACK there only reports options).
fn awaiting(client: &Client) -> Option<(u32, bool)> {
    match client.state() {
        State::Selecting(s) => Some((s.exchange.xid, client.config().rapid_commit)),
        State::Requesting(s) => Some((s.exchange.xid, true)),
        State::Renewing(s) => Some((s.exchange.xid, true)),
        State::Rebinding(s) => Some((s.exchange.xid, true)),
        State::Rebooting(s) => Some((s.exchange.xid, true)),
        State::Informing(s) => s.exchange.map(|e| (e.xid, false)),
        _ => None,
    }
}

fn build(r: &Reply, client: &Client) -> Message {
    let xid = match (r.echo_xid, awaiting(client)) {
        (true, Some((xid, _))) => xid,
        _ => r.xid,
    };
    let mut options = vec![DhcpOption::MessageType(MessageType(r.kind))];
    options.extend(
        r.server
            .map(|s| DhcpOption::ServerIdentifier(Ipv4Addr::from(s))),
    );
    options.extend(r.lease_time.map(DhcpOption::LeaseTime));
    options.extend(r.t1.map(DhcpOption::RenewalTime));
    options.extend(r.t2.map(DhcpOption::RebindingTime));
    if r.rapid {
        options.push(DhcpOption::RapidCommit);
    }
    for (code, data) in &r.extra {
        if let Ok(option) = DhcpOption::from_payload(charrua_wire::OptionCode(*code), data) {
            options.push(option);
        }
    }
    Message {
        op: Op::BOOTREPLY,
        xid,
        yiaddr: Ipv4Addr::from(r.yiaddr),
        chaddr: if r.ours {
            HardwareAddress::ethernet(MAC)
        } else {
            HardwareAddress::ethernet([2, 0, 0, 0, 0, 2])
        },
        options,
        ..Message::default()
    }
}

/// The leases an output reports as granted.
fn granted(events: &[Event]) -> Vec<&Lease> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::LeaseAcquired(l) | Event::LeaseRenewed(l) => Some(l),
            Event::LeaseChanged { new, .. } => Some(new),
            _ => None,
        })
        .collect()
}

#[derive(Debug, Clone, Copy)]
enum Start {
    Fresh,
    Reboot,
    Inform,
}

fn start() -> impl Strategy<Value = Start> {
    prop_oneof![Just(Start::Fresh), Just(Start::Reboot), Just(Start::Inform)]
}

fn remembered() -> Lease {
    Lease {
        address: Ipv4Addr::new(192, 0, 2, 10),
        subnet_mask: None,
        routers: Vec::new(),
        dns_servers: Vec::new(),
        domain_name: None,
        search_list: Vec::new(),
        classless_routes: Vec::new(),
        mtu: None,
        lease_time: Some(Duration::from_secs(600)),
        renewal_time: Some(Duration::from_secs(300)),
        rebinding_time: Some(Duration::from_secs(525)),
        server_identifier: Ipv4Addr::new(192, 0, 2, 1),
        start: Duration::ZERO,
        options: Vec::new(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_and_never_invents_a_lease(
        start in start(),
        rapid_commit in any::<bool>(),
        anonymity in any::<bool>(),
        window_ms in 0u64..3_000,
        steps in prop::collection::vec(step(), 0..60),
    ) {
        let mut config = Config::ethernet(MAC);
        config.rapid_commit = rapid_commit;
        config.anonymity = anonymity;
        config.offer_window = Duration::from_millis(window_ms);
        let mut now = Duration::from_secs(1_000);
        let mut client = match start {
            Start::Fresh => Client::new(config, now),
            Start::Reboot => Client::reboot(config, remembered(), now),
            Start::Inform => Client::inform(config, Ipv4Addr::new(192, 0, 2, 50), now),
        };
        let mut rng = Counter(7);
        for step in steps {
            match step {
                Step::Wait(ms) => {
                    now += Duration::from_millis(u64::from(ms));
                    let out = client.on_timeout(now, &mut rng);
                    prop_assert!(granted(&out.events).is_empty(), "a timeout granted a lease");
                }
                Step::UntilDeadline => {
                    if let Some(at) = client.next_deadline() {
                        now = now.max(at);
                    }
                    let out = client.on_timeout(now, &mut rng);
                    prop_assert!(granted(&out.events).is_empty(), "a timeout granted a lease");
                    if let Some(next) = client.next_deadline() {
                        prop_assert!(next > now, "deadline {next:?} not after {now:?}");
                    }
                }
                Step::Bytes(bytes) => {
                    if let Ok(message) = Message::parse(&bytes) {
                        let expected = awaiting(&client);
                        let out = client.on_packet(now, &message, &mut rng);
                        for lease in granted(&out.events) {
                            prop_assert_eq!(Some((message.xid, true)), expected);
                            prop_assert_eq!(message.message_type(), Some(MessageType::ACK));
                            prop_assert_eq!(lease.address, message.yiaddr);
                        }
                    }
                }
                Step::Reply(r) => {
                    let message = build(&r, &client);
                    let expected = awaiting(&client);
                    let out = client.on_packet(now, &message, &mut rng);
                    let granted = granted(&out.events);
                    for lease in &granted {
                        // Granted only by a DHCPACK for us, answering the exchange the
                        // state was waiting on, for the address in yiaddr.
                        prop_assert_eq!(Some((message.xid, true)), expected);
                        prop_assert_eq!(message.message_type(), Some(MessageType::ACK));
                        prop_assert!(r.ours);
                        prop_assert_eq!(lease.address, message.yiaddr);
                        prop_assert!(!lease.address.is_unspecified());
                        prop_assert!(r.lease_time.is_some());
                        if let (Some(t1), Some(t2), Some(end)) =
                            (lease.renewal_time, lease.rebinding_time, lease.lease_time)
                        {
                            prop_assert!(t1 <= t2 && t2 <= end);
                        }
                    }
                    if !granted.is_empty() {
                        prop_assert!(client.lease().is_some());
                    }
                }
                Step::Decline => {
                    let held = client.lease().is_some();
                    prop_assert_eq!(client.decline(now, &mut rng).is_ok(), held);
                }
                Step::Release => {
                    let held = client.lease().is_some();
                    prop_assert_eq!(client.release(&mut rng).is_ok(), held);
                }
            }
        }
    }
}
