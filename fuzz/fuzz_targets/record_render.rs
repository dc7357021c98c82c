//! Records built the way the facades build them (any strings, any bytes,
//! any field values, spans, truncation), rendered in both formats: one
//! clean text line; one JSON line that parses and round-trips the message,
//! the target, the thread name and the spans.
#![no_main]

use arbitrary::Arbitrary;
use jamless::__fuzz::{self, FieldValue, Input, InputItem};
use jamless::Format;
use jamless_fuzz::{check_json, check_text};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

#[derive(Debug, Arbitrary)]
enum Val {
    Str(Vec<u8>),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
}

#[derive(Debug, Arbitrary)]
enum Item {
    Field(String, Val),
    Span(String),
}

#[derive(Debug, Arbitrary)]
struct Record {
    raw: bool,
    level: u8,
    timestamp_ns: u64,
    thread_id: u64,
    thread_name: String,
    target: String,
    module_path: String,
    file: String,
    line: Option<u32>,
    message: Vec<u8>,
    items: Vec<Item>,
    max_record: Option<u16>,
    pattern: Option<String>,
}

fuzz_target!(|r: Record| {
    let items: Vec<InputItem<'_>> = r
        .items
        .iter()
        .map(|i| match i {
            Item::Field(k, v) => InputItem::Field(
                k,
                match v {
                    Val::Str(s) => FieldValue::Str(s),
                    Val::I64(v) => FieldValue::I64(*v),
                    Val::U64(v) => FieldValue::U64(*v),
                    Val::F64(v) => FieldValue::F64(*v),
                    Val::Bool(v) => FieldValue::Bool(*v),
                },
            ),
            Item::Span(name) => InputItem::Span(name),
        })
        .collect();
    let input = Input {
        raw: r.raw,
        level: r.level,
        timestamp_ns: r.timestamp_ns,
        thread_id: r.thread_id,
        thread_name: &r.thread_name,
        target: &r.target,
        module_path: &r.module_path,
        file: &r.file,
        line: r.line,
        message: &r.message,
        items: &items,
        // The builder's minimum maximum record size is 1024 bytes.
        max_record: r.max_record.map(|m| usize::from(m).max(1024)),
    };
    let bytes = __fuzz::encode(&input);
    assert!(
        __fuzz::decode(&bytes).is_some(),
        "an encoded record decodes"
    );
    let view = __fuzz::view(&bytes).expect("an encoded record decodes");

    check_text(&__fuzz::render(&Format::text(), &bytes).expect("renders"));
    if let Some(Ok(format)) = r.pattern.as_deref().map(Format::text_pattern) {
        check_text(&__fuzz::render(&format, &bytes).expect("renders"));
    }

    let json = __fuzz::render(&Format::json(), &bytes).expect("renders");
    let Some(obj) = check_json(&json, &view) else {
        return;
    };
    if r.raw {
        return;
    }
    // Metadata strings are cut at a character boundary, never altered.
    for (key, given) in [
        ("log.logger", &r.target),
        ("process.thread.name", &r.thread_name),
    ] {
        match obj.get(key) {
            Some(Value::String(s)) => assert!(
                given.starts_with(s.as_str()) && !s.is_empty(),
                "{key}: {s:?} vs {given:?}"
            ),
            None => assert!(given.is_empty(), "{key} missing for {given:?}"),
            Some(other) => panic!("{key} is {other:?}"),
        }
    }
    // Every span of an uncut record is in `spans`, in order, by name.
    if view.truncated_from.is_none() {
        let names: Vec<&str> = r
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Span(n) => Some(n.as_str()),
                Item::Field(..) => None,
            })
            .collect();
        let got: Vec<String> = match obj.get("spans") {
            Some(Value::Array(spans)) => spans
                .iter()
                .map(|s| {
                    s["name"]
                        .as_str()
                        .expect("span name is a string")
                        .to_owned()
                })
                .collect(),
            None => Vec::new(),
            Some(other) => panic!("spans is {other:?}"),
        };
        assert_eq!(got, names, "spans do not round-trip");
    }
});
