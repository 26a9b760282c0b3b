//! The input function against RFC 2131 §4.3, rule by rule.

use std::net::Ipv4Addr;

use charrua_server::input::{Destination, Incoming, Outcome, Reply, Why, input};
use charrua_server::leases::{LeaseState, Leases, Time};
use charrua_server::policy::{Host, Network, Policy, Pool, PoolAccess, Settings, Subnet};
use charrua_wire::options::{ClientId, RelayAgentInformation, RelaySubOption};
use charrua_wire::{
    DhcpOption, Flags, HardwareAddress, HardwareType, Message, MessageType, Op, OptionCode, Text,
};

const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const RELAY: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const NOW: Time = 1_000_000;

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn params() -> Settings {
    let mut p = Settings {
        authoritative: true,
        default_lease_time: 600,
        ..Settings::default()
    };
    p.set_option(DhcpOption::Routers(vec![SERVER]));
    p.set_option(DhcpOption::DomainNameServers(vec![SERVER]));
    p.set_option(DhcpOption::DomainName(Text::from("example.com")));
    p
}

fn subnet(network: &str, low: &str, high: &str, params: Settings) -> Subnet {
    Subnet {
        network: ip(network),
        netmask: ip("255.255.255.0"),
        params: params.clone(),
        pools: vec![Pool {
            ranges: vec![(ip(low), ip(high))],
            access: PoolAccess::default(),
            params,
        }],
    }
}

fn policy_with(params: Settings, hosts: Vec<Host>) -> Policy {
    Policy::new(
        vec![
            Network {
                name: Text::from("local"),
                subnets: vec![subnet(
                    "192.0.2.0",
                    "192.0.2.100",
                    "192.0.2.102",
                    params.clone(),
                )],
            },
            Network {
                name: Text::from("relayed"),
                subnets: vec![subnet(
                    "198.51.100.0",
                    "198.51.100.10",
                    "198.51.100.20",
                    params,
                )],
            },
        ],
        hosts,
    )
}

fn policy() -> Policy {
    policy_with(params(), Vec::new())
}

fn mac(n: u8) -> HardwareAddress {
    HardwareAddress::ethernet([2, 0, 0, 0, 0, n])
}

fn request(kind: MessageType, client: u8, options: Vec<DhcpOption>) -> Message {
    let mut all = vec![DhcpOption::MessageType(kind)];
    all.extend(options);
    Message {
        op: Op::BOOTREQUEST,
        xid: 0x1000 + u32::from(client),
        chaddr: mac(client),
        options: all,
        ..Message::default()
    }
}

fn local(message: &Message) -> Incoming<'_> {
    Incoming {
        message,
        link_address: Some(SERVER),
        local_address: SERVER,
    }
}

fn reply(outcome: Outcome) -> Reply {
    match outcome {
        Outcome::Reply(reply) => reply,
        other => panic!("expected a reply, got {other:?}"),
    }
}

fn kind(reply: &Reply) -> MessageType {
    reply.message.message_type().unwrap()
}

/// DISCOVER, then REQUEST for the offer, applying every change: returns the ACK.
fn acquire(policy: &Policy, leases: &mut Leases, client: u8, now: Time) -> Reply {
    let offer = reply(input(
        policy,
        leases,
        &local(&request(MessageType::DISCOVER, client, vec![])),
        now,
    ));
    assert_eq!(kind(&offer), MessageType::OFFER);
    offer.changes.iter().for_each(|l| leases.apply(l.clone()));
    let req = request(
        MessageType::REQUEST,
        client,
        vec![
            DhcpOption::ServerIdentifier(SERVER),
            DhcpOption::RequestedAddress(offer.message.yiaddr),
        ],
    );
    let ack = reply(input(policy, leases, &local(&req), now));
    assert_eq!(kind(&ack), MessageType::ACK);
    ack.changes.iter().for_each(|l| leases.apply(l.clone()));
    ack
}

fn leases_for(policy: &Policy) -> Leases {
    let mut leases = Leases::new();
    let (ranges, reserved) = policy.ranges_and_reservations();
    leases.set_ranges(&ranges, &reserved);
    leases
}

#[test]
fn offers_a_free_address_with_the_requested_options_in_order() {
    let policy = policy();
    let leases = leases_for(&policy);
    let prl = vec![
        OptionCode::DOMAIN_NAME,
        OptionCode::ROUTERS,
        OptionCode(200),
    ];
    let discover = request(
        MessageType::DISCOVER,
        1,
        vec![DhcpOption::ParameterRequestList(prl)],
    );
    let offer = reply(input(&policy, &leases, &local(&discover), NOW));
    assert_eq!(kind(&offer), MessageType::OFFER);
    assert_eq!(offer.message.yiaddr, ip("192.0.2.100"));
    assert_eq!(offer.message.xid, discover.xid);
    let codes: Vec<u8> = offer.message.options.iter().map(|o| o.code().0).collect();
    assert_eq!(codes, [53, 54, 51, 58, 59, 1, 15, 3]);
    assert_eq!(
        offer.message.option(OptionCode::LEASE_TIME),
        Some(&DhcpOption::LeaseTime(600))
    );
    assert_eq!(
        offer.message.option(OptionCode::RENEWAL_TIME),
        Some(&DhcpOption::RenewalTime(300))
    );
    assert_eq!(
        offer.message.option(OptionCode::REBINDING_TIME),
        Some(&DhcpOption::RebindingTime(525))
    );
    assert_eq!(
        offer.destination,
        Destination::Hardware {
            address: ip("192.0.2.100"),
            hardware: mac(1)
        }
    );
    assert_eq!(offer.changes.len(), 1);
    assert_eq!(offer.changes[0].state, LeaseState::Offered);
}

#[test]
fn holds_an_offered_address_so_two_clients_never_get_the_same_offer() {
    let policy = policy();
    let mut leases = leases_for(&policy);
    let first = reply(input(
        &policy,
        &leases,
        &local(&request(MessageType::DISCOVER, 1, vec![])),
        NOW,
    ));
    first.changes.iter().for_each(|l| leases.apply(l.clone()));
    let second = reply(input(
        &policy,
        &leases,
        &local(&request(MessageType::DISCOVER, 2, vec![])),
        NOW,
    ));
    assert_ne!(first.message.yiaddr, second.message.yiaddr);
}

#[test]
fn broadcasts_the_offer_when_the_client_asks_for_broadcast() {
    let policy = policy();
    let leases = leases_for(&policy);
    let mut discover = request(MessageType::DISCOVER, 1, vec![]);
    discover.flags = Flags::BROADCAST;
    let offer = reply(input(&policy, &leases, &local(&discover), NOW));
    assert_eq!(offer.destination, Destination::Broadcast);
}

#[test]
fn acks_a_request_for_its_own_offer_and_commits_an_active_lease() {
    let policy = policy();
    let mut leases = leases_for(&policy);
    let ack = acquire(&policy, &mut leases, 1, NOW);
    assert_eq!(ack.changes[0].state, LeaseState::Active);
    assert_eq!(ack.changes[0].ends, NOW + 600);
    assert_eq!(
        leases.get(ack.message.yiaddr).unwrap().state,
        LeaseState::Active
    );
}

#[test]
fn lets_go_of_the_held_address_when_the_client_picks_another_server() {
    let policy = policy();
    let mut leases = leases_for(&policy);
    let offer = reply(input(
        &policy,
        &leases,
        &local(&request(MessageType::DISCOVER, 1, vec![])),
        NOW,
    ));
    offer.changes.iter().for_each(|l| leases.apply(l.clone()));
    let elsewhere = request(
        MessageType::REQUEST,
        1,
        vec![
            DhcpOption::ServerIdentifier(ip("192.0.2.250")),
            DhcpOption::RequestedAddress(ip("192.0.2.77")),
        ],
    );
    match input(&policy, &leases, &local(&elsewhere), NOW) {
        Outcome::Update(changes) => {
            assert_eq!(changes[0].address, offer.message.yiaddr);
            assert_eq!(changes[0].state, LeaseState::Free);
        }
        other => panic!("expected an update, got {other:?}"),
    }
}

#[test]
fn naks_init_reboot_for_an_address_on_another_network_when_authoritative() {
    let policy = policy();
    let leases = leases_for(&policy);
    let reboot = request(
        MessageType::REQUEST,
        1,
        vec![DhcpOption::RequestedAddress(ip("203.0.113.5"))],
    );
    let nak = reply(input(&policy, &leases, &local(&reboot), NOW));
    assert_eq!(kind(&nak), MessageType::NAK);
    assert_eq!(nak.destination, Destination::Broadcast);
    assert_eq!(nak.message.yiaddr, Ipv4Addr::UNSPECIFIED);
}

#[test]
fn stays_silent_on_a_wrong_init_reboot_address_when_not_authoritative() {
    let policy = policy_with(
        Settings {
            authoritative: false,
            ..params()
        },
        Vec::new(),
    );
    let leases = leases_for(&policy);
    let reboot = request(
        MessageType::REQUEST,
        1,
        vec![DhcpOption::RequestedAddress(ip("203.0.113.5"))],
    );
    assert_eq!(
        input(&policy, &leases, &local(&reboot), NOW),
        Outcome::Silence(Why::WrongNetwork)
    );
}

#[test]
fn stays_silent_on_init_reboot_from_a_client_it_has_no_record_of() {
    let policy = policy();
    let leases = leases_for(&policy);
    let reboot = request(
        MessageType::REQUEST,
        1,
        vec![DhcpOption::RequestedAddress(ip("192.0.2.101"))],
    );
    assert_eq!(
        input(&policy, &leases, &local(&reboot), NOW),
        Outcome::Silence(Why::NoRecord)
    );
}

#[test]
fn acks_init_reboot_for_the_clients_own_lease() {
    let policy = policy();
    let mut leases = leases_for(&policy);
    let ack = acquire(&policy, &mut leases, 1, NOW);
    let reboot = request(
        MessageType::REQUEST,
        1,
        vec![DhcpOption::RequestedAddress(ack.message.yiaddr)],
    );
    let again = reply(input(&policy, &leases, &local(&reboot), NOW + 10));
    assert_eq!(kind(&again), MessageType::ACK);
    assert_eq!(again.message.yiaddr, ack.message.yiaddr);
}

#[test]
fn naks_init_reboot_for_an_address_leased_to_another_client() {
    let policy = policy();
    let mut leases = leases_for(&policy);
    let ack = acquire(&policy, &mut leases, 1, NOW);
    let reboot = request(
        MessageType::REQUEST,
        2,
        vec![DhcpOption::RequestedAddress(ack.message.yiaddr)],
    );
    assert_eq!(
        kind(&reply(input(&policy, &leases, &local(&reboot), NOW))),
        MessageType::NAK
    );
}

#[test]
fn renews_a_lease_by_unicast_to_ciaddr_and_extends_it() {
    let policy = policy();
    let mut leases = leases_for(&policy);
    let ack = acquire(&policy, &mut leases, 1, NOW);
    let mut renew = request(MessageType::REQUEST, 1, vec![]);
    renew.ciaddr = ack.message.yiaddr;
    let renewal = Incoming {
        message: &renew,
        link_address: None,
        local_address: SERVER,
    };
    let again = reply(input(&policy, &leases, &renewal, NOW + 300));
    assert_eq!(kind(&again), MessageType::ACK);
    assert_eq!(again.destination, Destination::Client(ack.message.yiaddr));
    assert_eq!(again.message.ciaddr, ack.message.yiaddr);
    assert_eq!(again.changes[0].ends, NOW + 300 + 600);
    assert_eq!(again.changes[0].starts, NOW);
}

#[test]
fn quarantines_a_declined_address_for_the_probation_time() {
    let policy = policy();
    let mut leases = leases_for(&policy);
    let ack = acquire(&policy, &mut leases, 1, NOW);
    let decline = request(
        MessageType::DECLINE,
        1,
        vec![
            DhcpOption::RequestedAddress(ack.message.yiaddr),
            DhcpOption::ServerIdentifier(SERVER),
        ],
    );
    let Outcome::Update(changes) = input(&policy, &leases, &local(&decline), NOW) else {
        panic!("expected an update")
    };
    assert_eq!(changes[0].state, LeaseState::Abandoned);
    assert_eq!(changes[0].ends, NOW + 86_400);
    changes.into_iter().for_each(|l| leases.apply(l));
    let next = reply(input(
        &policy,
        &leases,
        &local(&request(MessageType::DISCOVER, 1, vec![])),
        NOW,
    ));
    assert_ne!(next.message.yiaddr, ack.message.yiaddr);
}

#[test]
fn frees_a_released_address() {
    let policy = policy();
    let mut leases = leases_for(&policy);
    let ack = acquire(&policy, &mut leases, 1, NOW);
    let mut release = request(
        MessageType::RELEASE,
        1,
        vec![DhcpOption::ServerIdentifier(SERVER)],
    );
    release.ciaddr = ack.message.yiaddr;
    let Outcome::Update(changes) = input(&policy, &leases, &local(&release), NOW + 5) else {
        panic!("expected an update")
    };
    assert_eq!(changes[0].state, LeaseState::Released);
    assert!(!changes[0].holds(NOW + 5));
}

#[test]
fn answers_inform_without_a_lease_or_yiaddr() {
    let policy = policy();
    let leases = leases_for(&policy);
    let mut inform = request(MessageType::INFORM, 1, vec![]);
    inform.ciaddr = ip("192.0.2.50");
    let ack = reply(input(&policy, &leases, &local(&inform), NOW));
    assert_eq!(kind(&ack), MessageType::ACK);
    assert_eq!(ack.message.yiaddr, Ipv4Addr::UNSPECIFIED);
    assert!(ack.message.option(OptionCode::LEASE_TIME).is_none());
    assert!(ack.changes.is_empty());
    assert_eq!(ack.destination, Destination::Client(ip("192.0.2.50")));
}

#[test]
fn serves_a_relayed_client_from_the_relays_subnet_and_echoes_option_82_last() {
    let policy = policy();
    let leases = leases_for(&policy);
    let info = RelayAgentInformation(vec![RelaySubOption::CircuitId(b"port7".to_vec())]);
    let mut discover = request(
        MessageType::DISCOVER,
        1,
        vec![DhcpOption::RelayAgentInformation(info.clone())],
    );
    discover.giaddr = RELAY;
    let relayed = Incoming {
        message: &discover,
        link_address: None,
        local_address: SERVER,
    };
    let offer = reply(input(&policy, &leases, &relayed, NOW));
    assert_eq!(offer.message.yiaddr, ip("198.51.100.10"));
    assert_eq!(offer.destination, Destination::Relay(RELAY));
    assert_eq!(offer.message.giaddr, RELAY);
    assert_eq!(
        offer.message.options.last(),
        Some(&DhcpOption::RelayAgentInformation(info))
    );
}

#[test]
fn uses_link_selection_and_server_identifier_override_from_the_relay() {
    let policy = policy();
    let leases = leases_for(&policy);
    let override_id = ip("198.51.100.1");
    let info = RelayAgentInformation(vec![
        RelaySubOption::LinkSelection(ip("192.0.2.0")),
        RelaySubOption::ServerIdOverride(override_id),
    ]);
    let mut discover = request(
        MessageType::DISCOVER,
        1,
        vec![DhcpOption::RelayAgentInformation(info)],
    );
    discover.giaddr = RELAY;
    let relayed = Incoming {
        message: &discover,
        link_address: None,
        local_address: SERVER,
    };
    let offer = reply(input(&policy, &leases, &relayed, NOW));
    assert_eq!(offer.message.yiaddr, ip("192.0.2.100"));
    assert_eq!(offer.message.server_identifier(), Some(override_id));
}

#[test]
fn sets_the_broadcast_bit_on_a_nak_through_a_relay() {
    let policy = policy();
    let leases = leases_for(&policy);
    let mut reboot = request(
        MessageType::REQUEST,
        1,
        vec![DhcpOption::RequestedAddress(ip("192.0.2.5"))],
    );
    reboot.giaddr = RELAY;
    let relayed = Incoming {
        message: &reboot,
        link_address: None,
        local_address: SERVER,
    };
    let nak = reply(input(&policy, &leases, &relayed, NOW));
    assert_eq!(kind(&nak), MessageType::NAK);
    assert!(nak.message.flags.broadcast());
    assert_eq!(nak.destination, Destination::Relay(RELAY));
}

#[test]
fn gives_a_host_its_fixed_address_and_host_options() {
    let mut overrides = charrua_server::Params::default();
    overrides
        .options
        .push(DhcpOption::DomainName(Text::from("lab.example.com")));
    let host = Host {
        name: Text::from("printer"),
        hardware: Some((HardwareType::ETHERNET, mac(9))),
        client_id: None,
        fixed_addresses: vec![ip("192.0.2.9")],
        overrides,
    };
    let policy = policy_with(params(), vec![host]);
    let leases = leases_for(&policy);
    let offer = reply(input(
        &policy,
        &leases,
        &local(&request(MessageType::DISCOVER, 9, vec![])),
        NOW,
    ));
    assert_eq!(offer.message.yiaddr, ip("192.0.2.9"));
    assert!(
        offer.changes.is_empty(),
        "fixed addresses need no lease record"
    );
    assert_eq!(
        offer.message.option(OptionCode::DOMAIN_NAME),
        Some(&DhcpOption::DomainName(Text::from("lab.example.com")))
    );
}

#[test]
fn ignores_unknown_clients_when_they_are_denied() {
    let policy = policy_with(
        Settings {
            allow_unknown_clients: false,
            ..params()
        },
        Vec::new(),
    );
    let leases = leases_for(&policy);
    let discover = request(MessageType::DISCOVER, 1, vec![]);
    assert_eq!(
        input(&policy, &leases, &local(&discover), NOW),
        Outcome::Silence(Why::UnknownClient)
    );
}

#[test]
fn commits_at_once_on_rapid_commit_when_enabled() {
    let policy = policy_with(
        Settings {
            rapid_commit: true,
            ..params()
        },
        Vec::new(),
    );
    let leases = leases_for(&policy);
    let discover = request(MessageType::DISCOVER, 1, vec![DhcpOption::RapidCommit]);
    let ack = reply(input(&policy, &leases, &local(&discover), NOW));
    assert_eq!(kind(&ack), MessageType::ACK);
    assert!(ack.message.option(OptionCode::RAPID_COMMIT).is_some());
    assert_eq!(ack.changes[0].state, LeaseState::Active);
}

#[test]
fn echoes_the_client_identifier() {
    let policy = policy();
    let leases = leases_for(&policy);
    let id = ClientId {
        kind: 255,
        id: vec![0, 0, 0, 1, 0, 3, 0, 1, 2, 0, 0, 0, 0, 1],
    };
    let discover = request(
        MessageType::DISCOVER,
        1,
        vec![DhcpOption::ClientIdentifier(id.clone())],
    );
    let offer = reply(input(&policy, &leases, &local(&discover), NOW));
    assert_eq!(offer.message.client_id(), Some(&id));
}

#[test]
fn drops_requested_options_from_the_end_to_fit_the_size_limit() {
    let mut p = params();
    p.set_option(DhcpOption::VendorSpecific(vec![7; 250]));
    p.set_option(DhcpOption::Other {
        code: OptionCode(224),
        data: vec![1; 250],
    });
    p.set_option(DhcpOption::Other {
        code: OptionCode(225),
        data: vec![2; 250],
    });
    let policy = policy_with(p, Vec::new());
    let leases = leases_for(&policy);
    let prl = vec![
        OptionCode::ROUTERS,
        OptionCode(43),
        OptionCode(224),
        OptionCode(225),
    ];
    let discover = request(
        MessageType::DISCOVER,
        1,
        vec![DhcpOption::ParameterRequestList(prl)],
    );
    let offer = reply(input(&policy, &leases, &local(&discover), NOW));
    let len = offer.message.emitted_len(&offer.settings).unwrap();
    assert!(len <= 548, "reply of {len} bytes");
    assert!(offer.message.option(OptionCode::ROUTERS).is_some());
    assert!(offer.message.option(OptionCode(225)).is_none());
}

#[test]
fn hands_out_every_address_once_then_reports_the_pool_exhausted() {
    let policy = policy();
    let mut leases = leases_for(&policy);
    let mut given = Vec::new();
    for client in 1..=3 {
        given.push(acquire(&policy, &mut leases, client, NOW).message.yiaddr);
    }
    given.sort();
    assert_eq!(
        given,
        [ip("192.0.2.100"), ip("192.0.2.101"), ip("192.0.2.102")]
    );
    let discover = request(MessageType::DISCOVER, 4, vec![]);
    assert_eq!(
        input(&policy, &leases, &local(&discover), NOW),
        Outcome::Warning(Why::NoFreeAddress)
    );
}

#[test]
fn gives_a_returning_client_its_old_address_after_expiry() {
    let policy = policy();
    let mut leases = leases_for(&policy);
    let first = acquire(&policy, &mut leases, 2, NOW).message.yiaddr;
    acquire(&policy, &mut leases, 1, NOW);
    let later = NOW + 10_000;
    let again = acquire(&policy, &mut leases, 2, later).message.yiaddr;
    assert_eq!(again, first);
}

#[test]
fn allocates_from_the_subnet_named_by_option_118() {
    let policy = policy();
    let leases = leases_for(&policy);
    let discover = request(
        MessageType::DISCOVER,
        1,
        vec![DhcpOption::SubnetSelection(ip("198.51.100.0"))],
    );
    let offer = reply(input(&policy, &leases, &local(&discover), NOW));
    assert_eq!(offer.message.yiaddr, ip("198.51.100.10"));
}

#[test]
fn rebinds_a_lease_broadcast_from_a_client_with_an_address() {
    let policy = policy();
    let mut leases = leases_for(&policy);
    let ack = acquire(&policy, &mut leases, 1, NOW);
    let mut rebind = request(MessageType::REQUEST, 1, vec![]);
    rebind.ciaddr = ack.message.yiaddr;
    rebind.flags = Flags::BROADCAST;
    let again = reply(input(&policy, &leases, &local(&rebind), NOW + 530));
    assert_eq!(kind(&again), MessageType::ACK);
    // A client with an address is answered at that address (RFC 2131 §4.1).
    assert_eq!(again.destination, Destination::Client(ack.message.yiaddr));
    assert_eq!(again.changes[0].ends, NOW + 530 + 600);
}

#[test]
fn naks_a_renewal_of_an_address_leased_to_another_client() {
    let policy = policy();
    let mut leases = leases_for(&policy);
    let ack = acquire(&policy, &mut leases, 1, NOW);
    let mut renew = request(MessageType::REQUEST, 2, vec![]);
    renew.ciaddr = ack.message.yiaddr;
    let nak = reply(input(&policy, &leases, &local(&renew), NOW + 10));
    assert_eq!(kind(&nak), MessageType::NAK);
    assert_eq!(nak.destination, Destination::Broadcast);
}
