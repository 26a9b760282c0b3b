//! Domain names in DNS wire form (RFC 1035 §3.1), and lists of them compressed as RFC 3397
//! describes for the domain search option.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::{Codec, Sink, ValueError};
use crate::error::Expected;

/// Longest label (RFC 1035 §2.3.4).
const MAX_LABEL: usize = 63;
/// Longest name in wire form, root label included (RFC 1035 §2.3.4).
const MAX_NAME: usize = 255;
/// Pointers carry a 14-bit offset (RFC 1035 §4.1.4).
const MAX_POINTER: usize = 0x3fff;

/// A domain name, kept in uncompressed wire form: each label as a length byte and its bytes,
/// then a zero byte when the name is absolute (fully qualified).
///
/// A name without the final zero is *partial*, as RFC 4702 §2.3 allows in the client FQDN
/// option; every name in a list option is absolute.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DomainName {
    wire: Vec<u8>,
}

/// Why text could not become a domain name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    /// A label is empty (two dots in a row, or a leading dot).
    EmptyLabel,
    /// A label is over 63 bytes.
    LabelTooLong,
    /// The name is over 255 bytes in wire form.
    NameTooLong,
    /// A backslash escape is incomplete or out of range.
    BadEscape,
    /// A label's length byte claims more bytes than follow.
    Truncated,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameError::EmptyLabel => "empty label",
            NameError::LabelTooLong => "label longer than 63 bytes",
            NameError::NameTooLong => "name longer than 255 bytes",
            NameError::BadEscape => "bad backslash escape",
            NameError::Truncated => "label runs past the end",
        })
    }
}

#[cfg(feature = "std")]
impl std::error::Error for NameError {}

impl DomainName {
    /// The root name, `.`.
    pub fn root() -> Self {
        DomainName {
            wire: alloc::vec![0],
        }
    }

    /// An absolute name from dotted text, `example.com` or `example.com.`.
    ///
    /// `\.` and `\\` escape a dot or a backslash inside a label, and `\DDD` any byte.
    pub fn from_dotted(text: &str) -> Result<Self, NameError> {
        let mut name = Self::partial_from_dotted(text)?;
        if !name.is_absolute() {
            if name.wire.len() + 1 > MAX_NAME {
                return Err(NameError::NameTooLong);
            }
            name.wire.push(0);
        }
        Ok(name)
    }

    /// A name from dotted text that is absolute only when it ends with a dot.
    pub fn partial_from_dotted(text: &str) -> Result<Self, NameError> {
        if text == "." {
            return Ok(Self::root());
        }
        let mut wire = Vec::with_capacity(text.len() + 2);
        let mut bytes = text.as_bytes().iter().copied().peekable();
        let mut absolute = false;
        while bytes.peek().is_some() {
            let start = wire.len();
            wire.push(0);
            loop {
                match bytes.next() {
                    None => break,
                    Some(b'.') => {
                        if bytes.peek().is_none() {
                            absolute = true;
                        }
                        break;
                    }
                    Some(b'\\') => wire.push(unescape(&mut bytes)?),
                    Some(b) => wire.push(b),
                }
            }
            let len = wire.len() - start - 1;
            if len == 0 {
                return Err(NameError::EmptyLabel);
            }
            if len > MAX_LABEL {
                return Err(NameError::LabelTooLong);
            }
            wire[start] = super::len_byte(len); // at most 63, checked above
        }
        if absolute {
            wire.push(0);
        }
        if wire.len() > MAX_NAME {
            return Err(NameError::NameTooLong);
        }
        Ok(DomainName { wire })
    }

    /// The name from uncompressed wire form (labels, then an optional zero byte).
    pub fn from_wire(wire: &[u8]) -> Result<Self, NameError> {
        let mut pos = 0;
        while pos < wire.len() {
            let len = usize::from(wire[pos]);
            if len == 0 {
                if pos + 1 != wire.len() {
                    return Err(NameError::EmptyLabel);
                }
                break;
            }
            if len > MAX_LABEL {
                return Err(NameError::LabelTooLong);
            }
            pos += 1 + len;
        }
        if pos > wire.len() {
            return Err(NameError::Truncated);
        }
        if wire.len() > MAX_NAME {
            return Err(NameError::NameTooLong);
        }
        Ok(DomainName {
            wire: wire.to_vec(),
        })
    }

    /// The labels, most specific first, without the root.
    pub fn labels(&self) -> Labels<'_> {
        Labels { wire: &self.wire }
    }

    /// True when the name ends in the root label.
    pub fn is_absolute(&self) -> bool {
        self.wire.last() == Some(&0)
    }

    /// The uncompressed wire form.
    pub fn wire(&self) -> &[u8] {
        &self.wire
    }

    /// The name as dotted text, escaped, without a trailing dot.
    pub fn to_dotted(&self) -> String {
        alloc::format!("{self}")
    }

    fn label_count(&self) -> usize {
        self.labels().count()
    }

    /// Labels from index `from` on.
    fn suffix(&self, from: usize) -> Labels<'_> {
        let mut labels = self.labels();
        for _ in 0..from {
            labels.next();
        }
        labels
    }

    /// Wire bytes taken by the labels before index `upto`.
    fn prefix_len(&self, upto: usize) -> usize {
        self.labels().take(upto).map(|l| 1 + l.len()).sum()
    }
}

fn unescape(bytes: &mut impl Iterator<Item = u8>) -> Result<u8, NameError> {
    let first = bytes.next().ok_or(NameError::BadEscape)?;
    if !first.is_ascii_digit() {
        return Ok(first);
    }
    let mut value = u32::from(first - b'0');
    for _ in 0..2 {
        let d = bytes
            .next()
            .filter(u8::is_ascii_digit)
            .ok_or(NameError::BadEscape)?;
        value = value * 10 + u32::from(d - b'0');
    }
    u8::try_from(value).map_err(|_| NameError::BadEscape)
}

/// The labels of a [`DomainName`].
#[derive(Clone)]
pub struct Labels<'a> {
    wire: &'a [u8],
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (&len, rest) = self.wire.split_first()?;
        let len = usize::from(len);
        if len == 0 || len > rest.len() {
            self.wire = &[];
            return None;
        }
        let (label, rest) = rest.split_at(len);
        self.wire = rest;
        Some(label)
    }
}

/// Dotted, with `.` `\` and unprintable bytes escaped as in zone files.
impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut any = false;
        for (i, label) in self.labels().enumerate() {
            any = true;
            if i > 0 {
                f.write_str(".")?;
            }
            for &b in label {
                match b {
                    b'.' | b'\\' => write!(f, "\\{}", char::from(b))?,
                    0x21..=0x7e => write!(f, "{}", char::from(b))?,
                    _ => write!(f, "\\{b:03}")?,
                }
            }
        }
        if !any {
            f.write_str(".")?;
        }
        Ok(())
    }
}

impl fmt::Debug for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "DomainName({self}{})",
            if self.is_absolute() { "." } else { "" }
        )
    }
}

/// Serialized as dotted text, with a trailing dot when absolute.
#[cfg(feature = "serde")]
impl serde::Serialize for DomainName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut text = self.to_dotted();
        if self.is_absolute() && text != "." {
            text.push('.');
        }
        s.serialize_str(&text)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for DomainName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(d)?;
        DomainName::partial_from_dotted(&text).map_err(serde::de::Error::custom)
    }
}

/// Reads one possibly compressed name starting at `start` in `data` (RFC 1035 §4.1.4).
///
/// Returns the name and the offset just past its in-place bytes. A pointer must point before
/// the stretch of labels it ends (an earlier name, RFC 1035 §4.1.4), not merely before
/// itself: a pointer back into its own labels would read them again, without end.
pub(crate) fn read_compressed(
    data: &[u8],
    start: usize,
) -> Result<(DomainName, usize), ValueError> {
    let mut wire = Vec::new();
    let mut pos = start;
    // Where the labels being read began: the name's start, then each pointer's target.
    let mut stretch = start;
    let mut end = None;
    // Every pointer moves before the previous stretch, so the walk ends within data.len() steps.
    loop {
        let len = *data
            .get(pos)
            .ok_or(ValueError::Value("name runs past the end"))?;
        match len {
            0 => {
                wire.push(0);
                end.get_or_insert(pos + 1);
                break;
            }
            1..=63 => {
                let label = data
                    .get(pos + 1..pos + 1 + usize::from(len))
                    .ok_or(ValueError::Value("name runs past the end"))?;
                wire.push(len);
                wire.extend_from_slice(label);
                if wire.len() + 1 > MAX_NAME {
                    return Err(ValueError::Value("name longer than 255 bytes"));
                }
                pos += 1 + usize::from(len);
            }
            0xc0..=0xff => {
                let low = *data
                    .get(pos + 1)
                    .ok_or(ValueError::Value("name runs past the end"))?;
                let target = usize::from(len & 0x3f) << 8 | usize::from(low);
                if target >= stretch {
                    return Err(ValueError::Value("compression pointer does not point back"));
                }
                end.get_or_insert(pos + 2);
                pos = target;
                stretch = target;
            }
            _ => return Err(ValueError::Value("label longer than 63 bytes")),
        }
    }
    // `end` is set on every path that leaves the loop.
    Ok((DomainName { wire }, end.unwrap_or(data.len())))
}

/// A list of absolute names, compressed against each other (RFC 3397 §2).
pub(crate) struct DomainList;

impl Codec for DomainList {
    type Value = Vec<DomainName>;

    fn decode(data: &[u8]) -> Result<Vec<DomainName>, ValueError> {
        if data.is_empty() {
            return Err(ValueError::Length(Expected::AtLeast(1)));
        }
        let mut names = Vec::new();
        let mut pos = 0;
        while pos < data.len() {
            let (name, next) = read_compressed(data, pos)?;
            names.push(name);
            pos = next;
        }
        Ok(names)
    }

    fn encode<S: Sink>(names: &Vec<DomainName>, out: &mut S) {
        let compress = should_compress(names);
        for (i, name) in names.iter().enumerate() {
            let split = if compress {
                split(names, i)
            } else {
                name.label_count()
            };
            for label in name.labels().take(split) {
                out.put_u8(super::len_byte(label.len())); // labels are at most 63 bytes
                out.put(label);
            }
            if split < name.label_count() {
                // Below MAX_POINTER: should_compress bounds every offset in the list.
                let target = u16::try_from(pointer_target(names, i, split)).unwrap_or(0);
                out.put_u16(0xc000 | target);
            } else {
                out.put_u8(0);
            }
        }
    }

    fn show(names: &Vec<DomainName>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        super::kinds::show_list(names, f, |n, f| write!(f, "{n}"))
    }
}

/// Lists longer than this are written uncompressed, which keeps the quadratic search below
/// cheap; real search lists hold a handful of names.
const MAX_COMPRESSED_NAMES: usize = 64;

/// Compression is used when every offset in the list fits in a pointer: the uncompressed
/// length bounds every offset of the compressed form.
fn should_compress(names: &[DomainName]) -> bool {
    names.len() <= MAX_COMPRESSED_NAMES
        && names.iter().map(|n| n.wire.len()).sum::<usize>() <= MAX_POINTER
}

/// How many labels of name `i` are written in place: the labels before the longest suffix
/// that an earlier name also ends with. The rest is a pointer (RFC 1035 §4.1.4).
///
/// Emission allocates nothing, so this is worked out again where needed rather than stored.
fn split(names: &[DomainName], i: usize) -> usize {
    let count = names[i].label_count();
    (0..count)
        .find(|&from| earliest_with_suffix(names, i, from).is_some())
        .unwrap_or(count)
}

/// The earliest name before `i` that ends with name `i`'s labels from `from` on, and the
/// index of the label where that suffix starts in it.
fn earliest_with_suffix(names: &[DomainName], i: usize, from: usize) -> Option<(usize, usize)> {
    let name = &names[i];
    let wanted = name.label_count() - from;
    names[..i].iter().enumerate().find_map(|(j, earlier)| {
        let count = earlier.label_count();
        let t = count.checked_sub(wanted)?;
        name.suffix(from).eq(earlier.suffix(t)).then_some((j, t))
    })
}

/// Where the suffix of name `i` starting at label `from` sits in the compressed list.
///
/// The earliest name holding a suffix holds it in place: had an even earlier name ended with
/// it, that name would be the earliest. So the offset is that name's start plus the labels
/// before the suffix.
fn pointer_target(names: &[DomainName], i: usize, from: usize) -> usize {
    let Some((j, t)) = earliest_with_suffix(names, i, from) else {
        return 0;
    };
    let start: usize = (0..j).map(|m| encoded_len(names, m)).sum();
    start + names[j].prefix_len(t)
}

/// Bytes name `i` takes in the compressed list.
fn encoded_len(names: &[DomainName], i: usize) -> usize {
    let split = split(names, i);
    let name = &names[i];
    name.prefix_len(split) + if split < name.label_count() { 2 } else { 1 }
}
