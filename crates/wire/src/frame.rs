//! Ethernet II, IPv4 and UDP around a DHCP message, as a raw packet socket sees it.
//!
//! Parsing checks every length, the IPv4 header checksum and the UDP checksum (a zero UDP
//! checksum means "none", RFC 768). IPv4 header options are allowed and skipped; fragments
//! are refused. Emitting writes a 20-byte IPv4 header and both checksums.

use core::fmt;
use core::net::Ipv4Addr;

use crate::error::{EmitError, Error};
use crate::message::{EmitOptions, Message};

/// The DHCP server port.
pub const SERVER_PORT: u16 = 67;
/// The DHCP client port.
pub const CLIENT_PORT: u16 = 68;

const ETHERNET_LEN: usize = 14;
const IPV4_LEN: usize = 20;
const UDP_LEN: usize = 8;
/// Bytes of headers [`Packet::emit`] writes before the message.
pub const HEADERS_LEN: usize = ETHERNET_LEN + IPV4_LEN + UDP_LEN;

/// The longest IPv4 packet, headers included: its total length is a 16-bit field.
const IPV4_MAX: usize = 0xffff;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
const PROTOCOL_UDP: u8 = 17;

/// An Ethernet MAC address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MacAddr({self})")
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for MacAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for MacAddr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let address = crate::message::HardwareAddress::deserialize(d)?;
        address
            .mac()
            .map(MacAddr)
            .ok_or_else(|| serde::de::Error::custom("mac: not 6 bytes"))
    }
}

/// Whether checksums are verified on parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksums {
    /// Verify the IPv4 header and UDP checksums (the default for anything off a wire).
    Verify,
    /// Skip verification: for captures taken where the NIC fills checksums in later.
    Ignore,
}

/// The addressing of a UDP datagram and where its payload is, as parsed from a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Datagram<'a> {
    /// Source MAC, when the frame had an Ethernet header.
    pub src_mac: Option<MacAddr>,
    /// Destination MAC, when the frame had an Ethernet header.
    pub dst_mac: Option<MacAddr>,
    /// IPv4 source.
    pub src_ip: Ipv4Addr,
    /// IPv4 destination.
    pub dst_ip: Ipv4Addr,
    /// IPv4 time to live.
    pub ttl: u8,
    /// UDP source port.
    pub src_port: u16,
    /// UDP destination port.
    pub dst_port: u16,
    /// The UDP payload.
    pub payload: &'a [u8],
    /// Where the payload starts in the buffer given to the parser.
    pub payload_offset: usize,
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Parses an Ethernet II frame carrying IPv4 and UDP. Up to two VLAN tags are skipped.
pub fn parse_ethernet(frame: &[u8], checksums: Checksums) -> Result<Datagram<'_>, Error> {
    if frame.len() < ETHERNET_LEN {
        return Err(Error::Truncated {
            what: "ethernet header",
            offset: 0,
            needed: ETHERNET_LEN,
            available: frame.len(),
        });
    }
    let mac = |at: usize| {
        let mut m = [0u8; 6];
        m.copy_from_slice(&frame[at..at + 6]);
        MacAddr(m)
    };
    let mut type_at = 12;
    let mut ethertype = be16(frame, type_at);
    for _ in 0..2 {
        if ethertype != ETHERTYPE_VLAN && ethertype != ETHERTYPE_QINQ {
            break;
        }
        type_at += 4;
        if frame.len() < type_at + 2 {
            return Err(Error::Truncated {
                what: "vlan tag",
                offset: type_at - 2,
                needed: 4,
                available: frame.len() - (type_at - 2),
            });
        }
        ethertype = be16(frame, type_at);
    }
    if ethertype != ETHERTYPE_IPV4 {
        return Err(Error::NotIpv4 {
            ethertype,
            offset: type_at,
        });
    }
    let ip_start = type_at + 2;
    let mut datagram =
        parse_ipv4(&frame[ip_start..], checksums).map_err(|e| e.shifted(ip_start))?;
    datagram.src_mac = Some(mac(6));
    datagram.dst_mac = Some(mac(0));
    datagram.payload_offset += ip_start;
    Ok(datagram)
}

/// Parses an IPv4 packet carrying UDP (a cooked capture, or a raw IP socket).
pub fn parse_ipv4(packet: &[u8], checksums: Checksums) -> Result<Datagram<'_>, Error> {
    if packet.len() < IPV4_LEN {
        return Err(Error::Truncated {
            what: "ipv4 header",
            offset: 0,
            needed: IPV4_LEN,
            available: packet.len(),
        });
    }
    let version = packet[0] >> 4;
    if version != 4 {
        return Err(Error::BadIpVersion { version, offset: 0 });
    }
    let header_len = usize::from(packet[0] & 0x0f) * 4;
    if header_len < IPV4_LEN || header_len > packet.len() {
        return Err(Error::BadIpHeaderLength {
            header_len,
            offset: 0,
        });
    }
    let total_len = usize::from(be16(packet, 2));
    if total_len < header_len || total_len > packet.len() {
        return Err(Error::BadIpLength {
            total_len,
            available: packet.len(),
            offset: 0,
        });
    }
    if checksums == Checksums::Verify && checksum(&[&packet[..header_len]]) != 0 {
        let found = be16(packet, 10);
        // The checksum of the header with its checksum field left out (taken as zero).
        let expected = checksum(&[&packet[..10], &packet[12..header_len]]);
        return Err(Error::BadIpChecksum {
            found,
            expected,
            offset: 10,
        });
    }
    let fragment = be16(packet, 6);
    if fragment & 0x3fff != 0 {
        return Err(Error::Fragmented { offset: 0 });
    }
    if packet[9] != PROTOCOL_UDP {
        return Err(Error::NotUdp {
            protocol: packet[9],
            offset: 0,
        });
    }
    let src_ip = Ipv4Addr::new(packet[12], packet[13], packet[14], packet[15]);
    let dst_ip = Ipv4Addr::new(packet[16], packet[17], packet[18], packet[19]);

    let udp = &packet[header_len..total_len];
    if udp.len() < UDP_LEN {
        return Err(Error::Truncated {
            what: "udp header",
            offset: header_len,
            needed: UDP_LEN,
            available: udp.len(),
        });
    }
    let udp_len = usize::from(be16(udp, 4));
    if udp_len < UDP_LEN || udp_len > udp.len() {
        return Err(Error::BadUdpLength {
            udp_len,
            available: udp.len(),
            offset: header_len,
        });
    }
    let udp = &udp[..udp_len];
    let found = be16(udp, 6);
    if checksums == Checksums::Verify && found != 0 {
        let sum = udp_checksum(src_ip, dst_ip, &udp[..6], &udp[8..]);
        if sum != found {
            return Err(Error::BadUdpChecksum {
                found,
                expected: sum,
                offset: header_len + 6,
            });
        }
    }
    Ok(Datagram {
        src_mac: None,
        dst_mac: None,
        src_ip,
        dst_ip,
        ttl: packet[8],
        src_port: be16(udp, 0),
        dst_port: be16(udp, 2),
        payload: &udp[UDP_LEN..],
        payload_offset: header_len + UDP_LEN,
    })
}

/// Sums the parts as one run of big-endian 16-bit words; the result is not inverted.
fn sum_words(parts: &[&[u8]]) -> u32 {
    let mut sum = 0u32;
    let mut odd: Option<u8> = None;
    for part in parts {
        let mut bytes = *part;
        if let Some(high) = odd.take() {
            if let Some((&low, rest)) = bytes.split_first() {
                sum += u32::from(u16::from_be_bytes([high, low]));
                bytes = rest;
            } else {
                odd = Some(high);
                continue;
            }
        }
        let mut words = bytes.chunks_exact(2);
        for w in &mut words {
            sum += u32::from(u16::from_be_bytes([w[0], w[1]]));
        }
        odd = words.remainder().first().copied();
        // Fold early so the sum never overflows, whatever the length.
        sum = (sum & 0xffff) + (sum >> 16);
    }
    if let Some(high) = odd {
        sum += u32::from(u16::from_be_bytes([high, 0]));
    }
    sum
}

/// The Internet checksum (RFC 1071) of the parts: 0 when a header with its checksum adds up.
pub(crate) fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum = sum_words(parts);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !u16::try_from(sum).unwrap_or(0xffff) // folded to 16 bits above
}

/// The UDP checksum over the pseudo-header, the UDP header less its checksum field
/// (`header`, 6 bytes) and the payload. Never 0: a computed 0 is sent as 0xffff (RFC 768).
fn udp_checksum(src: Ipv4Addr, dst: Ipv4Addr, header: &[u8], payload: &[u8]) -> u16 {
    let len = u16::try_from(header.len() + 2 + payload.len())
        .unwrap_or(u16::MAX)
        .to_be_bytes();
    let pseudo = [0, PROTOCOL_UDP, len[0], len[1]];
    match checksum(&[&src.octets(), &dst.octets(), &pseudo, header, payload]) {
        0 => 0xffff,
        sum => sum,
    }
}

/// A DHCP message in its Ethernet, IPv4 and UDP headers, like the original Charrua's `pkt`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Packet {
    /// Ethernet source.
    pub src_mac: MacAddr,
    /// Ethernet destination.
    pub dst_mac: MacAddr,
    /// IPv4 source.
    pub src_ip: Ipv4Addr,
    /// IPv4 destination.
    pub dst_ip: Ipv4Addr,
    /// UDP source port.
    pub src_port: u16,
    /// UDP destination port.
    pub dst_port: u16,
    /// The DHCP message.
    pub message: Message,
}

impl Packet {
    /// Parses an Ethernet frame, verifying checksums, and decodes the message in it.
    pub fn parse(frame: &[u8]) -> Result<Packet, Error> {
        let d = parse_ethernet(frame, Checksums::Verify)?;
        let message = Message::parse(d.payload).map_err(|e| e.shifted(d.payload_offset))?;
        Ok(Packet {
            src_mac: d.src_mac.unwrap_or_default(),
            dst_mac: d.dst_mac.unwrap_or_default(),
            src_ip: d.src_ip,
            dst_ip: d.dst_ip,
            src_port: d.src_port,
            dst_port: d.dst_port,
            message,
        })
    }

    /// Bytes [`Packet::emit`] writes.
    ///
    /// A frame whose IPv4 packet would pass the 65 535 bytes its total length field counts is
    /// [`EmitError::TooLarge`], with both numbers counted from the Ethernet header.
    pub fn emitted_len(&self, settings: &EmitOptions) -> Result<usize, EmitError> {
        let total = HEADERS_LEN + self.message.emitted_len(settings)?;
        let limit = ETHERNET_LEN + IPV4_MAX;
        if total > limit {
            return Err(EmitError::TooLarge {
                needed: total,
                limit,
            });
        }
        Ok(total)
    }

    /// Emits into a new vector.
    pub fn to_bytes(&self, settings: &EmitOptions) -> Result<alloc::vec::Vec<u8>, EmitError> {
        let mut buf = alloc::vec![0; self.emitted_len(settings)?];
        let len = self.emit(&mut buf, settings)?;
        buf.truncate(len);
        Ok(buf)
    }

    /// Writes the frame: Ethernet II, a 20-byte IPv4 header (TTL 64, don't-fragment clear),
    /// UDP, and the message, with both checksums. Returns its length.
    pub fn emit(&self, buf: &mut [u8], settings: &EmitOptions) -> Result<usize, EmitError> {
        let total = self.emitted_len(settings)?;
        let ip_len = total - ETHERNET_LEN;
        // Both fit in 16 bits: emitted_len checked the IPv4 length.
        let (Ok(ip_len16), Ok(udp_len16)) =
            (u16::try_from(ip_len), u16::try_from(ip_len - IPV4_LEN))
        else {
            return Err(EmitError::TooLarge {
                needed: total,
                limit: ETHERNET_LEN + IPV4_MAX,
            });
        };
        let Some(frame) = buf.get_mut(..total) else {
            return Err(EmitError::BufferTooSmall {
                needed: total,
                available: buf.len(),
            });
        };
        self.message.emit(&mut frame[HEADERS_LEN..], settings)?;

        frame[0..6].copy_from_slice(&self.dst_mac.0);
        frame[6..12].copy_from_slice(&self.src_mac.0);
        frame[12..14].copy_from_slice(&ETHERTYPE_IPV4.to_be_bytes());

        let ip = &mut frame[ETHERNET_LEN..ETHERNET_LEN + IPV4_LEN];
        ip[0] = 0x45; // version 4, 20-byte header
        ip[1] = 0x10; // low delay, as DHCP servers customarily send
        ip[4..8].fill(0); // identification 0, no fragmentation flags
        ip[8] = 64;
        ip[9] = PROTOCOL_UDP;
        ip[10..12].fill(0);
        ip[12..16].copy_from_slice(&self.src_ip.octets());
        ip[16..20].copy_from_slice(&self.dst_ip.octets());
        ip[2..4].copy_from_slice(&ip_len16.to_be_bytes());
        let sum = checksum(&[ip]);
        ip[10..12].copy_from_slice(&sum.to_be_bytes());

        let (udp, payload) = frame[ETHERNET_LEN + IPV4_LEN..].split_at_mut(UDP_LEN);
        udp[0..2].copy_from_slice(&self.src_port.to_be_bytes());
        udp[2..4].copy_from_slice(&self.dst_port.to_be_bytes());
        udp[4..6].copy_from_slice(&udp_len16.to_be_bytes());
        let sum = udp_checksum(self.src_ip, self.dst_ip, &udp[..6], payload);
        udp[6..8].copy_from_slice(&sum.to_be_bytes());
        Ok(total)
    }
}
