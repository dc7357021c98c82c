//! The JSON format: one object per line, with Elastic Common Schema names.
//!
//! Written by hand into the output buffer (no serializer, no allocation);
//! the shape is documented on [`crate::render::Format::json`]. Every string
//! goes through [`escape::json`], so the line is valid JSON whatever the
//! record holds, and numbers are written with `itoa` and `ryu` (or by hand
//! for short decimals).

use crate::record::{Item, RecordView, Value};

use super::json_keys::Seen;
use super::time::TimeFormatter;
use super::{escape, marker_truncated, passthrough, strip_line_end};

/// The ECS version the field names follow.
pub(crate) const ECS_VERSION: &str = "8.11";

/// Keys jamless writes at the top level. An event field whose key equals
/// one of these, or would make one of them an object or a leaf of the other
/// (`log`, `message.x`), is written as `fields.<key>` instead, so the line
/// has no duplicate key and Elasticsearch no mapping conflict.
pub(super) const RESERVED: &[&[u8]] = &[
    b"@timestamp",
    b"log.level",
    b"message",
    b"ecs.version",
    b"log.logger",
    b"log.module",
    b"log.origin.file.name",
    b"log.origin.file.line",
    b"process.thread.name",
    b"process.thread.id",
    b"spans",
    b"jamless.truncated",
    b"jamless.original_size",
    b"jamless.malformed_fields",
];

/// The key jamless writes in each span object.
const SPAN_RESERVED: &[&[u8]] = &[b"name"];

/// The part of a dotted key before its first dot.
fn first_segment(key: &[u8]) -> &[u8] {
    match key.iter().position(|&b| b == b'.') {
        Some(dot) => &key[..dot],
        None => key,
    }
}

/// Whether an event field's key clashes with [`RESERVED`]. A clash needs
/// the same first segment, so one `match` settles nearly every key.
fn collides_top(key: &[u8]) -> bool {
    matches!(
        first_segment(key),
        b"@timestamp" | b"log" | b"message" | b"ecs" | b"process" | b"spans" | b"jamless"
    ) && collides(key, RESERVED)
}

/// Whether a span field's key clashes with [`SPAN_RESERVED`].
fn collides_span(key: &[u8]) -> bool {
    collides(key, SPAN_RESERVED)
}

/// Whether `key` would clash with one of `reserved` (see [`RESERVED`]).
pub(super) fn collides(key: &[u8], reserved: &[&[u8]]) -> bool {
    // Comparing the first byte first skips nearly every memcmp.
    reserved.iter().any(|r| {
        key.first() == r.first()
            && (key == *r
                || (r.len() > key.len() && r.starts_with(key) && r[key.len()] == b'.')
                || (key.len() > r.len() && key.starts_with(r) && key[r.len()] == b'.'))
    })
}

fn string(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    escape::json(s, out);
    out.push(b'"');
}

/// `,"key":` for a field, renamed to `fields.key` on a clash and given a
/// suffix if its object already holds that key (see [`Seen`]).
fn field_key(key: &[u8], clash: bool, seen: &mut Seen, out: &mut Vec<u8>) {
    out.extend_from_slice(b",\"");
    let start = out.len();
    if clash {
        out.extend_from_slice(b"fields.");
    }
    escape::json(key, out);
    seen.claim(out, start);
    out.extend_from_slice(b"\":");
}

fn value(v: Value<'_>, out: &mut Vec<u8>) {
    match v {
        Value::Str(s) => string(s, out),
        Value::I64(n) => out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes()),
        Value::U64(n) => out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes()),
        Value::F64(f) if f.is_finite() => super::push_float(f, out),
        Value::F64(f) => {
            out.push(b'"');
            super::push_float(f, out);
            out.push(b'"');
        }
        Value::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
    }
}

/// Renders a raw line ([`Kind::Raw`](crate::record::Kind::Raw)): as it
/// is if it already is one clean JSON object, else as the message of one.
pub(crate) fn render_raw(time: &mut TimeFormatter, rec: &RecordView<'_>, out: &mut Vec<u8>) {
    let line = strip_line_end(rec.message());
    if !rec.truncated() && passthrough::is_clean_object(line) {
        out.extend_from_slice(line);
        out.push(b'\n');
        return;
    }
    object(time, rec, line, out);
}

/// Renders one event as one JSON line.
pub(crate) fn render(time: &mut TimeFormatter, rec: &RecordView<'_>, out: &mut Vec<u8>) {
    object(time, rec, rec.message(), out);
}

fn object(time: &mut TimeFormatter, rec: &RecordView<'_>, message: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"@timestamp\":\"");
    time.write(rec.timestamp_ns, out);
    out.extend_from_slice(b"\",\"log.level\":\"");
    out.extend_from_slice(rec.level.as_lower_str().as_bytes());
    out.extend_from_slice(b"\",\"message\":\"");
    escape::json(message, out);
    if rec.truncated() {
        // The marker is plain text: nothing in it needs JSON escaping.
        marker_truncated(rec.orig_len, out);
    }
    out.extend_from_slice(b"\",\"ecs.version\":\"");
    out.extend_from_slice(ECS_VERSION.as_bytes());
    out.push(b'"');
    if !rec.target.is_empty() {
        out.extend_from_slice(b",\"log.logger\":");
        string(rec.target, out);
    }
    if !rec.module_path.is_empty() && rec.module_path != rec.target {
        out.extend_from_slice(b",\"log.module\":");
        string(rec.module_path, out);
    }
    if !rec.file.is_empty() {
        out.extend_from_slice(b",\"log.origin.file.name\":");
        string(rec.file, out);
    }
    if let Some(line) = rec.line {
        out.extend_from_slice(b",\"log.origin.file.line\":");
        out.extend_from_slice(itoa::Buffer::new().format(line).as_bytes());
    }
    if !rec.thread_name.is_empty() {
        out.extend_from_slice(b",\"process.thread.name\":");
        string(rec.thread_name, out);
    }
    out.extend_from_slice(b",\"process.thread.id\":");
    out.extend_from_slice(itoa::Buffer::new().format(rec.thread_id).as_bytes());
    if rec.truncated() {
        out.extend_from_slice(b",\"jamless.truncated\":true,\"jamless.original_size\":");
        out.extend_from_slice(itoa::Buffer::new().format(rec.orig_len).as_bytes());
    }
    items(rec, out);
    out.extend_from_slice(b"}\n");
}

/// Event fields as top-level keys, then `"spans":[{"name":..,k:v},..]`.
fn items(rec: &RecordView<'_>, out: &mut Vec<u8>) {
    let mut in_span = false;
    let mut seen = Seen::new();
    for item in rec.items() {
        match item {
            Ok(Item::Field(key, v)) => {
                let clash = if in_span {
                    collides_span(key)
                } else {
                    collides_top(key)
                };
                field_key(key, clash, &mut seen, out);
                value(v, out);
            }
            Ok(Item::Span(name)) => {
                out.extend_from_slice(if in_span {
                    b"},{\"name\":".as_slice()
                } else {
                    b",\"spans\":[{\"name\":".as_slice()
                });
                string(name, out);
                in_span = true;
                seen.clear();
            }
            Err(_) => {
                if in_span {
                    out.extend_from_slice(b"}]");
                }
                out.extend_from_slice(b",\"jamless.malformed_fields\":true");
                return;
            }
        }
    }
    if in_span {
        out.extend_from_slice(b"}]");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collisions() {
        for k in [
            "message",
            "log",
            "log.origin",
            "log.level.x",
            "process",
            "process.thread.id",
            "spans",
            "spans.x",
            "@timestamp",
            "jamless",
            "ecs",
        ] {
            assert!(collides(k.as_bytes(), RESERVED), "{k}");
        }
        for k in [
            "msg",
            "messages",
            "log.origin.function",
            "log.levels",
            "user.id",
            "process.pid",
            "",
            "l",
            "lo",
        ] {
            assert!(!collides(k.as_bytes(), RESERVED), "{k}");
        }
        assert!(collides(b"name", SPAN_RESERVED));
        assert!(!collides(b"message", SPAN_RESERVED));
    }

    #[test]
    fn fast_checks_agree() {
        let mut keys: Vec<Vec<u8>> = Vec::new();
        for r in RESERVED.iter().chain(SPAN_RESERVED) {
            for cut in 0..=r.len() {
                keys.push(r[..cut].to_vec());
                keys.push([&r[..cut], b".x"].concat());
                keys.push([&r[..cut], b"x"].concat());
            }
        }
        keys.extend([
            b"user.id".to_vec(),
            b"".to_vec(),
            b".".to_vec(),
            b"..".to_vec(),
        ]);
        for k in &keys {
            assert_eq!(
                collides_top(k),
                collides(k, RESERVED),
                "{}",
                String::from_utf8_lossy(k)
            );
            assert_eq!(
                collides_span(k),
                collides(k, SPAN_RESERVED),
                "{}",
                String::from_utf8_lossy(k)
            );
        }
    }

    #[test]
    fn values() {
        let cases: &[(Value<'_>, &str)] = &[
            (Value::Str(b"a\"b"), r#""a\"b""#),
            (Value::I64(-42), "-42"),
            (Value::U64(u64::MAX), "18446744073709551615"),
            (Value::F64(1.5), "1.5"),
            (Value::F64(1e300), "1e300"),
            (Value::F64(f64::NAN), r#""NaN""#),
            (Value::F64(f64::NEG_INFINITY), r#""-inf""#),
            (Value::Bool(true), "true"),
        ];
        for (v, want) in cases {
            let mut out = Vec::new();
            value(*v, &mut out);
            assert_eq!(std::str::from_utf8(&out).unwrap(), *want);
            let _: serde_json::Value = serde_json::from_slice(&out).unwrap();
        }
    }
}
