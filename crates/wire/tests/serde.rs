//! The `serde` feature: owned messages survive a trip through JSON unchanged.
#![cfg(feature = "serde")]

use std::net::Ipv4Addr;

use charrua_wire::options::{
    ClientFqdn, ClientId, DomainName, FqdnName, RelayAgentInformation, RelaySubOption,
};
use charrua_wire::{DhcpOption, HardwareAddress, Message, MessageType, Op, OptionCode, Text};

fn message() -> Message {
    Message {
        op: Op::BOOTREQUEST,
        xid: 7,
        chaddr: HardwareAddress::ethernet([2, 0, 0, 0, 0, 9]),
        sname: Text::from("boot"),
        options: vec![
            DhcpOption::MessageType(MessageType(200)),
            DhcpOption::ClientIdentifier(ClientId {
                kind: 255,
                id: vec![0, 0, 0, 1, 0, 4, 9],
            }),
            DhcpOption::HostName(Text::new(vec![b'h', 0xff, 0])),
            DhcpOption::ClientFqdn(ClientFqdn {
                flags: ClientFqdn::FLAG_S | ClientFqdn::FLAG_E,
                rcode1: 0,
                rcode2: 0,
                name: FqdnName::Wire(DomainName::partial_from_dotted("host").unwrap()),
            }),
            DhcpOption::DomainSearch(vec![DomainName::from_dotted("example.com").unwrap()]),
            DhcpOption::RelayAgentInformation(RelayAgentInformation(vec![
                RelaySubOption::CircuitId(b"eth0".to_vec()),
                RelaySubOption::LinkSelection(Ipv4Addr::new(198, 51, 100, 0)),
            ])),
            DhcpOption::RapidCommit,
            DhcpOption::Other {
                code: OptionCode(230),
                data: vec![0, 1],
            },
        ],
        ..Message::default()
    }
}

#[test]
fn message_survives_json_round_trip() {
    let original = message();
    let json = serde_json::to_string(&original).unwrap();
    let back: Message = serde_json::from_str(&json).unwrap();
    assert_eq!(back, original);
}

#[test]
fn json_shows_addresses_and_names_as_text() {
    let json = serde_json::to_value(message()).unwrap();
    assert_eq!(json["chaddr"], "02:00:00:00:00:09");
    assert_eq!(json["sname"], "boot");
    let options = json["options"].as_array().unwrap();
    assert_eq!(options[4]["DomainSearch"][0], "example.com.");
    assert_eq!(
        options[5]["RelayAgentInformation"][1]["LinkSelection"],
        "198.51.100.0"
    );
    // Bytes that are not UTF-8 stay bytes rather than being mangled.
    assert_eq!(options[2]["HostName"], serde_json::json!([104, 255, 0]));
}
