//! Property tests: arbitrary messages round trip through emit and parse, emitted lengths are
//! exact and within limits, no input makes a parser or `Display` panic, and whatever parses
//! emits and parses again to the same message.

use charrua_wire::options::{
    Authentication, ClasslessRoute, ClientFqdn, ClientId, ClientNdi, DomainName, FqdnName, Isns,
    MachineId, RelayAgentInformation, RelaySubOption, SipServers, SlpDirectoryAgent,
    SlpServiceScope, UserClass, VendorClass, VendorData, VendorOptions,
};
use charrua_wire::{
    Checksums, DhcpOption, EmitError, EmitOptions, Error, Flags, HEADERS_LEN, HardwareAddress,
    HardwareType, MAGIC_COOKIE, MacAddr, Message, MessageType, MessageView, Op, OptionCode, Packet,
    Text, parse_ethernet, parse_ipv4,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::strategy::Union;
use std::net::Ipv4Addr;

type O = DhcpOption;

const ADDRESS: &[fn(Ipv4Addr) -> O] = &[
    O::SubnetMask,
    O::SwapServer,
    O::BroadcastAddress,
    O::RouterSolicitationAddress,
    O::RequestedAddress,
    O::ServerIdentifier,
    O::SubnetSelection,
];

const ADDRESSES: &[fn(Vec<Ipv4Addr>) -> O] = &[
    O::Routers,
    O::TimeServers,
    O::NameServers,
    O::DomainNameServers,
    O::LogServers,
    O::CookieServers,
    O::LprServers,
    O::ImpressServers,
    O::ResourceLocationServers,
    O::NisServers,
    O::NtpServers,
    O::NetbiosNameServers,
    O::NetbiosDdServers,
    O::FontServers,
    O::XDisplayManagers,
    O::NisPlusServers,
    O::SmtpServers,
    O::Pop3Servers,
    O::NntpServers,
    O::WwwServers,
    O::FingerServers,
    O::IrcServers,
    O::StreetTalkServers,
    O::StreetTalkDirectoryAssistance,
    O::NdsServers,
    O::BcmcsControllerAddresses,
    O::AssociatedIp,
    O::PanaAgents,
    O::CapwapAccessControllers,
    O::TftpServerAddresses,
];

const TEXTS: &[fn(Text) -> O] = &[
    O::HostName,
    O::MeritDump,
    O::DomainName,
    O::RootPath,
    O::ExtensionsPath,
    O::NisDomain,
    O::NetbiosScope,
    O::Message,
    O::NisPlusDomain,
    O::TftpServerName,
    O::BootfileName,
    O::NdsTreeName,
    O::NdsContext,
    O::UserAuthentication,
    O::PosixTimeZone,
    O::TzDatabaseTimeZone,
    O::CaptivePortal,
    O::CaptivePortalLegacy,
    O::MudUrl,
    O::PxelinuxConfigFile,
    O::PxelinuxPathPrefix,
    O::Wpad,
];

const FLAGS: &[fn(bool) -> O] = &[
    O::IpForwarding,
    O::NonLocalSourceRouting,
    O::AllSubnetsLocal,
    O::PerformMaskDiscovery,
    O::MaskSupplier,
    O::RouterDiscovery,
    O::TrailerEncapsulation,
    O::Ieee8023Encapsulation,
    O::TcpKeepaliveGarbage,
];

const BYTE: &[fn(u8) -> O] = &[
    O::DefaultIpTtl,
    O::DefaultTcpTtl,
    O::NetbiosNodeType,
    O::AutoConfigure,
];

const U16: &[fn(u16) -> O] = &[
    O::BootSize,
    O::MaxDatagramReassembly,
    O::InterfaceMtu,
    O::MaxMessageSize,
];

const U32: &[fn(u32) -> O] = &[
    O::PathMtuAgingTimeout,
    O::ArpCacheTimeout,
    O::TcpKeepaliveInterval,
    O::LeaseTime,
    O::RenewalTime,
    O::RebindingTime,
    O::ClientLastTransactionTime,
    O::Ipv6OnlyPreferred,
    O::PxelinuxRebootTime,
];

/// (address, mask) or (destination, router) pairs.
type Pairs = Vec<(Ipv4Addr, Ipv4Addr)>;

const PAIRS: &[fn(Pairs) -> O] = &[O::PolicyFilter, O::StaticRoutes];

const U16S: &[fn(Vec<u16>) -> O] = &[
    O::PathMtuPlateauTable,
    O::ClientArchitecture,
    O::NameServiceSearch,
];

const BYTES: &[fn(Vec<u8>) -> O] = &[O::VendorSpecific, O::VendorClassIdentifier, O::GeoconfCivic];

const NAMES: &[fn(Vec<DomainName>) -> O] = &[
    O::BcmcsControllerNames,
    O::DomainSearch,
    O::LostServer,
    O::SipUaConfigDomains,
    O::AccessDomain,
];

const ROUTES: &[fn(Vec<ClasslessRoute>) -> O] =
    &[O::ClasslessStaticRoutes, O::MsClasslessStaticRoutes];

/// Relay agent sub-option codes with a typed variant.
const TYPED_SUB_OPTIONS: [u8; 9] = [1, 2, 5, 6, 9, 10, 11, 151, 152];

/// Codes with no typed variant, less the structural 0, 52 and 255: an untyped code decodes
/// any payload as `Other`.
fn untyped_codes() -> Vec<u8> {
    (1..=254u8)
        .filter(|&c| c != 52)
        .filter(|&c| {
            matches!(
                DhcpOption::from_payload(OptionCode(c), &[]),
                Ok(DhcpOption::Other { .. })
            )
        })
        .collect()
}

fn address() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

fn bytes(len: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), len)
}

/// Labels from a small pool, so that names share suffixes and get compressed, or anything
/// from the usual host name alphabet.
fn label() -> impl Strategy<Value = String> {
    prop_oneof![
        select(&["com", "org", "example", "eng", "a", "lab-1"][..]).prop_map(String::from),
        "[a-z0-9-]{1,63}",
    ]
}

/// Labels that fit in a name of at most 255 bytes in wire form, root label included.
fn labels(max: usize) -> impl Strategy<Value = Vec<String>> {
    vec(label(), 0..=max).prop_map(|mut labels| {
        while labels.iter().map(|l| 1 + l.len()).sum::<usize>() + 1 > 255 {
            labels.pop();
        }
        labels
    })
}

fn absolute_name() -> impl Strategy<Value = DomainName> {
    labels(8).prop_map(|labels| {
        if labels.is_empty() {
            DomainName::root()
        } else {
            DomainName::from_dotted(&labels.join(".")).unwrap()
        }
    })
}

fn name_list() -> impl Strategy<Value = Vec<DomainName>> {
    prop_oneof![4 => vec(absolute_name(), 1..=6), 1 => vec(absolute_name(), 1..=40)]
}

fn route() -> impl Strategy<Value = ClasslessRoute> {
    (0..=32u8, any::<[u8; 4]>(), address()).prop_map(|(prefix_len, mut octets, router)| {
        // Only the significant octets are sent (RFC 3442).
        let significant = usize::from(prefix_len).div_ceil(8);
        octets[significant..].fill(0);
        ClasslessRoute {
            destination: Ipv4Addr::from(octets),
            prefix_len,
            router,
        }
    })
}

/// The leading items whose sizes fit together in 255 bytes.
fn fitting<T>(mut items: Vec<T>, size: impl Fn(&T) -> usize) -> Vec<T> {
    let mut total = 0;
    let keep = items
        .iter()
        .take_while(|item| {
            total += size(item);
            total <= 255
        })
        .count();
    items.truncate(keep);
    items
}

fn client_fqdn() -> impl Strategy<Value = ClientFqdn> {
    let wire = prop_oneof![
        absolute_name(),
        labels(5).prop_map(|l| DomainName::partial_from_dotted(&l.join(".")).unwrap()),
    ]
    .prop_map(FqdnName::Wire);
    let ascii = bytes(0..=60).prop_map(|b| FqdnName::Ascii(Text::new(b)));
    (
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        prop_oneof![wire, ascii],
    )
        .prop_map(|(flags, rcode1, rcode2, name)| {
            // The E flag says which encoding the name is in; emission takes it from the name.
            let flags = match name {
                FqdnName::Wire(_) => flags | ClientFqdn::FLAG_E,
                _ => flags & !ClientFqdn::FLAG_E,
            };
            ClientFqdn {
                flags,
                rcode1,
                rcode2,
                name,
            }
        })
}

fn relay_sub_option() -> impl Strategy<Value = RelaySubOption> {
    let vendors = vec((any::<u32>(), bytes(0..=120)), 0..=3).prop_map(|v| {
        let v = v
            .into_iter()
            .map(|(enterprise, data)| VendorData { enterprise, data })
            .collect();
        fitting(v, |d: &VendorData| 5 + d.data.len())
    });
    let other_code = any::<u8>().prop_filter("typed", |c| !TYPED_SUB_OPTIONS.contains(c));
    prop_oneof![
        bytes(0..=255).prop_map(RelaySubOption::CircuitId),
        bytes(0..=255).prop_map(RelaySubOption::RemoteId),
        address().prop_map(RelaySubOption::LinkSelection),
        bytes(0..=40).prop_map(RelaySubOption::SubscriberId),
        vendors.prop_map(RelaySubOption::VendorSpecific),
        any::<u8>().prop_map(RelaySubOption::Flags),
        address().prop_map(RelaySubOption::ServerIdOverride),
        (any::<u8>(), bytes(0..=254))
            .prop_map(|(kind, data)| RelaySubOption::VirtualSubnetSelection { kind, data }),
        Just(RelaySubOption::VirtualSubnetSelectionControl),
        (other_code, bytes(0..=255)).prop_map(|(code, data)| RelaySubOption::Other { code, data }),
    ]
}

fn vendor_classes() -> impl Strategy<Value = Vec<VendorClass>> {
    let class =
        (any::<u32>(), vec(bytes(0..=80), 0..=5)).prop_map(|(enterprise, data)| VendorClass {
            enterprise,
            data: fitting(data, |d| 1 + d.len()),
        });
    vec(class, 1..=3)
}

fn vendor_options() -> impl Strategy<Value = Vec<VendorOptions>> {
    let vendor = (any::<u32>(), vec((any::<u8>(), bytes(0..=80)), 0..=5)).prop_map(
        |(enterprise, options)| VendorOptions {
            enterprise,
            options: fitting(options, |(_, d)| 2 + d.len()),
        },
    );
    vec(vendor, 1..=3)
}

/// Any option with a typed variant, holding a value its codec reads back the same.
fn typed_option() -> impl Strategy<Value = DhcpOption> {
    let strategies: Vec<BoxedStrategy<DhcpOption>> = vec![
        (select(ADDRESS), address())
            .prop_map(|(make, v)| make(v))
            .boxed(),
        (select(ADDRESSES), vec(address(), 1..=70))
            .prop_map(|(make, v)| make(v))
            .boxed(),
        vec(address(), 0..=4)
            .prop_map(O::MobileIpHomeAgents)
            .boxed(),
        (select(TEXTS), bytes(1..=300))
            .prop_map(|(make, v)| make(Text::new(v)))
            .boxed(),
        (select(FLAGS), any::<bool>())
            .prop_map(|(make, v)| make(v))
            .boxed(),
        (select(BYTE), any::<u8>())
            .prop_map(|(make, v)| make(v))
            .boxed(),
        (select(U16), any::<u16>())
            .prop_map(|(make, v)| make(v))
            .boxed(),
        (select(U32), any::<u32>())
            .prop_map(|(make, v)| make(v))
            .boxed(),
        any::<i32>().prop_map(O::TimeOffset).boxed(),
        (select(PAIRS), vec((address(), address()), 1..=6))
            .prop_map(|(make, v)| make(v))
            .boxed(),
        (select(U16S), vec(any::<u16>(), 1..=20))
            .prop_map(|(make, v)| make(v))
            .boxed(),
        (select(BYTES), bytes(1..=1000))
            .prop_map(|(make, v)| make(v))
            .boxed(),
        (select(NAMES), name_list())
            .prop_map(|(make, v)| make(v))
            .boxed(),
        (select(ROUTES), vec(route(), 1..=10))
            .prop_map(|(make, v)| make(v))
            .boxed(),
        any::<u8>()
            .prop_map(|t| O::MessageType(MessageType(t)))
            .boxed(),
        vec(any::<u8>().prop_map(OptionCode), 1..=60)
            .prop_map(O::ParameterRequestList)
            .boxed(),
        (any::<u8>(), bytes(1..=40))
            .prop_map(|(kind, id)| O::ClientIdentifier(ClientId { kind, id }))
            .boxed(),
        prop_oneof![
            vec(bytes(1..=255), 1..=4).prop_map(UserClass::Instances),
            // A zero length byte first: not RFC 3004 instances, so read back as raw bytes.
            bytes(0..=50).prop_map(|b| UserClass::Raw([&[0][..], &b].concat())),
        ]
        .prop_map(O::UserClass)
        .boxed(),
        (any::<u8>(), vec(address(), 0..=5))
            .prop_map(|(mandatory, agents)| {
                O::SlpDirectoryAgent(SlpDirectoryAgent { mandatory, agents })
            })
            .boxed(),
        (any::<u8>(), bytes(0..=40))
            .prop_map(|(mandatory, s)| {
                O::SlpServiceScope(SlpServiceScope {
                    mandatory,
                    scopes: Text::new(s),
                })
            })
            .boxed(),
        Just(O::RapidCommit).boxed(),
        client_fqdn().prop_map(O::ClientFqdn).boxed(),
        vec(relay_sub_option(), 1..=6)
            .prop_map(|subs| O::RelayAgentInformation(RelayAgentInformation(subs)))
            .boxed(),
        (
            any::<u16>(),
            any::<u16>(),
            any::<u16>(),
            any::<u32>(),
            vec(address(), 0..=5),
        )
            .prop_map(|(functions, dd_access, admin_flags, security, servers)| {
                O::Isns(Isns {
                    functions,
                    dd_access,
                    admin_flags,
                    security,
                    servers,
                })
            })
            .boxed(),
        (
            any::<u8>(),
            any::<u8>(),
            any::<u8>(),
            any::<u64>(),
            bytes(0..=50),
        )
            .prop_map(|(protocol, algorithm, rdm, replay_detection, info)| {
                O::Authentication(Authentication {
                    protocol,
                    algorithm,
                    rdm,
                    replay_detection,
                    info,
                })
            })
            .boxed(),
        any::<[u8; 3]>()
            .prop_map(|[kind, major, minor]| O::ClientNdi(ClientNdi { kind, major, minor }))
            .boxed(),
        (any::<u8>(), bytes(0..=20))
            .prop_map(|(kind, id)| O::ClientMachineId(MachineId { kind, id }))
            .boxed(),
        prop_oneof![
            name_list().prop_map(SipServers::Names),
            vec(address(), 1..=5).prop_map(SipServers::Addresses),
        ]
        .prop_map(O::SipServers)
        .boxed(),
        vendor_classes().prop_map(O::VendorIdentifyingClass).boxed(),
        vendor_options().prop_map(O::VendorIdentifyingInfo).boxed(),
    ];
    Union::new(strategies)
}

fn untyped_option() -> impl Strategy<Value = DhcpOption> {
    let data = prop_oneof![3 => bytes(0..=20), 1 => bytes(0..=1000)];
    (select(untyped_codes()), data).prop_map(|(code, data)| DhcpOption::Other {
        code: OptionCode(code),
        data,
    })
}

fn option() -> impl Strategy<Value = DhcpOption> {
    prop_oneof![4 => typed_option(), 1 => untyped_option()]
}

/// Options with each code at most once: the parser joins repeated codes into one.
fn options() -> impl Strategy<Value = Vec<DhcpOption>> {
    vec(option(), 0..=10).prop_map(|options| {
        let mut seen = [false; 256];
        options
            .into_iter()
            .filter(|o| !std::mem::replace(&mut seen[usize::from(o.code().0)], true))
            .collect()
    })
}

/// A few short options, with distinct codes.
fn small_options() -> impl Strategy<Value = Vec<DhcpOption>> {
    let option = prop_oneof![
        any::<u8>().prop_map(|t| O::MessageType(MessageType(t))),
        (select(untyped_codes()), bytes(0..=12)).prop_map(|(code, data)| DhcpOption::Other {
            code: OptionCode(code),
            data
        }),
    ];
    vec(option, 0..=4).prop_map(|options| {
        let mut seen = [false; 256];
        options
            .into_iter()
            .filter(|o| !std::mem::replace(&mut seen[usize::from(o.code().0)], true))
            .collect()
    })
}

/// Text for `sname` or `file`: no NUL, since parsing stops at the first one.
fn field_text(max: usize) -> impl Strategy<Value = Text> {
    prop_oneof![
        Just(Text::default()),
        vec(1..=255u8, 1..=max).prop_map(Text::new),
        "[a-z0-9./-]{1,20}".prop_map(|s| Text::from(s.as_str())),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    let fixed = (
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        any::<u32>(),
        any::<u16>(),
        any::<u16>(),
        [address(), address(), address(), address()],
        bytes(0..=16),
    );
    (fixed, field_text(64), field_text(128), options()).prop_map(
        |((op, htype, hops, xid, secs, flags, ips, chaddr), sname, file, options)| Message {
            op: Op(op),
            htype: HardwareType(htype),
            hops,
            xid,
            secs,
            flags: Flags(flags),
            ciaddr: ips[0],
            yiaddr: ips[1],
            siaddr: ips[2],
            giaddr: ips[3],
            chaddr: HardwareAddress::new(&chaddr).unwrap(),
            sname,
            file,
            options,
        },
    )
}

fn packet() -> impl Strategy<Value = Packet> {
    (
        any::<[u8; 6]>(),
        any::<[u8; 6]>(),
        address(),
        address(),
        any::<u16>(),
        any::<u16>(),
        message(),
    )
        .prop_map(
            |(src, dst, src_ip, dst_ip, src_port, dst_port, message)| Packet {
                src_mac: MacAddr(src),
                dst_mac: MacAddr(dst),
                src_ip,
                dst_ip,
                src_port,
                dst_port,
                message,
            },
        )
}

/// Changes to a valid encoding: bytes overwritten, then maybe a cut and some bytes added.
#[derive(Debug, Clone)]
struct Mutation {
    writes: Vec<(Index, u8)>,
    cut: Option<Index>,
    tail: Vec<u8>,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    (
        vec((any::<Index>(), any::<u8>()), 0..=8),
        proptest::option::of(any::<Index>()),
        bytes(0..=8),
    )
        .prop_map(|(writes, cut, tail)| Mutation { writes, cut, tail })
}

impl Mutation {
    /// Applies the changes to `bytes`, leaving the first `keep` bytes alone.
    fn apply(&self, bytes: &mut Vec<u8>, keep: usize) {
        if bytes.len() > keep {
            let span = bytes.len() - keep;
            for (at, value) in &self.writes {
                bytes[keep + at.index(span)] = *value;
            }
        }
        if let Some(cut) = &self.cut {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        bytes.extend_from_slice(&self.tail);
    }
}

/// Bytes shaped like a message: a header, the cookie, and options that may use overload.
fn message_like_bytes() -> impl Strategy<Value = Vec<u8>> {
    let tail = prop_oneof![bytes(0..=12), bytes(0..=400)];
    (
        proptest::bool::weighted(0.1),
        bytes(236..=236),
        proptest::option::of(1..=3u8),
        tail,
    )
        .prop_map(|(long_hlen, mut header, overload, tail)| {
            if !long_hlen {
                header[2] %= 17;
            }
            header.extend_from_slice(&MAGIC_COOKIE);
            if let Some(v) = overload {
                header.extend_from_slice(&[52, 1, v]);
            }
            header.extend_from_slice(&tail);
            header
        })
}

/// Well-framed option instances with random codes and payloads, the lengths drawn mostly
/// from those fixed-size options take.
fn framed_instances() -> impl Strategy<Value = Vec<u8>> {
    let len = prop_oneof![select(&[0usize, 1, 2, 3, 4, 5, 8, 16][..]), 0..=40usize];
    let payload = len.prop_flat_map(|n| bytes(n..=n));
    vec((1..=254u8, payload), 0..=5).prop_map(|instances| {
        let mut out = Vec::new();
        for (code, data) in instances {
            out.push(code);
            out.push(u8::try_from(data.len()).unwrap());
            out.extend_from_slice(&data);
        }
        out
    })
}

/// A valid header and cookie, then well-framed instances, which may overload `file` and
/// `sname` with more of them.
fn framed_message_bytes() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<[u8; 28]>(),
        0..=16u8,
        framed_instances(),
        framed_instances(),
        framed_instances(),
    )
        .prop_map(|(fixed, hlen, options, file, sname)| {
            let mut bytes = vec![0u8; 240];
            bytes[..28].copy_from_slice(&fixed);
            bytes[2] = hlen;
            bytes[236..240].copy_from_slice(&MAGIC_COOKIE);
            let mut overload = 0;
            if file.len() <= 128 {
                bytes[108..108 + file.len()].copy_from_slice(&file);
                overload |= 1;
            }
            if sname.len() <= 64 {
                bytes[44..44 + sname.len()].copy_from_slice(&sname);
                overload |= 2;
            }
            if overload != 0 && options.first() != Some(&52) {
                bytes.extend_from_slice(&[52, 1, overload]);
            }
            bytes.extend_from_slice(&options);
            bytes
        })
}

/// Emits with the given settings and checks what holds for every emission.
fn emit_checked(message: &Message, settings: &EmitOptions) -> Result<Vec<u8>, EmitError> {
    let len = message.emitted_len(settings)?;
    let mut buf = vec![0xaa; len + 8];
    let written = message.emit(&mut buf, settings)?;
    assert_eq!(written, len, "emitted_len and emit disagree");
    assert!(
        buf[len..].iter().all(|&b| b == 0xaa),
        "wrote past its length"
    );
    if let Some(max) = settings.max_len {
        assert!(len <= max, "{len} bytes over max_len {max}");
    }
    assert!(len >= settings.min_len.min(settings.max_len.unwrap_or(usize::MAX)));
    buf.truncate(len);
    Ok(buf)
}

/// Checks what holds for any parse result: errors point inside the input and say where;
/// a message shows one line per field and option.
fn check_parsed(bytes: &[u8], parsed: &Result<Message, Error>) {
    match parsed {
        Ok(message) => {
            let text = message.to_string();
            let lines = 8
                + message.options.len()
                + usize::from(!message.sname.is_empty())
                + usize::from(!message.file.is_empty());
            assert_eq!(text.lines().count(), lines, "{text}");
            assert_eq!(format!("{message:#}").lines().count(), lines);
            assert!(!format!("{message:?}").is_empty());
        }
        Err(error) => check_error(bytes, error),
    }
}

fn check_error(bytes: &[u8], error: &Error) {
    assert!(
        error.offset() <= bytes.len(),
        "{error:?} past {} bytes",
        bytes.len()
    );
    let text = error.to_string();
    assert!(
        text.ends_with(&format!("at offset {}", error.offset())),
        "{text}"
    );
}

/// Parsing never panics, and what parses emits and parses again to the same message.
fn check_any_message_bytes(bytes: &[u8]) {
    if let Ok(view) = MessageView::new(bytes) {
        for raw in view.raw_options() {
            match raw {
                Ok(raw) => {
                    assert!(raw.offset + 2 + raw.data.len() <= bytes.len());
                    assert_eq!(bytes[raw.offset], raw.code.0);
                }
                Err(error) => check_error(bytes, &error),
            }
        }
        let _ = view.message_type();
    }
    let parsed = Message::parse(bytes);
    check_parsed(bytes, &parsed);
    if let Ok(first) = parsed {
        let again = first
            .to_bytes(&EmitOptions::default())
            .expect("a parsed message emits");
        assert_eq!(Message::parse(&again).as_ref(), Ok(&first));
    }
}

fn check_any_frame_bytes(bytes: &[u8]) {
    for checksums in [Checksums::Verify, Checksums::Ignore] {
        match parse_ethernet(bytes, checksums) {
            Ok(d) => {
                assert_eq!(
                    &bytes[d.payload_offset..d.payload_offset + d.payload.len()],
                    d.payload
                );
            }
            Err(e) => check_error(bytes, &e),
        }
        match parse_ipv4(bytes, checksums) {
            Ok(d) => {
                assert_eq!(
                    &bytes[d.payload_offset..d.payload_offset + d.payload.len()],
                    d.payload
                );
            }
            Err(e) => check_error(bytes, &e),
        }
    }
    match Packet::parse(bytes) {
        Ok(packet) => {
            let _ = format!("{packet:?}");
            check_parsed(bytes, &Ok(packet.message));
        }
        Err(e) => check_error(bytes, &e),
    }
}

/// 256 cases, which keeps the suite quick in debug builds, unless `PROPTEST_CASES` asks for
/// another number.
fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 256;
    }
    config
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn emit_then_parse_gives_the_same_message(message in message()) {
        let bytes = emit_checked(&message, &EmitOptions::default()).unwrap();
        prop_assert_eq!(Message::parse(&bytes), Ok(message.clone()));
        let padded = EmitOptions { min_len: 300, ..EmitOptions::default() };
        let bytes = emit_checked(&message, &padded).unwrap();
        prop_assert_eq!(Message::parse(&bytes), Ok(message));
    }

    #[test]
    fn emit_within_576_with_overload_then_parse_gives_the_same_message(message in message()) {
        for overload in [true, false] {
            let settings = EmitOptions { max_len: Some(576), overload, min_len: 0 };
            match emit_checked(&message, &settings) {
                Ok(bytes) => prop_assert_eq!(Message::parse(&bytes), Ok(message.clone())),
                Err(EmitError::TooLarge { limit, .. }) => prop_assert_eq!(limit, 576),
                Err(e) => prop_assert!(false, "{}", e),
            }
        }
    }

    #[test]
    fn emitted_len_is_exact_and_within_max_len(
        message in message(),
        max_len in 200..2000usize,
        overload: bool,
        min_len in 0..700usize,
    ) {
        let settings = EmitOptions { max_len: Some(max_len), overload, min_len };
        match emit_checked(&message, &settings) {
            Ok(bytes) => prop_assert_eq!(Message::parse(&bytes), Ok(message)),
            Err(EmitError::TooLarge { limit, needed }) => {
                prop_assert_eq!(limit, max_len);
                prop_assert!(needed > max_len);
            }
            Err(e) => prop_assert!(false, "{}", e),
        }
    }

    #[test]
    fn small_max_len_is_never_exceeded(
        mut message in message(),
        options in small_options(),
        max_len in 236..=300usize,
        overload: bool,
    ) {
        // Just over the header, where overload has little room or none.
        message.options = options;
        let settings = EmitOptions { max_len: Some(max_len), overload, min_len: 0 };
        match emit_checked(&message, &settings) {
            Ok(bytes) => prop_assert_eq!(Message::parse(&bytes), Ok(message)),
            Err(EmitError::TooLarge { limit, .. }) => prop_assert_eq!(limit, max_len),
            Err(e) => prop_assert!(false, "{}", e),
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in bytes(0..=700)) {
        check_any_message_bytes(&bytes);
        check_any_frame_bytes(&bytes);
    }

    #[test]
    fn message_shaped_bytes_never_panic(bytes in message_like_bytes()) {
        check_any_message_bytes(&bytes);
    }

    #[test]
    fn framed_random_options_never_panic_and_reparse_stably(bytes in framed_message_bytes()) {
        check_any_message_bytes(&bytes);
    }

    #[test]
    fn mutated_messages_never_panic_and_reparse_stably(
        message in message(),
        mutation in mutation(),
        overload: bool,
    ) {
        let settings = EmitOptions { max_len: Some(576), overload, min_len: 0 };
        let mut bytes = message
            .to_bytes(&settings)
            .or_else(|_| message.to_bytes(&EmitOptions::default()))
            .unwrap();
        // Mostly change the options, which hold the structure.
        mutation.apply(&mut bytes, 236);
        check_any_message_bytes(&bytes);
        let mut bytes = message.to_bytes(&EmitOptions::default()).unwrap();
        mutation.apply(&mut bytes, 0);
        check_any_message_bytes(&bytes);
    }

    #[test]
    fn mutated_frames_never_panic(packet in packet(), mutation in mutation()) {
        let mut frame = vec![0; packet.emitted_len(&EmitOptions::default()).unwrap()];
        packet.emit(&mut frame, &EmitOptions::default()).unwrap();
        let mut headers = frame.clone();
        // Changes within the headers, and changes anywhere.
        headers.truncate(HEADERS_LEN);
        mutation.apply(&mut headers, 0);
        headers.extend_from_slice(&frame[HEADERS_LEN..]);
        check_any_frame_bytes(&headers);
        mutation.apply(&mut frame, 0);
        check_any_frame_bytes(&frame);
    }

    #[test]
    fn packet_emit_then_parse_gives_the_same_packet(packet in packet()) {
        let settings = EmitOptions::default();
        let len = packet.emitted_len(&settings).unwrap();
        let mut frame = vec![0xaa; len + 4];
        prop_assert_eq!(packet.emit(&mut frame, &settings), Ok(len));
        prop_assert!(frame[len..].iter().all(|&b| b == 0xaa));
        frame.truncate(len);
        prop_assert_eq!(Packet::parse(&frame), Ok(packet.clone()));
        let datagram = parse_ipv4(&frame[14..], Checksums::Verify).unwrap();
        prop_assert_eq!(datagram.payload, &frame[HEADERS_LEN..]);
        prop_assert_eq!((datagram.src_port, datagram.dst_port), (packet.src_port, packet.dst_port));
    }
}

#[test]
fn strategies_reach_every_typed_code() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let any_ip = Ipv4Addr::UNSPECIFIED;
    // Arms drawing from a table reach each of its constructors.
    let mut seen: Vec<u8> = [
        ADDRESS.iter().map(|make| make(any_ip)).collect::<Vec<_>>(),
        ADDRESSES.iter().map(|make| make(vec![])).collect(),
        TEXTS.iter().map(|make| make(Text::default())).collect(),
        FLAGS.iter().map(|make| make(false)).collect(),
        BYTE.iter().map(|make| make(0)).collect(),
        U16.iter().map(|make| make(0)).collect(),
        U32.iter().map(|make| make(0)).collect(),
        PAIRS.iter().map(|make| make(vec![])).collect(),
        U16S.iter().map(|make| make(vec![])).collect(),
        BYTES.iter().map(|make| make(vec![])).collect(),
        NAMES.iter().map(|make| make(vec![])).collect(),
        ROUTES.iter().map(|make| make(vec![])).collect(),
    ]
    .concat()
    .iter()
    .map(|o| o.code().0)
    .collect();
    // The other arms give one variant each: sampling finds them all.
    let mut runner = TestRunner::deterministic();
    let strategy = typed_option();
    for _ in 0..2000 {
        seen.push(strategy.new_tree(&mut runner).unwrap().current().code().0);
    }
    let untyped = untyped_codes();
    let missing: Vec<u8> = (1..=254u8)
        .filter(|&c| c != 52 && !untyped.contains(&c) && !seen.contains(&c))
        .collect();
    assert!(
        missing.is_empty(),
        "typed codes never generated: {missing:?}"
    );
}
