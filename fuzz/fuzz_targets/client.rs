//! The client state machine under arbitrary packets, timeouts and calls. Nothing may panic,
//! a timeout never grants a lease, and a granted lease is always the `yiaddr` of a DHCPACK
//! carrying the `xid` the client was waiting on.
#![no_main]

use std::net::Ipv4Addr;
use std::time::Duration;

use charrua_client::{Client, Config, Event, Lease, Rng, State};
use charrua_wire::{HardwareAddress, Message, MessageType};
use libfuzzer_sys::fuzz_target;

const MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];

struct Step(u32);

impl Rng for Step {
    fn next_u32(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(0x9e37_79b9);
        self.0
    }
}

/// Reads the fuzz input front to back; running out gives zeros.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn u32(&mut self) -> u32 {
        let mut v = 0u32;
        for _ in 0..4 {
            v = v << 8 | u32::from(self.byte().unwrap_or(0));
        }
        v
    }

    fn bytes(&mut self, n: usize) -> &[u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }
}

fn awaiting(client: &Client) -> Option<u32> {
    match client.state() {
        State::Selecting(s) => Some(s.exchange.xid),
        State::Requesting(s) => Some(s.exchange.xid),
        State::Renewing(s) => Some(s.exchange.xid),
        State::Rebinding(s) => Some(s.exchange.xid),
        State::Rebooting(s) => Some(s.exchange.xid),
        State::Informing(s) => s.exchange.map(|e| e.xid),
        _ => None,
    }
}

fn granted(events: &[Event]) -> impl Iterator<Item = &Lease> {
    events.iter().filter_map(|e| match e {
        Event::LeaseAcquired(l) | Event::LeaseRenewed(l) => Some(l),
        Event::LeaseChanged { new, .. } => Some(new),
        _ => None,
    })
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let flags = input.byte().unwrap_or(0);
    let mut config = Config::ethernet(MAC);
    config.rapid_commit = flags & 1 != 0;
    config.anonymity = flags & 2 != 0;
    config.offer_window = Duration::from_millis(u64::from(flags >> 4) * 250);
    let mut now = Duration::from_secs(100);
    let address = Ipv4Addr::new(192, 0, 2, 10);
    let mut client = match (flags >> 2) & 3 {
        0 | 1 => Client::new(config, now),
        2 => Client::inform(config, address, now),
        _ => {
            let remembered = Lease {
                address: Ipv4Addr::from(input.u32()),
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
                server_identifier: Ipv4Addr::from(input.u32()),
                start: Duration::ZERO,
                options: Vec::new(),
            };
            Client::reboot(config, remembered, now)
        }
    };
    let mut rng = Step(u32::from(flags));
    while let Some(op) = input.byte() {
        match op % 5 {
            0 => {
                now = now.saturating_add(Duration::from_millis(u64::from(input.u32())));
                let out = client.on_timeout(now, &mut rng);
                assert!(
                    granted(&out.events).next().is_none(),
                    "a timeout granted a lease"
                );
            }
            1 => {
                if let Some(at) = client.next_deadline() {
                    now = now.max(at);
                }
                let out = client.on_timeout(now, &mut rng);
                assert!(
                    granted(&out.events).next().is_none(),
                    "a timeout granted a lease"
                );
                if let Some(next) = client.next_deadline() {
                    assert!(next > now, "deadline {next:?} not after {now:?}");
                }
            }
            2 | 3 => {
                let len = usize::from(input.byte().unwrap_or(0)) * 3;
                let Ok(mut message) = Message::parse(input.bytes(len)) else {
                    continue;
                };
                if op % 5 == 3 {
                    // Aim at the exchange in progress, from the client's own chaddr.
                    message.xid = awaiting(&client).unwrap_or(message.xid);
                    message.chaddr = HardwareAddress::ethernet(MAC);
                }
                let expected = awaiting(&client);
                let out = client.on_packet(now, &message, &mut rng);
                for lease in granted(&out.events) {
                    assert_eq!(Some(message.xid), expected);
                    assert_eq!(message.message_type(), Some(MessageType::ACK));
                    assert_eq!(lease.address, message.yiaddr);
                }
            }
            _ => {
                let held = client.lease().is_some();
                let result = if op & 0x80 != 0 {
                    client.decline(now, &mut rng).map(|_| ())
                } else {
                    client.release(&mut rng).map(|_| ())
                };
                assert_eq!(result.is_ok(), held);
            }
        }
    }
});
