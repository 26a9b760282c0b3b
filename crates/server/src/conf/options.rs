//! Option names and value formats as ISC dhcpd knows them, and the scalar value syntaxes.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use charrua_wire::{MacAddr, OptionCode};

/// One field of an option value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Atom {
    /// `ip-address`: four bytes.
    Ip,
    /// `unsigned integer 8`.
    U8,
    /// `unsigned integer 16`.
    U16,
    /// `unsigned integer 32`.
    U32,
    /// `signed integer 8`.
    I8,
    /// `signed integer 16`.
    I16,
    /// `signed integer 32`.
    I32,
    /// `integer 8`: ISC's unqualified integer; signed and unsigned values both fit.
    N8,
    /// `integer 16`, signed or unsigned.
    N16,
    /// `integer 32`, signed or unsigned.
    N32,
    /// `boolean`: one byte, 0 or 1.
    Bool,
    /// `text`: a quoted string, bytes as given.
    Text,
    /// `string`: a quoted string or colon-separated hex.
    Bytes,
    /// `domain-name`: one name in DNS wire form.
    DomainName,
    /// `domain-list`: comma-separated names in DNS wire form.
    DomainList,
}

impl Atom {
    /// Whether the atom takes the rest of the value (so it can only come last).
    pub(crate) fn is_open_ended(self) -> bool {
        matches!(self, Atom::Text | Atom::Bytes | Atom::DomainList)
    }

    /// The ISC type name, for messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Atom::Ip => "ip-address",
            Atom::U8 => "unsigned integer 8",
            Atom::U16 => "unsigned integer 16",
            Atom::U32 => "unsigned integer 32",
            Atom::I8 => "signed integer 8",
            Atom::I16 => "signed integer 16",
            Atom::I32 => "signed integer 32",
            Atom::N8 => "integer 8",
            Atom::N16 => "integer 16",
            Atom::N32 => "integer 32",
            Atom::Bool => "boolean",
            Atom::Text => "text",
            Atom::Bytes => "string",
            Atom::DomainName => "domain-name",
            Atom::DomainList => "domain-list",
        }
    }
}

/// How an option's value is written: a record of fields, possibly repeated.
///
/// An empty record is a zero-length option. When `array` is set the whole record repeats,
/// records separated by commas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Format {
    pub(crate) fields: Vec<Atom>,
    pub(crate) array: bool,
}

impl Format {
    /// A format from a compact description: one letter per field, `A` last for an array.
    ///
    /// `I` ip-address, `B` u8, `S` u16, `L` u32, `l` i32, `f` boolean, `t` text, `X` string,
    /// `D` domain-list, `d` domain-name.
    fn compact(description: &str) -> Format {
        let mut fields = Vec::new();
        let mut array = false;
        for c in description.chars() {
            fields.push(match c {
                'I' => Atom::Ip,
                'B' => Atom::U8,
                'S' => Atom::U16,
                'L' => Atom::U32,
                'l' => Atom::I32,
                'f' => Atom::Bool,
                't' => Atom::Text,
                'X' => Atom::Bytes,
                'D' => Atom::DomainList,
                'd' => Atom::DomainName,
                _ => {
                    array = true;
                    continue;
                }
            });
        }
        Format { fields, array }
    }
}

/// The value format of every option in ISC dhcpd's table for the standard space.
fn standard_format(code: u8) -> Option<&'static str> {
    Some(match code {
        1 | 16 | 28 | 32 | 50 | 54 | 118 => "I",
        2 => "l",
        3..=11
        | 41
        | 42
        | 44
        | 45
        | 48
        | 49
        | 65
        | 68..=76
        | 85
        | 89
        | 92
        | 112
        | 136
        | 138
        | 150 => "IA",
        12 | 14 | 15 | 17 | 18 | 40 | 47 | 56 | 62 | 64 | 66 | 67 | 86 | 87 | 98 | 100 | 101
        | 113 | 114 | 160 | 161 | 209 | 210 | 252 => "t",
        13 | 22 | 26 | 57 => "S",
        19 | 20 | 27 | 29..=31 | 34 | 36 | 39 => "f",
        21 | 33 => "IIA",
        23 | 37 | 46 | 53 | 116 => "B",
        24 | 35 | 38 | 51 | 58 | 59 | 91 | 108 | 211 => "L",
        25 | 93 | 117 => "SA",
        43 | 60 | 61 | 63 | 77 | 78 | 79 | 81 | 82 | 83 | 90 | 94 | 97 | 99 | 120 | 124 | 125
        | 212 => "X",
        55 | 121 | 249 => "BA",
        88 | 119 | 137 | 141 | 213 => "D",
        _ => return None,
    })
}

/// Names ISC dhcpd (or common practice) uses that differ from the codec's names.
const ALIASES: &[(&str, u8)] = &[
    ("default-url", 114),
    ("rfc3442-classless-static-routes", 121),
    ("ms-classless-static-routes", 249),
    ("pxe-system-type", 93),
    ("client-system-architecture", 93),
];

/// An option the `option NAME` statement can set: its code and value format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OptionDef {
    pub(crate) code: u8,
    pub(crate) format: Format,
}

/// The standard option space: every name the codec gives a code with a known format, plus
/// the aliases.
pub(crate) fn standard_table() -> BTreeMap<String, OptionDef> {
    let mut table = BTreeMap::new();
    for code in 1..=254u8 {
        if let Some(format) = standard_format(code) {
            let def = OptionDef {
                code,
                format: Format::compact(format),
            };
            table.insert(String::from(OptionCode(code).name()), def);
        }
    }
    for &(name, code) in ALIASES {
        if let Some(format) = standard_format(code) {
            table.insert(
                String::from(name),
                OptionDef {
                    code,
                    format: Format::compact(format),
                },
            );
        }
    }
    table
}

/// An integer in decimal or `0x` hex, with an optional leading minus.
pub(crate) fn parse_integer(word: &str) -> Option<i64> {
    let (negative, digits) = match word.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, word),
    };
    let value = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => i64::from_str_radix(hex, 16).ok()?,
        None if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            digits.parse().ok()?
        }
        None => return None,
    };
    Some(if negative { -value } else { value })
}

/// Colon-separated hex bytes, each one or two digits: `1:2:ff`, `0a`.
pub(crate) fn parse_hex_bytes(word: &str) -> Option<Vec<u8>> {
    word.split(':')
        .map(|part| {
            let ok = (1..=2).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_hexdigit());
            if ok {
                u8::from_str_radix(part, 16).ok()
            } else {
                None
            }
        })
        .collect()
}

/// A MAC address as six colon-separated hex bytes.
pub(crate) fn parse_mac(word: &str) -> Option<MacAddr> {
    let bytes = parse_hex_bytes(word)?;
    Some(MacAddr(<[u8; 6]>::try_from(bytes.as_slice()).ok()?))
}

/// `true`/`false`/`on`/`off`.
pub(crate) fn parse_bool(word: &str) -> Option<bool> {
    match word {
        "true" | "on" => Some(true),
        "false" | "off" => Some(false),
        _ => None,
    }
}

/// Whether a word is shaped like a host name (letters, digits, `-`, `.`, with a letter).
pub(crate) fn looks_like_hostname(word: &str) -> bool {
    !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && word.bytes().any(|b| b.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn reads_decimal_hex_and_negative_integers() {
        assert_eq!(parse_integer("600"), Some(600));
        assert_eq!(parse_integer("0x1f"), Some(31));
        assert_eq!(parse_integer("-3600"), Some(-3600));
        assert_eq!(parse_integer("12a"), None);
        assert_eq!(parse_integer(""), None);
        assert_eq!(parse_integer("-"), None);
    }

    #[test]
    fn reads_colon_separated_hex_with_short_bytes() {
        assert_eq!(parse_hex_bytes("01:2:ff"), Some(vec![1, 2, 255]));
        assert_eq!(parse_hex_bytes("0a"), Some(vec![10]));
        assert_eq!(parse_hex_bytes("01::02"), None);
        assert_eq!(parse_hex_bytes("123"), None);
        assert_eq!(parse_hex_bytes("zz"), None);
    }

    #[test]
    fn reads_mac_addresses_only_with_six_bytes() {
        assert_eq!(
            parse_mac("0:c0:c3:49:2b:57"),
            Some(MacAddr([0, 0xc0, 0xc3, 0x49, 0x2b, 0x57]))
        );
        assert_eq!(parse_mac("0:c0:c3:49:2b"), None);
    }

    #[test]
    fn reads_booleans_in_both_spellings() {
        assert_eq!(parse_bool("on"), Some(true));
        assert_eq!(parse_bool("true"), Some(true));
        assert_eq!(parse_bool("off"), Some(false));
        assert_eq!(parse_bool("false"), Some(false));
        assert_eq!(parse_bool("yes"), None);
    }

    #[test]
    fn standard_table_maps_isc_names_to_codes() {
        let table = standard_table();
        assert_eq!(table["domain-name-servers"].code, 6);
        assert_eq!(
            table["routers"].format,
            Format {
                fields: vec![Atom::Ip],
                array: true
            }
        );
        assert_eq!(
            table["static-routes"].format.fields,
            vec![Atom::Ip, Atom::Ip]
        );
        assert_eq!(table["netbios-node-type"].code, 46);
        assert_eq!(table["domain-search"].format.fields, vec![Atom::DomainList]);
        assert_eq!(table["dhcp-client-identifier"].code, 61);
        assert_eq!(table["default-url"].code, 114);
        assert!(!table.contains_key("pad"));
        assert!(!table.contains_key("dhcp-option-overload"));
    }

    #[test]
    fn hostnames_need_a_letter() {
        assert!(looks_like_hostname("ns1.example.org"));
        assert!(!looks_like_hostname("10.0.0.1"));
        assert!(!looks_like_hostname("a_b"));
    }
}
