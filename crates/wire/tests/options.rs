//! Per-option tests: every typed option round trips through a message, structured options
//! decode known encodings from their RFCs, and each way an option can be malformed is an
//! error naming the option's code and offset.

use charrua_wire::options::{
    Authentication, ClasslessRoute, ClientFqdn, ClientId, ClientNdi, DomainName, FqdnName, Isns,
    MachineId, RelayAgentInformation, RelaySubOption, SipServers, SlpDirectoryAgent,
    SlpServiceScope, UserClass, VendorClass, VendorData, VendorOptions,
};
use charrua_wire::{
    DhcpOption, EmitOptions, Error, Expected, MAGIC_COOKIE, Message, MessageType, MessageView,
    OptionCode, Text,
};
use std::net::Ipv4Addr;

/// Offset of the option under test in messages built by [`decode`]: 240 for the cookie's
/// end, plus 3 for the option before it.
const AT: usize = 243;

fn ip(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

fn name(text: &str) -> DomainName {
    DomainName::from_dotted(text).unwrap()
}

/// A BOOTREQUEST header and cookie followed by `options` and an end option.
fn with_options(options: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0u8; 240];
    bytes[0] = 1;
    bytes[1] = 1;
    bytes[2] = 6;
    bytes[236..240].copy_from_slice(&MAGIC_COOKIE);
    bytes.extend_from_slice(options);
    bytes.push(255);
    bytes
}

/// The instances that carry `data` under `code`, split at 255 bytes.
fn instances(code: u8, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if data.is_empty() {
        out.extend_from_slice(&[code, 0]);
    }
    for chunk in data.chunks(255) {
        out.push(code);
        out.push(u8::try_from(chunk.len()).unwrap());
        out.extend_from_slice(chunk);
    }
    out
}

/// Parses a message holding an unknown option 254 and then `data` under `code` (at [`AT`]),
/// and returns the option decoded from `data`.
fn decode(code: u8, data: &[u8]) -> Result<DhcpOption, Error> {
    let mut options = vec![254, 1, 0xee];
    options.extend_from_slice(&instances(code, data));
    let message = Message::parse(&with_options(&options))?;
    assert_eq!(message.options.len(), 2, "{message:?}");
    assert_eq!(
        message.options[0],
        DhcpOption::Other {
            code: OptionCode(254),
            data: vec![0xee]
        }
    );
    Ok(message.options[1].clone())
}

fn assert_bad_length(code: u8, data: &[u8], expected: Expected) {
    assert_eq!(
        decode(code, data),
        Err(Error::BadOptionLength {
            code: OptionCode(code),
            offset: AT,
            len: data.len(),
            expected
        }),
        "option {code} with {data:?}"
    );
}

fn assert_bad_value(code: u8, data: &[u8], reason_has: &str) {
    match decode(code, data) {
        Err(Error::BadOptionValue {
            code: found,
            offset,
            reason,
        }) => {
            assert_eq!(found, OptionCode(code));
            assert_eq!(offset, AT);
            assert!(
                reason.contains(reason_has),
                "reason {reason:?} lacks {reason_has:?}"
            );
        }
        other => panic!("option {code} with {data:?}: expected a bad value, got {other:?}"),
    }
}

/// Emits a message holding `option` alone and parses it back.
fn round_trip(option: &DhcpOption) -> Vec<u8> {
    let message = Message {
        options: vec![option.clone()],
        ..Message::default()
    };
    let bytes = message.to_bytes(&EmitOptions::default()).unwrap();
    let back = Message::parse(&bytes).unwrap();
    assert_eq!(back.options, vec![option.clone()], "{option}");
    // The joined instances on the wire are the payload.
    let view = MessageView::new(&bytes).unwrap();
    let joined: Vec<u8> = view
        .raw_options()
        .map(Result::unwrap)
        .filter(|o| o.code == option.code())
        .flat_map(|o| o.data.iter().copied())
        .collect();
    assert_eq!(joined, option.payload(), "{option}");
    joined
}

/// One value for every typed option.
fn every_typed_option() -> Vec<DhcpOption> {
    use DhcpOption as O;
    let ips = vec![ip(192, 0, 2, 1), ip(192, 0, 2, 2)];
    let one = vec![ip(198, 51, 100, 7)];
    let t = Text::from;
    let names = vec![
        name("eng.example.com"),
        name("example.com"),
        name("lab.example.org"),
    ];
    let routes = vec![
        ClasslessRoute {
            destination: ip(0, 0, 0, 0),
            prefix_len: 0,
            router: ip(192, 0, 2, 1),
        },
        ClasslessRoute {
            destination: ip(10, 17, 0, 0),
            prefix_len: 16,
            router: ip(192, 0, 2, 2),
        },
    ];
    vec![
        O::SubnetMask(ip(255, 255, 255, 0)),
        O::TimeOffset(-3600),
        O::Routers(ips.clone()),
        O::TimeServers(one.clone()),
        O::NameServers(one.clone()),
        O::DomainNameServers(ips.clone()),
        O::LogServers(one.clone()),
        O::CookieServers(one.clone()),
        O::LprServers(one.clone()),
        O::ImpressServers(one.clone()),
        O::ResourceLocationServers(one.clone()),
        O::HostName(t("client-7")),
        O::BootSize(1024),
        O::MeritDump(t("/var/dump/core")),
        O::DomainName(t("example.com")),
        O::SwapServer(ip(192, 0, 2, 9)),
        O::RootPath(t("/export/root")),
        O::ExtensionsPath(t("/etc/ext")),
        O::IpForwarding(true),
        O::NonLocalSourceRouting(false),
        O::PolicyFilter(vec![(ip(10, 0, 0, 0), ip(255, 0, 0, 0))]),
        O::MaxDatagramReassembly(576),
        O::DefaultIpTtl(64),
        O::PathMtuAgingTimeout(600),
        O::PathMtuPlateauTable(vec![68, 296, 576, 1500]),
        O::InterfaceMtu(1500),
        O::AllSubnetsLocal(true),
        O::BroadcastAddress(ip(192, 0, 2, 255)),
        O::PerformMaskDiscovery(false),
        O::MaskSupplier(true),
        O::RouterDiscovery(true),
        O::RouterSolicitationAddress(ip(224, 0, 0, 2)),
        O::StaticRoutes(vec![
            (ip(10, 0, 0, 0), ip(192, 0, 2, 1)),
            (ip(10, 1, 0, 0), ip(0, 0, 0, 0)),
        ]),
        O::TrailerEncapsulation(false),
        O::ArpCacheTimeout(60),
        O::Ieee8023Encapsulation(true),
        O::DefaultTcpTtl(64),
        O::TcpKeepaliveInterval(7200),
        O::TcpKeepaliveGarbage(false),
        O::NisDomain(t("nis.example")),
        O::NisServers(one.clone()),
        O::NtpServers(ips.clone()),
        O::VendorSpecific(vec![1, 4, 0xde, 0xad, 0xbe, 0xef]),
        O::NetbiosNameServers(one.clone()),
        O::NetbiosDdServers(one.clone()),
        O::NetbiosNodeType(8),
        O::NetbiosScope(t("scope")),
        O::FontServers(one.clone()),
        O::XDisplayManagers(one.clone()),
        O::RequestedAddress(ip(192, 0, 2, 10)),
        O::LeaseTime(86400),
        O::MessageType(MessageType::ACK),
        O::ServerIdentifier(ip(192, 0, 2, 1)),
        O::ParameterRequestList(vec![
            OptionCode(1),
            OptionCode(3),
            OptionCode(6),
            OptionCode(15),
        ]),
        O::Message(t("address in use")),
        O::MaxMessageSize(1500),
        O::RenewalTime(43200),
        O::RebindingTime(75600),
        O::VendorClassIdentifier(b"MSFT 5.0".to_vec()),
        O::ClientIdentifier(ClientId::ethernet([2, 0, 0, 0, 0, 1])),
        O::NisPlusDomain(t("nisplus.example")),
        O::NisPlusServers(one.clone()),
        O::TftpServerName(t("tftp.example")),
        O::BootfileName(t("pxelinux.0")),
        O::MobileIpHomeAgents(vec![]),
        O::SmtpServers(one.clone()),
        O::Pop3Servers(one.clone()),
        O::NntpServers(one.clone()),
        O::WwwServers(one.clone()),
        O::FingerServers(one.clone()),
        O::IrcServers(one.clone()),
        O::StreetTalkServers(one.clone()),
        O::StreetTalkDirectoryAssistance(one.clone()),
        O::UserClass(UserClass::Instances(vec![b"iPXE".to_vec(), b"x".to_vec()])),
        O::SlpDirectoryAgent(SlpDirectoryAgent {
            mandatory: 1,
            agents: ips.clone(),
        }),
        O::SlpServiceScope(SlpServiceScope {
            mandatory: 0,
            scopes: t("default,lab"),
        }),
        O::RapidCommit,
        O::ClientFqdn(ClientFqdn {
            flags: ClientFqdn::FLAG_S | ClientFqdn::FLAG_E,
            rcode1: 0,
            rcode2: 0,
            name: FqdnName::Wire(name("host.example.com")),
        }),
        O::RelayAgentInformation(RelayAgentInformation(vec![
            RelaySubOption::CircuitId(b"eth0:42".to_vec()),
            RelaySubOption::LinkSelection(ip(10, 0, 0, 0)),
        ])),
        O::Isns(Isns {
            functions: 0x8003,
            dd_access: 0x0001,
            admin_flags: 0x0007,
            security: 0x0000_0001,
            servers: ips.clone(),
        }),
        O::NdsServers(one.clone()),
        O::NdsTreeName(t("TREE")),
        O::NdsContext(t("ou=lab")),
        O::BcmcsControllerNames(names.clone()),
        O::BcmcsControllerAddresses(one.clone()),
        O::Authentication(Authentication {
            protocol: 1,
            algorithm: 1,
            rdm: 0,
            replay_detection: 0x0102_0304_0506_0708,
            info: vec![9; 20],
        }),
        O::ClientLastTransactionTime(30),
        O::AssociatedIp(ips.clone()),
        O::ClientArchitecture(vec![7, 9]),
        O::ClientNdi(ClientNdi {
            kind: 1,
            major: 3,
            minor: 16,
        }),
        O::ClientMachineId(MachineId {
            kind: 0,
            id: (0..16).collect(),
        }),
        O::UserAuthentication(t("http://uap.example/")),
        O::GeoconfCivic(vec![0, b'U', b'S', 1, 2, b'C', b'A']),
        O::PosixTimeZone(t("EST5EDT4,M3.2.0/02:00,M11.1.0/02:00")),
        O::TzDatabaseTimeZone(t("Europe/Zurich")),
        O::Ipv6OnlyPreferred(1800),
        O::CaptivePortal(t("https://portal.example/")),
        O::AutoConfigure(1),
        O::NameServiceSearch(vec![6, 41]),
        O::SubnetSelection(ip(10, 20, 0, 0)),
        O::DomainSearch(names.clone()),
        O::SipServers(SipServers::Names(names.clone())),
        O::ClasslessStaticRoutes(routes.clone()),
        O::VendorIdentifyingClass(vec![VendorClass {
            enterprise: 3561,
            data: vec![b"hello".to_vec()],
        }]),
        O::VendorIdentifyingInfo(vec![VendorOptions {
            enterprise: 3561,
            options: vec![(1, b"abc".to_vec())],
        }]),
        O::PanaAgents(one.clone()),
        O::LostServer(vec![name("lost.example")]),
        O::CapwapAccessControllers(ips.clone()),
        O::SipUaConfigDomains(names.clone()),
        O::TftpServerAddresses(ips.clone()),
        O::CaptivePortalLegacy(t("https://legacy.example/")),
        O::MudUrl(t("https://mud.example/device")),
        O::PxelinuxConfigFile(t("pxelinux.cfg/default")),
        O::PxelinuxPathPrefix(t("/tftpboot/")),
        O::PxelinuxRebootTime(60),
        O::AccessDomain(vec![name("access.example")]),
        O::MsClasslessStaticRoutes(routes),
        O::Wpad(t("http://wpad.example/wpad.dat")),
    ]
}

/// Codes with a typed variant, found by asking the codec: an untyped code decodes any payload
/// as `Other`.
fn typed_codes() -> Vec<u8> {
    (1..=254u8)
        .filter(|&c| c != 52)
        .filter(|&c| {
            !matches!(
                DhcpOption::from_payload(OptionCode(c), &[]),
                Ok(DhcpOption::Other { .. })
            )
        })
        .collect()
}

#[test]
fn samples_cover_every_typed_option_once() {
    let mut sampled: Vec<u8> = every_typed_option().iter().map(|o| o.code().0).collect();
    let before = sampled.len();
    sampled.sort_unstable();
    sampled.dedup();
    assert_eq!(sampled.len(), before, "a code is sampled twice");
    assert_eq!(sampled, typed_codes());
    assert!(
        !every_typed_option()
            .iter()
            .any(|o| matches!(o, DhcpOption::Other { .. }))
    );
}

#[test]
fn round_trips_every_typed_option_alone() {
    for option in every_typed_option() {
        round_trip(&option);
    }
}

#[test]
fn round_trips_every_typed_option_in_one_message() {
    let message = Message {
        options: every_typed_option(),
        ..Message::default()
    };
    let bytes = message.to_bytes(&EmitOptions::default()).unwrap();
    assert_eq!(Message::parse(&bytes).unwrap(), message);
}

#[test]
fn decodes_every_typed_option_from_its_own_payload() {
    for option in every_typed_option() {
        assert_eq!(
            DhcpOption::from_payload(option.code(), &option.payload()).unwrap(),
            option
        );
    }
}

#[test]
fn decodes_fixed_size_options_from_known_bytes() {
    let cases: Vec<(u8, &[u8], DhcpOption)> = vec![
        (
            1,
            &[255, 255, 255, 0],
            DhcpOption::SubnetMask(ip(255, 255, 255, 0)),
        ),
        (2, &[0xff, 0xff, 0xf1, 0xf0], DhcpOption::TimeOffset(-3600)),
        (13, &[4, 0], DhcpOption::BootSize(1024)),
        (
            16,
            &[192, 0, 2, 9],
            DhcpOption::SwapServer(ip(192, 0, 2, 9)),
        ),
        (19, &[1], DhcpOption::IpForwarding(true)),
        (20, &[0], DhcpOption::NonLocalSourceRouting(false)),
        (23, &[64], DhcpOption::DefaultIpTtl(64)),
        (24, &[0, 0, 2, 0x58], DhcpOption::PathMtuAgingTimeout(600)),
        (26, &[0x05, 0xdc], DhcpOption::InterfaceMtu(1500)),
        (46, &[8], DhcpOption::NetbiosNodeType(8)),
        (
            50,
            &[192, 0, 2, 10],
            DhcpOption::RequestedAddress(ip(192, 0, 2, 10)),
        ),
        (51, &[0, 1, 0x51, 0x80], DhcpOption::LeaseTime(86400)),
        (51, &[0xff; 4], DhcpOption::LeaseTime(u32::MAX)),
        (53, &[3], DhcpOption::MessageType(MessageType::REQUEST)),
        (
            54,
            &[192, 0, 2, 1],
            DhcpOption::ServerIdentifier(ip(192, 0, 2, 1)),
        ),
        (57, &[0x02, 0x40], DhcpOption::MaxMessageSize(576)),
        (58, &[0, 0, 0x0e, 0x10], DhcpOption::RenewalTime(3600)),
        (59, &[0, 0, 0x18, 0x9c], DhcpOption::RebindingTime(6300)),
        (
            91,
            &[0, 0, 0, 30],
            DhcpOption::ClientLastTransactionTime(30),
        ),
        (
            108,
            &[0, 0, 0x07, 0x08],
            DhcpOption::Ipv6OnlyPreferred(1800),
        ),
        (116, &[1], DhcpOption::AutoConfigure(1)),
        (
            118,
            &[10, 20, 0, 0],
            DhcpOption::SubnetSelection(ip(10, 20, 0, 0)),
        ),
        (211, &[0, 0, 0, 60], DhcpOption::PxelinuxRebootTime(60)),
    ];
    for (code, data, expected) in cases {
        assert_eq!(decode(code, data).unwrap(), expected, "option {code}");
    }
}

#[test]
fn decodes_address_lists_in_order() {
    let data = [192, 0, 2, 1, 192, 0, 2, 2, 198, 51, 100, 1];
    let expected = vec![ip(192, 0, 2, 1), ip(192, 0, 2, 2), ip(198, 51, 100, 1)];
    assert_eq!(
        decode(3, &data).unwrap(),
        DhcpOption::Routers(expected.clone())
    );
    assert_eq!(
        decode(6, &data).unwrap(),
        DhcpOption::DomainNameServers(expected.clone())
    );
    assert_eq!(
        decode(150, &data).unwrap(),
        DhcpOption::TftpServerAddresses(expected)
    );
    assert_eq!(
        decode(68, &[]).unwrap(),
        DhcpOption::MobileIpHomeAgents(vec![])
    );
}

#[test]
fn decodes_address_pairs() {
    let data = [10, 0, 0, 0, 255, 0, 0, 0, 10, 1, 0, 0, 192, 0, 2, 1];
    assert_eq!(
        decode(21, &data).unwrap(),
        DhcpOption::PolicyFilter(vec![
            (ip(10, 0, 0, 0), ip(255, 0, 0, 0)),
            (ip(10, 1, 0, 0), ip(192, 0, 2, 1))
        ])
    );
    assert_eq!(
        decode(33, &data[..8]).unwrap(),
        DhcpOption::StaticRoutes(vec![(ip(10, 0, 0, 0), ip(255, 0, 0, 0))])
    );
}

#[test]
fn rejects_subnet_mask_of_three_bytes() {
    assert_bad_length(1, &[255, 255, 0], Expected::Exactly(4));
}

#[test]
fn rejects_fixed_size_options_of_the_wrong_length() {
    // Addresses.
    for code in [1, 16, 28, 32, 50, 54, 118] {
        assert_bad_length(code, &[1, 2, 3], Expected::Exactly(4));
        assert_bad_length(code, &[1, 2, 3, 4, 5], Expected::Exactly(4));
        assert_bad_length(code, &[], Expected::Exactly(4));
    }
    // 32-bit integers.
    for code in [2, 24, 35, 38, 51, 58, 59, 91, 108, 211] {
        assert_bad_length(code, &[0, 0, 1], Expected::Exactly(4));
        assert_bad_length(code, &[0; 8], Expected::Exactly(4));
    }
    // 16-bit integers.
    for code in [13, 22, 26, 57] {
        assert_bad_length(code, &[5], Expected::Exactly(2));
        assert_bad_length(code, &[5, 0xdc, 0], Expected::Exactly(2));
    }
    // Bytes and flags.
    for code in [19, 20, 23, 27, 29, 30, 31, 34, 36, 37, 39, 46, 53, 116] {
        assert_bad_length(code, &[], Expected::Exactly(1));
        assert_bad_length(code, &[1, 1], Expected::Exactly(1));
    }
}

#[test]
fn rejects_flag_of_two() {
    for code in [19, 20, 27, 29, 30, 31, 34, 36, 39] {
        assert_bad_value(code, &[2], "neither 0 nor 1");
    }
}

#[test]
fn rejects_address_lists_that_are_empty_or_not_whole() {
    for code in [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 41, 42, 44, 45, 48, 49, 65, 69, 76, 85, 150,
    ] {
        assert_bad_length(code, &[], Expected::Multiple { min: 4, unit: 4 });
        assert_bad_length(
            code,
            &[192, 0, 2, 1, 192, 0],
            Expected::Multiple { min: 4, unit: 4 },
        );
    }
    assert_bad_length(68, &[192, 0, 2], Expected::Multiple { min: 0, unit: 4 });
}

#[test]
fn rejects_address_pairs_that_are_empty_or_not_whole() {
    for code in [21, 33] {
        assert_bad_length(code, &[10, 0, 0, 0], Expected::Multiple { min: 8, unit: 8 });
        assert_bad_length(code, &[0; 12], Expected::Multiple { min: 8, unit: 8 });
        assert_bad_length(code, &[], Expected::Multiple { min: 8, unit: 8 });
    }
}

#[test]
fn rejects_16_bit_lists_that_are_empty_or_odd() {
    for code in [25, 93, 117] {
        assert_bad_length(code, &[], Expected::Multiple { min: 2, unit: 2 });
        assert_bad_length(code, &[0, 7, 0], Expected::Multiple { min: 2, unit: 2 });
    }
}

#[test]
fn rejects_empty_text_and_byte_options() {
    for code in [
        12, 14, 15, 17, 18, 40, 43, 47, 55, 56, 60, 66, 67, 99, 114, 160, 252,
    ] {
        assert_bad_length(code, &[], Expected::AtLeast(1));
    }
}

#[test]
fn keeps_text_bytes_as_sent() {
    let raw = b"host\xff\"name\0";
    let option = decode(12, raw).unwrap();
    let DhcpOption::HostName(text) = &option else {
        panic!("{option:?}")
    };
    assert_eq!(text.as_bytes(), raw);
    assert_eq!(text.as_str(), None);
    assert_eq!(text.to_string_lossy(), "host\u{fffd}\"name");
    round_trip(&option);
}

#[test]
fn decodes_parameter_request_list_in_client_order() {
    assert_eq!(
        decode(55, &[1, 121, 3, 6, 15, 119, 252, 200]).unwrap(),
        DhcpOption::ParameterRequestList(
            [1, 121, 3, 6, 15, 119, 252, 200]
                .into_iter()
                .map(OptionCode)
                .collect()
        )
    );
}

#[test]
fn decodes_rfc_3397_domain_search_example() {
    // RFC 3397 §3: "eng.apple.com." and "marketing.apple.com.", the second ending in a
    // pointer to "apple.com." at offset 4 of the joined data, sent as three instances of 9.
    let joined: Vec<u8> = [
        &[
            3, b'e', b'n', b'g', 5, b'a', b'p', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0,
        ][..],
        &[
            9, b'm', b'a', b'r', b'k', b'e', b't', b'i', b'n', b'g', 0xc0, 0x04,
        ],
    ]
    .concat();
    assert_eq!(joined.len(), 27);
    let mut options = vec![53, 1, 1];
    for chunk in joined.chunks(9) {
        options.extend_from_slice(&[119, 9]);
        options.extend_from_slice(chunk);
    }
    let message = Message::parse(&with_options(&options)).unwrap();
    let expected =
        DhcpOption::DomainSearch(vec![name("eng.apple.com."), name("marketing.apple.com.")]);
    assert_eq!(message.options[1], expected);
    // The emitter compresses the same way.
    assert_eq!(expected.payload(), joined);
    assert_eq!(round_trip(&expected), joined);
}

#[test]
fn compresses_domain_lists_against_earlier_names() {
    let list = DhcpOption::DomainSearch(vec![
        name("example.com"),
        name("eng.example.com"),
        name("example.com"),
        name("example.org"),
    ]);
    let expected: Vec<u8> = [
        &[
            7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0,
        ][..],
        &[3, b'e', b'n', b'g', 0xc0, 0],
        &[0xc0, 0],
        &[
            7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'o', b'r', b'g', 0,
        ],
    ]
    .concat();
    assert_eq!(round_trip(&list), expected);
}

#[test]
fn decodes_the_root_name_in_a_list() {
    assert_eq!(
        decode(119, &[0, 3, b'c', b'o', b'm', 0]).unwrap(),
        DhcpOption::DomainSearch(vec![DomainName::root(), name("com.")])
    );
}

#[test]
fn rejects_domain_list_that_is_empty() {
    for code in [88, 119, 137, 141, 213] {
        assert_bad_length(code, &[], Expected::AtLeast(1));
    }
}

#[test]
fn rejects_compression_pointer_pointing_forward() {
    assert_bad_value(119, &[0xc0, 0x02, 3, b'c', b'o', b'm', 0], "point back");
}

#[test]
fn rejects_compression_pointer_pointing_to_itself() {
    assert_bad_value(119, &[3, b'c', b'o', b'm', 0, 0xc0, 0x05], "point back");
}

#[test]
fn rejects_compression_pointer_looping_through_a_label() {
    // "a" then a pointer back to "a": each pass goes back, yet the walk never ends.
    assert_bad_value(119, &[1, b'a', 0xc0, 0x00], "point back");
    assert_bad_value(
        119,
        &[3, b'c', b'o', b'm', 0, 1, b'a', 0xc0, 0x05],
        "point back",
    );
}

#[test]
fn rejects_label_over_63_bytes_in_a_list() {
    let mut data = vec![64];
    data.extend_from_slice(&[b'a'; 64]);
    data.push(0);
    assert_bad_value(119, &data, "longer than 63");
    // 0x40 and 0x80 label types are not pointers either.
    assert_bad_value(119, &[0x80, 0, 0], "longer than 63");
}

#[test]
fn rejects_name_running_past_the_end() {
    assert_bad_value(119, &[3, b'c', b'o', b'm'], "past the end");
    assert_bad_value(119, &[3, b'c', b'o'], "past the end");
    assert_bad_value(119, &[3, b'c', b'o', b'm', 0, 0xc0], "past the end");
}

#[test]
fn rejects_name_over_255_bytes() {
    // Five labels of 50: 5 × 51 + 1 = 256 bytes of name.
    let mut data = Vec::new();
    for _ in 0..5 {
        data.push(50);
        data.extend_from_slice(&[b'x'; 50]);
    }
    data.push(0);
    assert_bad_value(119, &data, "255");
    // Four labels of 50 and one of 49 make exactly 255.
    data.drain(..2);
    data.insert(0, 49);
    assert!(
        matches!(decode(119, &data).unwrap(), DhcpOption::DomainSearch(list) if list.len() == 1)
    );
}

#[test]
fn decodes_rfc_3442_destination_encodings() {
    // RFC 3442 §2: the width, then only the significant octets of the destination.
    let router = [192, 0, 2, 1];
    let cases: [(&[u8], Ipv4Addr, u8); 6] = [
        (&[0], ip(0, 0, 0, 0), 0),
        (&[8, 10], ip(10, 0, 0, 0), 8),
        (&[16, 10, 17], ip(10, 17, 0, 0), 16),
        (&[24, 10, 27, 129], ip(10, 27, 129, 0), 24),
        (&[25, 10, 229, 0, 128], ip(10, 229, 0, 128), 25),
        (&[32, 10, 198, 122, 47], ip(10, 198, 122, 47), 32),
    ];
    let mut all = Vec::new();
    let mut routes = Vec::new();
    for (encoded, destination, prefix_len) in cases {
        let data = [encoded, &router[..]].concat();
        let route = ClasslessRoute {
            destination,
            prefix_len,
            router: ip(192, 0, 2, 1),
        };
        assert_eq!(
            decode(121, &data).unwrap(),
            DhcpOption::ClasslessStaticRoutes(vec![route])
        );
        assert_eq!(
            DhcpOption::ClasslessStaticRoutes(vec![route]).payload(),
            data
        );
        all.extend_from_slice(&data);
        routes.push(route);
    }
    assert_eq!(
        decode(121, &all).unwrap(),
        DhcpOption::ClasslessStaticRoutes(routes.clone())
    );
    assert_eq!(
        decode(249, &all).unwrap(),
        DhcpOption::MsClasslessStaticRoutes(routes.clone())
    );
    round_trip(&DhcpOption::MsClasslessStaticRoutes(routes));
}

#[test]
fn rejects_classless_route_width_33() {
    assert_bad_value(121, &[33, 10, 0, 0, 0, 192, 0, 2, 1], "over 32");
    assert_bad_value(249, &[33, 10, 0, 0, 0, 192, 0, 2, 1], "over 32");
}

#[test]
fn rejects_classless_routes_that_are_short_or_cut() {
    for code in [121, 249] {
        assert_bad_length(code, &[0, 192, 0, 2], Expected::AtLeast(5));
        // A /24 needs three destination octets and a router: eight bytes, seven given.
        assert_bad_value(code, &[24, 10, 27, 129, 192, 0, 2], "past the end");
        // A complete route followed by a lone width.
        assert_bad_value(code, &[0, 192, 0, 2, 1, 8], "past the end");
    }
}

#[test]
fn decodes_rfc_4702_fqdn_in_wire_form() {
    let data = [
        &[0x05, 0, 0][..],
        &[
            4, b'h', b'o', b's', b't', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e',
        ],
        &[3, b'c', b'o', b'm', 0],
    ]
    .concat();
    let expected = DhcpOption::ClientFqdn(ClientFqdn {
        flags: ClientFqdn::FLAG_S | ClientFqdn::FLAG_E,
        rcode1: 0,
        rcode2: 0,
        name: FqdnName::Wire(name("host.example.com.")),
    });
    assert_eq!(decode(81, &data).unwrap(), expected);
    assert_eq!(round_trip(&expected), data);
}

#[test]
fn decodes_rfc_4702_partial_fqdn_in_wire_form() {
    let data = [0x04, 255, 255, 4, b'h', b'o', b's', b't'];
    let option = decode(81, &data).unwrap();
    let DhcpOption::ClientFqdn(fqdn) = &option else {
        panic!("{option:?}")
    };
    let FqdnName::Wire(wire) = &fqdn.name else {
        panic!("{fqdn:?}")
    };
    assert!(!wire.is_absolute());
    assert_eq!(wire.to_dotted(), "host");
    assert_eq!((fqdn.rcode1, fqdn.rcode2), (255, 255));
    assert_eq!(round_trip(&option), data);
}

#[test]
fn decodes_rfc_4702_fqdn_in_ascii_form() {
    let data = [&[0x01, 0, 0][..], b"host.example.com"].concat();
    let expected = DhcpOption::ClientFqdn(ClientFqdn {
        flags: ClientFqdn::FLAG_S,
        rcode1: 0,
        rcode2: 0,
        name: FqdnName::Ascii(Text::from("host.example.com")),
    });
    assert_eq!(decode(81, &data).unwrap(), expected);
    assert_eq!(round_trip(&expected), data);
}

#[test]
fn takes_fqdn_e_flag_from_the_name_on_emission() {
    let ascii_with_e = DhcpOption::ClientFqdn(ClientFqdn {
        flags: ClientFqdn::FLAG_E | ClientFqdn::FLAG_N,
        rcode1: 0,
        rcode2: 0,
        name: FqdnName::Ascii(Text::from("host")),
    });
    assert_eq!(ascii_with_e.payload()[0], ClientFqdn::FLAG_N);
    let wire_without_e = DhcpOption::ClientFqdn(ClientFqdn {
        flags: 0,
        rcode1: 0,
        rcode2: 0,
        name: FqdnName::Wire(name("host")),
    });
    assert_eq!(wire_without_e.payload()[0], ClientFqdn::FLAG_E);
}

#[test]
fn rejects_fqdn_shorter_than_three_bytes() {
    assert_bad_length(81, &[0x01, 0], Expected::AtLeast(3));
}

#[test]
fn rejects_fqdn_with_a_malformed_wire_name() {
    assert_bad_value(81, &[0x04, 0, 0, 64, b'a'], "longer than 63");
    assert_bad_value(81, &[0x04, 0, 0, 5, b'h', b'o'], "past the end");
    assert_bad_value(81, &[0x04, 0, 0, 1, b'h', 0, 1, b'x'], "after the root");
    // Compression is not allowed in this option.
    assert_bad_value(81, &[0x04, 0, 0, 0xc0, 0x00], "longer than 63");
}

#[test]
fn decodes_rfc_4361_client_identifier() {
    let duid = [
        0, 1, 0, 1, 0x1c, 0x39, 0xcf, 0x88, 0x08, 0x00, 0x27, 0xfe, 0x8f, 0x95,
    ];
    let data = [&[255, 0, 0, 0, 1][..], &duid].concat();
    let option = decode(61, &data).unwrap();
    let DhcpOption::ClientIdentifier(id) = &option else {
        panic!("{option:?}")
    };
    assert_eq!(id.kind, 255);
    assert_eq!(id.iaid_duid(), Some((1, &duid[..])));
    assert_eq!(id.to_bytes(), data);
    assert_eq!(round_trip(&option), data);
    let ethernet = decode(61, &[1, 2, 0, 0, 0, 0, 1]).unwrap();
    assert_eq!(
        ethernet,
        DhcpOption::ClientIdentifier(ClientId::ethernet([2, 0, 0, 0, 0, 1]))
    );
}

#[test]
fn rejects_client_identifier_without_identifier_bytes() {
    assert_bad_length(61, &[1], Expected::AtLeast(2));
    assert_bad_length(61, &[], Expected::AtLeast(2));
}

fn rfc_3046_relay_bytes() -> Vec<u8> {
    [
        &[1, 7][..],
        b"eth0:42",
        &[2, 6, 0x00, 0x1b, 0x21, 0x3c, 0x4d, 0x5e],
        &[5, 4, 10, 1, 2, 0],
        &[6, 3, b's', b'u', b'b'],
        &[9, 8, 0, 0, 0, 9, 3, 1, 2, 3],
        &[10, 1, 0x80],
        &[11, 4, 192, 0, 2, 1],
        &[151, 8, 0],
        b"vpn-red",
        &[152, 0],
        &[200, 2, 0xaa, 0xbb],
    ]
    .concat()
}

#[test]
fn decodes_rfc_3046_relay_agent_information() {
    let data = rfc_3046_relay_bytes();
    let expected = RelayAgentInformation(vec![
        RelaySubOption::CircuitId(b"eth0:42".to_vec()),
        RelaySubOption::RemoteId(vec![0x00, 0x1b, 0x21, 0x3c, 0x4d, 0x5e]),
        RelaySubOption::LinkSelection(ip(10, 1, 2, 0)),
        RelaySubOption::SubscriberId(b"sub".to_vec()),
        RelaySubOption::VendorSpecific(vec![VendorData {
            enterprise: 9,
            data: vec![1, 2, 3],
        }]),
        RelaySubOption::Flags(0x80),
        RelaySubOption::ServerIdOverride(ip(192, 0, 2, 1)),
        RelaySubOption::VirtualSubnetSelection {
            kind: 0,
            data: b"vpn-red".to_vec(),
        },
        RelaySubOption::VirtualSubnetSelectionControl,
        RelaySubOption::Other {
            code: 200,
            data: vec![0xaa, 0xbb],
        },
    ]);
    let option = decode(82, &data).unwrap();
    assert_eq!(option, DhcpOption::RelayAgentInformation(expected.clone()));
    assert_eq!(expected.link_selection(), Some(ip(10, 1, 2, 0)));
    assert_eq!(expected.server_id_override(), Some(ip(192, 0, 2, 1)));
    assert_eq!(expected.get(200).map(RelaySubOption::code), Some(200));
    assert_eq!(expected.get(3), None);
    // Echoed back byte for byte, unknown sub-option and order included (RFC 3046 §2.2).
    assert_eq!(round_trip(&option), data);
}

#[test]
fn rejects_malformed_relay_agent_information() {
    assert_bad_length(82, &[1], Expected::AtLeast(2));
    assert_bad_value(82, &[1, 5, b'e', b't'], "past the end");
    assert_bad_value(82, &[1, 1, b'e', 2], "past the end");
    assert_bad_value(82, &[5, 3, 10, 0, 0], "link selection");
    assert_bad_value(82, &[11, 5, 10, 0, 0, 0, 0], "server id override");
    assert_bad_value(82, &[10, 0], "flags");
    assert_bad_value(82, &[10, 2, 0, 0], "flags");
    assert_bad_value(82, &[151, 0], "empty");
    assert_bad_value(82, &[152, 1, 0], "not empty");
    assert_bad_value(82, &[9, 6, 0, 0, 0, 9, 3, 1], "past the end");
    assert_bad_value(82, &[9, 3, 0, 0, 0], "past the end");
}

#[test]
fn decodes_rfc_3925_vendor_identifying_options() {
    let class = [&[0, 0, 0x0d, 0xe9, 6, 5][..], b"hello", &[0, 0, 0, 9, 0]].concat();
    let option = decode(124, &class).unwrap();
    assert_eq!(
        option,
        DhcpOption::VendorIdentifyingClass(vec![
            VendorClass {
                enterprise: 3561,
                data: vec![b"hello".to_vec()]
            },
            VendorClass {
                enterprise: 9,
                data: vec![]
            },
        ])
    );
    assert_eq!(round_trip(&option), class);

    let info = [&[0, 0, 0x0d, 0xe9, 10, 1, 5][..], b"abcde", &[2, 1, 7]].concat();
    let option = decode(125, &info).unwrap();
    assert_eq!(
        option,
        DhcpOption::VendorIdentifyingInfo(vec![VendorOptions {
            enterprise: 3561,
            options: vec![(1, b"abcde".to_vec()), (2, vec![7])],
        }])
    );
    assert_eq!(round_trip(&option), info);
}

#[test]
fn rejects_malformed_vendor_identifying_options() {
    for code in [124, 125] {
        assert_bad_length(code, &[0, 0, 0, 9], Expected::AtLeast(5));
        assert_bad_value(code, &[0, 0, 0, 9, 10, 1, 2, 3], "past the end");
        assert_bad_value(code, &[0, 0, 0, 9, 0, 0, 0], "past the end");
    }
    // An item that overruns its vendor's data.
    assert_bad_value(124, &[0, 0, 0, 9, 3, 5, b'a', b'b'], "past the end");
    assert_bad_value(125, &[0, 0, 0, 9, 3, 1, 4, b'a'], "past the end");
    assert_bad_value(125, &[0, 0, 0, 9, 1, 1], "past the end");
}

#[test]
fn cuts_vendor_class_data_over_255_bytes_at_a_whole_item() {
    // RFC 3925 §3 gives one vendor 255 bytes; the item that would pass that is left out and
    // the length byte says what is there, so the vendor after it still reads.
    let option = DhcpOption::VendorIdentifyingClass(vec![
        VendorClass {
            enterprise: 9,
            data: vec![vec![1; 200], vec![2; 100]],
        },
        VendorClass {
            enterprise: 3561,
            data: vec![b"next".to_vec()],
        },
    ]);
    let payload = option.payload();
    assert_eq!(payload[4], 201);
    assert_eq!(payload.len(), 5 + 201 + 5 + 5);
    assert_eq!(
        DhcpOption::from_payload(OptionCode(124), &payload).unwrap(),
        DhcpOption::VendorIdentifyingClass(vec![
            VendorClass {
                enterprise: 9,
                data: vec![vec![1; 200]]
            },
            VendorClass {
                enterprise: 3561,
                data: vec![b"next".to_vec()]
            },
        ])
    );
}

#[test]
fn cuts_vendor_options_over_255_bytes_at_a_whole_option() {
    let option = DhcpOption::VendorIdentifyingInfo(vec![
        VendorOptions {
            enterprise: 9,
            options: vec![(1, vec![1; 200]), (2, vec![2; 100])],
        },
        VendorOptions {
            enterprise: 3561,
            options: vec![(3, b"next".to_vec())],
        },
    ]);
    let payload = option.payload();
    assert_eq!(payload[4], 202);
    assert_eq!(
        DhcpOption::from_payload(OptionCode(125), &payload).unwrap(),
        DhcpOption::VendorIdentifyingInfo(vec![
            VendorOptions {
                enterprise: 9,
                options: vec![(1, vec![1; 200])]
            },
            VendorOptions {
                enterprise: 3561,
                options: vec![(3, b"next".to_vec())]
            },
        ])
    );
}

#[test]
fn cuts_relay_vendor_data_over_255_bytes_at_a_whole_vendor() {
    let option = DhcpOption::RelayAgentInformation(RelayAgentInformation(vec![
        RelaySubOption::VendorSpecific(vec![
            VendorData {
                enterprise: 9,
                data: vec![1; 200],
            },
            VendorData {
                enterprise: 10,
                data: vec![2; 100],
            },
        ]),
        RelaySubOption::CircuitId(b"after".to_vec()),
    ]));
    let payload = option.payload();
    assert_eq!(payload[1], 205);
    assert_eq!(
        DhcpOption::from_payload(OptionCode(82), &payload).unwrap(),
        DhcpOption::RelayAgentInformation(RelayAgentInformation(vec![
            RelaySubOption::VendorSpecific(vec![VendorData {
                enterprise: 9,
                data: vec![1; 200]
            }]),
            RelaySubOption::CircuitId(b"after".to_vec()),
        ]))
    );
}

#[test]
fn decodes_pxe_options() {
    assert_eq!(
        decode(93, &[0, 7, 0, 9]).unwrap(),
        DhcpOption::ClientArchitecture(vec![7, 9])
    );
    assert_eq!(
        decode(94, &[1, 3, 16]).unwrap(),
        DhcpOption::ClientNdi(ClientNdi {
            kind: 1,
            major: 3,
            minor: 16
        })
    );
    let uuid: Vec<u8> = (0x10..0x20).collect();
    let data = [&[0][..], &uuid].concat();
    let option = decode(97, &data).unwrap();
    assert_eq!(
        option,
        DhcpOption::ClientMachineId(MachineId { kind: 0, id: uuid })
    );
    assert_eq!(round_trip(&option), data);
}

#[test]
fn rejects_malformed_pxe_options() {
    assert_bad_length(93, &[0], Expected::Multiple { min: 2, unit: 2 });
    assert_bad_length(94, &[1, 2], Expected::Exactly(3));
    assert_bad_length(94, &[1, 2, 1, 0], Expected::Exactly(3));
    assert_bad_length(97, &[], Expected::AtLeast(1));
}

#[test]
fn decodes_ipv6_only_preferred() {
    assert_eq!(
        decode(108, &[0, 0, 0x07, 0x08]).unwrap(),
        DhcpOption::Ipv6OnlyPreferred(1800)
    );
    assert_bad_length(108, &[0, 0, 0x07], Expected::Exactly(4));
}

#[test]
fn decodes_captive_portal_under_both_codes() {
    let uri = b"https://portal.example/login";
    assert_eq!(
        decode(114, uri).unwrap(),
        DhcpOption::CaptivePortal(Text::from(&uri[..]))
    );
    assert_eq!(
        decode(160, uri).unwrap(),
        DhcpOption::CaptivePortalLegacy(Text::from(&uri[..]))
    );
    assert_bad_length(114, &[], Expected::AtLeast(1));
    assert_bad_length(160, &[], Expected::AtLeast(1));
}

#[test]
fn decodes_tftp_server_addresses() {
    assert_eq!(
        decode(150, &[192, 0, 2, 5, 192, 0, 2, 6]).unwrap(),
        DhcpOption::TftpServerAddresses(vec![ip(192, 0, 2, 5), ip(192, 0, 2, 6)])
    );
    assert_bad_length(
        150,
        &[192, 0, 2, 5, 1],
        Expected::Multiple { min: 4, unit: 4 },
    );
}

#[test]
fn keeps_wpad_url_with_its_trailing_nul() {
    let url = b"http://wpad.example/wpad.dat\0";
    let option = decode(252, url).unwrap();
    assert_eq!(option, DhcpOption::Wpad(Text::from(&url[..])));
    assert_eq!(round_trip(&option), url);
}

#[test]
fn decodes_rapid_commit_of_zero_length() {
    assert_eq!(decode(80, &[]).unwrap(), DhcpOption::RapidCommit);
    assert_eq!(round_trip(&DhcpOption::RapidCommit), Vec::<u8>::new());
}

#[test]
fn rejects_rapid_commit_with_data() {
    assert_bad_length(80, &[0], Expected::Exactly(0));
}

#[test]
fn decodes_user_class_instances_and_raw_text() {
    assert_eq!(
        decode(77, &[4, b'i', b'P', b'X', b'E', 1, b'x']).unwrap(),
        DhcpOption::UserClass(UserClass::Instances(vec![b"iPXE".to_vec(), b"x".to_vec()]))
    );
    // A bare string, as some clients send, does not read as instances and is kept whole.
    let raw = decode(77, b"iPXE").unwrap();
    assert_eq!(raw, DhcpOption::UserClass(UserClass::Raw(b"iPXE".to_vec())));
    assert_eq!(round_trip(&raw), b"iPXE");
    assert_bad_length(77, &[], Expected::AtLeast(1));
}

#[test]
fn decodes_slp_options() {
    assert_eq!(
        decode(78, &[1, 192, 0, 2, 1]).unwrap(),
        DhcpOption::SlpDirectoryAgent(SlpDirectoryAgent {
            mandatory: 1,
            agents: vec![ip(192, 0, 2, 1)]
        })
    );
    assert_eq!(
        decode(79, &[0]).unwrap(),
        DhcpOption::SlpServiceScope(SlpServiceScope {
            mandatory: 0,
            scopes: Text::default()
        })
    );
    assert!(matches!(
        decode(78, &[]),
        Err(Error::BadOptionLength { offset: AT, .. })
    ));
    assert!(matches!(
        decode(78, &[1, 192, 0]),
        Err(Error::BadOptionLength { offset: AT, .. })
    ));
    assert_bad_length(79, &[], Expected::AtLeast(1));
}

#[test]
fn decodes_isns() {
    let data = [0x80, 0x03, 0, 1, 0, 7, 0, 0, 0, 1, 192, 0, 2, 1];
    assert_eq!(
        decode(83, &data).unwrap(),
        DhcpOption::Isns(Isns {
            functions: 0x8003,
            dd_access: 1,
            admin_flags: 7,
            security: 1,
            servers: vec![ip(192, 0, 2, 1)],
        })
    );
    for len in [0, 9, 12] {
        assert!(
            matches!(
                decode(83, &data[..len]),
                Err(Error::BadOptionLength { offset: AT, .. })
            ),
            "length {len}"
        );
    }
}

#[test]
fn decodes_authentication() {
    let data = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 42, 0xaa, 0xbb];
    assert_eq!(
        decode(90, &data).unwrap(),
        DhcpOption::Authentication(Authentication {
            protocol: 1,
            algorithm: 1,
            rdm: 0,
            replay_detection: 42,
            info: vec![0xaa, 0xbb],
        })
    );
    assert_bad_length(90, &data[..10], Expected::AtLeast(11));
}

#[test]
fn decodes_sip_servers_by_name_and_address() {
    assert_eq!(
        decode(
            120,
            &[0, 3, b's', b'i', b'p', 0, 3, b'a', b'l', b't', 0xc0, 0x00]
        )
        .unwrap(),
        DhcpOption::SipServers(SipServers::Names(vec![name("sip"), name("alt.sip")]))
    );
    assert_eq!(
        decode(120, &[1, 192, 0, 2, 1]).unwrap(),
        DhcpOption::SipServers(SipServers::Addresses(vec![ip(192, 0, 2, 1)]))
    );
    round_trip(&DhcpOption::SipServers(SipServers::Addresses(vec![ip(
        192, 0, 2, 1,
    )])));
}

#[test]
fn rejects_malformed_sip_servers() {
    assert_bad_length(120, &[1], Expected::AtLeast(2));
    assert_bad_value(120, &[2, 192, 0, 2, 1], "neither 0 nor 1");
    assert_bad_value(120, &[1, 192, 0, 2, 1, 7], "multiple of 4");
    assert_bad_value(120, &[0, 0xc0, 0x00], "point back");
}

#[test]
fn keeps_unknown_option_and_message_type_numbers_and_order() {
    let options = [
        &[180, 3, 1, 2, 3][..],
        &[53, 1, 200],
        &[224, 0],
        &[84, 2, 0xff, 0x00],
        &[3, 4, 192, 0, 2, 1],
    ]
    .concat();
    let message = Message::parse(&with_options(&options)).unwrap();
    assert_eq!(
        message.options,
        vec![
            DhcpOption::Other {
                code: OptionCode(180),
                data: vec![1, 2, 3]
            },
            DhcpOption::MessageType(MessageType(200)),
            DhcpOption::Other {
                code: OptionCode(224),
                data: vec![]
            },
            DhcpOption::Other {
                code: OptionCode(84),
                data: vec![0xff, 0x00]
            },
            DhcpOption::Routers(vec![ip(192, 0, 2, 1)]),
        ]
    );
    assert_eq!(message.message_type(), Some(MessageType(200)));
    assert_eq!(MessageType(200).name(), None);
    assert_eq!(MessageType(200).to_string(), "unknown (200)");
    // Emitted again unchanged and in order.
    let bytes = message.to_bytes(&EmitOptions::default()).unwrap();
    assert_eq!(bytes[240..], with_options(&options)[240..]);
}

#[test]
fn joins_non_adjacent_instances_of_one_code() {
    let options = [
        &[3, 4, 192, 0, 2, 1][..],
        &[53, 1, 1],
        &[3, 4, 192, 0, 2, 2],
        &[12, 2, b'h', b'o'],
    ]
    .concat();
    let message = Message::parse(&with_options(&options)).unwrap();
    assert_eq!(
        message.options,
        vec![
            DhcpOption::Routers(vec![ip(192, 0, 2, 1), ip(192, 0, 2, 2)]),
            DhcpOption::MessageType(MessageType::DISCOVER),
            DhcpOption::HostName(Text::from("ho")),
        ]
    );
}

#[test]
fn decodes_a_joined_value_that_is_malformed_only_in_pieces() {
    // Each instance alone is no address list (2 bytes), together they are one.
    let options = [&[6, 2, 192, 0][..], &[6, 2, 2, 53]].concat();
    let message = Message::parse(&with_options(&options)).unwrap();
    assert_eq!(
        message.options,
        vec![DhcpOption::DomainNameServers(vec![ip(192, 0, 2, 53)])]
    );
}

#[test]
fn reports_joined_value_errors_at_the_first_instance() {
    let options = [
        &[53, 1, 1][..],
        &[1, 2, 255, 255],
        &[12, 1, b'h'],
        &[1, 3, 255, 0, 0],
    ]
    .concat();
    assert_eq!(
        Message::parse(&with_options(&options)),
        Err(Error::BadOptionLength {
            code: OptionCode::SUBNET_MASK,
            offset: AT,
            len: 5,
            expected: Expected::Exactly(4),
        })
    );
}

#[test]
fn decodes_long_values_split_over_instances() {
    let value: Vec<u8> = (0..=255u8).cycle().take(700).collect();
    assert_eq!(
        decode(43, &value).unwrap(),
        DhcpOption::VendorSpecific(value.clone())
    );
    assert_eq!(
        decode(180, &value).unwrap(),
        DhcpOption::Other {
            code: OptionCode(180),
            data: value
        }
    );
}

#[test]
fn treats_structural_codes_as_other_in_from_payload() {
    for code in [0, 52, 255] {
        assert_eq!(
            DhcpOption::from_payload(OptionCode(code), &[1]).unwrap(),
            DhcpOption::Other {
                code: OptionCode(code),
                data: vec![1]
            }
        );
    }
}

#[test]
fn reports_from_payload_errors_at_offset_zero() {
    assert_eq!(
        DhcpOption::from_payload(OptionCode::SUBNET_MASK, &[1, 2]),
        Err(Error::BadOptionLength {
            code: OptionCode::SUBNET_MASK,
            offset: 0,
            len: 2,
            expected: Expected::Exactly(4),
        })
    );
}

#[test]
fn names_option_codes() {
    let cases = [
        (0, "pad"),
        (1, "subnet-mask"),
        (3, "routers"),
        (6, "domain-name-servers"),
        (43, "vendor-encapsulated-options"),
        (52, "dhcp-option-overload"),
        (53, "dhcp-message-type"),
        (61, "dhcp-client-identifier"),
        (80, "rapid-commit"),
        (81, "fqdn"),
        (82, "relay-agent-information"),
        (119, "domain-search"),
        (121, "classless-static-routes"),
        (150, "tftp-server-address"),
        (230, "site-specific"),
        (249, "ms-classless-static-routes"),
        (252, "wpad"),
        (255, "end"),
        (180, "unknown"),
    ];
    for (code, expected) in cases {
        assert_eq!(OptionCode(code).name(), expected, "code {code}");
    }
    assert_eq!(OptionCode(121).to_string(), "classless-static-routes (121)");
    assert_eq!(format!("{:?}", OptionCode(1)), "subnet-mask(1)");
    assert_eq!(DhcpOption::RapidCommit.name(), "rapid-commit");
}

#[test]
fn gives_every_typed_option_a_name() {
    for code in typed_codes() {
        assert_ne!(OptionCode(code).name(), "unknown", "code {code}");
    }
}

#[test]
fn displays_options_as_name_code_and_value() {
    let cases = [
        (
            DhcpOption::SubnetMask(ip(255, 255, 255, 0)),
            "subnet-mask (1): 255.255.255.0",
        ),
        (
            DhcpOption::Routers(vec![ip(192, 0, 2, 1), ip(192, 0, 2, 2)]),
            "routers (3): 192.0.2.1, 192.0.2.2",
        ),
        (
            DhcpOption::MessageType(MessageType::DISCOVER),
            "dhcp-message-type (53): DHCPDISCOVER",
        ),
        (DhcpOption::LeaseTime(3600), "dhcp-lease-time (51): 3600"),
        (DhcpOption::IpForwarding(true), "ip-forwarding (19): on"),
        (
            DhcpOption::HostName(Text::from("a\"b\\c\0")),
            r#"host-name (12): "a\"b\\c\x00""#,
        ),
        (DhcpOption::RapidCommit, "rapid-commit (80)"),
        (
            DhcpOption::Other {
                code: OptionCode(180),
                data: vec![1, 0xab],
            },
            "unknown (180): 01:ab",
        ),
        (
            DhcpOption::ParameterRequestList(vec![OptionCode(1), OptionCode(3)]),
            "dhcp-parameter-request-list (55): 1, 3",
        ),
        (
            DhcpOption::ClasslessStaticRoutes(vec![ClasslessRoute {
                destination: ip(10, 0, 0, 0),
                prefix_len: 8,
                router: ip(192, 0, 2, 1),
            }]),
            "classless-static-routes (121): 10.0.0.0/8 via 192.0.2.1",
        ),
        (
            DhcpOption::DomainSearch(vec![name("eng.apple.com"), name("apple.com")]),
            "domain-search (119): eng.apple.com, apple.com",
        ),
        (
            DhcpOption::ClientIdentifier(ClientId::ethernet([0, 1, 2, 3, 4, 0xff])),
            "dhcp-client-identifier (61): ethernet 00:01:02:03:04:ff",
        ),
        (
            DhcpOption::ClientFqdn(ClientFqdn {
                flags: ClientFqdn::FLAG_S | ClientFqdn::FLAG_E,
                rcode1: 0,
                rcode2: 0,
                name: FqdnName::Wire(name("host.example.com")),
            }),
            "fqdn (81): flags [S E] rcode 0/0 \"host.example.com.\"",
        ),
        (
            DhcpOption::RelayAgentInformation(RelayAgentInformation(vec![
                RelaySubOption::CircuitId(b"eth0".to_vec()),
                RelaySubOption::LinkSelection(ip(10, 0, 0, 1)),
            ])),
            "relay-agent-information (82): circuit-id \"eth0\", link-selection 10.0.0.1",
        ),
    ];
    for (option, expected) in cases {
        assert_eq!(option.to_string(), expected);
    }
}

#[test]
fn displays_a_message_one_line_per_field_and_option() {
    let message = Message {
        xid: 0x1234,
        chaddr: charrua_wire::HardwareAddress::ethernet([0, 1, 2, 3, 4, 5]),
        sname: Text::from("server"),
        options: vec![
            DhcpOption::MessageType(MessageType::DISCOVER),
            DhcpOption::RapidCommit,
        ],
        ..Message::default()
    };
    let text = message.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "BOOTREQUEST DHCPDISCOVER, xid 0x00001234");
    assert!(lines.contains(&"chaddr 00:01:02:03:04:05"), "{text}");
    assert!(lines.contains(&"sname \"server\""), "{text}");
    assert!(!text.contains("file"), "{text}");
    assert_eq!(
        lines[lines.len() - 2..],
        ["dhcp-message-type (53): DHCPDISCOVER", "rapid-commit (80)"]
    );
    let indented = format!("{message:#}");
    assert!(indented.lines().all(|l| l.starts_with("  ")), "{indented}");
}
