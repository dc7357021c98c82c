//! Whether a raw line that is already JSON may be written unchanged.
//!
//! A `tracing-subscriber` fmt layer configured with `.json()` hands the
//! `MakeWriter` path finished JSON objects. Wrapping those in another object
//! would bury their fields in a string, so in JSON mode such a line passes
//! through as it is, but only when it is certainly safe: exactly one JSON
//! object (RFC 8259, checked here without allocating), valid UTF-8, no
//! control character anywhere (so no raw newline, CR or tab, even as
//! whitespace between tokens), no C1 control, line or paragraph separator or
//! bidi control, nesting at most [`MAX_DEPTH`] deep, and no number that
//! overflows an `f64` (both of which common parsers reject). Anything else is
//! wrapped like any raw line.

use super::escape;

/// Deepest nesting accepted (serde_json's own limit is 128).
const MAX_DEPTH: usize = 64;

/// True if `line` (without its line ending) is one clean JSON object.
pub(crate) fn is_clean_object(line: &[u8]) -> bool {
    if line.first() != Some(&b'{') || line.last() != Some(&b'}') {
        return false;
    }
    let Ok(text) = std::str::from_utf8(line) else {
        return false;
    };
    if text
        .chars()
        .any(|c| c.is_control() || escape::is_special_char(c as u32))
    {
        return false;
    }
    let mut p = Parser { b: line, i: 0 };
    p.object(0).is_some() && p.i == line.len()
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    fn ws(&mut self) {
        // Controls were rejected up front: space is the only whitespace left.
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b'"' => self.string(),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i + word.len();
        (self.b.get(self.i..end)? == word).then(|| self.i = end)
    }

    fn object(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.eat(b'{')?;
        self.ws();
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            self.ws();
            self.string()?;
            self.ws();
            self.eat(b':')?;
            self.ws();
            self.value(depth)?;
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.eat(b'[')?;
        self.ws();
        if self.eat(b']').is_some() {
            return Some(());
        }
        loop {
            self.ws();
            self.value(depth)?;
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn hex4(&mut self) -> Option<u16> {
        let s = std::str::from_utf8(self.b.get(self.i..self.i + 4)?).ok()?;
        if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.i += 4;
        u16::from_str_radix(s, 16).ok()
    }

    fn string(&mut self) -> Option<()> {
        self.eat(b'"')?;
        loop {
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    return Some(());
                }
                b'\\' => {
                    self.i += 1;
                    match self.peek()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 1,
                        b'u' => {
                            self.i += 1;
                            match self.hex4()? {
                                // A high surrogate must be followed by a low one.
                                0xD800..=0xDBFF => {
                                    self.literal(b"\\u")?;
                                    if !(0xDC00..=0xDFFF).contains(&self.hex4()?) {
                                        return None;
                                    }
                                }
                                0xDC00..=0xDFFF => return None,
                                _ => {}
                            }
                        }
                        _ => return None,
                    }
                }
                _ => self.i += 1,
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Option<()> {
        let start = self.i;
        let _ = self.eat(b'-');
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.eat(b'.').is_some() && self.digits() == 0 {
            return None;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        // The grammar above is a subset of Rust's float syntax.
        let text = std::str::from_utf8(&self.b[start..self.i]).ok()?;
        text.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts() {
        for ok in [
            r#"{}"#,
            r#"{"a":1}"#,
            r#"{ "a" : [1, -2.5e3, 0, true, false, null, {"b":"\u00e9\n\"\\\/"}] }"#,
            r#"{"timestamp":"2026-11-27T06:22:17Z","level":"INFO","fields":{"message":"hi"}}"#,
            r#"{"s":"\ud83c\udf89 東京"}"#,
            r#"{"a":1,"a":2}"#,
        ] {
            assert!(is_clean_object(ok.as_bytes()), "{ok}");
            let v: serde_json::Value = serde_json::from_str(ok).unwrap();
            assert!(v.is_object());
        }
    }

    #[test]
    fn rejects() {
        let deep = format!("{}{}", "{\"a\":[".repeat(40), "]}".repeat(40));
        for bad in [
            "",
            "{",
            "[1]",
            "\"s\"",
            "{} {}",
            "{}x",
            " {}",
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{a:1}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":.5}"#,
            r#"{"a":1e}"#,
            r#"{"a":+1}"#,
            r#"{"a":1e400}"#,
            r#"{"a":tru}"#,
            r#"{"a":"\x"}"#,
            r#"{"a":"\u12"}"#,
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\udc00"}"#,
            r#"{"a":"\ud800\u0041"}"#,
            "{\"a\":\"tab\there\"}",
            "{\"a\":\t1}",
            "{\"a\":\"\u{1b}[31m\"}",
            "{\"a\":\"\u{2028}\"}",
            "{\"a\":\"\u{9b}\"}",
            "{\"a\":1}\n{\"b\":2}",
            deep.as_str(),
        ] {
            assert!(!is_clean_object(bad.as_bytes()), "{bad:?}");
        }
        assert!(!is_clean_object(b"{\"a\":\"\xff\"}"));
    }
}
