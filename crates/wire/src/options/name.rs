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

/// Walks one possibly compressed name starting at `start` in `data` (RFC 1035 §4.1.4),
/// calling `label` for each label in order, and checks it.
///
/// Returns the length of the name in uncompressed wire form and the offset just past its
/// in-place bytes. Each pointer must point before the stretch of labels it ends, which also
/// rules out loops.
fn walk(
    data: &[u8],
    start: usize,
    mut label: impl FnMut(&[u8]),
) -> Result<(usize, usize), ValueError> {
    let mut wire_len = 0;
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
                wire_len += 1;
                end.get_or_insert(pos + 1);
                break;
            }
            1..=63 => {
                let bytes = data
                    .get(pos + 1..pos + 1 + usize::from(len))
                    .ok_or(ValueError::Value("name runs past the end"))?;
                wire_len += 1 + bytes.len();
                if wire_len + 1 > MAX_NAME {
                    return Err(ValueError::Value("name longer than 255 bytes"));
                }
                label(bytes);
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
    Ok((wire_len, end.unwrap_or(data.len())))
}

/// Reads one possibly compressed name starting at `start` in `data` (RFC 1035 §4.1.4).
///
/// Returns the name and the offset just past its in-place bytes. The name is walked twice,
/// once to check it and size it, once to copy it, so it is allocated once.
pub(crate) fn read_compressed(
    data: &[u8],
    start: usize,
) -> Result<(DomainName, usize), ValueError> {
    let (wire_len, _) = walk(data, start, |_| {})?;
    let mut wire = Vec::with_capacity(wire_len);
    let (_, end) = walk(data, start, |label| {
        wire.push(super::len_byte(label.len())); // at most 63, checked by walk
        wire.extend_from_slice(label);
    })?;
    wire.push(0);
    Ok((DomainName { wire }, end))
}

/// A list of absolute names, compressed against each other (RFC 3397 §2).
pub(crate) struct DomainList;

impl Codec for DomainList {
    type Value = Vec<DomainName>;

    fn decode(data: &[u8]) -> Result<Vec<DomainName>, ValueError> {
        if data.is_empty() {
            return Err(ValueError::Length(Expected::AtLeast(1)));
        }
        // Count the names first, checking them, so the list is allocated once.
        let mut count = 0;
        let mut pos = 0;
        while pos < data.len() {
            pos = walk(data, pos, |_| {})?.1;
            count += 1;
        }
        let mut names = Vec::with_capacity(count);
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
        // Where each name starts in the list, kept as the names are written, for pointers.
        // Compression covers at most MAX_COMPRESSED_NAMES names, so this fits on the stack.
        let mut starts = [0usize; MAX_COMPRESSED_NAMES];
        let mut offset = 0;
        for (i, name) in names.iter().enumerate() {
            if let Some(start) = starts.get_mut(i) {
                *start = offset;
            }
            let split = if compress {
                split(names, i)
            } else {
                name.label_count()
            };
            for label in name.labels().take(split) {
                out.put_u8(super::len_byte(label.len())); // labels are at most 63 bytes
                out.put(label);
                offset += 1 + label.len();
            }
            if split < name.label_count() {
                // Below MAX_POINTER: should_compress bounds every offset in the list.
                let target = pointer_target(names, &starts, i, split);
                out.put_u16(0xc000 | u16::try_from(target).unwrap_or(0));
                offset += 2;
            } else {
                out.put_u8(0);
                offset += 1;
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

/// The labels of a name in wire form, without the root label.
fn labels_wire(name: &DomainName) -> &[u8] {
    name.wire.strip_suffix(&[0]).unwrap_or(&name.wire)
}

/// True when a label starts at byte `at` of `labels` (labels in wire form).
fn starts_label(labels: &[u8], at: usize) -> bool {
    let mut pos = 0;
    while pos < at {
        match labels.get(pos) {
            Some(&len) => pos += 1 + usize::from(len),
            None => return false,
        }
    }
    pos == at
}

/// How many labels of name `i` are written in place: the labels before the longest suffix
/// that an earlier name also ends with. The rest is a pointer (RFC 1035 §4.1.4).
///
/// Emission allocates nothing, so this is worked out again where needed rather than stored.
fn split(names: &[DomainName], i: usize) -> usize {
    let labels = labels_wire(&names[i]);
    let (mut pos, mut from) = (0, 0);
    while let Some(&len) = labels.get(pos) {
        if earliest_ending_with(names, i, &labels[pos..]).is_some() {
            return from;
        }
        pos += 1 + usize::from(len);
        from += 1;
    }
    from
}

/// The earliest name before `i` whose labels end with `suffix`, whole labels in wire form,
/// and the byte where that suffix starts in it. Comparing wire bytes from a label boundary
/// is comparing the labels.
fn earliest_ending_with(names: &[DomainName], i: usize, suffix: &[u8]) -> Option<(usize, usize)> {
    names[..i].iter().enumerate().find_map(|(j, earlier)| {
        let labels = labels_wire(earlier);
        let at = labels.len().checked_sub(suffix.len())?;
        (labels.ends_with(suffix) && starts_label(labels, at)).then_some((j, at))
    })
}

/// Where the suffix of name `i` starting at label `from` sits in the compressed list, given
/// where each earlier name starts.
///
/// The earliest name holding a suffix holds it in place: had an even earlier name ended with
/// it, that name would be the earliest. So the offset is that name's start plus the bytes of
/// the labels before the suffix.
fn pointer_target(names: &[DomainName], starts: &[usize], i: usize, from: usize) -> usize {
    let suffix = labels_wire(&names[i])
        .get(names[i].prefix_len(from)..)
        .unwrap_or_default();
    let Some((j, at)) = earliest_ending_with(names, i, suffix) else {
        return 0;
    };
    starts.get(j).copied().unwrap_or(0) + at
}
