//! A small JSON reader, for the one document faina-filter reads: a server's command table as
//! `redis-cli --json COMMAND` writes it (see [`super::server`]).
//!
//! It reads RFC 8259 JSON into a tree whose every value remembers where it starts, so a caller
//! can name the place of anything it does not accept. Strings are kept as bytes (redis-cli writes
//! a name's bytes as they are); `\uXXXX` escapes become UTF-8. Nesting is limited to
//! [`MAX_DEPTH`], so no document can exhaust the stack; the caller bounds the document's size.

use std::fmt;

/// The deepest nesting read (a command table nests 7 deep).
pub const MAX_DEPTH: usize = 64;

/// A value and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub at: usize,
    pub kind: JsonKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JsonKind {
    Null,
    Bool(bool),
    /// A number without fraction or exponent that fits an i64.
    Int(i64),
    /// Any other number.
    Float(f64),
    String(Vec<u8>),
    Array(Vec<Value>),
    /// Members in document order.
    Object(Vec<(Vec<u8>, Value)>),
}

impl JsonKind {
    /// What a reader calls this kind of value: "an array", "a string"…
    pub fn describe(&self) -> &'static str {
        match self {
            JsonKind::Null => "null",
            JsonKind::Bool(_) => "a boolean",
            JsonKind::Int(_) | JsonKind::Float(_) => "a number",
            JsonKind::String(_) => "a string",
            JsonKind::Array(_) => "an array",
            JsonKind::Object(_) => "an object",
        }
    }
}

/// A place in a document: 1-based line and column (in bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub line: usize,
    pub column: usize,
}

impl Place {
    /// The place of byte `offset` of `text`.
    pub fn of(text: &[u8], offset: usize) -> Place {
        let before = &text[..offset.min(text.len())];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = offset - before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) + 1;
        Place { line, column }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Why a document is not JSON, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub at: usize,
    pub what: &'static str,
}

/// Reads one JSON document (surrounding white space allowed).
pub fn parse(text: &[u8]) -> Result<Value, SyntaxError> {
    let mut reader = JsonReader { text, pos: 0 };
    let value = reader.value(0)?;
    reader.space();
    if reader.pos < text.len() {
        return Err(reader.error("text after the end of the document"));
    }
    Ok(value)
}

struct JsonReader<'a> {
    text: &'a [u8],
    pos: usize,
}

impl JsonReader<'_> {
    fn error(&self, what: &'static str) -> SyntaxError {
        SyntaxError { at: self.pos, what }
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        self.space();
        if depth >= MAX_DEPTH {
            return Err(self.error("nested too deep"));
        }
        let at = self.pos;
        let kind = match self.peek() {
            None => return Err(self.error("the document ends where a value should be")),
            Some(b'[') => self.array(depth)?,
            Some(b'{') => self.object(depth)?,
            Some(b'"') => JsonKind::String(self.string()?),
            Some(b't') => self.word(b"true", JsonKind::Bool(true))?,
            Some(b'f') => self.word(b"false", JsonKind::Bool(false))?,
            Some(b'n') => self.word(b"null", JsonKind::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(_) => return Err(self.error("expected a value")),
        };
        Ok(Value { at, kind })
    }

    fn word(&mut self, word: &[u8], kind: JsonKind) -> Result<JsonKind, SyntaxError> {
        if self.text[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(kind)
        } else {
            Err(self.error("expected a value"))
        }
    }

    fn array(&mut self, depth: usize) -> Result<JsonKind, SyntaxError> {
        self.pos += 1;
        let mut items = Vec::new();
        self.space();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(JsonKind::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(JsonKind::Array(items));
                }
                _ => return Err(self.error("expected ',' or ']'")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<JsonKind, SyntaxError> {
        self.pos += 1;
        let mut members = Vec::new();
        self.space();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(JsonKind::Object(members));
        }
        loop {
            self.space();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a member name in quotes"));
            }
            let name = self.string()?;
            self.space();
            if self.peek() != Some(b':') {
                return Err(self.error("expected ':'"));
            }
            self.pos += 1;
            members.push((name, self.value(depth + 1)?));
            self.space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(JsonKind::Object(members));
                }
                _ => return Err(self.error("expected ',' or '}'")),
            }
        }
    }

    fn string(&mut self) -> Result<Vec<u8>, SyntaxError> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(b) = self.peek() else { return Err(self.error("a string is not closed")) };
            match b {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                0..=0x1f => return Err(self.error("a control character in a string")),
                _ => {
                    out.push(b);
                    self.pos += 1;
                }
            }
        }
    }

    /// One escape, after its backslash.
    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), SyntaxError> {
        let Some(b) = self.peek() else { return Err(self.error("a string is not closed")) };
        self.pos += 1;
        let simple = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 8,
            b'f' => 12,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let unit = self.hex4()?;
                let c = if (0xd800..0xdc00).contains(&unit) && self.text[self.pos..].starts_with(b"\\u") {
                    self.pos += 2;
                    let low = self.hex4()?;
                    if !(0xdc00..0xe000).contains(&low) {
                        return Err(self.error("a \\u escape that is half a character"));
                    }
                    char::from_u32(0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00))
                } else {
                    char::from_u32(unit)
                };
                let Some(c) = c else { return Err(self.error("a \\u escape that is half a character")) };
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                return Ok(());
            }
            _ => return Err(self.error("an unknown escape in a string")),
        };
        out.push(simple);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let digits = self.text.get(self.pos..self.pos + 4).ok_or_else(|| self.error("a \\u escape is cut short"))?;
        let text = std::str::from_utf8(digits).map_err(|_| self.error("a \\u escape needs four hex digits"))?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(self.error("a \\u escape needs four hex digits"));
        }
        self.pos += 4;
        Ok(u32::from_str_radix(text, 16).unwrap_or_default())
    }

    fn number(&mut self) -> Result<JsonKind, SyntaxError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.error("a number needs a digit")),
        }
        let mut whole = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            whole = false;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("a number needs a digit after '.'"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            whole = false;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.error("a number needs a digit in its exponent"));
            }
            self.digits();
        }
        // Only ASCII digits, signs, '.' and 'e' were taken.
        let text = std::str::from_utf8(&self.text[start..self.pos]).unwrap_or_default();
        if whole {
            if let Ok(n) = text.parse() {
                return Ok(JsonKind::Int(n));
            }
        }
        Ok(JsonKind::Float(text.parse().unwrap_or(f64::NAN)))
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> JsonKind {
        parse(text.as_bytes()).unwrap().kind
    }

    fn error(text: &str) -> (Place, &'static str) {
        let e = parse(text.as_bytes()).unwrap_err();
        (Place::of(text.as_bytes(), e.at), e.what)
    }

    #[test]
    fn values() {
        assert_eq!(kind(" [1, -2, 3.5, true, false, null] "), {
            let at = [2, 5, 9, 14, 20, 27];
            let kinds = [
                JsonKind::Int(1),
                JsonKind::Int(-2),
                JsonKind::Float(3.5),
                JsonKind::Bool(true),
                JsonKind::Bool(false),
                JsonKind::Null,
            ];
            JsonKind::Array(at.iter().zip(kinds).map(|(&at, kind)| Value { at, kind }).collect())
        });
        assert_eq!(kind(r#"{"a": {}, "b": []}"#), {
            JsonKind::Object(vec![
                (b"a".to_vec(), Value { at: 6, kind: JsonKind::Object(vec![]) }),
                (b"b".to_vec(), Value { at: 15, kind: JsonKind::Array(vec![]) }),
            ])
        });
        assert_eq!(kind("99999999999999999999"), JsonKind::Float(1e20));
        assert_eq!(kind("-0"), JsonKind::Int(0));
    }

    #[test]
    fn strings_keep_bytes_and_decode_escapes() {
        assert_eq!(kind(r#""a\"\\\/\b\f\n\r\t""#), JsonKind::String(b"a\"\\/\x08\x0c\n\r\t".to_vec()));
        assert_eq!(kind(r#""\u00e9\ud83d\ude00""#), JsonKind::String("é😀".as_bytes().to_vec()));
        assert_eq!(parse(b"\"\xff\xfe\"").unwrap().kind, JsonKind::String(vec![0xff, 0xfe]));
    }

    #[test]
    fn mistakes_are_named_with_their_place() {
        assert_eq!(error("[1,\n 2,,3]"), (Place { line: 2, column: 4 }, "expected a value"));
        assert_eq!(error("[1 2]"), (Place { line: 1, column: 4 }, "expected ',' or ']'"));
        assert_eq!(error("{1: 2}"), (Place { line: 1, column: 2 }, "expected a member name in quotes"));
        assert_eq!(error("\"abc"), (Place { line: 1, column: 5 }, "a string is not closed"));
        assert_eq!(error("\"a\nb\""), (Place { line: 1, column: 3 }, "a control character in a string"));
        assert_eq!(error(r#""\x41""#), (Place { line: 1, column: 4 }, "an unknown escape in a string"));
        assert_eq!(error(r#""\ud800""#).1, "a \\u escape that is half a character");
        assert_eq!(error(r#""\u12zz""#).1, "a \\u escape needs four hex digits");
        assert_eq!(error(r#""\u12""#).1, "a \\u escape is cut short");
        assert_eq!(error("01"), (Place { line: 1, column: 2 }, "text after the end of the document"));
        assert_eq!(error("1."), (Place { line: 1, column: 3 }, "a number needs a digit after '.'"));
        assert_eq!(error("-"), (Place { line: 1, column: 2 }, "a number needs a digit"));
        assert_eq!(error(""), (Place { line: 1, column: 1 }, "the document ends where a value should be"));
        assert_eq!(error("[1"), (Place { line: 1, column: 3 }, "expected ',' or ']'"));
        assert_eq!(error("tru"), (Place { line: 1, column: 1 }, "expected a value"));
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "[".repeat(100_000);
        assert_eq!(parse(deep.as_bytes()).unwrap_err(), SyntaxError { at: MAX_DEPTH, what: "nested too deep" });
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(ok.as_bytes()).is_ok());
    }
}
