//! Emission: long options split into instances, option overload only when needed and
//! allowed, `min_len` and `max_len`, exact lengths, and errors that leave the buffer alone.

use charrua_wire::{
    DhcpOption, EmitError, EmitOptions, Flags, HEADER_LEN, HEADERS_LEN, HardwareAddress,
    HardwareType, MAGIC_COOKIE, MacAddr, Message, MessageType, MessageView, Op, OptionCode, Packet,
    Text,
};
use std::net::Ipv4Addr;

const SNAME: std::ops::Range<usize> = 44..108;
const FILE: std::ops::Range<usize> = 108..236;

fn discover(extra: Vec<DhcpOption>) -> Message {
    let mut options = vec![DhcpOption::MessageType(MessageType::DISCOVER)];
    options.extend(extra);
    Message {
        xid: 0x1234_5678,
        chaddr: HardwareAddress::ethernet([2, 0, 0, 0, 0, 9]),
        options,
        ..Message::default()
    }
}

fn other(code: u8, len: usize) -> DhcpOption {
    DhcpOption::Other {
        code: OptionCode(code),
        data: (0..len).map(|i| u8::try_from(i % 251).unwrap()).collect(),
    }
}

fn with_max(max_len: usize, overload: bool) -> EmitOptions {
    EmitOptions {
        max_len: Some(max_len),
        overload,
        min_len: 0,
    }
}

/// (offset, length) of every instance of `code`.
fn instances(bytes: &[u8], code: u8) -> Vec<(usize, usize)> {
    MessageView::new(bytes)
        .unwrap()
        .raw_options()
        .map(Result::unwrap)
        .filter(|o| o.code == OptionCode(code))
        .map(|o| (o.offset, o.data.len()))
        .collect()
}

/// The value of the overload option, if the message has one.
fn overload(bytes: &[u8]) -> Option<u8> {
    MessageView::new(bytes)
        .unwrap()
        .raw_options()
        .map(Result::unwrap)
        .find(|o| o.code == OptionCode::OVERLOAD)
        .map(|o| o.data[0])
}

/// Emits with `settings`, checks `emitted_len`, the limit and the round trip, and returns
/// the bytes.
fn emit(message: &Message, settings: &EmitOptions) -> Vec<u8> {
    let bytes = message.to_bytes(settings).unwrap();
    assert_eq!(message.emitted_len(settings), Ok(bytes.len()));
    if let Some(max) = settings.max_len {
        assert!(bytes.len() <= max, "{} bytes over {max}", bytes.len());
    }
    assert_eq!(&Message::parse(&bytes).unwrap(), message);
    bytes
}

#[test]
fn splits_a_600_byte_option_into_255_255_90() {
    let message = discover(vec![other(224, 600)]);
    let bytes = emit(&message, &EmitOptions::default());
    assert_eq!(
        instances(&bytes, 224),
        vec![(243, 255), (500, 255), (757, 90)]
    );
    assert_eq!(bytes[849], 255);
    assert_eq!(bytes.len(), 850);
}

#[test]
fn splits_typed_options_too() {
    let routers: Vec<Ipv4Addr> = (0..100).map(|i| Ipv4Addr::new(10, 0, 0, i)).collect();
    let message = discover(vec![DhcpOption::Routers(routers)]);
    let bytes = emit(&message, &EmitOptions::default());
    assert_eq!(instances(&bytes, 3), vec![(243, 255), (500, 145)]);
}

#[test]
fn emits_an_option_of_exactly_255_bytes_as_one_instance() {
    let bytes = emit(&discover(vec![other(224, 255)]), &EmitOptions::default());
    assert_eq!(instances(&bytes, 224), vec![(243, 255)]);
    let bytes = emit(&discover(vec![other(224, 256)]), &EmitOptions::default());
    assert_eq!(instances(&bytes, 224), vec![(243, 255), (500, 1)]);
}

#[test]
fn emits_an_empty_option_as_code_and_zero_length() {
    let bytes = emit(&discover(vec![other(224, 0)]), &EmitOptions::default());
    assert_eq!(bytes[243..246], [224, 0, 255]);
}

#[test]
fn writes_the_fixed_fields_in_place() {
    let message = Message {
        op: Op::BOOTREPLY,
        htype: HardwareType(6),
        hops: 3,
        xid: 0x0102_0304,
        secs: 0x0506,
        flags: Flags::BROADCAST,
        ciaddr: Ipv4Addr::new(1, 1, 1, 1),
        yiaddr: Ipv4Addr::new(2, 2, 2, 2),
        siaddr: Ipv4Addr::new(3, 3, 3, 3),
        giaddr: Ipv4Addr::new(4, 4, 4, 4),
        chaddr: HardwareAddress::new(&[9; 10]).unwrap(),
        sname: Text::from("server"),
        file: Text::from("boot/file"),
        options: vec![],
    };
    let bytes = emit(&message, &EmitOptions::default());
    assert_eq!(bytes[..12], [2, 6, 10, 3, 1, 2, 3, 4, 5, 6, 0x80, 0]);
    assert_eq!(
        bytes[12..28],
        [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4]
    );
    assert_eq!(bytes[28..38], [9; 10]);
    assert_eq!(bytes[38..44], [0; 6]);
    assert_eq!(&bytes[44..50], b"server");
    assert!(bytes[50..108].iter().all(|&b| b == 0));
    assert_eq!(&bytes[108..117], b"boot/file");
    assert!(bytes[117..236].iter().all(|&b| b == 0));
    assert_eq!(bytes[236..240], MAGIC_COOKIE);
    assert_eq!(bytes[240..], [255]);
}

#[test]
fn does_not_overload_without_max_len() {
    let bytes = emit(&discover(vec![other(224, 2000)]), &EmitOptions::default());
    assert_eq!(overload(&bytes), None);
    assert!(bytes[SNAME].iter().chain(&bytes[FILE]).all(|&b| b == 0));
}

#[test]
fn does_not_overload_when_the_options_fit() {
    // 335 bytes of options field before the end option at 575: 3 + 2 + 255 + 2 + 73.
    let bytes = emit(&discover(vec![other(224, 328)]), &with_max(576, true));
    assert_eq!(overload(&bytes), None);
    assert_eq!(bytes.len(), 576);
}

#[test]
fn overloads_into_file_when_the_options_exceed_max_len() {
    let message = discover(vec![other(224, 340)]);
    let bytes = emit(&message, &with_max(576, true));
    assert_eq!(overload(&bytes), Some(1));
    assert_eq!(bytes[240..243], [52, 1, 1]);
    // 255 and 70 bytes in the options field, the last 15 at the start of file.
    assert_eq!(
        instances(&bytes, 224),
        vec![(246, 255), (503, 70), (108, 15)]
    );
    assert_eq!(bytes[125], 255, "end option after the options in file");
    assert!(bytes[SNAME].iter().all(|&b| b == 0));
    assert_eq!(bytes.len(), 576);
}

#[test]
fn overloads_into_file_then_sname() {
    let message = discover(vec![other(224, 500)]);
    let bytes = emit(&message, &with_max(576, true));
    assert_eq!(overload(&bytes), Some(3));
    assert_eq!(
        instances(&bytes, 224),
        vec![(246, 255), (503, 70), (108, 125), (44, 50)]
    );
    assert_eq!(bytes[235], 255);
    assert_eq!(bytes[96], 255);
}

#[test]
fn overloads_only_sname_when_file_is_set() {
    let mut message = discover(vec![other(224, 340)]);
    message.file = Text::from("pxelinux.0");
    let bytes = emit(&message, &with_max(576, true));
    assert_eq!(overload(&bytes), Some(2));
    assert_eq!(
        instances(&bytes, 224),
        vec![(246, 255), (503, 70), (44, 15)]
    );
    assert_eq!(&bytes[108..118], b"pxelinux.0");
}

#[test]
fn overloads_only_file_when_sname_is_set() {
    let mut message = discover(vec![other(224, 340)]);
    message.sname = Text::from("tftp.example");
    let bytes = emit(&message, &with_max(576, true));
    assert_eq!(overload(&bytes), Some(1));
    assert_eq!(&bytes[44..56], b"tftp.example");
    // File alone holds 125 bytes of data; 175 do not fit.
    message.options[1] = other(224, 500);
    assert!(matches!(
        message.to_bytes(&with_max(576, true)),
        Err(EmitError::TooLarge { limit: 576, .. })
    ));
}

#[test]
fn refuses_overload_when_both_fields_carry_names() {
    let mut message = discover(vec![other(224, 340)]);
    message.sname = Text::from("server");
    message.file = Text::from("file");
    let error = message.to_bytes(&with_max(576, true)).unwrap_err();
    assert_eq!(
        error,
        EmitError::TooLarge {
            needed: 588,
            limit: 576
        }
    );
    assert_eq!(message.emitted_len(&with_max(576, true)), Err(error));
}

#[test]
fn refuses_overload_when_not_allowed() {
    let message = discover(vec![other(224, 340)]);
    let error = message.to_bytes(&with_max(576, false)).unwrap_err();
    assert_eq!(
        error,
        EmitError::TooLarge {
            needed: 588,
            limit: 576
        }
    );
    assert_eq!(
        error.to_string(),
        "message too large: needs 588 bytes, limit is 576"
    );
}

#[test]
fn refuses_what_overload_cannot_hold_either() {
    let message = discover(vec![other(224, 1000)]);
    assert!(matches!(
        message.to_bytes(&with_max(576, true)),
        Err(EmitError::TooLarge { limit: 576, .. })
    ));
}

#[test]
fn refuses_max_len_below_the_header() {
    let message = discover(vec![]);
    assert_eq!(
        message.emitted_len(&with_max(240, true)),
        Err(EmitError::TooLarge {
            needed: 241,
            limit: 240
        })
    );
    assert_eq!(emit(&Message::default(), &with_max(241, true)).len(), 241);
}

#[test]
fn never_exceeds_max_len() {
    for max_len in (241..=260).chain((300..=700).step_by(7)) {
        for len in [0, 1, 5, 60, 100, 200, 254, 255, 256, 300, 400, 500, 600] {
            for (sname, file) in [("", ""), ("s", ""), ("", "f"), ("s", "f")] {
                let mut message = discover(vec![other(224, len), other(225, len / 3)]);
                message.sname = Text::from(sname);
                message.file = Text::from(file);
                for overload in [false, true] {
                    for min_len in [0, 300, 1000] {
                        let settings = EmitOptions {
                            max_len: Some(max_len),
                            overload,
                            min_len,
                        };
                        match message.to_bytes(&settings) {
                            Ok(bytes) => {
                                assert!(bytes.len() <= max_len, "{max_len} {len} {settings:?}");
                                assert!(bytes.len() >= min_len.min(max_len));
                                assert_eq!(Message::parse(&bytes).unwrap(), message);
                            }
                            Err(EmitError::TooLarge { limit, .. }) => assert_eq!(limit, max_len),
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn refuses_overload_with_no_room_for_the_overload_option() {
    // With max_len 243 the options field has three bytes: no room for the overload option
    // and an end option, so nothing may go to file.
    let message = discover(vec![]);
    for max_len in 241..=243 {
        match message.to_bytes(&with_max(max_len, true)) {
            Ok(bytes) => panic!("{} bytes for max_len {max_len}", bytes.len()),
            Err(error) => assert!(matches!(error, EmitError::TooLarge { .. }), "{error}"),
        }
    }
    // With 244 there is: the overload option, the end option, and everything in file.
    let message = discover(vec![DhcpOption::HostName(Text::from("h"))]);
    let bytes = emit(&message, &with_max(244, true));
    assert_eq!(bytes[240..], [52, 1, 1, 255]);
    assert_eq!(instances(&bytes, 53), vec![(108, 1)]);
    assert_eq!(instances(&bytes, 12), vec![(111, 1)]);
}

#[test]
fn pads_with_zeros_to_min_len() {
    let message = discover(vec![]);
    let settings = EmitOptions {
        min_len: 300,
        ..EmitOptions::default()
    };
    let bytes = emit(&message, &settings);
    assert_eq!(bytes.len(), 300);
    assert_eq!(bytes[240..244], [53, 1, 1, 255]);
    assert!(bytes[244..].iter().all(|&b| b == 0));
    // A message already longer is left as it is.
    let long = discover(vec![other(224, 100)]);
    assert_eq!(emit(&long, &settings).len(), 346);
}

#[test]
fn emitted_len_equals_the_bytes_emit_writes() {
    let settings = [
        EmitOptions::default(),
        EmitOptions {
            min_len: 300,
            ..EmitOptions::default()
        },
        with_max(576, true),
        with_max(1500, false),
    ];
    for len in [0, 1, 100, 300, 340, 500, 2000] {
        let message = discover(vec![other(224, len)]);
        for s in &settings {
            let Ok(expected) = message.emitted_len(s) else {
                continue;
            };
            let mut buf = vec![0xaa; expected + 50];
            assert_eq!(message.emit(&mut buf, s), Ok(expected));
            assert!(
                buf[expected..].iter().all(|&b| b == 0xaa),
                "wrote past the length"
            );
            let mut exact = vec![0; expected];
            assert_eq!(message.emit(&mut exact, s), Ok(expected));
            assert_eq!(exact, buf[..expected]);
        }
    }
}

#[test]
fn emit_into_a_short_buffer_is_buffer_too_small_and_writes_nothing() {
    let message = discover(vec![other(224, 100)]);
    let settings = EmitOptions::default();
    let needed = message.emitted_len(&settings).unwrap();
    let mut buf = vec![0xaa; needed - 1];
    assert_eq!(
        message.emit(&mut buf, &settings),
        Err(EmitError::BufferTooSmall {
            needed,
            available: needed - 1
        })
    );
    assert!(buf.iter().all(|&b| b == 0xaa));
    assert_eq!(
        EmitError::BufferTooSmall {
            needed,
            available: 10
        }
        .to_string(),
        format!("buffer too small: needs {needed} bytes, 10 given")
    );
}

#[test]
fn packet_emit_into_a_short_buffer_is_buffer_too_small_and_writes_nothing() {
    let packet = sample_packet(discover(vec![]));
    let settings = EmitOptions::default();
    let needed = packet.emitted_len(&settings).unwrap();
    assert_eq!(needed, HEADERS_LEN + 244);
    let mut buf = vec![0xaa; needed - 1];
    assert_eq!(
        packet.emit(&mut buf, &settings),
        Err(EmitError::BufferTooSmall {
            needed,
            available: needed - 1
        })
    );
    assert!(buf.iter().all(|&b| b == 0xaa));
}

#[test]
fn rejects_a_65_byte_sname() {
    let mut message = discover(vec![]);
    message.sname = Text::new(vec![b's'; 65]);
    let error = message.emitted_len(&EmitOptions::default()).unwrap_err();
    assert_eq!(
        error,
        EmitError::FieldTooLong {
            field: "sname",
            len: 65,
            capacity: 64
        }
    );
    assert_eq!(
        error.to_string(),
        "field too long: sname has 65 bytes, holds 64"
    );
    let mut buf = [0xaa; 600];
    assert_eq!(message.emit(&mut buf, &EmitOptions::default()), Err(error));
    assert!(buf.iter().all(|&b| b == 0xaa));
    message.sname = Text::new(vec![b's'; 64]);
    emit(&message, &EmitOptions::default());
}

#[test]
fn rejects_a_129_byte_file() {
    let mut message = discover(vec![]);
    message.file = Text::new(vec![b'f'; 129]);
    assert_eq!(
        message.to_bytes(&EmitOptions::default()),
        Err(EmitError::FieldTooLong {
            field: "file",
            len: 129,
            capacity: 128
        })
    );
    message.file = Text::new(vec![b'f'; 128]);
    emit(&message, &EmitOptions::default());
}

#[test]
fn leaves_out_other_with_structural_codes() {
    let message = discover(vec![
        DhcpOption::Other {
            code: OptionCode::PAD,
            data: vec![1, 2],
        },
        DhcpOption::Other {
            code: OptionCode::OVERLOAD,
            data: vec![3],
        },
        other(224, 2),
        DhcpOption::Other {
            code: OptionCode::END,
            data: vec![],
        },
    ]);
    let bytes = message.to_bytes(&EmitOptions::default()).unwrap();
    assert_eq!(bytes[240..], [53, 1, 1, 224, 2, 0, 1, 255]);
    assert_eq!(
        message.emitted_len(&EmitOptions::default()),
        Ok(bytes.len())
    );
    assert_eq!(
        Message::parse(&bytes).unwrap().options,
        vec![message.options[0].clone(), other(224, 2)]
    );
}

fn sample_packet(message: Message) -> Packet {
    Packet {
        src_mac: MacAddr([2, 0, 0, 0, 0, 1]),
        dst_mac: MacAddr([2, 0, 0, 0, 0, 2]),
        src_ip: Ipv4Addr::new(192, 0, 2, 1),
        dst_ip: Ipv4Addr::new(192, 0, 2, 10),
        src_port: 67,
        dst_port: 68,
        message,
    }
}

#[test]
fn writes_ethernet_ipv4_and_udp_headers() {
    let packet = sample_packet(discover(vec![other(224, 11)]));
    let mut buf = [0u8; 1500];
    let n = packet.emit(&mut buf, &EmitOptions::default()).unwrap();
    let frame = &buf[..n];
    assert_eq!(n, HEADERS_LEN + HEADER_LEN + 3 + 13 + 1);
    assert_eq!(frame[..6], [2, 0, 0, 0, 0, 2]);
    assert_eq!(frame[6..12], [2, 0, 0, 0, 0, 1]);
    assert_eq!(frame[12..14], [0x08, 0x00]);
    let ip = &frame[14..34];
    assert_eq!(ip[0], 0x45);
    assert_eq!(usize::from(u16::from_be_bytes([ip[2], ip[3]])), n - 14);
    assert_eq!(ip[6] & 0x3f, 0, "not a fragment");
    assert_eq!(ip[8], 64);
    assert_eq!(ip[9], 17);
    assert_eq!(ip[12..20], [192, 0, 2, 1, 192, 0, 2, 10]);
    let udp = &frame[34..42];
    assert_eq!(udp[..4], [0, 67, 0, 68]);
    assert_eq!(usize::from(u16::from_be_bytes([udp[4], udp[5]])), n - 34);
    assert_ne!(udp[6..8], [0, 0], "checksum present");
    assert_eq!(
        &frame[HEADERS_LEN..],
        &packet.message.to_bytes(&EmitOptions::default()).unwrap()
    );
    assert_eq!(Packet::parse(frame).unwrap(), packet);
}

#[test]
fn packet_over_the_ipv4_limit_is_too_large_and_writes_nothing() {
    // 254 options of 300 bytes: about 78 000 bytes, past IPv4's 65 535.
    let options = (1..=254)
        .filter(|&c| c != 52)
        .map(|c| other(c, 300))
        .collect();
    let packet = sample_packet(Message {
        options,
        ..Message::default()
    });
    let settings = EmitOptions::default();
    let message_len = packet.message.emitted_len(&settings).unwrap();
    assert!(message_len > 65_535);
    let error = packet.emitted_len(&settings).unwrap_err();
    assert!(matches!(error, EmitError::TooLarge { .. }), "{error}");
    let mut buf = vec![0xaa; HEADERS_LEN + message_len];
    assert_eq!(packet.emit(&mut buf, &settings), Err(error));
    assert!(buf.iter().all(|&b| b == 0xaa));
}

#[test]
fn packet_at_the_ipv4_limit_is_emitted() {
    // The IPv4 total length counts the IPv4 and UDP headers and the message: 65 535 at most.
    let base = Message {
        options: vec![other(224, 0)],
        ..Message::default()
    };
    let base_len = base.emitted_len(&EmitOptions::default()).unwrap();
    let data_len = 65_535 - 28 - base_len;
    // Every 255 bytes of data take another two bytes of code and length.
    let data_len = data_len - 2 * data_len.div_ceil(257);
    let message = Message {
        options: vec![other(224, data_len)],
        ..Message::default()
    };
    let message_len = message.emitted_len(&EmitOptions::default()).unwrap();
    assert!(
        message_len + 28 <= 65_535 && message_len + 28 > 65_530,
        "{message_len}"
    );
    let packet = sample_packet(message);
    let mut buf = vec![0; 70_000];
    let n = packet.emit(&mut buf, &EmitOptions::default()).unwrap();
    assert_eq!(n, HEADERS_LEN + message_len);
    assert_eq!(Packet::parse(&buf[..n]).unwrap(), packet);
}
