//! From `dhcpd.conf` to answers: a parsed configuration drives the input function.

use std::net::Ipv4Addr;

use charrua_server::{Incoming, Leases, Outcome, Policy, conf, input};
use charrua_wire::{DhcpOption, HardwareAddress, Message, MessageType, Op, OptionCode, Text};

const SERVER: Ipv4Addr = Ipv4Addr::new(192, 168, 10, 1);

fn policy() -> (Policy, Leases) {
    let text = include_str!("../../../testdata/dhcpd/small-office.conf");
    let (config, _warnings) = conf::parse("small-office.conf", text).expect("parses");
    let policy = Policy::from_config(&config);
    let mut leases = Leases::new();
    let (ranges, reserved) = policy.ranges_and_reservations();
    leases.set_ranges(&ranges, &reserved);
    (policy, leases)
}

fn discover(mac: [u8; 6]) -> Message {
    let prl = [1, 3, 6, 12, 15, 42, 119].map(OptionCode).to_vec();
    Message {
        op: Op::BOOTREQUEST,
        xid: 1,
        chaddr: HardwareAddress::ethernet(mac),
        options: vec![
            DhcpOption::MessageType(MessageType::DISCOVER),
            DhcpOption::ParameterRequestList(prl),
        ],
        ..Message::default()
    }
}

fn offer(policy: &Policy, leases: &Leases, mac: [u8; 6]) -> Message {
    let message = discover(mac);
    let incoming = Incoming {
        message: &message,
        link_address: Some(SERVER),
        local_address: SERVER,
    };
    match input(policy, leases, &incoming, 1_000) {
        Outcome::Reply(reply) => reply.message,
        other => panic!("expected an offer, got {other:?}"),
    }
}

#[test]
fn offers_an_unknown_client_an_address_from_the_subnet_range() {
    let (policy, leases) = policy();
    let m = offer(&policy, &leases, [2, 0, 0, 0, 0, 1]);
    assert_eq!(m.yiaddr, Ipv4Addr::new(192, 168, 10, 100));
    assert_eq!(
        m.option(OptionCode::LEASE_TIME),
        Some(&DhcpOption::LeaseTime(3600))
    );
    assert_eq!(
        m.option(OptionCode::ROUTERS),
        Some(&DhcpOption::Routers(vec![Ipv4Addr::new(192, 168, 10, 1)]))
    );
    assert_eq!(
        m.option(OptionCode::DOMAIN_NAME),
        Some(&DhcpOption::DomainName(Text::from("office.example")))
    );
    assert!(m.option(OptionCode::DOMAIN_SEARCH).is_some());
}

#[test]
fn gives_a_declared_host_its_fixed_address_and_host_name() {
    let (policy, leases) = policy();
    let m = offer(&policy, &leases, [0x00, 0x11, 0x22, 0x33, 0x44, 0x55]);
    assert_eq!(m.yiaddr, Ipv4Addr::new(192, 168, 10, 10));
    assert_eq!(
        m.option(OptionCode::HOST_NAME),
        Some(&DhcpOption::HostName(Text::from("printer")))
    );
}

#[test]
fn applies_host_lease_times_and_options_over_the_subnets() {
    let (policy, leases) = policy();
    let m = offer(&policy, &leases, [0x00, 0x11, 0x22, 0x33, 0x44, 0x66]);
    assert_eq!(m.yiaddr, Ipv4Addr::new(192, 168, 10, 11));
    assert_eq!(
        m.option(OptionCode::LEASE_TIME),
        Some(&DhcpOption::LeaseTime(604_800))
    );
    assert_eq!(
        m.option(OptionCode::DOMAIN_NAME_SERVERS),
        Some(&DhcpOption::DomainNameServers(vec![Ipv4Addr::new(
            192, 168, 10, 1
        )]))
    );
}
