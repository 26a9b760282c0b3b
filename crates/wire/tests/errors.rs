//! One test per way bytes can be wrong: each gives its `Error` variant with the offset where
//! the problem is, and a `Display` text that says what and where.

use charrua_wire::{
    Checksums, DhcpOption, EmitOptions, Error, Expected, HEADERS_LEN, HardwareAddress,
    MAGIC_COOKIE, MacAddr, Message, MessageType, MessageView, OptionCode, Packet, parse_ethernet,
    parse_ipv4,
};
use std::net::Ipv4Addr;

/// Offsets in a frame written by `Packet::emit`.
const IP: usize = 14;
const IP_TOTAL_LEN: usize = IP + 2;
const IP_FRAGMENT: usize = IP + 6;
const IP_PROTOCOL: usize = IP + 9;
const IP_CHECKSUM: usize = IP + 10;
const UDP: usize = IP + 20;
const UDP_LEN: usize = UDP + 4;
const UDP_CHECKSUM: usize = UDP + 6;

/// A BOOTREQUEST header and cookie followed by `options`, with no end option added.
fn message(options: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0u8; 240];
    bytes[0] = 1;
    bytes[1] = 1;
    bytes[2] = 6;
    bytes[236..240].copy_from_slice(&MAGIC_COOKIE);
    bytes.extend_from_slice(options);
    bytes
}

/// Checks that the error's text names what went wrong and ends with where.
fn assert_display(error: &Error, words: &str) {
    let text = error.to_string();
    assert!(text.contains(words), "{text:?} lacks {words:?}");
    let at = format!("at offset {}", error.offset());
    assert!(text.ends_with(&at), "{text:?} does not end with {at:?}");
}

fn sample_packet() -> Packet {
    Packet {
        src_mac: MacAddr([2, 0, 0, 0, 0, 1]),
        dst_mac: MacAddr::BROADCAST,
        src_ip: Ipv4Addr::new(192, 0, 2, 1),
        dst_ip: Ipv4Addr::BROADCAST,
        src_port: 67,
        dst_port: 68,
        message: Message {
            op: charrua_wire::Op::BOOTREPLY,
            xid: 0x0bad_cafe,
            chaddr: HardwareAddress::ethernet([0, 1, 2, 3, 4, 5]),
            options: vec![
                DhcpOption::MessageType(MessageType::OFFER),
                DhcpOption::ServerIdentifier(Ipv4Addr::new(192, 0, 2, 1)),
            ],
            ..Message::default()
        },
    }
}

fn frame() -> Vec<u8> {
    sample_packet().to_frame()
}

trait ToFrame {
    fn to_frame(&self) -> Vec<u8>;
}

impl ToFrame for Packet {
    fn to_frame(&self) -> Vec<u8> {
        let mut buf = vec![0u8; self.emitted_len(&EmitOptions::default()).unwrap()];
        let n = self.emit(&mut buf, &EmitOptions::default()).unwrap();
        assert_eq!(n, buf.len());
        buf
    }
}

/// The Internet checksum (RFC 1071) of `bytes`.
fn internet_checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !u16::try_from(sum).unwrap()
}

fn be16(bytes: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([bytes[at], bytes[at + 1]])
}

fn put16(bytes: &mut [u8], at: usize, value: u16) {
    bytes[at..at + 2].copy_from_slice(&value.to_be_bytes());
}

/// Recomputes the IPv4 header checksum after a change to the header.
fn fix_ip_checksum(frame: &mut [u8]) {
    put16(frame, IP_CHECKSUM, 0);
    let sum = internet_checksum(&frame[IP..UDP]);
    put16(frame, IP_CHECKSUM, sum);
}

#[test]
fn sample_frame_is_valid() {
    let frame = frame();
    assert_eq!(Packet::parse(&frame).unwrap(), sample_packet());
    assert_eq!(internet_checksum(&frame[IP..UDP]), 0);
}

#[test]
fn rejects_truncated_bootp_header() {
    let bytes = message(&[]);
    let error = Message::parse(&bytes[..239]).unwrap_err();
    assert_eq!(
        error,
        Error::Truncated {
            what: "bootp header",
            offset: 0,
            needed: 240,
            available: 239
        }
    );
    assert_display(&error, "truncated bootp header");
    assert!(MessageView::new(&[]).is_err());
}

#[test]
fn rejects_hlen_17() {
    let mut bytes = message(&[255]);
    bytes[2] = 17;
    let error = Message::parse(&bytes).unwrap_err();
    assert_eq!(
        error,
        Error::HlenTooLong {
            hlen: 17,
            offset: 2
        }
    );
    assert_display(&error, "hlen too long: 17");
    bytes[2] = 16;
    assert_eq!(Message::parse(&bytes).unwrap().chaddr.len(), 16);
}

#[test]
fn rejects_bad_magic_cookie() {
    let mut bytes = message(&[255]);
    bytes[239] = 100;
    let error = Message::parse(&bytes).unwrap_err();
    assert_eq!(
        error,
        Error::BadMagicCookie {
            found: 0x6382_5364,
            offset: 236
        }
    );
    assert_display(&error, "bad magic cookie: 0x63825364");
}

#[test]
fn rejects_option_whose_length_byte_is_missing() {
    let error = Message::parse(&message(&[53, 1, 1, 3])).unwrap_err();
    assert_eq!(
        error,
        Error::OptionOverrun {
            code: OptionCode(3),
            offset: 243,
            len: None,
            remaining: 0
        }
    );
    assert_display(&error, "option 3 has no length byte");
}

#[test]
fn rejects_option_data_overrunning_the_options_field() {
    let error = Message::parse(&message(&[53, 1, 1, 3, 8, 192, 0, 2, 1])).unwrap_err();
    assert_eq!(
        error,
        Error::OptionOverrun {
            code: OptionCode(3),
            offset: 243,
            len: Some(8),
            remaining: 4
        }
    );
    assert_display(&error, "option 3 claims 8 bytes, 4 left");
}

#[test]
fn rejects_option_data_overrunning_file_when_overloaded() {
    let mut bytes = message(&[52, 1, 1, 255]);
    // The last 8 bytes of `file` (108..236): an option claiming 10 bytes, with 6 left.
    bytes[228..230].copy_from_slice(&[3, 10]);
    let error = Message::parse(&bytes).unwrap_err();
    assert_eq!(
        error,
        Error::OptionOverrun {
            code: OptionCode(3),
            offset: 228,
            len: Some(10),
            remaining: 6
        }
    );
    assert_display(&error, "option 3 claims 10 bytes, 6 left");
    // The same bytes are a file name when `file` is not overloaded.
    bytes[242] = 2;
    assert!(Message::parse(&bytes).is_ok());
}

#[test]
fn rejects_option_data_overrunning_sname_when_overloaded() {
    let mut bytes = message(&[52, 1, 2, 255]);
    bytes[104..106].copy_from_slice(&[12, 3]);
    let error = Message::parse(&bytes).unwrap_err();
    assert_eq!(
        error,
        Error::OptionOverrun {
            code: OptionCode(12),
            offset: 104,
            len: Some(3),
            remaining: 2
        }
    );
}

#[test]
fn rejects_fixed_size_option_of_bad_length() {
    let error = Message::parse(&message(&[53, 1, 1, 51, 3, 0, 0, 1, 255])).unwrap_err();
    assert_eq!(
        error,
        Error::BadOptionLength {
            code: OptionCode::LEASE_TIME,
            offset: 243,
            len: 3,
            expected: Expected::Exactly(4),
        }
    );
    assert_display(
        &error,
        "option 51 (dhcp-lease-time) has 3 bytes, expected exactly 4",
    );
}

#[test]
fn shows_each_expected_length() {
    assert_eq!(Expected::Exactly(4).to_string(), "exactly 4");
    assert_eq!(Expected::AtLeast(2).to_string(), "at least 2");
    assert_eq!(
        Expected::Multiple { min: 8, unit: 8 }.to_string(),
        "a multiple of 8, at least 8"
    );
}

#[test]
fn rejects_flag_of_two() {
    let error = Message::parse(&message(&[19, 1, 2, 255])).unwrap_err();
    assert_eq!(
        error,
        Error::BadOptionValue {
            code: OptionCode(19),
            offset: 240,
            reason: "flag is neither 0 nor 1"
        }
    );
    assert_display(&error, "option 19 (ip-forwarding): flag is neither 0 nor 1");
}

#[test]
fn rejects_overload_of_four() {
    let error = Message::parse(&message(&[53, 1, 1, 52, 1, 4, 255])).unwrap_err();
    assert_eq!(
        error,
        Error::BadOptionValue {
            code: OptionCode::OVERLOAD,
            offset: 243,
            reason: "overload is not 1, 2 or 3"
        }
    );
    assert_display(
        &error,
        "option 52 (dhcp-option-overload): overload is not 1, 2 or 3",
    );
    let bytes = message(&[53, 1, 1, 52, 1, 0, 255]);
    let view = MessageView::new(&bytes).unwrap();
    let raw: Vec<_> = view.raw_options().collect();
    assert_eq!(raw.len(), 2, "the iterator stops after an error");
    assert!(raw[0].is_ok() && raw[1].is_err());
}

#[test]
fn rejects_overload_of_two_bytes() {
    let error = Message::parse(&message(&[52, 2, 1, 1, 255])).unwrap_err();
    assert_eq!(
        error,
        Error::BadOptionLength {
            code: OptionCode::OVERLOAD,
            offset: 240,
            len: 2,
            expected: Expected::Exactly(1),
        }
    );
}

#[test]
fn rejects_overload_twice() {
    let error = Message::parse(&message(&[52, 1, 1, 52, 1, 1, 255])).unwrap_err();
    assert_eq!(
        error,
        Error::BadOptionValue {
            code: OptionCode::OVERLOAD,
            offset: 243,
            reason: "option overload appears twice"
        }
    );
    assert_display(&error, "appears twice");
}

#[test]
fn ignores_overload_inside_file() {
    let mut bytes = message(&[52, 1, 1, 255]);
    bytes[108..115].copy_from_slice(&[52, 1, 2, 12, 2, b'h', b'o']);
    bytes[115] = 255;
    bytes[44..48].copy_from_slice(b"name");
    let parsed = Message::parse(&bytes).unwrap();
    assert_eq!(parsed.options, vec![DhcpOption::HostName("ho".into())]);
    assert_eq!(parsed.sname.as_bytes(), b"name");
}

#[test]
fn rejects_compression_pointer_pointing_forward() {
    let error = Message::parse(&message(&[119, 4, 0xc0, 2, 0, 0, 255])).unwrap_err();
    assert_eq!(
        error,
        Error::BadOptionValue {
            code: OptionCode::DOMAIN_SEARCH,
            offset: 240,
            reason: "compression pointer does not point back"
        }
    );
    assert_display(
        &error,
        "option 119 (domain-search): compression pointer does not point back",
    );
}

#[test]
fn rejects_compression_pointer_pointing_to_itself() {
    let error = Message::parse(&message(&[119, 3, 0, 0xc0, 1, 255])).unwrap_err();
    assert!(
        matches!(error, Error::BadOptionValue { code: OptionCode(119), offset: 240, reason }
            if reason.contains("point back")),
        "{error:?}"
    );
}

#[test]
fn rejects_label_over_63() {
    let mut options = vec![119, 66, 64];
    options.extend_from_slice(&[b'a'; 64]);
    options.extend_from_slice(&[0, 255]);
    let error = Message::parse(&message(&options)).unwrap_err();
    assert_eq!(
        error,
        Error::BadOptionValue {
            code: OptionCode::DOMAIN_SEARCH,
            offset: 240,
            reason: "label longer than 63 bytes"
        }
    );
}

#[test]
fn rejects_classless_route_width_33() {
    let options = [
        &[53, 1, 5][..],
        &[121, 9, 33, 10, 0, 0, 0, 192, 0, 2, 1, 255],
    ]
    .concat();
    let error = Message::parse(&message(&options)).unwrap_err();
    assert_eq!(
        error,
        Error::BadOptionValue {
            code: OptionCode::CLASSLESS_STATIC_ROUTES,
            offset: 243,
            reason: "prefix length over 32"
        }
    );
    assert_display(
        &error,
        "option 121 (classless-static-routes): prefix length over 32",
    );
}

#[test]
fn accepts_a_message_without_an_end_option() {
    let parsed = Message::parse(&message(&[53, 1, 1, 12, 2, b'h', b'o'])).unwrap();
    assert_eq!(
        parsed.options,
        vec![
            DhcpOption::MessageType(MessageType::DISCOVER),
            DhcpOption::HostName("ho".into())
        ]
    );
    assert_eq!(Message::parse(&message(&[])).unwrap().options, vec![]);
}

#[test]
fn skips_pad_bytes() {
    let parsed = Message::parse(&message(&[0, 0, 53, 1, 1, 0, 0, 0, 12, 1, b'h', 0, 255])).unwrap();
    assert_eq!(
        parsed.options,
        vec![
            DhcpOption::MessageType(MessageType::DISCOVER),
            DhcpOption::HostName("h".into())
        ]
    );
    let bytes = message(&[0, 53, 1, 1, 0, 255]);
    let view = MessageView::new(&bytes).unwrap();
    let raw: Vec<_> = view.raw_options().map(Result::unwrap).collect();
    assert_eq!(raw.len(), 1);
    assert_eq!(raw[0].offset, 241);
}

#[test]
fn ignores_bytes_after_the_end_option() {
    let parsed = Message::parse(&message(&[53, 1, 1, 255, 3, 99, 0xde, 0xad])).unwrap();
    assert_eq!(
        parsed.options,
        vec![DhcpOption::MessageType(MessageType::DISCOVER)]
    );
}

#[test]
fn rejects_truncated_ethernet_header() {
    let error = parse_ethernet(&frame()[..13], Checksums::Verify).unwrap_err();
    assert_eq!(
        error,
        Error::Truncated {
            what: "ethernet header",
            offset: 0,
            needed: 14,
            available: 13
        }
    );
    assert_display(&error, "truncated ethernet header");
    assert_eq!(Packet::parse(&[]).unwrap_err().offset(), 0);
}

#[test]
fn rejects_truncated_vlan_tag() {
    let mut frame = frame()[..14].to_vec();
    put16(&mut frame, 12, 0x8100);
    let error = parse_ethernet(&frame, Checksums::Verify).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Truncated {
                what: "vlan tag",
                offset: 14,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn skips_vlan_tags() {
    let plain = frame();
    for tpids in [&[0x8100][..], &[0x88a8, 0x8100]] {
        let mut tagged = plain[..12].to_vec();
        for &tpid in tpids {
            tagged.extend_from_slice(&u16::to_be_bytes(tpid));
            tagged.extend_from_slice(&[0, 42]);
        }
        tagged.extend_from_slice(&plain[12..]);
        let datagram = parse_ethernet(&tagged, Checksums::Verify).unwrap();
        assert_eq!(datagram.payload_offset, HEADERS_LEN + 4 * tpids.len());
        assert_eq!(datagram.payload, &plain[HEADERS_LEN..]);
        assert_eq!(Packet::parse(&tagged).unwrap(), sample_packet());
    }
}

#[test]
fn rejects_arp_as_not_ipv4() {
    let mut frame = frame();
    put16(&mut frame, 12, 0x0806);
    let error = Packet::parse(&frame).unwrap_err();
    assert_eq!(
        error,
        Error::NotIpv4 {
            ethertype: 0x0806,
            offset: 12
        }
    );
    assert!(error.is_not_dhcp());
    assert_display(&error, "not ipv4: ethertype 0x0806");
}

#[test]
fn rejects_truncated_ipv4_header() {
    let frame = frame();
    let error = parse_ethernet(&frame[..IP + 19], Checksums::Verify).unwrap_err();
    assert_eq!(
        error,
        Error::Truncated {
            what: "ipv4 header",
            offset: IP,
            needed: 20,
            available: 19
        }
    );
    assert!(!error.is_not_dhcp());
}

#[test]
fn rejects_ip_version_6() {
    let mut frame = frame();
    frame[IP] = 0x65;
    let error = Packet::parse(&frame).unwrap_err();
    assert_eq!(
        error,
        Error::BadIpVersion {
            version: 6,
            offset: IP
        }
    );
    assert_display(&error, "bad ip version: 6");
}

#[test]
fn rejects_ihl_4() {
    let mut frame = frame();
    frame[IP] = 0x44;
    let error = Packet::parse(&frame).unwrap_err();
    assert_eq!(
        error,
        Error::BadIpHeaderLength {
            header_len: 16,
            offset: IP
        }
    );
    assert_display(&error, "bad ipv4 header length: 16 bytes");
}

#[test]
fn rejects_ihl_past_the_packet() {
    let frame = frame();
    let mut short = frame[..IP + 40].to_vec();
    short[IP] = 0x4f;
    let error = parse_ethernet(&short, Checksums::Verify).unwrap_err();
    assert_eq!(
        error,
        Error::BadIpHeaderLength {
            header_len: 60,
            offset: IP
        }
    );
}

#[test]
fn rejects_total_length_longer_than_the_packet() {
    let mut frame = frame();
    let available = frame.len() - IP;
    put16(
        &mut frame,
        IP_TOTAL_LEN,
        u16::try_from(available + 1).unwrap(),
    );
    let error = Packet::parse(&frame).unwrap_err();
    assert_eq!(
        error,
        Error::BadIpLength {
            total_len: available + 1,
            available,
            offset: IP
        }
    );
    assert_display(
        &error,
        &format!("bad ipv4 total length: {} with {available}", available + 1),
    );
}

#[test]
fn rejects_total_length_shorter_than_the_header() {
    let mut frame = frame();
    put16(&mut frame, IP_TOTAL_LEN, 19);
    let error = Packet::parse(&frame).unwrap_err();
    assert!(
        matches!(
            error,
            Error::BadIpLength {
                total_len: 19,
                offset: IP,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn ignores_ethernet_padding_after_the_ip_packet() {
    let mut frame = frame();
    frame.extend_from_slice(&[0; 20]);
    assert_eq!(Packet::parse(&frame).unwrap(), sample_packet());
}

#[test]
fn rejects_bad_ip_checksum() {
    let mut frame = frame();
    let good = be16(&frame, IP_CHECKSUM);
    put16(&mut frame, IP_CHECKSUM, good ^ 0x0101);
    let error = Packet::parse(&frame).unwrap_err();
    assert_eq!(
        error,
        Error::BadIpChecksum {
            found: good ^ 0x0101,
            expected: good,
            offset: IP_CHECKSUM
        }
    );
    assert_display(
        &error,
        &format!("bad ipv4 header checksum: {:#06x}", good ^ 0x0101),
    );
}

#[test]
fn names_the_checksum_a_changed_ip_header_should_carry() {
    let mut frame = frame();
    let stale = be16(&frame, IP_CHECKSUM);
    frame[IP + 8] = 1; // TTL
    let mut fixed = frame.clone();
    fix_ip_checksum(&mut fixed);
    let expected = be16(&fixed, IP_CHECKSUM);
    assert_eq!(
        Packet::parse(&frame).unwrap_err(),
        Error::BadIpChecksum {
            found: stale,
            expected,
            offset: IP_CHECKSUM
        }
    );
    assert!(Packet::parse(&fixed).is_ok());
}

#[test]
fn rejects_fragment() {
    for fragment in [0x2000, 0x0001, 0x2010] {
        let mut frame = frame();
        put16(&mut frame, IP_FRAGMENT, fragment);
        fix_ip_checksum(&mut frame);
        let error = Packet::parse(&frame).unwrap_err();
        assert_eq!(error, Error::Fragmented { offset: IP });
        assert!(error.is_not_dhcp());
        assert_display(&error, "ipv4 fragment");
    }
    // Don't-fragment alone is no fragment.
    let mut frame = frame();
    put16(&mut frame, IP_FRAGMENT, 0x4000);
    fix_ip_checksum(&mut frame);
    assert!(Packet::parse(&frame).is_ok());
}

#[test]
fn rejects_tcp_as_not_udp() {
    let mut frame = frame();
    frame[IP_PROTOCOL] = 6;
    fix_ip_checksum(&mut frame);
    let error = Packet::parse(&frame).unwrap_err();
    assert_eq!(
        error,
        Error::NotUdp {
            protocol: 6,
            offset: IP
        }
    );
    assert!(error.is_not_dhcp());
    assert_display(&error, "not udp: ip protocol 6");
}

#[test]
fn rejects_truncated_udp_header() {
    let mut frame = frame();
    put16(&mut frame, IP_TOTAL_LEN, 24);
    fix_ip_checksum(&mut frame);
    let error = Packet::parse(&frame).unwrap_err();
    assert_eq!(
        error,
        Error::Truncated {
            what: "udp header",
            offset: UDP,
            needed: 8,
            available: 4
        }
    );
}

#[test]
fn rejects_udp_length_under_8() {
    let mut frame = frame();
    put16(&mut frame, UDP_LEN, 7);
    let error = Packet::parse(&frame).unwrap_err();
    let available = frame.len() - UDP;
    assert_eq!(
        error,
        Error::BadUdpLength {
            udp_len: 7,
            available,
            offset: UDP
        }
    );
    assert_display(&error, &format!("bad udp length: 7 with {available} bytes"));
}

#[test]
fn rejects_udp_length_over_the_ip_payload() {
    let mut frame = frame();
    let available = frame.len() - UDP;
    put16(&mut frame, UDP_LEN, u16::try_from(available + 1).unwrap());
    let error = Packet::parse(&frame).unwrap_err();
    assert_eq!(
        error,
        Error::BadUdpLength {
            udp_len: available + 1,
            available,
            offset: UDP
        }
    );
}

#[test]
fn rejects_bad_udp_checksum() {
    let mut frame = frame();
    let good = be16(&frame, UDP_CHECKSUM);
    put16(&mut frame, UDP_CHECKSUM, good ^ 0x8000);
    let error = Packet::parse(&frame).unwrap_err();
    assert_eq!(
        error,
        Error::BadUdpChecksum {
            found: good ^ 0x8000,
            expected: good,
            offset: UDP_CHECKSUM
        }
    );
    assert_display(&error, &format!("bad udp checksum: {:#06x}", good ^ 0x8000));
    // A changed payload byte is caught too.
    let mut frame = self::frame();
    frame[HEADERS_LEN + 4] ^= 1;
    assert!(matches!(
        Packet::parse(&frame),
        Err(Error::BadUdpChecksum { .. })
    ));
}

#[test]
fn accepts_zero_udp_checksum_as_none() {
    let mut frame = frame();
    put16(&mut frame, UDP_CHECKSUM, 0);
    assert_eq!(Packet::parse(&frame).unwrap(), sample_packet());
}

#[test]
fn ignore_accepts_bad_checksums() {
    let mut frame = frame();
    frame[IP_CHECKSUM] ^= 0xff;
    frame[UDP_CHECKSUM] ^= 0xff;
    assert!(matches!(
        parse_ethernet(&frame, Checksums::Verify),
        Err(Error::BadIpChecksum { .. })
    ));
    let datagram = parse_ethernet(&frame, Checksums::Ignore).unwrap();
    assert_eq!(datagram.payload, &frame[HEADERS_LEN..]);
    assert_eq!(
        Message::parse(datagram.payload).unwrap(),
        sample_packet().message
    );
    let datagram = parse_ipv4(&frame[IP..], Checksums::Ignore).unwrap();
    assert_eq!(datagram.payload_offset, HEADERS_LEN - IP);
    assert_eq!((datagram.src_port, datagram.dst_port), (67, 68));
}

#[test]
fn reads_datagram_fields() {
    let frame = frame();
    let datagram = parse_ethernet(&frame, Checksums::Verify).unwrap();
    assert_eq!(datagram.src_mac, Some(MacAddr([2, 0, 0, 0, 0, 1])));
    assert_eq!(datagram.dst_mac, Some(MacAddr::BROADCAST));
    assert_eq!(datagram.src_ip, Ipv4Addr::new(192, 0, 2, 1));
    assert_eq!(datagram.dst_ip, Ipv4Addr::BROADCAST);
    assert_eq!(datagram.ttl, 64);
    assert_eq!(datagram.payload_offset, HEADERS_LEN);
    let datagram = parse_ipv4(&frame[IP..], Checksums::Verify).unwrap();
    assert_eq!((datagram.src_mac, datagram.dst_mac), (None, None));
}

#[test]
fn shifts_message_errors_to_frame_offsets() {
    let mut packet = sample_packet();
    packet.message.options.push(DhcpOption::Other {
        code: OptionCode(1),
        data: vec![1, 2],
    });
    let frame = packet.to_frame();
    let error = Packet::parse(&frame).unwrap_err();
    // Message type (3 bytes) and server identifier (6) come first.
    assert_eq!(
        error,
        Error::BadOptionLength {
            code: OptionCode::SUBNET_MASK,
            offset: HEADERS_LEN + 249,
            len: 2,
            expected: Expected::Exactly(4),
        }
    );
    assert_display(&error, &format!("at offset {}", HEADERS_LEN + 249));
}
