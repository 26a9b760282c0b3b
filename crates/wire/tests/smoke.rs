//! A first end-to-end check of the codec: build, emit, parse, compare.

use charrua_wire::options::{ClasslessRoute, ClientId, DomainName};
use charrua_wire::*;
use std::net::Ipv4Addr;

fn sample() -> Message {
    Message {
        op: Op::BOOTREPLY,
        xid: 0xdeadbeef,
        flags: Flags::BROADCAST,
        yiaddr: Ipv4Addr::new(192, 0, 2, 10),
        chaddr: HardwareAddress::ethernet([0, 1, 2, 3, 4, 5]),
        options: vec![
            DhcpOption::MessageType(MessageType::OFFER),
            DhcpOption::ServerIdentifier(Ipv4Addr::new(192, 0, 2, 1)),
            DhcpOption::LeaseTime(3600),
            DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)),
            DhcpOption::Routers(vec![Ipv4Addr::new(192, 0, 2, 1)]),
            DhcpOption::DomainSearch(vec![
                DomainName::from_dotted("eng.example.com").unwrap(),
                DomainName::from_dotted("example.com").unwrap(),
                DomainName::from_dotted("sales.example.com").unwrap(),
                DomainName::from_dotted("example.org").unwrap(),
            ]),
            DhcpOption::ClasslessStaticRoutes(vec![ClasslessRoute {
                destination: Ipv4Addr::new(198, 51, 100, 0),
                prefix_len: 24,
                router: Ipv4Addr::new(192, 0, 2, 254),
            }]),
            DhcpOption::ClientIdentifier(ClientId::ethernet([0, 1, 2, 3, 4, 5])),
            DhcpOption::RapidCommit,
            DhcpOption::Other {
                code: OptionCode(224),
                data: vec![1, 2, 3],
            },
        ],
        ..Message::default()
    }
}

#[test]
fn round_trips() {
    let m = sample();
    let bytes = m.to_bytes(&EmitOptions::default()).unwrap();
    let back = Message::parse(&bytes).unwrap();
    assert_eq!(back, m);
    println!("{m}");
}

#[test]
fn long_option_splits_and_overloads() {
    let mut m = sample();
    m.options.push(DhcpOption::VendorSpecific(vec![7; 600]));
    let bytes = m.to_bytes(&EmitOptions::default()).unwrap();
    assert_eq!(Message::parse(&bytes).unwrap(), m);
    let settings = EmitOptions {
        max_len: Some(576),
        ..EmitOptions::default()
    };
    let err = m.to_bytes(&settings).unwrap_err();
    println!("{err}");
    m.options.pop();
    m.options.push(DhcpOption::VendorSpecific(vec![7; 400]));
    let bytes = m.to_bytes(&settings).unwrap();
    assert!(bytes.len() <= 576);
    let view = MessageView::new(&bytes).unwrap();
    assert!(
        view.raw_options()
            .any(|o| o.unwrap().code == OptionCode::OVERLOAD)
    );
    assert_eq!(Message::parse(&bytes).unwrap(), m);
}

#[test]
fn frame_round_trips() {
    let p = Packet {
        src_mac: MacAddr([2, 0, 0, 0, 0, 1]),
        dst_mac: MacAddr::BROADCAST,
        src_ip: Ipv4Addr::new(192, 0, 2, 1),
        dst_ip: Ipv4Addr::BROADCAST,
        src_port: 67,
        dst_port: 68,
        message: sample(),
    };
    let mut buf = [0u8; 1500];
    let n = p.emit(&mut buf, &EmitOptions::default()).unwrap();
    assert_eq!(Packet::parse(&buf[..n]).unwrap(), p);
    buf[40] ^= 1;
    assert!(matches!(
        Packet::parse(&buf[..n]),
        Err(Error::BadUdpChecksum { .. })
    ));
}
