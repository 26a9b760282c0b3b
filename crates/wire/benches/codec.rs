//! Parse and emit benchmarks: charrua-wire against dhcproto, on the same bytes.
//!
//! Three messages: a DISCOVER as dhclient sends it, an ACK with the options a server usually
//! gives, and an option-heavy message of about 1,000 bytes. For each: parsing (charrua's
//! `Message::parse`, dhcproto's `Message::decode`), emitting (charrua into a reused stack
//! buffer, dhcproto into a reused `Vec`), and charrua's zero-copy `MessageView::new` with
//! `message_type()`.
//!
//! Run with `cargo bench -p charrua-wire --bench codec`.

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Duration;

use charrua_wire::options::{ClasslessRoute, ClientId, DomainName, RelayAgentInformation};
use charrua_wire::options::{RelaySubOption, UserClass};
use charrua_wire::{
    DhcpOption, EmitOptions, Flags, HardwareAddress, Message, MessageType, MessageView, Op,
    OptionCode, Text,
};
use criterion::{Criterion, criterion_group, criterion_main};
use dhcproto::v4 as dp;
use dhcproto::{Decodable, Decoder, Encodable, Encoder};

const MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];

fn ip(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

fn name(text: &str) -> DomainName {
    DomainName::from_dotted(text).expect("valid name")
}

/// A DISCOVER like dhclient's: type, client id, requested address, host name, a 13-code
/// parameter request list and a maximum message size.
fn discover() -> Message {
    Message {
        xid: 0x3903_f326,
        chaddr: HardwareAddress::ethernet(MAC),
        options: vec![
            DhcpOption::MessageType(MessageType::DISCOVER),
            DhcpOption::ClientIdentifier(ClientId::ethernet(MAC)),
            DhcpOption::RequestedAddress(ip(192, 0, 2, 100)),
            DhcpOption::HostName(Text::from("client-one")),
            DhcpOption::ParameterRequestList(
                [1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42]
                    .map(OptionCode)
                    .to_vec(),
            ),
            DhcpOption::MaxMessageSize(1500),
        ],
        ..Message::default()
    }
}

/// An ACK with the options a server typically gives.
fn ack() -> Message {
    Message {
        op: Op::BOOTREPLY,
        xid: 0x3903_f326,
        yiaddr: ip(192, 0, 2, 100),
        siaddr: ip(192, 0, 2, 1),
        chaddr: HardwareAddress::ethernet(MAC),
        options: vec![
            DhcpOption::MessageType(MessageType::ACK),
            DhcpOption::ServerIdentifier(ip(192, 0, 2, 1)),
            DhcpOption::LeaseTime(3600),
            DhcpOption::RenewalTime(1800),
            DhcpOption::RebindingTime(3150),
            DhcpOption::SubnetMask(ip(255, 255, 255, 0)),
            DhcpOption::BroadcastAddress(ip(192, 0, 2, 255)),
            DhcpOption::Routers(vec![ip(192, 0, 2, 1)]),
            DhcpOption::DomainNameServers(vec![ip(192, 0, 2, 1), ip(192, 0, 2, 2)]),
            DhcpOption::DomainName(Text::from("example.org")),
            DhcpOption::DomainSearch(vec![name("example.org"), name("lab.example.org")]),
            DhcpOption::ClasslessStaticRoutes(vec![
                ClasslessRoute {
                    destination: ip(198, 51, 100, 0),
                    prefix_len: 24,
                    router: ip(192, 0, 2, 254),
                },
                ClasslessRoute {
                    destination: Ipv4Addr::UNSPECIFIED,
                    prefix_len: 0,
                    router: ip(192, 0, 2, 1),
                },
            ]),
            DhcpOption::NtpServers(vec![ip(192, 0, 2, 1)]),
        ],
        ..Message::default()
    }
}

/// A message of about 1,000 bytes: many options, one long enough to be split in two.
fn heavy() -> Message {
    let servers = |n: u8| (1..=n).map(|i| ip(192, 0, 2, i)).collect::<Vec<_>>();
    let mut search = Vec::new();
    for site in ["eng", "sales", "ops", "lab", "build"] {
        search.push(name(&format!("{site}.example.org")));
        search.push(name(&format!("{site}.example.com")));
    }
    Message {
        op: Op::BOOTREPLY,
        xid: 0x0bad_cafe,
        flags: Flags::BROADCAST,
        yiaddr: ip(192, 0, 2, 100),
        siaddr: ip(192, 0, 2, 1),
        giaddr: ip(192, 0, 2, 254),
        chaddr: HardwareAddress::ethernet(MAC),
        options: vec![
            DhcpOption::MessageType(MessageType::ACK),
            DhcpOption::ServerIdentifier(ip(192, 0, 2, 1)),
            DhcpOption::LeaseTime(86_400),
            DhcpOption::RenewalTime(43_200),
            DhcpOption::RebindingTime(75_600),
            DhcpOption::SubnetMask(ip(255, 255, 255, 0)),
            DhcpOption::BroadcastAddress(ip(192, 0, 2, 255)),
            DhcpOption::Routers(servers(4)),
            DhcpOption::DomainNameServers(servers(4)),
            DhcpOption::NtpServers(servers(3)),
            DhcpOption::DomainName(Text::from("example.org")),
            DhcpOption::HostName(Text::from("client-one.example.org")),
            DhcpOption::InterfaceMtu(1400),
            DhcpOption::DomainSearch(search),
            DhcpOption::ClasslessStaticRoutes(
                (0..5)
                    .map(|i| ClasslessRoute {
                        destination: ip(198, 51, 100 + i, 0),
                        prefix_len: 24,
                        router: ip(192, 0, 2, 254),
                    })
                    .collect(),
            ),
            // 300 bytes: two instances.
            DhcpOption::VendorSpecific((0..300u16).map(|i| i.to_be_bytes()[1]).collect()),
            DhcpOption::VendorClassIdentifier(b"PXEClient:Arch:00007:UNDI:003016".to_vec()),
            DhcpOption::UserClass(UserClass::Instances(vec![b"corp".to_vec()])),
            DhcpOption::Message(Text::from("lease granted by the primary server")),
            DhcpOption::RootPath(Text::from("/srv/nfs/roots/client-one")),
            DhcpOption::NetbiosNameServers(servers(2)),
            DhcpOption::StaticRoutes(vec![(ip(203, 0, 113, 0), ip(192, 0, 2, 254))]),
            DhcpOption::PolicyFilter(vec![(ip(10, 0, 0, 0), ip(255, 0, 0, 0))]),
            DhcpOption::Other {
                code: OptionCode(224),
                data: vec![0x5a; 64],
            },
            DhcpOption::RelayAgentInformation(RelayAgentInformation(vec![
                RelaySubOption::CircuitId(b"eth0:100".to_vec()),
                RelaySubOption::RemoteId(MAC.to_vec()),
            ])),
        ],
        ..Message::default()
    }
}

fn bench_message(c: &mut Criterion, label: &str, message: &Message) {
    let bytes = message.to_bytes(&EmitOptions::default()).expect("emits");
    // The same bytes must mean the same to both, or the comparison is unfair: dhcproto stops
    // at options it cannot read, which would make it look faster.
    let theirs = dp::Message::decode(&mut Decoder::new(&bytes)).expect("dhcproto decodes");
    assert_eq!(Message::parse(&bytes).as_ref(), Ok(message));
    assert_eq!(
        theirs.opts().len(),
        message.options.len(),
        "{label}: dhcproto lost options"
    );
    println!(
        "{label}: {} bytes, {} options",
        bytes.len(),
        message.options.len()
    );

    let mut group = c.benchmark_group(label);
    group.bench_function("parse/charrua", |b| {
        b.iter(|| Message::parse(black_box(&bytes)).expect("parses"));
    });
    group.bench_function("parse/dhcproto", |b| {
        b.iter(|| dp::Message::decode(&mut Decoder::new(black_box(&bytes))).expect("decodes"));
    });
    group.bench_function("view+message_type/charrua", |b| {
        b.iter(|| {
            MessageView::new(black_box(&bytes))
                .expect("view")
                .message_type()
        });
    });
    let settings = EmitOptions::default();
    group.bench_function("emit/charrua", |b| {
        let mut buf = [0u8; 1500];
        b.iter(|| black_box(message).emit(&mut buf, &settings).expect("emits"));
    });
    group.bench_function("emit/dhcproto", |b| {
        let mut buf = Vec::with_capacity(1500);
        b.iter(|| {
            buf.clear();
            black_box(&theirs)
                .encode(&mut Encoder::new(&mut buf))
                .expect("encodes");
            buf.len()
        });
    });
    group.finish();
}

fn codec(c: &mut Criterion) {
    bench_message(c, "discover", &discover());
    bench_message(c, "ack", &ack());
    bench_message(c, "heavy", &heavy());
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
}

criterion_group! {
    name = benches;
    config = config();
    targets = codec
}
criterion_main!(benches);
