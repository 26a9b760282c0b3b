//! The messages `charrua perf` sends and the answers it reads, without a full encode or
//! decode per packet.
//!
//! Each kind of message is emitted once into a template, as a UDP payload for relay mode or
//! as a whole Ethernet frame for frame mode, and every send copies the template and patches
//! a few fields at known offsets: the transaction id, the client's hardware address, the
//! addresses it asks for or holds, and in unicast frames the addresses and the IPv4 header
//! checksum. Answers are read through [`MessageView`] and fixed header offsets, which
//! allocate nothing.

use std::net::Ipv4Addr;

use charrua_wire::{
    CLIENT_PORT, Checksums, DhcpOption, EmitOptions, Flags, HEADERS_LEN, HardwareAddress, MacAddr,
    Message, MessageType, MessageView, Op, OptionCode, SERVER_PORT, parse_ethernet,
};

/// Offsets of the fields patched in a BOOTP message.
const XID: usize = 4;
const CIADDR: usize = 12;
const CHADDR: usize = 28;

/// Offsets in an Ethernet frame carrying IPv4 (no VLAN tag, a 20-byte IPv4 header).
const ETH_DST: usize = 0;
const ETH_SRC: usize = 6;
const IP: usize = 14;
const IP_CHECKSUM: usize = IP + 10;
const IP_SRC: usize = IP + 12;
const IP_DST: usize = IP + 16;
const IP_LEN: usize = 20;
const UDP_CHECKSUM: usize = IP + IP_LEN + 6;

/// How messages travel to the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Framing {
    /// UDP payloads sent by a relay agent at `giaddr`.
    Relay {
        /// The relay address put in every message.
        giaddr: Ipv4Addr,
    },
    /// Ethernet frames from the clients themselves, on a link the server serves.
    Ethernet,
}

/// How a message is addressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Addressing {
    /// A client without an address: broadcast, `ciaddr` 0.0.0.0.
    Broadcast,
    /// A client holding an address: `ciaddr` set, and frames sent from it to the server.
    Unicast,
}

/// The per-client fields of a message.
#[derive(Clone, Copy, Debug)]
pub(super) struct Fields {
    /// The transaction id.
    pub(super) xid: u32,
    /// The client's hardware address: `chaddr`, and the source of its frames.
    pub(super) mac: [u8; 6],
    /// The address offered or held: the requested address, or `ciaddr`.
    pub(super) address: Ipv4Addr,
    /// The server's identifier, and the destination of unicast frames.
    pub(super) server: Ipv4Addr,
    /// The server's hardware address, the destination of unicast frames.
    pub(super) server_mac: [u8; 6],
}

/// A message of one kind, emitted once, with the offsets of the fields patched per client.
pub(super) struct Template {
    bytes: Vec<u8>,
    /// Where the BOOTP message starts: 0 for a UDP payload, after the headers in a frame.
    message: usize,
    addressing: Addressing,
    framed: bool,
    requested: Option<usize>,
    server_id: Option<usize>,
}

impl Template {
    /// The template of a `kind` message with `extra` options after the message type, padded
    /// to at least `min_len` bytes of BOOTP message. Requested-address and server-identifier
    /// options among `extra` are patched per client.
    pub(super) fn new(
        kind: MessageType,
        framing: Framing,
        addressing: Addressing,
        extra: &[DhcpOption],
        min_len: usize,
    ) -> Template {
        let mut options = vec![DhcpOption::MessageType(kind)];
        options.extend_from_slice(extra);
        let (giaddr, hops, flags) = match (framing, addressing) {
            (Framing::Relay { giaddr }, _) => (giaddr, 1, Flags::default()),
            (Framing::Ethernet, Addressing::Broadcast) => {
                (Ipv4Addr::UNSPECIFIED, 0, Flags::BROADCAST)
            }
            (Framing::Ethernet, Addressing::Unicast) => {
                (Ipv4Addr::UNSPECIFIED, 0, Flags::default())
            }
        };
        let message = Message {
            op: Op::BOOTREQUEST,
            hops,
            flags,
            giaddr,
            chaddr: HardwareAddress::ethernet([2, 0, 0, 0, 0, 0]),
            options,
            ..Message::default()
        };
        let settings = EmitOptions {
            min_len: min_len.max(charrua_wire::BOOTP_MIN_LEN),
            ..EmitOptions::default()
        };
        // Only fixed-size options and a message type, no size limit: emission cannot fail.
        let payload = message.to_bytes(&settings).unwrap_or_default();
        let offset = |code: OptionCode| {
            MessageView::new(&payload)
                .ok()?
                .raw_options()
                .flatten()
                .find(|o| o.code == code)
                .map(|o| o.offset + 2)
        };
        let (requested, server_id) = (
            offset(OptionCode::REQUESTED_ADDRESS),
            offset(OptionCode::SERVER_IDENTIFIER),
        );
        let (bytes, at) = match framing {
            Framing::Relay { .. } => (payload, 0),
            Framing::Ethernet => (frame(message, &settings), HEADERS_LEN),
        };
        Template {
            bytes,
            message: at,
            addressing,
            framed: framing == Framing::Ethernet,
            requested: requested.map(|o| o + at),
            server_id: server_id.map(|o| o + at),
        }
    }

    /// Writes the message for one client into `out`; returns its length.
    pub(super) fn write(&self, out: &mut [u8], fields: &Fields) -> usize {
        let len = self.bytes.len();
        let out = &mut out[..len];
        out.copy_from_slice(&self.bytes);
        let m = self.message;
        out[m + XID..m + XID + 4].copy_from_slice(&fields.xid.to_be_bytes());
        out[m + CHADDR..m + CHADDR + 6].copy_from_slice(&fields.mac);
        if let Some(at) = self.requested {
            out[at..at + 4].copy_from_slice(&fields.address.octets());
        }
        if let Some(at) = self.server_id {
            out[at..at + 4].copy_from_slice(&fields.server.octets());
        }
        let unicast = self.addressing == Addressing::Unicast;
        if unicast {
            out[m + CIADDR..m + CIADDR + 4].copy_from_slice(&fields.address.octets());
        }
        if self.framed {
            out[ETH_SRC..ETH_SRC + 6].copy_from_slice(&fields.mac);
            if unicast {
                out[ETH_DST..ETH_DST + 6].copy_from_slice(&fields.server_mac);
                out[IP_SRC..IP_SRC + 4].copy_from_slice(&fields.address.octets());
                out[IP_DST..IP_DST + 4].copy_from_slice(&fields.server.octets());
                out[IP_CHECKSUM..IP_CHECKSUM + 2].fill(0);
                let sum = ip_checksum(&out[IP..IP + IP_LEN]);
                out[IP_CHECKSUM..IP_CHECKSUM + 2].copy_from_slice(&sum.to_be_bytes());
            }
        }
        len
    }
}

/// `message` in a broadcast frame from port 68 to port 67, 0.0.0.0 to 255.255.255.255,
/// without a UDP checksum (RFC 768 allows none over IPv4): the fields patched per client
/// would make any checksum wrong.
fn frame(message: Message, settings: &EmitOptions) -> Vec<u8> {
    let packet = charrua_wire::Packet {
        src_mac: MacAddr([2, 0, 0, 0, 0, 0]),
        dst_mac: MacAddr::BROADCAST,
        src_ip: Ipv4Addr::UNSPECIFIED,
        dst_ip: Ipv4Addr::BROADCAST,
        src_port: CLIENT_PORT,
        dst_port: SERVER_PORT,
        message,
    };
    // As for the message alone: emission cannot fail.
    let mut bytes = packet.to_bytes(settings).unwrap_or_default();
    if let Some(checksum) = bytes.get_mut(UDP_CHECKSUM..UDP_CHECKSUM + 2) {
        checksum.fill(0);
    }
    bytes
}

/// The IPv4 header checksum (RFC 791) of `header`, whose checksum field holds zero.
fn ip_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    // Folded to 16 bits just above.
    !u16::try_from(sum).unwrap_or(0xffff)
}

/// What the driver needs from an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Answer {
    /// The transaction id.
    pub(super) xid: u32,
    /// `chaddr`, when it is an Ethernet address.
    pub(super) chaddr: Option<[u8; 6]>,
    /// The message type.
    pub(super) kind: Option<MessageType>,
    /// `yiaddr`.
    pub(super) yiaddr: Ipv4Addr,
    /// The server identifier option, or the frame's source address.
    pub(super) server: Option<Ipv4Addr>,
    /// The frame's source MAC address, in frame mode.
    pub(super) server_mac: [u8; 6],
}

/// Reads a server's answer: a UDP payload in relay mode, an Ethernet frame (already
/// filtered to UDP port 68 by the socket) in frame mode. `None` for anything that is not a
/// BOOTP reply.
pub(super) fn read_answer(bytes: &[u8], framing: Framing) -> Option<Answer> {
    let (payload, source, server_mac) = match framing {
        Framing::Relay { .. } => (bytes, None, [0; 6]),
        Framing::Ethernet => {
            // Checksums are the kernel's business on a link; skipping them keeps reading
            // cheap.
            let datagram = parse_ethernet(bytes, Checksums::Ignore).ok()?;
            if datagram.dst_port != CLIENT_PORT || datagram.src_port != SERVER_PORT {
                return None;
            }
            let mac = datagram.src_mac.unwrap_or_default().0;
            (datagram.payload, Some(datagram.src_ip), mac)
        }
    };
    let view = MessageView::new(payload).ok()?;
    if view.op() != Op::BOOTREPLY {
        return None;
    }
    let chaddr = match view.chaddr() {
        [a, b, c, d, e, f, ..] if view.hlen() == 6 => Some([*a, *b, *c, *d, *e, *f]),
        _ => None,
    };
    let mut kind = None;
    let mut server = None;
    for option in view.raw_options().flatten() {
        match (option.code, option.data) {
            (OptionCode::MESSAGE_TYPE, [t]) => kind = Some(MessageType(*t)),
            (OptionCode::SERVER_IDENTIFIER, [a, b, c, d]) => {
                server = Some(Ipv4Addr::new(*a, *b, *c, *d));
            }
            _ => {}
        }
        if kind.is_some() && server.is_some() {
            break;
        }
    }
    Some(Answer {
        xid: view.xid(),
        chaddr,
        kind,
        yiaddr: view.yiaddr(),
        server: server.or(source),
        server_mac,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use charrua_wire::Packet;

    const CLIENT: [u8; 6] = [2, 1, 0, 0, 0, 9];
    const SERVER_MAC: [u8; 6] = [2, 0xee, 0, 0, 0, 1];

    fn fields() -> Fields {
        Fields {
            xid: 0xabcd,
            mac: CLIENT,
            address: Ipv4Addr::new(198, 18, 1, 7),
            server: Ipv4Addr::new(198, 18, 0, 1),
            server_mac: SERVER_MAC,
        }
    }

    fn request(framing: Framing, addressing: Addressing) -> Template {
        let zero = Ipv4Addr::UNSPECIFIED;
        Template::new(
            MessageType::REQUEST,
            framing,
            addressing,
            &[
                DhcpOption::RequestedAddress(zero),
                DhcpOption::ServerIdentifier(zero),
            ],
            300,
        )
    }

    #[test]
    fn relayed_templates_patch_the_fields_of_each_client() {
        let giaddr = Ipv4Addr::new(198, 18, 0, 2);
        let t = request(Framing::Relay { giaddr }, Addressing::Broadcast);
        let mut buf = [0u8; 1536];
        let len = t.write(&mut buf, &fields());
        assert_eq!(len, 300);
        let m = Message::parse(&buf[..len]).unwrap();
        assert_eq!(m.xid, 0xabcd);
        assert_eq!(m.chaddr.mac(), Some(CLIENT));
        assert_eq!(m.requested_address(), Some(fields().address));
        assert_eq!(m.server_identifier(), Some(fields().server));
        assert_eq!(m.giaddr, giaddr);
        assert_eq!(m.hops, 1);
        assert_eq!(m.ciaddr, Ipv4Addr::UNSPECIFIED);
    }

    #[test]
    fn broadcast_frames_come_from_the_client_with_the_broadcast_flag() {
        let t = request(Framing::Ethernet, Addressing::Broadcast);
        let mut buf = [0u8; 1536];
        let len = t.write(&mut buf, &fields());
        // Parsing verifies the IPv4 header checksum; the UDP checksum is left out (zero).
        let p = Packet::parse(&buf[..len]).unwrap();
        assert_eq!(p.src_mac, MacAddr(CLIENT));
        assert_eq!(p.dst_mac, MacAddr::BROADCAST);
        assert_eq!(
            (p.src_ip, p.dst_ip),
            (Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST)
        );
        assert_eq!((p.src_port, p.dst_port), (CLIENT_PORT, SERVER_PORT));
        assert_eq!(u16::from_be_bytes([buf[40], buf[41]]), 0);
        let m = p.message;
        assert_eq!(m.xid, 0xabcd);
        assert_eq!(m.chaddr.mac(), Some(CLIENT));
        assert!(m.flags.broadcast());
        assert_eq!(m.giaddr, Ipv4Addr::UNSPECIFIED);
        assert_eq!(m.requested_address(), Some(fields().address));
        assert_eq!(m.server_identifier(), Some(fields().server));
        assert_eq!(len, HEADERS_LEN + 300);
    }

    #[test]
    fn unicast_frames_go_from_the_leased_address_to_the_server() {
        let t = Template::new(
            MessageType::REQUEST,
            Framing::Ethernet,
            Addressing::Unicast,
            &[],
            300,
        );
        let mut buf = [0u8; 1536];
        for address in [
            Ipv4Addr::new(198, 18, 1, 7),
            Ipv4Addr::new(198, 19, 254, 255),
        ] {
            let f = Fields {
                address,
                ..fields()
            };
            let len = t.write(&mut buf, &f);
            let p = Packet::parse(&buf[..len]).unwrap();
            assert_eq!(p.dst_mac, MacAddr(SERVER_MAC));
            assert_eq!((p.src_ip, p.dst_ip), (address, f.server));
            assert_eq!(p.message.ciaddr, address);
            assert!(!p.message.flags.broadcast());
            assert_eq!(p.message.requested_address(), None);
        }
    }

    #[test]
    fn reads_answers_from_frames_and_from_payloads() {
        let offer = Message {
            op: Op::BOOTREPLY,
            xid: 0x1234_5678,
            yiaddr: Ipv4Addr::new(198, 18, 1, 7),
            chaddr: HardwareAddress::ethernet(CLIENT),
            options: vec![
                DhcpOption::MessageType(MessageType::OFFER),
                DhcpOption::ServerIdentifier(Ipv4Addr::new(198, 18, 0, 1)),
            ],
            ..Message::default()
        };
        let packet = Packet {
            src_mac: MacAddr(SERVER_MAC),
            dst_mac: MacAddr::BROADCAST,
            src_ip: Ipv4Addr::new(198, 18, 0, 1),
            dst_ip: Ipv4Addr::BROADCAST,
            src_port: SERVER_PORT,
            dst_port: CLIENT_PORT,
            message: offer.clone(),
        };
        let frame = packet.to_bytes(&EmitOptions::default()).unwrap();
        let answer = read_answer(&frame, Framing::Ethernet).unwrap();
        assert_eq!(
            answer,
            Answer {
                xid: 0x1234_5678,
                chaddr: Some(CLIENT),
                kind: Some(MessageType::OFFER),
                yiaddr: offer.yiaddr,
                server: Some(Ipv4Addr::new(198, 18, 0, 1)),
                server_mac: SERVER_MAC,
            }
        );
        let payload = &frame[HEADERS_LEN..];
        let relayed = Framing::Relay {
            giaddr: Ipv4Addr::new(198, 18, 0, 2),
        };
        let answer = read_answer(payload, relayed).unwrap();
        assert_eq!((answer.xid, answer.server_mac), (0x1234_5678, [0; 6]));

        // A request is no answer, and neither is a frame to the server port.
        let mut request = packet.clone();
        request.message.op = Op::BOOTREQUEST;
        let frame = request.to_bytes(&EmitOptions::default()).unwrap();
        assert_eq!(read_answer(&frame, Framing::Ethernet), None);
        let mut wrong_port = packet;
        wrong_port.dst_port = SERVER_PORT;
        let frame = wrong_port.to_bytes(&EmitOptions::default()).unwrap();
        assert_eq!(read_answer(&frame, Framing::Ethernet), None);
    }

    #[test]
    fn an_answer_without_server_identifier_names_the_frame_source() {
        let ack = Message {
            op: Op::BOOTREPLY,
            chaddr: HardwareAddress::ethernet(CLIENT),
            options: vec![DhcpOption::MessageType(MessageType::ACK)],
            ..Message::default()
        };
        let packet = Packet {
            src_mac: MacAddr(SERVER_MAC),
            dst_mac: MacAddr(CLIENT),
            src_ip: Ipv4Addr::new(198, 18, 0, 9),
            dst_ip: Ipv4Addr::new(198, 18, 1, 7),
            src_port: SERVER_PORT,
            dst_port: CLIENT_PORT,
            message: ack,
        };
        let frame = packet.to_bytes(&EmitOptions::default()).unwrap();
        let answer = read_answer(&frame, Framing::Ethernet).unwrap();
        assert_eq!(answer.server, Some(Ipv4Addr::new(198, 18, 0, 9)));
        assert_eq!(answer.kind, Some(MessageType::ACK));
    }

    #[test]
    fn computes_the_ipv4_header_checksum() {
        // A commonly quoted example header, its checksum field zeroed; its checksum is b861.
        let header = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(ip_checksum(&header), 0xb861);
    }
}
