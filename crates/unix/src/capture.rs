//! Packet captures and hex dumps: the input side of `charrua decode`.
//!
//! [`read`] takes the bytes of a whole file and recognises:
//!
//! - classic pcap, in either byte order, with microsecond or nanosecond timestamps (and the
//!   "modified" pcap variant with its longer record headers);
//! - pcapng, with any number of sections (each in its own byte order, each with its own
//!   interfaces) and Enhanced, Simple and obsolete Packet Blocks;
//! - text hex dumps: `tcpdump -x`/`-xx`/`-X`/`-XX`, `xxd` (also `-a`, `-p` and `-i`),
//!   `hexdump -C`, `od -A x -t x1` (also with `z`), Wireshark's hex dumps and plain hex.
//!
//! The input is untrusted: nothing here panics, and every problem says what is wrong and where,
//! as a byte offset for captures or a line and column for hex dumps. A problem that spoils one
//! packet, or the rest of a damaged file, does not stop the reading: the packets that could be
//! read come back together with the list of problems. Only a file that cannot be read at all is
//! an error.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

/// The ethertype of IPv4.
const ETHERTYPE_IPV4: u16 = 0x0800;

/// Ethertypes of VLAN tags: 802.1Q, 802.1ad and the older pre-standard QinQ value.
const ETHERTYPE_VLAN: [u16; 3] = [0x8100, 0x88a8, 0x9100];

/// How the bytes of a record start: its link-layer header type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkType {
    /// An Ethernet II frame (`LINKTYPE_ETHERNET`, 1).
    Ethernet,
    /// A Linux "cooked" capture v1 frame with its 16-byte header (`LINKTYPE_LINUX_SLL`, 113).
    LinuxSll,
    /// A Linux "cooked" capture v2 frame with its 20-byte header (`LINKTYPE_LINUX_SLL2`, 276).
    LinuxSll2,
    /// An IP packet with no link-layer header: `LINKTYPE_RAW` (101, which may also carry
    /// IPv6), `LINKTYPE_IPV4` (228), and the platform values of `DLT_RAW` (12, and 14 on
    /// OpenBSD) that some older files carry.
    RawIpv4,
    /// A bare BOOTP/DHCP message with no IP or UDP header. Captures never have this type; it is
    /// guessed for hex dumps.
    Bootp,
    /// Any other link type, by its number.
    Other(u32),
}

impl LinkType {
    /// The link type named by a pcap or pcapng link-type field.
    ///
    /// Only the low 16 bits name the type: in classic pcap the upper bits say whether (and how
    /// long) a frame check sequence ends each packet. Such trailing bytes are left in the
    /// record's data.
    pub(crate) fn from_code(code: u32) -> Self {
        match code & 0xffff {
            1 => Self::Ethernet,
            113 => Self::LinuxSll,
            276 => Self::LinuxSll2,
            12 | 14 | 101 | 228 => Self::RawIpv4,
            other => Self::Other(other),
        }
    }
}

/// Where something is in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Position {
    /// A byte offset from the start of a binary file.
    Offset(usize),
    /// A 1-based line of a text file and, when known, a 1-based column counted in characters.
    Line {
        /// The line number, from 1.
        line: usize,
        /// The column number, from 1.
        column: Option<usize>,
    },
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Offset(offset) => write!(f, "offset {offset}"),
            Self::Line { line, column: None } => write!(f, "line {line}"),
            Self::Line {
                line,
                column: Some(column),
            } => write!(f, "line {line}, column {column}"),
        }
    }
}

/// One captured packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record<'a> {
    /// The packet's number in the file, from 1. Packets that could not be read still take up
    /// their number, so the numbers of the others match what other tools show.
    pub(crate) index: usize,
    /// Where the packet starts: the offset of its record or block header, or the first line of
    /// its hex dump (its header line, if it has one).
    pub(crate) position: Position,
    /// How the data starts.
    pub(crate) link: LinkType,
    /// The bytes as captured, which may be cut shorter than the packet was on the wire.
    /// Borrowed from the file for captures, decoded for hex dumps.
    pub(crate) data: Cow<'a, [u8]>,
    /// The length of the packet on the wire. For hex dumps, the length of `data`.
    pub(crate) original_len: u32,
    /// When the packet was captured, as seconds and nanoseconds since the Unix epoch (UTC).
    /// Hex dumps and pcapng Simple Packet Blocks have none.
    pub(crate) timestamp: Option<(i64, u32)>,
}

impl Record<'_> {
    /// The IPv4 packet inside this record, or `None` if it does not carry IPv4.
    ///
    /// Strips an Ethernet header with up to two VLAN tags, a Linux cooked header (v1 or v2), or
    /// nothing for raw IP records, after checking that the ethertype or protocol field says
    /// IPv4 (0x0800), or for raw IP that the version is 4. The slice runs to the end of the
    /// captured data, so it may end with link-layer padding or a frame check sequence. Bare
    /// BOOTP records and other link types have no IPv4 packet.
    pub(crate) fn ipv4(&self) -> Option<&[u8]> {
        ipv4_in(self.link, &self.data)
    }
}

/// What a file turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// A classic pcap file.
    Pcap,
    /// A pcapng file.
    Pcapng,
    /// A text hex dump.
    Hex,
}

/// The contents of a capture or hex dump file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Capture<'a> {
    /// What the file turned out to be.
    pub(crate) format: Format,
    /// The packets that could be read, in file order.
    pub(crate) records: Vec<Record<'a>>,
    /// Problems that did not stop the reading, in file order: packets that were skipped,
    /// a damaged end of file, and oddities worth knowing about.
    pub(crate) problems: Vec<CaptureError>,
}

/// A problem with a capture or hex dump file.
///
/// Displays as "what at position: detail", e.g. "pcapng block at offset 1234: total length 7
/// is not a multiple of 4".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CaptureError {
    /// What the problem is about, such as "pcapng block" or "packet 3".
    pub(crate) what: String,
    /// Where it is, when it is at one place.
    pub(crate) position: Option<Position>,
    /// What is wrong.
    pub(crate) detail: String,
}

impl CaptureError {
    /// A problem at a byte offset.
    fn at_offset(what: impl Into<String>, offset: usize, detail: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            position: Some(Position::Offset(offset)),
            detail: detail.into(),
        }
    }

    /// A problem at a line and column of a text file.
    fn at_line(what: impl Into<String>, line: usize, column: usize, detail: String) -> Self {
        let position = Some(Position::Line {
            line,
            column: Some(column),
        });
        Self {
            what: what.into(),
            position,
            detail,
        }
    }
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)?;
        if let Some(position) = self.position {
            write!(f, " at {position}")?;
        }
        write!(f, ": {}", self.detail)
    }
}

impl std::error::Error for CaptureError {}

/// Reads a whole file's bytes: a pcap or pcapng capture, or a text hex dump.
///
/// Returns the packets that could be read along with the problems that did not stop the
/// reading. Fails only when the file cannot be read at all: when it is empty, is none of the
/// supported formats, has a damaged file header, or is text without any hex data.
pub(crate) fn read(bytes: &[u8]) -> Result<Capture<'_>, CaptureError> {
    if bytes.is_empty() {
        return Err(CaptureError {
            what: "empty file".into(),
            position: None,
            detail: "there are no packets to read".into(),
        });
    }
    let magic = bytes.get(..4);
    match magic {
        Some([0xa1, 0xb2, 0xc3, 0xd4]) => return read_pcap(bytes, Order::Big, false, 16),
        Some([0xd4, 0xc3, 0xb2, 0xa1]) => return read_pcap(bytes, Order::Little, false, 16),
        Some([0xa1, 0xb2, 0x3c, 0x4d]) => return read_pcap(bytes, Order::Big, true, 16),
        Some([0x4d, 0x3c, 0xb2, 0xa1]) => return read_pcap(bytes, Order::Little, true, 16),
        Some([0xa1, 0xb2, 0xcd, 0x34]) => return read_pcap(bytes, Order::Big, false, 24),
        Some([0x34, 0xcd, 0xb2, 0xa1]) => return read_pcap(bytes, Order::Little, false, 24),
        _ => {}
    }
    let text = as_text(bytes);
    // The pcapng magic is also the text "\n\r\r\n": a text file that starts with it and has
    // no byte-order magic after it is read as text.
    if magic == Some(&SHB.to_be_bytes()[..])
        && (text.is_none() || byte_order_at(bytes, 8).is_some())
    {
        return read_pcapng(bytes);
    }
    if let Some(text) = text {
        return read_hex(text);
    }
    let start: Vec<String> = bytes.iter().take(4).map(|b| format!("{b:02x}")).collect();
    Err(CaptureError {
        what: "not a pcap, pcapng or hex dump file".into(),
        position: None,
        detail: format!("starts with bytes {}", start.join(" ")),
    })
}

/// The IPv4 packet inside `data` of link type `link`; see [`Record::ipv4`].
fn ipv4_in(link: LinkType, data: &[u8]) -> Option<&[u8]> {
    match link {
        LinkType::Ethernet => {
            let mut at = 12;
            let mut ethertype = be16(data, at)?;
            for _ in 0..2 {
                if !ETHERTYPE_VLAN.contains(&ethertype) {
                    break;
                }
                at += 4;
                ethertype = be16(data, at)?;
            }
            (ethertype == ETHERTYPE_IPV4)
                .then(|| data.get(at + 2..))
                .flatten()
        }
        LinkType::LinuxSll => (be16(data, 14)? == ETHERTYPE_IPV4).then(|| data.get(16..))?,
        LinkType::LinuxSll2 => (be16(data, 0)? == ETHERTYPE_IPV4).then(|| data.get(20..))?,
        LinkType::RawIpv4 => (data.first()? >> 4 == 4).then_some(data),
        LinkType::Bootp | LinkType::Other(_) => None,
    }
}

/// The big-endian `u16` at `at` in `data`, if there is one.
fn be16(data: &[u8], at: usize) -> Option<u16> {
    u16_at(data, at, Order::Big)
}

/// A byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    /// Least significant byte first.
    Little,
    /// Most significant byte first.
    Big,
}

/// The `u16` at `at` in `data`, if there is one.
fn u16_at(data: &[u8], at: usize, order: Order) -> Option<u16> {
    let bytes: [u8; 2] = data.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(match order {
        Order::Little => u16::from_le_bytes(bytes),
        Order::Big => u16::from_be_bytes(bytes),
    })
}

/// The `u32` at `at` in `data`, if there is one.
fn u32_at(data: &[u8], at: usize, order: Order) -> Option<u32> {
    let bytes: [u8; 4] = data.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(match order {
        Order::Little => u32::from_le_bytes(bytes),
        Order::Big => u32::from_be_bytes(bytes),
    })
}

/// A length read from a file as a `usize`; lengths too big for memory stay too big.
fn to_usize(value: u32) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

/// A length in memory as a `u64`, for messages.
fn to_u64(value: usize) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}

// Classic pcap.

/// The length of a classic pcap file header.
const PCAP_FILE_HEADER: usize = 24;

/// Reads a classic pcap file in byte order `order`, whose timestamps count nanoseconds if
/// `nanos` (else microseconds) and whose record headers are `record_header` bytes long.
fn read_pcap(
    bytes: &[u8],
    order: Order,
    nanos: bool,
    record_header: usize,
) -> Result<Capture<'_>, CaptureError> {
    let header = |at| u32_at(bytes, at, order).unwrap_or(0);
    if bytes.len() < PCAP_FILE_HEADER {
        return Err(CaptureError::at_offset(
            "truncated pcap file header",
            0,
            format!("needs {PCAP_FILE_HEADER} bytes, file has {}", bytes.len()),
        ));
    }
    let major = u16_at(bytes, 4, order).unwrap_or(0);
    let minor = u16_at(bytes, 6, order).unwrap_or(0);
    if major != 2 {
        return Err(CaptureError::at_offset(
            "pcap file header",
            4,
            format!("version {major}.{minor} is not supported (expected 2.4)"),
        ));
    }
    let mut problems = Vec::new();
    if minor != 4 {
        problems.push(CaptureError::at_offset(
            "pcap file header",
            4,
            format!("version 2.{minor} is read as version 2.4"),
        ));
    }
    let snaplen = header(16);
    let link = LinkType::from_code(header(20));
    let mut records = Vec::new();
    let mut offset = PCAP_FILE_HEADER;
    while offset < bytes.len() {
        let index = records.len() + 1;
        let left = bytes.len() - offset;
        let truncated = |needs: u64| {
            CaptureError::at_offset(
                format!("truncated record {index}"),
                offset,
                format!("needs {needs} bytes, file has {left}"),
            )
        };
        if left < record_header {
            problems.push(truncated(to_u64(record_header)));
            break;
        }
        let field = |at| u32_at(bytes, offset + at, order).unwrap_or(0);
        let (seconds, fraction, included, original) = (field(0), field(4), field(8), field(12));
        let start = offset + record_header;
        let end = start.checked_add(to_usize(included));
        let Some(data) = end.and_then(|end| bytes.get(start..end)) else {
            problems.push(truncated(to_u64(record_header) + u64::from(included)));
            break;
        };
        if snaplen != 0 && included > snaplen {
            problems.push(CaptureError::at_offset(
                format!("record {index}"),
                offset,
                format!("captured length {included} exceeds the file's snapshot length {snaplen}"),
            ));
        }
        let per_second = if nanos { 1_000_000_000 } else { 1_000_000 };
        let scale = if nanos { 1 } else { 1_000 };
        let timestamp = (
            i64::from(seconds) + i64::from(fraction / per_second),
            fraction % per_second * scale,
        );
        records.push(Record {
            index,
            position: Position::Offset(offset),
            link,
            data: Cow::Borrowed(data),
            original_len: original,
            timestamp: Some(timestamp),
        });
        offset = start + data.len();
    }
    Ok(Capture {
        format: Format::Pcap,
        records,
        problems,
    })
}

// pcapng.

/// Block type of a Section Header Block; the same in both byte orders.
const SHB: u32 = 0x0a0d_0d0a;
/// Block type of an Interface Description Block.
const IDB: u32 = 1;
/// Block type of the obsolete Packet Block.
const PB: u32 = 2;
/// Block type of a Simple Packet Block.
const SPB: u32 = 3;
/// Block type of an Enhanced Packet Block.
const EPB: u32 = 6;

/// The byte order given by the pcapng byte-order magic at `at` in `bytes`, if it is one.
fn byte_order_at(bytes: &[u8], at: usize) -> Option<Order> {
    match bytes.get(at..at.checked_add(4)?)? {
        [0x1a, 0x2b, 0x3c, 0x4d] => Some(Order::Big),
        [0x4d, 0x3c, 0x2b, 0x1a] => Some(Order::Little),
        _ => None,
    }
}

/// What a packet block needs to know about its interface.
#[derive(Debug, Clone, Copy)]
struct Interface {
    /// How the interface's packets start.
    link: LinkType,
    /// The longest packet the interface captured, or 0 for no limit.
    snaplen: u32,
    /// Timestamp units per second, or `None` if the resolution cannot be represented.
    units_per_second: Option<u128>,
    /// Seconds to add to every timestamp (`if_tsoffset`).
    offset_seconds: i64,
}

impl Interface {
    /// Converts a timestamp counted in this interface's units to seconds and nanoseconds.
    fn timestamp(&self, units: u64) -> Option<(i64, u32)> {
        let per_second = self.units_per_second?;
        let units = u128::from(units);
        let seconds = i64::try_from(units / per_second)
            .ok()?
            .checked_add(self.offset_seconds)?;
        let rest = units % per_second;
        let nanos = match rest.checked_mul(1_000_000_000) {
            Some(scaled) => scaled / per_second,
            // Only for resolutions far finer than a nanosecond, where `per_second` is huge.
            None => rest / (per_second / 1_000_000_000),
        };
        Some((
            seconds,
            u32::try_from(nanos).unwrap_or(u32::MAX).min(999_999_999),
        ))
    }
}

/// Timestamp units per second for an `if_tsresol` value: a negative power of 10, or of 2 if
/// the top bit is set. `None` if it does not fit in a `u128`.
fn units_per_second(tsresol: u8) -> Option<u128> {
    let exponent = u32::from(tsresol & 0x7f);
    if tsresol & 0x80 == 0 {
        10u128.checked_pow(exponent)
    } else {
        2u128.checked_pow(exponent)
    }
}

/// The state of a pcapng reading.
struct Pcapng<'a> {
    /// The whole file.
    bytes: &'a [u8],
    /// The byte order of the current section.
    order: Order,
    /// The current section's interfaces, `None` where a description could not be read.
    interfaces: Vec<Option<Interface>>,
    /// The packets read so far.
    records: Vec<Record<'a>>,
    /// The problems found so far.
    problems: Vec<CaptureError>,
    /// The number of packet blocks seen so far, read or not.
    packets: usize,
}

/// Reads a pcapng file.
fn read_pcapng(bytes: &[u8]) -> Result<Capture<'_>, CaptureError> {
    let mut reader = Pcapng {
        bytes,
        order: Order::Little,
        interfaces: Vec::new(),
        records: Vec::new(),
        problems: Vec::new(),
        packets: 0,
    };
    let mut offset = 0;
    let mut sections = 0;
    while offset < bytes.len() {
        let block = reader.block_at(offset).and_then(|(block_type, body)| {
            if block_type == SHB {
                reader.section(offset, body)?;
                sections += 1;
            } else {
                reader.block(offset, block_type, body);
            }
            Ok(body.len() + 12)
        });
        match block {
            Ok(length) => offset += length,
            Err(error) if sections == 0 => return Err(error),
            Err(error) => {
                reader.problems.push(error);
                break;
            }
        }
    }
    Ok(Capture {
        format: Format::Pcapng,
        records: reader.records,
        problems: reader.problems,
    })
}

impl<'a> Pcapng<'a> {
    /// Checks the framing of the block at `offset` and returns its type and body. Takes the
    /// byte order from a Section Header Block's byte-order magic first.
    fn block_at(&mut self, offset: usize) -> Result<(u32, &'a [u8]), CaptureError> {
        let bytes = self.bytes;
        let error = |detail: String| CaptureError::at_offset("pcapng block", offset, detail);
        let left = bytes.len().saturating_sub(offset);
        if left < 12 {
            return Err(error(format!(
                "truncated block header: needs 12 bytes, file has {left}"
            )));
        }
        if bytes.get(offset..offset + 4) == Some(&SHB.to_be_bytes()[..]) {
            self.order = byte_order_at(bytes, offset + 8).ok_or_else(|| {
                let magic = bytes.get(offset + 8..offset + 12).unwrap_or_default();
                let magic: Vec<String> = magic.iter().map(|b| format!("{b:02x}")).collect();
                CaptureError::at_offset(
                    "pcapng section header",
                    offset,
                    format!("byte-order magic {} is not 1a 2b 3c 4d", magic.join(" ")),
                )
            })?;
        }
        let block_type = u32_at(bytes, offset, self.order).unwrap_or(0);
        let total = u32_at(bytes, offset + 4, self.order).unwrap_or(0);
        if total % 4 != 0 {
            return Err(error(format!(
                "total length {total} is not a multiple of 4"
            )));
        }
        if total < 12 {
            return Err(error(format!("total length {total} is less than 12")));
        }
        let length = to_usize(total);
        if length > left {
            return Err(error(format!(
                "total length {total} overruns the file, which has {left} bytes from here"
            )));
        }
        let trailer = u32_at(bytes, offset + length - 4, self.order).unwrap_or(0);
        if trailer != total {
            return Err(error(format!(
                "trailing total length {trailer} does not match the leading one, {total}"
            )));
        }
        let body = bytes
            .get(offset + 8..offset + length - 4)
            .unwrap_or_default();
        Ok((block_type, body))
    }

    /// Starts a new section with the Section Header Block at `offset`.
    fn section(&mut self, offset: usize, body: &[u8]) -> Result<(), CaptureError> {
        let error =
            |detail: String| CaptureError::at_offset("pcapng section header", offset, detail);
        if body.len() < 16 {
            return Err(error(format!(
                "body of {} bytes is shorter than 16",
                body.len()
            )));
        }
        let major = u16_at(body, 4, self.order).unwrap_or(0);
        let minor = u16_at(body, 6, self.order).unwrap_or(0);
        if major != 1 {
            return Err(error(format!(
                "version {major}.{minor} is not supported (expected 1.0)"
            )));
        }
        self.interfaces.clear();
        Ok(())
    }

    /// Reads any block but a Section Header Block; skips block types that hold no packets.
    fn block(&mut self, offset: usize, block_type: u32, body: &'a [u8]) {
        match block_type {
            IDB => {
                let interface = self.interface(offset, body);
                self.interfaces.push(interface);
            }
            EPB | PB => {
                self.packets += 1;
                // The obsolete Packet Block has a 16-bit interface id and a drops count where
                // the Enhanced Packet Block has its 32-bit interface id.
                let interface = if block_type == EPB {
                    u32_at(body, 0, self.order)
                } else {
                    u16_at(body, 0, self.order).map(u32::from)
                };
                let field = |at| u32_at(body, at, self.order);
                let (Some(interface), Some(high), Some(low), Some(captured), Some(original)) =
                    (interface, field(4), field(8), field(12), field(16))
                else {
                    return self.packet_problem(
                        offset,
                        format!("block body of {} bytes is shorter than 20", body.len()),
                    );
                };
                let Some(data) = body
                    .get(20..)
                    .and_then(|data| data.get(..to_usize(captured)))
                else {
                    let room = body.len().saturating_sub(20);
                    return self.packet_problem(
                        offset,
                        format!("captured length {captured} overruns the block's {room} bytes"),
                    );
                };
                let timestamp = Some((u64::from(high) << 32) | u64::from(low));
                self.packet(offset, interface, timestamp, data, original);
            }
            SPB => {
                self.packets += 1;
                let Some(original) = u32_at(body, 0, self.order) else {
                    return self.packet_problem(
                        offset,
                        format!("block body of {} bytes is shorter than 4", body.len()),
                    );
                };
                let mut data = body.get(4..).unwrap_or_default();
                let snaplen = match self.interfaces.first() {
                    Some(Some(interface)) if interface.snaplen != 0 => interface.snaplen,
                    _ => u32::MAX,
                };
                data = data.get(..to_usize(original.min(snaplen))).unwrap_or(data);
                self.packet(offset, 0, None, data, original);
            }
            _ => {}
        }
    }

    /// Reads the Interface Description Block at `offset`, or returns `None` with a problem.
    fn interface(&mut self, offset: usize, body: &[u8]) -> Option<Interface> {
        let what = "pcapng interface description";
        let (Some(link), Some(snaplen)) =
            (u16_at(body, 0, self.order), u32_at(body, 4, self.order))
        else {
            let detail = format!("block body of {} bytes is shorter than 8", body.len());
            self.problems
                .push(CaptureError::at_offset(what, offset, detail));
            return None;
        };
        let mut interface = Interface {
            link: LinkType::from_code(u32::from(link)),
            snaplen,
            units_per_second: Some(1_000_000),
            offset_seconds: 0,
        };
        let mut at = 8;
        while let (Some(code), Some(length)) = (
            u16_at(body, at, self.order),
            u16_at(body, at + 2, self.order),
        ) {
            if code == 0 {
                break;
            }
            let start = at + 4;
            let length = usize::from(length);
            let Some(value) = body.get(start..start + length) else {
                let detail = format!("option {code} of {length} bytes overruns the block");
                self.problems
                    .push(CaptureError::at_offset(what, offset + 8 + at, detail));
                break;
            };
            match (code, value) {
                (9, &[tsresol]) => {
                    interface.units_per_second = units_per_second(tsresol);
                    if interface.units_per_second.is_none() {
                        let detail = format!("timestamp resolution {tsresol:#04x} is too fine");
                        self.problems
                            .push(CaptureError::at_offset(what, offset + 8 + at, detail));
                    }
                }
                (14, &[a, b, c, d, e, f, g, h]) => {
                    let bytes = [a, b, c, d, e, f, g, h];
                    interface.offset_seconds = match self.order {
                        Order::Little => i64::from_le_bytes(bytes),
                        Order::Big => i64::from_be_bytes(bytes),
                    };
                }
                _ => {}
            }
            at = start + length.next_multiple_of(4);
        }
        Some(interface)
    }

    /// Records a packet of the block at `offset`, or a problem if its interface is unknown.
    fn packet(
        &mut self,
        offset: usize,
        interface: u32,
        timestamp: Option<u64>,
        data: &'a [u8],
        original_len: u32,
    ) {
        let count = self.interfaces.len();
        let found = usize::try_from(interface)
            .ok()
            .and_then(|i| self.interfaces.get(i));
        let description = match found {
            Some(Some(description)) => *description,
            Some(None) => {
                let detail = format!("interface {interface} has an unreadable description");
                return self.packet_problem(offset, detail);
            }
            None => {
                let detail = format!(
                    "interface {interface} is not defined (the section has {count} interfaces)"
                );
                return self.packet_problem(offset, detail);
            }
        };
        let captured = data.len();
        if description.snaplen != 0 && to_u64(captured) > u64::from(description.snaplen) {
            let detail = format!(
                "captured length {captured} exceeds interface {interface}'s snapshot length {}",
                description.snaplen
            );
            self.packet_problem(offset, detail);
        }
        self.records.push(Record {
            index: self.packets,
            position: Position::Offset(offset),
            link: description.link,
            data: Cow::Borrowed(data),
            original_len,
            timestamp: timestamp.and_then(|units| description.timestamp(units)),
        });
    }

    /// Records a problem with the current packet, in the block at `offset`.
    fn packet_problem(&mut self, offset: usize, detail: String) {
        let what = format!("packet {}", self.packets);
        self.problems
            .push(CaptureError::at_offset(what, offset, detail));
    }
}

// Hex dumps.

/// The longest packet a hex dump's repeat markers (`*`) may stretch a packet to: the largest
/// snapshot length in common use.
const MAX_HEX_PACKET: u64 = 262_144;

/// How many bytes a hex dump's repeat markers may add in all, so that a small file cannot
/// stand for an enormous one.
const MAX_HEX_REPEATED: u64 = 64 << 20;

/// The file as text, if it is UTF-8 without control characters other than whitespace, and
/// without a leading byte-order mark.
fn as_text(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let plain = |c: char| !c.is_control() || matches!(c, '\t' | '\n' | '\r' | '\x0c');
    text.chars().all(plain).then_some(text)
}

/// Reads a text hex dump.
fn read_hex(text: &str) -> Result<Capture<'static>, CaptureError> {
    let mut reader = HexReader::default();
    let lines: Vec<&str> = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line))
        .collect();
    for (i, line) in lines.iter().enumerate() {
        let header_follows = lines.get(i + 1).is_some_and(|next| follows_header(next));
        reader.line(i + 1, line, header_follows);
    }
    reader.finish();
    if reader.records.is_empty() && reader.problems.is_empty() {
        return Err(CaptureError {
            what: "not a pcap, pcapng or hex dump file".into(),
            position: None,
            detail: "the text holds no hex data".into(),
        });
    }
    Ok(Capture {
        format: Format::Hex,
        records: reader.records,
        problems: reader.problems,
    })
}

/// Whether `line` is one that follows a header line in `tcpdump` output: an indented offset
/// line, or an indented line that is not hex (a detail line of `tcpdump -v`).
fn follows_header(line: &str) -> bool {
    line.starts_with(char::is_whitespace)
        && !line.trim().is_empty()
        && (offset_prefix(line, Layout::Unknown).is_some()
            || parse_hex(line, 0..line.len(), true, &mut Vec::new()).is_err())
}

/// How the lines of a hex dump packet are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// No hex line yet.
    Unknown,
    /// Hex only, as from `xxd -p`.
    Plain,
    /// Each line starts with the offset of its first byte, which the first line sets.
    Offsets {
        /// The offset of the first line.
        base: u64,
    },
}

/// A hex dump packet being read.
#[derive(Debug)]
struct HexPacket {
    /// The line it starts at.
    start: usize,
    /// Whether it started with a header line such as tcpdump's summary of the packet.
    header: bool,
    /// The bytes so far.
    bytes: Vec<u8>,
    /// How its lines are laid out.
    layout: Layout,
    /// Where the bytes of the last offset line start, for repeating it.
    last_line: usize,
    /// The line and column of a pending repeat marker (`*`).
    repeat: Option<(usize, usize)>,
    /// The first problem, as line, column and detail; the packet will be skipped.
    error: Option<(usize, usize, String)>,
}

impl HexPacket {
    /// A packet starting at line `start`.
    fn new(start: usize, header: bool) -> Self {
        Self {
            start,
            header,
            bytes: Vec::new(),
            layout: Layout::Unknown,
            last_line: 0,
            repeat: None,
            error: None,
        }
    }

    /// Whether the packet has any data (or bad data) yet.
    fn has_content(&self) -> bool {
        !self.bytes.is_empty() || self.error.is_some() || self.layout != Layout::Unknown
    }

    /// Marks the packet bad, unless it already is.
    fn fail(&mut self, line: usize, column: usize, detail: String) {
        self.error.get_or_insert((line, column, detail));
    }

    /// Handles a line starting with an offset.
    /// Repeat markers may add up to `budget` more bytes.
    fn offset_line(&mut self, number: usize, line: &str, prefix: &OffsetPrefix, budget: &mut u64) {
        let column = column_of(line, prefix.start);
        let Some(offset) = prefix.offset else {
            return self.fail(number, column, "offset is too large".into());
        };
        let expected = match self.layout {
            Layout::Unknown => {
                self.layout = Layout::Offsets { base: offset };
                offset
            }
            Layout::Offsets { base } => base.saturating_add(to_u64(self.bytes.len())),
            Layout::Plain => {
                let detail = "offset line in a packet of plain hex".into();
                return self.fail(number, column, detail);
            }
        };
        if let Some((repeat_line, _)) = self.repeat.take() {
            if let Err(detail) = self.repeat_up_to(offset, expected, budget) {
                let detail = format!("{detail} after the '*' at line {repeat_line}");
                return self.fail(number, column, detail);
            }
        } else if offset != expected {
            let detail = format!("offset {offset:#x} does not follow on from {expected:#x}");
            return self.fail(number, column, detail);
        }
        let start = self.bytes.len();
        if let Err((at, detail)) = parse_hex(line, prefix.area.clone(), false, &mut self.bytes) {
            return self.fail(number, column_of(line, at), detail);
        }
        self.last_line = start;
    }

    /// Repeats the last offset line's bytes to go from offset `expected` to offset `offset`,
    /// for a repeat marker (`*`), taking the bytes added from `budget`.
    fn repeat_up_to(&mut self, offset: u64, expected: u64, budget: &mut u64) -> Result<(), String> {
        let unit = self.last_line..self.bytes.len();
        let unit_len = to_u64(unit.len());
        let Some(gap) = offset.checked_sub(expected) else {
            return Err(format!("offset {offset:#x} goes back from {expected:#x}"));
        };
        if unit_len == 0 || gap % unit_len != 0 {
            return Err(format!(
                "offset {offset:#x} is not {expected:#x} plus whole repeated {unit_len}-byte lines"
            ));
        }
        if to_u64(self.bytes.len()).saturating_add(gap) > MAX_HEX_PACKET {
            return Err(format!(
                "offset {offset:#x} makes the packet longer than {MAX_HEX_PACKET} bytes"
            ));
        }
        let Some(left) = budget.checked_sub(gap) else {
            return Err(format!(
                "repeat markers add more than {MAX_HEX_REPEATED} bytes to the file"
            ));
        };
        *budget = left;
        let copies = usize::try_from(gap / unit_len).unwrap_or_default();
        let repeated = self.bytes.get(unit).unwrap_or_default().repeat(copies);
        self.bytes.extend_from_slice(&repeated);
        Ok(())
    }

    /// Handles a line of hex without an offset.
    fn plain_line(&mut self, number: usize, line: &str) {
        if let Layout::Offsets { .. } = self.layout {
            let column = column_of(line, line.len() - line.trim_start().len());
            return self.fail(
                number,
                column,
                "expected an offset at the start of the line".into(),
            );
        }
        self.layout = Layout::Plain;
        if let Err((at, detail)) = parse_hex(line, 0..line.len(), true, &mut self.bytes) {
            self.fail(number, column_of(line, at), detail);
        }
    }

    /// Handles a repeat marker (`*`).
    fn repeat_line(&mut self, number: usize, column: usize) {
        if matches!(self.layout, Layout::Offsets { .. }) && self.last_line < self.bytes.len() {
            self.repeat = Some((number, column));
        } else {
            self.fail(number, column, "'*' repeats no previous offset line".into());
        }
    }
}

/// The state of a hex dump reading.
#[derive(Debug)]
struct HexReader {
    /// The packets read so far.
    records: Vec<Record<'static>>,
    /// The problems found so far.
    problems: Vec<CaptureError>,
    /// The number of packets seen so far, read or not.
    packets: usize,
    /// The packet being read.
    current: Option<HexPacket>,
    /// How many more bytes repeat markers may add.
    repeat_budget: u64,
}

impl Default for HexReader {
    fn default() -> Self {
        Self {
            records: Vec::new(),
            problems: Vec::new(),
            packets: 0,
            current: None,
            repeat_budget: MAX_HEX_REPEATED,
        }
    }
}

impl HexReader {
    /// Handles line `number`, knowing whether the line after it is one that follows a header
    /// line in `tcpdump` output.
    ///
    /// A line that does not start with whitespace and is neither hex nor an offset line is a
    /// header line, such as tcpdump's summary of a packet: it starts a new packet. So is a
    /// line that starts with a hex-looking word but is not all hex (such as the summary from
    /// `tcpdump -e -t`, which starts with a MAC address) when a header's follower comes next.
    fn line(&mut self, number: usize, line: &str, header_follows: bool) {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            return self.finish();
        }
        if trimmed.starts_with('#') {
            return;
        }
        if trimmed == "*" {
            let column = column_of(line, line.len() - line.trim_start().len());
            return self.packet(number).repeat_line(number, column);
        }
        let layout = self
            .current
            .as_ref()
            .map_or(Layout::Unknown, |packet| packet.layout);
        if let Some(prefix) = offset_prefix(line, layout) {
            // Offset 0 after some data starts the next packet.
            if prefix.offset == Some(0) && self.current.as_ref().is_some_and(HexPacket::has_content)
            {
                self.finish();
            }
            let packet = self
                .current
                .get_or_insert_with(|| HexPacket::new(number, false));
            if packet.error.is_none() {
                packet.offset_line(number, line, &prefix, &mut self.repeat_budget);
            }
            return;
        }
        let indented = line.starts_with(char::is_whitespace);
        let first = trimmed.split_whitespace().next().unwrap_or_default();
        let is_hex = || parse_hex(line, 0..line.len(), true, &mut Vec::new()).is_ok();
        if !indented && (!looks_like_hex(first) || (header_follows && !is_hex())) {
            self.finish();
            self.current = Some(HexPacket::new(number, true));
            return;
        }
        let in_header = self
            .current
            .as_ref()
            .is_some_and(|packet| packet.header && !packet.has_content());
        if in_header && !is_hex() {
            // More of the header, such as the detail lines of `tcpdump -v`.
            return;
        }
        let packet = self.packet(number);
        if packet.error.is_none() {
            packet.plain_line(number, line);
        }
    }

    /// The packet being read, starting one at line `number` if there is none.
    fn packet(&mut self, number: usize) -> &mut HexPacket {
        self.current
            .get_or_insert_with(|| HexPacket::new(number, false))
    }

    /// Ends the packet being read, if any.
    fn finish(&mut self) {
        let Some(mut packet) = self.current.take() else {
            return;
        };
        if let Some((line, column)) = packet.repeat {
            packet.fail(line, column, "'*' is not followed by an offset line".into());
        }
        if let Some((line, column, detail)) = packet.error {
            self.packets += 1;
            let what = format!("packet {}", self.packets);
            self.problems
                .push(CaptureError::at_line(what, line, column, detail));
            return;
        }
        if packet.bytes.is_empty() {
            return;
        }
        self.packets += 1;
        self.records.push(Record {
            index: self.packets,
            position: Position::Line {
                line: packet.start,
                column: None,
            },
            link: guess_link(&packet.bytes),
            original_len: u32::try_from(packet.bytes.len()).unwrap_or(u32::MAX),
            data: Cow::Owned(packet.bytes),
            timestamp: None,
        });
    }
}

/// The offset at the start of a hex dump line.
#[derive(Debug)]
struct OffsetPrefix {
    /// Where the offset starts in the line.
    start: usize,
    /// Its value, or `None` if it is too large.
    offset: Option<u64>,
    /// Where the hex after it is in the line: up to any ASCII column.
    area: Range<usize>,
}

/// The offset at the start of `line` in a packet laid out as `layout`, if it has one:
///
/// - `0x0010:` as from tcpdump, or `00000010:` as from xxd, whose ASCII column follows two or
///   more spaces;
/// - `00000010` as from `hexdump -C`, `od -A x` and Wireshark, followed by single bytes, whose
///   ASCII column follows three or more spaces or starts with `|` or `>`. These are taken for
///   offsets only if the line is in a packet that has them already or the next word is a single
///   byte, and never in a packet of plain hex.
fn offset_prefix(line: &str, layout: Layout) -> Option<OffsetPrefix> {
    let start = line.len() - line.trim_start().len();
    let rest = &line[start..];
    let length = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let token = &rest[..length];
    let after = start + length;
    let tcpdump = token
        .strip_prefix("0x")
        .or_else(|| token.strip_prefix("0X"));
    let (digits, gap) = if let Some(digits) = tcpdump.and_then(|t| t.strip_suffix(':')) {
        (digits, 2)
    } else if let Some(digits) = token.strip_suffix(':').filter(|digits| digits.len() >= 4) {
        (digits, 2)
    } else {
        let byte_follows = line[after..]
            .split_whitespace()
            .next()
            .is_some_and(|next| next.len() == 2 && next.bytes().all(|b| b.is_ascii_hexdigit()));
        let offsets = matches!(layout, Layout::Offsets { .. });
        if token.len() < 4 || layout == Layout::Plain || !(offsets || byte_follows) {
            return None;
        }
        (token, 3)
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let offset = u64::from_str_radix(digits, 16).ok();
    Some(OffsetPrefix {
        start,
        offset,
        area: after..hex_area_end(line, after, gap),
    })
}

/// Where the hex that starts at `from` in `line` ends: at a `|` or `>` (which start the ASCII
/// columns of `hexdump -C` and `od -t x1z`), or at the first run of `gap` or more whitespace
/// characters after the first hex digit.
fn hex_area_end(line: &str, from: usize, gap: usize) -> usize {
    let area = &line[from..];
    let end = area.find(['|', '>']).unwrap_or(area.len());
    let mut run = 0;
    let mut run_start = 0;
    let mut seen_hex = false;
    for (i, c) in area[..end].char_indices() {
        if !c.is_whitespace() {
            run = 0;
            seen_hex = true;
            continue;
        }
        if run == 0 {
            run_start = i;
        }
        run += 1;
        if seen_hex && run >= gap {
            return from + run_start;
        }
    }
    from + end
}

/// Whether a word reads as hex, with optional `0x` prefixes and `,` or `:` separators.
fn looks_like_hex(word: &str) -> bool {
    let mut pieces = word
        .split([',', ':'])
        .filter(|piece| !piece.is_empty())
        .peekable();
    pieces.peek().is_some()
        && pieces.all(|piece| {
            let digits = piece
                .strip_prefix("0x")
                .or_else(|| piece.strip_prefix("0X"));
            let digits = digits.unwrap_or(piece);
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_hexdigit())
        })
}

/// Appends the bytes written as hex in `range` of `line` to `out`. Groups of digits are
/// separated by whitespace, and in `plain` hex also by `,` or `:`, and may have a `0x` prefix.
/// Each group must have an even number of digits. On failure returns where in the line the
/// problem is and what it is.
fn parse_hex(
    line: &str,
    range: Range<usize>,
    plain: bool,
    out: &mut Vec<u8>,
) -> Result<(), (usize, String)> {
    let is_separator = move |c: char| c.is_whitespace() || (plain && matches!(c, ',' | ':'));
    let area = line.get(range.clone()).unwrap_or_default();
    let mut i = 0;
    while let Some(c) = area[i..].chars().next() {
        if is_separator(c) {
            i += c.len_utf8();
            continue;
        }
        let rest = &area[i..];
        let group = &rest[..rest.find(is_separator).unwrap_or(rest.len())];
        let prefix = if plain && (group.starts_with("0x") || group.starts_with("0X")) {
            2
        } else {
            0
        };
        let digits = &group[prefix..];
        let at = range.start + i;
        if let Some((j, bad)) = digits.char_indices().find(|&(_, c)| !c.is_ascii_hexdigit()) {
            return Err((at + prefix + j, format!("{bad:?} is not a hex digit")));
        }
        if digits.is_empty() {
            return Err((at, "\"0x\" is not followed by hex digits".into()));
        }
        if digits.len() % 2 != 0 {
            let count = digits.len();
            return Err((
                at,
                format!("odd number of hex digits ({count}) in {group:?}"),
            ));
        }
        for pair in digits.as_bytes().chunks_exact(2) {
            if let &[high, low] = pair {
                out.push((nibble(high) << 4) | nibble(low));
            }
        }
        i += group.len();
    }
    Ok(())
}

/// The value of an ASCII hex digit.
fn nibble(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        b'A'..=b'F' => digit - b'A' + 10,
        _ => 0,
    }
}

/// The 1-based column, in characters, of byte `at` of `line`.
fn column_of(line: &str, at: usize) -> usize {
    line.get(..at).map_or(at, |before| before.chars().count()) + 1
}

/// Guesses how a hex dump packet starts: an Ethernet frame carrying IPv4, a bare IPv4 packet,
/// or else a bare BOOTP/DHCP message.
fn guess_link(bytes: &[u8]) -> LinkType {
    let ipv4_header = |packet: &[u8]| {
        packet
            .first()
            .is_some_and(|&first| first >> 4 == 4 && first & 0x0f >= 5)
    };
    if ipv4_in(LinkType::Ethernet, bytes).is_some_and(ipv4_header) {
        LinkType::Ethernet
    } else if ipv4_header(bytes) {
        LinkType::RawIpv4
    } else {
        LinkType::Bootp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes integers in a byte order.
    struct Writer {
        out: Vec<u8>,
        order: Order,
    }

    impl Writer {
        fn new(order: Order) -> Self {
            Self {
                out: Vec::new(),
                order,
            }
        }

        fn u16(&mut self, value: u16) -> &mut Self {
            let bytes = match self.order {
                Order::Little => value.to_le_bytes(),
                Order::Big => value.to_be_bytes(),
            };
            self.bytes(&bytes)
        }

        fn u32(&mut self, value: u32) -> &mut Self {
            let bytes = match self.order {
                Order::Little => value.to_le_bytes(),
                Order::Big => value.to_be_bytes(),
            };
            self.bytes(&bytes)
        }

        fn u64(&mut self, value: u64) -> &mut Self {
            let bytes = match self.order {
                Order::Little => value.to_le_bytes(),
                Order::Big => value.to_be_bytes(),
            };
            self.bytes(&bytes)
        }

        fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
            self.out.extend_from_slice(bytes);
            self
        }

        fn pad(&mut self) -> &mut Self {
            while self.out.len() % 4 != 0 {
                self.out.push(0);
            }
            self
        }

        fn take(&mut self) -> Vec<u8> {
            std::mem::take(&mut self.out)
        }
    }

    /// A classic pcap record: seconds, fraction, captured bytes, original length.
    type PcapRecord<'a> = (u32, u32, &'a [u8], u32);

    /// A classic pcap file with the given magic number, link-type field and records.
    fn pcap(order: Order, magic: u32, linktype: u32, records: &[PcapRecord<'_>]) -> Vec<u8> {
        let mut w = Writer::new(order);
        w.u32(magic)
            .u16(2)
            .u16(4)
            .u32(0)
            .u32(0)
            .u32(65535)
            .u32(linktype);
        for &(seconds, fraction, data, original) in records {
            let length = u32::try_from(data.len()).unwrap();
            w.u32(seconds)
                .u32(fraction)
                .u32(length)
                .u32(original)
                .bytes(data);
        }
        w.take()
    }

    /// Builds pcapng files block by block.
    struct Pcapng {
        out: Vec<u8>,
        order: Order,
    }

    impl Pcapng {
        fn new() -> Self {
            Self {
                out: Vec::new(),
                order: Order::Little,
            }
        }

        fn block(&mut self, block_type: u32, body: &[u8]) -> &mut Self {
            let mut padded = Writer::new(self.order);
            padded.bytes(body).pad();
            let total = u32::try_from(padded.out.len() + 12).unwrap();
            let mut w = Writer::new(self.order);
            w.u32(block_type).u32(total).bytes(&padded.out).u32(total);
            self.out.extend_from_slice(&w.out);
            self
        }

        fn section(&mut self, order: Order) -> &mut Self {
            self.order = order;
            let body = Writer::new(order)
                .u32(0x1a2b_3c4d)
                .u16(1)
                .u16(0)
                .u64(u64::MAX)
                .take();
            self.block(SHB, &body)
        }

        fn interface(&mut self, link: u16, snaplen: u32, options: &[(u16, &[u8])]) -> &mut Self {
            let mut w = Writer::new(self.order);
            w.u16(link).u16(0).u32(snaplen);
            for &(code, value) in options {
                w.u16(code)
                    .u16(u16::try_from(value.len()).unwrap())
                    .bytes(value)
                    .pad();
            }
            w.u32(0);
            let body = w.take();
            self.block(IDB, &body)
        }

        fn enhanced(&mut self, interface: u32, ts: u64, data: &[u8], original: u32) -> &mut Self {
            let mut w = Writer::new(self.order);
            w.u32(interface)
                .u32(u32::try_from(ts >> 32).unwrap())
                .u32(low32(ts));
            w.u32(u32::try_from(data.len()).unwrap())
                .u32(original)
                .bytes(data);
            let body = w.take();
            self.block(EPB, &body)
        }

        fn simple(&mut self, original: u32, data: &[u8]) -> &mut Self {
            let body = Writer::new(self.order).u32(original).bytes(data).take();
            self.block(SPB, &body)
        }

        fn obsolete(&mut self, interface: u16, ts: u64, data: &[u8], original: u32) -> &mut Self {
            let mut w = Writer::new(self.order);
            w.u16(interface)
                .u16(0)
                .u32(u32::try_from(ts >> 32).unwrap())
                .u32(low32(ts));
            w.u32(u32::try_from(data.len()).unwrap())
                .u32(original)
                .bytes(data);
            let body = w.take();
            self.block(PB, &body)
        }

        fn build(&self) -> Vec<u8> {
            self.out.clone()
        }
    }

    fn low32(value: u64) -> u32 {
        u32::try_from(value & 0xffff_ffff).unwrap()
    }

    /// A DHCPDISCOVER as a bare BOOTP message of 300 bytes.
    fn bootp() -> Vec<u8> {
        let mut message = vec![0; 300];
        message[..4].copy_from_slice(&[1, 1, 6, 0]);
        message[4..8].copy_from_slice(&[0x39, 0x03, 0xf3, 0x26]);
        message[28..34].copy_from_slice(&[0x00, 0x11, 0x22, 0x33, 0x44, 0x55]);
        message[236..240].copy_from_slice(&[0x63, 0x82, 0x53, 0x63]);
        message[240..243].copy_from_slice(&[53, 1, 1]);
        message[243] = 255;
        message
    }

    /// `payload` in UDP from port 68 to 67 in IPv4 from 0.0.0.0 to 255.255.255.255.
    fn ipv4_udp(payload: &[u8]) -> Vec<u8> {
        let udp_len = u16::try_from(8 + payload.len()).unwrap();
        let mut w = Writer::new(Order::Big);
        w.bytes(&[0x45, 0])
            .u16(udp_len + 20)
            .u32(0)
            .bytes(&[64, 17, 0, 0])
            .u32(0);
        w.u32(u32::MAX)
            .u16(68)
            .u16(67)
            .u16(udp_len)
            .u16(0)
            .bytes(payload);
        w.take()
    }

    /// `packet` in an Ethernet frame with ethertype `ethertype` and `tags` VLAN tags.
    fn ethernet(packet: &[u8], ethertype: u16, tags: &[u16]) -> Vec<u8> {
        let mut w = Writer::new(Order::Big);
        w.bytes(&[0xff; 6])
            .bytes(&[0x00, 0x11, 0x22, 0x33, 0x44, 0x55]);
        for &tpid in tags {
            w.u16(tpid).u16(42);
        }
        w.u16(ethertype).bytes(packet);
        w.take()
    }

    /// The DHCPDISCOVER in a broadcast Ethernet frame, as the tcpdump output below shows it.
    fn dhcp_frame() -> Vec<u8> {
        ethernet(&ipv4_udp(&bootp()), 0x0800, &[])
    }

    /// A frame whose payload is text that looks like hex in tcpdump's ASCII column.
    fn text_frame() -> Vec<u8> {
        ethernet(&ipv4_udp(b"cafe babe dead beef 0123"), 0x0800, &[])
    }

    /// The first 64 bytes of [`bootp`] followed by "abcd".
    fn short_message() -> Vec<u8> {
        let mut message = bootp();
        message.truncate(64);
        message.extend_from_slice(b"abcd");
        message
    }

    fn read_ok(bytes: &[u8]) -> Capture<'_> {
        match read(bytes) {
            Ok(capture) => capture,
            Err(error) => panic!("unexpected error: {error}"),
        }
    }

    fn read_err(bytes: &[u8]) -> String {
        match read(bytes) {
            Ok(capture) => panic!("unexpected success: {capture:?}"),
            Err(error) => error.to_string(),
        }
    }

    fn problems(capture: &Capture<'_>) -> Vec<String> {
        capture.problems.iter().map(ToString::to_string).collect()
    }

    fn datas(capture: &Capture<'_>) -> Vec<Vec<u8>> {
        capture
            .records
            .iter()
            .map(|record| record.data.to_vec())
            .collect()
    }

    fn indices(capture: &Capture<'_>) -> Vec<usize> {
        capture.records.iter().map(|record| record.index).collect()
    }

    // Classic pcap.

    #[test]
    fn reads_microsecond_pcap_little_endian() {
        let frame = dhcp_frame();
        let file = pcap(
            Order::Little,
            0xa1b2_c3d4,
            1,
            &[
                (1_700_000_000, 123_456, &frame, 342),
                (1_700_000_001, 5, &frame[..60], 342),
            ],
        );
        let capture = read_ok(&file);
        assert_eq!(capture.format, Format::Pcap);
        assert!(capture.problems.is_empty(), "{:?}", capture.problems);
        assert_eq!(indices(&capture), [1, 2]);
        let first = &capture.records[0];
        assert_eq!(first.link, LinkType::Ethernet);
        assert_eq!(first.position, Position::Offset(24));
        assert_eq!(first.data, &frame[..]);
        assert!(matches!(first.data, Cow::Borrowed(_)));
        assert_eq!(first.original_len, 342);
        assert_eq!(first.timestamp, Some((1_700_000_000, 123_456_000)));
        let second = &capture.records[1];
        assert_eq!(second.position, Position::Offset(24 + 16 + 342));
        assert_eq!(second.data, &frame[..60]);
        assert_eq!(second.original_len, 342);
        assert_eq!(second.timestamp, Some((1_700_000_001, 5_000)));
    }

    #[test]
    fn reads_nanosecond_pcap_big_endian() {
        let frame = dhcp_frame();
        let file = pcap(
            Order::Big,
            0xa1b2_3c4d,
            1,
            &[(1_700_000_000, 123_456_789, &frame, 342)],
        );
        assert_eq!(&file[..4], [0xa1, 0xb2, 0x3c, 0x4d]);
        let capture = read_ok(&file);
        assert!(capture.problems.is_empty(), "{:?}", capture.problems);
        assert_eq!(datas(&capture), [frame]);
        assert_eq!(
            capture.records[0].timestamp,
            Some((1_700_000_000, 123_456_789))
        );
    }

    #[test]
    fn reads_every_pcap_byte_order_and_resolution() {
        let frame = dhcp_frame();
        for order in [Order::Little, Order::Big] {
            for (magic, nanos) in [(0xa1b2_c3d4, 0), (0xa1b2_3c4d, 999_999_000)] {
                let fraction = if nanos == 0 { 999_999 } else { nanos };
                let file = pcap(order, magic, 1, &[(7, fraction, &frame, 342)]);
                let capture = read_ok(&file);
                assert_eq!(datas(&capture), [&frame[..]], "{order:?} {magic:#x}");
                assert_eq!(capture.records[0].timestamp, Some((7, 999_999_000)));
            }
        }
    }

    #[test]
    fn carries_excess_pcap_fraction_into_seconds() {
        let file = pcap(Order::Little, 0xa1b2_c3d4, 1, &[(7, 2_500_000, b"x", 1)]);
        assert_eq!(read_ok(&file).records[0].timestamp, Some((9, 500_000_000)));
        let file = pcap(Order::Big, 0xa1b2_3c4d, 1, &[(u32::MAX, u32::MAX, b"x", 1)]);
        let expected = (i64::from(u32::MAX) + 4, 294_967_295);
        assert_eq!(read_ok(&file).records[0].timestamp, Some(expected));
    }

    #[test]
    fn reads_pcap_link_types_ignoring_fcs_bits() {
        let cases = [
            (1, LinkType::Ethernet),
            (0x1000_0001, LinkType::Ethernet),
            (113, LinkType::LinuxSll),
            (276, LinkType::LinuxSll2),
            (101, LinkType::RawIpv4),
            (228, LinkType::RawIpv4),
            (12, LinkType::RawIpv4),
            (14, LinkType::RawIpv4),
            (147, LinkType::Other(147)),
        ];
        for (code, link) in cases {
            let file = pcap(Order::Little, 0xa1b2_c3d4, code, &[(0, 0, b"x", 1)]);
            assert_eq!(read_ok(&file).records[0].link, link, "link type {code:#x}");
        }
    }

    #[test]
    fn reads_modified_pcap_records() {
        let mut w = Writer::new(Order::Little);
        w.u32(0xa1b2_cd34)
            .u16(2)
            .u16(4)
            .u32(0)
            .u32(0)
            .u32(65535)
            .u32(1);
        w.u32(10)
            .u32(20)
            .u32(3)
            .u32(3)
            .u32(2)
            .u16(0x0800)
            .bytes(&[0, 0])
            .bytes(b"abc");
        let file = w.take();
        let capture = read_ok(&file);
        assert!(capture.problems.is_empty(), "{:?}", capture.problems);
        assert_eq!(datas(&capture), [b"abc".to_vec()]);
        assert_eq!(capture.records[0].timestamp, Some((10, 20_000)));
    }

    #[test]
    fn reports_truncated_record_and_keeps_earlier_ones() {
        let frame = dhcp_frame();
        let mut file = pcap(Order::Little, 0xa1b2_c3d4, 1, &[(1, 0, &frame[..], 342); 3]);
        file.truncate(file.len() - 100);
        let capture = read_ok(&file);
        assert_eq!(indices(&capture), [1, 2]);
        let third = 24 + 2 * (16 + 342);
        let message =
            format!("truncated record 3 at offset {third}: needs 358 bytes, file has 258");
        assert_eq!(problems(&capture), [message]);
    }

    #[test]
    fn reports_truncated_record_header() {
        let mut file = pcap(Order::Big, 0xa1b2_c3d4, 1, &[(1, 0, b"abc", 3)]);
        file.extend_from_slice(&[0; 10]);
        let capture = read_ok(&file);
        assert_eq!(indices(&capture), [1]);
        let expected = "truncated record 2 at offset 43: needs 16 bytes, file has 10";
        assert_eq!(problems(&capture), [expected]);
    }

    #[test]
    fn reports_record_longer_than_snapshot_length_but_keeps_it() {
        let mut file = pcap(Order::Little, 0xa1b2_c3d4, 1, &[(1, 0, b"abcdef", 6)]);
        file[16..20].copy_from_slice(&4u32.to_le_bytes());
        let capture = read_ok(&file);
        assert_eq!(indices(&capture), [1]);
        let expected =
            "record 1 at offset 24: captured length 6 exceeds the file's snapshot length 4";
        assert_eq!(problems(&capture), [expected]);
    }

    #[test]
    fn rejects_truncated_pcap_file_header() {
        let file = pcap(Order::Little, 0xa1b2_c3d4, 1, &[]);
        let message = read_err(&file[..20]);
        assert_eq!(
            message,
            "truncated pcap file header at offset 0: needs 24 bytes, file has 20"
        );
    }

    #[test]
    fn rejects_unknown_pcap_major_version_and_notes_minor_one() {
        let mut file = pcap(Order::Little, 0xa1b2_c3d4, 1, &[(1, 0, b"abc", 3)]);
        file[4] = 3;
        let expected = "pcap file header at offset 4: version 3.4 is not supported (expected 2.4)";
        assert_eq!(read_err(&file), expected);
        file[4] = 2;
        file[6] = 3;
        let capture = read_ok(&file);
        assert_eq!(indices(&capture), [1]);
        let expected = "pcap file header at offset 4: version 2.3 is read as version 2.4";
        assert_eq!(problems(&capture), [expected]);
    }

    // pcapng.

    #[test]
    fn reads_pcapng_sections_of_both_byte_orders_with_their_own_interfaces() {
        let frame = dhcp_frame();
        let packet = ipv4_udp(&bootp());
        let mut sll2 = Writer::new(Order::Big);
        sll2.u16(0x0800)
            .u16(0)
            .u32(2)
            .u16(1)
            .bytes(&[0, 6])
            .bytes(&[0; 8])
            .bytes(&packet);
        let sll2 = sll2.take();
        let mut file = Pcapng::new();
        file.section(Order::Little)
            .interface(1, 0, &[])
            .interface(101, 0, &[(9, &[9])])
            .block(4, &[0; 8]) // name resolution
            .enhanced(0, 1_700_000_000_123_456, &frame, 342)
            .block(5, &[0; 12]) // interface statistics
            .block(0x0000_0bad, b"custom!!")
            .enhanced(1, 1_700_000_000_123_456_789, &packet, 328);
        let tsoffset = 1_000i64.to_be_bytes();
        file.section(Order::Big)
            .interface(276, 0, &[(2, b"eth0"), (9, &[0x80 | 20]), (14, &tsoffset)])
            .enhanced(0, (5 << 20) + (1 << 19), &sll2, 348);
        let file = file.build();
        let capture = read_ok(&file);
        assert_eq!(capture.format, Format::Pcapng);
        assert!(capture.problems.is_empty(), "{:?}", capture.problems);
        assert_eq!(indices(&capture), [1, 2, 3]);
        assert_eq!(datas(&capture), [frame, packet.clone(), sll2]);
        let links: Vec<LinkType> = capture.records.iter().map(|r| r.link).collect();
        assert_eq!(
            links,
            [LinkType::Ethernet, LinkType::RawIpv4, LinkType::LinuxSll2]
        );
        let times: Vec<_> = capture.records.iter().map(|r| r.timestamp).collect();
        let expected = [
            Some((1_700_000_000, 123_456_000)),
            Some((1_700_000_000, 123_456_789)),
            Some((1_005, 500_000_000)),
        ];
        assert_eq!(times, expected);
        assert_eq!(
            capture.records[0].position,
            Position::Offset(28 + 24 + 32 + 20)
        );
        for record in &capture.records {
            assert_eq!(record.ipv4(), Some(&packet[..]));
        }
    }

    #[test]
    fn reads_simple_and_obsolete_packet_blocks() {
        let frame = dhcp_frame();
        for order in [Order::Little, Order::Big] {
            let mut file = Pcapng::new();
            file.section(order)
                .interface(1, 100, &[(9, &[3])])
                .simple(342, &frame)
                .simple(20, &frame[..20])
                .simple(30, &frame[..30])
                .obsolete(0, 12_345, &frame[..100], 342);
            let file = file.build();
            let capture = read_ok(&file);
            assert!(capture.problems.is_empty(), "{:?}", capture.problems);
            assert_eq!(indices(&capture), [1, 2, 3, 4]);
            let lengths: Vec<usize> = capture.records.iter().map(|r| r.data.len()).collect();
            assert_eq!(lengths, [100, 20, 30, 100]);
            let originals: Vec<u32> = capture.records.iter().map(|r| r.original_len).collect();
            assert_eq!(originals, [342, 20, 30, 342]);
            assert_eq!(capture.records[0].timestamp, None);
            assert_eq!(capture.records[3].timestamp, Some((12, 345_000_000)));
            assert_eq!(capture.records[3].data, &frame[..100]);
        }
    }

    #[test]
    fn reports_undefined_interface_and_goes_on() {
        let mut file = Pcapng::new();
        file.section(Order::Little)
            .interface(1, 0, &[])
            .enhanced(0, 0, b"one", 3)
            .enhanced(1, 0, b"two", 3)
            .section(Order::Big)
            .simple(5, b"three")
            .interface(101, 0, &[])
            .enhanced(0, 0, b"four", 4);
        let file = file.build();
        let capture = read_ok(&file);
        assert_eq!(indices(&capture), [1, 4]);
        assert_eq!(datas(&capture), [b"one".to_vec(), b"four".to_vec()]);
        let expected = [
            "packet 2 at offset 88: interface 1 is not defined (the section has 1 interfaces)",
            "packet 3 at offset 152: interface 0 is not defined (the section has 0 interfaces)",
        ];
        assert_eq!(problems(&capture), expected);
    }

    #[test]
    fn reports_captured_length_overrunning_its_block() {
        let mut file = Pcapng::new();
        file.section(Order::Little)
            .interface(1, 0, &[])
            .enhanced(0, 0, b"abcd", 4);
        let mut file = file.build();
        let epb = 28 + 24;
        file[epb + 20..epb + 24].copy_from_slice(&9u32.to_le_bytes());
        let capture = read_ok(&file);
        assert!(capture.records.is_empty());
        let expected = "packet 1 at offset 52: captured length 9 overruns the block's 4 bytes";
        assert_eq!(problems(&capture), [expected]);
    }

    #[test]
    fn reports_bad_interface_options() {
        let mut file = Pcapng::new();
        file.section(Order::Little)
            .interface(1, 0, &[(9, &[100])])
            .enhanced(0, 5, b"one", 3)
            .interface(1, 0, &[(2, b"eth0")]);
        let mut file = file.build();
        // Make the second interface's option claim more bytes than its block has.
        let option = file.len() - 4 - 4 - 8;
        file[option + 2..option + 4].copy_from_slice(&40u16.to_le_bytes());
        file.extend_from_slice(
            &Pcapng {
                out: Vec::new(),
                order: Order::Little,
            }
            .enhanced(1, 5, b"two", 3)
            .build(),
        );
        let capture = read_ok(&file);
        assert_eq!(indices(&capture), [1, 2]);
        assert_eq!(capture.records[0].timestamp, None);
        assert_eq!(capture.records[1].timestamp, Some((0, 5_000)));
        let expected = [
            "pcapng interface description at offset 44: timestamp resolution 0x64 is too fine",
            format!(
                "pcapng interface description at offset {option}: option 2 of 40 bytes \
                     overruns the block"
            )
            .as_str(),
        ]
        .map(String::from);
        assert_eq!(problems(&capture), expected);
    }

    #[test]
    fn stops_at_block_length_not_multiple_of_four() {
        let mut file = Pcapng::new();
        file.section(Order::Little)
            .interface(1, 0, &[])
            .enhanced(0, 0, b"one", 3);
        let mut file = file.build();
        let good = file.len();
        file.extend_from_slice(&file.clone()[48..]);
        file[good + 4..good + 8].copy_from_slice(&7u32.to_le_bytes());
        let capture = read_ok(&file);
        assert_eq!(indices(&capture), [1]);
        let expected =
            format!("pcapng block at offset {good}: total length 7 is not a multiple of 4");
        assert_eq!(problems(&capture), [expected]);
    }

    #[test]
    fn stops_at_bad_block_lengths() {
        let mut base = Pcapng::new();
        base.section(Order::Big).interface(1, 0, &[]);
        let base = base.build();
        let mut tail = Pcapng {
            out: Vec::new(),
            order: Order::Big,
        };
        tail.enhanced(0, 0, b"one", 3);
        let tail = tail.build();
        let at = base.len();
        let cases: [(u32, Option<u32>, String); 3] = [
            (
                8,
                None,
                format!("pcapng block at offset {at}: total length 8 is less than 12"),
            ),
            (
                400,
                None,
                format!(
                    "pcapng block at offset {at}: total length 400 overruns the file, \
                     which has 36 bytes from here"
                ),
            ),
            (
                36,
                Some(32),
                format!(
                    "pcapng block at offset {at}: trailing total length 32 does not match \
                     the leading one, 36"
                ),
            ),
        ];
        for (total, trailer, message) in cases {
            let mut file = [base.clone(), tail.clone()].concat();
            file[at + 4..at + 8].copy_from_slice(&total.to_be_bytes());
            if let Some(trailer) = trailer {
                let end = file.len();
                file[end - 4..].copy_from_slice(&trailer.to_be_bytes());
            }
            let capture = read_ok(&file);
            assert!(capture.records.is_empty());
            assert_eq!(problems(&capture), [message]);
        }
        let mut file = [base.clone(), tail.clone()].concat();
        file.truncate(at + 6);
        let expected = format!(
            "pcapng block at offset {at}: truncated block header: needs 12 bytes, file has 6"
        );
        assert_eq!(problems(&read_ok(&file)), [expected]);
    }

    #[test]
    fn rejects_bad_first_section_header() {
        let mut file = Pcapng::new();
        file.section(Order::Little).interface(1, 0, &[]);
        let good = file.build();
        let mut bad = good.clone();
        bad[4] = 27;
        let expected = "pcapng block at offset 0: total length 27 is not a multiple of 4";
        assert_eq!(read_err(&bad), expected);
        let mut bad = good.clone();
        bad[12] = 2;
        let expected =
            "pcapng section header at offset 0: version 2.0 is not supported (expected 1.0)";
        assert_eq!(read_err(&bad), expected);
        let mut bad = good.clone();
        bad[8] = 0;
        let expected =
            "pcapng section header at offset 0: byte-order magic 00 3c 2b 1a is not 1a 2b 3c 4d";
        assert_eq!(read_err(&bad), expected);
        assert_eq!(
            read_err(&good[..10]),
            "pcapng block at offset 0: truncated block header: needs 12 bytes, file has 10"
        );
    }

    #[test]
    fn reports_bad_later_section_header_and_stops() {
        let mut file = Pcapng::new();
        file.section(Order::Little)
            .interface(1, 0, &[])
            .enhanced(0, 0, b"one", 3);
        let at = file.out.len();
        file.section(Order::Big)
            .interface(1, 0, &[])
            .enhanced(0, 0, b"two", 3);
        let mut file = file.build();
        file[at + 8..at + 12].copy_from_slice(b"\x1a\x2b\x3c\x4e");
        let capture = read_ok(&file);
        assert_eq!(indices(&capture), [1]);
        let expected = format!(
            "pcapng section header at offset {at}: byte-order magic 1a 2b 3c 4e is not 1a 2b 3c 4d"
        );
        assert_eq!(problems(&capture), [expected]);
    }

    #[test]
    fn converts_pcapng_timestamp_resolutions() {
        let interface = |tsresol, offset_seconds| Interface {
            link: LinkType::Ethernet,
            snaplen: 0,
            units_per_second: units_per_second(tsresol),
            offset_seconds,
        };
        assert_eq!(interface(6, 0).timestamp(1_500_000), Some((1, 500_000_000)));
        assert_eq!(interface(0, 0).timestamp(42), Some((42, 0)));
        assert_eq!(interface(3, -10).timestamp(2_250), Some((-8, 250_000_000)));
        assert_eq!(
            interface(0x80 | 10, 0).timestamp(1024 + 512),
            Some((1, 500_000_000))
        );
        assert_eq!(interface(38, 0).timestamp(u64::MAX), Some((0, 0)));
        let fine = interface(0x80 | 127, 0).timestamp(u64::MAX);
        assert_eq!(fine, Some((0, 0)));
        assert_eq!(interface(0x80, 0).timestamp(u64::MAX), None);
        assert_eq!(interface(0x80, i64::MAX).timestamp(1), None);
        assert_eq!(interface(39, 0).timestamp(1), None);
    }

    // Hex dumps.

    /// `tcpdump -XX -vv` output, with its second detail line shortened.
    const TCPDUMP_XX_VV: &str = "\
22:13:21.000005 IP (tos 0x0, ttl 64, id 0, offset 0, flags [none], proto UDP (17), length 52)\n\
\x20   0.0.0.0.68 > 255.255.255.255.67: [no cksum] BOOTP/DHCP, unknown (0x63), length 24,\n\
\t  Client-IP 97.100.32.98\n\
\t  Your-IP 101.101.102.32\n\
\t  Server-IP 48.49.50.51 [|bootp]\n\
\t0x0000:  ffff ffff ffff 0011 2233 4455 0800 4500  ........\"3DU..E.\n\
\t0x0010:  0034 0000 0000 4011 0000 0000 0000 ffff  .4....@.........\n\
\t0x0020:  ffff 0044 0043 0020 0000 6361 6665 2062  ...D.C....cafe.b\n\
\t0x0030:  6162 6520 6465 6164 2062 6565 6620 3031  abe.dead.beef.01\n\
\t0x0040:  3233                                     23\n\
22:13:21.000006 IP (tos 0x0, ttl 64, id 0, offset 0, flags [none], proto UDP (17), length 52)\n\
\t0x0000:  ffff ffff ffff 0011 2233 4455 0800 4500  ........\"3DU..E.\n\
\t0x0010:  0034 0000 0000 4011 0000 0000 0000 ffff  .4....@.........\n\
\t0x0020:  ffff 0044 0043 0020 0000 6361 6665 2062  ...D.C....cafe.b\n\
\t0x0030:  6162 6520 6465 6164 2062 6565 6620 3031  abe.dead.beef.01\n\
\t0x0040:  3233                                     23\n\
";

    /// `tcpdump -xx` output.
    const TCPDUMP_XX: &str = "\
22:13:21.000005 IP 0.0.0.0.68 > 255.255.255.255.67: BOOTP/DHCP, unknown (0x63), length 24\n\
\t0x0000:  ffff ffff ffff 0011 2233 4455 0800 4500\n\
\t0x0010:  0034 0000 0000 4011 0000 0000 0000 ffff\n\
\t0x0020:  ffff 0044 0043 0020 0000 6361 6665 2062\n\
\t0x0030:  6162 6520 6465 6164 2062 6565 6620 3031\n\
\t0x0040:  3233\n\
";

    /// `tcpdump -X` output: no link-layer header.
    const TCPDUMP_X: &str = "\
22:13:21.000005 IP 0.0.0.0.68 > 255.255.255.255.67: BOOTP/DHCP, unknown (0x63), length 24\n\
\t0x0000:  4500 0034 0000 0000 4011 0000 0000 0000  E..4....@.......\n\
\t0x0010:  ffff ffff 0044 0043 0020 0000 6361 6665  .....D.C....cafe\n\
\t0x0020:  2062 6162 6520 6465 6164 2062 6565 6620  .babe.dead.beef.\n\
\t0x0030:  3031 3233                                0123\n\
";

    /// `xxd` output whose last ASCII column reads as hex.
    const XXD: &str = "\
00000000: 0101 0600 3903 f326 0000 0000 0000 0000  ....9..&........\n\
00000010: 0000 0000 0000 0000 0000 0000 0011 2233  ..............\"3\n\
00000020: 4455 0000 0000 0000 0000 0000 0000 0000  DU..............\n\
00000030: 0000 0000 0000 0000 0000 0000 0000 0000  ................\n\
00000040: 6162 6364                                abcd\n\
";

    /// `xxd -a` output, which replaces runs of zero lines by `*`.
    const XXD_AUTOSKIP: &str = "\
00000000: 0101 0600 3903 f326 0000 0000 0000 0000  ....9..&........\n\
00000010: 0000 0000 0000 0000 0000 0000 0011 2233  ..............\"3\n\
00000020: 4455 0000 0000 0000 0000 0000 0000 0000  DU..............\n\
00000030: 0000 0000 0000 0000 0000 0000 0000 0000  ................\n\
*\n\
000000e0: 0000 0000 0000 0000 0000 0000 6382 5363  ............c.Sc\n\
000000f0: 3501 01ff 0000 0000 0000 0000 0000 0000  5...............\n\
00000100: 0000 0000 0000 0000 0000 0000 0000 0000  ................\n\
00000110: 0000 0000 0000 0000 0000 0000 0000 0000  ................\n\
00000120: 0000 0000 0000 0000 0000 0000            ............\n\
";

    /// `hexdump -C` output.
    const HEXDUMP_C: &str = "\
00000000  01 01 06 00 39 03 f3 26  00 00 00 00 00 00 00 00  |....9..&........|\n\
00000010  00 00 00 00 00 00 00 00  00 00 00 00 00 11 22 33  |..............\"3|\n\
00000020  44 55 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |DU..............|\n\
00000030  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n\
*\n\
000000e0  00 00 00 00 00 00 00 00  00 00 00 00 63 82 53 63  |............c.Sc|\n\
000000f0  35 01 01 ff 00 00 00 00  00 00 00 00 00 00 00 00  |5...............|\n\
00000100  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n\
*\n\
00000120  00 00 00 00 00 00 00 00  00 00 00 00              |............|\n\
0000012c\n\
";

    /// `od -A x -t x1` output, then `od -A x -t x1z` output.
    const OD: &str = "\
000000 01 01 06 00 39 03 f3 26 00 00 00 00 00 00 00 00\n\
000010 00 00 00 00 00 00 00 00 00 00 00 00 00 11 22 33\n\
000020 44 55 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n\
000030 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n\
*\n\
0000e0 00 00 00 00 00 00 00 00 00 00 00 00 63 82 53 63\n\
0000f0 35 01 01 ff 00 00 00 00 00 00 00 00 00 00 00 00\n\
000100 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n\
*\n\
000120 00 00 00 00 00 00 00 00 00 00 00 00\n\
00012c\n\
\n\
000000 01 01 06 00 39 03 f3 26 00 00 00 00 00 00 00 00  >....9..&........<\n\
000010 00 00 00 00 00 00 00 00 00 00 00 00 00 11 22 33  >..............\"3<\n\
000020 44 55 00 00 00 00 00 00 00 00 00 00 00 00 00 00  >DU..............<\n\
000030 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  >................<\n\
000040 61 62 63 64                                      >abcd<\n\
000044\n\
";

    /// `xxd -p` output, then `xxd -i` output.
    const XXD_PLAIN: &str = "\
010106003903f32600000000000000000000000000000000000000000011\n\
223344550000000000000000000000000000000000000000000000000000\n\
0000000061626364\n\
\n\
unsigned char short_bin[] = {\n\
  0x01, 0x01, 0x06, 0x00, 0x39, 0x03, 0xf3, 0x26, 0x00, 0x00, 0x00, 0x00,\n\
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,\n\
  0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x00,\n\
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,\n\
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,\n\
  0x00, 0x00, 0x00, 0x00, 0x61, 0x62, 0x63, 0x64\n\
};\n\
unsigned int short_bin_len = 68;\n\
";

    fn read_hex_ok(text: &str) -> Capture<'_> {
        let capture = read_ok(text.as_bytes());
        assert_eq!(capture.format, Format::Hex);
        capture
    }

    #[test]
    fn skips_ascii_column_in_tcpdump_xx_dump() {
        let capture = read_hex_ok(TCPDUMP_XX_VV);
        assert!(capture.problems.is_empty(), "{:?}", capture.problems);
        assert_eq!(datas(&capture), [text_frame(), text_frame()]);
        assert_eq!(indices(&capture), [1, 2]);
        let record = &capture.records[0];
        assert_eq!(record.link, LinkType::Ethernet);
        assert_eq!(
            record.position,
            Position::Line {
                line: 1,
                column: None
            }
        );
        assert_eq!(record.original_len, 66);
        assert_eq!(record.timestamp, None);
        assert!(matches!(record.data, Cow::Owned(_)));
        let second = Position::Line {
            line: 11,
            column: None,
        };
        assert_eq!(capture.records[1].position, second);
    }

    #[test]
    fn reads_tcpdump_dumps_with_and_without_link_header() {
        let capture = read_hex_ok(TCPDUMP_XX);
        assert!(capture.problems.is_empty(), "{:?}", capture.problems);
        assert_eq!(datas(&capture), [text_frame()]);
        assert_eq!(capture.records[0].link, LinkType::Ethernet);
        let capture = read_hex_ok(TCPDUMP_X);
        assert!(capture.problems.is_empty(), "{:?}", capture.problems);
        assert_eq!(datas(&capture), [text_frame()[14..].to_vec()]);
        assert_eq!(capture.records[0].link, LinkType::RawIpv4);
    }

    #[test]
    fn splits_tcpdump_dump_on_header_starting_with_mac_address() {
        let text = "\
00:11:22:33:44:55 > ff:ff:ff:ff:ff:ff, ethertype IPv4 (0x0800), length 342: IP ...\n\
\t0x0000:  0101\n\
00:11:22:33:44:55 > ff:ff:ff:ff:ff:ff, ethertype IPv4 (0x0800), length 342: IP ...\n\
\t0x0000:  0202\n\
";
        let capture = read_hex_ok(text);
        assert!(capture.problems.is_empty(), "{:?}", capture.problems);
        assert_eq!(datas(&capture), [vec![1, 1], vec![2, 2]]);
        assert_eq!(
            capture.records[1].position,
            Position::Line {
                line: 3,
                column: None
            }
        );
    }

    #[test]
    fn skips_ascii_column_in_xxd_dump() {
        let capture = read_hex_ok(XXD);
        assert!(capture.problems.is_empty(), "{:?}", capture.problems);
        assert_eq!(datas(&capture), [short_message()]);
        assert_eq!(capture.records[0].link, LinkType::Bootp);
        assert_eq!(capture.records[0].ipv4(), None);
    }

    #[test]
    fn expands_repeat_markers() {
        for text in [XXD_AUTOSKIP, HEXDUMP_C] {
            let capture = read_hex_ok(text);
            assert!(capture.problems.is_empty(), "{:?}", capture.problems);
            assert_eq!(datas(&capture), [bootp()]);
            assert_eq!(capture.records[0].link, LinkType::Bootp);
        }
    }

    #[test]
    fn reads_od_dumps_with_and_without_ascii_column() {
        let capture = read_hex_ok(OD);
        assert!(capture.problems.is_empty(), "{:?}", capture.problems);
        assert_eq!(datas(&capture), [bootp(), short_message()]);
        assert_eq!(indices(&capture), [1, 2]);
        assert_eq!(
            capture.records[1].position,
            Position::Line {
                line: 13,
                column: None
            }
        );
    }

    #[test]
    fn reads_wireshark_hex_dump() {
        let text = "\
0000   ff ff ff ff ff ff 00 11 22 33 44 55 08 00 45 00   ........\"3DU..E.\n\
0010   00 34 00 00 00 00 40 11 00 00 00 00 00 00 ff ff   .4....@.........\n\
0020   ff ff 00 44 00 43 00 20 00 00 63 61 66 65 20 62   ...D.C....cafe b\n\
0030   61 62 65 20 64 65 61 64 20 62 65 65 66 20 30 31   abe dead beef 01\n\
0040   32 33                                             23\n\
";
        let capture = read_hex_ok(text);
        assert!(capture.problems.is_empty(), "{:?}", capture.problems);
        assert_eq!(datas(&capture), [text_frame()]);
    }

    #[test]
    fn reads_plain_hex_forms() {
        let capture = read_hex_ok(XXD_PLAIN);
        assert!(capture.problems.is_empty(), "{:?}", capture.problems);
        assert_eq!(datas(&capture), [short_message(), short_message()]);
        assert_eq!(
            capture.records[1].position,
            Position::Line {
                line: 5,
                column: None
            }
        );

        let text = "\
# A comment before the first packet.\n\
0x01 0x02 0X0a\n\
ff:ee:dd  CC,bb\n\
\n\
\n\
# One long line:\n\
0123456789abcdef\n\
# A comment does not end a packet.\n\
  aa bb\n\
";
        let capture = read_hex_ok(text);
        assert!(capture.problems.is_empty(), "{:?}", capture.problems);
        let expected = [
            vec![1, 2, 10, 0xff, 0xee, 0xdd, 0xcc, 0xbb],
            vec![0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xaa, 0xbb],
        ];
        assert_eq!(datas(&capture), expected);
        assert_eq!(
            capture.records[0].position,
            Position::Line {
                line: 2,
                column: None
            }
        );
    }

    #[test]
    fn accepts_crlf_line_ends_and_byte_order_mark() {
        let text = format!("\u{feff}{}", HEXDUMP_C.replace('\n', "\r\n"));
        let capture = read_hex_ok(&text);
        assert!(capture.problems.is_empty(), "{:?}", capture.problems);
        assert_eq!(datas(&capture), [bootp()]);
    }

    #[test]
    fn reports_bad_plain_hex_line_followed_by_indented_hex() {
        let capture = read_hex_ok("01 02 zz\n  03 04\n");
        assert!(capture.records.is_empty());
        let expected = "packet 1 at line 1, column 7: 'z' is not a hex digit";
        assert_eq!(problems(&capture), [expected]);
    }

    #[test]
    fn reports_odd_hex_digits_with_line_and_column_and_goes_on() {
        let text = "01 02\n03 0405 060\n07\n\nff\n";
        let capture = read_hex_ok(text);
        assert_eq!(datas(&capture), [vec![0xff]]);
        assert_eq!(indices(&capture), [2]);
        let expected = "packet 1 at line 2, column 9: odd number of hex digits (3) in \"060\"";
        assert_eq!(problems(&capture), [expected]);
        assert_eq!(
            capture.problems[0].position,
            Some(Position::Line {
                line: 2,
                column: Some(9)
            })
        );
    }

    #[test]
    fn reports_non_hex_character_with_line_and_column() {
        let text = "ab cd\n  ef 0g\n\n\t0x0000:  0102 zz03\n\nab é\n\n01 0x\n";
        let capture = read_hex_ok(text);
        assert!(capture.records.is_empty());
        let expected = [
            "packet 1 at line 2, column 7: 'g' is not a hex digit",
            "packet 2 at line 4, column 16: 'z' is not a hex digit",
            "packet 3 at line 6, column 4: 'é' is not a hex digit",
            "packet 4 at line 8, column 4: \"0x\" is not followed by hex digits",
        ];
        assert_eq!(problems(&capture), expected);
    }

    #[test]
    fn reports_offset_problems() {
        let text = "\
00000000: 0102 0304\n\
00000008: 0506\n\
\n\
000000 01 02 03 04\n\
*\n\
000007\n\
\n\
000000 01 02\n\
*\n\
\n\
0000 ff ff\n\
\x20 01 02\n\
\n\
ab\n\
0x0002: cd\n\
\n\
000000 01 02\n\
0002 03 04\n\
000000 05 06\n\
0002 07\n\
";
        let capture = read_hex_ok(text);
        let expected = [
            "packet 1 at line 2, column 1: offset 0x8 does not follow on from 0x4",
            "packet 2 at line 6, column 1: offset 0x7 is not 0x4 plus whole repeated 4-byte lines \
             after the '*' at line 5",
            "packet 3 at line 9, column 1: '*' is not followed by an offset line",
            "packet 4 at line 12, column 3: expected an offset at the start of the line",
            "packet 5 at line 15, column 1: offset line in a packet of plain hex",
        ];
        assert_eq!(problems(&capture), expected);
        assert_eq!(datas(&capture), [vec![1, 2, 3, 4], vec![5, 6, 7]]);
        assert_eq!(indices(&capture), [6, 7]);
    }

    #[test]
    fn limits_what_repeat_markers_add() {
        let text = "000000 00 00\n*\n040002\n";
        let capture = read_hex_ok(text);
        let expected = "packet 1 at line 3, column 1: offset 0x40002 makes the packet longer than \
                        262144 bytes after the '*' at line 2";
        assert_eq!(problems(&capture), [expected]);
        let capture = read_hex_ok("000000 00 00\n*\n040000\n");
        assert_eq!(datas(&capture), [vec![0; 262_144]]);
        let mut packet = HexPacket::new(1, false);
        let mut budget = 10;
        let prefix = offset_prefix("000000 01 02", Layout::Unknown).unwrap();
        packet.offset_line(1, "000000 01 02", &prefix, &mut budget);
        packet.repeat_line(2, 1);
        let prefix = offset_prefix("00000a 03 04", packet.layout).unwrap();
        packet.offset_line(3, "00000a 03 04", &prefix, &mut budget);
        assert_eq!(packet.bytes, [1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 3, 4]);
        assert_eq!((budget, &packet.error), (2, &None));
        packet.repeat_line(4, 1);
        let prefix = offset_prefix("000010", packet.layout).unwrap();
        packet.offset_line(5, "000010", &prefix, &mut budget);
        let detail = format!(
            "repeat markers add more than {MAX_HEX_REPEATED} bytes to the file after the '*' at \
             line 4"
        );
        assert_eq!(packet.error, Some((5, 1, detail)));
    }

    #[test]
    fn guesses_link_type_of_hex_packets() {
        let packet = ipv4_udp(&bootp());
        let cases = [
            (dhcp_frame(), LinkType::Ethernet),
            (ethernet(&packet, 0x8100, &[]), LinkType::Bootp),
            (ethernet(&packet, 0x0800, &[0x8100]), LinkType::Ethernet),
            (
                ethernet(&packet, 0x0800, &[0x88a8, 0x8100]),
                LinkType::Ethernet,
            ),
            (ethernet(&packet, 0x86dd, &[]), LinkType::Bootp),
            (packet.clone(), LinkType::RawIpv4),
            (bootp(), LinkType::Bootp),
            (vec![0x44, 0, 0], LinkType::Bootp),
        ];
        for (bytes, link) in cases {
            let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let capture = read_hex_ok(&text);
            assert_eq!(capture.records[0].link, link, "{text}");
        }
    }

    #[test]
    fn rejects_binary_garbage() {
        let elf = b"\x7fELF\x02\x01\x01\x00\x00\x00";
        let expected = "not a pcap, pcapng or hex dump file: starts with bytes 7f 45 4c 46";
        assert_eq!(read_err(elf), expected);
        let expected = "not a pcap, pcapng or hex dump file: starts with bytes ff 00";
        assert_eq!(read_err(&[0xff, 0]), expected);
        let expected = "not a pcap, pcapng or hex dump file: starts with bytes 30 31 00 30";
        assert_eq!(read_err(b"01\x0002"), expected);
    }

    #[test]
    fn rejects_empty_file_and_text_without_hex() {
        assert_eq!(read_err(b""), "empty file: there are no packets to read");
        let expected = "not a pcap, pcapng or hex dump file: the text holds no hex data";
        assert_eq!(read_err(b"Hello, world.\nHow are you?\n"), expected);
        assert_eq!(read_err(b"# only a comment\n\n   \n"), expected);
    }

    #[test]
    fn reads_text_starting_like_pcapng_as_hex() {
        let capture = read_hex_ok("\n\r\r\n0102\n");
        assert_eq!(datas(&capture), [vec![1, 2]]);
    }

    #[test]
    fn finds_ipv4_behind_each_link_type() {
        let packet = ipv4_udp(&bootp());
        let mut sll = Writer::new(Order::Big);
        sll.u16(0)
            .u16(1)
            .u16(6)
            .bytes(&[0; 8])
            .u16(0x0800)
            .bytes(&packet);
        let sll = sll.take();
        let mut sll2 = Writer::new(Order::Big);
        sll2.u16(0x0800)
            .u16(0)
            .u32(2)
            .u16(1)
            .bytes(&[0, 6])
            .bytes(&[0; 8])
            .bytes(&packet);
        let sll2 = sll2.take();
        let record = |link, data: &[u8]| Record {
            index: 1,
            position: Position::Offset(0),
            link,
            data: Cow::Owned(data.to_vec()),
            original_len: 0,
            timestamp: None,
        };
        let found = [
            (LinkType::Ethernet, dhcp_frame()),
            (LinkType::Ethernet, ethernet(&packet, 0x0800, &[0x8100])),
            (
                LinkType::Ethernet,
                ethernet(&packet, 0x0800, &[0x88a8, 0x8100]),
            ),
            (LinkType::LinuxSll, sll.clone()),
            (LinkType::LinuxSll2, sll2.clone()),
            (LinkType::RawIpv4, packet.clone()),
        ];
        for (link, data) in found {
            assert_eq!(record(link, &data).ipv4(), Some(&packet[..]), "{link:?}");
        }
        let mut ipv6 = packet.clone();
        ipv6[0] = 0x60;
        let not_found = [
            (LinkType::Ethernet, ethernet(&packet, 0x86dd, &[])),
            (
                LinkType::Ethernet,
                ethernet(&packet, 0x0800, &[0x8100, 0x8100, 0x8100]),
            ),
            (LinkType::Ethernet, dhcp_frame()[..13].to_vec()),
            (LinkType::LinuxSll, sll[..15].to_vec()),
            (LinkType::LinuxSll, dhcp_frame()),
            (LinkType::LinuxSll2, sll2[..19].to_vec()),
            (LinkType::RawIpv4, ipv6),
            (LinkType::RawIpv4, Vec::new()),
            (LinkType::Bootp, bootp()),
            (LinkType::Other(147), packet.clone()),
        ];
        for (link, data) in not_found {
            assert_eq!(record(link, &data).ipv4(), None, "{link:?} {data:02x?}");
        }
        let short = ethernet(&[], 0x0800, &[]);
        assert_eq!(record(LinkType::Ethernet, &short).ipv4(), Some(&[][..]));
    }

    #[test]
    fn displays_errors_with_their_position() {
        let error = CaptureError::at_line("packet 2", 3, 4, "bad".into());
        assert_eq!(error.to_string(), "packet 2 at line 3, column 4: bad");
        let error = CaptureError {
            what: "packet 1".into(),
            position: Some(Position::Line {
                line: 7,
                column: None,
            }),
            detail: "bad".into(),
        };
        assert_eq!(error.to_string(), "packet 1 at line 7: bad");
        let error: &dyn std::error::Error = &error;
        assert!(error.source().is_none());
    }

    // Robustness.

    /// A xorshift pseudo-random generator.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            let n = u64::try_from(n.max(1)).unwrap();
            usize::try_from(self.next() % n).unwrap()
        }

        fn byte(&mut self) -> u8 {
            self.next().to_le_bytes()[0]
        }
    }

    /// Reads `bytes` and uses everything that comes out.
    fn exercise(bytes: &[u8]) {
        match read(bytes) {
            Ok(capture) => {
                for (i, record) in capture.records.iter().enumerate() {
                    assert!(record.index > i);
                    let _ = record.ipv4();
                    if let Some((_, nanos)) = record.timestamp {
                        assert!(nanos < 1_000_000_000);
                    }
                }
                for problem in &capture.problems {
                    assert!(!problem.to_string().is_empty());
                }
            }
            Err(error) => assert!(!error.to_string().is_empty()),
        }
    }

    #[test]
    fn survives_random_bytes_and_text() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let alphabet: Vec<char> = "0123456789abcdefABCDEFxX \t\n\r:,|>*#.gé\u{feff}"
            .chars()
            .collect();
        for _ in 0..4000 {
            let length = rng.below(300);
            let bytes: Vec<u8> = (0..length).map(|_| rng.byte()).collect();
            exercise(&bytes);
            let text: String = (0..length)
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect();
            exercise(text.as_bytes());
        }
    }

    #[test]
    fn survives_mutated_captures() {
        let frame = dhcp_frame();
        let mut pcapng = Pcapng::new();
        pcapng
            .section(Order::Little)
            .interface(1, 0, &[(9, &[9]), (14, &[1; 8])])
            .enhanced(0, 1, &frame[..80], 342)
            .simple(60, &frame[..60])
            .section(Order::Big)
            .interface(276, 64, &[(9, &[0x85])])
            .obsolete(0, 2, &frame[..40], 40)
            .block(5, &[0; 12]);
        let samples = [
            pcap(
                Order::Little,
                0xa1b2_c3d4,
                1,
                &[(1, 2, &frame[..90], 342), (3, 4, b"ab", 2)],
            ),
            pcap(Order::Big, 0xa1b2_3c4d, 113, &[(1, 2, &frame[..50], 50)]),
            pcapng.build(),
            TCPDUMP_XX_VV.as_bytes().to_vec(),
            HEXDUMP_C.as_bytes().to_vec(),
            OD.as_bytes().to_vec(),
            XXD_AUTOSKIP.as_bytes().to_vec(),
            XXD_PLAIN.as_bytes().to_vec(),
        ];
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for sample in &samples {
            exercise(sample);
            for _ in 0..1500 {
                let mut bytes = sample.clone();
                for _ in 0..=rng.below(4) {
                    let at = rng.below(bytes.len());
                    match rng.below(7) {
                        0 => bytes.truncate(at),
                        1 => bytes.insert(at, rng.byte()),
                        2 if at < bytes.len() => {
                            bytes.remove(at);
                        }
                        3 => {
                            let end = (at + rng.below(40)).min(bytes.len());
                            let chunk = bytes[at..end].to_vec();
                            let to = rng.below(bytes.len() + 1);
                            bytes.splice(to..to, chunk);
                        }
                        4 => {
                            let value = [0, 0xff, 0x7f, 0x80, b'*', b'\n', b' '][rng.below(7)];
                            if let Some(byte) = bytes.get_mut(at) {
                                *byte = value;
                            }
                        }
                        _ => {
                            if let Some(byte) = bytes.get_mut(at) {
                                *byte ^= 1 << rng.below(8);
                            }
                        }
                    }
                }
                exercise(&bytes);
            }
        }
    }
}
