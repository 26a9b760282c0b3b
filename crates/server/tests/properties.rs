//! For any sequence of requests from any set of clients, no address is ever bound to two
//! clients at once, and every address given is in a configured range or reserved.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use charrua_server::input::{Incoming, Outcome, input};
use charrua_server::leases::{LeaseState, Leases, Time};
use charrua_server::policy::{Host, Network, Policy, Pool, PoolAccess, Settings, Subnet};
use charrua_wire::{DhcpOption, HardwareAddress, HardwareType, Message, MessageType, Op, Text};
use proptest::prelude::*;

const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const RELAY: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);

fn subnet(network: [u8; 4], low: u8, high: u8) -> Subnet {
    let params = Settings {
        authoritative: true,
        default_lease_time: 60,
        ..Settings::default()
    };
    let at = |last: u8| Ipv4Addr::new(network[0], network[1], network[2], last);
    Subnet {
        network: Ipv4Addr::from(network),
        netmask: Ipv4Addr::new(255, 255, 255, 0),
        params: params.clone(),
        pools: vec![Pool {
            ranges: vec![(at(low), at(high))],
            access: PoolAccess::default(),
            params,
        }],
    }
}

fn policy() -> Policy {
    let host = Host {
        name: Text::from("fixed"),
        hardware: Some((HardwareType::ETHERNET, mac(0))),
        client_id: None,
        fixed_addresses: vec![Ipv4Addr::new(192, 0, 2, 50)],
        overrides: charrua_server::Params::default(),
    };
    Policy::new(
        vec![
            Network {
                name: Text::from("a"),
                subnets: vec![subnet([192, 0, 2, 0], 10, 13)],
            },
            Network {
                name: Text::from("b"),
                subnets: vec![subnet([198, 51, 100, 0], 10, 12)],
            },
        ],
        vec![host],
    )
}

fn mac(n: u8) -> HardwareAddress {
    HardwareAddress::ethernet([2, 0, 0, 0, 0, n])
}

#[derive(Debug, Clone)]
enum Step {
    Wait(u16),
    Send {
        client: u8,
        kind: u8,
        address: u8,
        relayed: bool,
        ours: bool,
        use_ciaddr: bool,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => (1u16..200).prop_map(Step::Wait),
        6 => (0u8..6, 1u8..=8, 8u8..16, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
            |(client, kind, address, relayed, ours, use_ciaddr)| Step::Send {
                client, kind, address, relayed, ours, use_ciaddr
            }
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn never_binds_an_address_to_two_clients(steps in prop::collection::vec(step(), 1..120)) {
        let policy = policy();
        let mut leases = Leases::new();
        let (ranges, reserved) = policy.ranges_and_reservations();
        leases.set_ranges(&ranges, &reserved);
        let mut now: Time = 1_000;
        // address → (client, end) of every DHCPACK given.
        let mut acked: BTreeMap<Ipv4Addr, (u8, Time)> = BTreeMap::new();
        for step in steps {
            let (client, kind, address, relayed, ours, use_ciaddr) = match step {
                Step::Wait(seconds) => {
                    now += Time::from(seconds);
                    continue;
                }
                Step::Send { client, kind, address, relayed, ours, use_ciaddr } => {
                    (client, kind, address, relayed, ours, use_ciaddr)
                }
            };
            let net = if relayed { [198, 51, 100, address] } else { [192, 0, 2, address] };
            let address = Ipv4Addr::from(net);
            let mut options = vec![DhcpOption::MessageType(MessageType(kind))];
            if !use_ciaddr {
                options.push(DhcpOption::RequestedAddress(address));
            }
            if ours {
                options.push(DhcpOption::ServerIdentifier(SERVER));
            }
            let message = Message {
                op: Op::BOOTREQUEST,
                xid: u32::from(client),
                chaddr: mac(client),
                ciaddr: if use_ciaddr { address } else { Ipv4Addr::UNSPECIFIED },
                giaddr: if relayed { RELAY } else { Ipv4Addr::UNSPECIFIED },
                options,
                ..Message::default()
            };
            let incoming = Incoming {
                message: &message,
                link_address: (!relayed).then_some(SERVER),
                local_address: SERVER,
            };
            let changes = match input(&policy, &leases, &incoming, now) {
                Outcome::Reply(reply) => {
                    let yiaddr = reply.message.yiaddr;
                    if reply.message.message_type() == Some(MessageType::ACK)
                        && !yiaddr.is_unspecified()
                    {
                        let in_range = ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&yiaddr));
                        prop_assert!(in_range || reserved.contains(&yiaddr), "{yiaddr} given");
                        if let Some(&(other, ends)) = acked.get(&yiaddr) {
                            prop_assert!(
                                other == client || ends <= now,
                                "{yiaddr} acked to client {client} while client {other} holds \
                                 it until {ends} (now {now})"
                            );
                        }
                        let lease_end = reply.changes.first().map_or(Time::MAX, |l| l.ends);
                        acked.insert(yiaddr, (client, lease_end));
                    }
                    reply.changes
                }
                Outcome::Update(changes) => changes,
                Outcome::Silence(_) | Outcome::Warning(_) => Vec::new(),
            };
            for lease in changes {
                // A release, a decline or a move to another address ends the client's
                // hold on the old one early.
                if lease.state != LeaseState::Active || !lease.holds(now) {
                    if let Some(entry) = acked.get_mut(&lease.address) {
                        entry.1 = entry.1.min(now);
                    }
                }
                leases.apply(lease);
            }
        }
    }
}
