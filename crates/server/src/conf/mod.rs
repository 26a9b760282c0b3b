//! The ISC `dhcpd.conf` parser.
//!
//! [`parse`] reads one file; [`parse_with`] also follows `include` statements and resolves
//! host names through an [`Environment`] the caller provides, since this crate does no IO.
//! Both return the [`Config`] with the warnings, or every error found: after an error the
//! parser resumes at the next `;` or `}`, so one run reports them all.
//!
//! What is read:
//!
//! - declarations: `shared-network`, `subnet … netmask …`, `range [dynamic-bootp] LOW [HIGH]`,
//!   `pool`, `group`, `host` with `hardware ethernet`, `fixed-address`, `uid` and
//!   `option dhcp-client-identifier`;
//! - parameters, in every scope: `default-lease-time`, `max-lease-time`, `min-lease-time`,
//!   `authoritative`, `not authoritative`, `server-identifier`, `next-server`, `filename`,
//!   `server-name`, `use-host-decl-names`, `one-lease-per-client`, `get-lease-hostnames`,
//!   `ping-check`, `ping-timeout`, `vendor-option-space`, and `allow`/`deny`/`ignore` of
//!   `unknown-clients`, `bootp` and `booting` (in a pool: `allow`/`deny` of `known-clients`,
//!   `unknown-clients`, `all clients`, `dynamic bootp clients`);
//! - `option NAME VALUE;` for every option of ISC's standard table, in ISC's value syntax
//!   (dotted quads, comma lists, quoted strings, colon-separated hex, booleans, integers,
//!   domain lists); `option NAME code N = TYPE;` definitions with types `ip-address`,
//!   `unsigned`/`signed integer 8/16/32`, `boolean`, `text`, `string`, `domain-name`,
//!   `domain-list [compressed]`, `zerolen`, records `{ … }` of those, and `array of`;
//!   `option space NAME;`, `option SPACE.NAME code N = TYPE;` and `option SPACE.NAME VALUE;`,
//!   whose values become option 43 where `vendor-option-space SPACE` is in effect.
//!
//! What is accepted with a warning and otherwise ignored: statements that do not change DHCP
//! answers, such as `log-facility`, `ddns-update-style none`, `ddns-updates off`,
//! `lease-file-name`, `pid-file-name`, `omapi-port`, `local-port`, `db-time-format`.
//!
//! What is refused with `not supported: …`: everything else, in particular `class`,
//! `subclass`, `match`, `if`, `failover peer`, `on commit|release|expiry`, DNS updates,
//! `key`, `zone`, `spawn with`, `site-option-space`, other hardware types than Ethernet,
//! `allow members of` and other class-based permits, `allow`/`deny known-clients` outside a
//! pool, and IPv6 statements. The option types `encapsulate`, `ip6-address` and
//! `destination-descriptor` are refused the same way.
//!
//! Limits, beyond ISC:
//!
//! - Host names (in options, `fixed-address`, `next-server`, `server-identifier`) are
//!   resolved only through [`Environment::resolve`]; without it they are errors.
//! - `option space` accepts only one-byte code and length widths.
//! - A record type is a list of fixed fields with at most one open-ended field (`text`,
//!   `string`, `domain-list`) last; `array of` applies to a whole field or record, never to a
//!   field inside a record.
//! - Options the codec decodes into structures (user class, client FQDN, SLP, relay agent
//!   information, authentication, vendor-identifying options, SIP servers) are written with
//!   the `string` syntax (quoted or colon-separated hex) and must decode as the codec expects.
//! - Option 43 is built from vendor sub-options in each resolved layer on its own: a host
//!   (or its groups) that sets sub-options gets its own option 43 only when it also names
//!   the `vendor-option-space`; otherwise the pool's or subnet's option 43 applies.
//! - A pool's ranges must all lie in one subnet, and a pool declared in a shared network
//!   must have a range (see [`ConfigBuilder::build`](crate::ConfigBuilder::build)).

mod lexer;
mod options;
mod parser;

use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use crate::config::Config;
use crate::diag::{ConfError, Warning};

/// What the parser needs from the outside world: the text of included files and, optionally,
/// the addresses of host names.
pub trait Environment {
    /// The text of the file an `include` statement names, or why it cannot be read.
    fn include(&mut self, path: &str) -> Result<String, String>;

    /// The addresses of a host name, or why it cannot be resolved (the parser adds the
    /// name). The default resolves nothing, so only dotted quads are accepted where ISC
    /// allows host names.
    fn resolve(&mut self, name: &str) -> Result<Vec<Ipv4Addr>, String> {
        let _ = name;
        Err(String::from("cannot resolve hostname without DNS"))
    }
}

/// An [`Environment`] with no files and no name resolution: `include` is an error.
#[derive(Debug, Clone, Copy, Default)]
pub struct Isolated;

impl Environment for Isolated {
    fn include(&mut self, path: &str) -> Result<String, String> {
        let _ = path;
        Err(String::from("includes are not available"))
    }
}

/// An [`Environment`] that loads includes through a closure and resolves nothing.
pub struct Loader<F>(pub F);

impl<F: FnMut(&str) -> Result<String, String>> Environment for Loader<F> {
    fn include(&mut self, path: &str) -> Result<String, String> {
        (self.0)(path)
    }
}

/// What [`parse`] and [`parse_with`] return: the configuration and its warnings, or every
/// error found.
pub type ParseResult = Result<(Config, Vec<Warning>), Vec<ConfError>>;

/// Parses `text`, the contents of the file called `file` (the name is used in messages).
/// `include` statements are errors; use [`parse_with`] to follow them.
///
/// ```
/// let text = "default-lease-time 600;\n\
///             subnet 192.0.2.0 netmask 255.255.255.0 {\n\
///               range 192.0.2.10 192.0.2.20;\n\
///               option routers 192.0.2.1;\n\
///             }\n";
/// let (config, warnings) = charrua_server::conf::parse("dhcpd.conf", text).unwrap();
/// assert!(warnings.is_empty());
/// assert_eq!(config.subnets.len(), 1);
/// assert_eq!(config.scope_for(0, None, None).default_lease_time(), 600);
/// ```
pub fn parse(file: &str, text: &str) -> ParseResult {
    parse_with(file, text, &mut Isolated)
}

/// Parses `text` as [`parse`] does, loading included files and resolving host names
/// through `env`.
pub fn parse_with(file: &str, text: &str, env: &mut dyn Environment) -> ParseResult {
    parser::Parser::new(file, text, env).run()
}

#[cfg(test)]
mod tests;
