//! Differential test against dhcproto: the same bytes read by both codecs and compared field
//! by field and option by option, over captured traffic in `testdata/captures/*.pcap` (when
//! present) and over messages built here with charrua's owned types.
//!
//! Where the two disagree, a test below pins the answer RFC 2131 and RFC 2132 (or the RFC that
//! defines the option) give, and its comment says which codec gets it wrong and why. Those
//! tests also check dhcproto's current behaviour, so that a dhcproto release that changes it
//! is noticed and the note can be revised.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use charrua_wire::options::{
    ClasslessRoute, ClientFqdn, ClientId, ClientNdi, DomainName, FqdnName, MachineId,
    RelayAgentInformation, RelaySubOption, UserClass,
};
use charrua_wire::{
    DhcpOption, EmitOptions, Error, Expected, Flags, HardwareAddress, HardwareType, Message,
    MessageType, Op, OptionCode, Text,
};
use dhcproto::v4 as dp;
use dhcproto::{Decodable, Decoder, Encodable, Encoder};

// ---------------------------------------------------------------------------------------------
// Reading one message with each codec, into a common form
// ---------------------------------------------------------------------------------------------

/// What one codec made of a message: header fields and option values, as comparable text.
#[derive(Debug, Default, PartialEq)]
struct Reading {
    fields: BTreeMap<&'static str, String>,
    options: BTreeMap<u8, String>,
    /// The typed values both codecs decode, by name (message type, lease time, ...).
    typed: BTreeMap<&'static str, String>,
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Bytes up to (not including) a trailing NUL, which dhcproto keeps in `sname` and `file`.
fn without_nul(bytes: &[u8]) -> &[u8] {
    bytes.strip_suffix(&[0]).unwrap_or(bytes)
}

/// The payload of a run of `code, len, data` instances, joined.
fn join_instances(mut wire: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let [_, len, rest @ ..] = wire {
        let len = usize::from(*len).min(rest.len());
        out.extend_from_slice(&rest[..len]);
        wire = &rest[len..];
    }
    out
}

/// Relay agent sub-options as `code:data` items sorted by code: dhcproto keeps them in a map
/// ordered by code, charrua in wire order.
fn relay_items(mut payload: &[u8]) -> String {
    let mut items = Vec::new();
    while let [code, len, rest @ ..] = payload {
        let len = usize::from(*len).min(rest.len());
        items.push(format!("{code}:{}", hex(&rest[..len])));
        payload = &rest[len..];
    }
    items.sort_by_key(|item| item.split(':').next().and_then(|c| c.parse::<u8>().ok()));
    items.join(",")
}

/// A name as its labels joined by dots, without escapes (the two codecs escape differently).
fn hickory_name(name: &dhcproto::Name) -> String {
    name.iter()
        .map(String::from_utf8_lossy)
        .collect::<Vec<_>>()
        .join(".")
}

fn charrua_name(name: &DomainName) -> String {
    name.labels()
        .map(String::from_utf8_lossy)
        .collect::<Vec<_>>()
        .join(".")
}

fn ours_option(option: &DhcpOption) -> String {
    match option {
        DhcpOption::DomainSearch(names) | DhcpOption::BcmcsControllerNames(names) => {
            names.iter().map(charrua_name).collect::<Vec<_>>().join(",")
        }
        DhcpOption::ClientFqdn(fqdn) => {
            let name = match &fqdn.name {
                FqdnName::Wire(name) => charrua_name(name),
                FqdnName::Ascii(text) => text.to_string_lossy(),
            };
            format!(
                "flags {:#04x} rcode {}/{} {name}",
                fqdn.flags, fqdn.rcode1, fqdn.rcode2
            )
        }
        DhcpOption::RelayAgentInformation(_) => relay_items(&option.payload()),
        _ => hex(&option.payload()),
    }
}

fn theirs_option(option: &dp::DhcpOption) -> String {
    match option {
        dp::DhcpOption::DomainSearch(names) | dp::DhcpOption::BcmsControllerNames(names) => {
            names.iter().map(hickory_name).collect::<Vec<_>>().join(",")
        }
        dp::DhcpOption::ClientFQDN(fqdn) => format!(
            "flags {:#04x} rcode {}/{} {}",
            u8::from(fqdn.flags()),
            fqdn.r1(),
            fqdn.r2(),
            hickory_name(fqdn.domain())
        ),
        _ => {
            let mut wire = Vec::new();
            match option.encode(&mut Encoder::new(&mut wire)) {
                Ok(()) => {
                    let payload = join_instances(&wire);
                    if matches!(option, dp::DhcpOption::RelayAgentInformation(_)) {
                        relay_items(&payload)
                    } else {
                        hex(&payload)
                    }
                }
                Err(e) => format!("(dhcproto cannot encode it: {e})"),
            }
        }
    }
}

fn ip_list(ips: &[Ipv4Addr]) -> String {
    ips.iter()
        .map(Ipv4Addr::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn ours_typed(m: &Message) -> BTreeMap<&'static str, String> {
    let mut t = BTreeMap::new();
    if let Some(v) = m.message_type() {
        t.insert("message type", v.0.to_string());
    }
    if let Some(v) = m.server_identifier() {
        t.insert("server id", v.to_string());
    }
    if let Some(v) = m.requested_address() {
        t.insert("requested ip", v.to_string());
    }
    if let Some(v) = m.max_message_size() {
        t.insert("max message size", v.to_string());
    }
    if let Some(v) = m.parameter_request_list() {
        t.insert(
            "parameter request list",
            hex(&v.iter().map(|c| c.0).collect::<Vec<_>>()),
        );
    }
    if let Some(v) = m.client_id() {
        t.insert("client id", hex(&v.to_bytes()));
    }
    for option in &m.options {
        let (name, value) = match option {
            DhcpOption::LeaseTime(v) => ("lease time", v.to_string()),
            DhcpOption::RenewalTime(v) => ("t1", v.to_string()),
            DhcpOption::RebindingTime(v) => ("t2", v.to_string()),
            DhcpOption::SubnetMask(v) => ("subnet mask", v.to_string()),
            DhcpOption::Routers(v) => ("routers", ip_list(v)),
            DhcpOption::DomainNameServers(v) => ("dns servers", ip_list(v)),
            DhcpOption::DomainName(v) => ("domain name", v.to_string_lossy()),
            DhcpOption::HostName(v) => ("hostname", v.to_string_lossy()),
            _ => continue,
        };
        t.insert(name, value);
    }
    t
}

fn theirs_typed(m: &dp::Message) -> BTreeMap<&'static str, String> {
    use dp::DhcpOption as O;
    let mut t = BTreeMap::new();
    for (_, option) in m.opts().iter() {
        let (name, value) = match option {
            O::MessageType(v) => ("message type", u8::from(*v).to_string()),
            O::ServerIdentifier(v) => ("server id", v.to_string()),
            O::RequestedIpAddress(v) => ("requested ip", v.to_string()),
            O::MaxMessageSize(v) => ("max message size", v.to_string()),
            O::ParameterRequestList(v) => (
                "parameter request list",
                hex(&v.iter().map(|c| u8::from(*c)).collect::<Vec<_>>()),
            ),
            O::ClientIdentifier(v) => ("client id", hex(v)),
            O::AddressLeaseTime(v) => ("lease time", v.to_string()),
            O::Renewal(v) => ("t1", v.to_string()),
            O::Rebinding(v) => ("t2", v.to_string()),
            O::SubnetMask(v) => ("subnet mask", v.to_string()),
            O::Router(v) => ("routers", ip_list(v)),
            O::DomainNameServer(v) => ("dns servers", ip_list(v)),
            O::DomainName(v) => ("domain name", v.clone()),
            O::Hostname(v) => ("hostname", v.clone()),
            _ => continue,
        };
        t.insert(name, value);
    }
    t
}

fn ours(bytes: &[u8]) -> Result<Reading, String> {
    let m = Message::parse(bytes).map_err(|e| e.to_string())?;
    let mut r = Reading::default();
    let f = &mut r.fields;
    f.insert("op", m.op.0.to_string());
    f.insert("htype", m.htype.0.to_string());
    f.insert("hlen", m.chaddr.len().to_string());
    f.insert("hops", m.hops.to_string());
    f.insert("xid", m.xid.to_string());
    f.insert("secs", m.secs.to_string());
    f.insert("flags", m.flags.0.to_string());
    f.insert("ciaddr", m.ciaddr.to_string());
    f.insert("yiaddr", m.yiaddr.to_string());
    f.insert("siaddr", m.siaddr.to_string());
    f.insert("giaddr", m.giaddr.to_string());
    f.insert("chaddr", hex(m.chaddr.as_bytes()));
    f.insert("sname", hex(m.sname.as_bytes()));
    f.insert("file", hex(m.file.as_bytes()));
    for option in &m.options {
        r.options.insert(option.code().0, ours_option(option));
    }
    r.typed = ours_typed(&m);
    Ok(r)
}

/// dhcproto's reading; `Err` for a decode error, and also for a panic, which some malformed
/// inputs cause in its debug builds.
fn theirs(bytes: &[u8]) -> Result<Reading, String> {
    let decoded = catch_unwind(AssertUnwindSafe(|| {
        let m = dp::Message::decode(&mut Decoder::new(bytes)).map_err(|e| e.to_string())?;
        if usize::from(m.hlen()) > 16 {
            // Message::chaddr() would panic; report it as what it is.
            return Err(format!("hlen {} over 16 accepted", m.hlen()));
        }
        let mut r = Reading::default();
        let f = &mut r.fields;
        f.insert("op", u8::from(m.opcode()).to_string());
        f.insert("htype", u8::from(m.htype()).to_string());
        f.insert("hlen", m.hlen().to_string());
        f.insert("hops", m.hops().to_string());
        f.insert("xid", m.xid().to_string());
        f.insert("secs", m.secs().to_string());
        f.insert("flags", u16::from(m.flags()).to_string());
        f.insert("ciaddr", m.ciaddr().to_string());
        f.insert("yiaddr", m.yiaddr().to_string());
        f.insert("siaddr", m.siaddr().to_string());
        f.insert("giaddr", m.giaddr().to_string());
        f.insert("chaddr", hex(m.chaddr()));
        f.insert("sname", hex(without_nul(m.sname().unwrap_or_default())));
        f.insert("file", hex(without_nul(m.fname().unwrap_or_default())));
        for (code, option) in m.opts().iter() {
            // Overload is structure to charrua, undone while parsing; pad and end never stay.
            if matches!(code, dp::OptionCode::OptionOverload) {
                continue;
            }
            r.options.insert(u8::from(*code), theirs_option(option));
        }
        r.typed = theirs_typed(&m);
        Ok(r)
    }));
    decoded.unwrap_or_else(|_| Err("dhcproto panicked".to_owned()))
}

/// Every way the two readings of `bytes` differ, one line each; empty when they agree.
fn differences(bytes: &[u8]) -> Vec<String> {
    let (a, b) = match (ours(bytes), theirs(bytes)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(_), Err(_)) => return Vec::new(),
        (Err(e), Ok(_)) => return vec![format!("charrua refuses ({e}), dhcproto accepts")],
        (Ok(_), Err(e)) => return vec![format!("dhcproto refuses ({e}), charrua accepts")],
    };
    let mut out = Vec::new();
    for (name, value) in &a.fields {
        if b.fields.get(name) != Some(value) {
            out.push(format!(
                "{name}: charrua {value}, dhcproto {:?}",
                b.fields.get(name)
            ));
        }
    }
    let codes: std::collections::BTreeSet<u8> =
        a.options.keys().chain(b.options.keys()).copied().collect();
    for code in codes {
        let (x, y) = (a.options.get(&code), b.options.get(&code));
        if x != y {
            out.push(format!("option {code}: charrua {x:?}, dhcproto {y:?}"));
        }
    }
    if a.typed != b.typed {
        out.push(format!(
            "typed values: charrua {:?}, dhcproto {:?}",
            a.typed, b.typed
        ));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Captured traffic
// ---------------------------------------------------------------------------------------------

const LINKTYPE_ETHERNET: u32 = 1;
const LINKTYPE_LINUX_SLL: u32 = 113;
const LINKTYPE_LINUX_SLL2: u32 = 276;

/// The records of a classic pcap file with its link type; `None` for anything else (pcapng).
fn read_pcap(data: &[u8]) -> Option<(u32, Vec<&[u8]>)> {
    let magic = data.get(..4)?;
    let little = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        _ => return None,
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
        Some(if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let linktype = u32_at(20)? & 0x0fff_ffff;
    let mut records = Vec::new();
    let mut pos = 24;
    while pos + 16 <= data.len() {
        let included = usize::try_from(u32_at(pos + 8)?).ok()?;
        let start = pos + 16;
        records.push(data.get(start..start + included)?);
        pos = start + included;
    }
    Some((linktype, records))
}

/// The UDP payload of an IPv4 packet to or from port 67 or 68, checked independently of
/// charrua's frame parser.
fn dhcp_payload(ipv4: &[u8]) -> Option<&[u8]> {
    let version_ihl = *ipv4.first()?;
    if version_ihl >> 4 != 4 || *ipv4.get(9)? != 17 {
        return None;
    }
    let udp = ipv4.get(usize::from(version_ihl & 0x0f) * 4..)?;
    let port = |at: usize| Some(u16::from_be_bytes([*udp.get(at)?, *udp.get(at + 1)?]));
    let (src, dst) = (port(0)?, port(2)?);
    if ![src, dst].iter().any(|p| *p == 67 || *p == 68) {
        return None;
    }
    let len = usize::from(port(4)?);
    udp.get(8..len)
}

/// The link-layer header length before IPv4, or `None` when the record is not IPv4.
fn ipv4_start(linktype: u32, record: &[u8]) -> Option<usize> {
    let ethertype = |at: usize| Some(u16::from_be_bytes([*record.get(at)?, *record.get(at + 1)?]));
    match linktype {
        LINKTYPE_ETHERNET => {
            let mut at = 12;
            while matches!(ethertype(at)?, 0x8100 | 0x88a8) {
                at += 4;
            }
            (ethertype(at)? == 0x0800).then_some(at + 2)
        }
        LINKTYPE_LINUX_SLL => (ethertype(14)? == 0x0800).then_some(16),
        LINKTYPE_LINUX_SLL2 => (ethertype(0)? == 0x0800).then_some(20),
        _ => None,
    }
}

/// Every DHCP payload in `testdata/captures/*.pcap`, with the file it came from.
fn captured_messages() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/captures");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let data = std::fs::read(&path).expect("capture readable");
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some((linktype, records)) = read_pcap(&data) else {
            continue;
        };
        for (i, record) in records.into_iter().enumerate() {
            let Some(start) = ipv4_start(linktype, record) else {
                continue;
            };
            if let Some(payload) = dhcp_payload(&record[start..]) {
                out.push((format!("{name} #{}", i + 1), payload.to_vec()));
            }
        }
    }
    out
}

/// Every captured message reads the same in both codecs, field by field and option by option.
#[test]
fn captures_read_the_same() {
    let messages = captured_messages();
    if messages.is_empty() {
        eprintln!("no captures in testdata/captures: nothing compared");
        return;
    }
    let mut report = String::new();
    let mut codes = std::collections::BTreeSet::new();
    for (name, bytes) in &messages {
        // Real clients and servers produce messages both codecs accept.
        let reading = ours(bytes).unwrap_or_else(|e| panic!("{name}: charrua refuses it: {e}"));
        assert!(
            reading.typed.contains_key("message type"),
            "{name}: no message type"
        );
        codes.extend(reading.options.keys().copied());
        for line in differences(bytes) {
            let _ = writeln!(report, "{name}: {line}");
        }
    }
    assert!(
        report.is_empty(),
        "the codecs disagree on captured traffic:\n{report}"
    );
    eprintln!(
        "{} captured messages compared, option codes {codes:?}",
        messages.len()
    );
}

// ---------------------------------------------------------------------------------------------
// Generated messages
// ---------------------------------------------------------------------------------------------

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n).unwrap_or(1)).unwrap_or(0)
    }
    fn byte(&mut self) -> u8 {
        self.next().to_be_bytes()[0]
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
    fn ip(&mut self) -> Ipv4Addr {
        Ipv4Addr::from(self.u32())
    }
    fn ips(&mut self, max: usize) -> Vec<Ipv4Addr> {
        (0..1 + self.below(max)).map(|_| self.ip()).collect()
    }
    fn bytes(&mut self, min: usize, max: usize) -> Vec<u8> {
        (0..min + self.below(max - min + 1))
            .map(|_| self.byte())
            .collect()
    }
    /// Lowercase letters, digits and dashes: text both codecs keep as it is.
    fn word(&mut self, min: usize, max: usize) -> String {
        const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-";
        (0..min + self.below(max - min + 1))
            .map(|_| char::from(CHARS[self.below(CHARS.len())]))
            .collect()
    }
    fn text(&mut self, min: usize, max: usize) -> Text {
        Text::from(self.word(min, max))
    }
    fn name(&mut self) -> DomainName {
        const SUFFIXES: &[&str] = &["example.org", "lab.example.org", "example.com", "test"];
        let suffix = SUFFIXES[self.below(SUFFIXES.len())];
        let text = match self.below(3) {
            0 => suffix.to_owned(),
            _ => format!("{}.{suffix}", self.word(1, 20)),
        };
        DomainName::from_dotted(&text).expect("generated names are valid")
    }
}

/// One option with random contents, of a kind both codecs read the same way.
fn common_option(code: u8, rng: &mut Rng) -> Option<DhcpOption> {
    use DhcpOption as O;
    Some(match code {
        1 => O::SubnetMask(rng.ip()),
        2 => O::TimeOffset(i32::from_be_bytes(rng.u32().to_be_bytes())),
        3 => O::Routers(rng.ips(80)),
        4 => O::TimeServers(rng.ips(4)),
        6 => O::DomainNameServers(rng.ips(8)),
        9 => O::LprServers(rng.ips(3)),
        12 => O::HostName(rng.text(1, 300)),
        13 => O::BootSize(rng.u16()),
        15 => O::DomainName(rng.text(1, 60)),
        16 => O::SwapServer(rng.ip()),
        17 => O::RootPath(rng.text(1, 100)),
        19 => O::IpForwarding(rng.below(2) == 1),
        21 => O::PolicyFilter(
            (0..1 + rng.below(4))
                .map(|_| (rng.ip(), rng.ip()))
                .collect(),
        ),
        22 => O::MaxDatagramReassembly(rng.u16()),
        23 => O::DefaultIpTtl(rng.byte()),
        24 => O::PathMtuAgingTimeout(rng.u32()),
        25 => O::PathMtuPlateauTable((0..1 + rng.below(6)).map(|_| rng.u16()).collect()),
        26 => O::InterfaceMtu(rng.u16()),
        27 => O::AllSubnetsLocal(rng.below(2) == 1),
        28 => O::BroadcastAddress(rng.ip()),
        33 => O::StaticRoutes(
            (0..1 + rng.below(4))
                .map(|_| (rng.ip(), rng.ip()))
                .collect(),
        ),
        35 => O::ArpCacheTimeout(rng.u32()),
        38 => O::TcpKeepaliveInterval(rng.u32()),
        40 => O::NisDomain(rng.text(1, 30)),
        42 => O::NtpServers(rng.ips(4)),
        43 => O::VendorSpecific(rng.bytes(1, 400)),
        44 => O::NetbiosNameServers(rng.ips(2)),
        46 => O::NetbiosNodeType([1, 2, 4, 8][rng.below(4)]),
        47 => O::NetbiosScope(rng.text(1, 20)),
        50 => O::RequestedAddress(rng.ip()),
        51 => O::LeaseTime(rng.u32()),
        54 => O::ServerIdentifier(rng.ip()),
        55 => O::ParameterRequestList(
            (0..1 + rng.below(40))
                .map(|_| OptionCode(1 + rng.byte() % 254))
                .collect(),
        ),
        56 => O::Message(rng.text(1, 80)),
        57 => O::MaxMessageSize(576 + rng.u16() % 1000),
        58 => O::RenewalTime(rng.u32()),
        59 => O::RebindingTime(rng.u32()),
        60 => O::VendorClassIdentifier(rng.word(1, 40).into_bytes()),
        61 => O::ClientIdentifier(ClientId {
            kind: rng.byte(),
            id: rng.bytes(1, 30),
        }),
        64 => O::NisPlusDomain(rng.text(1, 30)),
        65 => O::NisPlusServers(rng.ips(3)),
        66 => O::TftpServerName(rng.text(1, 40)),
        67 => O::BootfileName(rng.text(1, 40)),
        68 => O::MobileIpHomeAgents(if rng.below(2) == 0 {
            Vec::new()
        } else {
            rng.ips(2)
        }),
        69 => O::SmtpServers(rng.ips(2)),
        72 => O::WwwServers(rng.ips(2)),
        77 => O::UserClass(UserClass::Instances(
            (0..1 + rng.below(3))
                .map(|_| rng.word(1, 10).into_bytes())
                .collect(),
        )),
        80 => O::RapidCommit,
        81 => O::ClientFqdn(ClientFqdn {
            flags: ClientFqdn::FLAG_S | ClientFqdn::FLAG_E,
            rcode1: 0,
            rcode2: 0,
            name: FqdnName::Wire(rng.name()),
        }),
        82 => O::RelayAgentInformation(RelayAgentInformation(vec![
            RelaySubOption::CircuitId(rng.bytes(1, 20)),
            RelaySubOption::RemoteId(rng.bytes(1, 20)),
            RelaySubOption::LinkSelection(rng.ip()),
            RelaySubOption::SubscriberId(rng.word(1, 20).into_bytes()),
            RelaySubOption::Flags(rng.byte()),
            RelaySubOption::ServerIdOverride(rng.ip()),
        ])),
        89 => O::BcmcsControllerAddresses(rng.ips(3)),
        91 => O::ClientLastTransactionTime(rng.u32()),
        92 => O::AssociatedIp(rng.ips(4)),
        93 => O::ClientArchitecture(vec![rng.u16()]),
        94 => O::ClientNdi(ClientNdi {
            kind: 1,
            major: rng.byte(),
            minor: rng.byte(),
        }),
        97 => O::ClientMachineId(MachineId {
            kind: 0,
            id: rng.bytes(16, 16),
        }),
        100 => O::PosixTimeZone(rng.text(1, 30)),
        101 => O::TzDatabaseTimeZone(rng.text(1, 30)),
        114 => O::CaptivePortal(Text::from(format!("https://{}/", rng.word(1, 30)))),
        118 => O::SubnetSelection(rng.ip()),
        119 => O::DomainSearch((0..1 + rng.below(6)).map(|_| rng.name()).collect()),
        121 => O::ClasslessStaticRoutes(
            (0..1 + rng.below(5))
                .map(|_| {
                    let prefix_len = u8::try_from(rng.below(33)).unwrap_or(32);
                    let mask = u32::MAX
                        .checked_shl(32 - u32::from(prefix_len))
                        .unwrap_or(0);
                    ClasslessRoute {
                        destination: Ipv4Addr::from(rng.u32() & mask),
                        prefix_len,
                        router: rng.ip(),
                    }
                })
                .collect(),
        ),
        150 => O::TftpServerAddresses(vec![rng.ip()]),
        // Codes neither codec types: kept as bytes by both.
        224..=248 | 250 | 251 | 253 | 254 => O::Other {
            code: OptionCode(code),
            data: rng.bytes(0, 300),
        },
        _ => return None,
    })
}

/// Codes `common_option` knows.
fn common_codes() -> Vec<u8> {
    let mut rng = Rng(1);
    (1..=254)
        .filter(|&c| common_option(c, &mut rng).is_some())
        .collect()
}

/// A message with the header filled at random and `count` distinct options.
fn random_message(rng: &mut Rng, codes: &[u8], count: usize) -> Message {
    let mut pool = codes.to_vec();
    let mut options = vec![DhcpOption::MessageType(MessageType(1 + rng.byte() % 18))];
    pool.retain(|&c| c != 53);
    for _ in 0..count.min(pool.len()) {
        let code = pool.swap_remove(rng.below(pool.len()));
        options.extend(common_option(code, rng));
    }
    let hlen = rng.below(17);
    Message {
        op: Op(1 + rng.byte() % 2),
        htype: HardwareType(rng.byte()),
        hops: rng.byte(),
        xid: rng.u32(),
        secs: rng.u16(),
        flags: Flags(rng.u16()),
        ciaddr: rng.ip(),
        yiaddr: rng.ip(),
        siaddr: rng.ip(),
        giaddr: rng.ip(),
        chaddr: HardwareAddress::new(&rng.bytes(hlen, hlen)).expect("at most 16"),
        sname: if rng.below(3) == 0 {
            rng.text(1, 63)
        } else {
            Text::default()
        },
        file: if rng.below(3) == 0 {
            rng.text(1, 127)
        } else {
            Text::default()
        },
        options,
    }
}

/// Hundreds of messages built with charrua's types, emitted without overload, read the same in
/// both codecs: every header field, every option's payload, and the typed values.
#[test]
fn generated_messages_read_the_same() {
    let codes = common_codes();
    assert!(
        codes.len() > 80,
        "the generator covers {} codes",
        codes.len()
    );
    let mut rng = Rng(0x5eed_c0de_d15c_0001);
    let mut report = String::new();
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..400 {
        let count = [3, 8, 20, 40][i % 4];
        let message = random_message(&mut rng, &codes, count);
        let settings = EmitOptions {
            min_len: [0, 300][i % 2],
            ..EmitOptions::default()
        };
        let bytes = message.to_bytes(&settings).expect("emits");
        assert_eq!(
            Message::parse(&bytes).as_ref(),
            Ok(&message),
            "charrua round trip"
        );
        seen.extend(message.options.iter().map(|o| o.code().0));
        for line in differences(&bytes) {
            let _ = writeln!(report, "message {i}: {line}");
        }
    }
    assert!(report.is_empty(), "the codecs disagree:\n{report}");
    let missed: Vec<u8> = codes
        .iter()
        .copied()
        .filter(|c| !seen.contains(c))
        .collect();
    assert!(missed.is_empty(), "codes never generated: {missed:?}");
}

/// The messages a client and a server typically exchange, built by hand.
#[test]
fn typical_exchange_reads_the_same() {
    let mac = [0x02, 0, 0, 0, 0, 0x01];
    let discover = Message {
        xid: 0x3903_f326,
        chaddr: HardwareAddress::ethernet(mac),
        options: vec![
            DhcpOption::MessageType(MessageType::DISCOVER),
            DhcpOption::ClientIdentifier(ClientId::ethernet(mac)),
            DhcpOption::RequestedAddress(Ipv4Addr::new(192, 0, 2, 100)),
            DhcpOption::HostName(Text::from("client-one")),
            DhcpOption::ParameterRequestList(
                [1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42]
                    .map(OptionCode)
                    .to_vec(),
            ),
            DhcpOption::MaxMessageSize(1500),
        ],
        ..Message::default()
    };
    let ack = Message {
        op: Op::BOOTREPLY,
        xid: 0x3903_f326,
        yiaddr: Ipv4Addr::new(192, 0, 2, 100),
        siaddr: Ipv4Addr::new(192, 0, 2, 1),
        chaddr: HardwareAddress::ethernet(mac),
        sname: Text::from("server"),
        file: Text::from("pxelinux.0"),
        options: vec![
            DhcpOption::MessageType(MessageType::ACK),
            DhcpOption::ServerIdentifier(Ipv4Addr::new(192, 0, 2, 1)),
            DhcpOption::LeaseTime(3600),
            DhcpOption::RenewalTime(1800),
            DhcpOption::RebindingTime(3150),
            DhcpOption::SubnetMask(Ipv4Addr::new(255, 255, 255, 0)),
            DhcpOption::Routers(vec![Ipv4Addr::new(192, 0, 2, 1)]),
            DhcpOption::DomainNameServers(vec![
                Ipv4Addr::new(192, 0, 2, 1),
                Ipv4Addr::new(192, 0, 2, 2),
            ]),
            DhcpOption::DomainName(Text::from("example.org")),
        ],
        ..Message::default()
    };
    for message in [discover, ack] {
        let bytes = message.to_bytes(&EmitOptions::default()).expect("emits");
        assert_eq!(differences(&bytes), Vec::<String>::new());
        let typed = ours(&bytes).expect("parses").typed;
        assert!(typed.len() >= 6, "typed values compared: {typed:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Disagreements, each pinned to the RFC answer
// ---------------------------------------------------------------------------------------------

/// A BOOTREQUEST header with the magic cookie, followed by `options` as given.
fn raw_message(options: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0u8; 240];
    bytes[0] = 1; // BOOTREQUEST
    bytes[1] = 1; // Ethernet
    bytes[2] = 6;
    bytes[4..8].copy_from_slice(&0x1234_5678u32.to_be_bytes());
    bytes[28..34].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
    bytes[236..240].copy_from_slice(&[99, 130, 83, 99]);
    bytes.extend_from_slice(options);
    bytes
}

fn dhcproto(bytes: &[u8]) -> dp::Message {
    dp::Message::decode(&mut Decoder::new(bytes)).expect("dhcproto decodes it")
}

/// Adjacent instances of an option are joined by both codecs (RFC 3396).
#[test]
fn adjacent_instances_are_joined_by_both() {
    let bytes = raw_message(&[53, 1, 1, 12, 3, b'a', b'b', b'c', 12, 2, b'd', b'e', 255]);
    let ours = Message::parse(&bytes).unwrap();
    assert_eq!(
        ours.option(OptionCode::HOST_NAME),
        Some(&DhcpOption::HostName("abcde".into()))
    );
    assert_eq!(differences(&bytes), Vec::<String>::new());
}

/// RFC 2131 §4.1 and RFC 3396: the receiver concatenates *every* instance of an option, in
/// the order they appear, adjacent or not. charrua does; dhcproto joins only adjacent
/// instances, and a later, separate instance replaces the earlier one in its map, so the
/// first part of the value is lost.
#[test]
fn non_adjacent_instances_are_joined() {
    let bytes = raw_message(&[
        12, 6, b's', b'p', b'l', b'i', b't', b'-', // first part
        53, 1, 1, // something else in between
        12, 4, b'n', b'a', b'm', b'e', // second part
        255,
    ]);
    let ours = Message::parse(&bytes).unwrap();
    assert_eq!(
        ours.option(OptionCode::HOST_NAME),
        Some(&DhcpOption::HostName("split-name".into()))
    );

    // dhcproto keeps only the last instance.
    let theirs = dhcproto(&bytes);
    assert_eq!(
        theirs.opts().get(dp::OptionCode::Hostname),
        Some(&dp::DhcpOption::Hostname("name".into()))
    );
}

/// RFC 2131 §4.1 and RFC 2132 §9.3: with option overload (52) the `file` field (1), the `sname`
/// field (2) or both (3) carry options, read after the options field, file first. charrua
/// reads them and reports `sname` and `file` empty; dhcproto reads the overload option but not
/// the fields, so the options there are lost and their bytes come back as a server name and a
/// file name.
#[test]
fn overloaded_fields_carry_options() {
    let mut bytes = raw_message(&[52, 1, 3, 53, 1, 5, 255]);
    // file: a lease time and a router; sname: a domain name.
    let file = [51, 4, 0, 0, 0x0e, 0x10, 3, 4, 192, 0, 2, 1, 255];
    let sname = [
        15, 11, b'e', b'x', b'a', b'm', b'p', b'l', b'e', b'.', b'o', b'r', b'g', 255,
    ];
    bytes[108..108 + file.len()].copy_from_slice(&file);
    bytes[44..44 + sname.len()].copy_from_slice(&sname);

    let ours = Message::parse(&bytes).unwrap();
    assert_eq!(
        ours.options,
        vec![
            DhcpOption::MessageType(MessageType::ACK),
            DhcpOption::LeaseTime(3600),
            DhcpOption::Routers(vec![Ipv4Addr::new(192, 0, 2, 1)]),
            DhcpOption::DomainName("example.org".into()),
        ]
    );
    assert!(ours.sname.is_empty() && ours.file.is_empty());

    let theirs = dhcproto(&bytes);
    assert_eq!(
        theirs.opts().get(dp::OptionCode::OptionOverload),
        Some(&dp::DhcpOption::OptionOverload(3))
    );
    assert!(
        theirs
            .opts()
            .get(dp::OptionCode::AddressLeaseTime)
            .is_none()
    );
    assert!(theirs.opts().get(dp::OptionCode::DomainName).is_none());
    assert_eq!(theirs.sname().map(<[u8]>::len), Some(sname.len() + 1));
}

/// The same, with a message charrua lays out itself under a 576-byte limit: the options that
/// do not fit go to `file` and `sname`, and only charrua finds them again.
#[test]
fn emitted_overload_is_read_back_by_charrua_only() {
    let mut message = Message {
        op: Op::BOOTREPLY,
        options: vec![DhcpOption::MessageType(MessageType::OFFER)],
        ..Message::default()
    };
    message
        .options
        .push(DhcpOption::VendorSpecific(vec![0x2a; 340]));
    message
        .options
        .push(DhcpOption::DomainName("after.the.long.one.example".into()));
    let settings = EmitOptions {
        max_len: Some(576),
        ..EmitOptions::default()
    };
    let bytes = message.to_bytes(&settings).unwrap();
    assert!(bytes.len() <= 576);
    assert_eq!(Message::parse(&bytes).unwrap(), message);

    let differ = differences(&bytes);
    assert!(
        differ.iter().any(|d| d.starts_with("option 15:")),
        "dhcproto should miss the domain name in an overloaded field: {differ:?}"
    );
}

/// RFC 2132 §2: an option other than pad and end is a code, a length byte and that many bytes;
/// one that runs past the end of the message is malformed. charrua reports it and where;
/// dhcproto stops reading options there and returns the message as if they had ended, with
/// no error.
#[test]
fn option_overrun_is_an_error() {
    // A subnet mask claiming 4 bytes with 3 left; the message type comes before it here.
    let bytes = raw_message(&[53, 1, 3, 1, 4, 255, 255, 255]);
    assert_eq!(
        Message::parse(&bytes),
        Err(Error::OptionOverrun {
            code: OptionCode(1),
            offset: 243,
            len: Some(4),
            remaining: 3
        })
    );
    let theirs = dhcproto(&bytes);
    assert_eq!(theirs.opts().msg_type(), Some(dp::MessageType::Request));
    assert!(theirs.opts().get(dp::OptionCode::SubnetMask).is_none());
}

/// RFC 2132 §3.3: the subnet mask's length is 4. A 3-byte one is malformed: charrua says so;
/// dhcproto stops reading options at it, so the message type after it is lost and the message
/// looks like plain BOOTP.
#[test]
fn bad_length_does_not_hide_later_options() {
    let bytes = raw_message(&[1, 3, 255, 255, 255, 53, 1, 1, 255]);
    assert_eq!(
        Message::parse(&bytes),
        Err(Error::BadOptionLength {
            code: OptionCode(1),
            offset: 240,
            len: 3,
            expected: Expected::Exactly(4)
        })
    );
    assert_eq!(
        dhcproto(&bytes).opts().msg_type(),
        None,
        "dhcproto lost the message type"
    );
}

/// RFC 2132 §9.2: the lease time's length is 4. dhcproto reads the first four bytes of a
/// 5-byte value and ignores the fifth; charrua refuses the option.
#[test]
fn fixed_length_is_exact() {
    let bytes = raw_message(&[53, 1, 5, 51, 5, 0, 0, 0x0e, 0x10, 0x99, 255]);
    assert!(matches!(
        Message::parse(&bytes),
        Err(Error::BadOptionLength {
            code: OptionCode(51),
            len: 5,
            expected: Expected::Exactly(4),
            ..
        })
    ));
    assert_eq!(
        dhcproto(&bytes)
            .opts()
            .get(dp::OptionCode::AddressLeaseTime),
        Some(&dp::DhcpOption::AddressLeaseTime(3600))
    );
}

/// RFC 2132 §3.5, §3.14 and §9.14 give minimum lengths: routers 4, host name 1, client
/// identifier 2. charrua refuses shorter values; dhcproto takes an empty router list, an empty
/// host name and a one-byte client identifier.
#[test]
fn minimum_lengths_are_checked() {
    for (options, code, min) in [
        (
            &[3u8, 0, 255][..],
            3u8,
            Expected::Multiple { min: 4, unit: 4 },
        ),
        (&[12, 0, 255][..], 12, Expected::AtLeast(1)),
        (&[61, 1, 1, 255][..], 61, Expected::AtLeast(2)),
    ] {
        let bytes = raw_message(options);
        match Message::parse(&bytes) {
            Err(Error::BadOptionLength {
                code: c, expected, ..
            }) => {
                assert_eq!((c, expected), (OptionCode(code), min));
            }
            other => panic!("option {code}: {other:?}"),
        }
        let theirs = dhcproto(&bytes);
        assert!(
            theirs.opts().get(dp::OptionCode::from(code)).is_some(),
            "dhcproto option {code}"
        );
    }
}

/// RFC 2131 §3: the options field starts with the magic cookie 99.130.83.99; without it the
/// message is not DHCP. charrua refuses it; dhcproto does not check the cookie and reads the
/// bytes after it as options.
#[test]
fn magic_cookie_is_required() {
    let mut bytes = raw_message(&[53, 1, 1, 255]);
    bytes[236..240].copy_from_slice(&[1, 2, 3, 4]);
    assert_eq!(
        Message::parse(&bytes),
        Err(Error::BadMagicCookie {
            found: 0x0102_0304,
            offset: 236
        })
    );
    assert_eq!(
        dhcproto(&bytes).opts().msg_type(),
        Some(dp::MessageType::Discover)
    );
}

/// RFC 2131 §2: `chaddr` is 16 bytes, so `hlen` over 16 cannot be right. charrua refuses the
/// message; dhcproto accepts it and then panics when the hardware address is asked for.
#[test]
fn hlen_over_16_is_refused() {
    let mut bytes = raw_message(&[53, 1, 1, 255]);
    bytes[2] = 17;
    assert_eq!(
        Message::parse(&bytes),
        Err(Error::HlenTooLong {
            hlen: 17,
            offset: 2
        })
    );
    let theirs = dhcproto(&bytes);
    assert_eq!(theirs.hlen(), 17);
    assert!(
        catch_unwind(|| theirs.chaddr().len()).is_err(),
        "dhcproto's chaddr() panics"
    );
}

/// RFC 2132 §7.1: code 37 is the TCP default TTL. dhcproto decodes code 37 into its IP default
/// TTL variant, so the value is reported under code 23 and replaces a real option 23.
#[test]
fn tcp_default_ttl_keeps_its_code() {
    let bytes = raw_message(&[53, 1, 5, 23, 1, 32, 37, 1, 64, 255]);
    let ours = Message::parse(&bytes).unwrap();
    assert_eq!(
        ours.option(OptionCode(23)),
        Some(&DhcpOption::DefaultIpTtl(32))
    );
    assert_eq!(
        ours.option(OptionCode(37)),
        Some(&DhcpOption::DefaultTcpTtl(64))
    );

    let theirs = dhcproto(&bytes);
    assert_eq!(
        theirs.opts().get(dp::OptionCode::DefaultIpTtl),
        Some(&dp::DhcpOption::DefaultIpTtl(64))
    );
    assert!(theirs.opts().get(dp::OptionCode::DefaultTcpTtl).is_none());
}

/// RFC 3442: a destination's prefix length is 0 to 32. A route with 33 is malformed: charrua
/// refuses the option; dhcproto stops at that route and keeps the routes before it as if the
/// list ended there.
#[test]
fn classless_route_prefix_over_32_is_an_error() {
    let bytes = raw_message(&[
        53, 1, 5, 121, 10, 24, 198, 51, 100, 192, 0, 2, 1, 33, 0, 255,
    ]);
    assert!(matches!(
        Message::parse(&bytes),
        Err(Error::BadOptionValue {
            code: OptionCode(121),
            reason: "prefix length over 32",
            ..
        })
    ));
    match dhcproto(&bytes)
        .opts()
        .get(dp::OptionCode::ClasslessStaticRoute)
    {
        Some(dp::DhcpOption::ClasslessStaticRoute(routes)) => assert_eq!(routes.len(), 1),
        other => panic!("dhcproto: {other:?}"),
    }
}

/// RFC 2132 §3.14 leaves the host name's characters to RFC 1035, and clients do send bytes
/// that are not UTF-8. charrua keeps them as bytes and reads on; dhcproto requires UTF-8,
/// fails on the option, and silently drops it and every option after it, here the message
/// type.
#[test]
fn non_utf8_host_name_keeps_later_options() {
    let bytes = raw_message(&[12, 3, b'p', 0xe9, b'c', 53, 1, 1, 255]);
    let ours = Message::parse(&bytes).unwrap();
    assert_eq!(ours.message_type(), Some(MessageType::DISCOVER));
    assert_eq!(
        ours.option(OptionCode::HOST_NAME),
        Some(&DhcpOption::HostName(Text::new(vec![b'p', 0xe9, b'c'])))
    );
    let theirs = dhcproto(&bytes);
    assert_eq!(theirs.opts().msg_type(), None);
    assert!(theirs.opts().is_empty());
}

/// RFC 4578: the client system architecture option is a list of 16-bit types (length
/// 2n). charrua keeps every type; dhcproto reads the first and drops the rest.
#[test]
fn client_architecture_is_a_list() {
    let bytes = raw_message(&[53, 1, 1, 93, 4, 0, 7, 0, 16, 255]);
    let ours = Message::parse(&bytes).unwrap();
    assert_eq!(
        ours.option(OptionCode(93)),
        Some(&DhcpOption::ClientArchitecture(vec![7, 16]))
    );
    assert!(
        differences(&bytes)
            .iter()
            .any(|d| d.starts_with("option 93:"))
    );
}

/// RFC 5859: the TFTP server address option is a list of IPv4 addresses. charrua reads
/// both; dhcproto expects exactly one, fails on the option and drops it and everything after.
#[test]
fn tftp_server_addresses_is_a_list() {
    let bytes = raw_message(&[150, 8, 192, 0, 2, 1, 192, 0, 2, 2, 53, 1, 1, 255]);
    let ours = Message::parse(&bytes).unwrap();
    assert_eq!(
        ours.option(OptionCode(150)),
        Some(&DhcpOption::TftpServerAddresses(vec![
            Ipv4Addr::new(192, 0, 2, 1),
            Ipv4Addr::new(192, 0, 2, 2)
        ]))
    );
    let theirs = dhcproto(&bytes);
    assert!(
        theirs
            .opts()
            .get(dp::OptionCode::TFTPServerAddress)
            .is_none()
    );
    assert_eq!(theirs.opts().msg_type(), None);
}

/// RFC 4702 §2: the client FQDN option holds three bytes (flags, RCODE1, RCODE2) before the
/// name. A shorter one is malformed: charrua refuses it; dhcproto computes `len - 3`, which
/// panics in a debug build and in a release build wraps, fails the read, and drops every
/// option from there on.
#[test]
fn short_fqdn_is_an_error() {
    let bytes = raw_message(&[53, 1, 3, 81, 2, 0, 0, 255]);
    assert!(matches!(
        Message::parse(&bytes),
        Err(Error::BadOptionLength {
            code: OptionCode(81),
            len: 2,
            expected: Expected::AtLeast(3),
            ..
        })
    ));
    let theirs = catch_unwind(|| dp::Message::decode(&mut Decoder::new(&bytes)));
    if cfg!(debug_assertions) {
        // The test profile builds dependencies with overflow checks too.
        assert!(theirs.is_err(), "dhcproto panics on `len - 3`");
    } else {
        let decoded = theirs
            .expect("no panic")
            .expect("dhcproto decodes the header");
        assert!(decoded.opts().get(dp::OptionCode::ClientFQDN).is_none());
    }
}

/// RFC 4702 keeps the deprecated ASCII encoding of the FQDN name (flag E clear). charrua
/// keeps such a name as text; dhcproto reads every name as wire format, fails on the ASCII
/// one, and drops it and every option after it.
#[test]
fn ascii_fqdn_is_kept() {
    let mut options = vec![81, 3 + 16, ClientFqdn::FLAG_S, 0, 0];
    options.extend_from_slice(b"host.example.org");
    options.extend_from_slice(&[53, 1, 3, 255]);
    let bytes = raw_message(&options);
    let ours = Message::parse(&bytes).unwrap();
    assert_eq!(ours.message_type(), Some(MessageType::REQUEST));
    match ours.option(OptionCode::CLIENT_FQDN) {
        Some(DhcpOption::ClientFqdn(fqdn)) => {
            assert_eq!(fqdn.name, FqdnName::Ascii(Text::from("host.example.org")));
        }
        other => panic!("charrua: {other:?}"),
    }
    assert_eq!(
        dhcproto(&bytes).opts().msg_type(),
        None,
        "dhcproto lost the message type"
    );
}

/// Both codecs keep the number of an unknown message type (RFC 2132 §9.6 lists 1 to 8; later
/// RFCs add more, and new ones must not be lost).
#[test]
fn unknown_message_type_keeps_its_number() {
    let bytes = raw_message(&[53, 1, 200, 255]);
    assert_eq!(
        Message::parse(&bytes).unwrap().message_type(),
        Some(MessageType(200))
    );
    assert_eq!(
        dhcproto(&bytes).opts().msg_type(),
        Some(dp::MessageType::Unknown(200))
    );
    assert_eq!(differences(&bytes), Vec::<String>::new());
}

/// RFC 2131 §2 calls `sname` a null-terminated string but does not say what a field of 64
/// bytes with no NUL means. charrua keeps the 64 bytes; dhcproto reports no server name at
/// all. Neither reading is forbidden; this pins charrua's.
#[test]
fn sname_without_nul_is_kept() {
    let mut bytes = raw_message(&[53, 1, 2, 255]);
    bytes[44..108].fill(b's');
    let ours = Message::parse(&bytes).unwrap();
    assert_eq!(ours.sname.as_bytes(), &[b's'; 64][..]);
    assert_eq!(dhcproto(&bytes).sname(), None);
}
