//! The fast path for lease records in the layout [`write_lease`](crate::write_lease) gives
//! them, which is most of any journal this crate has written, and of ISC dhcpd's too.
//!
//! A record is read line by line with exact separators: `lease ADDRESS {`, then statements
//! of the form `  KEYWORD ARG ARG;` (two spaces, single spaces between atoms, `;` and a line
//! break), then `}`. Anything else (other white space, comments, `set`, `on`, an unknown
//! statement, a value the full parser would refuse) makes [`lease_record`] give up with
//! nothing consumed, and the record is read again by the full parser, which reports what
//! is wrong. For every record it accepts, the result is the one the full parser gives:
//! atoms are cut at the same bytes, and values go through the same checks.

use charrua_server::leases::{INFINITE, Lease, LeaseState, Time};
use charrua_wire::{HardwareAddress, HardwareType, Text};

use super::{
    binding_state, blank_lease, calendar_time, colon_hex_into, ends_atom, escape, hardware_type,
    hex_digit, midnight, number, parse_ipv4, seconds_of_day, valid_date,
};

/// What the fast path keeps from one record to the next.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    /// The bytes of the string or hex being decoded.
    bytes: Vec<u8>,
    /// The digits of the last date read, and its midnight: records written together share
    /// their dates.
    last_date: Option<([u8; 8], Time)>,
}

/// A lease record read whole.
pub(super) struct Record {
    pub(super) lease: Lease,
    /// Byte offset just past the closing `}`.
    pub(super) end: usize,
    /// Line breaks read, so the `}` is on the line this many after `lease`.
    pub(super) newlines: usize,
    /// Byte offset where the line of the `}` begins.
    pub(super) last_line: usize,
}

/// Reads a lease record from `pos`, just after its `lease` keyword.
pub(super) fn lease_record(src: &[u8], pos: usize, scratch: &mut Scratch) -> Option<Record> {
    let mut at = Cursor { src, pos };
    at.eat(b" ")?;
    let address = parse_ipv4(at.atom()?)?;
    at.eat(b" {\n")?;
    let mut lease = blank_lease(address);
    let mut state = None;
    let mut abandoned = false;
    let mut newlines = 1;
    loop {
        let line = at.pos;
        if at.eat(b"}").is_some() {
            lease.state = match state {
                Some(state) => state,
                None if abandoned => LeaseState::Abandoned,
                None => LeaseState::Active,
            };
            return Some(Record {
                lease,
                end: at.pos,
                newlines,
                last_line: line,
            });
        }
        match at.keyword()? {
            b"starts" => lease.starts = at.time(scratch)?,
            b"ends" => lease.ends = at.time(scratch)?,
            b"cltt" => lease.cltt = at.time(scratch)?,
            b"tstp" | b"tsfp" | b"atsfp" => {
                at.time(scratch)?;
            }
            b"binding" => {
                at.eat(b" state ")?;
                state = Some(binding_state(at.atom()?)?);
            }
            b"next" | b"rewind" => {
                at.eat(b" binding state ")?;
                binding_state(at.atom()?)?;
            }
            b"hardware" => lease.hardware = Some(at.hardware(&mut scratch.bytes)?),
            b"uid" => {
                at.bytes(&mut scratch.bytes)?;
                lease.client_id = Some(scratch.bytes.as_slice().into());
            }
            b"client-hostname" => {
                at.bytes(&mut scratch.bytes)?;
                lease.hostname = Some(Text::new(scratch.bytes.as_slice()));
            }
            b"abandoned" => abandoned = true,
            b"dynamic-bootp" | b"bootp" | b"reserved" => {}
            _ => return None,
        }
        at.eat(b";\n")?;
        newlines += 1;
    }
}

/// A place in the text, moved on by what is read.
struct Cursor<'a> {
    src: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// Moves past `expected` if the text goes on with it.
    fn eat(&mut self, expected: &[u8]) -> Option<()> {
        let end = self.pos.checked_add(expected.len())?;
        if self.src.get(self.pos..end)? != expected {
            return None;
        }
        self.pos = end;
        Some(())
    }

    /// The keyword of a statement line, after its two spaces: the common ones known by
    /// their first byte, and followed by a space; others cut as atoms.
    fn keyword(&mut self) -> Option<&'a [u8]> {
        self.eat(b"  ")?;
        let rest = self.src.get(self.pos..)?;
        // Each word is compared as a constant, which needs no call.
        let followed_by_space =
            |word: &'static [u8]| rest.get(word.len()) == Some(&b' ') && rest.starts_with(word);
        let word: &'static [u8] = match rest.first()? {
            b's' if followed_by_space(b"starts") => b"starts",
            b'e' if followed_by_space(b"ends") => b"ends",
            b'c' if followed_by_space(b"cltt") => b"cltt",
            b'c' if followed_by_space(b"client-hostname") => b"client-hostname",
            b'b' if followed_by_space(b"binding") => b"binding",
            b'n' if followed_by_space(b"next") => b"next",
            b'r' if followed_by_space(b"rewind") => b"rewind",
            b'h' if followed_by_space(b"hardware") => b"hardware",
            b'u' if followed_by_space(b"uid") => b"uid",
            _ => return self.atom(),
        };
        self.pos += word.len();
        Some(word)
    }

    /// The atom here: the bytes up to white space or one of `;{}"#`, at least one.
    fn atom(&mut self) -> Option<&'a [u8]> {
        let rest = self.src.get(self.pos..)?;
        let len = rest
            .iter()
            .position(|&c| ends_atom(c))
            .unwrap_or(rest.len());
        if len == 0 {
            return None;
        }
        self.pos += len;
        Some(&rest[..len])
    }

    /// ` never`, ` epoch N` or ` W YYYY/MM/DD HH:MM:SS`.
    fn time(&mut self, scratch: &mut Scratch) -> Option<Time> {
        self.eat(b" ")?;
        if let Some(time) = self.fixed_time(scratch) {
            return Some(time);
        }
        match self.atom()? {
            b"never" => Some(INFINITE),
            b"epoch" => {
                self.eat(b" ")?;
                number(self.atom()?)
            }
            weekday => {
                self.eat(b" ")?;
                let date = self.atom()?;
                self.eat(b" ")?;
                let clock = self.atom()?;
                calendar_time(weekday, date, clock).ok()
            }
        }
    }

    /// `W YYYY/MM/DD HH:MM:SS` with a one-digit weekday and every other number two or four
    /// digits long, then `;`, which is left to read: the layout this crate and ISC dhcpd
    /// write. Read without cutting atoms; the checks are those of [`calendar_time`].
    fn fixed_time(&mut self, scratch: &mut Scratch) -> Option<Time> {
        const LAYOUT: &[u8; 22] = b"0 0000/00/00 00:00:00;";
        let text: &[u8; 22] = self.src.get(self.pos..self.pos + 22)?.try_into().ok()?;
        // Each byte against the layout: where it has `0`, a digit gives its value and any
        // other byte 10 or more; where it has a separator, only that separator gives 0.
        let mut x = [0u8; 22];
        for ((x, &c), &l) in x.iter_mut().zip(text).zip(LAYOUT) {
            *x = c ^ l;
        }
        let separators = x[1] | x[6] | x[9] | x[12] | x[15] | x[18] | x[21];
        if x.iter().fold(0, |max, &v| max.max(v)) > 9 || separators != 0 {
            return None;
        }
        let two = |i: usize| u64::from(x[i] * 10 + x[i + 1]);
        let seconds = seconds_of_day([two(13), two(16), two(19)]).ok()?;
        let day: [u8; 8] = [x[2], x[3], x[4], x[5], x[7], x[8], x[10], x[11]];
        let midnight = match scratch.last_date {
            Some((last, midnight)) if last == day => midnight,
            _ => {
                let date = valid_date([two(2) * 100 + two(4), two(7), two(10)]).ok()?;
                let midnight = midnight(date).ok()?;
                scratch.last_date = Some((day, midnight));
                midnight
            }
        };
        self.pos += 21;
        midnight.checked_add(seconds)
    }

    /// ` TYPE` or ` TYPE XX:XX:…`.
    fn hardware(&mut self, scratch: &mut Vec<u8>) -> Option<(HardwareType, HardwareAddress)> {
        self.eat(b" ")?;
        if let Some(mac) = self.ethernet() {
            return Some((HardwareType::ETHERNET, mac));
        }
        let htype = hardware_type(self.atom()?)?;
        if self.eat(b" ").is_none() {
            return Some((htype, HardwareAddress::default()));
        }
        scratch.clear();
        colon_hex_into(self.atom()?, scratch)?;
        Some((htype, HardwareAddress::new(scratch)?))
    }

    /// `ethernet XX:XX:XX:XX:XX:XX` with two digits a byte, then `;`, which is left to read.
    fn ethernet(&mut self) -> Option<HardwareAddress> {
        let text: &[u8; 27] = self.src.get(self.pos..self.pos + 27)?.try_into().ok()?;
        if &text[..9] != b"ethernet " || text[26] != b';' {
            return None;
        }
        let mut mac = [0u8; 6];
        for (n, byte) in mac.iter_mut().enumerate() {
            let at = 9 + 3 * n;
            if n > 0 && text[at - 1] != b':' {
                return None;
            }
            *byte = hex_digit(text[at])? * 16 + hex_digit(text[at + 1])?;
        }
        self.pos += 26;
        Some(HardwareAddress::ethernet(mac))
    }

    /// ` "STRING"` or ` XX:XX:…`, decoded into `out`.
    fn bytes(&mut self, out: &mut Vec<u8>) -> Option<()> {
        self.eat(b" ")?;
        out.clear();
        if self.eat(b"\"").is_none() {
            return colon_hex_into(self.atom()?, out);
        }
        // The string ends as the scanner ends it: at a quote that no backslash escapes, and
        // never across a line break. Escapes are decoded on the way.
        let src = self.src;
        let mut at = self.pos;
        loop {
            match *src.get(at)? {
                b'"' => {
                    self.pos = at + 1;
                    return Some(());
                }
                b'\n' => return None,
                b'\\' => {
                    // Three octal digits, the first up to 3, as writers escape bytes: the
                    // byte [`escape`] decodes, without its general case.
                    if let Some(&[a @ b'0'..=b'3', b @ b'0'..=b'7', c @ b'0'..=b'7']) =
                        src.get(at + 1..at + 4)
                    {
                        out.push((a - b'0') << 6 | (b - b'0') << 3 | (c - b'0'));
                        at += 4;
                        continue;
                    }
                    if src.get(at + 1).is_none_or(|&c| c == b'\n') {
                        return None;
                    }
                    let (byte, next) = escape(src, at + 1).ok()?;
                    out.push(byte);
                    at = next;
                }
                _ => {
                    let rest = &src[at..];
                    let plain = rest.iter().position(|&c| STRING_STOPS[usize::from(c)])?;
                    out.extend_from_slice(&rest[..plain]);
                    at += plain;
                }
            }
        }
    }
}

/// The bytes at which the scan of a string stops to look: `"`, `\\` and a line break.
const STRING_STOPS: [bool; 256] = {
    let mut table = [false; 256];
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table[b'\n' as usize] = true;
    table
};
