//! `charrua decode`: DHCP messages out of captures, for people and for scripts.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use charrua_wire::{
    CLIENT_PORT, Checksums, Datagram, EmitOptions, Error, MacAddr, Message, SERVER_PORT,
    parse_ethernet, parse_ipv4,
};
use serde_json::json;

use crate::capture::{self, LinkType, Record};

/// Arguments of `charrua decode`.
#[derive(clap::Args)]
pub struct Args {
    /// Print one JSON object per message instead of text.
    #[arg(long)]
    json: bool,
    /// Re-encode each message, parse it again, and report any difference.
    #[arg(long)]
    verify: bool,
    /// Do not verify IPv4 and UDP checksums (for captures taken on the sending host, where the
    /// network card fills checksums in after the capture point).
    #[arg(long)]
    ignore_checksums: bool,
    /// pcap, pcapng or hex dump files.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// What was found, over all files.
#[derive(Default)]
struct Tally {
    decoded: usize,
    verified: usize,
    malformed: usize,
    mismatched: usize,
    not_dhcp: usize,
    file_problems: usize,
}

/// Where a DHCP message came from, for the heading line.
struct Origin<'a> {
    file: &'a str,
    record: &'a Record<'a>,
    datagram: Option<Datagram<'a>>,
}

/// Decodes every file and prints the messages; the exit status says whether all decoded.
pub fn run(args: &Args) -> ExitCode {
    let mut tally = Tally::default();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    for path in &args.files {
        let name = path.display().to_string();
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) => {
                eprintln!("charrua decode: {name}: {e}");
                tally.file_problems += 1;
                continue;
            }
        };
        let capture = match capture::read(&bytes) {
            Ok(capture) => capture,
            Err(e) => {
                eprintln!("charrua decode: {name}: {e}");
                tally.file_problems += 1;
                continue;
            }
        };
        for problem in &capture.problems {
            eprintln!("charrua decode: {name}: {problem}");
            tally.file_problems += 1;
        }
        for record in &capture.records {
            if decode_record(args, &name, record, &mut tally, &mut out).is_err() {
                return ExitCode::FAILURE; // stdout is gone (a closed pipe): stop quietly
            }
        }
    }
    let _ = out.flush();
    drop(out);

    let mut summary = format!(
        "{} DHCP message{} decoded",
        tally.decoded,
        if tally.decoded == 1 { "" } else { "s" }
    );
    if args.verify {
        let _ = write!(
            summary,
            ", {} verified, {} differed",
            tally.verified, tally.mismatched
        );
    }
    let _ = write!(
        summary,
        ", {} malformed, {} other packets skipped, {} file problems",
        tally.malformed, tally.not_dhcp, tally.file_problems
    );
    eprintln!("{summary}");
    if tally.malformed + tally.mismatched + tally.file_problems == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The DHCP payload of a record, or why there is none.
enum Found<'a> {
    Dhcp(Option<Datagram<'a>>, &'a [u8]),
    NotDhcp,
    Malformed(Error),
}

fn find_dhcp<'a>(record: &'a Record<'a>, checksums: Checksums) -> Found<'a> {
    let parsed = match record.link {
        LinkType::Bootp => return Found::Dhcp(None, &record.data),
        LinkType::Ethernet => parse_ethernet(&record.data, checksums),
        _ => match record.ipv4() {
            Some(ip) => parse_ipv4(ip, checksums),
            None => return Found::NotDhcp,
        },
    };
    match parsed {
        Ok(d) if is_dhcp_port(d.src_port) || is_dhcp_port(d.dst_port) => {
            Found::Dhcp(Some(d), d.payload)
        }
        Ok(_) => Found::NotDhcp,
        Err(e) if e.is_not_dhcp() || !record.ipv4().is_some_and(udp_to_dhcp_port) => Found::NotDhcp,
        Err(e) => Found::Malformed(e),
    }
}

fn is_dhcp_port(port: u16) -> bool {
    port == SERVER_PORT || port == CLIENT_PORT
}

/// True when the bytes start like an IPv4 UDP datagram to or from a DHCP port, read without
/// trusting any length beyond what is there: a damaged DHCP packet still counts as DHCP.
fn udp_to_dhcp_port(ip: &[u8]) -> bool {
    let Some(&first) = ip.first() else {
        return false;
    };
    let header_len = usize::from(first & 0x0f) * 4;
    let port = |at: usize| ip.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    first >> 4 == 4
        && ip.get(9) == Some(&17)
        && (port(header_len).is_some_and(is_dhcp_port)
            || port(header_len + 2).is_some_and(is_dhcp_port))
}

fn decode_record(
    args: &Args,
    file: &str,
    record: &Record<'_>,
    tally: &mut Tally,
    out: &mut impl Write,
) -> io::Result<()> {
    let checksums = if args.ignore_checksums {
        Checksums::Ignore
    } else {
        Checksums::Verify
    };
    let (datagram, payload) = match find_dhcp(record, checksums) {
        Found::Dhcp(datagram, payload) => (datagram, payload),
        Found::NotDhcp => {
            tally.not_dhcp += 1;
            return Ok(());
        }
        Found::Malformed(error) => {
            tally.malformed += 1;
            return report_malformed(args, file, record, &error, out);
        }
    };
    let origin = Origin {
        file,
        record,
        datagram,
    };
    let base = datagram.map_or(0, |d| d.payload_offset);
    let message = match Message::parse(payload) {
        Ok(message) => message,
        Err(error) => {
            tally.malformed += 1;
            return report_malformed(args, file, record, &error.clone().shifted(base), out);
        }
    };
    tally.decoded += 1;
    let difference = if args.verify {
        let difference = verify(&message);
        match difference {
            None => tally.verified += 1,
            Some(_) => tally.mismatched += 1,
        }
        difference
    } else {
        None
    };
    if args.json {
        let mut object = json!({
            "file": file,
            "packet": record.index,
            "time": record.timestamp.map(|(s, ns)| timestamp(s, ns)),
            "type": message.message_type().map(|t| t.to_string()),
            "message": message,
        });
        if let Some(d) = datagram {
            object["src_mac"] = json!(d.src_mac.map(|m| m.to_string()));
            object["dst_mac"] = json!(d.dst_mac.map(|m| m.to_string()));
            object["src"] = json!(format!("{}:{}", d.src_ip, d.src_port));
            object["dst"] = json!(format!("{}:{}", d.dst_ip, d.dst_port));
        }
        if args.verify {
            object["verified"] = json!(difference.is_none());
            if let Some(difference) = &difference {
                object["difference"] = json!(difference);
            }
        }
        writeln!(out, "{object}")
    } else {
        writeln!(out, "{}", heading(&origin, payload.len()))?;
        write!(out, "{message:#}")?;
        match &difference {
            Some(difference) => writeln!(out, "  verify: differs: {difference}"),
            None if args.verify => writeln!(out, "  verify: ok"),
            None => Ok(()),
        }
    }
}

fn report_malformed(
    args: &Args,
    file: &str,
    record: &Record<'_>,
    error: &Error,
    out: &mut impl Write,
) -> io::Result<()> {
    eprintln!(
        "charrua decode: {file}: packet {}: malformed: {error}",
        record.index
    );
    if args.json {
        let object = json!({
            "file": file,
            "packet": record.index,
            "error": error.to_string(),
            "offset": error.offset(),
        });
        writeln!(out, "{object}")?;
    }
    Ok(())
}

/// `file #N time mac > mac, ip:port > ip:port, length L`.
fn heading(origin: &Origin<'_>, len: usize) -> String {
    let mut line = format!("{} #{}", origin.file, origin.record.index);
    if let Some((secs, nanos)) = origin.record.timestamp {
        let _ = write!(line, " {}", timestamp(secs, nanos));
    }
    if let Some(d) = &origin.datagram {
        if let (Some(src), Some(dst)) = (d.src_mac, d.dst_mac) {
            let _ = write!(line, " {} > {},", mac(src), mac(dst));
        }
        let _ = write!(
            line,
            " {}:{} > {}:{},",
            d.src_ip, d.src_port, d.dst_ip, d.dst_port
        );
    }
    let _ = write!(line, " length {len}");
    line
}

fn mac(m: MacAddr) -> String {
    m.to_string()
}

/// Emits the message, parses it again, and describes the first difference, if any.
fn verify(message: &Message) -> Option<String> {
    let bytes = match message.to_bytes(&EmitOptions::default()) {
        Ok(bytes) => bytes,
        Err(e) => return Some(format!("cannot re-encode: {e}")),
    };
    let again = match Message::parse(&bytes) {
        Ok(again) => again,
        Err(e) => return Some(format!("re-encoded bytes do not parse: {e}")),
    };
    if again == *message {
        return None;
    }
    let fields = [
        ("op", message.op != again.op),
        ("htype", message.htype != again.htype),
        ("hops", message.hops != again.hops),
        ("xid", message.xid != again.xid),
        ("secs", message.secs != again.secs),
        ("flags", message.flags != again.flags),
        ("ciaddr", message.ciaddr != again.ciaddr),
        ("yiaddr", message.yiaddr != again.yiaddr),
        ("siaddr", message.siaddr != again.siaddr),
        ("giaddr", message.giaddr != again.giaddr),
        ("chaddr", message.chaddr != again.chaddr),
        ("sname", message.sname != again.sname),
        ("file", message.file != again.file),
    ];
    if let Some((name, _)) = fields.iter().find(|(_, differs)| *differs) {
        return Some(format!("field {name} changed"));
    }
    let pairs = message.options.iter().zip(&again.options);
    for (i, (a, b)) in pairs.enumerate() {
        if a != b {
            return Some(format!("option {} was {a:?}, became {b:?}", i + 1));
        }
    }
    Some(format!(
        "{} options became {}",
        message.options.len(),
        again.options.len()
    ))
}

/// RFC 3339 UTC time from Unix seconds and nanoseconds.
fn timestamp(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        nanos / 1000
    )
}

/// The proleptic Gregorian date of a day count from 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_timestamps_in_utc() {
        assert_eq!(timestamp(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            timestamp(1_700_000_000, 123_456_789),
            "2023-11-14T22:13:20.123456Z"
        );
        assert_eq!(timestamp(951_782_400, 0), "2000-02-29T00:00:00.000000Z");
    }

    #[test]
    fn recognises_dhcp_ports_in_damaged_datagrams() {
        let mut ip = [0u8; 28];
        ip[0] = 0x45;
        ip[9] = 17;
        ip[20..22].copy_from_slice(&68u16.to_be_bytes());
        ip[22..24].copy_from_slice(&67u16.to_be_bytes());
        assert!(udp_to_dhcp_port(&ip));
        ip[9] = 6;
        assert!(!udp_to_dhcp_port(&ip));
        assert!(!udp_to_dhcp_port(&[0x45]));
    }
}
