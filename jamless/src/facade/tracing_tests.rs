use std::sync::{Arc, Mutex};

use tracing_subscriber::layer::SubscriberExt;

use super::*;
use crate::record::{encode_pending, Item, Meta, RecordView};

/// A sink that discards everything (the layer's logger is not used here).
struct Discard;

impl crate::Sink for Discard {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }
    fn describe(&self) -> String {
        "discard".to_string()
    }
}

/// Runs the layer's span hooks and its event encoding, capturing the
/// encoded records instead of offering them to a queue.
struct Capture {
    inner: JamlessLayer,
    out: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl<S> Layer<S> for Capture
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        Layer::<S>::on_new_span(&self.inner, attrs, id, ctx);
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        Layer::<S>::on_record(&self.inner, id, values, ctx);
    }
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let m = event.metadata();
        let meta = Meta {
            kind: Kind::Event,
            level: Level::from(*m.level()),
            timestamp_ns: 1,
            thread_id: 9,
            thread_name: "t-9",
            target: m.target(),
            module_path: m.module_path().unwrap_or(""),
            file: m.file().unwrap_or(""),
            line: m.line(),
        };
        let buf = encode_pending(&meta, |enc| encode_event(enc, event, &ctx));
        self.out.lock().unwrap().push(buf);
    }
}

/// Runs `f` with a capturing subscriber; returns the encoded records.
fn capture(f: impl FnOnce()) -> Vec<Vec<u8>> {
    let (logger, _guard) = crate::Builder::new().sink(Discard).build().unwrap();
    let out = Arc::new(Mutex::new(Vec::new()));
    let layer = Capture {
        inner: logger.tracing_layer(),
        out: Arc::clone(&out),
    };
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), f);
    // The subscriber, and with it the layer's clone, is gone by now.
    Arc::try_unwrap(out).unwrap().into_inner().unwrap()
}

#[test]
fn event_with_fields_and_span_scope() {
    let records = capture(|| {
        let outer = tracing::info_span!(
            "request",
            id = 7u64,
            path = "/login",
            later = tracing::field::Empty
        );
        let _o = outer.enter();
        outer.record("later", true);
        let inner = tracing::debug_span!("db", table = "users", attempt = -1i64);
        let _i = inner.enter();
        tracing::warn!(status = 200u64, elapsed = 3.5, ok = false, who = ?vec![1, 2], "done {}", 42);
    });
    assert_eq!(records.len(), 1);
    let view = RecordView::parse(&records[0]).unwrap();
    assert_eq!(view.kind, Kind::Event);
    assert_eq!(view.level, Level::Warn);
    assert_eq!(view.target, module_path!().as_bytes());
    assert_eq!(view.module_path, module_path!().as_bytes());
    assert_eq!(view.file, file!().as_bytes());
    assert!(view.line.is_some());
    assert_eq!(view.thread_id, 9);
    assert_eq!(view.thread_name, b"t-9");
    assert_eq!(view.message(), b"done 42");
    let got: Vec<Item<'_>> = view.items().map(Result::unwrap).collect();
    assert_eq!(
        got,
        vec![
            Item::Field(b"status", Value::U64(200)),
            Item::Field(b"elapsed", Value::F64(3.5)),
            Item::Field(b"ok", Value::Bool(false)),
            Item::Field(b"who", Value::Str(b"[1, 2]")),
            Item::Span(b"request"),
            Item::Field(b"id", Value::U64(7)),
            Item::Field(b"path", Value::Str(b"/login")),
            Item::Field(b"later", Value::Bool(true)),
            Item::Span(b"db"),
            Item::Field(b"table", Value::Str(b"users")),
            Item::Field(b"attempt", Value::I64(-1)),
        ]
    );
}

#[test]
fn recording_a_span_field_again_replaces_it() {
    let records = capture(|| {
        let span = tracing::info_span!("job", step = 1u64, name = "a");
        span.record("step", 2u64);
        span.record("step", 3u64);
        span.record("name", "b");
        tracing::info!(parent: &span, "tick");
    });
    let view = RecordView::parse(&records[0]).unwrap();
    assert_eq!(view.message(), b"tick");
    let got: Vec<Item<'_>> = view.items().map(Result::unwrap).collect();
    assert_eq!(
        got,
        vec![
            Item::Span(b"job"),
            Item::Field(b"step", Value::U64(3)),
            Item::Field(b"name", Value::Str(b"b")),
        ]
    );
}

#[test]
fn message_after_other_fields_still_comes_first() {
    let records = capture(|| {
        tracing::info!(a = 1i64, message = "late", b = "x");
    });
    let view = RecordView::parse(&records[0]).unwrap();
    assert_eq!(view.message(), b"late");
    let got: Vec<Item<'_>> = view.items().map(Result::unwrap).collect();
    assert_eq!(
        got,
        vec![
            Item::Field(b"a", Value::I64(1)),
            Item::Field(b"b", Value::Str(b"x"))
        ]
    );
}

#[test]
fn event_without_message_or_span() {
    let records = capture(|| {
        let err = std::io::Error::other("disk on fire");
        let e: &(dyn std::error::Error + 'static) = &err;
        tracing::error!(target: "custom::target", code = 5i64, cause = e, ip = %std::net::Ipv4Addr::LOCALHOST);
    });
    let view = RecordView::parse(&records[0]).unwrap();
    assert_eq!(view.level, Level::Error);
    assert_eq!(view.target, b"custom::target");
    assert_eq!(view.message(), b"");
    let got: Vec<Item<'_>> = view.items().map(Result::unwrap).collect();
    assert_eq!(
        got,
        vec![
            Item::Field(b"code", Value::I64(5)),
            Item::Field(b"cause", Value::Str(b"disk on fire")),
            Item::Field(b"ip", Value::Str(b"127.0.0.1")),
        ]
    );
}

#[test]
fn span_fields_round_trip_through_the_compact_form() {
    let mut fields = SpanFields::default();
    fields.push("s", FieldValue::Str("text"));
    fields.push("i", FieldValue::I64(i64::MIN));
    fields.push("u", FieldValue::U64(u64::MAX));
    fields.push("f", FieldValue::F64(-0.25));
    fields.push("b", FieldValue::Bool(true));
    fields.push("d", FieldValue::Debug(&Some("x")));
    fields.remove("i");
    fields.remove("missing");
    let mut buf = Vec::new();
    let meta = Meta {
        kind: Kind::Event,
        level: Level::Info,
        timestamp_ns: 1,
        thread_id: 1,
        thread_name: "",
        target: "",
        module_path: "",
        file: "",
        line: None,
    };
    let mut enc = Encoder::new(&mut buf, &meta);
    enc.span("s1");
    fields.encode(&mut enc);
    enc.finish();
    let view = RecordView::parse(&buf).unwrap();
    let got: Vec<Item<'_>> = view.items().map(Result::unwrap).collect();
    assert_eq!(
        got,
        vec![
            Item::Span(b"s1"),
            Item::Field(b"s", Value::Str(b"text")),
            Item::Field(b"u", Value::U64(u64::MAX)),
            Item::Field(b"f", Value::F64(-0.25)),
            Item::Field(b"b", Value::Bool(true)),
            Item::Field(b"d", Value::Str(b"Some(\"x\")")),
        ]
    );
}
