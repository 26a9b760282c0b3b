//! BOOTP/DHCP messages (RFC 2131 §2, RFC 951): a checked view over bytes, and an owned form.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +---------------+---------------+---------------+---------------+
//! |     op (1)    |   htype (1)   |   hlen (1)    |   hops (1)    |
//! +---------------+---------------+---------------+---------------+
//! |                            xid (4)                            |
//! +-------------------------------+-------------------------------+
//! |           secs (2)            |           flags (2)           |
//! +-------------------------------+-------------------------------+
//! |                          ciaddr  (4)                          |
//! |                          yiaddr  (4)                          |
//! |                          siaddr  (4)                          |
//! |                          giaddr  (4)                          |
//! +---------------------------------------------------------------+
//! |                          chaddr  (16)                         |
//! |                          sname   (64)                         |
//! |                          file    (128)                        |
//! +---------------------------------------------------------------+
//! |               magic cookie 99.130.83.99 (4)                   |
//! |                          options (variable)                   |
//! +---------------------------------------------------------------+
//! ```

use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;

use crate::error::{EmitError, Error, Expected};
use crate::options::{
    ClientId, DhcpOption, MessageType, OptionCode, Sink, Text, len_byte, option_error,
};

/// Byte offsets of the fixed fields.
pub(crate) mod field {
    use core::ops::Range;

    pub(crate) const OP: usize = 0;
    pub(crate) const HTYPE: usize = 1;
    pub(crate) const HLEN: usize = 2;
    pub(crate) const HOPS: usize = 3;
    pub(crate) const XID: Range<usize> = 4..8;
    pub(crate) const SECS: Range<usize> = 8..10;
    pub(crate) const FLAGS: Range<usize> = 10..12;
    pub(crate) const CIADDR: Range<usize> = 12..16;
    pub(crate) const YIADDR: Range<usize> = 16..20;
    pub(crate) const SIADDR: Range<usize> = 20..24;
    pub(crate) const GIADDR: Range<usize> = 24..28;
    pub(crate) const CHADDR: Range<usize> = 28..44;
    pub(crate) const SNAME: Range<usize> = 44..108;
    pub(crate) const FILE: Range<usize> = 108..236;
    pub(crate) const COOKIE: Range<usize> = 236..240;
    pub(crate) const OPTIONS: usize = 240;
}

/// The magic cookie that starts the options (RFC 2131 §3, RFC 1497).
pub const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];

/// Bytes before the options: the BOOTP header and the magic cookie.
pub const HEADER_LEN: usize = field::OPTIONS;

/// The smallest options field a DHCP client must accept (RFC 2131 §2).
pub const MIN_OPTIONS_LEN: usize = 312;

/// The BOOTP message length older relays and clients expect at least (RFC 951, RFC 1542 §2.1).
pub const BOOTP_MIN_LEN: usize = 300;

/// The BOOTP `op` field. Values other than 1 and 2 keep their number.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(transparent)
)]
pub struct Op(pub u8);

impl Op {
    /// A message from a client.
    pub const BOOTREQUEST: Op = Op(1);
    /// A message from a server.
    pub const BOOTREPLY: Op = Op(2);
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1 => f.write_str("BOOTREQUEST"),
            2 => f.write_str("BOOTREPLY"),
            n => write!(f, "unknown ({n})"),
        }
    }
}

impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// The BOOTP `htype` field: an ARP hardware type (RFC 1700). Every value keeps its number.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(transparent)
)]
pub struct HardwareType(pub u8);

impl HardwareType {
    /// Ethernet (10 Mb and up).
    pub const ETHERNET: HardwareType = HardwareType(1);
    /// IEEE 802 networks.
    pub const IEEE802: HardwareType = HardwareType(6);
    /// InfiniBand (RFC 4390).
    pub const INFINIBAND: HardwareType = HardwareType(32);

    fn name(self) -> Option<&'static str> {
        match self.0 {
            1 => Some("ethernet"),
            6 => Some("ieee802"),
            32 => Some("infiniband"),
            _ => None,
        }
    }
}

impl fmt::Display for HardwareType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

impl fmt::Debug for HardwareType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// The BOOTP `flags` field (RFC 2131 §2). Bits other than broadcast are kept as they came.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(transparent)
)]
pub struct Flags(pub u16);

impl Flags {
    /// The broadcast bit: the client cannot take unicast before it has an address.
    pub const BROADCAST: Flags = Flags(0x8000);

    /// True when the broadcast bit is set.
    pub fn broadcast(self) -> bool {
        self.0 & Self::BROADCAST.0 != 0
    }
}

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#06x}", self.0)?;
        if self.broadcast() {
            f.write_str(" [broadcast]")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// A client hardware address: `hlen` bytes, at most 16.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct HardwareAddress {
    len: u8,
    bytes: [u8; 16],
}

impl HardwareAddress {
    /// Longest address `chaddr` holds.
    pub const MAX_LEN: usize = 16;

    /// An address from bytes, or `None` if there are more than 16.
    pub fn new(bytes: &[u8]) -> Option<Self> {
        let len = u8::try_from(bytes.len())
            .ok()
            .filter(|&n| usize::from(n) <= Self::MAX_LEN)?;
        let mut out = [0u8; 16];
        out[..bytes.len()].copy_from_slice(bytes);
        Some(HardwareAddress { len, bytes: out })
    }

    /// A 6-byte Ethernet address.
    pub fn ethernet(mac: [u8; 6]) -> Self {
        let mut bytes = [0u8; 16];
        bytes[..6].copy_from_slice(&mac);
        HardwareAddress { len: 6, bytes }
    }

    /// The address bytes (`hlen` of them).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// `hlen`.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// True when `hlen` is 0.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The address as a MAC, when it is 6 bytes long.
    pub fn mac(&self) -> Option<[u8; 6]> {
        self.as_bytes().try_into().ok()
    }
}

impl fmt::Display for HardwareAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.as_bytes().iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for HardwareAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HardwareAddress({self})")
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for HardwareAddress {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for HardwareAddress {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let text = <alloc::string::String as serde::Deserialize>::deserialize(d)?;
        let mut bytes = Vec::new();
        for part in text.split(':').filter(|p| !p.is_empty()) {
            let b = u8::from_str_radix(part, 16)
                .map_err(|_| D::Error::custom("hardware address: bad hex byte"))?;
            bytes.push(b);
        }
        HardwareAddress::new(&bytes).ok_or_else(|| D::Error::custom("hardware address: over 16"))
    }
}

/// A checked view over a BOOTP/DHCP message: the header and cookie are known to be present,
/// `hlen` is at most 16, and every accessor reads within bounds.
#[derive(Clone, Copy)]
pub struct MessageView<'a> {
    bytes: &'a [u8],
}

fn be_u16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn ip(b: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(b[0], b[1], b[2], b[3])
}

impl<'a> MessageView<'a> {
    /// Checks the header, `hlen` and the magic cookie.
    pub fn new(bytes: &'a [u8]) -> Result<Self, Error> {
        if bytes.len() < HEADER_LEN {
            return Err(Error::Truncated {
                what: "bootp header",
                offset: 0,
                needed: HEADER_LEN,
                available: bytes.len(),
            });
        }
        let hlen = bytes[field::HLEN];
        if usize::from(hlen) > HardwareAddress::MAX_LEN {
            return Err(Error::HlenTooLong {
                hlen,
                offset: field::HLEN,
            });
        }
        if bytes[field::COOKIE] != MAGIC_COOKIE {
            return Err(Error::BadMagicCookie {
                found: be_u32(&bytes[field::COOKIE]),
                offset: field::COOKIE.start,
            });
        }
        Ok(MessageView { bytes })
    }

    /// The bytes the view covers.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// `op`.
    pub fn op(&self) -> Op {
        Op(self.bytes[field::OP])
    }

    /// `htype`.
    pub fn htype(&self) -> HardwareType {
        HardwareType(self.bytes[field::HTYPE])
    }

    /// `hlen`, at most 16.
    pub fn hlen(&self) -> u8 {
        self.bytes[field::HLEN]
    }

    /// `hops`.
    pub fn hops(&self) -> u8 {
        self.bytes[field::HOPS]
    }

    /// `xid`.
    pub fn xid(&self) -> u32 {
        be_u32(&self.bytes[field::XID])
    }

    /// `secs`.
    pub fn secs(&self) -> u16 {
        be_u16(&self.bytes[field::SECS])
    }

    /// `flags`.
    pub fn flags(&self) -> Flags {
        Flags(be_u16(&self.bytes[field::FLAGS]))
    }

    /// `ciaddr`: the client's address, when it has one.
    pub fn ciaddr(&self) -> Ipv4Addr {
        ip(&self.bytes[field::CIADDR])
    }

    /// `yiaddr`: "your" address, assigned by the server.
    pub fn yiaddr(&self) -> Ipv4Addr {
        ip(&self.bytes[field::YIADDR])
    }

    /// `siaddr`: the next server in bootstrap.
    pub fn siaddr(&self) -> Ipv4Addr {
        ip(&self.bytes[field::SIADDR])
    }

    /// `giaddr`: the relay agent's address.
    pub fn giaddr(&self) -> Ipv4Addr {
        ip(&self.bytes[field::GIADDR])
    }

    /// `chaddr`, `hlen` bytes of it.
    pub fn chaddr(&self) -> &'a [u8] {
        &self.bytes[field::CHADDR][..usize::from(self.hlen())]
    }

    /// The whole 64-byte `sname` field.
    pub fn sname_field(&self) -> &'a [u8] {
        &self.bytes[field::SNAME]
    }

    /// The whole 128-byte `file` field.
    pub fn file_field(&self) -> &'a [u8] {
        &self.bytes[field::FILE]
    }

    /// The options field, from after the cookie to the end of the buffer.
    pub fn options_field(&self) -> &'a [u8] {
        &self.bytes[field::OPTIONS..]
    }

    /// Every option instance in wire order: the options field, then `file` and `sname` when
    /// option overload says so (RFC 2131 §4.1, RFC 3396 §5). Pad and end are not yielded.
    pub fn raw_options(&self) -> RawOptions<'a> {
        RawOptions {
            bytes: self.bytes,
            area: Area::Options,
            pos: field::OPTIONS,
            end: self.bytes.len(),
            overload: None,
        }
    }

    /// The message type, found without decoding anything else.
    pub fn message_type(&self) -> Option<MessageType> {
        self.raw_options()
            .map_while(Result::ok)
            .find_map(|o| match o.data {
                [t] if o.code == OptionCode::MESSAGE_TYPE => Some(MessageType(*t)),
                _ => None,
            })
    }
}

/// One option instance as it sits in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawOption<'a> {
    /// The code.
    pub code: OptionCode,
    /// The data of this instance only.
    pub data: &'a [u8],
    /// Offset of the code byte in the message.
    pub offset: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Area {
    Options,
    File,
    Sname,
    Done,
}

/// Iterator over option instances; see [`MessageView::raw_options`]. Stops after an error.
#[derive(Clone)]
pub struct RawOptions<'a> {
    bytes: &'a [u8],
    area: Area,
    pos: usize,
    end: usize,
    overload: Option<u8>,
}

impl<'a> RawOptions<'a> {
    /// Moves to the next area the overload option names, or to the end.
    fn next_area(&mut self) {
        let overload = self.overload.unwrap_or(0);
        let (area, range) = match self.area {
            Area::Options if overload & 1 != 0 => (Area::File, field::FILE),
            Area::Options | Area::File if overload & 2 != 0 => (Area::Sname, field::SNAME),
            _ => (Area::Done, 0..0),
        };
        self.area = area;
        self.pos = range.start;
        self.end = range.end;
    }

    fn fail(&mut self, error: Error) -> Option<Result<RawOption<'a>, Error>> {
        self.area = Area::Done;
        self.pos = 0;
        self.end = 0;
        Some(Err(error))
    }

    /// What the fast path in `next` leaves out: an option that overruns its area, and option
    /// overload. `None` when the option is to be skipped (overload outside the options field).
    #[cold]
    #[inline(never)]
    fn unusual(&mut self) -> Option<Result<RawOption<'a>, Error>> {
        let area = self.bytes.get(self.pos..self.end).unwrap_or_default();
        let offset = self.pos;
        let code = OptionCode(area.first().copied().unwrap_or(0));
        let Some(&len) = area.get(1) else {
            return self.fail(Error::OptionOverrun {
                code,
                offset,
                len: None,
                remaining: 0,
            });
        };
        let Some(data) = area.get(2..2 + usize::from(len)) else {
            let remaining = area.len() - 2;
            return self.fail(Error::OptionOverrun {
                code,
                offset,
                len: Some(len),
                remaining,
            });
        };
        self.pos += 2 + usize::from(len);
        if code != OptionCode::OVERLOAD {
            return Some(Ok(RawOption { code, data, offset }));
        }
        if self.area != Area::Options {
            return None; // only meaningful in the options field (RFC 2132 §9.3)
        }
        if self.overload.is_some() {
            return self.fail(Error::BadOptionValue {
                code,
                offset,
                reason: "option overload appears twice",
            });
        }
        match data {
            [v @ 1..=3] => self.overload = Some(*v),
            [_] => {
                return self.fail(Error::BadOptionValue {
                    code,
                    offset,
                    reason: "overload is not 1, 2 or 3",
                });
            }
            _ => {
                return self.fail(Error::BadOptionLength {
                    code,
                    offset,
                    len: data.len(),
                    expected: Expected::Exactly(1),
                });
            }
        }
        Some(Ok(RawOption { code, data, offset }))
    }
}

impl<'a> Iterator for RawOptions<'a> {
    type Item = Result<RawOption<'a>, Error>;

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            // pos <= end <= bytes.len() holds throughout: areas lie inside the message. After
            // an error the area is Done and empty.
            let area = self.bytes.get(self.pos..self.end).unwrap_or_default();
            match *area {
                [] => {
                    if self.area == Area::Done {
                        return None;
                    }
                    self.next_area();
                }
                [0, ..] => self.pos += 1,
                [255, ..] => self.next_area(),
                [code, len, ref rest @ ..]
                    if code != OptionCode::OVERLOAD.0 && usize::from(len) <= rest.len() =>
                {
                    let offset = self.pos;
                    self.pos += 2 + usize::from(len);
                    let data = &rest[..usize::from(len)];
                    return Some(Ok(RawOption {
                        code: OptionCode(code),
                        data,
                        offset,
                    }));
                }
                _ => {
                    if let Some(item) = self.unusual() {
                        return Some(item);
                    }
                }
            }
        }
    }
}

/// A BOOTP/DHCP message, owned and decoded.
///
/// Parsing joins every instance of an option (RFC 3396) and decodes it; option overload is
/// undone, so `sname` and `file` hold only a server name and a file name. Emitting does the
/// reverse: see [`Message::emit`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Message {
    /// `op`.
    pub op: Op,
    /// `htype`.
    pub htype: HardwareType,
    /// `hops`: relay agents passed.
    pub hops: u8,
    /// `xid`: the transaction id the client chose.
    pub xid: u32,
    /// `secs`: seconds since the client began the exchange.
    pub secs: u16,
    /// `flags`.
    pub flags: Flags,
    /// `ciaddr`.
    pub ciaddr: Ipv4Addr,
    /// `yiaddr`.
    pub yiaddr: Ipv4Addr,
    /// `siaddr`.
    pub siaddr: Ipv4Addr,
    /// `giaddr`.
    pub giaddr: Ipv4Addr,
    /// `chaddr`, with `hlen` its length.
    pub chaddr: HardwareAddress,
    /// `sname` up to its first NUL; at most 64 bytes.
    pub sname: Text,
    /// `file` up to its first NUL; at most 128 bytes.
    pub file: Text,
    /// Options in the order they first appear, without pad, end and overload.
    pub options: Vec<DhcpOption>,
}

impl Default for Message {
    fn default() -> Self {
        Message {
            op: Op::BOOTREQUEST,
            htype: HardwareType::ETHERNET,
            hops: 0,
            xid: 0,
            secs: 0,
            flags: Flags::default(),
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: Ipv4Addr::UNSPECIFIED,
            chaddr: HardwareAddress::default(),
            sname: Text::default(),
            file: Text::default(),
            options: Vec::new(),
        }
    }
}

/// A set of 256 option codes.
#[derive(Default, Clone, Copy)]
struct CodeSet([u64; 4]);

impl CodeSet {
    /// Adds `code`; returns true if it was already there.
    fn insert(&mut self, code: OptionCode) -> bool {
        let (word, bit) = (usize::from(code.0 >> 6), 1u64 << (code.0 & 63));
        let had = self.0[word] & bit != 0;
        self.0[word] |= bit;
        had
    }

    fn contains(&self, code: OptionCode) -> bool {
        self.0[usize::from(code.0 >> 6)] & (1u64 << (code.0 & 63)) != 0
    }

    fn is_empty(&self) -> bool {
        self.0 == [0; 4]
    }
}

/// Settles what the single pass of [`Message::from_view`] left open: each code that repeats is
/// decoded again from all its instances joined in message order (RFC 3396 §5), and each option
/// that did not decode alone is decoded again to report its error. Options are visited in order
/// of first appearance, so the error returned is the first one in the message.
fn settle(
    view: MessageView<'_>,
    options: &mut [DhcpOption],
    repeated: &CodeSet,
    failed: &CodeSet,
) -> Result<(), Error> {
    // One pass gathers every instance of the codes to settle: (code, first offset, joined).
    let mut joined: Vec<(OptionCode, usize, Vec<u8>)> = Vec::new();
    for raw in view.raw_options().flatten() {
        if !repeated.contains(raw.code) && !failed.contains(raw.code) {
            continue;
        }
        match joined.iter_mut().find(|(code, _, _)| *code == raw.code) {
            Some((_, _, data)) => data.extend_from_slice(raw.data),
            None => joined.push((raw.code, raw.offset, raw.data.to_vec())),
        }
    }
    for option in options.iter_mut() {
        let code = option.code();
        let Some((_, offset, data)) = joined.iter().find(|(c, _, _)| *c == code) else {
            continue;
        };
        *option = DhcpOption::decode(code, data)
            .map_err(|e| option_error(code, *offset, data.len(), e))?;
    }
    Ok(())
}

/// Bytes up to the first NUL.
fn until_nul(field: &[u8]) -> &[u8] {
    field
        .iter()
        .position(|&b| b == 0)
        .map_or(field, |n| &field[..n])
}

impl Message {
    /// Parses a bare BOOTP/DHCP message, as a UDP socket or a relay delivers it.
    pub fn parse(bytes: &[u8]) -> Result<Message, Error> {
        Self::from_view(MessageView::new(bytes)?)
    }

    /// Decodes the message a view covers.
    pub fn from_view(view: MessageView<'_>) -> Result<Message, Error> {
        // One pass checks the structure and decodes each option where it first appears. An
        // error in the structure is returned at once; codes that repeat, and options that do
        // not decode alone, are settled after the pass (RFC 3396: instances are joined before
        // decoding). The capacity is a guess from the options field's length.
        let guess = (view.options_field().len() / 6 + 2).min(32);
        let mut options = Vec::with_capacity(guess);
        let mut seen = CodeSet::default();
        let mut repeated = CodeSet::default();
        let mut failed = CodeSet::default();
        let mut overloaded = 0u8;
        for raw in view.raw_options() {
            let raw = raw?;
            if raw.code == OptionCode::OVERLOAD {
                overloaded = raw.data.first().copied().unwrap_or(0);
                continue;
            }
            if seen.insert(raw.code) {
                repeated.insert(raw.code);
                continue;
            }
            match DhcpOption::decode(raw.code, raw.data) {
                Ok(option) => options.push(option),
                Err(_) => {
                    failed.insert(raw.code);
                    // A stand-in that keeps the option's place; `settle` replaces it.
                    options.push(DhcpOption::Other {
                        code: raw.code,
                        data: Vec::new(),
                    });
                }
            }
        }
        if !repeated.is_empty() || !failed.is_empty() {
            settle(view, &mut options, &repeated, &failed)?;
        }

        let text = |field: &[u8], used_for_options: bool| {
            if used_for_options {
                Text::default()
            } else {
                Text::from(until_nul(field))
            }
        };
        Ok(Message {
            op: view.op(),
            htype: view.htype(),
            hops: view.hops(),
            xid: view.xid(),
            secs: view.secs(),
            flags: view.flags(),
            ciaddr: view.ciaddr(),
            yiaddr: view.yiaddr(),
            siaddr: view.siaddr(),
            giaddr: view.giaddr(),
            // hlen <= 16 was checked by the view.
            chaddr: HardwareAddress::new(view.chaddr()).unwrap_or_default(),
            sname: text(view.sname_field(), overloaded & 2 != 0),
            file: text(view.file_field(), overloaded & 1 != 0),
            options,
        })
    }

    /// The first option with `code`.
    pub fn option(&self, code: OptionCode) -> Option<&DhcpOption> {
        self.options.iter().find(|o| o.code() == code)
    }

    /// The DHCP message type, or `None` for plain BOOTP.
    pub fn message_type(&self) -> Option<MessageType> {
        self.options.iter().find_map(|o| match o {
            DhcpOption::MessageType(t) => Some(*t),
            _ => None,
        })
    }

    /// The client identifier option, if present.
    pub fn client_id(&self) -> Option<&ClientId> {
        self.options.iter().find_map(|o| match o {
            DhcpOption::ClientIdentifier(id) => Some(id),
            _ => None,
        })
    }

    /// The requested address option, if present.
    pub fn requested_address(&self) -> Option<Ipv4Addr> {
        self.options.iter().find_map(|o| match o {
            DhcpOption::RequestedAddress(ip) => Some(*ip),
            _ => None,
        })
    }

    /// The server identifier option, if present.
    pub fn server_identifier(&self) -> Option<Ipv4Addr> {
        self.options.iter().find_map(|o| match o {
            DhcpOption::ServerIdentifier(ip) => Some(*ip),
            _ => None,
        })
    }

    /// The parameter request list, if present.
    pub fn parameter_request_list(&self) -> Option<&[OptionCode]> {
        self.options.iter().find_map(|o| match o {
            DhcpOption::ParameterRequestList(list) => Some(list.as_slice()),
            _ => None,
        })
    }

    /// The maximum message size option, if present.
    pub fn max_message_size(&self) -> Option<u16> {
        self.options.iter().find_map(|o| match o {
            DhcpOption::MaxMessageSize(n) => Some(*n),
            _ => None,
        })
    }

    /// The number of bytes [`Message::emit`] writes with these settings.
    pub fn emitted_len(&self, settings: &EmitOptions) -> Result<usize, EmitError> {
        self.plan(settings).map(|plan| plan.len)
    }

    /// Writes the message into `buf` and returns its length.
    ///
    /// Options over 255 bytes are split into consecutive instances (RFC 3396). When the
    /// options do not fit in `settings.max_len` and overload is allowed, `file` and then
    /// `sname` carry the rest (option 52), if they are empty. Everything is checked before
    /// the first byte is written: if [`Message::emitted_len`] gave `n` and `buf` holds `n`
    /// bytes, this succeeds. Nothing is allocated.
    pub fn emit(&self, buf: &mut [u8], settings: &EmitOptions) -> Result<usize, EmitError> {
        let plan = self.plan(settings)?;
        let Some(out) = buf.get_mut(..plan.len) else {
            return Err(EmitError::BufferTooSmall {
                needed: plan.len,
                available: buf.len(),
            });
        };
        out.fill(0);
        self.write_header(out);

        if plan.overload != 0 {
            let at = field::OPTIONS;
            out[at..at + 3].copy_from_slice(&[OptionCode::OVERLOAD.0, 1, plan.overload]);
        }
        let mut placer = Placer::new(Some(out), &plan.spans[..plan.n]);
        self.place_options(&mut placer);
        placer.finish();
        Ok(plan.len)
    }

    /// Emits into a new vector.
    pub fn to_bytes(&self, settings: &EmitOptions) -> Result<Vec<u8>, EmitError> {
        let mut buf = alloc::vec![0; self.emitted_len(settings)?];
        let len = self.emit(&mut buf, settings)?;
        buf.truncate(len);
        Ok(buf)
    }

    fn write_header(&self, out: &mut [u8]) {
        out[field::OP] = self.op.0;
        out[field::HTYPE] = self.htype.0;
        out[field::HLEN] = self.chaddr.len; // at most 16 by construction
        out[field::HOPS] = self.hops;
        out[field::XID].copy_from_slice(&self.xid.to_be_bytes());
        out[field::SECS].copy_from_slice(&self.secs.to_be_bytes());
        out[field::FLAGS].copy_from_slice(&self.flags.0.to_be_bytes());
        out[field::CIADDR].copy_from_slice(&self.ciaddr.octets());
        out[field::YIADDR].copy_from_slice(&self.yiaddr.octets());
        out[field::SIADDR].copy_from_slice(&self.siaddr.octets());
        out[field::GIADDR].copy_from_slice(&self.giaddr.octets());
        out[field::CHADDR].copy_from_slice(&self.chaddr.bytes);
        // Lengths were checked by plan().
        out[field::SNAME][..self.sname.len()].copy_from_slice(self.sname.as_bytes());
        out[field::FILE][..self.file.len()].copy_from_slice(self.file.as_bytes());
        out[field::COOKIE].copy_from_slice(&MAGIC_COOKIE);
    }

    fn place_options(&self, placer: &mut Placer<'_, '_>) {
        for option in &self.options {
            let code = option.code();
            if matches!(code.0, 0 | 52 | 255) {
                continue;
            }
            placer.option(code, |s| option.encode_payload(s));
        }
    }

    /// Decides where the options go and how long the message is, writing nothing.
    fn plan(&self, settings: &EmitOptions) -> Result<Plan, EmitError> {
        for (field, text, capacity) in [("sname", &self.sname, 64), ("file", &self.file, 128)] {
            if text.len() > capacity {
                return Err(EmitError::FieldTooLong {
                    field,
                    len: text.len(),
                    capacity,
                });
            }
        }
        let limit = settings.max_len.unwrap_or(usize::MAX);
        if limit < HEADER_LEN + 1 {
            return Err(EmitError::TooLarge {
                needed: HEADER_LEN + 1,
                limit,
            });
        }

        // Everything in the options field, one byte kept for the end option.
        let floor = settings.min_len.min(limit);
        let spans = [Span {
            start: field::OPTIONS,
            end: limit - 1,
        }; 3];
        let mut placer = Placer::new(None, &spans[..1]);
        self.place_options(&mut placer);
        if placer.overflow == 0 {
            let len = (placer.fill[0] + 1).max(floor);
            return Ok(Plan {
                len,
                spans,
                n: 1,
                overload: 0,
            });
        }
        let needed = placer.fill[0] + placer.overflow + 1;
        // Overload needs a field without a name, and room for itself and an end option.
        let no_room = limit < field::OPTIONS + 4;
        if !settings.overload || (!self.file.is_empty() && !self.sname.is_empty()) || no_room {
            return Err(EmitError::TooLarge { needed, limit });
        }

        // The overload option first, then file, then sname: the order RFC 3396 §5 joins in.
        let mut spans = [Span {
            start: field::OPTIONS + 3,
            end: limit - 1,
        }; 3];
        let mut kinds = [0u8; 3];
        let mut n = 1;
        for (empty, range, bit) in [
            (self.file.is_empty(), field::FILE, 1),
            (self.sname.is_empty(), field::SNAME, 2),
        ] {
            if empty {
                spans[n] = Span::inner(range);
                kinds[n] = bit;
                n += 1;
            }
        }
        let mut placer = Placer::new(None, &spans[..n]);
        self.place_options(&mut placer);
        if placer.overflow != 0 {
            return Err(EmitError::TooLarge { needed, limit });
        }
        let mut overload = 0;
        for i in 1..n {
            if placer.fill[i] > spans[i].start {
                overload |= kinds[i];
            }
        }
        let len = (placer.fill[0] + 1).max(floor);
        Ok(Plan {
            len,
            spans,
            n,
            overload,
        })
    }
}

/// How a message is laid out when emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmitOptions {
    /// The largest message the receiver takes, in bytes of BOOTP/DHCP message (IP and UDP
    /// headers not counted). `None`: no limit.
    pub max_len: Option<usize>,
    /// Whether empty `file` and `sname` fields may carry options that do not fit
    /// (RFC 2131 §4.1, option 52).
    pub overload: bool,
    /// Pad the message with zeros to at least this length (300 for old BOOTP relays).
    pub min_len: usize,
}

impl Default for EmitOptions {
    fn default() -> Self {
        EmitOptions {
            max_len: None,
            overload: true,
            min_len: 0,
        }
    }
}

/// A stretch of the message where options go; `end` excludes the byte kept for end.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Span {
    start: usize,
    end: usize,
}

impl Span {
    /// A whole fixed field, less one byte for its end option.
    fn inner(range: core::ops::Range<usize>) -> Span {
        Span {
            start: range.start,
            end: range.end - 1,
        }
    }
}

/// Where a message's options go, worked out before anything is written.
struct Plan {
    len: usize,
    spans: [Span; 3],
    n: usize,
    overload: u8,
}

/// Writes options into the spans of a message, or only counts when there is no buffer.
///
/// A payload is cut into instances of at most 255 bytes (RFC 3396 §4); an instance that
/// would not fit the current span continues in the next one, which RFC 3396 §5 allows since
/// the receiver joins instances across `options`, `file` and `sname` in that order.
pub(crate) struct Placer<'b, 's> {
    out: Option<&'b mut [u8]>,
    spans: &'s [Span],
    current: usize,
    pos: usize,
    code: OptionCode,
    /// Where the open instance's length byte is, and how many bytes follow it so far.
    open: Option<(usize, usize)>,
    /// Bytes written in the current option, over all its instances.
    written: usize,
    /// Position after the last option in each span.
    fill: [usize; 3],
    /// Bytes that did not fit anywhere.
    overflow: usize,
}

impl<'b, 's> Placer<'b, 's> {
    fn new(out: Option<&'b mut [u8]>, spans: &'s [Span]) -> Self {
        let mut fill = [0; 3];
        for (f, span) in fill.iter_mut().zip(spans) {
            *f = span.start;
        }
        Placer {
            out,
            spans,
            current: 0,
            pos: spans[0].start,
            code: OptionCode::PAD,
            open: None,
            written: 0,
            fill,
            overflow: 0,
        }
    }

    fn room(&self) -> usize {
        self.spans[self.current].end.saturating_sub(self.pos)
    }

    fn write(&mut self, at: usize, bytes: &[u8]) {
        if let Some(out) = self.out.as_deref_mut() {
            out[at..at + bytes.len()].copy_from_slice(bytes);
        }
    }

    /// Writes one option: code, length and the payload `body` produces, split as needed.
    fn option(&mut self, code: OptionCode, body: impl FnOnce(&mut Self)) {
        self.code = code;
        self.written = 0;
        body(self);
        if self.written == 0 {
            // An empty option is one instance with length 0.
            if self.overflow > 0 || !self.start_instance(2) {
                self.overflow += 2;
            }
        }
        self.close_instance();
    }

    /// Opens an instance where `need` bytes fit, moving on to later spans; false when none
    /// has room.
    fn start_instance(&mut self, need: usize) -> bool {
        while self.room() < need {
            if self.current + 1 >= self.spans.len() {
                return false;
            }
            self.current += 1;
            self.pos = self.spans[self.current].start;
        }
        let code = self.code.0;
        self.write(self.pos, &[code, 0]);
        self.open = Some((self.pos + 1, 0));
        self.pos += 2;
        true
    }

    fn close_instance(&mut self) {
        if let Some((len_at, len)) = self.open.take() {
            self.write(len_at, &[len_byte(len)]); // instances hold at most 255 bytes
            self.fill[self.current] = self.pos;
        }
    }

    /// Writes the end option after the options of every span that has any, the options
    /// field always.
    fn finish(&mut self) {
        for i in 0..self.spans.len() {
            let end = self.fill[i];
            if i == 0 || end > self.spans[i].start {
                self.write(end, &[OptionCode::END.0]);
            }
        }
    }
}

impl Sink for Placer<'_, '_> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        // The common case, taken out of the loop below: the open instance holds it all.
        if let Some((len_at, len)) = self.open {
            let n = bytes.len();
            if self.overflow == 0 && len + n <= 255 && n <= self.room() {
                self.write(self.pos, bytes);
                self.pos += n;
                self.written += n;
                self.open = Some((len_at, len + n));
                return;
            }
        }
        self.put_split(bytes);
    }
}

impl Placer<'_, '_> {
    /// Writes bytes that may close the open instance and open others, in this span or the
    /// next.
    #[inline(never)]
    fn put_split(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.overflow > 0 {
                self.overflow += bytes.len();
                return;
            }
            let full = match self.open {
                Some((_, len)) => len == 255 || self.room() == 0,
                None => true,
            };
            if full {
                self.close_instance();
                if !self.start_instance(3) {
                    self.overflow += bytes.len();
                    return;
                }
            }
            let Some((len_at, len)) = self.open else {
                return;
            };
            let n = bytes.len().min(255 - len).min(self.room());
            self.write(self.pos, &bytes[..n]);
            self.pos += n;
            self.written += n;
            self.open = Some((len_at, len + n));
            bytes = &bytes[n..];
        }
    }
}
