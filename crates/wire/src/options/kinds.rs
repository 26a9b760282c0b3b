//! Codecs for the simple payload shapes most options share: addresses, lists of them,
//! integers, flags, strings and opaque bytes.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;

use super::{Codec, OptionCode, Sink, ValueError};
use crate::error::Expected;

/// Text as it appeared on the wire: RFC 2132 calls it NVT ASCII, clients send what they like.
///
/// The bytes are kept as they are (a trailing NUL included), so nothing is lost in a round
/// trip; [`Text::as_str`] gives them as UTF-8 where they are.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(Vec<u8>);

impl Text {
    /// Text from bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Text(bytes.into())
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The text as UTF-8, if it is.
    pub fn as_str(&self) -> Option<&str> {
        core::str::from_utf8(&self.0).ok()
    }

    /// The text as UTF-8 with anything else replaced, and without trailing NULs.
    pub fn to_string_lossy(&self) -> String {
        let trimmed = match self.0.iter().rposition(|&b| b != 0) {
            Some(last) => &self.0[..=last],
            None => &[],
        };
        String::from_utf8_lossy(trimmed).into_owned()
    }

    /// True when there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(s.as_bytes().to_vec())
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text(s.into_bytes())
    }
}

impl From<&[u8]> for Text {
    fn from(b: &[u8]) -> Self {
        Text(b.to_vec())
    }
}

/// Printable ASCII as is; quotes, backslashes and anything else escaped (`\"`, `\\`, `\x00`).
impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in &self.0 {
            match b {
                b'"' => f.write_str("\\\"")?,
                b'\\' => f.write_str("\\\\")?,
                0x20..=0x7e => fmt::Write::write_char(f, char::from(b))?,
                _ => write!(f, "\\x{b:02x}")?,
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// Serialized as a string when the bytes are UTF-8, else as an array of bytes.
#[cfg(feature = "serde")]
impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.as_str() {
            Some(text) => s.serialize_str(text),
            None => s.collect_seq(self.0.iter()),
        }
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of bytes")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text::from(v))
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Text, E> {
                Ok(Text::from(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Text, A::Error> {
                let mut bytes = Vec::new();
                while let Some(b) = seq.next_element::<u8>()? {
                    bytes.push(b);
                }
                Ok(Text(bytes))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Writes bytes as colon-separated hex, `01:02:ff`.
pub(crate) fn show_hex(data: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for (i, b) in data.iter().enumerate() {
        if i > 0 {
            f.write_str(":")?;
        }
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

/// Writes a list with ", " between the items.
pub(crate) fn show_list<T>(
    items: &[T],
    f: &mut fmt::Formatter<'_>,
    mut show: impl FnMut(&T, &mut fmt::Formatter<'_>) -> fmt::Result,
) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        show(item, f)?;
    }
    Ok(())
}

/// Checks that `data` is exactly `n` bytes.
pub(crate) fn exactly(data: &[u8], n: usize) -> Result<(), ValueError> {
    if data.len() == n {
        Ok(())
    } else {
        Err(ValueError::Length(Expected::Exactly(n)))
    }
}

/// Checks that `data` is at least `min` bytes in whole multiples of `unit`.
pub(crate) fn multiple(data: &[u8], min: usize, unit: usize) -> Result<(), ValueError> {
    if data.len() >= min && data.len() % unit == 0 {
        Ok(())
    } else {
        Err(ValueError::Length(Expected::Multiple { min, unit }))
    }
}

/// Checks that `data` is at least `min` bytes.
pub(crate) fn at_least(data: &[u8], min: usize) -> Result<(), ValueError> {
    if data.len() >= min {
        Ok(())
    } else {
        Err(ValueError::Length(Expected::AtLeast(min)))
    }
}

pub(crate) fn ip_at(data: &[u8], i: usize) -> Ipv4Addr {
    Ipv4Addr::new(data[i], data[i + 1], data[i + 2], data[i + 3])
}

/// One IPv4 address.
pub(crate) struct Ip;
impl Codec for Ip {
    type Value = Ipv4Addr;
    fn decode(data: &[u8]) -> Result<Ipv4Addr, ValueError> {
        exactly(data, 4)?;
        Ok(ip_at(data, 0))
    }
    fn encode<S: Sink>(v: &Ipv4Addr, out: &mut S) {
        out.put_ip(*v);
    }
    fn show(v: &Ipv4Addr, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{v}")
    }
}

/// Decodes a list of addresses of at least `min` bytes.
fn decode_ips(data: &[u8], min: usize) -> Result<Vec<Ipv4Addr>, ValueError> {
    multiple(data, min, 4)?;
    Ok(data
        .chunks_exact(4)
        .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
        .collect())
}

pub(crate) fn encode_ips<S: Sink>(v: &[Ipv4Addr], out: &mut S) {
    for ip in v {
        out.put_ip(*ip);
    }
}

pub(crate) fn show_ips(v: &[Ipv4Addr], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    show_list(v, f, |ip, f| write!(f, "{ip}"))
}

/// One or more IPv4 addresses.
pub(crate) struct Ips;
impl Codec for Ips {
    type Value = Vec<Ipv4Addr>;
    fn decode(data: &[u8]) -> Result<Vec<Ipv4Addr>, ValueError> {
        decode_ips(data, 4)
    }
    fn encode<S: Sink>(v: &Vec<Ipv4Addr>, out: &mut S) {
        encode_ips(v, out);
    }
    fn show(v: &Vec<Ipv4Addr>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        show_ips(v, f)
    }
}

/// Zero or more IPv4 addresses.
pub(crate) struct Ips0;
impl Codec for Ips0 {
    type Value = Vec<Ipv4Addr>;
    fn decode(data: &[u8]) -> Result<Vec<Ipv4Addr>, ValueError> {
        decode_ips(data, 0)
    }
    fn encode<S: Sink>(v: &Vec<Ipv4Addr>, out: &mut S) {
        encode_ips(v, out);
    }
    fn show(v: &Vec<Ipv4Addr>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        show_ips(v, f)
    }
}

/// One or more pairs of IPv4 addresses.
pub(crate) struct IpPairs;
impl Codec for IpPairs {
    type Value = Vec<(Ipv4Addr, Ipv4Addr)>;
    fn decode(data: &[u8]) -> Result<Self::Value, ValueError> {
        multiple(data, 8, 8)?;
        Ok(data
            .chunks_exact(8)
            .map(|c| (ip_at(c, 0), ip_at(c, 4)))
            .collect())
    }
    fn encode<S: Sink>(v: &Self::Value, out: &mut S) {
        for (a, b) in v {
            out.put_ip(*a);
            out.put_ip(*b);
        }
    }
    fn show(v: &Self::Value, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        show_list(v, f, |(a, b), f| write!(f, "{a} {b}"))
    }
}

/// Declares a codec for a fixed-size integer.
macro_rules! integer {
    ($name:ident, $ty:ty, $n:literal) => {
        #[doc = concat!("A big-endian `", stringify!($ty), "`.")]
        pub(crate) struct $name;
        impl Codec for $name {
            type Value = $ty;
            fn decode(data: &[u8]) -> Result<$ty, ValueError> {
                let bytes: [u8; $n] = data
                    .try_into()
                    .map_err(|_| ValueError::Length(Expected::Exactly($n)))?;
                Ok(<$ty>::from_be_bytes(bytes))
            }
            fn encode<S: Sink>(v: &$ty, out: &mut S) {
                out.put(&v.to_be_bytes());
            }
            fn show(v: &$ty, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{v}")
            }
        }
    };
}

integer!(U8, u8, 1);
integer!(U16, u16, 2);
integer!(U32, u32, 4);
integer!(I32, i32, 4);

/// A boolean byte: 0 or 1 (RFC 2132 §2).
pub(crate) struct Flag;
impl Codec for Flag {
    type Value = bool;
    fn decode(data: &[u8]) -> Result<bool, ValueError> {
        exactly(data, 1)?;
        match data[0] {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(ValueError::Value("flag is neither 0 nor 1")),
        }
    }
    fn encode<S: Sink>(v: &bool, out: &mut S) {
        out.put_u8(u8::from(*v));
    }
    fn show(v: &bool, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if *v { "on" } else { "off" })
    }
}

/// One or more big-endian `u16`s.
pub(crate) struct U16s;
impl Codec for U16s {
    type Value = Vec<u16>;
    fn decode(data: &[u8]) -> Result<Vec<u16>, ValueError> {
        multiple(data, 2, 2)?;
        Ok(data
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect())
    }
    fn encode<S: Sink>(v: &Vec<u16>, out: &mut S) {
        for x in v {
            out.put_u16(*x);
        }
    }
    fn show(v: &Vec<u16>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        show_list(v, f, |x, f| write!(f, "{x}"))
    }
}

/// Text of at least one byte (RFC 2132's "minimum length is 1").
pub(crate) struct Str;
impl Codec for Str {
    type Value = Text;
    fn decode(data: &[u8]) -> Result<Text, ValueError> {
        at_least(data, 1)?;
        Ok(Text::from(data))
    }
    fn encode<S: Sink>(v: &Text, out: &mut S) {
        out.put(v.as_bytes());
    }
    fn show(v: &Text, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{v}\"")
    }
}

/// Opaque bytes, at least one.
pub(crate) struct Bytes;
impl Codec for Bytes {
    type Value = Vec<u8>;
    fn decode(data: &[u8]) -> Result<Vec<u8>, ValueError> {
        at_least(data, 1)?;
        Ok(data.to_vec())
    }
    fn encode<S: Sink>(v: &Vec<u8>, out: &mut S) {
        out.put(v);
    }
    fn show(v: &Vec<u8>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        show_bytes(v, f)
    }
}

/// Bytes shown as quoted text when they are all printable, else as hex.
pub(crate) fn show_bytes(v: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if !v.is_empty() && v.iter().all(|b| (0x20..0x7f).contains(b)) {
        write!(f, "\"{}\"", Text::from(v))
    } else {
        show_hex(v, f)
    }
}

/// A list of option codes, at least one.
pub(crate) struct Codes;
impl Codec for Codes {
    type Value = Vec<OptionCode>;
    fn decode(data: &[u8]) -> Result<Vec<OptionCode>, ValueError> {
        at_least(data, 1)?;
        Ok(data.iter().map(|&c| OptionCode(c)).collect())
    }
    fn encode<S: Sink>(v: &Vec<OptionCode>, out: &mut S) {
        for c in v {
            out.put_u8(c.0);
        }
    }
    fn show(v: &Vec<OptionCode>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        show_list(v, f, |c, f| write!(f, "{}", c.0))
    }
}
