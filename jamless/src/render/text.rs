//! The text format: a pattern of literal text and placeholders.
//!
//! A pattern is parsed once, when the format is built, into a list of
//! pieces; rendering walks the list and appends each piece to the output
//! buffer. See [`crate::render::Format`] for the placeholders and the text
//! forms of fields and spans.

use crate::level::Level;
use crate::record::{Item, RecordView, Value};
use crate::Error;

use super::escape;
use super::time::TimeFormatter;
use super::{marker_truncated, strip_line_end};

/// What a placeholder stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Timestamp,
    Thread,
    Target,
    Module,
    File,
    Line,
    Message,
    Fields,
    Spans,
}

impl Slot {
    /// The slot named `name`; `{level}` is not a slot but a
    /// [`Piece::Level`], padded when the pattern is built.
    fn from_name(name: &str) -> Option<Slot> {
        Some(match name {
            "timestamp" => Slot::Timestamp,
            "thread" => Slot::Thread,
            "target" => Slot::Target,
            "module" => Slot::Module,
            "file" => Slot::File,
            "line" => Slot::Line,
            "message" => Slot::Message,
            "fields" => Slot::Fields,
            "spans" => Slot::Spans,
            _ => return None,
        })
    }
}

/// Padding of a placeholder to a minimum width in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pad {
    width: u16,
    right: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(Box<str>),
    Slot(Slot, Option<Pad>),
    /// `{level}` with its padding applied once, when the pattern is
    /// built: the five names as they render, in [`Level::ALL`] order.
    Level(Box<[Box<str>; 5]>),
}

impl Piece {
    /// The piece for `{level}` padded with `pad`.
    fn level(pad: Option<Pad>) -> Piece {
        Piece::Level(Box::new(Level::ALL.map(|level| {
            let mut out = level.as_str().as_bytes().to_vec();
            if let Some(pad) = pad {
                apply_pad(pad, 0, &mut out);
            }
            String::from_utf8_lossy(&out).into()
        })))
    }
}

/// A parsed text pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    pieces: Vec<Piece>,
    /// `{spans}` appears, so `{fields}` leaves the spans out.
    has_spans: bool,
}

/// Longest padding width accepted in a pattern.
const MAX_PAD: u16 = 1024;

impl Pattern {
    /// The default pattern,
    /// `{timestamp} {level:<5} [{thread}] {target}: {message}{fields}`, built
    /// without parsing (a unit test checks it against the parser).
    pub(crate) fn standard() -> Pattern {
        let lit = |s: &str| Piece::Literal(s.into());
        Pattern {
            pieces: vec![
                Piece::Slot(Slot::Timestamp, None),
                lit(" "),
                Piece::level(Some(Pad {
                    width: 5,
                    right: false,
                })),
                lit(" ["),
                Piece::Slot(Slot::Thread, None),
                lit("] "),
                Piece::Slot(Slot::Target, None),
                lit(": "),
                Piece::Slot(Slot::Message, None),
                Piece::Slot(Slot::Fields, None),
            ],
            has_spans: false,
        }
    }

    /// Parses a pattern; see [`crate::render::Format::text_pattern`].
    pub(crate) fn parse(pattern: &str) -> Result<Pattern, Error> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut chars = pattern.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|&(_, c)| c) == Some('{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().map(|&(_, c)| c) == Some('}') => {
                    chars.next();
                    literal.push('}');
                }
                '}' => {
                    return Err(Error::config(format!(
                        "pattern {pattern:?}: unmatched `}}` at byte {at} (write `}}}}` for a literal brace)"
                    )))
                }
                '{' => {
                    let rest = &pattern[at + 1..];
                    let Some(end) = rest.find('}') else {
                        return Err(Error::config(format!(
                            "pattern {pattern:?}: unclosed `{{` at byte {at} (write `{{{{` for a literal brace)"
                        )));
                    };
                    let inner = &rest[..end];
                    for _ in 0..inner.chars().count() + 1 {
                        chars.next();
                    }
                    if !literal.is_empty() {
                        pieces.push(Piece::Literal(std::mem::take(&mut literal).into()));
                    }
                    pieces.push(parse_placeholder(pattern, inner)?);
                }
                c if c.is_control() || escape::is_special_char(c as u32) => {
                    return Err(Error::config(format!(
                        "pattern {pattern:?}: control character {c:?} at byte {at}; \
                         a pattern must render as one line"
                    )))
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal.into()));
        }
        let has_spans = pieces
            .iter()
            .any(|p| matches!(p, Piece::Slot(Slot::Spans, _)));
        Ok(Pattern { pieces, has_spans })
    }
}

fn parse_placeholder(pattern: &str, inner: &str) -> Result<Piece, Error> {
    let (name, spec) = match inner.split_once(':') {
        Some((name, spec)) => (name, Some(spec)),
        None => (inner, None),
    };
    let name = name.trim();
    let slot = Slot::from_name(name);
    if slot.is_none() && name != "level" {
        return Err(Error::config(format!(
            "pattern {pattern:?}: unknown placeholder `{{{inner}}}`; expected one of \
             timestamp, level, thread, target, module, file, line, message, fields, spans"
        )));
    }
    let pad = match spec {
        None => None,
        Some(spec) => {
            let (right, digits) = match spec.as_bytes().first() {
                Some(b'<') => (false, &spec[1..]),
                Some(b'>') => (true, &spec[1..]),
                _ => (false, spec),
            };
            let width = digits
                .parse::<u16>()
                .ok()
                .filter(|w| *w <= MAX_PAD)
                .ok_or_else(|| {
                    Error::config(format!(
                        "pattern {pattern:?}: bad padding `{{{inner}}}`; expected `:<N` or `:>N` \
                         with N at most {MAX_PAD}"
                    ))
                })?;
            Some(Pad { width, right })
        }
    };
    Ok(match slot {
        Some(slot) => Piece::Slot(slot, pad),
        None => Piece::level(pad),
    })
}

/// Renders a raw line ([`Kind::Raw`](crate::record::Kind::Raw)): the
/// pattern does not apply.
pub(crate) fn render_raw(rec: &RecordView<'_>, out: &mut Vec<u8>) {
    escape::text(strip_line_end(rec.message()), out);
    if rec.truncated() {
        marker_truncated(rec.orig_len, out);
    }
    out.push(b'\n');
}

/// Renders one event as one text line.
pub(crate) fn render(
    pattern: &Pattern,
    time: &mut TimeFormatter,
    rec: &RecordView<'_>,
    out: &mut Vec<u8>,
) {
    for piece in &pattern.pieces {
        match piece {
            Piece::Literal(s) => out.extend_from_slice(s.as_bytes()),
            Piece::Level(names) => out.extend_from_slice(names[rec.level.index()].as_bytes()),
            Piece::Slot(slot, pad) => {
                let start = out.len();
                render_slot(*slot, pattern.has_spans, time, rec, out);
                if let Some(pad) = pad {
                    apply_pad(*pad, start, out);
                }
            }
        }
    }
    out.push(b'\n');
}

fn render_slot(
    slot: Slot,
    has_spans: bool,
    time: &mut TimeFormatter,
    rec: &RecordView<'_>,
    out: &mut Vec<u8>,
) {
    match slot {
        Slot::Timestamp => time.write(rec.timestamp_ns, out),
        Slot::Thread => {
            if rec.thread_name.is_empty() {
                out.push(b'#');
                out.extend_from_slice(itoa::Buffer::new().format(rec.thread_id).as_bytes());
            } else {
                escape::text(rec.thread_name, out);
            }
        }
        Slot::Target => escape::text(rec.target, out),
        Slot::Module => escape::text(rec.module_path, out),
        Slot::File => escape::text(rec.file, out),
        Slot::Line => {
            if let Some(line) = rec.line {
                out.extend_from_slice(itoa::Buffer::new().format(line).as_bytes());
            }
        }
        Slot::Message => {
            escape::text(rec.message(), out);
            if rec.truncated() {
                marker_truncated(rec.orig_len, out);
            }
        }
        Slot::Fields => fields(rec, !has_spans, out),
        Slot::Spans => spans(rec, out),
    }
}

/// Pads what was appended since `start` to the width in characters.
fn apply_pad(pad: Pad, start: usize, out: &mut Vec<u8>) {
    let chars = out[start..].iter().filter(|&&b| b & 0xC0 != 0x80).count();
    let missing = usize::from(pad.width).saturating_sub(chars);
    if missing == 0 {
        return;
    }
    out.resize(out.len() + missing, b' ');
    if pad.right {
        out[start..].rotate_right(missing);
    }
}

fn value(v: Value<'_>, out: &mut Vec<u8>) {
    match v {
        Value::Str(s) => escape::text(s, out),
        Value::I64(n) => out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes()),
        Value::U64(n) => out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes()),
        Value::F64(f) => super::push_float(f, out),
        Value::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
    }
}

/// ` key=value` for each event field, then (if `with_spans`) the span chain
/// as ` span=outer{k=v}>inner`.
pub(super) fn fields(rec: &RecordView<'_>, with_spans: bool, out: &mut Vec<u8>) {
    for item in rec.items() {
        match item {
            Ok(Item::Field(key, v)) => {
                out.push(b' ');
                escape::text(key, out);
                out.push(b'=');
                value(v, out);
            }
            Ok(Item::Span(_)) => {
                // Event fields come first: the rest belongs to spans.
                if with_spans {
                    out.extend_from_slice(b" span=");
                    if span_chain(rec, out).1 {
                        out.extend_from_slice(MALFORMED);
                    }
                }
                return;
            }
            Err(_) => {
                out.extend_from_slice(MALFORMED);
                return;
            }
        }
    }
}

const MALFORMED: &[u8] = " \u{2026}[malformed fields]".as_bytes();

/// The span chain `outer{k=v}>inner: `, or nothing without spans.
fn spans(rec: &RecordView<'_>, out: &mut Vec<u8>) {
    let (any, malformed) = span_chain(rec, out);
    if malformed {
        out.extend_from_slice(MALFORMED);
    }
    if any {
        out.extend_from_slice(b": ");
    }
}

/// Writes the spans as `outer{k=v}>inner`, outermost first. Returns whether
/// there was a span, and whether a malformed item followed one (one before
/// any span is for [`fields`] to mark).
fn span_chain(rec: &RecordView<'_>, out: &mut Vec<u8>) -> (bool, bool) {
    let mut in_span = false;
    let mut braces_open = false;
    for item in rec.items() {
        match item {
            Ok(Item::Field(..)) if !in_span => {}
            Ok(Item::Field(key, v)) => {
                out.push(if braces_open { b' ' } else { b'{' });
                braces_open = true;
                escape::text(key, out);
                out.push(b'=');
                value(v, out);
            }
            Ok(Item::Span(name)) => {
                if braces_open {
                    out.push(b'}');
                }
                if in_span {
                    out.push(b'>');
                }
                escape::text(name, out);
                in_span = true;
                braces_open = false;
            }
            Err(_) => {
                if braces_open {
                    out.push(b'}');
                }
                return (in_span, in_span);
            }
        }
    }
    if braces_open {
        out.push(b'}');
    }
    (in_span, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_default() {
        let p = Pattern::parse(super::super::DEFAULT_PATTERN).unwrap();
        assert_eq!(p, Pattern::standard());
    }

    #[test]
    fn parse_escapes_and_errors() {
        let p = Pattern::parse("{{x}} {message:>3}}}").unwrap();
        assert_eq!(
            p.pieces,
            vec![
                Piece::Literal("{x} ".into()),
                Piece::Slot(
                    Slot::Message,
                    Some(Pad {
                        width: 3,
                        right: true
                    })
                ),
                Piece::Literal("}".into()),
            ]
        );
        for bad in [
            "{nope}",
            "{message",
            "message}",
            "{level:<x}",
            "{level:<99999}",
            "a\nb",
            "\u{1b}[1m{message}",
            "{}",
        ] {
            let e = Pattern::parse(bad).unwrap_err();
            assert!(e.is_config(), "{bad:?}");
        }
        assert!(Pattern::parse("").unwrap().pieces.is_empty());
        assert!(Pattern::parse("é {level} 東").is_ok());
    }

    #[test]
    fn padding_counts_characters() {
        let mut out = b"ab".to_vec();
        apply_pad(
            Pad {
                width: 4,
                right: false,
            },
            0,
            &mut out,
        );
        assert_eq!(out, b"ab  ");
        let mut out = "x é".as_bytes().to_vec();
        apply_pad(
            Pad {
                width: 5,
                right: true,
            },
            2,
            &mut out,
        );
        assert_eq!(out, "x     é".as_bytes());
        let mut out = b"toolong".to_vec();
        apply_pad(
            Pad {
                width: 3,
                right: true,
            },
            0,
            &mut out,
        );
        assert_eq!(out, b"toolong");
    }
}
