//! Splits `dhcpd.conf` text into tokens: words, quoted strings and punctuation.
//!
//! A word is a run of letters, digits and `-`, `_`, `.`, `:`; this keeps dotted quads,
//! colon-separated hex (`01:02:03`) and hardware addresses whole. `#` starts a comment that
//! runs to the end of the line. Quoted strings take `\n`, `\r`, `\t`, `\b`, `\\`, `\"`, octal
//! `\NNN` and hex `\xHH` escapes and may hold any bytes.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A keyword, name, number, address or hex string.
    Word(String),
    /// A quoted string, escapes applied.
    Str(Vec<u8>),
    /// Any other single character: `;`, `{`, `}`, `,`, `=`, `(`, ….
    Punct(char),
}

/// A token and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    /// Index of the file in the parser's file list.
    pub(crate) file: usize,
    pub(crate) line: u32,
    pub(crate) column: u32,
}

/// A lexical error: line, column and message.
pub(crate) type LexError = (u32, u32, String);

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')
}

/// Cursor over the characters of one file, counting lines and columns.
struct Chars<'a> {
    rest: core::iter::Peekable<core::str::Chars<'a>>,
    line: u32,
    column: u32,
}

impl Chars<'_> {
    fn peek(&mut self) -> Option<char> {
        self.rest.peek().copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.rest.next()?;
        if c == '\n' {
            self.line = self.line.saturating_add(1);
            self.column = 1;
        } else {
            self.column = self.column.saturating_add(1);
        }
        Some(c)
    }
}

/// Tokenizes one file. Errors are collected and lexing goes on after each.
pub(crate) fn lex(text: &str, file: usize) -> (Vec<Token>, Vec<LexError>) {
    let mut chars = Chars {
        rest: text.chars().peekable(),
        line: 1,
        column: 1,
    };
    let mut tokens = Vec::new();
    let mut errors = Vec::new();
    while let Some(c) = chars.peek() {
        let (line, column) = (chars.line, chars.column);
        let tok = if c.is_whitespace() {
            chars.next();
            continue;
        } else if c == '#' {
            while chars.peek().is_some_and(|c| c != '\n') {
                chars.next();
            }
            continue;
        } else if c == '"' {
            chars.next();
            match string(&mut chars) {
                Ok(bytes) => Tok::Str(bytes),
                Err(message) => {
                    errors.push((line, column, message));
                    continue;
                }
            }
        } else if is_word_char(c) {
            let mut word = String::new();
            while let Some(c) = chars.peek().filter(|&c| is_word_char(c)) {
                word.push(c);
                chars.next();
            }
            Tok::Word(word)
        } else {
            chars.next();
            Tok::Punct(c)
        };
        tokens.push(Token {
            tok,
            file,
            line,
            column,
        });
    }
    (tokens, errors)
}

/// Reads a quoted string after its opening quote, through the closing one.
fn string(chars: &mut Chars<'_>) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut bad = None;
    loop {
        let c = match chars.next() {
            None => return Err(String::from("unterminated quoted string")),
            Some('"') => break,
            Some(c) => c,
        };
        if c != '\\' {
            let mut buf = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            None => return Err(String::from("unterminated quoted string")),
            Some('n') => out.push(b'\n'),
            Some('r') => out.push(b'\r'),
            Some('t') => out.push(b'\t'),
            Some('b') => out.push(8),
            Some('\\') => out.push(b'\\'),
            Some('"') => out.push(b'"'),
            Some('x') => {
                let digits = take_digits(chars, 16, 2);
                match u8::from_str_radix(&digits, 16) {
                    Ok(b) => out.push(b),
                    Err(_) => bad = bad.or(Some(String::from("bad escape \\x in quoted string"))),
                }
            }
            Some(d @ '0'..='7') => {
                let mut digits = String::from(d);
                digits.push_str(&take_digits(chars, 8, 2));
                match u8::from_str_radix(&digits, 8) {
                    Ok(b) => out.push(b),
                    Err(_) => {
                        bad = bad.or(Some(format!("bad escape \\{digits} in quoted string")));
                    }
                }
            }
            Some(other) => {
                bad = bad.or(Some(format!("unknown escape \\{other} in quoted string")));
            }
        }
    }
    match bad {
        Some(message) => Err(message),
        None => Ok(out),
    }
}

/// Takes up to `max` digits of `radix`.
fn take_digits(chars: &mut Chars<'_>, radix: u32, max: usize) -> String {
    let mut digits = String::new();
    while digits.len() < max {
        match chars.peek() {
            Some(c) if c.is_digit(radix) => {
                digits.push(c);
                chars.next();
            }
            _ => break,
        }
    }
    digits
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn toks(text: &str) -> Vec<Tok> {
        let (tokens, errors) = lex(text, 0);
        assert!(errors.is_empty(), "{errors:?}");
        tokens.into_iter().map(|t| t.tok).collect()
    }

    fn word(w: &str) -> Tok {
        Tok::Word(String::from(w))
    }

    #[test]
    fn keeps_addresses_and_hex_strings_whole() {
        assert_eq!(
            toks("range 10.0.0.1 10.0.0.9; hardware ethernet 0:c0:c3:49:2b:57;"),
            vec![
                word("range"),
                word("10.0.0.1"),
                word("10.0.0.9"),
                Tok::Punct(';'),
                word("hardware"),
                word("ethernet"),
                word("0:c0:c3:49:2b:57"),
                Tok::Punct(';'),
            ]
        );
    }

    #[test]
    fn skips_comments_to_end_of_line() {
        assert_eq!(toks("a # b c ;\nd"), vec![word("a"), word("d")]);
    }

    #[test]
    fn applies_string_escapes() {
        assert_eq!(
            toks(r#""a\"b\\c\n\t\x41\101\0""#),
            vec![Tok::Str(b"a\"b\\c\n\tAA\0".to_vec())]
        );
    }

    #[test]
    fn keeps_hash_inside_strings() {
        assert_eq!(toks(r#""a # b""#), vec![Tok::Str(b"a # b".to_vec())]);
    }

    #[test]
    fn counts_lines_and_columns_from_one() {
        let (tokens, _) = lex("a\n  bc {\n}", 3);
        let at: Vec<(u32, u32, usize)> =
            tokens.iter().map(|t| (t.line, t.column, t.file)).collect();
        assert_eq!(at, vec![(1, 1, 3), (2, 3, 3), (2, 6, 3), (3, 1, 3)]);
    }

    #[test]
    fn reports_unterminated_string_where_it_starts() {
        let (_, errors) = lex("x \"abc", 0);
        assert_eq!(
            errors,
            vec![(1, 3, String::from("unterminated quoted string"))]
        );
    }

    #[test]
    fn reports_unknown_escape() {
        let (_, errors) = lex(r#""a\qb" ;"#, 0);
        assert_eq!(
            errors,
            vec![(1, 1, String::from("unknown escape \\q in quoted string"))]
        );
    }

    #[test]
    fn punctuation_is_one_character_each() {
        assert_eq!(
            toks("{};,=("),
            vec![
                Tok::Punct('{'),
                Tok::Punct('}'),
                Tok::Punct(';'),
                Tok::Punct(','),
                Tok::Punct('='),
                Tok::Punct('(')
            ]
        );
    }
}
