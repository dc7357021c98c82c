//! The `tracing` adapter: a `tracing-subscriber` layer.
//!
//! [`JamlessLayer`] turns each event into one record: level, target, module
//! path, file and line from the event's metadata, its `message` field as
//! the message, its other fields as typed fields, and then the spans it is
//! in, root first, each with its own fields.
//!
//! Span fields are encoded once, when the span is created or records a
//! value, into a compact buffer kept in the span's extensions (one
//! allocation per span); each event copies them from there, so an event
//! allocates nothing. Reading a span's extensions takes the registry's
//! uncontended read lock, as every span-aware layer does.

use std::fmt;

use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::{LookupSpan, SpanRef};
use tracing_subscriber::EnvFilter;

use crate::error::Error;
use crate::level::Level;
use crate::logger::Logger;
use crate::record::{Encoder, Kind, Site, Value, VecWriter};

/// Spans nested deeper than this keep only their innermost spans in a
/// record, which bounds the recursion. The outermost are left out, and the
/// record says how many: its first span is then [`SPANS_OMITTED`] with a
/// `count` field.
const MAX_SPAN_DEPTH: usize = 64;

/// The name of the span that stands for the outer spans a record leaves
/// out: a record keeps its 64 innermost spans, and when there are more,
/// its first span is this one, with a `count` field saying how many were
/// left out.
pub const SPANS_OMITTED: &str = "jamless.spans_omitted";

/// A [`Layer`] that sends `tracing` events, with their spans and fields, to
/// a [`Logger`].
///
/// The layer itself records every event it is given; filter it with the
/// logger's directives through [`Logger::tracing_filter`] (a
/// [`JamlessFilter`](crate::JamlessFilter), which follows
/// [`Logger::set_filter`]) as a per-layer filter, so other layers are
/// unaffected:
///
/// ```no_run
/// use tracing_subscriber::prelude::*;
///
/// let (logger, _guard) = jamless::Builder::new()
///     .file("logs/app.log")
///     .filter("info,my_app::db=debug")
///     .build()?;
/// tracing_subscriber::registry()
///     .with(logger.tracing_layer().with_filter(logger.tracing_filter()?))
///     .init();
///
/// let span = tracing::info_span!("request", id = 7, path = "/login");
/// let _entered = span.enter();
/// tracing::info!(status = 200, elapsed_ms = 3.5, "done");
/// # Ok::<(), jamless::Error>(())
/// ```
///
/// Field types are kept: `i64`, `u64`, `f64`, `bool` and `&str` values are
/// typed fields; anything else is written with its `Debug` (errors with
/// their `Display`). Events that the `tracing-log` bridge makes from `log`
/// records carry their metadata in fields; install [`Logger::install_log`]
/// for the `log` crate instead.
#[derive(Debug, Clone)]
pub struct JamlessLayer {
    logger: Logger,
}

impl<S> Layer<S> for JamlessLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        // Another jamless layer (of another logger) may have recorded the
        // same fields already; they are identical.
        if ext.get_mut::<SpanFields>().is_some() {
            return;
        }
        let mut fields = SpanFields::default();
        attrs.record(&mut SpanRecorder {
            fields: &mut fields,
            replace: false,
        });
        ext.insert(fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        // A recorded value replaces the field's old value, so recording
        // twice (or from two jamless layers) keeps one entry per field.
        match ext.get_mut::<SpanFields>() {
            Some(fields) => values.record(&mut SpanRecorder {
                fields,
                replace: true,
            }),
            None => {
                let mut fields = SpanFields::default();
                values.record(&mut SpanRecorder {
                    fields: &mut fields,
                    replace: true,
                });
                ext.insert(fields);
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let m = event.metadata();
        let level = Level::from(*m.level());
        let site = Site {
            target: m.target(),
            module_path: m.module_path().unwrap_or(""),
            file: m.file().unwrap_or(""),
            line: m.line(),
        };
        self.logger.core.submit(level, Kind::Event, site, |enc| {
            encode_event(enc, event, &ctx)
        });
    }
}

/// Encodes the body of one event (message, fields, then its span scope).
pub(crate) fn encode_event<S>(enc: &mut Encoder<'_>, event: &Event<'_>, ctx: &Context<'_, S>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    // The macros put `message` first, so one pass usually does. If it comes
    // after another field, encode again: the message first, then the rest.
    let mut one = EventVisitor::new(enc, Pass::All);
    event.record(&mut one);
    if one.late_message {
        enc.restart();
        event.record(&mut EventVisitor::new(enc, Pass::MessageOnly));
        event.record(&mut EventVisitor::new(enc, Pass::FieldsOnly));
    }
    if let Some(leaf) = ctx.event_span(event) {
        encode_span(enc, leaf, 0);
    }
}

/// Encodes `span`'s ancestors (root first), then `span` and its fields.
fn encode_span<'a, R: LookupSpan<'a>>(enc: &mut Encoder<'_>, span: SpanRef<'a, R>, depth: usize) {
    if let Some(parent) = span.parent() {
        if depth + 1 < MAX_SPAN_DEPTH {
            encode_span(enc, parent, depth + 1);
        } else {
            // `parent` and its ancestors are left out: say how many.
            enc.span(SPANS_OMITTED);
            enc.field("count", Value::U64(parent.scope().count() as u64));
        }
    }
    enc.span(span.name());
    if let Some(fields) = span.extensions().get::<SpanFields>() {
        fields.encode(enc);
    }
}

/// Which fields of an event a visit encodes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// The message if it comes first, and all other fields.
    All,
    MessageOnly,
    FieldsOnly,
}

/// One field value, as `tracing` hands it over.
enum FieldValue<'a> {
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
    Str(&'a str),
    Debug(&'a dyn fmt::Debug),
    Display(&'a dyn fmt::Display),
}

impl fmt::Display for FieldValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::I64(v) => fmt::Display::fmt(v, f),
            FieldValue::U64(v) => fmt::Display::fmt(v, f),
            FieldValue::F64(v) => fmt::Display::fmt(v, f),
            FieldValue::Bool(v) => fmt::Display::fmt(v, f),
            FieldValue::Str(v) => f.write_str(v),
            // `fmt::Arguments` (what the macros pass as `message`) has a
            // `Debug` that writes the text as `Display` does.
            FieldValue::Debug(v) => fmt::Debug::fmt(v, f),
            FieldValue::Display(v) => fmt::Display::fmt(v, f),
        }
    }
}

/// Calls `visit` with each kind of value `tracing` records.
macro_rules! visit_methods {
    () => {
        fn record_i64(&mut self, field: &Field, value: i64) {
            self.visit(field, FieldValue::I64(value));
        }
        fn record_u64(&mut self, field: &Field, value: u64) {
            self.visit(field, FieldValue::U64(value));
        }
        fn record_f64(&mut self, field: &Field, value: f64) {
            self.visit(field, FieldValue::F64(value));
        }
        fn record_bool(&mut self, field: &Field, value: bool) {
            self.visit(field, FieldValue::Bool(value));
        }
        fn record_str(&mut self, field: &Field, value: &str) {
            self.visit(field, FieldValue::Str(value));
        }
        fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
            self.visit(field, FieldValue::Display(&value));
        }
        fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
            self.visit(field, FieldValue::Debug(value));
        }
    };
}

/// Encodes an event's fields.
struct EventVisitor<'e, 'b> {
    enc: &'e mut Encoder<'b>,
    pass: Pass,
    wrote_field: bool,
    /// The message came after another field (pass `All` only).
    late_message: bool,
}

impl<'e, 'b> EventVisitor<'e, 'b> {
    fn new(enc: &'e mut Encoder<'b>, pass: Pass) -> EventVisitor<'e, 'b> {
        EventVisitor {
            enc,
            pass,
            wrote_field: false,
            late_message: false,
        }
    }

    fn visit(&mut self, field: &Field, value: FieldValue<'_>) {
        if field.name() == "message" {
            match self.pass {
                Pass::FieldsOnly => {}
                Pass::All if self.wrote_field => self.late_message = true,
                Pass::All | Pass::MessageOnly => match value {
                    FieldValue::Str(s) => self.enc.message_bytes(s.as_bytes()),
                    v => self.enc.message_fmt(format_args!("{v}")),
                },
            }
            return;
        }
        if self.pass == Pass::MessageOnly {
            return;
        }
        self.wrote_field = true;
        let key = field.name();
        match value {
            FieldValue::I64(v) => self.enc.field(key, Value::I64(v)),
            FieldValue::U64(v) => self.enc.field(key, Value::U64(v)),
            FieldValue::F64(v) => self.enc.field(key, Value::F64(v)),
            FieldValue::Bool(v) => self.enc.field(key, Value::Bool(v)),
            FieldValue::Str(v) => self.enc.field(key, Value::Str(v.as_bytes())),
            v => self.enc.field_fmt(key, format_args!("{v}")),
        }
    }
}

impl Visit for EventVisitor<'_, '_> {
    visit_methods!();
}

// The compact form of span fields: a sequence of entries
//   key (u16 length + bytes), tag (u8), value
// where the value is a u32 length + bytes (string), 8 little-endian bytes
// (i64, u64, f64) or one byte (bool).
const TAG_STR: u8 = 0;
const TAG_I64: u8 = 1;
const TAG_U64: u8 = 2;
const TAG_F64: u8 = 3;
const TAG_BOOL: u8 = 4;

/// A span's fields, pre-encoded, kept in the span's extensions.
#[derive(Default)]
struct SpanFields {
    buf: Vec<u8>,
}

/// One decoded entry of [`SpanFields`] and where it ends.
struct Entry<'a> {
    key: &'a [u8],
    value: Value<'a>,
    end: usize,
}

impl SpanFields {
    /// Decodes the entry at `pos`; `None` at the end (or on a bug).
    fn entry_at(&self, pos: usize) -> Option<Entry<'_>> {
        let b = &self.buf;
        let take = |at: usize, n: usize| b.get(at..at.checked_add(n)?);
        let klen = u16::from_le_bytes(take(pos, 2)?.try_into().ok()?) as usize;
        let key = take(pos + 2, klen)?;
        let mut at = pos + 2 + klen;
        let tag = *take(at, 1)?.first()?;
        at += 1;
        let word = |at: usize| -> Option<[u8; 8]> { take(at, 8)?.try_into().ok() };
        let (value, end) = match tag {
            TAG_STR => {
                let n = u32::from_le_bytes(take(at, 4)?.try_into().ok()?) as usize;
                (Value::Str(take(at + 4, n)?), at + 4 + n)
            }
            TAG_I64 => (Value::I64(i64::from_le_bytes(word(at)?)), at + 8),
            TAG_U64 => (Value::U64(u64::from_le_bytes(word(at)?)), at + 8),
            TAG_F64 => (Value::F64(f64::from_le_bytes(word(at)?)), at + 8),
            TAG_BOOL => (Value::Bool(*take(at, 1)?.first()? != 0), at + 1),
            _ => return None,
        };
        Some(Entry { key, value, end })
    }

    /// Appends every field to the record (after its `span` marker).
    fn encode(&self, enc: &mut Encoder<'_>) {
        let mut pos = 0;
        while let Some(e) = self.entry_at(pos) {
            // Keys were written from `&str`s, so they are UTF-8.
            if let Ok(key) = std::str::from_utf8(e.key) {
                enc.field(key, e.value);
            }
            pos = e.end;
        }
    }

    /// Removes the entry for `key`, if there is one.
    fn remove(&mut self, key: &str) {
        let mut pos = 0;
        while let Some(e) = self.entry_at(pos) {
            if e.key == key.as_bytes() {
                let end = e.end;
                self.buf.drain(pos..end);
                return;
            }
            pos = e.end;
        }
    }

    fn push_key(&mut self, key: &str, tag: u8) {
        let key = &key.as_bytes()[..key.len().min(u16::MAX as usize)];
        self.buf
            .extend_from_slice(&(key.len() as u16).to_le_bytes());
        self.buf.extend_from_slice(key);
        self.buf.push(tag);
    }

    fn push(&mut self, key: &str, value: FieldValue<'_>) {
        match value {
            FieldValue::I64(v) => {
                self.push_key(key, TAG_I64);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
            FieldValue::U64(v) => {
                self.push_key(key, TAG_U64);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
            FieldValue::F64(v) => {
                self.push_key(key, TAG_F64);
                self.buf.extend_from_slice(&v.to_le_bytes());
            }
            FieldValue::Bool(v) => {
                self.push_key(key, TAG_BOOL);
                self.buf.push(v as u8);
            }
            v => {
                self.push_key(key, TAG_STR);
                let len_at = self.buf.len();
                self.buf.extend_from_slice(&0u32.to_le_bytes());
                let written = match v {
                    FieldValue::Str(s) => {
                        self.buf.extend_from_slice(s.as_bytes());
                        Ok(())
                    }
                    v => fmt::write(&mut VecWriter(&mut self.buf), format_args!("{v}")),
                };
                if written.is_err() {
                    self.buf.extend_from_slice(b"<formatting error>");
                }
                let len = u32::try_from(self.buf.len() - len_at - 4).unwrap_or(u32::MAX);
                self.buf[len_at..len_at + 4].copy_from_slice(&len.to_le_bytes());
            }
        }
    }
}

/// Records span fields into [`SpanFields`].
struct SpanRecorder<'a> {
    fields: &'a mut SpanFields,
    /// Replace an existing value of the same field (`on_record`).
    replace: bool,
}

impl SpanRecorder<'_> {
    fn visit(&mut self, field: &Field, value: FieldValue<'_>) {
        if self.replace {
            self.fields.remove(field.name());
        }
        self.fields.push(field.name(), value);
    }
}

impl Visit for SpanRecorder<'_> {
    visit_methods!();
}

impl Logger {
    /// A [`tracing_subscriber::Layer`] that sends events, with their span
    /// scope and fields, to this logger. See [`JamlessLayer`].
    pub fn tracing_layer(&self) -> JamlessLayer {
        JamlessLayer {
            logger: self.clone(),
        }
    }
}

/// Parses directives into an [`EnvFilter`], reporting any error.
pub(crate) fn parse_tracing_filter(spec: &str) -> Result<EnvFilter, Error> {
    EnvFilter::builder()
        .parse(spec)
        .map_err(|e| Error::config(format!("invalid filter {spec:?}: {e}")))
}

#[cfg(test)]
#[path = "tracing_tests.rs"]
mod tests;
