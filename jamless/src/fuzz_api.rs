//! Entry points for the fuzz targets in `fuzz/` (cargo feature `fuzzing`,
//! off by default; not part of the API and not semver-stable).
//!
//! Each function is a thin, safe wrapper around a crate-internal piece that
//! a caller cannot reach through the public API with arbitrary input: the
//! record decoder, the renderers fed with any decoded record, the record
//! encoder as the caller path uses it, and the filter parsers exactly as
//! the adapters call them. The invariants the fuzzers check live in the
//! targets, not here.

use crate::level::Level;
use crate::record::{Encoder, Head, Kind, Meta, Pending, RecordView, Value};
use crate::render::{Format, Renderer};

/// Decodes `bytes` as a record and walks its items. Returns `None` if the
/// header is malformed, else the number of items that decoded (a malformed
/// tail ends the walk). Must never panic, whatever `bytes` hold.
pub fn decode(bytes: &[u8]) -> Option<usize> {
    let view = RecordView::parse(bytes).ok()?;
    let _ = (view.message(), view.truncated());
    Some(view.items().take_while(Result::is_ok).count())
}

/// What the renderers were given: a decoded record's message and flags.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    /// A raw line (the `MakeWriter` path) rather than a structured event.
    pub raw: bool,
    /// A native macro call: the renderer formats its message from the
    /// call site and arguments (or says it cannot), so `message` is not
    /// the rendered message.
    pub native: bool,
    /// The message bytes as stored (possibly invalid UTF-8).
    pub message: &'a [u8],
    /// The record's size before it was cut, if it was.
    pub truncated_from: Option<u32>,
}

/// Decodes the header of `bytes`; `None` if it is malformed.
pub fn view(bytes: &[u8]) -> Option<View<'_>> {
    let v = RecordView::parse(bytes).ok()?;
    Some(View {
        raw: v.kind == Kind::Raw,
        native: v.kind == Kind::Native,
        message: v.message(),
        truncated_from: v.truncated().then_some(v.orig_len),
    })
}

/// Renders the record in `bytes` with `format` and returns
/// the output; `None` if the record does not decode. Builds a fresh
/// renderer per call, as the writer thread does once.
pub fn render(format: &Format, bytes: &[u8]) -> Option<Vec<u8>> {
    let rec = RecordView::parse(bytes).ok()?;
    let mut renderer = Renderer::new(format).ok()?;
    let mut out = Vec::new();
    renderer.render(&rec, &mut out);
    Some(out)
}

/// A field value for [`Input`].
#[derive(Debug, Clone, Copy)]
pub enum FieldValue<'a> {
    /// A string (any bytes).
    Str(&'a [u8]),
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A float (any bits, NaN and infinities included).
    F64(f64),
    /// A boolean.
    Bool(bool),
}

/// What follows the message in a record.
#[derive(Debug, Clone, Copy)]
pub enum InputItem<'a> {
    /// A field of the event, or of the last span started.
    Field(&'a str, FieldValue<'a>),
    /// A span; the fields that follow belong to it.
    Span(&'a str),
}

/// A record as a facade would hand it over.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    /// A raw line (the `MakeWriter` path) rather than a structured event.
    pub raw: bool,
    /// Level, 1 (`ERROR`) to 5 (`TRACE`); anything else is `INFO`.
    pub level: u8,
    /// Nanoseconds since the Unix epoch.
    pub timestamp_ns: u64,
    /// The caller thread's id.
    pub thread_id: u64,
    /// The caller thread's name.
    pub thread_name: &'a str,
    /// The target.
    pub target: &'a str,
    /// The module path.
    pub module_path: &'a str,
    /// The source file.
    pub file: &'a str,
    /// The source line.
    pub line: Option<u32>,
    /// The message bytes.
    pub message: &'a [u8],
    /// Fields and spans after the message.
    pub items: &'a [InputItem<'a>],
    /// The logger's maximum record size (the record is cut to it, as the
    /// caller path does), or no limit.
    pub max_record: Option<usize>,
}

/// Encodes `input` the way the caller path does (body into a buffer, cut
/// to the maximum record size, then head and body written together) and
/// returns the record's bytes.
pub fn encode(input: &Input<'_>) -> Vec<u8> {
    let meta = Meta {
        kind: if input.raw { Kind::Raw } else { Kind::Event },
        level: Level::from_u8(input.level).unwrap_or(Level::Info),
        timestamp_ns: input.timestamp_ns,
        thread_id: input.thread_id,
        thread_name: input.thread_name,
        target: input.target,
        module_path: input.module_path,
        file: input.file,
        line: input.line,
    };
    let mut body = Vec::new();
    let mut enc = Encoder::body(&mut body);
    enc.message_bytes(input.message);
    for item in input.items {
        match *item {
            InputItem::Field(key, value) => enc.field(
                key,
                match value {
                    FieldValue::Str(s) => Value::Str(s),
                    FieldValue::I64(v) => Value::I64(v),
                    FieldValue::U64(v) => Value::U64(v),
                    FieldValue::F64(v) => Value::F64(v),
                    FieldValue::Bool(v) => Value::Bool(v),
                },
            ),
            InputItem::Span(name) => enc.span(name),
        }
    }
    let msg_len = enc.finish_body();
    let mut rec = Pending::new(Head::new(&meta), &body, msg_len);
    if let Some(max) = input.max_record {
        rec.truncate(max);
    }
    let mut out = vec![0; rec.len()];
    rec.write(&mut out);
    out
}

/// Parses `RUST_LOG`-style directives as [`crate::Logger::log_adapter`]
/// does: the `env_filter` filter, and the single global level the adapter
/// then checks instead of calling the filter (`None` if the directives are
/// more than one global level).
#[cfg(feature = "log")]
pub fn log_filter(
    spec: &str,
) -> Result<(env_filter::Filter, Option<log::LevelFilter>), crate::Error> {
    crate::facade::log_filter_parts(spec)
}

/// Parses directives as [`crate::Logger::tracing_filter`] does.
#[cfg(feature = "tracing")]
pub fn tracing_filter(spec: &str) -> Result<tracing_subscriber::EnvFilter, crate::Error> {
    crate::facade::parse_tracing_filter(spec)
}
