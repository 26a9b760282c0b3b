//! Statements and declarations of `dhcpd.conf`, read from the token stream.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use charrua_wire::options::DomainName;
use charrua_wire::{DhcpOption, OptionCode, Text};

use super::lexer::{Tok, Token, lex};
use super::options::{
    Atom, Format, OptionDef, looks_like_hostname, parse_bool, parse_hex_bytes, parse_integer,
    parse_mac, standard_table,
};
use super::{Environment, ParseResult};
use crate::config::{
    Access, ConfigBuilder, Group, Host, Params, Permit, PermitKind, Pool, Range, Scope,
    SharedNetwork, Subnet, VendorSubOption,
};
use crate::diag::{ConfError, Location, Warning};

/// How deep `include` may nest (this also stops include cycles).
const MAX_INCLUDE_DEPTH: usize = 16;

/// Statements accepted and ignored because they do not change what the server answers.
const IGNORED: &[&str] = &[
    "log-facility",
    "update-static-leases",
    "db-time-format",
    "lease-file-name",
    "pid-file-name",
    "omapi-port",
    "local-port",
    "local-address",
    "remote-port",
    "stash-agent-options",
    "update-conflict-detection",
    "update-optimization",
    "max-lease-misbalance",
    "max-lease-ownership",
    "min-balance",
    "max-balance",
    "log-threshold-high",
    "log-threshold-low",
    "delayed-ack",
    "max-ack-delay",
    "ddns-domainname",
    "ddns-rev-domainname",
    "ddns-hostname",
    "ddns-ttl",
    "do-forward-updates",
    "dhcp-cache-threshold",
    "persist-eui-64-leases",
    "abandon-lease-time",
];

/// Statements refused with their second word in the message (`not supported: failover peer`).
const TWO_WORD_REFUSALS: &[&str] = &["failover", "on", "spawn", "ddns-update-style", "hardware"];

/// The block a statement sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Global,
    Group(usize),
    Shared(usize),
    Subnet(usize),
    Pool(usize),
    Host(usize),
}

impl Ctx {
    fn name(self) -> &'static str {
        match self {
            Ctx::Global => "the top level",
            Ctx::Group(_) => "a group",
            Ctx::Shared(_) => "a shared-network",
            Ctx::Subnet(_) => "a subnet",
            Ctx::Pool(_) => "a pool",
            Ctx::Host(_) => "a host",
        }
    }

    /// The scope declarations inside this block belong to.
    fn scope(self) -> Option<Scope> {
        match self {
            Ctx::Global => Some(Scope::Global),
            Ctx::Group(i) => Some(Scope::Group(i)),
            Ctx::Shared(i) => Some(Scope::SharedNetwork(i)),
            Ctx::Subnet(i) => Some(Scope::Subnet(i)),
            Ctx::Pool(_) | Ctx::Host(_) => None,
        }
    }
}

/// An error has been recorded; the caller recovers.
struct Fail;

type R<T> = Result<T, Fail>;

pub(crate) struct Parser<'e> {
    tokens: Vec<Token>,
    pos: usize,
    files: Vec<String>,
    /// For each file, how many includes deep it is.
    depths: Vec<usize>,
    env: &'e mut dyn Environment,
    errors: Vec<ConfError>,
    builder: ConfigBuilder,
    options: BTreeMap<String, OptionDef>,
    spaces: BTreeMap<String, BTreeMap<String, OptionDef>>,
    /// Where the main file ends.
    end: (u32, u32),
}

impl<'e> Parser<'e> {
    pub(crate) fn new(file: &str, text: &str, env: &'e mut dyn Environment) -> Self {
        let (tokens, lex_errors) = lex(text, 0);
        let lines = text.split('\n').count();
        let last = text.rsplit('\n').next().unwrap_or("").chars().count();
        let end = (to_u32(lines), to_u32(last + 1));
        let mut parser = Parser {
            tokens,
            pos: 0,
            files: alloc::vec![String::from(file)],
            depths: alloc::vec![0],
            env,
            errors: Vec::new(),
            builder: ConfigBuilder::new(),
            options: standard_table(),
            spaces: BTreeMap::new(),
            end,
        };
        for (line, column, message) in lex_errors {
            let at = Location {
                file: String::from(file),
                line,
                column,
            };
            parser.errors.push(ConfError::new(Some(at), message));
        }
        parser
    }

    pub(crate) fn run(mut self) -> ParseResult {
        self.block(Ctx::Global, None);
        let mut errors = self.errors;
        match self.builder.build() {
            Ok(done) if errors.is_empty() => Ok(done),
            Ok(_) => Err(errors),
            Err(more) => {
                errors.extend(more);
                Err(errors)
            }
        }
    }

    // ---- tokens and positions ----

    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|t| &t.tok)
    }

    fn is_punct(&self, c: char) -> bool {
        self.peek() == Some(&Tok::Punct(c))
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x == w)
    }

    fn location_of(&self, t: &Token) -> Location {
        let file = self.files.get(t.file).cloned().unwrap_or_default();
        Location {
            file,
            line: t.line,
            column: t.column,
        }
    }

    /// Where the next token is, or the end of the main file.
    fn here(&self) -> Location {
        match self.tokens.get(self.pos) {
            Some(t) => self.location_of(t),
            None => Location {
                file: self.files[0].clone(),
                line: self.end.0,
                column: self.end.1,
            },
        }
    }

    fn error<T>(&mut self, at: Location, message: impl Into<String>) -> R<T> {
        self.errors.push(ConfError::new(Some(at), message));
        Err(Fail)
    }

    /// The next token as a phrase for "expected X, found Y".
    fn found(&self) -> String {
        match self.peek() {
            None => String::from("end of file"),
            Some(tok) => describe(tok),
        }
    }

    fn expected<T>(&mut self, what: &str) -> R<T> {
        let message = format!("expected {what}, found {}", self.found());
        self.error(self.here(), message)
    }

    /// The tokens of the statement so far, as written.
    fn statement_text(&self, start: usize) -> String {
        let mut out = String::new();
        for t in self.tokens.get(start..self.pos).unwrap_or(&[]) {
            if !out.is_empty() && t.tok != Tok::Punct(',') {
                out.push(' ');
            }
            match &t.tok {
                Tok::Word(w) => out.push_str(w),
                Tok::Str(s) => {
                    out.push('"');
                    out.push_str(&String::from_utf8_lossy(s));
                    out.push('"');
                }
                Tok::Punct(c) => out.push(*c),
            }
        }
        out
    }

    /// Consumes the `;` that ends the statement started at `start`. When it is missing and
    /// the next token starts a new line, the error is recorded and parsing goes on as if it
    /// were there, so the next statement is still read.
    fn semicolon(&mut self, start: usize) -> R<()> {
        if self.is_punct(';') {
            self.pos += 1;
            return Ok(());
        }
        let message = format!("expected ';' after \"{}\"", self.statement_text(start));
        let at = self.here();
        let new_line = match (self.tokens.get(self.pos), self.pos.checked_sub(1)) {
            (None, _) => true,
            (Some(next), Some(prev)) => {
                let prev = &self.tokens[prev];
                next.file != prev.file || next.line > prev.line
            }
            (Some(_), None) => false,
        };
        self.errors.push(ConfError::new(Some(at), message));
        if new_line { Ok(()) } else { Err(Fail) }
    }

    /// Skips to the end of the current statement: past the next `;` or balanced `{ … }`, or
    /// up to (not past) the `}` closing the enclosing block.
    fn recover(&mut self) {
        let mut depth = 0usize;
        while let Some(tok) = self.peek() {
            match tok {
                Tok::Punct('{') => depth += 1,
                Tok::Punct('}') if depth == 0 => return,
                Tok::Punct('}') => {
                    depth -= 1;
                    if depth == 0 {
                        self.pos += 1;
                        return;
                    }
                }
                Tok::Punct(';') if depth == 0 => {
                    self.pos += 1;
                    return;
                }
                _ => {}
            }
            self.pos += 1;
        }
    }

    fn word(&mut self, what: &str) -> R<(String, Location)> {
        let at = self.here();
        match self.peek() {
            Some(Tok::Word(w)) => {
                let w = w.clone();
                self.pos += 1;
                Ok((w, at))
            }
            _ => self.expected(what),
        }
    }

    fn keyword(&mut self, word: &str) -> R<()> {
        if self.is_word(word) {
            self.pos += 1;
            Ok(())
        } else {
            self.expected(&format!("'{word}'"))
        }
    }

    fn punct(&mut self, c: char) -> R<()> {
        if self.is_punct(c) {
            self.pos += 1;
            Ok(())
        } else {
            self.expected(&format!("'{c}'"))
        }
    }

    /// A name: a word or a quoted string.
    fn name(&mut self, what: &str) -> R<String> {
        match self.peek() {
            Some(Tok::Word(w)) => {
                let w = w.clone();
                self.pos += 1;
                Ok(w)
            }
            Some(Tok::Str(s)) => {
                let s = String::from_utf8_lossy(s).into_owned();
                self.pos += 1;
                Ok(s)
            }
            _ => self.expected(what),
        }
    }

    fn quoted(&mut self) -> R<Vec<u8>> {
        match self.peek() {
            Some(Tok::Str(s)) => {
                let s = s.clone();
                self.pos += 1;
                Ok(s)
            }
            _ => self.expected("a quoted string"),
        }
    }

    fn dotted_quad(&mut self) -> R<Ipv4Addr> {
        let at = self.here();
        let (w, _) = self.word("an IPv4 address")?;
        match w.parse() {
            Ok(a) => Ok(a),
            Err(_) => self.error(at, format!("expected an IPv4 address, found '{w}'")),
        }
    }

    /// An address or host name; a name gives every address it resolves to.
    fn addresses(&mut self) -> R<Vec<Ipv4Addr>> {
        let at = self.here();
        let (w, _) = self.word("an IPv4 address or host name")?;
        if let Ok(a) = w.parse::<Ipv4Addr>() {
            return Ok(alloc::vec![a]);
        }
        if !looks_like_hostname(&w) {
            return self.error(
                at,
                format!("expected an IPv4 address or host name, found '{w}'"),
            );
        }
        match self.env.resolve(&w) {
            Ok(list) if !list.is_empty() => Ok(list),
            Ok(_) => self.error(at, format!("host name has no IPv4 address: {w}")),
            Err(reason) => self.error(at, format!("{reason}: {w}")),
        }
    }

    fn address(&mut self) -> R<Ipv4Addr> {
        let list = self.addresses()?;
        Ok(list[0]) // `addresses` never returns an empty list
    }

    fn integer(&mut self, atom: Atom) -> R<i64> {
        let at = self.here();
        let (w, _) = self.word(atom.name())?;
        let Some(value) = parse_integer(&w) else {
            return self.error(at, format!("expected {}, found '{w}'", atom.name()));
        };
        let (min, max) = match atom {
            Atom::U8 => (0, i64::from(u8::MAX)),
            Atom::U16 => (0, i64::from(u16::MAX)),
            Atom::I8 => (i64::from(i8::MIN), i64::from(i8::MAX)),
            Atom::I16 => (i64::from(i16::MIN), i64::from(i16::MAX)),
            Atom::I32 => (i64::from(i32::MIN), i64::from(i32::MAX)),
            Atom::N8 => (i64::from(i8::MIN), i64::from(u8::MAX)),
            Atom::N16 => (i64::from(i16::MIN), i64::from(u16::MAX)),
            Atom::N32 => (i64::from(i32::MIN), i64::from(u32::MAX)),
            _ => (0, i64::from(u32::MAX)),
        };
        if value < min || value > max {
            return self.error(at, format!("{value} is out of range for {}", atom.name()));
        }
        Ok(value)
    }

    fn seconds(&mut self) -> R<u32> {
        let value = self.integer(Atom::U32)?;
        Ok(u32::try_from(value).unwrap_or(u32::MAX)) // `integer` checked the range
    }

    fn flag(&mut self) -> R<bool> {
        if self.is_punct(';') {
            return Ok(true);
        }
        let at = self.here();
        let (w, _) = self.word("true, false, on or off")?;
        match parse_bool(&w) {
            Some(b) => Ok(b),
            None => self.error(at, format!("expected true, false, on or off, found '{w}'")),
        }
    }

    // ---- blocks and statements ----

    /// Reads statements up to the `}` closing the block (consumed) or the end of input.
    fn block(&mut self, ctx: Ctx, opened: Option<(Location, String)>) {
        loop {
            match self.peek() {
                None => {
                    if let Some((at, what)) = opened {
                        let message =
                            format!("expected '}}' to close {what} opened at line {}", at.line);
                        let _ = self.error::<()>(self.here(), message);
                    }
                    return;
                }
                Some(Tok::Punct('}')) => {
                    if opened.is_some() {
                        self.pos += 1;
                        return;
                    }
                    let _ = self.error::<()>(self.here(), "unexpected '}'");
                    self.pos += 1;
                }
                Some(Tok::Punct(';')) => self.pos += 1,
                Some(_) => {
                    if self.statement(ctx).is_err() {
                        self.recover();
                    }
                }
            }
        }
    }

    fn statement(&mut self, ctx: Ctx) -> R<()> {
        let start = self.pos;
        let at = self.here();
        let keyword = match self.peek() {
            Some(Tok::Word(w)) => w.clone(),
            _ => return self.expected("a statement"),
        };
        self.pos += 1;
        match keyword.as_str() {
            "include" => self.include(start),
            "option" => self.option(ctx, start),
            "default-lease-time" | "max-lease-time" | "min-lease-time" | "ping-timeout" => {
                let value = self.seconds()?;
                self.semicolon(start)?;
                let p = self.params(ctx);
                match keyword.as_str() {
                    "default-lease-time" => p.default_lease_time = Some(value),
                    "max-lease-time" => p.max_lease_time = Some(value),
                    "min-lease-time" => p.min_lease_time = Some(value),
                    _ => p.ping_timeout = Some(value),
                }
                Ok(())
            }
            "authoritative" => {
                self.semicolon(start)?;
                self.params(ctx).authoritative = Some(true);
                Ok(())
            }
            "not" => {
                self.keyword("authoritative")?;
                self.semicolon(start)?;
                self.params(ctx).authoritative = Some(false);
                Ok(())
            }
            "server-identifier" | "next-server" => {
                let address = self.address()?;
                self.semicolon(start)?;
                let p = self.params(ctx);
                if keyword == "next-server" {
                    p.next_server = Some(address);
                } else {
                    p.server_identifier = Some(address);
                }
                Ok(())
            }
            "filename" | "server-name" => {
                let text = Text::new(self.quoted()?);
                self.semicolon(start)?;
                let p = self.params(ctx);
                if keyword == "filename" {
                    p.filename = Some(text);
                } else {
                    p.server_name = Some(text);
                }
                Ok(())
            }
            "use-host-decl-names"
            | "one-lease-per-client"
            | "get-lease-hostnames"
            | "ping-check" => {
                let value = self.flag()?;
                self.semicolon(start)?;
                let p = self.params(ctx);
                let slot = match keyword.as_str() {
                    "use-host-decl-names" => &mut p.use_host_decl_names,
                    "one-lease-per-client" => &mut p.one_lease_per_client,
                    "get-lease-hostnames" => &mut p.get_lease_hostnames,
                    _ => &mut p.ping_check,
                };
                *slot = Some(value);
                Ok(())
            }
            "allow" | "deny" | "ignore" => self.access(ctx, &keyword, at, start),
            "vendor-option-space" => {
                let (space, space_at) = self.word("an option space name")?;
                self.semicolon(start)?;
                if !self.spaces.contains_key(&space) {
                    return self.error(space_at, format!("unknown option space: {space}"));
                }
                self.params(ctx).vendor_option_space = Some(space);
                Ok(())
            }
            "hardware" | "fixed-address" | "uid" => self.host_statement(ctx, &keyword, at, start),
            "range" => self.range(ctx, at, start),
            "subnet" => self.subnet(ctx, at),
            "shared-network" => self.shared_network(ctx, at),
            "pool" => self.pool(ctx, at),
            "group" => self.group(ctx, at),
            "host" => self.host(ctx, at),
            "ddns-update-style" if self.is_word("none") => self.ignore(&keyword, at, start),
            "ddns-updates" if self.is_word("off") || self.is_word("false") => {
                self.ignore(&keyword, at, start)
            }
            w if IGNORED.contains(&w) => self.ignore(&keyword, at, start),
            _ => self.refuse(&keyword, at),
        }
    }

    /// Accepts a statement that does not change DHCP answers, with a warning.
    fn ignore(&mut self, keyword: &str, at: Location, start: usize) -> R<()> {
        self.recover();
        let text = self.statement_text(start);
        let text = text.strip_suffix(';').unwrap_or(&text).trim_end();
        let shown = if keyword.starts_with("ddns-update") {
            text
        } else {
            keyword
        };
        let message = format!("ignored: {shown} (does not change DHCP answers)");
        self.builder.warn(Warning::ignored(Some(at), message));
        Ok(())
    }

    /// Refuses a statement the server does not implement, skipping it (and any `elsif` or
    /// `else` branches after an `if`).
    fn refuse(&mut self, keyword: &str, at: Location) -> R<()> {
        let mut shown = String::from(keyword);
        if TWO_WORD_REFUSALS.contains(&keyword) {
            if let Some(Tok::Word(w)) = self.peek() {
                shown.push(' ');
                shown.push_str(w);
            }
        }
        self.errors
            .push(ConfError::new(Some(at), format!("not supported: {shown}")));
        self.recover();
        if keyword == "if" {
            while self.is_word("elsif") || self.is_word("else") {
                self.pos += 1;
                self.recover();
            }
        }
        Ok(())
    }

    fn include(&mut self, start: usize) -> R<()> {
        let at = self.here();
        let path = String::from_utf8_lossy(&self.quoted()?).into_owned();
        self.semicolon(start)?;
        let file = self.tokens.get(start).map_or(0, |t| t.file);
        let depth = self.depths.get(file).copied().unwrap_or(0) + 1;
        if depth > MAX_INCLUDE_DEPTH {
            return self.error(at, format!("includes nested too deep: \"{path}\""));
        }
        let text = match self.env.include(&path) {
            Ok(text) => text,
            Err(reason) => return self.error(at, format!("cannot include \"{path}\": {reason}")),
        };
        let id = self.files.len();
        self.files.push(path.clone());
        self.depths.push(depth);
        let (tokens, lex_errors) = lex(&text, id);
        for (line, column, message) in lex_errors {
            let at = Location {
                file: path.clone(),
                line,
                column,
            };
            self.errors.push(ConfError::new(Some(at), message));
        }
        let rest = self.tokens.split_off(self.pos);
        self.tokens.extend(tokens);
        self.tokens.extend(rest);
        Ok(())
    }

    fn params(&mut self, ctx: Ctx) -> &mut Params {
        let scope = match ctx {
            Ctx::Global => Scope::Global,
            Ctx::Group(i) => Scope::Group(i),
            Ctx::Shared(i) => Scope::SharedNetwork(i),
            Ctx::Subnet(i) => Scope::Subnet(i),
            // Pool and host indices come from `add_pool` and `add_host` on this builder.
            Ctx::Pool(i) => return &mut self.builder.pool_mut(i).expect("pool index").params,
            Ctx::Host(i) => return &mut self.builder.host_mut(i).expect("host index").params,
        };
        // Scope indices come from the builder's `add_*` methods.
        self.builder.params_mut(scope).expect("scope index")
    }

    // ---- allow / deny / ignore ----

    fn access(&mut self, ctx: Ctx, verb: &str, at: Location, start: usize) -> R<()> {
        let (what, _) = self.word("what to allow or deny")?;
        if let Ctx::Pool(pool) = ctx {
            let kind = match what.as_str() {
                "known-clients" => PermitKind::KnownClients,
                "unknown-clients" => PermitKind::UnknownClients,
                "all" => {
                    self.keyword("clients")?;
                    PermitKind::AllClients
                }
                "dynamic" => {
                    self.keyword("bootp")?;
                    self.keyword("clients")?;
                    PermitKind::DynamicBootpClients
                }
                "bootp" | "booting" => return self.access_param(ctx, verb, &what, start),
                _ => return self.refuse_access(verb, &what, at),
            };
            if verb == "ignore" {
                return self.error(at, "ignore is not allowed in a pool's permit list");
            }
            self.semicolon(start)?;
            let permit = Permit {
                allow: verb == "allow",
                kind,
            };
            // Pool indices come from `add_pool` on this builder.
            self.builder
                .pool_mut(pool)
                .expect("pool index")
                .permits
                .push(permit);
            return Ok(());
        }
        match what.as_str() {
            "unknown-clients" | "bootp" | "booting" => self.access_param(ctx, verb, &what, start),
            _ => self.refuse_access(verb, &what, at),
        }
    }

    fn access_param(&mut self, ctx: Ctx, verb: &str, what: &str, start: usize) -> R<()> {
        self.semicolon(start)?;
        let access = match verb {
            "allow" => Access::Allow,
            "deny" => Access::Deny,
            _ => Access::Ignore,
        };
        let p = self.params(ctx);
        match what {
            "unknown-clients" => p.unknown_clients = Some(access),
            "bootp" => p.bootp = Some(access),
            _ => p.booting = Some(access),
        }
        Ok(())
    }

    fn refuse_access(&mut self, verb: &str, what: &str, at: Location) -> R<()> {
        self.errors.push(ConfError::new(
            Some(at),
            format!("not supported: {verb} {what}"),
        ));
        self.recover();
        Ok(())
    }

    // ---- host statements ----

    fn host_statement(&mut self, ctx: Ctx, keyword: &str, at: Location, start: usize) -> R<()> {
        let Ctx::Host(host) = ctx else {
            return self.error(
                at,
                format!("{keyword} is only allowed in a host declaration"),
            );
        };
        match keyword {
            "hardware" => {
                let (kind, _) = self.word("a hardware type")?;
                if kind != "ethernet" {
                    self.pos -= 1;
                    return self.refuse("hardware", at);
                }
                let mac_at = self.here();
                let (text, _) = self.word("a hardware address")?;
                let Some(mac) = parse_mac(&text) else {
                    return self.error(mac_at, format!("invalid hardware address: {text}"));
                };
                self.semicolon(start)?;
                self.host_mut(host).hardware = Some(mac);
            }
            "fixed-address" => {
                let mut list = self.addresses()?;
                while self.is_punct(',') {
                    self.pos += 1;
                    list.extend(self.addresses()?);
                }
                self.semicolon(start)?;
                self.host_mut(host).fixed_addresses.extend(list);
            }
            _ => {
                let mut id = Vec::new();
                self.atom(Atom::Bytes, false, &mut id)?;
                self.semicolon(start)?;
                self.host_mut(host).client_id = Some(id);
            }
        }
        Ok(())
    }

    fn host_mut(&mut self, host: usize) -> &mut Host {
        // Host indices come from `add_host` on this builder.
        self.builder.host_mut(host).expect("host index")
    }

    // ---- declarations ----

    fn range(&mut self, ctx: Ctx, at: Location, start: usize) -> R<()> {
        let dynamic_bootp = self.is_word("dynamic-bootp");
        if dynamic_bootp {
            self.pos += 1;
        }
        let low = self.dotted_quad()?;
        let high = if self.is_punct(';') {
            low
        } else {
            self.dotted_quad()?
        };
        self.semicolon(start)?;
        let range = Range {
            start: low,
            end: high,
            dynamic_bootp,
            location: Some(at.clone()),
        };
        match ctx {
            // Subnet and pool indices come from this builder's `add_*` methods.
            Ctx::Subnet(i) => self
                .builder
                .subnet_mut(i)
                .expect("subnet index")
                .ranges
                .push(range),
            Ctx::Pool(i) => self
                .builder
                .pool_mut(i)
                .expect("pool index")
                .ranges
                .push(range),
            other => {
                let message = format!("range is not allowed in {}", other.name());
                return self.error(at, message);
            }
        }
        Ok(())
    }

    fn not_here<T>(&mut self, what: &str, ctx: Ctx, at: Location) -> R<T> {
        self.error(at, format!("{what} is not allowed in {}", ctx.name()))
    }

    fn subnet(&mut self, ctx: Ctx, at: Location) -> R<()> {
        let start = self.pos - 1;
        let network = self.dotted_quad()?;
        self.keyword("netmask")?;
        let netmask = self.dotted_quad()?;
        let parent = match ctx {
            Ctx::Global | Ctx::Group(_) | Ctx::Shared(_) => ctx.scope(),
            _ => None,
        };
        let Some(parent) = parent else {
            return self.not_here("subnet", ctx, at);
        };
        let header = self.statement_text(start);
        self.punct('{')?;
        let mut subnet = Subnet::new(network, netmask);
        subnet.parent = parent;
        subnet.location = Some(at.clone());
        let i = self.builder.add_subnet(subnet);
        self.block(Ctx::Subnet(i), Some((at, header)));
        Ok(())
    }

    fn shared_network(&mut self, ctx: Ctx, at: Location) -> R<()> {
        let name = self.name("a shared-network name")?;
        let parent = match ctx {
            Ctx::Global | Ctx::Group(_) => ctx.scope(),
            _ => None,
        };
        let Some(parent) = parent else {
            return self.not_here("shared-network", ctx, at);
        };
        self.punct('{')?;
        let mut network = SharedNetwork::new(name.clone());
        network.parent = parent;
        network.location = Some(at.clone());
        let i = self.builder.add_shared_network(network);
        self.block(Ctx::Shared(i), Some((at, format!("shared-network {name}"))));
        Ok(())
    }

    fn pool(&mut self, ctx: Ctx, at: Location) -> R<()> {
        let parent = match ctx {
            Ctx::Subnet(_) | Ctx::Shared(_) => ctx.scope(),
            _ => None,
        };
        let Some(parent) = parent else {
            return self.not_here("pool", ctx, at);
        };
        self.punct('{')?;
        let mut pool = Pool::new(parent);
        pool.location = Some(at.clone());
        let i = self.builder.add_pool(pool);
        self.block(Ctx::Pool(i), Some((at, String::from("pool"))));
        Ok(())
    }

    fn group(&mut self, ctx: Ctx, at: Location) -> R<()> {
        if !self.is_punct('{') {
            self.name("a group name or '{'")?;
        }
        let parent = match ctx {
            Ctx::Pool(_) | Ctx::Host(_) => None,
            _ => ctx.scope(),
        };
        let Some(parent) = parent else {
            return self.not_here("group", ctx, at);
        };
        self.punct('{')?;
        let mut group = Group::new(parent);
        group.location = Some(at.clone());
        let i = self.builder.add_group(group);
        self.block(Ctx::Group(i), Some((at, String::from("group"))));
        Ok(())
    }

    fn host(&mut self, ctx: Ctx, at: Location) -> R<()> {
        let name = self.name("a host name")?;
        let parent = match ctx {
            Ctx::Pool(_) | Ctx::Host(_) => None,
            _ => ctx.scope(),
        };
        let Some(parent) = parent else {
            return self.not_here("host", ctx, at);
        };
        self.punct('{')?;
        let mut host = Host::new(name.clone());
        host.parent = parent;
        host.location = Some(at.clone());
        let i = self.builder.add_host(host);
        self.block(Ctx::Host(i), Some((at, format!("host {name}"))));
        Ok(())
    }

    // ---- options ----

    fn option(&mut self, ctx: Ctx, start: usize) -> R<()> {
        let name_at = self.here();
        let (name, _) = self.word("an option name")?;
        if name == "space" {
            return self.option_space(start);
        }
        let (space, short) = match name.split_once('.') {
            Some(("dhcp", short)) => (None, String::from(short)),
            Some((space, short)) => (Some(String::from(space)), String::from(short)),
            None => (None, name.clone()),
        };
        if self.is_word("code") {
            self.pos += 1;
            return self.option_definition(space, short, start);
        }
        let def = match &space {
            None => self.options.get(&short).cloned(),
            Some(s) => match self.spaces.get(s) {
                Some(table) => table.get(&short).cloned(),
                None => return self.error(name_at, format!("unknown option space: {s}")),
            },
        };
        let Some(def) = def else {
            return self.error(name_at, format!("unknown option: {name}"));
        };
        let value_at = self.here();
        let mut data = Vec::new();
        self.value(&def.format, &mut data)?;
        self.semicolon(start)?;
        if let Some(space) = space {
            if data.len() > usize::from(u8::MAX) {
                return self.error(value_at, format!("option {name}: value over 255 bytes"));
            }
            let value = VendorSubOption {
                space,
                code: def.code,
                data,
            };
            self.params(ctx).set_vendor_option(value);
            return Ok(());
        }
        if let (Ctx::Host(host), 61) = (ctx, def.code) {
            self.host_mut(host).client_id = Some(data);
            return Ok(());
        }
        match DhcpOption::from_payload(OptionCode(def.code), &data) {
            Ok(option) => {
                self.params(ctx).set_option(option);
                Ok(())
            }
            Err(e) => self.error(value_at, format!("option {name}: invalid value: {e}")),
        }
    }

    fn option_space(&mut self, start: usize) -> R<()> {
        let (name, _) = self.word("an option space name")?;
        while !self.is_punct(';') {
            let at = self.here();
            let (w, _) = self.word("';'")?;
            match w.as_str() {
                "code" | "length" => {
                    self.keyword("width")?;
                    let width = self.integer(Atom::U8)?;
                    if width != 1 {
                        return self.error(at, format!("not supported: {w} width {width}"));
                    }
                }
                "hash" => {
                    self.keyword("size")?;
                    self.integer(Atom::U32)?;
                }
                _ => return self.error(at, format!("expected ';', found '{w}'")),
            }
        }
        self.semicolon(start)?;
        self.spaces.entry(name).or_default();
        Ok(())
    }

    fn option_definition(&mut self, space: Option<String>, name: String, start: usize) -> R<()> {
        let code_at = self.here();
        let code = self.integer(Atom::U8)?;
        let code = match u8::try_from(code) {
            Ok(c) if (1..=254).contains(&c) => c,
            _ => return self.error(code_at, format!("option code {code} is not in 1 to 254")),
        };
        self.punct('=')?;
        let format = self.format()?;
        self.semicolon(start)?;
        let def = OptionDef { code, format };
        match space {
            None => {
                self.options.insert(name, def);
            }
            Some(s) => match self.spaces.get_mut(&s) {
                Some(table) => {
                    table.insert(name, def);
                }
                None => return self.error(code_at, format!("unknown option space: {s}")),
            },
        }
        Ok(())
    }

    /// An option type: an atom, `array of` one, a record `{ … }`, or `zerolen`.
    fn format(&mut self) -> R<Format> {
        let at = self.here();
        let mut array = false;
        if self.is_word("array") {
            self.pos += 1;
            self.keyword("of")?;
            array = true;
        }
        let fields = if self.is_punct('{') {
            self.pos += 1;
            let mut fields = alloc::vec![self.atom_type()?];
            while self.is_punct(',') {
                self.pos += 1;
                fields.push(self.atom_type()?);
            }
            self.punct('}')?;
            fields
        } else if !array && self.is_word("zerolen") {
            self.pos += 1;
            Vec::new()
        } else {
            alloc::vec![self.atom_type()?]
        };
        let open_ended = fields.iter().position(|a| a.is_open_ended());
        if let Some(i) = open_ended {
            if array || i + 1 != fields.len() {
                let message = format!(
                    "{} can only be the last field of a record, not in an array",
                    fields[i].name()
                );
                return self.error(at, message);
            }
        }
        Ok(Format { fields, array })
    }

    fn atom_type(&mut self) -> R<Atom> {
        let at = self.here();
        let (w, _) = self.word("an option type")?;
        // `signed`: Some(true) for `signed integer`, Some(false) for `unsigned integer`,
        // None for a bare `integer`.
        let sized = |this: &mut Self, signed: Option<bool>| -> R<Atom> {
            let size_at = this.here();
            let size = this.integer(Atom::U8)?;
            Ok(match (signed, size) {
                (Some(false), 8) => Atom::U8,
                (Some(false), 16) => Atom::U16,
                (Some(false), 32) => Atom::U32,
                (Some(true), 8) => Atom::I8,
                (Some(true), 16) => Atom::I16,
                (Some(true), 32) => Atom::I32,
                (None, 8) => Atom::N8,
                (None, 16) => Atom::N16,
                (None, 32) => Atom::N32,
                _ => return this.error(size_at, format!("integer size {size} is not 8, 16 or 32")),
            })
        };
        Ok(match w.as_str() {
            "ip-address" => Atom::Ip,
            "boolean" => Atom::Bool,
            "text" => Atom::Text,
            "string" => Atom::Bytes,
            "domain-name" => Atom::DomainName,
            "domain-list" => {
                if self.is_word("compressed") {
                    self.pos += 1;
                }
                Atom::DomainList
            }
            "unsigned" | "signed" => {
                self.keyword("integer")?;
                sized(self, Some(w == "signed"))?
            }
            "integer" => sized(self, None)?,
            "encapsulate" | "ip6-address" | "ipv6-address" | "destination-descriptor" => {
                return self.error(at, format!("not supported: option type {w}"));
            }
            _ => return self.error(at, format!("unknown option type: {w}")),
        })
    }

    /// An option value in `format`, appended to `out` as wire bytes.
    fn value(&mut self, format: &Format, out: &mut Vec<u8>) -> R<()> {
        if format.fields.is_empty() {
            return Ok(());
        }
        let several = format.array && format.fields.len() == 1;
        loop {
            for (i, &atom) in format.fields.iter().enumerate() {
                self.atom(atom, several, out)?;
                if i + 1 < format.fields.len() && self.is_punct(',') {
                    self.pos += 1;
                }
            }
            if format.array && self.is_punct(',') {
                self.pos += 1;
                continue;
            }
            return Ok(());
        }
    }

    /// One field of an option value. `several` lets a host name give all its addresses.
    fn atom(&mut self, atom: Atom, several: bool, out: &mut Vec<u8>) -> R<()> {
        match atom {
            Atom::Ip => {
                let list = self.addresses()?;
                let take = if several { list.len() } else { 1 };
                for a in list.iter().take(take) {
                    out.extend_from_slice(&a.octets());
                }
            }
            Atom::U8 | Atom::I8 | Atom::N8 => {
                let v = self.integer(atom)?;
                out.push(v.to_be_bytes()[7]);
            }
            Atom::U16 | Atom::I16 | Atom::N16 => {
                let v = self.integer(atom)?.to_be_bytes();
                out.extend_from_slice(&v[6..]);
            }
            Atom::U32 | Atom::I32 | Atom::N32 => {
                let v = self.integer(atom)?.to_be_bytes();
                out.extend_from_slice(&v[4..]);
            }
            Atom::Bool => {
                let at = self.here();
                let (w, _) = self.word("true, false, on or off")?;
                match parse_bool(&w) {
                    Some(b) => out.push(u8::from(b)),
                    None => {
                        let message = format!("expected true, false, on or off, found '{w}'");
                        return self.error(at, message);
                    }
                }
            }
            Atom::Text => out.extend(self.quoted()?),
            Atom::Bytes => {
                let at = self.here();
                match self.peek() {
                    Some(Tok::Str(s)) => {
                        out.extend_from_slice(s);
                        self.pos += 1;
                    }
                    Some(Tok::Word(w)) => match parse_hex_bytes(w) {
                        Some(bytes) => {
                            out.extend(bytes);
                            self.pos += 1;
                        }
                        None => {
                            let message = format!(
                                "expected a quoted string or colon-separated hex, found '{w}'"
                            );
                            return self.error(at, message);
                        }
                    },
                    _ => return self.expected("a quoted string or colon-separated hex"),
                }
            }
            Atom::DomainName => self.domain_name(out)?,
            Atom::DomainList => {
                self.domain_name(out)?;
                while self.is_punct(',') {
                    self.pos += 1;
                    self.domain_name(out)?;
                }
            }
        }
        Ok(())
    }

    fn domain_name(&mut self, out: &mut Vec<u8>) -> R<()> {
        let at = self.here();
        let text = self.name("a domain name")?;
        match DomainName::from_dotted(&text) {
            Ok(name) => {
                out.extend_from_slice(name.wire());
                Ok(())
            }
            Err(e) => self.error(at, format!("invalid domain name \"{text}\": {e}")),
        }
    }
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Word(w) => format!("'{w}'"),
        Tok::Str(s) => format!("\"{}\"", String::from_utf8_lossy(s)),
        Tok::Punct(c) => format!("'{c}'"),
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
