//! Options with a structure of their own.

use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;

use super::kinds::{
    at_least, encode_ips, exactly, multiple, show_bytes, show_hex, show_ips, show_list,
};
use super::name::{DomainList, DomainName};
use super::{Codec, Reader, Sink, ValueError};
use crate::error::Expected;

/// A DHCP message type (RFC 2132 §9.6 and later additions). Unknown values keep their number.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(transparent)
)]
pub struct MessageType(pub u8);

impl MessageType {
    /// DHCPDISCOVER: a client looks for servers.
    pub const DISCOVER: MessageType = MessageType(1);
    /// DHCPOFFER: a server offers an address.
    pub const OFFER: MessageType = MessageType(2);
    /// DHCPREQUEST: a client asks for, confirms or extends a lease.
    pub const REQUEST: MessageType = MessageType(3);
    /// DHCPDECLINE: a client found the address in use.
    pub const DECLINE: MessageType = MessageType(4);
    /// DHCPACK: a server commits a lease.
    pub const ACK: MessageType = MessageType(5);
    /// DHCPNAK: a server refuses a request.
    pub const NAK: MessageType = MessageType(6);
    /// DHCPRELEASE: a client gives its address back.
    pub const RELEASE: MessageType = MessageType(7);
    /// DHCPINFORM: a client with an address asks for parameters only.
    pub const INFORM: MessageType = MessageType(8);
    /// DHCPFORCERENEW (RFC 3203).
    pub const FORCE_RENEW: MessageType = MessageType(9);
    /// DHCPLEASEQUERY (RFC 4388).
    pub const LEASE_QUERY: MessageType = MessageType(10);
    /// DHCPLEASEUNASSIGNED (RFC 4388).
    pub const LEASE_UNASSIGNED: MessageType = MessageType(11);
    /// DHCPLEASEUNKNOWN (RFC 4388).
    pub const LEASE_UNKNOWN: MessageType = MessageType(12);
    /// DHCPLEASEACTIVE (RFC 4388).
    pub const LEASE_ACTIVE: MessageType = MessageType(13);
    /// DHCPBULKLEASEQUERY (RFC 6926).
    pub const BULK_LEASE_QUERY: MessageType = MessageType(14);
    /// DHCPLEASEQUERYDONE (RFC 6926).
    pub const LEASE_QUERY_DONE: MessageType = MessageType(15);
    /// DHCPACTIVELEASEQUERY (RFC 7724).
    pub const ACTIVE_LEASE_QUERY: MessageType = MessageType(16);
    /// DHCPLEASEQUERYSTATUS (RFC 7724).
    pub const LEASE_QUERY_STATUS: MessageType = MessageType(17);
    /// DHCPTLS (RFC 7724).
    pub const TLS: MessageType = MessageType(18);

    /// The name without the `DHCP` prefix, `DISCOVER`, or `None` for an unknown number.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "DISCOVER",
            2 => "OFFER",
            3 => "REQUEST",
            4 => "DECLINE",
            5 => "ACK",
            6 => "NAK",
            7 => "RELEASE",
            8 => "INFORM",
            9 => "FORCERENEW",
            10 => "LEASEQUERY",
            11 => "LEASEUNASSIGNED",
            12 => "LEASEUNKNOWN",
            13 => "LEASEACTIVE",
            14 => "BULKLEASEQUERY",
            15 => "LEASEQUERYDONE",
            16 => "ACTIVELEASEQUERY",
            17 => "LEASEQUERYSTATUS",
            18 => "TLS",
            _ => return None,
        })
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "DHCP{name}"),
            None => write!(f, "unknown ({})", self.0),
        }
    }
}

impl fmt::Debug for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl Codec for MessageType {
    type Value = MessageType;
    fn decode(data: &[u8]) -> Result<MessageType, ValueError> {
        exactly(data, 1)?;
        Ok(MessageType(data[0]))
    }
    fn encode<S: Sink>(v: &MessageType, out: &mut S) {
        out.put_u8(v.0);
    }
    fn show(v: &MessageType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{v}")
    }
}

/// A client identifier (RFC 2132 §9.14): a type byte and at least one byte of identifier.
///
/// Type 1..=255 other than 255 is a hardware type and the identifier its address; type 255
/// is RFC 4361's form, a 4-byte IAID followed by a DUID; type 0 is anything else.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ClientId {
    /// The type byte.
    pub kind: u8,
    /// The identifier.
    pub id: Vec<u8>,
}

impl ClientId {
    /// An identifier of type 1 (Ethernet) made from a MAC address.
    pub fn ethernet(mac: [u8; 6]) -> Self {
        ClientId {
            kind: 1,
            id: mac.to_vec(),
        }
    }

    /// The IAID and DUID of an RFC 4361 identifier (type 255), if this is one.
    pub fn iaid_duid(&self) -> Option<(u32, &[u8])> {
        if self.kind != 255 || self.id.len() < 5 {
            return None;
        }
        let (iaid, duid) = self.id.split_at(4);
        Some((
            u32::from_be_bytes([iaid[0], iaid[1], iaid[2], iaid[3]]),
            duid,
        ))
    }

    /// The bytes as they appear in the option: type, then identifier.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + self.id.len());
        out.push(self.kind);
        out.extend_from_slice(&self.id);
        out
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.kind, self.iaid_duid()) {
            (255, Some((iaid, duid))) => {
                write!(f, "iaid {iaid:#x} duid ")?;
                show_hex(duid, f)
            }
            (1, _) => {
                f.write_str("ethernet ")?;
                show_hex(&self.id, f)
            }
            (kind, _) => {
                write!(f, "type {kind} ")?;
                show_bytes(&self.id, f)
            }
        }
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientId({self})")
    }
}

impl Codec for ClientId {
    type Value = ClientId;
    fn decode(data: &[u8]) -> Result<ClientId, ValueError> {
        at_least(data, 2)?;
        Ok(ClientId {
            kind: data[0],
            id: data[1..].to_vec(),
        })
    }
    fn encode<S: Sink>(v: &ClientId, out: &mut S) {
        out.put_u8(v.kind);
        out.put(&v.id);
    }
    fn show(v: &ClientId, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{v}")
    }
}

/// The name in a client FQDN option, in the encoding its `E` flag says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum FqdnName {
    /// Canonical wire encoding (`E` set), absolute or partial (RFC 4702 §2.3.1).
    Wire(DomainName),
    /// The deprecated ASCII encoding (`E` clear), kept as sent (RFC 4702 §2.3.1).
    Ascii(super::Text),
}

/// Client FQDN (RFC 4702 §2): flags, two deprecated RCODE bytes, and a name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ClientFqdn {
    /// The flags byte. The `E` bit is taken from [`ClientFqdn::name`] on emission.
    pub flags: u8,
    /// RCODE1, sent as 0 by clients and 255 by servers (RFC 4702 §2.2).
    pub rcode1: u8,
    /// RCODE2, as RCODE1.
    pub rcode2: u8,
    /// The name, possibly empty.
    pub name: FqdnName,
}

impl ClientFqdn {
    /// `S`: the server should perform the A RR update (RFC 4702 §2.1).
    pub const FLAG_S: u8 = 0x01;
    /// `O`: the server has overridden the client's preference.
    pub const FLAG_O: u8 = 0x02;
    /// `E`: the name is in canonical wire format.
    pub const FLAG_E: u8 = 0x04;
    /// `N`: the server should perform no updates.
    pub const FLAG_N: u8 = 0x08;
}

impl Codec for ClientFqdn {
    type Value = ClientFqdn;
    fn decode(data: &[u8]) -> Result<ClientFqdn, ValueError> {
        at_least(data, 3)?;
        let (flags, rest) = (data[0], &data[3..]);
        let name = if flags & ClientFqdn::FLAG_E != 0 {
            FqdnName::Wire(decode_fqdn_wire(rest)?)
        } else {
            FqdnName::Ascii(super::Text::from(rest))
        };
        Ok(ClientFqdn {
            flags,
            rcode1: data[1],
            rcode2: data[2],
            name,
        })
    }
    fn encode<S: Sink>(v: &ClientFqdn, out: &mut S) {
        let (e, name) = match &v.name {
            FqdnName::Wire(name) => (ClientFqdn::FLAG_E, name.wire()),
            FqdnName::Ascii(text) => (0, text.as_bytes()),
        };
        out.put_u8(v.flags & !ClientFqdn::FLAG_E | e);
        out.put_u8(v.rcode1);
        out.put_u8(v.rcode2);
        out.put(name);
    }
    fn show(v: &ClientFqdn, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "flags [")?;
        let mut sep = "";
        for (bit, name) in [(0x01, "S"), (0x02, "O"), (0x04, "E"), (0x08, "N")] {
            if v.flags & bit != 0 {
                write!(f, "{sep}{name}")?;
                sep = " ";
            }
        }
        write!(f, "] rcode {}/{} ", v.rcode1, v.rcode2)?;
        match &v.name {
            FqdnName::Wire(name) if name.is_absolute() => write!(f, "\"{name}.\""),
            FqdnName::Wire(name) => write!(f, "\"{name}\""),
            FqdnName::Ascii(text) => write!(f, "\"{text}\" (ascii)"),
        }
    }
}

/// An uncompressed name in wire form, as the FQDN option carries it: labels, then a zero
/// byte when absolute (RFC 4702 §2.3.1 forbids compression).
fn decode_fqdn_wire(data: &[u8]) -> Result<DomainName, ValueError> {
    let mut pos = 0;
    while pos < data.len() {
        let len = usize::from(data[pos]);
        if len == 0 {
            if pos + 1 != data.len() {
                return Err(ValueError::Value("bytes after the root label"));
            }
            break;
        }
        if len > 63 {
            return Err(ValueError::Value("label longer than 63 bytes"));
        }
        if pos + 1 + len > data.len() {
            return Err(ValueError::Value("label runs past the end"));
        }
        pos += 1 + len;
    }
    DomainName::from_wire(data).map_err(|_| ValueError::Value("name longer than 255 bytes"))
}

/// One classless static route (RFC 3442): a destination prefix and the router to reach it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ClasslessRoute {
    /// The destination; only the first `prefix_len` bits are sent.
    pub destination: Ipv4Addr,
    /// Prefix length, 0..=32.
    pub prefix_len: u8,
    /// The router, or 0.0.0.0 for a destination on the link.
    pub router: Ipv4Addr,
}

impl ClasslessRoute {
    /// Significant octets of the destination: ceil(width / 8) (RFC 3442 §2).
    fn significant(&self) -> usize {
        usize::from(self.prefix_len.min(32)).div_ceil(8)
    }
}

impl Codec for ClasslessRoute {
    type Value = Vec<ClasslessRoute>;
    fn decode(data: &[u8]) -> Result<Vec<ClasslessRoute>, ValueError> {
        at_least(data, 5)?;
        let mut r = Reader::new(data);
        // A route takes at least 5 bytes: at most this many.
        let mut routes = Vec::with_capacity(data.len() / 5);
        let short = ValueError::Value("route runs past the end");
        while !r.is_empty() {
            let prefix_len = r.u8(short)?;
            if prefix_len > 32 {
                return Err(ValueError::Value("prefix length over 32"));
            }
            let mut octets = [0u8; 4];
            let n = usize::from(prefix_len).div_ceil(8);
            octets[..n].copy_from_slice(r.take(n, short)?);
            let router = r.ip(short)?;
            routes.push(ClasslessRoute {
                destination: Ipv4Addr::from(octets),
                prefix_len,
                router,
            });
        }
        Ok(routes)
    }
    fn encode<S: Sink>(v: &Vec<ClasslessRoute>, out: &mut S) {
        for route in v {
            out.put_u8(route.prefix_len.min(32));
            out.put(&route.destination.octets()[..route.significant()]);
            out.put_ip(route.router);
        }
    }
    fn show(v: &Vec<ClasslessRoute>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        show_list(v, f, |r, f| {
            write!(f, "{}/{} via {}", r.destination, r.prefix_len, r.router)
        })
    }
}

/// User class (RFC 3004): a list of opaque class names, each with a length byte.
///
/// Some clients send a bare string instead; what does not read as RFC 3004 instances is kept
/// as [`UserClass::Raw`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum UserClass {
    /// Instances as RFC 3004 §2 lays them out; each is at least one byte.
    Instances(Vec<Vec<u8>>),
    /// Bytes that are not in RFC 3004 form.
    Raw(Vec<u8>),
}

impl Codec for UserClass {
    type Value = UserClass;
    fn decode(data: &[u8]) -> Result<UserClass, ValueError> {
        at_least(data, 1)?;
        let mut instances = Vec::new();
        let mut r = Reader::new(data);
        let short = ValueError::Value("");
        while !r.is_empty() {
            let parsed = r.u8(short).and_then(|len| match len {
                0 => Err(short),
                _ => r.take(usize::from(len), short),
            });
            match parsed {
                Ok(instance) => instances.push(instance.to_vec()),
                Err(_) => return Ok(UserClass::Raw(data.to_vec())),
            }
        }
        Ok(UserClass::Instances(instances))
    }
    fn encode<S: Sink>(v: &UserClass, out: &mut S) {
        match v {
            UserClass::Instances(list) => {
                for instance in list {
                    write_short(instance, out);
                }
            }
            UserClass::Raw(bytes) => out.put(bytes),
        }
    }
    fn show(v: &UserClass, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match v {
            UserClass::Instances(list) => show_list(list, f, |i, f| show_bytes(i, f)),
            UserClass::Raw(bytes) => show_bytes(bytes, f),
        }
    }
}

/// Writes a length byte and up to 255 bytes. Callers hold items of at most 255 bytes; a
/// longer one is cut there, so the length byte always matches what follows.
fn write_short<S: Sink>(item: &[u8], out: &mut S) {
    let item = &item[..item.len().min(255)];
    out.put_u8(super::len_byte(item.len())); // at most 255, cut above
    out.put(item);
}

/// SLP directory agents (RFC 2610 §3): whether they are mandatory, and their addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SlpDirectoryAgent {
    /// The mandatory byte.
    pub mandatory: u8,
    /// Directory agent addresses.
    pub agents: Vec<Ipv4Addr>,
}

impl Codec for SlpDirectoryAgent {
    type Value = SlpDirectoryAgent;
    fn decode(data: &[u8]) -> Result<SlpDirectoryAgent, ValueError> {
        if data.is_empty() || (data.len() - 1) % 4 != 0 {
            return Err(ValueError::Length(Expected::FixedPlus {
                fixed: 1,
                unit: 4,
            }));
        }
        let agents = data[1..]
            .chunks_exact(4)
            .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]));
        Ok(SlpDirectoryAgent {
            mandatory: data[0],
            agents: agents.collect(),
        })
    }
    fn encode<S: Sink>(v: &SlpDirectoryAgent, out: &mut S) {
        out.put_u8(v.mandatory);
        encode_ips(&v.agents, out);
    }
    fn show(v: &SlpDirectoryAgent, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mandatory {} ", v.mandatory)?;
        show_ips(&v.agents, f)
    }
}

/// SLP service scope (RFC 2610 §4): whether it is mandatory, and a scope list.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SlpServiceScope {
    /// The mandatory byte.
    pub mandatory: u8,
    /// Comma-separated scopes, possibly empty.
    pub scopes: super::Text,
}

impl Codec for SlpServiceScope {
    type Value = SlpServiceScope;
    fn decode(data: &[u8]) -> Result<SlpServiceScope, ValueError> {
        at_least(data, 1)?;
        Ok(SlpServiceScope {
            mandatory: data[0],
            scopes: super::Text::from(&data[1..]),
        })
    }
    fn encode<S: Sink>(v: &SlpServiceScope, out: &mut S) {
        out.put_u8(v.mandatory);
        out.put(v.scopes.as_bytes());
    }
    fn show(v: &SlpServiceScope, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mandatory {} \"{}\"", v.mandatory, v.scopes)
    }
}

/// iSNS (RFC 4174 §2): flags, bitmaps and server addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Isns {
    /// iSNS functions.
    pub functions: u16,
    /// Discovery domain access.
    pub dd_access: u16,
    /// Administrative flags.
    pub admin_flags: u16,
    /// iSNS server security bitmap.
    pub security: u32,
    /// Servers: primary first, then heartbeat, then backups.
    pub servers: Vec<Ipv4Addr>,
}

impl Codec for Isns {
    type Value = Isns;
    fn decode(data: &[u8]) -> Result<Isns, ValueError> {
        if data.len() < 10 || (data.len() - 10) % 4 != 0 {
            return Err(ValueError::Length(Expected::FixedPlus {
                fixed: 10,
                unit: 4,
            }));
        }
        let short = ValueError::Length(Expected::AtLeast(10));
        let mut r = Reader::new(data);
        Ok(Isns {
            functions: r.u16(short)?,
            dd_access: r.u16(short)?,
            admin_flags: r.u16(short)?,
            security: r.u32(short)?,
            servers: r
                .rest()
                .chunks_exact(4)
                .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
                .collect(),
        })
    }
    fn encode<S: Sink>(v: &Isns, out: &mut S) {
        out.put_u16(v.functions);
        out.put_u16(v.dd_access);
        out.put_u16(v.admin_flags);
        out.put_u32(v.security);
        encode_ips(&v.servers, out);
    }
    fn show(v: &Isns, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "functions {:#06x} dd-access {:#06x} admin {:#06x} security {:#010x} servers ",
            v.functions, v.dd_access, v.admin_flags, v.security
        )?;
        show_ips(&v.servers, f)
    }
}

/// PXE client network interface identifier (RFC 4578 §2.2): UNDI type and version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ClientNdi {
    /// Interface type; 1 is UNDI.
    pub kind: u8,
    /// Major version.
    pub major: u8,
    /// Minor version.
    pub minor: u8,
}

impl Codec for ClientNdi {
    type Value = ClientNdi;
    fn decode(data: &[u8]) -> Result<ClientNdi, ValueError> {
        exactly(data, 3)?;
        Ok(ClientNdi {
            kind: data[0],
            major: data[1],
            minor: data[2],
        })
    }
    fn encode<S: Sink>(v: &ClientNdi, out: &mut S) {
        out.put(&[v.kind, v.major, v.minor]);
    }
    fn show(v: &ClientNdi, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "type {} version {}.{}", v.kind, v.major, v.minor)
    }
}

/// PXE client machine identifier (RFC 4578 §2.3): a type byte (0) and a 16-byte UUID.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MachineId {
    /// The type; 0 is a UUID.
    pub kind: u8,
    /// The identifier.
    pub id: Vec<u8>,
}

impl Codec for MachineId {
    type Value = MachineId;
    fn decode(data: &[u8]) -> Result<MachineId, ValueError> {
        at_least(data, 1)?;
        Ok(MachineId {
            kind: data[0],
            id: data[1..].to_vec(),
        })
    }
    fn encode<S: Sink>(v: &MachineId, out: &mut S) {
        out.put_u8(v.kind);
        out.put(&v.id);
    }
    fn show(v: &MachineId, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (0, Ok(u)) = (v.kind, <[u8; 16]>::try_from(v.id.as_slice())) {
            return write!(
                f,
                "uuid {:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-\
                 {:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
                u[0],
                u[1],
                u[2],
                u[3],
                u[4],
                u[5],
                u[6],
                u[7],
                u[8],
                u[9],
                u[10],
                u[11],
                u[12],
                u[13],
                u[14],
                u[15]
            );
        }
        write!(f, "type {} ", v.kind)?;
        show_hex(&v.id, f)
    }
}

/// SIP servers (RFC 3361): names or addresses, never both.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SipServers {
    /// Encoding 0: domain names, compressed as in RFC 3397.
    Names(Vec<DomainName>),
    /// Encoding 1: IPv4 addresses.
    Addresses(Vec<Ipv4Addr>),
}

impl Codec for SipServers {
    type Value = SipServers;
    fn decode(data: &[u8]) -> Result<SipServers, ValueError> {
        at_least(data, 2)?;
        match data[0] {
            0 => Ok(SipServers::Names(DomainList::decode(&data[1..])?)),
            1 => {
                multiple(&data[1..], 4, 4)
                    .map_err(|_| ValueError::Value("address list is not a multiple of 4"))?;
                Ok(SipServers::Addresses(
                    data[1..]
                        .chunks_exact(4)
                        .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
                        .collect(),
                ))
            }
            _ => Err(ValueError::Value("encoding is neither 0 nor 1")),
        }
    }
    fn encode<S: Sink>(v: &SipServers, out: &mut S) {
        match v {
            SipServers::Names(names) => {
                out.put_u8(0);
                DomainList::encode(names, out);
            }
            SipServers::Addresses(ips) => {
                out.put_u8(1);
                encode_ips(ips, out);
            }
        }
    }
    fn show(v: &SipServers, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match v {
            SipServers::Names(names) => show_list(names, f, |n, f| write!(f, "{n}")),
            SipServers::Addresses(ips) => show_ips(ips, f),
        }
    }
}

/// One vendor's class data in the V-I vendor class option (RFC 3925 §3).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct VendorClass {
    /// IANA enterprise number.
    pub enterprise: u32,
    /// Opaque class data items. With their length bytes they take at most 255 bytes in all
    /// (RFC 3925 §3); items past that are not emitted.
    pub data: Vec<Vec<u8>>,
}

impl Codec for VendorClass {
    type Value = Vec<VendorClass>;
    fn decode(data: &[u8]) -> Result<Vec<VendorClass>, ValueError> {
        at_least(data, 5)?;
        let short = ValueError::Value("vendor data runs past the end");
        let mut r = Reader::new(data);
        let mut out = Vec::new();
        while !r.is_empty() {
            let enterprise = r.u32(short)?;
            let len = r.u8(short)?;
            let mut items = Reader::new(r.take(usize::from(len), short)?);
            let mut list = Vec::new();
            while !items.is_empty() {
                let n = items.u8(short)?;
                list.push(items.take(usize::from(n), short)?.to_vec());
            }
            out.push(VendorClass {
                enterprise,
                data: list,
            });
        }
        Ok(out)
    }
    fn encode<S: Sink>(v: &Vec<VendorClass>, out: &mut S) {
        for class in v {
            // RFC 3925 caps one vendor's data at 255 bytes: items past that are left out.
            let (count, len) = super::fitting(class.data.iter().map(|d| 1 + d.len().min(255)));
            out.put_u32(class.enterprise);
            out.put_u8(super::len_byte(len)); // at most 255
            for item in class.data.iter().take(count) {
                write_short(item, out);
            }
        }
    }
    fn show(v: &Vec<VendorClass>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        show_list(v, f, |c, f| {
            write!(f, "enterprise {} ", c.enterprise)?;
            show_list(&c.data, f, |d, f| show_bytes(d, f))
        })
    }
}

/// One vendor's encapsulated options in the V-I vendor-specific option (RFC 3925 §4).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct VendorOptions {
    /// IANA enterprise number.
    pub enterprise: u32,
    /// (code, data) pairs. With their code and length bytes they take at most 255 bytes in
    /// all (RFC 3925 §4); options past that are not emitted.
    pub options: Vec<(u8, Vec<u8>)>,
}

impl Codec for VendorOptions {
    type Value = Vec<VendorOptions>;
    fn decode(data: &[u8]) -> Result<Vec<VendorOptions>, ValueError> {
        at_least(data, 5)?;
        let short = ValueError::Value("vendor data runs past the end");
        let mut r = Reader::new(data);
        let mut out = Vec::new();
        while !r.is_empty() {
            let enterprise = r.u32(short)?;
            let len = r.u8(short)?;
            let mut items = Reader::new(r.take(usize::from(len), short)?);
            let mut options = Vec::new();
            while !items.is_empty() {
                let code = items.u8(short)?;
                let n = items.u8(short)?;
                options.push((code, items.take(usize::from(n), short)?.to_vec()));
            }
            out.push(VendorOptions {
                enterprise,
                options,
            });
        }
        Ok(out)
    }
    fn encode<S: Sink>(v: &Vec<VendorOptions>, out: &mut S) {
        for vendor in v {
            // RFC 3925 caps one vendor's data at 255 bytes: options past that are left out.
            let sizes = vendor.options.iter().map(|(_, d)| 2 + d.len().min(255));
            let (count, len) = super::fitting(sizes);
            out.put_u32(vendor.enterprise);
            out.put_u8(super::len_byte(len)); // at most 255
            for (code, data) in vendor.options.iter().take(count) {
                out.put_u8(*code);
                write_short(data, out);
            }
        }
    }
    fn show(v: &Vec<VendorOptions>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        show_list(v, f, |vendor, f| {
            write!(f, "enterprise {} ", vendor.enterprise)?;
            show_list(&vendor.options, f, |(code, data), f| {
                write!(f, "{code}=")?;
                show_hex(data, f)
            })
        })
    }
}

/// Authentication (RFC 3118 §5).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Authentication {
    /// Authentication protocol.
    pub protocol: u8,
    /// Algorithm.
    pub algorithm: u8,
    /// Replay detection method.
    pub rdm: u8,
    /// Replay detection value.
    pub replay_detection: u64,
    /// Protocol-specific authentication information.
    pub info: Vec<u8>,
}

impl Codec for Authentication {
    type Value = Authentication;
    fn decode(data: &[u8]) -> Result<Authentication, ValueError> {
        at_least(data, 11)?;
        let mut replay = [0u8; 8];
        replay.copy_from_slice(&data[3..11]);
        Ok(Authentication {
            protocol: data[0],
            algorithm: data[1],
            rdm: data[2],
            replay_detection: u64::from_be_bytes(replay),
            info: data[11..].to_vec(),
        })
    }
    fn encode<S: Sink>(v: &Authentication, out: &mut S) {
        out.put(&[v.protocol, v.algorithm, v.rdm]);
        out.put(&v.replay_detection.to_be_bytes());
        out.put(&v.info);
    }
    fn show(v: &Authentication, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "protocol {} algorithm {} rdm {} replay {:#x} info ",
            v.protocol, v.algorithm, v.rdm, v.replay_detection
        )?;
        show_hex(&v.info, f)
    }
}
