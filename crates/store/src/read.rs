//! Reading `dhcpd.leases` text: a hand-written scanner and a recovering parser.
//!
//! The scanner cuts the text into atoms (anything up to white space or one of `;{}"#`),
//! quoted strings, `;`, `{` and `}`, skipping `#` comments. Atoms and strings are slices of
//! the input: nothing is allocated but what a [`Lease`] keeps.
//!
//! A record that cannot be read is reported as a [`Problem`] and skipped: reading goes on at
//! the next line that begins with a top-level keyword (`lease`, `host`, `failover` …), so a
//! torn or corrupt record costs that record only.
//!
//! Two things make a large file quick to read, without changing what is read:
//!
//! - [`fast`]: records laid out as this crate (and ISC dhcpd) writes them are read straight
//!   from the bytes, without the scanner's tokens; any other record is left to the parser.
//! - [`parallel`]: a large text is cut at record starts and read in parts on several
//!   threads, then joined in file order.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::Ipv4Addr;

use charrua_server::leases::{INFINITE, Lease, LeaseState, Time};
use charrua_wire::{HardwareAddress, HardwareType, Text};

use crate::time::{Civil, days_in_month, from_civil};
use crate::{Level, Loaded, Problem};

mod fast;
mod parallel;
mod stream;

pub(crate) use stream::read_file;

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
///
/// A large text is read in parts, on as many threads as the machine runs at once, and the
/// parts joined in file order: the result is the same.
pub fn read_bytes(text: &[u8]) -> Loaded {
    parallel::read(text)
}

/// Reads the text on this thread alone.
fn read_serial(text: &[u8]) -> Loaded {
    let mut parser = Parser::new(text, Place::START, text.len());
    parser.run();
    let mut loaded = parser.loaded;
    loaded.leases = last_of_each_address(loaded.leases);
    loaded
}

impl Place {
    /// The start of the text.
    const START: Place = Place {
        pos: 0,
        line: 1,
        line_start: 0,
    };
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
    /// True once the end of the text has been given as a token: what was read last might
    /// have been read differently had the text gone on.
    met_end: bool,
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
            self.met_end = true;
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

    /// True when the text at the scanner's position is a top-level keyword.
    fn at_top_level_keyword(&self) -> bool {
        let rest = &self.src[self.pos..];
        let word_len = rest
            .iter()
            .position(|&c| ends_atom(c))
            .unwrap_or(rest.len());
        TOP_LEVEL.contains(&&rest[..word_len])
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
            if self.at_top_level_keyword() {
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

/// Adds what was read in a part of a text to what was read before it.
fn gather(gathered: &mut Loaded, mut part: Loaded) {
    gathered.problems.append(&mut part.problems);
    gathered.records += part.records;
    if part.server_duid.is_some() {
        gathered.server_duid = part.server_duid;
    }
    if gathered.leases.is_empty() {
        gathered.leases = part.leases;
    } else {
        gathered.leases.append(&mut part.leases);
    }
}

/// The lease records, in file order, with each address once: where it first appears,
/// holding its last record.
fn last_of_each_address(leases: Vec<Lease>) -> Vec<Lease> {
    let Ok(total) = u32::try_from(leases.len()) else {
        return last_of_each_address_by_index(leases);
    };
    // Each record's key is its address in the high half and its place in the low half:
    // sorted, the records of an address come together, in file order.
    let mut keys: Vec<u64> = (0..total)
        .zip(&leases)
        .map(|(place, lease)| u64::from(u32::from(lease.address)) << 32 | u64::from(place))
        .collect();
    keys.sort_unstable();
    let address = |key: u64| key >> 32;
    if keys
        .windows(2)
        .all(|pair| address(pair[0]) != address(pair[1]))
    {
        return leases;
    }

    // For each later record of an address, the place of its first, which it takes.
    const NONE: usize = usize::MAX;
    let place = |key: u64| usize::try_from(key & u64::from(u32::MAX)).unwrap_or(NONE);
    let mut goes_to = vec![NONE; leases.len()];
    for group in keys.chunk_by(|a, b| address(*a) == address(*b)) {
        for &later in &group[1..] {
            goes_to[place(later)] = place(group[0]);
        }
    }
    let mut kept_at = vec![0usize; leases.len()];
    let mut kept = Vec::with_capacity(leases.len());
    for (place, (lease, goes_to)) in leases.into_iter().zip(goes_to).enumerate() {
        match goes_to {
            NONE => {
                kept_at[place] = kept.len();
                kept.push(lease);
            }
            first => kept[kept_at[first]] = lease,
        }
    }
    kept
}

/// As [`last_of_each_address`], with a hash index of addresses, for more records than a
/// sort key has room for.
fn last_of_each_address_by_index(leases: Vec<Lease>) -> Vec<Lease> {
    let mut kept = Vec::new();
    let mut index: HashMap<Ipv4Addr, usize> = HashMap::new();
    for lease in leases {
        match index.entry(lease.address) {
            Entry::Occupied(slot) => kept[*slot.get()] = lease,
            Entry::Vacant(slot) => {
                slot.insert(kept.len());
                kept.push(lease);
            }
        }
    }
    kept
}

/// The scanner's place in the text: where it is, and the line it is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Place {
    pos: usize,
    line: usize,
    /// Byte offset where the line begins.
    line_start: usize,
}

struct Parser<'a> {
    lex: Lexer<'a>,
    /// Top-level statements are read while they begin before this offset; one that begins
    /// before it is read whole, even past it.
    stop: usize,
    /// Whether records in the layout this crate writes take the fast path.
    fast: bool,
    /// What the fast path keeps from one record to the next.
    scratch: fast::Scratch,
    loaded: Loaded,
}

impl<'a> Parser<'a> {
    /// A parser of `src` from `from` (the start of a line) up to `stop`.
    fn new(src: &'a [u8], from: Place, stop: usize) -> Self {
        Parser {
            lex: Lexer {
                src,
                pos: from.pos,
                line: from.line,
                line_start: from.line_start,
                met_end: false,
            },
            stop,
            fast: true,
            scratch: fast::Scratch::default(),
            loaded: Loaded::default(),
        }
    }

    /// Where the scanner is.
    fn place(&self) -> Place {
        Place {
            pos: self.lex.pos,
            line: self.lex.line,
            line_start: self.lex.line_start,
        }
    }

    /// Reads top-level statements until the next one would begin at `stop` or later, or at
    /// the end of the text; the scanner is left at its first token.
    fn run(&mut self) {
        loop {
            self.lex.skip_blank();
            if self.lex.pos >= self.stop {
                return;
            }
            let token = self.lex.next();
            let result = match token.kind {
                Kind::Eof => return,
                Kind::Semi => Ok(()),
                Kind::Atom(b"lease") => {
                    self.loaded.records += 1;
                    match self.fast_lease() {
                        Some(lease) => {
                            self.loaded.leases.push(lease);
                            Ok(())
                        }
                        None => self
                            .lease(&token)
                            .map(|lease| self.loaded.leases.push(lease)),
                    }
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
                    // have read past it, into the next record. When the problem is a
                    // top-level keyword that begins a line after the statement's start (a
                    // record cut short just before it), resume at that keyword instead.
                    let (line, column) = (failure.problem.line, failure.problem.column);
                    self.lex.rewind_to(failure.pos, line, column);
                    let next_record =
                        failure.pos > token.pos && column == 1 && self.lex.at_top_level_keyword();
                    if !next_record {
                        self.lex.resync();
                    }
                }
                self.loaded.problems.push(failure.problem);
            }
        }
    }

    /// Reads a record in the layout [`write_lease`](crate::write_lease) gives it, from just
    /// after its `lease` keyword, as [`Parser::lease`] would; `None`, with nothing read, for
    /// anything else, which is left to [`Parser::lease`].
    fn fast_lease(&mut self) -> Option<Lease> {
        if !self.fast {
            return None;
        }
        let record = fast::lease_record(self.lex.src, self.lex.pos, &mut self.scratch)?;
        self.lex.pos = record.end;
        self.lex.line += record.newlines;
        self.lex.line_start = record.last_line;
        Some(record.lease)
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
        let mut lease = blank_lease(address);
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
                b"uid" => {
                    let id = self.bytes("a client id").map_err(in_lease)?;
                    lease.client_id = Some(id.into());
                }
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
                calendar_time(weekday, date, clock).map_err(|fault| match fault {
                    TimeFault::Weekday => bad(&token, format!("bad weekday {}", token.describe())),
                    TimeFault::Date => {
                        let found = date_token.describe();
                        bad(&date_token, format!("bad date {found}"))
                    }
                    TimeFault::Clock => {
                        let found = clock_token.describe();
                        bad(&clock_token, format!("bad time of day {found}"))
                    }
                    TimeFault::OutOfRange => {
                        let found = date_token.describe();
                        bad(&date_token, format!("date {found} out of range"))
                    }
                })?
            }
        };
        self.semicolon()?;
        Ok(time)
    }

    fn binding_state(&mut self) -> Step<LeaseState> {
        let (name, token) = self.atom("a binding state")?;
        let Some(state) = binding_state(name) else {
            let found = token.describe();
            return Err(bad(&token, format!("unknown binding state {found}")));
        };
        self.semicolon()?;
        Ok(state)
    }

    /// `TYPE XX:XX:…;` or `TYPE;` (no address).
    fn hardware(&mut self) -> Step<(HardwareType, HardwareAddress)> {
        let (name, token) = self.atom("a hardware type")?;
        let Some(htype) = hardware_type(name) else {
            let found = token.describe();
            return Err(bad(&token, format!("unknown hardware type {found}")));
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

/// The state a `binding state` name stands for.
fn binding_state(name: &[u8]) -> Option<LeaseState> {
    Some(match name {
        b"active" | b"bootp" | b"reserved" => LeaseState::Active,
        b"free" | b"backup" | b"reset" => LeaseState::Free,
        b"expired" => LeaseState::Expired,
        b"released" => LeaseState::Released,
        b"abandoned" => LeaseState::Abandoned,
        _ => return None,
    })
}

/// The hardware type a `hardware` statement names.
fn hardware_type(name: &[u8]) -> Option<HardwareType> {
    Some(match name {
        b"ethernet" => HardwareType::ETHERNET,
        b"token-ring" => HardwareType::IEEE802,
        b"fddi" => HardwareType(8),
        b"infiniband" => HardwareType::INFINIBAND,
        _ => return None,
    })
}

/// Puts the lease's address in front of a problem found inside its record.
fn prefix(mut failure: Bad, address: Ipv4Addr) -> Bad {
    failure.problem.message = format!("lease {address}: {}", failure.problem.message);
    failure
}

/// Which part of a calendar time is wrong.
enum TimeFault {
    Weekday,
    Date,
    Clock,
    OutOfRange,
}

/// The time of `W YYYY/MM/DD HH:MM:SS` (UTC), given its three atoms. The weekday is
/// redundant: it is checked to be a number, then ignored.
fn calendar_time(weekday: &[u8], date: &[u8], clock: &[u8]) -> Result<Time, TimeFault> {
    if number(weekday).is_none() {
        return Err(TimeFault::Weekday);
    }
    let date = fields(date, b'/').ok_or(TimeFault::Date)?;
    let clock = fields(clock, b':').ok_or(TimeFault::Clock)?;
    let date = valid_date(date)?;
    let seconds = seconds_of_day(clock)?;
    midnight(date)?
        .checked_add(seconds)
        .ok_or(TimeFault::OutOfRange)
}

/// A date that exists, from 1970 to the year 999,999.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Date {
    year: i64,
    month: i64,
    day: i64,
}

/// The date of year, month and day numbers, if it exists and is in the years read.
fn valid_date(numbers: [u64; 3]) -> Result<Date, TimeFault> {
    // Out-of-range values become 0, which the checks below refuse.
    let [year, month, day] = numbers.map(|n| {
        i64::try_from(n)
            .ok()
            .filter(|&n| n <= MAX_YEAR)
            .unwrap_or(0)
    });
    let valid_day = (1..=12).contains(&month) && (1..=days_in_month(year, month)).contains(&day);
    if year < 1970 || !valid_day {
        return Err(TimeFault::Date);
    }
    Ok(Date { year, month, day })
}

/// Seconds since midnight of hour, minute and second numbers (a leap second allowed).
fn seconds_of_day([hour, minute, second]: [u64; 3]) -> Result<u64, TimeFault> {
    if hour > 23 || minute > 59 || second > 60 {
        return Err(TimeFault::Clock);
    }
    Ok(hour * 3600 + minute * 60 + second)
}

/// Seconds since the epoch at the start of the date (UTC).
fn midnight(date: Date) -> Result<Time, TimeFault> {
    let civil = Civil {
        weekday: 0,
        year: date.year,
        month: date.month,
        day: date.day,
        hour: 0,
        minute: 0,
        second: 0,
    };
    from_civil(&civil).ok_or(TimeFault::OutOfRange)
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
    // The common layouts, `YYYY/MM/DD` and `HH:MM:SS`, without splitting.
    let d = |c: u8| c.wrapping_sub(b'0');
    match *text {
        [y0, y1, y2, y3, s0, m0, m1, s1, d0, d1]
            if s0 == sep
                && s1 == sep
                && [y0, y1, y2, y3, m0, m1, d0, d1].iter().all(|&c| d(c) < 10) =>
        {
            let year = u64::from(d(y0)) * 1000
                + u64::from(d(y1)) * 100
                + u64::from(d(y2)) * 10
                + u64::from(d(y3));
            let two = |a: u8, b: u8| u64::from(d(a) * 10 + d(b));
            return Some([year, two(m0, m1), two(d0, d1)]);
        }
        [a0, a1, s0, b0, b1, s1, c0, c1]
            if s0 == sep && s1 == sep && [a0, a1, b0, b1, c0, c1].iter().all(|&c| d(c) < 10) =>
        {
            let two = |a: u8, b: u8| u64::from(d(a) * 10 + d(b));
            return Some([two(a0, a1), two(b0, b1), two(c0, c1)]);
        }
        _ => {}
    }
    let mut parts = text.split(|&c| c == sep);
    let mut out = [0u64; 3];
    for slot in &mut out {
        *slot = number(parts.next()?)?;
    }
    parts.next().is_none().then_some(out)
}

/// A dotted-quad IPv4 address.
///
/// Four decimal numbers of one to three digits each, up to 255, separated by dots.
fn parse_ipv4(text: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let (mut part, mut value, mut digits) = (0, 0u32, 0);
    for &c in text {
        if c == b'.' {
            if digits == 0 || part == 3 {
                return None;
            }
            octets[part] = u8::try_from(value).ok()?;
            (part, value, digits) = (part + 1, 0, 0);
            continue;
        }
        let digit = c.wrapping_sub(b'0');
        if digit > 9 || digits == 3 {
            return None;
        }
        value = value * 10 + u32::from(digit);
        digits += 1;
    }
    if digits == 0 || part != 3 {
        return None;
    }
    octets[3] = u8::try_from(value).ok()?;
    Some(Ipv4Addr::from(octets))
}

/// Colon-separated hex bytes of one or two digits each, as in `1:a:ff`.
fn colon_hex(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    colon_hex_into(text, &mut out)?;
    Some(out)
}

/// As [`colon_hex`], appending to `out`.
fn colon_hex_into(text: &[u8], out: &mut Vec<u8>) -> Option<()> {
    for part in text.split(|&c| c == b':') {
        out.push(match *part {
            [a] => hex_digit(a)?,
            [a, b] => hex_digit(a)? * 16 + hex_digit(b)?,
            _ => return None,
        });
    }
    Some(())
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
    unescape_into(raw, &mut out)?;
    Ok(out)
}

/// As [`unescape`], appending to `out`.
fn unescape_into(raw: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let mut i = 0;
    while let Some(&c) = raw.get(i) {
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        // The scanner never ends a string on a lone backslash.
        if i + 1 == raw.len() {
            return Err("string ends in a backslash".into());
        }
        let (byte, next) = escape(raw, i + 1)?;
        out.push(byte);
        i = next;
    }
    Ok(())
}

/// Decodes the escape whose first character (after the backslash) is at `at`, which is in
/// the text: the byte it stands for, and where the text goes on after it. Its digits are
/// never a quote, a backslash or a line break, so it ends where the scanner's string goes
/// on.
fn escape(text: &[u8], at: usize) -> Result<(u8, usize), String> {
    let Some(&e) = text.get(at) else {
        return Err("string ends in a backslash".into());
    };
    let mut i = at + 1;
    let byte = match e {
        b'0'..=b'7' => {
            let mut value = u32::from(e - b'0');
            for _ in 0..2 {
                match text.get(i) {
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
                match text.get(i).and_then(|&d| hex_digit(d)) {
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
    Ok((byte, i))
}

/// A record for `address` before its statements are read: active, with no times and no
/// client, as both readers start one.
fn blank_lease(address: Ipv4Addr) -> Lease {
    Lease {
        address,
        client_id: None,
        hardware: None,
        starts: 0,
        ends: 0,
        cltt: 0,
        state: LeaseState::Active,
        hostname: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use charrua_wire::HardwareAddress;

    const ISC: &str = include_str!("../../../testdata/leases/isc-4.4.leases");
    const TORN: &str = include_str!("../../../testdata/leases/torn.leases");
    const CORRUPT: &str = include_str!("../../../testdata/leases/corrupt.leases");

    /// Reads the text with the full parser alone.
    fn read_without_fast_path(text: &[u8]) -> Loaded {
        let mut parser = Parser::new(text, Place::START, text.len());
        parser.fast = false;
        parser.run();
        let mut loaded = parser.loaded;
        loaded.leases = last_of_each_address(loaded.leases);
        loaded
    }

    /// Leases in every durable state, with times in both formats and strings to escape.
    fn varied_leases() -> Vec<Lease> {
        let base = Lease {
            address: Ipv4Addr::new(192, 0, 2, 1),
            client_id: None,
            hardware: None,
            starts: 1_796_288_400,
            ends: 1_796_331_600,
            cltt: 1_796_288_400,
            state: LeaseState::Active,
            hostname: None,
        };
        vec![
            Lease {
                client_id: Some(b"\x01RT\x00\x00\x01".as_slice().into()),
                hardware: Some((
                    HardwareType::ETHERNET,
                    HardwareAddress::ethernet([0x52, 0x54, 0, 0, 0, 1]),
                )),
                hostname: Some(Text::from("laptop")),
                ..base.clone()
            },
            Lease {
                address: Ipv4Addr::new(192, 0, 2, 2),
                client_id: Some(b"\x00\"q\\ \x7f\xff\n".as_slice().into()),
                hostname: Some(Text::new(&b"caf\xc3\xa9"[..])),
                state: LeaseState::Released,
                ..base.clone()
            },
            Lease {
                address: Ipv4Addr::new(10, 20, 30, 40),
                ends: INFINITE,
                hardware: Some((HardwareType::INFINIBAND, HardwareAddress::default())),
                state: LeaseState::Abandoned,
                ..base.clone()
            },
            Lease {
                address: Ipv4Addr::new(192, 0, 2, 1),
                starts: 0,
                ends: INFINITE - 1,
                state: LeaseState::Expired,
                ..base.clone()
            },
            Lease {
                address: Ipv4Addr::new(192, 0, 2, 4),
                hardware: Some((HardwareType::IEEE802, HardwareAddress::ethernet([1; 6]))),
                state: LeaseState::Free,
                ..base
            },
        ]
    }

    /// The text of `varied_leases`, then records as ISC dhcpd writes them, some of which the
    /// fast path leaves to the full parser.
    fn varied_text() -> Vec<u8> {
        let mut text = crate::write(&varied_leases()).into_bytes();
        text.extend_from_slice(
            b"lease 192.0.2.9 {\n  starts epoch 1796288400;\n  tstp 4 2026/12/03 21:15:02;\n\
              \x20 binding state backup;\n  uid 1:52:54:0:0:9;\n  abandoned;\n  bootp;\n}\n\
              lease 192.0.2.8 {\n  abandoned;\n  set x = \"y\";\n}\n",
        );
        text
    }

    /// Every text one edit away from `text`, within its first `span` bytes: cut short there,
    /// without the byte, with it doubled, or with it replaced by a byte that matters to the
    /// scanner.
    fn one_edit_away(text: &[u8], span: usize) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for i in 0..text.len().min(span) {
            out.push(text[..i].to_vec());
            let mut removed = text.to_vec();
            removed.remove(i);
            out.push(removed);
            let mut doubled = text.to_vec();
            doubled.insert(i, text[i]);
            out.push(doubled);
            for b in *b" \t\n;{}\"\\#x9/:." {
                if b != text[i] {
                    let mut replaced = text.to_vec();
                    replaced[i] = b;
                    out.push(replaced);
                }
            }
        }
        out
    }

    /// An active lease of an hour from `starts`, with no client named: for the tests of
    /// this module and its parts.
    pub(super) fn lease(address: u32, starts: u64) -> Lease {
        Lease {
            address: Ipv4Addr::from(address),
            client_id: None,
            hardware: None,
            starts,
            ends: starts + 3600,
            cltt: starts,
            state: LeaseState::Active,
            hostname: None,
        }
    }

    #[test]
    fn keeps_first_places_and_last_records_as_the_index_does() {
        let addresses = [7, 3, 7, 9, 3, 3, 1, 9, 7, 2, 0x0a00_0001, 1];
        let leases: Vec<_> = (0..).zip(addresses).map(|(n, a)| lease(a, n)).collect();
        let kept = last_of_each_address(leases.clone());
        assert_eq!(kept, last_of_each_address_by_index(leases.clone()));
        let places: Vec<_> = kept
            .iter()
            .map(|l| (u32::from(l.address), l.starts))
            .collect();
        assert_eq!(
            places,
            [(7, 8), (3, 5), (9, 7), (1, 11), (2, 9), (0x0a00_0001, 10)]
        );
        let unique: Vec<_> = (0..5).map(|n| lease(100 - n, 0)).collect();
        assert_eq!(last_of_each_address(unique.clone()), unique);
    }

    #[test]
    fn the_fast_path_takes_every_record_this_crate_writes() {
        let text = crate::write(&varied_leases());
        let mut scratch = fast::Scratch::default();
        let mut taken = Vec::new();
        for (at, _) in text.match_indices("lease ") {
            let text = text.as_bytes();
            let record = fast::lease_record(text, at + 5, &mut scratch).expect("fast path");
            assert_eq!(&text[record.end - 1..=record.end], b"}\n");
            taken.push(record.lease);
        }
        assert_eq!(taken, varied_leases());
    }

    #[test]
    fn the_fast_path_reads_what_the_full_parser_reads() {
        for text in [ISC, TORN, CORRUPT] {
            let text = text.as_bytes();
            assert_eq!(read_serial(text), read_without_fast_path(text));
        }
        let text = varied_text();
        for edited in one_edit_away(&text, text.len()) {
            assert_eq!(
                read_serial(&edited),
                read_without_fast_path(&edited),
                "{}",
                String::from_utf8_lossy(&edited)
            );
        }
    }

    /// Lease records with damage that runs on into the next record, each followed by a good
    /// record: places where a reader of one part could go wrong at a cut.
    fn damaged_text() -> Vec<u8> {
        let good = |n: u8| {
            format!(
                "lease 192.0.2.{n} {{\n  starts 4 2026/12/03 09:00:00;\n  ends never;\n\
                 \x20 binding state active;\n  client-hostname \"h{n}\";\n}}\n"
            )
        };
        let mut text = String::from("authoring-byte-order little-endian;\n");
        text += &good(1);
        // Torn in the middle of a line.
        text += "lease 192.0.2.2 {\n  starts 4 2026/12/03 09:00:00;\n  ends 4 2026/12";
        text += "\n";
        text += &good(2);
        // Torn at a line end: not closed before the next record.
        text += "lease 192.0.2.1 {\n  ends never;\n";
        text += &good(3);
        // A statement whose `;` is missing, so the next record's keyword is read as its end.
        text += "server-duid \"abc\"\n";
        text += &good(4);
        text += "lease 192.0.2.5 {\n  ends 4 2026/12/03 09:00:00\n";
        text += &good(5);
        // A skipped block left open, which swallows records up to a `}`.
        text += "host h {\n  hardware ethernet 52:54:00:00:00:01;\n";
        text += &good(6);
        text += &good(7);
        text += "lease 192.0.2.8 {\n  client-hostname \"open\n}\n";
        text += &good(8);
        text += "# a comment\n\n";
        text += &good(1);
        text += "lease 192.0.2.9 {\n  ends never;\n";
        text.into_bytes()
    }

    /// The offsets where lines begin, after the first.
    fn line_starts(text: &[u8]) -> Vec<usize> {
        (1..text.len()).filter(|&i| text[i - 1] == b'\n').collect()
    }

    #[test]
    fn reading_in_parts_gives_what_reading_whole_gives() {
        for (n, text) in [
            damaged_text(),
            varied_text(),
            ISC.as_bytes().to_vec(),
            TORN.as_bytes().to_vec(),
            CORRUPT.as_bytes().to_vec(),
        ]
        .into_iter()
        .enumerate()
        {
            let whole = read_serial(&text);
            let starts = line_starts(&text);
            for (i, &a) in starts.iter().enumerate() {
                assert_eq!(
                    parallel::read_in_parts(&text, &[0, a], 2),
                    whole,
                    "cut at {a}"
                );
                // Every pair of cuts, in the text made to go wrong at cuts.
                let pairs = if n == 0 { &starts[i + 1..] } else { &[] };
                for &b in pairs {
                    assert_eq!(
                        parallel::read_in_parts(&text, &[0, a, b], 2),
                        whole,
                        "cuts at {a} and {b}"
                    );
                }
            }
            let mut every = vec![0];
            every.extend(&starts);
            assert_eq!(parallel::read_in_parts(&text, &every, 3), whole);
        }
    }

    #[test]
    fn reading_a_file_in_blocks_gives_what_reading_it_whole_gives() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dhcpd.leases");
        for text in [
            damaged_text(),
            varied_text(),
            ISC.as_bytes().to_vec(),
            TORN.as_bytes().to_vec(),
            CORRUPT.as_bytes().to_vec(),
            Vec::new(),
        ] {
            std::fs::write(&path, &text).unwrap();
            let whole = read_serial(&text);
            let len = u64::try_from(text.len()).unwrap();
            for block in [1, 2, 7, 30, 64, 100, 150, 200, 333, 1000, 100_000] {
                for threads in [1, 3] {
                    let mut file = std::fs::File::open(&path).unwrap();
                    let read = stream::read_in_blocks(&mut file, block, threads).unwrap();
                    assert_eq!(read, (whole.clone(), len), "blocks of {block} bytes");
                }
            }
        }
    }

    #[test]
    fn the_damaged_text_has_problems_that_cross_record_starts() {
        let loaded = read_serial(&damaged_text());
        let lines: Vec<_> = loaded.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [10, 17, 26, 34, 55, 71], "{:#?}", loaded.problems);
        let kept: Vec<_> = loaded
            .leases
            .iter()
            .map(|l| l.address.octets()[3])
            .collect();
        // The records after the missing `;`s are read from their keyword, which begins a
        // line; those inside the open block are read as part of the damage.
        assert_eq!(kept, [1, 2, 3, 4, 5, 8], "{:#?}", loaded.problems);
    }

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
