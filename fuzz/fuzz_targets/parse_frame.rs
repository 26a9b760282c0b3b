//! Frames: Ethernet and bare IPv4 parsing, with and without checksum verification, then the
//! message inside. Nothing may panic, every error must point inside the input, and a frame
//! that parses must emit and parse back to the same packet.
#![no_main]

use std::fmt::Write as _;

use charrua_wire::{
    Checksums, Datagram, EmitOptions, Error, Message, Packet, parse_ethernet, parse_ipv4,
};
use libfuzzer_sys::fuzz_target;

fn check_error(error: &Error, len: usize, out: &mut String) {
    assert!(error.offset() <= len, "{error:?} points past {len} bytes");
    let _ = write!(out, "{error} {error:?} {}", error.is_not_dhcp());
}

fn check_datagram(data: &[u8], datagram: &Datagram<'_>, out: &mut String) {
    let start = datagram.payload_offset;
    let end = start + datagram.payload.len();
    assert!(end <= data.len(), "payload runs past the frame");
    assert_eq!(
        &data[start..end],
        datagram.payload,
        "payload_offset is wrong"
    );
    let _ = write!(out, "{datagram:?}");
    match Message::parse(datagram.payload) {
        Ok(message) => {
            let _ = write!(out, "{message}{message:#}{message:?}");
        }
        Err(error) => check_error(&error, datagram.payload.len(), out),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut out = String::new();
    for checksums in [Checksums::Verify, Checksums::Ignore] {
        for parsed in [parse_ethernet(data, checksums), parse_ipv4(data, checksums)] {
            match parsed {
                Ok(datagram) => check_datagram(data, &datagram, &mut out),
                Err(error) => check_error(&error, data.len(), &mut out),
            }
        }
    }

    let packet = match Packet::parse(data) {
        Ok(packet) => packet,
        Err(error) => {
            check_error(&error, data.len(), &mut out);
            return;
        }
    };
    let _ = write!(out, "{}{:?}", packet.message, packet);
    // A packet that parsed, emitted again, verifies and decodes to the same packet.
    let settings = EmitOptions::default();
    let len = packet
        .emitted_len(&settings)
        .expect("a parsed packet has an emitted length");
    let mut buf = vec![0u8; len];
    let written = packet
        .emit(&mut buf, &settings)
        .expect("a parsed packet emits");
    assert_eq!(written, len);
    let back = Packet::parse(&buf).expect("an emitted packet parses");
    assert_eq!(back, packet);
});
