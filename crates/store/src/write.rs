//! Writing `dhcpd.leases` records that ISC dhcpd 4.4 and the tools around it read back.

use core::fmt::{self, Write as _};

use charrua_server::leases::{INFINITE, Lease, LeaseState, Time};
use charrua_wire::HardwareType;

use crate::time::civil;

/// Years past this are written as `epoch N`, which every ISC 4.x reader takes.
const LAST_CALENDAR_YEAR: i64 = 9999;

/// Appends formatted text to a string.
fn put(out: &mut String, args: fmt::Arguments<'_>) {
    // Formatting into a `String` only fails if a `Display` impl does, and the ones used
    // here (integers, addresses) never do.
    let _ = out.write_fmt(args);
}

/// Appends the header that opens a lease file: a comment and `authoring-byte-order`.
pub fn write_header(out: &mut String) {
    out.push_str("# Lease journal in the format of dhcpd.leases(5).\n");
    out.push_str("# Records are appended; the last record of an address is the one in force.\n");
    out.push('\n');
    if cfg!(target_endian = "big") {
        out.push_str("authoring-byte-order big-endian;\n\n");
    } else {
        out.push_str("authoring-byte-order little-endian;\n\n");
    }
}

/// The `binding state` name of a durable state; `None` for an offer, which is never
/// written.
fn state_name(state: LeaseState) -> Option<&'static str> {
    match state {
        LeaseState::Offered => None,
        LeaseState::Active => Some("active"),
        LeaseState::Released => Some("released"),
        LeaseState::Expired => Some("expired"),
        LeaseState::Abandoned => Some("abandoned"),
        LeaseState::Free => Some("free"),
    }
}

/// The name ISC dhcpd gives a hardware type, for the types it reads.
fn hardware_name(htype: HardwareType) -> Option<&'static str> {
    match htype.0 {
        1 => Some("ethernet"),
        6 => Some("token-ring"),
        8 => Some("fddi"),
        32 => Some("infiniband"),
        _ => None,
    }
}

/// Appends one lease record; returns false (and writes nothing) for an offered lease, which
/// is not durable.
///
/// A hardware address of a type ISC dhcpd does not name (other than Ethernet, token ring,
/// FDDI and InfiniBand) is left out of the record.
pub fn write_lease(out: &mut String, lease: &Lease) -> bool {
    let Some(state) = state_name(lease.state) else {
        return false;
    };
    put(out, format_args!("lease {} {{\n", lease.address));
    write_time(out, "starts", lease.starts);
    write_time(out, "ends", lease.ends);
    write_time(out, "cltt", lease.cltt);
    put(out, format_args!("  binding state {state};\n"));
    if lease.state == LeaseState::Active {
        out.push_str("  next binding state free;\n");
    }
    out.push_str("  rewind binding state free;\n");
    if let Some((htype, address)) = &lease.hardware {
        if let Some(name) = hardware_name(*htype) {
            if address.is_empty() {
                put(out, format_args!("  hardware {name};\n"));
            } else {
                put(out, format_args!("  hardware {name} {address};\n"));
            }
        }
    }
    if let Some(id) = &lease.client_id {
        out.push_str("  uid ");
        write_string(out, id);
        out.push_str(";\n");
    }
    if let Some(name) = &lease.hostname {
        out.push_str("  client-hostname ");
        write_string(out, name.as_bytes());
        out.push_str(";\n");
    }
    out.push_str("}\n");
    true
}

/// A whole lease file: the header, then a record for each lease that is not an offer.
pub fn write<'a>(leases: impl IntoIterator<Item = &'a Lease>) -> String {
    let mut out = String::new();
    write_header(&mut out);
    for lease in leases {
        write_lease(&mut out, lease);
    }
    out
}

/// `  NAME W YYYY/MM/DD HH:MM:SS;` in UTC, `  NAME never;`, or `  NAME epoch N;` for times
/// past the year 9999.
fn write_time(out: &mut String, name: &str, t: Time) {
    if t == INFINITE {
        put(out, format_args!("  {name} never;\n"));
        return;
    }
    match civil(t).filter(|c| c.year <= LAST_CALENDAR_YEAR) {
        Some(c) => put(
            out,
            format_args!(
                "  {name} {} {:04}/{:02}/{:02} {:02}:{:02}:{:02};\n",
                c.weekday, c.year, c.month, c.day, c.hour, c.minute, c.second
            ),
        ),
        None => put(out, format_args!("  {name} epoch {t};\n")),
    }
}

/// A quoted string: printable ASCII as it is, `"` and `\` after a backslash, and every other
/// byte as a three-digit octal escape.
fn write_string(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            b' '..=b'~' => out.push(char::from(b)),
            _ => put(out, format_args!("\\{b:03o}")),
        }
    }
    out.push('"');
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
            client_id: Some(vec![1, 2, 0, 0, 0, 0, 1]),
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
        let mut out = String::new();
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
        assert_eq!(out, expected);
    }

    #[test]
    fn writes_never_and_far_times_as_epoch() {
        let mut out = String::new();
        write_time(&mut out, "ends", INFINITE);
        write_time(&mut out, "ends", INFINITE - 1);
        assert_eq!(
            out,
            format!("  ends never;\n  ends epoch {};\n", INFINITE - 1)
        );
    }
}
