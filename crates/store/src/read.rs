//! Reading `dhcpd.leases` text: a hand-written scanner and a recovering parser.
//!
//! The scanner cuts the text into atoms (anything up to white space or one of `;{}"#`),
//! quoted strings, `;`, `{` and `}`, skipping `#` comments. Atoms and strings are slices of
//! the input: nothing is allocated but what a [`Lease`] keeps.
//!
//! A record that cannot be read is reported as a [`Problem`] and skipped: reading goes on at
//! the next line that begins with a top-level keyword (`lease`, `host`, `failover` …), so a
//! torn or corrupt record costs that record only.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use charrua_server::leases::{INFINITE, Lease, LeaseState, Time};
use charrua_wire::{HardwareAddress, HardwareType, Text};

use crate::time::{Civil, days_in_month, from_civil};
use crate::{Level, Loaded, Problem};

/// The last year read in the calendar format; later times are written as `epoch N`.
const MAX_YEAR: i64 = 999_999;

/// Keywords that open a top-level statement; a line that begins with one is where reading
/// resumes after a bad record.
const TOP_LEVEL: &[&[u8]] = &[
    b"lease",
    b"host",
    b"failover",
    b"group",
    b"subclass",
    b"class",
    b"authoring-byte-order",
    b"server-duid",
    b"lease6",
    b"ia-na",
    b"ia-ta",
    b"ia-pd",
];

/// Reads the text of a `dhcpd.leases` file: its leases (the last record of an address wins,
/// as in ISC dhcpd) and what could not be read. Never fails: bad records are skipped and
/// reported.
pub fn read(text: &str) -> Loaded {
    read_bytes(text.as_bytes())
}

/// As [`read`], for text that may not be UTF-8 (strings are byte strings in this format).
pub fn read_bytes(text: &[u8]) -> Loaded {
    let mut parser = Parser {
        lex: Lexer {
            src: text,
            pos: 0,
            line: 1,
            line_start: 0,
        },
        loaded: Loaded::default(),
        index: HashMap::new(),
    };
    parser.run();
    parser.loaded
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind<'a> {
    /// A run of characters up to white space or one of `;{}"#`.
    Atom(&'a [u8]),
    /// A quoted string, as written between the quotes (escapes not yet decoded).
    Str(&'a [u8]),
    /// A quoted string with no closing quote on its line.
    OpenStr,
    Semi,
    Open,
    Close,
    Eof,
}

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    kind: Kind<'a>,
    /// Byte offset of the token's first character.
    pos: usize,
    line: usize,
    column: usize,
}

impl Token<'_> {
    fn describe(&self) -> String {
        match self.kind {
            Kind::Atom(a) => format!("`{}`", String::from_utf8_lossy(a)),
            Kind::Str(_) | Kind::OpenStr => "a string".into(),
            Kind::Semi => "`;`".into(),
            Kind::Open => "`{`".into(),
            Kind::Close => "`}`".into(),
            Kind::Eof => "the end of the file".into(),
        }
    }
}

struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    line: usize,
    /// Byte offset where the current line begins.
    line_start: usize,
}

/// For each byte, whether it ends an atom: white space or one of `;{}"#`.
const ENDS_ATOM: [bool; 256] = {
    let mut table = [false; 256];
    let mut b: u8 = 0;
    loop {
        table[b as usize] =
            b.is_ascii_whitespace() || matches!(b, b';' | b'{' | b'}' | b'"' | b'#');
        if b == u8::MAX {
            break table;
        }
        b += 1;
    }
};

fn ends_atom(b: u8) -> bool {
    ENDS_ATOM[usize::from(b)]
}

impl<'a> Lexer<'a> {
    fn next(&mut self) -> Token<'a> {
        self.skip_blank();
        let (pos, line, column) = (self.pos, self.line, self.pos - self.line_start + 1);
        let token = |kind| Token {
            kind,
            pos,
            line,
            column,
        };
        let Some(&b) = self.src.get(pos) else {
            return token(Kind::Eof);
        };
        self.pos += 1;
        let kind = match b {
            b';' => Kind::Semi,
            b'{' => Kind::Open,
            b'}' => Kind::Close,
            b'"' => self.string(),
            _ => {
                let len = self.src[self.pos..]
                    .iter()
                    .position(|&c| ends_atom(c))
                    .unwrap_or(self.src.len() - self.pos);
                self.pos += len;
                Kind::Atom(&self.src[pos..self.pos])
            }
        };
        token(kind)
    }

    /// Skips white space and comments, counting lines.
    fn skip_blank(&mut self) {
        while let Some(&b) = self.src.get(self.pos) {
            match b {
                b'\n' => {
                    self.pos += 1;
                    self.line += 1;
                    self.line_start = self.pos;
                }
                b'#' => {
                    let rest = &self.src[self.pos..];
                    self.pos += rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
                }
                _ if b.is_ascii_whitespace() => self.pos += 1,
                _ => return,
            }
        }
    }

    /// The rest of a quoted string whose opening quote has been read. A string ends on its
    /// line: a lease file never holds a raw line break inside one.
    fn string(&mut self) -> Kind<'a> {
        let start = self.pos;
        while let Some(&b) = self.src.get(self.pos) {
            match b {
                b'"' => {
                    self.pos += 1;
                    return Kind::Str(&self.src[start..self.pos - 1]);
                }
                b'\n' => return Kind::OpenStr,
                b'\\' if self.src.get(self.pos + 1).is_some_and(|&c| c != b'\n') => {
                    self.pos += 2;
                }
                _ => self.pos += 1,
            }
        }
        Kind::OpenStr
    }

    /// Moves back to a token already read, so that it is read again.
    fn rewind_to(&mut self, pos: usize, line: usize, column: usize) {
        self.pos = pos;
        self.line = line;
        self.line_start = pos + 1 - column;
    }

    /// Moves to the start of the next line that begins with a top-level keyword, or to the
    /// end of the text.
    fn resync(&mut self) {
        loop {
            let rest = &self.src[self.pos..];
            let Some(newline) = rest.iter().position(|&c| c == b'\n') else {
                self.pos = self.src.len();
                return;
            };
            self.pos += newline + 1;
            self.line += 1;
            self.line_start = self.pos;
            let rest = &self.src[self.pos..];
            let word_len = rest
                .iter()
                .position(|&c| ends_atom(c))
                .unwrap_or(rest.len());
            if TOP_LEVEL.contains(&&rest[..word_len]) {
                return;
            }
        }
    }
}

/// Why a record was not read: the problem, and whether reading resumes at the token that
/// revealed it (a top-level keyword in the middle of a record) or at the next good line.
struct Bad {
    problem: Problem,
    /// Byte offset of the token the problem is reported at.
    pos: usize,
    resume_here: bool,
}

type Step<T> = Result<T, Bad>;

fn bad(token: &Token<'_>, message: String) -> Bad {
    Bad {
        problem: Problem {
            path: None,
            line: token.line,
            column: token.column,
            level: Level::Error,
            message,
        },
        pos: token.pos,
        resume_here: false,
    }
}

struct Parser<'a> {
    lex: Lexer<'a>,
    loaded: Loaded,
    /// Where each address's lease sits in `loaded.leases`.
    index: HashMap<u32, usize>,
}

impl<'a> Parser<'a> {
    fn run(&mut self) {
        loop {
            let token = self.lex.next();
            let result = match token.kind {
                Kind::Eof => return,
                Kind::Semi => Ok(()),
                Kind::Atom(b"lease") => {
                    self.loaded.records += 1;
                    self.lease(&token).map(|lease| self.keep(lease))
                }
                Kind::Atom(b"authoring-byte-order") => self.byte_order(),
                Kind::Atom(b"server-duid") => self.server_duid(),
                Kind::Atom(word) if TOP_LEVEL.contains(&word) => self.skipped_record(&token),
                _ => Err(bad(
                    &token,
                    format!("expected a top-level statement, found {}", token.describe()),
                )),
            };
            if let Err(failure) = result {
                if !failure.resume_here {
                    // Resume after the line where the problem was found: the scanner may
                    // have read past it, into the next record.
                    let (line, column) = (failure.problem.line, failure.problem.column);
                    self.lex.rewind_to(failure.pos, line, column);
                    self.lex.resync();
                }
                self.loaded.problems.push(failure.problem);
            }
        }
    }

    fn keep(&mut self, lease: Lease) {
        match self.index.entry(u32::from(lease.address)) {
            std::collections::hash_map::Entry::Occupied(slot) => {
                self.loaded.leases[*slot.get()] = lease;
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(self.loaded.leases.len());
                self.loaded.leases.push(lease);
            }
        }
    }

    /// The next token, which must be an atom.
    fn atom(&mut self, what: &str) -> Step<(&'a [u8], Token<'a>)> {
        let token = self.lex.next();
        match token.kind {
            Kind::Atom(a) => Ok((a, token)),
            _ => Err(bad(
                &token,
                format!("expected {what}, found {}", token.describe()),
            )),
        }
    }

    fn keyword(&mut self, word: &[u8]) -> Step<()> {
        let token = self.lex.next();
        if token.kind == Kind::Atom(word) {
            return Ok(());
        }
        let word = String::from_utf8_lossy(word);
        Err(bad(
            &token,
            format!("expected `{word}`, found {}", token.describe()),
        ))
    }

    fn semicolon(&mut self) -> Step<()> {
        let token = self.lex.next();
        match token.kind {
            Kind::Semi => Ok(()),
            _ => Err(bad(
                &token,
                format!("expected `;`, found {}", token.describe()),
            )),
        }
    }

    /// Bytes written either as a quoted string or as colon-separated hex, then `;`.
    fn bytes(&mut self, what: &str) -> Step<Vec<u8>> {
        let token = self.lex.next();
        let value = match token.kind {
            Kind::Str(raw) => unescape(raw).map_err(|m| bad(&token, format!("{what}: {m}")))?,
            Kind::Atom(hex) => colon_hex(hex).ok_or_else(|| {
                bad(
                    &token,
                    format!("{what}: bad hex bytes {}", token.describe()),
                )
            })?,
            _ => {
                let found = token.describe();
                return Err(bad(&token, format!("expected {what}, found {found}")));
            }
        };
        self.semicolon()?;
        Ok(value)
    }

    fn byte_order(&mut self) -> Step<()> {
        let (order, token) = self.atom("a byte order")?;
        if !matches!(order, b"little-endian" | b"big-endian") {
            let found = token.describe();
            return Err(bad(&token, format!("unknown byte order {found}")));
        }
        self.semicolon()
    }

    fn server_duid(&mut self) -> Step<()> {
        self.loaded.server_duid = Some(self.bytes("a server DUID")?);
        Ok(())
    }

    /// A top-level record this crate does not keep: noted and skipped whole.
    fn skipped_record(&mut self, start: &Token<'_>) -> Step<()> {
        self.skip_statement(start)?;
        let word = start.describe();
        self.loaded.problems.push(Problem {
            path: None,
            line: start.line,
            column: start.column,
            level: Level::Note,
            message: format!("{word} record skipped: only leases are read"),
        });
        Ok(())
    }

    /// Skips to the `;` that ends a statement, or past the block that ends it, with its
    /// nested blocks.
    fn skip_statement(&mut self, start: &Token<'_>) -> Step<()> {
        let mut depth = 0usize;
        loop {
            let token = self.lex.next();
            match token.kind {
                Kind::Semi if depth == 0 => return Ok(()),
                Kind::Open => depth += 1,
                Kind::Close if depth == 0 => {
                    return Err(bad(&token, "unexpected `}`".into()));
                }
                Kind::Close => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                Kind::OpenStr => return Err(bad(&token, "string not closed on its line".into())),
                Kind::Eof => {
                    let word = start.describe();
                    return Err(bad(
                        start,
                        format!("{word} not finished at the end of the file"),
                    ));
                }
                Kind::Semi | Kind::Atom(_) | Kind::Str(_) => {}
            }
        }
    }

    fn lease(&mut self, start: &Token<'_>) -> Step<Lease> {
        let (text, token) = self.atom("an address")?;
        let address = parse_ipv4(text)
            .ok_or_else(|| bad(&token, format!("bad lease address {}", token.describe())))?;
        let open = self.lex.next();
        if open.kind != Kind::Open {
            let found = open.describe();
            return Err(bad(
                &open,
                format!("lease {address}: expected `{{`, found {found}"),
            ));
        }
        let mut lease = Lease {
            address,
            client_id: None,
            hardware: None,
            starts: 0,
            ends: 0,
            cltt: 0,
            state: LeaseState::Active,
            hostname: None,
        };
        let mut state = None;
        let mut abandoned = false;
        loop {
            let token = self.lex.next();
            let word = match token.kind {
                Kind::Close => break,
                Kind::Semi => continue,
                Kind::Atom(word) => word,
                Kind::Eof => {
                    let message =
                        format!("lease {address}: record not closed at the end of the file");
                    return Err(bad(start, message));
                }
                _ => {
                    let found = token.describe();
                    return Err(bad(&token, format!("lease {address}: unexpected {found}")));
                }
            };
            if token.column == 1 && TOP_LEVEL.contains(&word) {
                let found = token.describe();
                let message = format!("lease {address}: record not closed before {found}");
                self.lex.rewind_to(token.pos, token.line, token.column);
                let mut failure = bad(start, message);
                failure.resume_here = true;
                return Err(failure);
            }
            let in_lease = |e: Bad| prefix(e, address);
            match word {
                b"starts" => lease.starts = self.time().map_err(in_lease)?,
                b"ends" => lease.ends = self.time().map_err(in_lease)?,
                b"cltt" => lease.cltt = self.time().map_err(in_lease)?,
                b"tstp" | b"tsfp" | b"atsfp" => {
                    self.time().map_err(in_lease)?;
                }
                b"binding" => {
                    self.keyword(b"state").map_err(in_lease)?;
                    state = Some(self.binding_state().map_err(in_lease)?);
                }
                b"next" | b"rewind" => {
                    self.keyword(b"binding").map_err(in_lease)?;
                    self.keyword(b"state").map_err(in_lease)?;
                    self.binding_state().map_err(in_lease)?;
                }
                b"hardware" => lease.hardware = Some(self.hardware().map_err(in_lease)?),
                b"uid" => lease.client_id = Some(self.bytes("a client id").map_err(in_lease)?),
                b"client-hostname" => {
                    let name = self.bytes("a host name").map_err(in_lease)?;
                    lease.hostname = Some(Text::new(name));
                }
                b"abandoned" => {
                    abandoned = true;
                    self.semicolon().map_err(in_lease)?;
                }
                b"dynamic-bootp" | b"bootp" | b"reserved" => self.semicolon().map_err(in_lease)?,
                b"set"
                | b"on"
                | b"billing"
                | b"option"
                | b"vendor-class-identifier"
                | b"ddns-text"
                | b"ddns-fwd-name"
                | b"ddns-rev-name"
                | b"ddns-client-fqdn" => {
                    self.skip_statement(&token).map_err(in_lease)?;
                }
                _ => {
                    let found = token.describe();
                    let message = format!("lease {address}: unknown statement {found}");
                    return Err(bad(&token, message));
                }
            }
        }
        lease.state = match state {
            Some(state) => state,
            None if abandoned => LeaseState::Abandoned,
            None => LeaseState::Active,
        };
        Ok(lease)
    }

    /// `never;`, `epoch N;` or `W YYYY/MM/DD HH:MM:SS;` (UTC).
    fn time(&mut self) -> Step<Time> {
        let (first, token) = self.atom("a time")?;
        let time = match first {
            b"never" => INFINITE,
            b"epoch" => {
                let (n, token) = self.atom("seconds since the epoch")?;
                number(n)
                    .ok_or_else(|| bad(&token, format!("bad epoch time {}", token.describe())))?
            }
            weekday => {
                let (date, date_token) = self.atom("a date")?;
                let (clock, clock_token) = self.atom("a time of day")?;
                // The weekday is redundant: it is checked to be a number, then ignored.
                if number(weekday).is_none() {
                    return Err(bad(&token, format!("bad weekday {}", token.describe())));
                }
                let Some([year, month, day]) = fields(date, b'/') else {
                    return Err(bad(
                        &date_token,
                        format!("bad date {}", date_token.describe()),
                    ));
                };
                let Some([hour, minute, second]) = fields(clock, b':') else {
                    let found = clock_token.describe();
                    return Err(bad(&clock_token, format!("bad time of day {found}")));
                };
                // Out-of-range values become 0, which the checks below refuse.
                let [year, month, day] = [year, month, day].map(|n| {
                    i64::try_from(n)
                        .ok()
                        .filter(|&n| n <= MAX_YEAR)
                        .unwrap_or(0)
                });
                let valid_day =
                    (1..=12).contains(&month) && (1..=days_in_month(year, month)).contains(&day);
                if year < 1970 || !valid_day {
                    return Err(bad(
                        &date_token,
                        format!("bad date {}", date_token.describe()),
                    ));
                }
                if hour > 23 || minute > 59 || second > 60 {
                    let found = clock_token.describe();
                    return Err(bad(&clock_token, format!("bad time of day {found}")));
                }
                let civil = Civil {
                    weekday: 0,
                    year,
                    month,
                    day,
                    hour,
                    minute,
                    second,
                };
                from_civil(&civil).ok_or_else(|| {
                    bad(
                        &date_token,
                        format!("date {} out of range", date_token.describe()),
                    )
                })?
            }
        };
        self.semicolon()?;
        Ok(time)
    }

    fn binding_state(&mut self) -> Step<LeaseState> {
        let (name, token) = self.atom("a binding state")?;
        let state = match name {
            b"active" | b"bootp" | b"reserved" => LeaseState::Active,
            b"free" | b"backup" | b"reset" => LeaseState::Free,
            b"expired" => LeaseState::Expired,
            b"released" => LeaseState::Released,
            b"abandoned" => LeaseState::Abandoned,
            _ => {
                let found = token.describe();
                return Err(bad(&token, format!("unknown binding state {found}")));
            }
        };
        self.semicolon()?;
        Ok(state)
    }

    /// `TYPE XX:XX:…;` or `TYPE;` (no address).
    fn hardware(&mut self) -> Step<(HardwareType, HardwareAddress)> {
        let (name, token) = self.atom("a hardware type")?;
        let htype = match name {
            b"ethernet" => HardwareType::ETHERNET,
            b"token-ring" => HardwareType::IEEE802,
            b"fddi" => HardwareType(8),
            b"infiniband" => HardwareType::INFINIBAND,
            _ => {
                let found = token.describe();
                return Err(bad(&token, format!("unknown hardware type {found}")));
            }
        };
        let token = self.lex.next();
        let address = match token.kind {
            Kind::Semi => return Ok((htype, HardwareAddress::default())),
            Kind::Atom(hex) => colon_hex(hex).and_then(|bytes| HardwareAddress::new(&bytes)),
            _ => None,
        };
        let address = address
            .ok_or_else(|| bad(&token, format!("bad hardware address {}", token.describe())))?;
        self.semicolon()?;
        Ok((htype, address))
    }
}

/// Puts the lease's address in front of a problem found inside its record.
fn prefix(mut failure: Bad, address: Ipv4Addr) -> Bad {
    failure.problem.message = format!("lease {address}: {}", failure.problem.message);
    failure
}

/// A decimal number that fits a `u64`.
fn number(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        let digit = d.is_ascii_digit().then(|| u64::from(d - b'0'))?;
        n.checked_mul(10)?.checked_add(digit)
    })
}

/// Three numbers separated by `sep`, as in `2026/12/03` or `14:00:00`.
fn fields(text: &[u8], sep: u8) -> Option<[u64; 3]> {
    let mut parts = text.split(|&c| c == sep);
    let mut out = [0u64; 3];
    for slot in &mut out {
        *slot = number(parts.next()?)?;
    }
    parts.next().is_none().then_some(out)
}

/// A dotted-quad IPv4 address.
fn parse_ipv4(text: &[u8]) -> Option<Ipv4Addr> {
    let mut parts = text.split(|&c| c == b'.');
    let mut octets = [0u8; 4];
    for octet in &mut octets {
        let part = parts.next()?;
        if part.len() > 3 {
            return None;
        }
        *octet = u8::try_from(number(part)?).ok()?;
    }
    parts.next().is_none().then_some(Ipv4Addr::from(octets))
}

/// Colon-separated hex bytes of one or two digits each, as in `1:a:ff`.
fn colon_hex(text: &[u8]) -> Option<Vec<u8>> {
    text.split(|&c| c == b':')
        .map(|part| match part {
            [a] => hex_digit(*a),
            [a, b] => Some(hex_digit(*a)? * 16 + hex_digit(*b)?),
            _ => None,
        })
        .collect()
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes the escapes of a quoted string: `\ooo` (octal, up to three digits), `\xHH`,
/// `\t`, `\n`, `\r`, `\b`, and a backslash before any other character for that character.
fn unescape(raw: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&c) = raw.get(i) {
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        // The scanner never ends a string on a lone backslash.
        let Some(&e) = raw.get(i) else {
            return Err("string ends in a backslash".into());
        };
        i += 1;
        let byte = match e {
            b'0'..=b'7' => {
                let mut value = u32::from(e - b'0');
                for _ in 0..2 {
                    match raw.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            value = value * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                u8::try_from(value).map_err(|_| format!("octal escape \\{value:o} over 255"))?
            }
            b'x' => {
                let mut value = 0u8;
                let mut digits = 0;
                while digits < 2 {
                    match raw.get(i).and_then(|&d| hex_digit(d)) {
                        Some(d) => {
                            value = value * 16 + d;
                            i += 1;
                            digits += 1;
                        }
                        None => break,
                    }
                }
                if digits == 0 {
                    return Err("`\\x` without hex digits".into());
                }
                value
            }
            b't' => b'\t',
            b'n' => b'\n',
            b'r' => b'\r',
            b'b' => 8,
            other => other,
        };
        out.push(byte);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_octal_and_hex_escapes() {
        assert_eq!(
            unescape(br#"\001\000a\"\\\x7f\n"#).unwrap(),
            b"\x01\x00a\"\\\x7f\n"
        );
        assert!(unescape(br"\400").is_err());
    }

    #[test]
    fn parses_addresses_strictly() {
        assert_eq!(parse_ipv4(b"192.0.2.1"), Some(Ipv4Addr::new(192, 0, 2, 1)));
        for bad in [
            &b"192.0.2"[..],
            b"192.0.2.256",
            b"1.2.3.4.5",
            b"a.b.c.d",
            b"1..2.3",
        ] {
            assert_eq!(parse_ipv4(bad), None);
        }
    }

    #[test]
    fn reads_colon_hex_with_one_or_two_digits() {
        assert_eq!(colon_hex(b"1:a:FF"), Some(vec![1, 10, 255]));
        assert_eq!(colon_hex(b"1::2"), None);
        assert_eq!(colon_hex(b"123"), None);
    }
}
