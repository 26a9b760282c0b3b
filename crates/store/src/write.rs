//! Writing `dhcpd.leases` records that ISC dhcpd 4.4 and the tools around it read back.
//!
//! Records are formatted by hand into a byte buffer (digits, dates and hex without
//! `core::fmt`), since compaction writes a million of them at a time. Everything written is
//! ASCII: bytes outside printable ASCII in strings become octal escapes.

use charrua_server::leases::{INFINITE, Lease, LeaseState, Time};
use charrua_wire::HardwareType;

use crate::time::civil;

/// Years past this are written as `epoch N`, which every ISC 4.x reader takes.
const LAST_CALENDAR_YEAR: i64 = 9999;

/// Appends the header that opens a lease file: a comment and `authoring-byte-order`.
pub fn write_header(out: &mut Vec<u8>) {
    out.extend_from_slice(b"# Lease journal in the format of dhcpd.leases(5).\n");
    out.extend_from_slice(
        b"# Records are appended; the last record of an address is the one in force.\n\n",
    );
    if cfg!(target_endian = "big") {
        out.extend_from_slice(b"authoring-byte-order big-endian;\n\n");
    } else {
        out.extend_from_slice(b"authoring-byte-order little-endian;\n\n");
    }
}

/// The `binding state` name of a durable state; `None` for an offer, which is never
/// written.
fn state_name(state: LeaseState) -> Option<&'static [u8]> {
    match state {
        LeaseState::Offered => None,
        LeaseState::Active => Some(b"active"),
        LeaseState::Released => Some(b"released"),
        LeaseState::Expired => Some(b"expired"),
        LeaseState::Abandoned => Some(b"abandoned"),
        LeaseState::Free => Some(b"free"),
    }
}

/// The name ISC dhcpd gives a hardware type, for the types it reads.
fn hardware_name(htype: HardwareType) -> Option<&'static [u8]> {
    match htype.0 {
        1 => Some(b"ethernet"),
        6 => Some(b"token-ring"),
        8 => Some(b"fddi"),
        32 => Some(b"infiniband"),
        _ => None,
    }
}

/// Appends one lease record; returns false (and writes nothing) for an offered lease, which
/// is not durable.
///
/// A hardware address of a type ISC dhcpd does not name (other than Ethernet, token ring,
/// FDDI and InfiniBand) is left out of the record.
pub fn write_lease(out: &mut Vec<u8>, lease: &Lease) -> bool {
    let Some(state) = state_name(lease.state) else {
        return false;
    };
    out.extend_from_slice(b"lease ");
    for (i, octet) in lease.address.octets().into_iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        put_decimal(out, u64::from(octet));
    }
    out.extend_from_slice(b" {\n");
    write_time(out, b"starts", lease.starts);
    write_time(out, b"ends", lease.ends);
    write_time(out, b"cltt", lease.cltt);
    out.extend_from_slice(b"  binding state ");
    out.extend_from_slice(state);
    out.extend_from_slice(b";\n");
    if lease.state == LeaseState::Active {
        out.extend_from_slice(b"  next binding state free;\n");
    }
    out.extend_from_slice(b"  rewind binding state free;\n");
    if let Some((htype, address)) = &lease.hardware {
        if let Some(name) = hardware_name(*htype) {
            out.extend_from_slice(b"  hardware ");
            out.extend_from_slice(name);
            for (i, &b) in address.as_bytes().iter().enumerate() {
                out.push(if i == 0 { b' ' } else { b':' });
                out.extend_from_slice(&hex_pair(b));
            }
            out.extend_from_slice(b";\n");
        }
    }
    if let Some(id) = &lease.client_id {
        out.extend_from_slice(b"  uid ");
        write_string(out, id);
        out.extend_from_slice(b";\n");
    }
    if let Some(name) = &lease.hostname {
        out.extend_from_slice(b"  client-hostname ");
        write_string(out, name.as_bytes());
        out.extend_from_slice(b";\n");
    }
    out.extend_from_slice(b"}\n");
    true
}

/// A whole lease file: the header, then a record for each lease that is not an offer.
pub fn write<'a>(leases: impl IntoIterator<Item = &'a Lease>) -> String {
    let mut out = Vec::new();
    write_header(&mut out);
    for lease in leases {
        write_lease(&mut out, lease);
    }
    // Every byte written is ASCII (see `write_string`), so the conversion never fails.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// `  NAME W YYYY/MM/DD HH:MM:SS;` in UTC, `  NAME never;`, or `  NAME epoch N;` for times
/// past the year 9999.
fn write_time(out: &mut Vec<u8>, name: &[u8], t: Time) {
    out.extend_from_slice(b"  ");
    out.extend_from_slice(name);
    if t == INFINITE {
        out.extend_from_slice(b" never;\n");
        return;
    }
    let calendar = civil(t)
        .filter(|c| c.year <= LAST_CALENDAR_YEAR)
        .and_then(|c| Some((c, u64::try_from(c.year).ok()?)));
    match calendar {
        Some((c, year)) => {
            let [y0, y1, y2, y3] = four_digits(year);
            let [mo0, mo1] = two_digits(c.month.unsigned_abs());
            let [d0, d1] = two_digits(c.day.unsigned_abs());
            let [h0, h1] = two_digits(c.hour);
            let [mi0, mi1] = two_digits(c.minute);
            let [s0, s1] = two_digits(c.second);
            let weekday = digit(c.weekday);
            out.extend_from_slice(&[
                b' ', weekday, b' ', y0, y1, y2, y3, b'/', mo0, mo1, b'/', d0, d1, b' ', h0, h1,
                b':', mi0, mi1, b':', s0, s1, b';', b'\n',
            ]);
        }
        None => {
            out.extend_from_slice(b" epoch ");
            put_decimal(out, t);
            out.extend_from_slice(b";\n");
        }
    }
}

/// The ASCII digit of `n`, which is below 10.
fn digit(n: u64) -> u8 {
    b"0123456789"[usize::from(u8::try_from(n % 10).unwrap_or(0))]
}

/// `n % 100` as two digits, as `{:02}` writes a number below 100.
fn two_digits(n: u64) -> [u8; 2] {
    [digit(n / 10), digit(n)]
}

/// `n % 10000` as four digits, as `{:04}` writes a number below 10,000.
fn four_digits(n: u64) -> [u8; 4] {
    [digit(n / 1000), digit(n / 100), digit(n / 10), digit(n)]
}

/// `n` in decimal, without padding.
fn put_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut buffer = [0u8; 20];
    let mut start = buffer.len();
    loop {
        start -= 1;
        buffer[start] = digit(n);
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buffer[start..]);
}

/// A byte as two lowercase hex digits.
fn hex_pair(b: u8) -> [u8; 2] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    [HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]
}

/// True for the bytes a quoted string holds as they are: printable ASCII but `"` and `\`.
fn is_plain(b: u8) -> bool {
    matches!(b, b' '..=b'~') && b != b'"' && b != b'\\'
}

/// A quoted string: printable ASCII as it is, `"` and `\` after a backslash, and every other
/// byte as a three-digit octal escape.
fn write_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    let mut rest = bytes;
    while !rest.is_empty() {
        let plain = rest
            .iter()
            .position(|&b| !is_plain(b))
            .unwrap_or(rest.len());
        out.extend_from_slice(&rest[..plain]);
        let Some((&b, tail)) = rest[plain..].split_first() else {
            break;
        };
        if b == b'"' || b == b'\\' {
            out.extend_from_slice(&[b'\\', b]);
        } else {
            out.extend_from_slice(&[b'\\', b'0' + (b >> 6), b'0' + (b >> 3 & 7), b'0' + (b & 7)]);
        }
        rest = tail;
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use charrua_wire::{HardwareAddress, Text};
    use std::net::Ipv4Addr;

    #[test]
    fn writes_a_record_as_isc_dhcpd_does() {
        let lease = Lease {
            address: Ipv4Addr::new(192, 0, 2, 10),
            client_id: Some(vec![1, 2, 0, 0, 0, 0, 1].into()),
            hardware: Some((
                HardwareType::ETHERNET,
                HardwareAddress::ethernet([2, 0, 0, 0, 0, 1]),
            )),
            starts: 1_764_770_400,
            ends: 1_764_777_600,
            cltt: 1_764_770_400,
            state: LeaseState::Active,
            hostname: Some(Text::from("a \"b\"")),
        };
        let mut out = Vec::new();
        assert!(write_lease(&mut out, &lease));
        let expected = "lease 192.0.2.10 {\n\
            \x20 starts 3 2025/12/03 14:00:00;\n\
            \x20 ends 3 2025/12/03 16:00:00;\n\
            \x20 cltt 3 2025/12/03 14:00:00;\n\
            \x20 binding state active;\n\
            \x20 next binding state free;\n\
            \x20 rewind binding state free;\n\
            \x20 hardware ethernet 02:00:00:00:00:01;\n\
            \x20 uid \"\\001\\002\\000\\000\\000\\000\\001\";\n\
            \x20 client-hostname \"a \\\"b\\\"\";\n\
            }\n";
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn writes_never_and_far_times_as_epoch() {
        let mut out = Vec::new();
        write_time(&mut out, b"ends", INFINITE);
        write_time(&mut out, b"ends", INFINITE - 1);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("  ends never;\n  ends epoch {};\n", INFINITE - 1)
        );
    }

    #[test]
    fn formats_times_as_the_standard_formatter_does() {
        let mut t = 0u64;
        while t < 400 * 366 * 86_400 {
            let c = civil(t).unwrap();
            let expected = format!(
                "  cltt {} {:04}/{:02}/{:02} {:02}:{:02}:{:02};\n",
                c.weekday, c.year, c.month, c.day, c.hour, c.minute, c.second
            );
            let mut out = Vec::new();
            write_time(&mut out, b"cltt", t);
            assert_eq!(String::from_utf8(out).unwrap(), expected, "{t}");
            t = t * 3 / 2 + 7_919;
        }
        for t in [253_402_300_799, 253_402_300_800, u64::MAX / 2] {
            let mut out = Vec::new();
            write_time(&mut out, b"ends", t);
            let c = civil(t).filter(|c| c.year <= LAST_CALENDAR_YEAR);
            let expected = match c {
                Some(c) => format!(
                    "  ends {} {:04}/{:02}/{:02} {:02}:{:02}:{:02};\n",
                    c.weekday, c.year, c.month, c.day, c.hour, c.minute, c.second
                ),
                None => format!("  ends epoch {t};\n"),
            };
            assert_eq!(String::from_utf8(out).unwrap(), expected, "{t}");
        }
    }

    #[test]
    fn escapes_every_byte_as_the_standard_formatter_does() {
        let bytes: Vec<u8> = (0..=255).collect();
        let mut expected = String::from("\"");
        for &b in &bytes {
            match b {
                b'"' | b'\\' => expected.push_str(&format!("\\{}", char::from(b))),
                b' '..=b'~' => expected.push(char::from(b)),
                _ => expected.push_str(&format!("\\{b:03o}")),
            }
        }
        expected.push('"');
        let mut out = Vec::new();
        write_string(&mut out, &bytes);
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn writes_addresses_and_hardware_as_display_does() {
        let mut lease = Lease {
            address: Ipv4Addr::new(0, 10, 200, 255),
            client_id: None,
            hardware: Some((
                HardwareType::INFINIBAND,
                HardwareAddress::new(&[0, 0x0f, 0xa0, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
                    .unwrap(),
            )),
            starts: 0,
            ends: INFINITE,
            cltt: 0,
            state: LeaseState::Free,
            hostname: None,
        };
        let mut out = Vec::new();
        write_lease(&mut out, &lease);
        let text = String::from_utf8(out).unwrap();
        let (htype, address) = lease.hardware.take().unwrap();
        assert!(text.starts_with("lease 0.10.200.255 {\n"), "{text}");
        assert!(
            text.contains(&format!("  hardware infiniband {address};\n")),
            "{text}"
        );
        assert_eq!(htype, HardwareType::INFINIBAND);
    }
}
