//! The input function on a /24 and on a /8 pool, each half full: DISCOVER and REQUEST.

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Duration;

use charrua_server::input::{Incoming, Outcome, input};
use charrua_server::leases::{Lease, LeaseState, Leases};
use charrua_server::policy::{Network, Policy, Pool, PoolAccess, Settings, Subnet};
use charrua_wire::options::ClientId;
use charrua_wire::{
    DhcpOption, HardwareAddress, HardwareType, Message, MessageType, Op, OptionCode, Text,
};
use criterion::{Criterion, criterion_group, criterion_main};

const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const NOW: u64 = 1_800_000_000;

fn policy(network: Ipv4Addr, netmask: Ipv4Addr, low: Ipv4Addr, high: Ipv4Addr) -> Policy {
    let mut settings = Settings {
        authoritative: true,
        ..Settings::default()
    };
    settings.set_option(DhcpOption::Routers(vec![SERVER]));
    settings.set_option(DhcpOption::DomainNameServers(vec![
        SERVER,
        Ipv4Addr::new(192, 0, 2, 2),
    ]));
    settings.set_option(DhcpOption::DomainName(Text::from("example.com")));
    let subnet = Subnet {
        network,
        netmask,
        params: settings.clone(),
        pools: vec![Pool {
            ranges: vec![(low, high)],
            access: PoolAccess::default(),
            params: settings,
        }],
    };
    Policy::new(
        vec![Network {
            name: Text::from("bench"),
            subnets: vec![subnet],
        }],
        Vec::new(),
    )
}

fn mac(n: u32) -> HardwareAddress {
    let b = n.to_be_bytes();
    HardwareAddress::ethernet([2, 0, b[0], b[1], b[2], b[3]])
}

/// A lease database with the lower half of the range taken by active leases.
fn half_full(policy: &Policy, low: Ipv4Addr, high: Ipv4Addr) -> Leases {
    let mut leases = Leases::new();
    let (ranges, reserved) = policy.ranges_and_reservations();
    leases.set_ranges(&ranges, &reserved);
    let (low, high) = (u32::from(low), u32::from(high));
    for (i, address) in (low..=low + (high - low) / 2).enumerate() {
        let i = u32::try_from(i).unwrap();
        leases.apply(Lease {
            address: Ipv4Addr::from(address),
            client_id: None,
            hardware: Some((HardwareType::ETHERNET, mac(i))),
            starts: NOW - 100,
            ends: NOW + 3_500,
            cltt: NOW - 100,
            state: LeaseState::Active,
            hostname: None,
        });
    }
    leases
}

fn client_message(kind: MessageType, extra: Vec<DhcpOption>) -> Message {
    let chaddr = mac(0xffff_fff0);
    let mut options = vec![
        DhcpOption::MessageType(kind),
        DhcpOption::ClientIdentifier(ClientId {
            kind: 1,
            id: chaddr.as_bytes().to_vec(),
        }),
        DhcpOption::HostName(Text::from("bench-client")),
        DhcpOption::ParameterRequestList(
            [1, 3, 6, 15, 26, 28, 42, 119, 121].map(OptionCode).to_vec(),
        ),
    ];
    options.extend(extra);
    Message {
        op: Op::BOOTREQUEST,
        xid: 42,
        chaddr,
        options,
        ..Message::default()
    }
}

fn bench_pool(c: &mut Criterion, name: &str, policy: Policy, leases: Leases, link: Ipv4Addr) {
    let discover = client_message(MessageType::DISCOVER, vec![]);
    let incoming = Incoming {
        message: &discover,
        link_address: Some(link),
        local_address: SERVER,
    };
    let Outcome::Reply(offer) = input(&policy, &leases, &incoming, NOW) else {
        panic!("no offer")
    };
    let request = client_message(
        MessageType::REQUEST,
        vec![
            DhcpOption::ServerIdentifier(SERVER),
            DhcpOption::RequestedAddress(offer.message.yiaddr),
        ],
    );
    let mut leases = leases;
    offer.changes.into_iter().for_each(|l| leases.apply(l));
    let incoming_request = Incoming {
        message: &request,
        link_address: Some(link),
        local_address: SERVER,
    };

    let mut group = c.benchmark_group(name);
    group
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    group.bench_function("discover", |b| {
        b.iter(|| {
            input(
                black_box(&policy),
                black_box(&leases),
                black_box(&incoming),
                NOW,
            )
        })
    });
    group.bench_function("request", |b| {
        b.iter(|| {
            input(
                black_box(&policy),
                black_box(&leases),
                black_box(&incoming_request),
                NOW,
            )
        })
    });
    group.finish();
}

fn slash_24(c: &mut Criterion) {
    let (low, high) = (Ipv4Addr::new(192, 0, 2, 10), Ipv4Addr::new(192, 0, 2, 250));
    let policy = policy(
        Ipv4Addr::new(192, 0, 2, 0),
        Ipv4Addr::new(255, 255, 255, 0),
        low,
        high,
    );
    let leases = half_full(&policy, low, high);
    bench_pool(
        c,
        "input /24 half full",
        policy,
        leases,
        Ipv4Addr::new(192, 0, 2, 1),
    );
}

fn slash_8(c: &mut Criterion) {
    let (low, high) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 255, 255, 254));
    let policy = policy(
        Ipv4Addr::new(10, 0, 0, 0),
        Ipv4Addr::new(255, 0, 0, 0),
        low,
        high,
    );
    let leases = half_full(&policy, low, high);
    bench_pool(
        c,
        "input /8 half full",
        policy,
        leases,
        Ipv4Addr::new(10, 0, 0, 0),
    );
}

criterion_group!(benches, slash_24, slash_8);
criterion_main!(benches);
