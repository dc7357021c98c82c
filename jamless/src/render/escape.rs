//! Escaping of untrusted bytes, for the text and the JSON outputs.
//!
//! Everything a record carries (message, field keys and values, target,
//! thread name, file) comes from the application, and a raw line can be any
//! bytes at all. Both escapers guarantee that what they append can neither end
//! the line early, nor carry a terminal control sequence, nor change how the
//! rest of the line is displayed:
//!
//! | input                                   | text            | JSON            |
//! |-----------------------------------------|-----------------|-----------------|
//! | `\n` `\r` `\t`                          | `\n` `\r` `\t`  | `\n` `\r` `\t`  |
//! | other C0 controls, ESC, DEL             | `\x1b`          | `\u001b`        |
//! | C1 controls U+0080..=U+009F             | `\u{9b}`        | `\u009b`        |
//! | U+2028, U+2029 (line/para. separators)  | `\u{2028}`      | `\u2028`        |
//! | bidi overrides and isolates (U+202A..=U+202E, U+2066..=U+2069) | `\u{202e}` | `\u202e` |
//! | invalid UTF-8                           | `\xff` per byte | U+FFFD per maximal bad sequence, as `String::from_utf8_lossy` |
//! | `"` and `\`                             | unchanged       | `\"` `\\`       |
//!
//! In text a backslash is written as it is: the text format is for people,
//! and doubling every backslash (Windows paths, regexes) would hurt more than
//! the ambiguity between a logged `\n` and an escaped newline. JSON is the
//! lossless format.
//!
//! Both escapers scan for the first byte that needs work and copy the plain
//! runs in between with one `extend_from_slice`; printable ASCII is checked
//! eight bytes at a time, other characters cost a short UTF-8 decode.

const HEX: &[u8; 16] = b"0123456789abcdef";

/// What [`next_special`] found at a position.
enum Special {
    /// An ASCII byte that must be escaped.
    Ascii(u8),
    /// A valid character that must be escaped, and its encoded length.
    Char(u32, usize),
    /// This many bytes that do not form a valid UTF-8 character.
    Invalid(usize),
}

/// Whether a valid non-ASCII character is escaped by both escapers.
pub(crate) fn is_special_char(c: u32) -> bool {
    matches!(c, 0x80..=0x9F | 0x2028 | 0x2029 | 0x202A..=0x202E | 0x2066..=0x2069)
}

/// Decodes the UTF-8 character at the start of `s`, whose first byte is not
/// ASCII. Returns the code point and its length, or the number of bytes that
/// are invalid (at least one): the maximal subpart of a character that the
/// Unicode standard recommends replacing with one U+FFFD, so that the JSON
/// escaper reads invalid UTF-8 exactly as `String::from_utf8_lossy` does.
fn decode(s: &[u8]) -> Result<(u32, usize), usize> {
    let Some(&b0) = s.first() else {
        return Err(1);
    };
    let (len, min, init) = match b0 {
        0xC2..=0xDF => (2, 0x80, b0 & 0x1F),
        0xE0..=0xEF => (3, 0x800, b0 & 0x0F),
        0xF0..=0xF4 => (4, 0x1_0000, b0 & 0x07),
        _ => return Err(1),
    };
    // The second byte's range depends on the lead (Unicode, table 3-7):
    // an overlong form, a surrogate or a code point beyond U+10FFFF is
    // invalid from its second byte on, so only the lead byte is rejected
    // and the continuation bytes are then rejected one by one.
    let second = match b0 {
        0xE0 => 0xA0..=0xBF,
        0xED => 0x80..=0x9F,
        0xF0 => 0x90..=0xBF,
        0xF4 => 0x80..=0x8F,
        _ => 0x80..=0xBF,
    };
    let mut c = u32::from(init);
    for k in 1..len {
        match s.get(k) {
            Some(&b) if (k > 1 || second.contains(&b)) && b & 0xC0 == 0x80 => {
                c = (c << 6) | u32::from(b & 0x3F)
            }
            _ => return Err(k),
        }
    }
    // Ruled out by the second byte's range; checked again so that no
    // invalid character can ever pass as valid.
    if c < min || c > 0x10_FFFF || (0xD800..=0xDFFF).contains(&c) {
        return Err(1);
    }
    Ok((c, len))
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Nonzero if some byte of `v` is zero (exact: no false negative, and a
/// false positive only after a true one).
#[inline(always)]
fn has_zero(v: u64) -> u64 {
    v.wrapping_sub(LO) & !v & HI
}

/// True if all eight bytes of `w` are plain printable ASCII (for JSON,
/// also neither `"` nor `\`). A `false` is only a hint: the byte loop
/// decides.
#[inline(always)]
fn word_is_plain<const JSON: bool>(w: u64) -> bool {
    let mut bad = w & HI; // non-ASCII
    bad |= w.wrapping_sub(LO * 0x20) & !w & HI; // below 0x20
    bad |= has_zero(w ^ (LO * 0x7F)); // DEL
    if JSON {
        bad |= has_zero(w ^ (LO * u64::from(b'"'))) | has_zero(w ^ (LO * u64::from(b'\\')));
    }
    bad == 0
}

/// Finds the next position at or after `i` that needs escaping: printable
/// ASCII is copied unchanged, except `"` and `\` in JSON. Plain text is
/// skipped eight bytes at a time.
#[inline(always)]
fn next_special<const JSON: bool>(s: &[u8], mut i: usize) -> Option<(usize, Special)> {
    loop {
        while let Some(chunk) = s.get(i..i + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            if !word_is_plain::<JSON>(u64::from_le_bytes(word)) {
                break;
            }
            i += 8;
        }
        // A short tail is checked as one word too: the last eight bytes
        // (some already checked), or the string padded with spaces.
        let rest = s.len().saturating_sub(i);
        if rest < 8 {
            let mut word = [b' '; 8];
            match s.get(s.len().wrapping_sub(8)..) {
                Some(last) => word.copy_from_slice(last),
                None => {
                    for (w, &b) in word.iter_mut().zip(&s[i..]) {
                        *w = b;
                    }
                }
            }
            if word_is_plain::<JSON>(u64::from_le_bytes(word)) {
                return None;
            }
        }
        let b = *s.get(i)?;
        if b < 0x80 {
            if (0x20..0x7F).contains(&b) && !(JSON && (b == b'"' || b == b'\\')) {
                i += 1;
                continue;
            }
            return Some((i, Special::Ascii(b)));
        }
        match decode(&s[i..]) {
            Ok((c, len)) if is_special_char(c) => return Some((i, Special::Char(c, len))),
            Ok((_, len)) => i += len,
            Err(n) => return Some((i, Special::Invalid(n))),
        }
    }
}

fn push_hex_byte(out: &mut Vec<u8>, prefix: &[u8], b: u8) {
    out.extend_from_slice(prefix);
    out.push(HEX[usize::from(b >> 4)]);
    out.push(HEX[usize::from(b & 0xF)]);
}

/// Appends `c` as lowercase hex without leading zeros.
fn push_hex_min(out: &mut Vec<u8>, c: u32) {
    let mut started = false;
    for shift in (0..6).rev() {
        let d = (c >> (shift * 4)) & 0xF;
        if d != 0 || started || shift == 0 {
            started = true;
            out.push(HEX[d as usize]);
        }
    }
}

/// Appends `input` to `out` escaped for the text format (see the module
/// docs). The result is valid UTF-8 and contains no control character.
pub(crate) fn text(input: &[u8], out: &mut Vec<u8>) {
    let mut run = 0;
    while let Some((i, special)) = next_special::<false>(input, run) {
        out.extend_from_slice(&input[run..i]);
        run = match special {
            Special::Ascii(b) => {
                match b {
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    _ => push_hex_byte(out, b"\\x", b),
                }
                i + 1
            }
            Special::Char(c, len) => {
                out.extend_from_slice(b"\\u{");
                push_hex_min(out, c);
                out.push(b'}');
                i + len
            }
            Special::Invalid(n) => {
                for &b in &input[i..i + n] {
                    push_hex_byte(out, b"\\x", b);
                }
                i + n
            }
        };
    }
    out.extend_from_slice(&input[run..]);
}

/// Appends `input` to `out` as the inside of a JSON string (RFC 8259): the
/// caller writes the quotes. Invalid UTF-8 becomes U+FFFD.
pub(crate) fn json(input: &[u8], out: &mut Vec<u8>) {
    let mut run = 0;
    while let Some((i, special)) = next_special::<true>(input, run) {
        out.extend_from_slice(&input[run..i]);
        run = match special {
            Special::Ascii(b) => {
                match b {
                    b'"' => out.extend_from_slice(b"\\\""),
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    0x08 => out.extend_from_slice(b"\\b"),
                    0x0C => out.extend_from_slice(b"\\f"),
                    _ => push_hex_byte(out, b"\\u00", b),
                }
                i + 1
            }
            Special::Char(c, len) => {
                // Every special character is in the Basic Multilingual Plane.
                out.extend_from_slice(b"\\u");
                for shift in (0..4).rev() {
                    out.push(HEX[((c >> (shift * 4)) & 0xF) as usize]);
                }
                i + len
            }
            Special::Invalid(n) => {
                out.extend_from_slice("\u{FFFD}".as_bytes());
                i + n
            }
        };
    }
    out.extend_from_slice(&input[run..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(input: &[u8]) -> String {
        let mut out = Vec::new();
        text(input, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn j(input: &[u8]) -> String {
        let mut out = Vec::new();
        json(input, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn text_plain_is_copied() {
        assert_eq!(t(b"hello world"), "hello world");
        assert_eq!(t("grüße, 東京 🎉".as_bytes()), "grüße, 東京 🎉");
        assert_eq!(t(br#"C:\path "quoted""#), r#"C:\path "quoted""#);
        assert_eq!(t(b""), "");
    }

    #[test]
    fn text_controls() {
        assert_eq!(t(b"a\nb\rc\td"), r"a\nb\rc\td");
        assert_eq!(t(b"\x1b[31mred\x1b[0m"), r"\x1b[31mred\x1b[0m");
        assert_eq!(t(b"\x00\x07\x7f"), r"\x00\x07\x7f");
        assert_eq!(t("\u{9b}31m".as_bytes()), r"\u{9b}31m");
        assert_eq!(t("\u{85}".as_bytes()), r"\u{85}");
        assert_eq!(t("a\u{2028}b\u{2029}".as_bytes()), r"a\u{2028}b\u{2029}");
        assert_eq!(t("\u{202e}evil".as_bytes()), r"\u{202e}evil");
    }

    #[test]
    fn text_invalid_utf8() {
        assert_eq!(t(b"a\xffb"), r"a\xffb");
        assert_eq!(t(b"\xe2\x82"), r"\xe2\x82");
        assert_eq!(t(b"\xe2\x82x"), r"\xe2\x82x");
        // Overlong encoding of '/', and an encoded surrogate.
        assert_eq!(t(b"\xc0\xaf"), r"\xc0\xaf");
        assert_eq!(t(b"\xed\xa0\x80"), r"\xed\xa0\x80");
        assert_eq!(t(b"\xf4\x90\x80\x80"), r"\xf4\x90\x80\x80");
        // Truncated 4-byte sequence at the end.
        assert_eq!(t(b"ok\xf0\x9f\x8e"), r"ok\xf0\x9f\x8e");
    }

    #[test]
    fn json_escapes() {
        assert_eq!(j(br#"say "hi" \o/"#), r#"say \"hi\" \\o/"#);
        assert_eq!(
            j(b"\n\r\t\x08\x0c\x00\x1b\x7f"),
            r"\n\r\t\b\f\u0000\u001b\u007f"
        );
        assert_eq!(
            j("\u{9b}\u{2028}\u{2029}\u{202e}".as_bytes()),
            r"\u009b\u2028\u2029\u202e"
        );
        assert_eq!(j("é 東 🎉".as_bytes()), "é 東 🎉");
        assert_eq!(j(b"a\xffb\xe2\x82"), "a\u{FFFD}b\u{FFFD}");
        // An overlong or surrogate lead and its continuation bytes: one
        // U+FFFD each, as `String::from_utf8_lossy` reads them.
        assert_eq!(
            j(b"\xe0\x80 \xf0\x80\x80"),
            "\u{FFFD}\u{FFFD} \u{FFFD}\u{FFFD}\u{FFFD}"
        );
        assert_eq!(j(b"\xed\xa0\x80"), "\u{FFFD}\u{FFFD}\u{FFFD}");
    }

    /// The text escaping, written the slow and obvious way.
    fn reference_text(input: &[u8]) -> String {
        let mut out = String::new();
        for chunk in input.utf8_chunks() {
            for c in chunk.valid().chars() {
                match c {
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if (c as u32) < 0x20 || c == '\x7f' => {
                        out.push_str(&format!("\\x{:02x}", c as u32));
                    }
                    c if is_special_char(c as u32) => {
                        out.push_str(&format!("\\u{{{:x}}}", c as u32))
                    }
                    c => out.push(c),
                }
            }
            for b in chunk.invalid() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        }
        out
    }

    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..64),
            prop::collection::vec(
                prop_oneof![0x1Fu8..=0x22, 0x5Bu8..=0x5D, 0x7Eu8..=0x81],
                0..40
            ),
            any::<String>().prop_map(String::into_bytes),
            "[ -~]{0,40}".prop_map(String::into_bytes),
        ]
    }

    proptest! {
        #[test]
        fn text_matches_reference(input in bytes()) {
            prop_assert_eq!(t(&input), reference_text(&input));
        }

        #[test]
        fn json_round_trips(input in any::<String>(), raw in bytes()) {
            let mut out = b"\"".to_vec();
            json(input.as_bytes(), &mut out);
            out.push(b'"');
            let back: String = serde_json::from_slice(&out).unwrap();
            prop_assert_eq!(back, input);
            // Invalid UTF-8 still gives a valid string.
            let mut out = b"\"".to_vec();
            json(&raw, &mut out);
            out.push(b'"');
            let back: String = serde_json::from_slice(&out).unwrap();
            prop_assert_eq!(back, String::from_utf8_lossy(&raw));
        }

        #[test]
        fn word_check_matches_bytes(w in any::<u64>(), pick in prop::collection::vec(0x1Eu8..=0x80, 8)) {
            for w in [w, u64::from_le_bytes(pick.clone().try_into().unwrap())] {
                let b = w.to_le_bytes();
                let text_plain = b.iter().all(|&b| (0x20..0x7F).contains(&b));
                let json_plain = text_plain && !b.contains(&b'"') && !b.contains(&b'\\');
                prop_assert_eq!(word_is_plain::<false>(w), text_plain, "{:x?}", b);
                prop_assert_eq!(word_is_plain::<true>(w), json_plain, "{:x?}", b);
            }
        }
    }

    #[test]
    fn decode_agrees_with_std() {
        // Every 1- and 2-byte input, and a sample of 3-byte inputs.
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        for a in 0x80..=0xFFu8 {
            inputs.push(vec![a]);
            for b in 0..=0xFFu8 {
                inputs.push(vec![a, b]);
                inputs.push(vec![a, b, 0x80]);
                inputs.push(vec![a, b, 0xBF, 0x80]);
            }
        }
        for s in inputs {
            let std_ok = std::str::from_utf8(&s)
                .ok()
                .or_else(|| {
                    let e = std::str::from_utf8(&s).unwrap_err();
                    std::str::from_utf8(&s[..e.valid_up_to()])
                        .ok()
                        .filter(|v| !v.is_empty())
                })
                .and_then(|v| v.chars().next());
            match decode(&s) {
                Ok((c, len)) => {
                    let ch = std_ok.unwrap_or_else(|| panic!("{s:x?}"));
                    assert_eq!((ch as u32, ch.len_utf8()), (c, len), "{s:x?}");
                }
                Err(n) => {
                    assert!(std_ok.is_none(), "{s:x?}");
                    // The maximal invalid subpart, as std measures it.
                    let e = std::str::from_utf8(&s).unwrap_err();
                    assert_eq!(e.valid_up_to(), 0, "{s:x?}");
                    assert_eq!(n, e.error_len().map_or(s.len(), usize::from), "{s:x?}");
                }
            }
        }
    }
}
