//! The invariants the jamless fuzz targets check, shared by the targets.
//!
//! * A text line is exactly one line: it ends in `\n`, holds no other line
//!   break, is valid UTF-8 and carries no control character, no Unicode line
//!   or paragraph separator and no bidi control.
//! * A JSON line is one line, free of the same characters (escaped), parses
//!   with `serde_json` as an object, and its `message` is the record's
//!   message: the bytes as `String::from_utf8_lossy` reads them, plus the
//!   truncation marker if the record was cut. A raw line that is already a
//!   clean JSON object may instead be passed through unchanged.

use jamless::__fuzz::View;
use serde_json::Value;

/// Characters no rendered line may carry raw.
pub fn forbidden(c: char) -> bool {
    c.is_control() || matches!(c as u32, 0x2028 | 0x2029 | 0x202A..=0x202E | 0x2066..=0x2069)
}

/// The body of a line: `out` without its final `\n`, checked to be one
/// line of clean UTF-8.
#[track_caller]
pub fn one_clean_line(out: &[u8]) -> &str {
    assert!(
        out.ends_with(b"\n"),
        "line does not end in a newline: {:?}",
        String::from_utf8_lossy(out)
    );
    let body = &out[..out.len() - 1];
    let text = std::str::from_utf8(body).unwrap_or_else(|e| panic!("line is not UTF-8: {e}"));
    if let Some(c) = text.chars().find(|&c| forbidden(c)) {
        panic!("raw {c:?} in line {text:?}");
    }
    text
}

/// Checks a text line.
#[track_caller]
pub fn check_text(out: &[u8]) {
    one_clean_line(out);
}

/// A raw line without one trailing `\n` or `\r\n`, as the renderers take it.
pub fn strip_line_end(line: &[u8]) -> &[u8] {
    match line {
        [rest @ .., b'\r', b'\n'] | [rest @ .., b'\n'] => rest,
        _ => line,
    }
}

/// The `message` a JSON line must carry for `view`.
pub fn expected_message(view: &View<'_>) -> String {
    let msg = if view.raw {
        strip_line_end(view.message)
    } else {
        view.message
    };
    let mut s = String::from_utf8_lossy(msg).into_owned();
    if let Some(n) = view.truncated_from {
        s.push_str(&format!(" \u{2026}[truncated from {n} bytes]"));
    }
    s
}

/// Checks a JSON line against the record it was rendered from; returns the
/// parsed object, or `None` for a raw line passed through unchanged.
#[track_caller]
pub fn check_json(out: &[u8], view: &View<'_>) -> Option<serde_json::Map<String, Value>> {
    let text = one_clean_line(out);
    let parsed: Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("JSON line does not parse ({e}): {text:?}"));
    let Value::Object(obj) = parsed else {
        panic!("JSON line is not an object: {text:?}");
    };
    if view.raw && view.truncated_from.is_none() && text.as_bytes() == strip_line_end(view.message)
    {
        return None;
    }
    let message = obj.get("message").and_then(Value::as_str);
    if view.native {
        // Formatted from a call site this process never registered (or
        // reported as malformed): any string, but a string.
        assert!(message.is_some(), "no message: {text:?}");
        return Some(obj);
    }
    assert_eq!(
        message,
        Some(expected_message(view).as_str()),
        "message does not round-trip: {text:?}"
    );
    Some(obj)
}
