//! Tests of the renderers as a whole: golden lines and examples. The
//! properties are in `props.rs`, which shares the helpers here.

use serde_json::Value as Json;

use super::*;
use crate::record::{truncate, Encoder, Kind, Meta, RecordView, Value};

/// 2026-11-27T06:22:17.123456789Z
const TS: u64 = 1_795_760_537_123_456_789;

pub(super) fn meta<'a>() -> Meta<'a> {
    Meta {
        kind: Kind::Event,
        level: Level::Info,
        timestamp_ns: TS,
        thread_id: 1,
        thread_name: "main",
        target: "app::http",
        module_path: "app::http",
        file: "src/http.rs",
        line: Some(42),
    }
}

/// One item of a record under test.
#[derive(Debug, Clone)]
pub(super) enum It {
    Field(String, OwnedValue),
    Span(String),
}

#[derive(Debug, Clone)]
pub(super) enum OwnedValue {
    Str(Vec<u8>),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
}

impl OwnedValue {
    fn value(&self) -> Value<'_> {
        match self {
            OwnedValue::Str(s) => Value::Str(s),
            OwnedValue::I64(v) => Value::I64(*v),
            OwnedValue::U64(v) => Value::U64(*v),
            OwnedValue::F64(v) => Value::F64(*v),
            OwnedValue::Bool(v) => Value::Bool(*v),
        }
    }
}

pub(super) fn encode(m: &Meta<'_>, message: &[u8], items: &[It]) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut enc = Encoder::new(&mut buf, m);
    enc.message_bytes(message);
    for item in items {
        match item {
            It::Field(k, v) => enc.field(k, v.value()),
            It::Span(name) => enc.span(name),
        }
    }
    enc.finish();
    buf
}

fn render_with(format: &Format, buf: &[u8]) -> String {
    let mut r = Renderer::new(format).unwrap();
    let mut out = Vec::new();
    r.render(&RecordView::parse(buf).unwrap(), &mut out);
    String::from_utf8(out).unwrap()
}

fn field(k: &str, v: OwnedValue) -> It {
    It::Field(k.to_string(), v)
}

fn s(v: &str) -> OwnedValue {
    OwnedValue::Str(v.as_bytes().to_vec())
}

pub(super) fn served() -> Vec<u8> {
    encode(
        &meta(),
        b"request served",
        &[
            field("path", s("/v1")),
            field("status", OwnedValue::U64(200)),
        ],
    )
}

// ------------------------------------------------------------------- golden

#[test]
fn golden_default_text() {
    assert_eq!(
        render_with(&Format::text(), &served()),
        "2026-11-27T06:22:17.123456Z INFO  [main] app::http: request served path=/v1 status=200\n"
    );
    assert_eq!(Format::default(), Format::text());
}

#[test]
fn golden_text_spans_and_values() {
    let items = [
        field("n", OwnedValue::I64(-5)),
        field("f", OwnedValue::F64(0.25)),
        field("nan", OwnedValue::F64(f64::NAN)),
        field("ok", OwnedValue::Bool(false)),
        It::Span("conn".into()),
        field("peer", s("10.0.0.1:443")),
        field("tls", OwnedValue::Bool(true)),
        It::Span("req".into()),
        It::Span("db".into()),
        field("table", s("users")),
    ];
    let buf = encode(&meta(), b"query", &items);
    assert_eq!(
        render_with(&Format::text(), &buf),
        "2026-11-27T06:22:17.123456Z INFO  [main] app::http: query n=-5 f=0.25 nan=NaN ok=false \
         span=conn{peer=10.0.0.1:443 tls=true}>req>db{table=users}\n"
    );
    let f = Format::text_pattern("{level} {target}: {spans}{message}{fields}").unwrap();
    assert_eq!(
        render_with(&f, &buf),
        "INFO app::http: conn{peer=10.0.0.1:443 tls=true}>req>db{table=users}: query \
         n=-5 f=0.25 nan=NaN ok=false\n"
    );
    // Without spans, `{spans}` is empty.
    assert_eq!(
        render_with(&f, &served()),
        "INFO app::http: request served path=/v1 status=200\n"
    );
}

#[test]
fn golden_text_every_placeholder() {
    let f = Format::text_pattern(
        "{{{level:>6}}} <{thread:<6}> {module} {file}:{line} {timestamp} {target} {message}",
    )
    .unwrap();
    let m = Meta {
        level: Level::Warn,
        module_path: "app::http::server",
        ..meta()
    };
    assert_eq!(
        render_with(&f, &encode(&m, b"slow", &[])),
        "{  WARN} <main  > app::http::server src/http.rs:42 2026-11-27T06:22:17.123456Z app::http slow\n"
    );
    // Unnamed thread, no file or line.
    let m = Meta {
        thread_name: "",
        thread_id: 12,
        file: "",
        line: None,
        ..meta()
    };
    assert_eq!(
        render_with(&f, &encode(&m, b"x", &[])),
        "{  INFO} <#12   > app::http : 2026-11-27T06:22:17.123456Z app::http x\n"
    );
}

#[test]
fn golden_text_escaping() {
    let buf = encode(
        &Meta {
            thread_name: "w\x1b[1m",
            target: "t\nx",
            ..meta()
        },
        b"line1\nFAKE 2026 ERROR injected\r\x1b[2J\x07 \xff done",
        &[field("k\n", s("v\r\n\u{2028}"))],
    );
    assert_eq!(
        render_with(&Format::text(), &buf),
        "2026-11-27T06:22:17.123456Z INFO  [w\\x1b[1m] t\\nx: line1\\nFAKE 2026 ERROR injected\\r\\x1b[2J\\x07 \\xff done \
         k\\n=v\\r\\n\\u{2028}\n"
    );
}

#[test]
fn golden_json() {
    let m = Meta {
        module_path: "app::http::server",
        ..meta()
    };
    let buf = encode(
        &m,
        b"request \"served\"",
        &[
            field("path", s("/v1")),
            field("status", OwnedValue::U64(200)),
            field("user.id", OwnedValue::I64(-7)),
            field("message", s("shadow")),
            field("log", s("clash")),
            field("ratio", OwnedValue::F64(1.5)),
            field("inf", OwnedValue::F64(f64::INFINITY)),
            It::Span("request".into()),
            field("id", OwnedValue::U64(7)),
            field("name", s("clash")),
            It::Span("db".into()),
        ],
    );
    let line = render_with(&Format::json(), &buf);
    assert_eq!(
        line,
        concat!(
            r#"{"@timestamp":"2026-11-27T06:22:17.123456Z","log.level":"info","message":"request \"served\"","#,
            r#""ecs.version":"8.11","log.logger":"app::http","log.module":"app::http::server","#,
            r#""log.origin.file.name":"src/http.rs","log.origin.file.line":42,"#,
            r#""process.thread.name":"main","process.thread.id":1,"#,
            r#""path":"/v1","status":200,"user.id":-7,"fields.message":"shadow","fields.log":"clash","#,
            r#""ratio":1.5,"inf":"inf","#,
            r#""spans":[{"name":"request","id":7,"fields.name":"clash"},{"name":"db"}]}"#,
            "\n"
        )
    );
    let v: Json = serde_json::from_str(&line).unwrap();
    assert_eq!(v["message"], "request \"served\"");
    assert_eq!(v["spans"][0]["fields.name"], "clash");
}

#[test]
fn golden_json_minimal() {
    let m = Meta {
        level: Level::Error,
        thread_name: "",
        target: "",
        module_path: "",
        file: "",
        line: None,
        ..meta()
    };
    assert_eq!(
        render_with(&Format::json(), &encode(&m, b"", &[])),
        concat!(
            r#"{"@timestamp":"2026-11-27T06:22:17.123456Z","log.level":"error","message":"","#,
            r#""ecs.version":"8.11","process.thread.id":1}"#,
            "\n"
        )
    );
}

#[test]
fn raw_lines_text() {
    let raw = |msg: &[u8]| {
        let m = Meta {
            kind: Kind::Raw,
            ..meta()
        };
        render_with(&Format::text(), &encode(&m, msg, &[]))
    };
    assert_eq!(raw(b"2026 INFO app: hi\n"), "2026 INFO app: hi\n");
    assert_eq!(raw(b"no newline"), "no newline\n");
    assert_eq!(raw(b"crlf\r\n"), "crlf\n");
    assert_eq!(raw(b"two\nlines\n"), "two\\nlines\n");
    assert_eq!(raw(b"two newlines\n\n"), "two newlines\\n\n");
    assert_eq!(
        raw(b"\x1b[32m INFO\x1b[0m x\n"),
        "\\x1b[32m INFO\\x1b[0m x\n"
    );
    assert_eq!(raw(b""), "\n");
}

#[test]
fn raw_lines_json() {
    let raw = |msg: &[u8]| {
        let m = Meta {
            kind: Kind::Raw,
            level: Level::Warn,
            ..meta()
        };
        render_with(&Format::json(), &encode(&m, msg, &[]))
    };
    // Already a clean JSON object: passed through unchanged.
    let j = r#"{"timestamp":"2026-11-27T06:22:17Z","level":"WARN","fields":{"message":"hi"}}"#;
    assert_eq!(raw(format!("{j}\n").as_bytes()), format!("{j}\n"));
    assert_eq!(raw(j.as_bytes()), format!("{j}\n"));
    // Anything else is wrapped.
    let wrapped = raw(b"2026 WARN app: hi\n");
    assert!(wrapped.starts_with(
        r#"{"@timestamp":"2026-11-27T06:22:17.123456Z","log.level":"warn","message":"2026 WARN app: hi","#
    ));
    let wrapped = raw(b"{\"a\":1}\n{\"b\":2}\n");
    let v: Json = serde_json::from_str(&wrapped).unwrap();
    assert_eq!(v["message"], "{\"a\":1}\n{\"b\":2}");
    let wrapped = raw(b"{\"a\":\"\x1b[31m\"}");
    let v: Json = serde_json::from_str(&wrapped).unwrap();
    assert_eq!(v["message"], "{\"a\":\"\x1b[31m\"}");
}

#[test]
fn truncated_records() {
    let buf = encode(
        &meta(),
        "x".repeat(500).as_bytes(),
        &[field("k", OwnedValue::U64(1))],
    );
    let full = buf.len();
    let mut cut = buf.clone();
    assert!(truncate(&mut cut, full - 400));
    let kept = String::from_utf8(RecordView::parse(&cut).unwrap().message().to_vec()).unwrap();
    assert!(!kept.is_empty() && kept.len() < 500);
    let text = render_with(&Format::text(), &cut);
    assert!(
        text.ends_with(&format!(
            "app::http: {kept} …[truncated from {full} bytes]\n"
        )),
        "{text}"
    );
    let json = render_with(&Format::json(), &cut);
    let v: Json = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["message"],
        format!("{kept} …[truncated from {full} bytes]")
    );
    assert_eq!(v["jamless.truncated"], true);
    assert_eq!(v["jamless.original_size"], full);
    assert!(v.get("k").is_none());

    // A truncated raw line is never passed through, even if what is left
    // happens to be a JSON object.
    let m = Meta {
        kind: Kind::Raw,
        ..meta()
    };
    let mut raw = encode(&m, br#"{"a":1}{"b":2}"#, &[]);
    let len = raw.len();
    truncate(&mut raw, len - 7);
    let v: Json = serde_json::from_str(&render_with(&Format::json(), &raw)).unwrap();
    assert_eq!(v["jamless.truncated"], true);
    assert!(v["message"].as_str().unwrap().starts_with(r#"{"a":1} …"#));
}

#[test]
fn malformed_fields_are_marked() {
    let buf = served();
    let bad = &buf[..buf.len() - 3];
    assert_eq!(
        render_with(&Format::text(), bad),
        "2026-11-27T06:22:17.123456Z INFO  [main] app::http: request served path=/v1 …[malformed fields]\n"
    );
    let v: Json = serde_json::from_str(&render_with(&Format::json(), bad)).unwrap();
    assert_eq!(v["path"], "/v1");
    assert_eq!(v["jamless.malformed_fields"], true);

    // Cut inside a span's fields: marked once, wherever the spans go.
    let buf = encode(
        &meta(),
        b"m",
        &[
            field("a", OwnedValue::U64(1)),
            It::Span("s".into()),
            field("b", s("xyz")),
        ],
    );
    let bad = &buf[..buf.len() - 2];
    assert!(render_with(&Format::text(), bad).ends_with(" m a=1 span=s …[malformed fields]\n"));
    let f = Format::text_pattern("{target}: {spans}{message}{fields}").unwrap();
    assert_eq!(
        render_with(&f, bad),
        "app::http: s …[malformed fields]: m a=1\n"
    );
    let v: Json = serde_json::from_str(&render_with(&Format::json(), bad)).unwrap();
    assert_eq!(v["spans"][0]["name"], "s");
    assert_eq!(v["jamless.malformed_fields"], true);
}

#[test]
fn notices() {
    let fields = [
        ("dropped", Value::U64(1234)),
        ("cause", Value::Str(b"queue_full")),
        ("levels", Value::Str(b"info=1200,debug=34")),
    ];
    let mut r = Renderer::new(&Format::text()).unwrap();
    let mut out = Vec::new();
    r.render_notice(Level::Warn, TS, "1234 records dropped", &fields, &mut out);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "2026-11-27T06:22:17.123456Z WARN  [jamless] jamless: 1234 records dropped \
         dropped=1234 cause=queue_full levels=info=1200,debug=34\n"
    );
    let mut r = Renderer::new(&Format::json()).unwrap();
    let mut out = Vec::new();
    r.render_notice(Level::Warn, TS, "1234 records dropped", &fields, &mut out);
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<Json> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["log.logger"], "jamless");
    assert_eq!(lines[0]["log.level"], "warn");
    assert_eq!(lines[0]["dropped"], 1234);
    assert_eq!(lines[0]["cause"], "queue_full");
}

#[test]
fn time_zones() {
    let e =
        Renderer::new(&Format::text().with_timezone(TimeZoneChoice::Named("Mars/Olympus".into())))
            .err()
            .unwrap();
    assert!(e.is_config());
    assert!(e.to_string().contains("Mars/Olympus"), "{e}");

    let f = Format::json().with_timezone(TimeZoneChoice::Named("Europe/Berlin".into()));
    assert_eq!(f.timezone(), &TimeZoneChoice::Named("Europe/Berlin".into()));
    assert!(f.is_json() && !Format::text().is_json());
    let v: Json = serde_json::from_str(&render_with(&f, &served())).unwrap();
    assert_eq!(v["@timestamp"], "2026-11-27T07:22:17.123456+01:00");

    let local = Format::text_pattern("{timestamp}")
        .unwrap()
        .with_timezone(TimeZoneChoice::Local);
    let line = render_with(&local, &served());
    let ts: jiff::Timestamp = line.trim_end().parse().unwrap();
    assert_eq!(ts.as_microsecond(), (TS / 1000) as i64, "{line}");
    assert!(
        line.ends_with(":00\n") || line.ends_with(":30\n") || line.ends_with(":45\n"),
        "{line}"
    );
}

#[test]
fn floats() {
    for (f, want) in [
        (12.5, "12.5"),
        (-0.25, "-0.25"),
        (200.0, "200.0"),
        (0.001, "0.001"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e-7, "1e-7"),
        (1e300, "1e300"),
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (f64::NAN, "NaN"),
        (f64::NEG_INFINITY, "-inf"),
    ] {
        let mut out = Vec::new();
        push_float(f, &mut out);
        assert_eq!(std::str::from_utf8(&out).unwrap(), want);
    }
}

#[test]
fn no_reallocation_in_steady_state() {
    // The renderer keeps no per-record heap state: rendering into a buffer
    // that has room never grows it.
    let buf = served();
    let rec = RecordView::parse(&buf).unwrap();
    for format in [Format::text(), Format::json()] {
        let mut r = Renderer::new(&format).unwrap();
        let mut out = Vec::with_capacity(4096);
        let ptr = out.as_ptr();
        for _ in 0..10 {
            out.clear();
            r.render(&rec, &mut out);
        }
        assert_eq!(out.as_ptr(), ptr);
    }
}
