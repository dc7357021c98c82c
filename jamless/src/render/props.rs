//! Properties of the renderers: whatever a record holds (control
//! characters, escape sequences, CR and LF, line separators, invalid UTF-8,
//! keys that clash), a text rendering is one clean line and a JSON rendering
//! one valid object that keeps the message and fields.

use proptest::prelude::*;
use serde_json::Value as Json;

use super::tests::{encode, served, It, OwnedValue};
use super::*;
use crate::record::{truncate, Kind, Meta, RecordView};

/// Bytes made to break lines and terminals.
fn nasty_bytes() -> impl Strategy<Value = Vec<u8>> {
    let fragment = prop_oneof![
        4 => "[a-z0-9 =:{}\\[\\]>\"\\\\]{0,8}".prop_map(String::into_bytes),
        1 => Just(b"\n".to_vec()),
        1 => Just(b"\r\n".to_vec()),
        1 => Just(b"\r".to_vec()),
        1 => Just(b"\t".to_vec()),
        1 => Just(b"\x1b[31m".to_vec()),
        1 => Just(b"\x1b]0;title\x07".to_vec()),
        1 => Just(b"\x00\x08\x0c\x7f".to_vec()),
        1 => Just("\u{9b}2J\u{85}".as_bytes().to_vec()),
        1 => Just("\u{2028}\u{2029}".as_bytes().to_vec()),
        1 => Just("\u{202e}\u{2066}".as_bytes().to_vec()),
        1 => Just(vec![0xFF]),
        1 => Just(vec![0xE2, 0x82]),
        1 => Just(vec![0xED, 0xA0, 0x80]),
        1 => Just(vec![0xC0, 0xAF]),
        1 => Just(br#"{"a":[1,"x"]}"#.to_vec()),
        2 => any::<char>().prop_map(|c| c.to_string().into_bytes()),
        2 => prop::collection::vec(any::<u8>(), 0..6),
    ];
    prop::collection::vec(fragment, 0..10).prop_map(|v| v.concat())
}

fn nasty_string() -> impl Strategy<Value = String> {
    nasty_bytes().prop_map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn any_value() -> impl Strategy<Value = OwnedValue> {
    prop_oneof![
        nasty_bytes().prop_map(OwnedValue::Str),
        any::<i64>().prop_map(OwnedValue::I64),
        any::<u64>().prop_map(OwnedValue::U64),
        any::<f64>().prop_map(OwnedValue::F64),
        prop_oneof![
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(-0.0)
        ]
        .prop_map(OwnedValue::F64),
        any::<bool>().prop_map(OwnedValue::Bool),
    ]
}

fn any_items() -> impl Strategy<Value = Vec<It>> {
    prop::collection::vec(
        prop_oneof![
            4 => (
                prop_oneof![
                    "[a-z_.]{1,8}",
                    Just("message".to_string()),
                    Just("log".to_string()),
                    Just("name".to_string()),
                    nasty_string(),
                ],
                any_value()
            )
                .prop_map(|(k, v)| It::Field(k, v)),
            1 => nasty_string().prop_map(It::Span),
        ],
        0..8,
    )
}

#[derive(Debug, Clone)]
struct Case {
    kind: Kind,
    level: Level,
    timestamp_ns: u64,
    thread_id: u64,
    thread_name: String,
    target: String,
    module_path: String,
    file: String,
    line: Option<u32>,
    message: Vec<u8>,
    items: Vec<It>,
    /// Cut the record to this fraction of its size (in 1/16), if any.
    cut: Option<u8>,
}

impl Case {
    fn encode(&self) -> Vec<u8> {
        let m = Meta {
            kind: self.kind,
            level: self.level,
            timestamp_ns: self.timestamp_ns,
            thread_id: self.thread_id,
            thread_name: &self.thread_name,
            target: &self.target,
            module_path: &self.module_path,
            file: &self.file,
            line: self.line,
        };
        let mut buf = encode(&m, &self.message, &self.items);
        if let Some(cut) = self.cut {
            let v = RecordView::parse(&buf).unwrap();
            let meta_len = v.message().as_ptr() as usize - buf.as_ptr() as usize;
            let max = meta_len + (buf.len() - meta_len) * usize::from(cut) / 16;
            truncate(&mut buf, max);
        }
        buf
    }
}

fn any_case() -> impl Strategy<Value = Case> {
    (
        (
            prop_oneof![3 => Just(Kind::Event), 1 => Just(Kind::Raw)],
            prop::sample::select(Level::ALL.to_vec()),
            any::<u64>(),
            any::<u64>(),
            nasty_string(),
            nasty_string(),
            nasty_string(),
            nasty_string(),
            any::<Option<u32>>(),
        ),
        prop_oneof![
            3 => nasty_bytes(),
            1 => nasty_bytes().prop_map(|mut b| { b.push(b'\n'); b }),
            1 => Just(br#"{"fields":{"message":"hi"},"level":"INFO"}"#.to_vec()),
        ],
        any_items(),
        prop_oneof![3 => Just(None), 1 => (0u8..16).prop_map(Some)],
    )
        .prop_map(
            |(
                (
                    kind,
                    level,
                    timestamp_ns,
                    thread_id,
                    thread_name,
                    target,
                    module_path,
                    file,
                    line,
                ),
                message,
                items,
                cut,
            )| Case {
                kind,
                level,
                timestamp_ns,
                thread_id,
                thread_name,
                target,
                module_path,
                file,
                line,
                message,
                items,
                cut,
            },
        )
}

/// Text formats under test: the default, and one with every placeholder.
fn text_formats() -> Vec<Format> {
    vec![
        Format::text(),
        Format::text_pattern(
            "{timestamp} {level:>6} [{thread:<12}] {target} {module} {file}:{line} {{x}} {spans}{message}{fields}",
        )
        .unwrap(),
    ]
}

/// Characters no output line may hold raw (written independently of
/// `escape::is_special_char`, so a mistake there is caught here).
fn forbidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn assert_one_clean_text_line(out: &[u8]) -> Result<(), TestCaseError> {
    prop_assert_eq!(out.last(), Some(&b'\n'));
    let body = &out[..out.len() - 1];
    for &b in body {
        prop_assert!(
            b >= 0x20 && b != 0x7f,
            "control byte {:#x} in {:?}",
            b,
            String::from_utf8_lossy(out)
        );
    }
    let text = std::str::from_utf8(body);
    prop_assert!(
        text.is_ok(),
        "invalid UTF-8 in {:?}",
        String::from_utf8_lossy(out)
    );
    for c in text.unwrap().chars() {
        prop_assert!(
            !forbidden(c),
            "{:?} in {:?}",
            c,
            String::from_utf8_lossy(out)
        );
    }
    Ok(())
}

fn expected_raw_message(message: &[u8]) -> &[u8] {
    strip_line_end(message)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn prop_text_is_one_clean_line(case in any_case()) {
        let buf = case.encode();
        let rec = RecordView::parse(&buf).unwrap();
        for format in text_formats() {
            let mut r = Renderer::new(&format).unwrap();
            let mut out = Vec::new();
            r.render(&rec, &mut out);
            assert_one_clean_text_line(&out)?;
        }
    }

    #[test]
    fn prop_json_is_one_object(case in any_case()) {
        let buf = case.encode();
        let rec = RecordView::parse(&buf).unwrap();
        let mut r = Renderer::new(&Format::json()).unwrap();
        let mut out = Vec::new();
        r.render(&rec, &mut out);
        prop_assert_eq!(out.last(), Some(&b'\n'));
        prop_assert!(!out[..out.len() - 1].contains(&b'\n'));
        prop_assert!(!out.iter().any(|&b| (b < 0x20 && b != b'\n') || b == 0x7f));
        let text = std::str::from_utf8(&out);
        prop_assert!(text.is_ok());
        prop_assert!(!text.unwrap().trim_end_matches('\n').chars().any(forbidden));
        let v: Json = match serde_json::from_slice(&out) {
            Ok(v) => v,
            Err(e) => return Err(TestCaseError::fail(format!("{e}: {}", String::from_utf8_lossy(&out)))),
        };
        let obj = v.as_object().unwrap();

        let message = if case.kind == Kind::Raw {
            expected_raw_message(rec.message())
        } else {
            rec.message()
        };
        if case.kind == Kind::Raw && !rec.truncated() && passthrough::is_clean_object(message) {
            // Passed through unchanged.
            prop_assert_eq!(&out[..out.len() - 1], message);
            return Ok(());
        }
        prop_assert!(obj.contains_key("@timestamp"));
        prop_assert_eq!(obj["log.level"].as_str(), Some(case.level.as_lower_str()));
        prop_assert_eq!(obj["ecs.version"].as_str(), Some("8.11"));
        let got = obj["message"].as_str().unwrap();
        if let Ok(m) = std::str::from_utf8(message) {
            if rec.truncated() {
                prop_assert!(got.starts_with(m));
                let marker = format!(" …[truncated from {} bytes]", rec.orig_len);
                prop_assert!(got.ends_with(&marker));
                prop_assert_eq!(&obj["jamless.truncated"], &Json::Bool(true));
            } else {
                prop_assert_eq!(got, m);
            }
        }
        if !case.target.is_empty() {
            prop_assert_eq!(obj["log.logger"].as_str(), Some(case.target.as_str()));
        }
        prop_assert_eq!(obj["process.thread.id"].as_u64(), Some(case.thread_id));
        if rec.truncated() {
            return Ok(());
        }

        // Event fields, where their key is unique, carry their value.
        let event_fields: Vec<(&String, &OwnedValue)> = case
            .items
            .iter()
            .take_while(|i| matches!(i, It::Field(..)))
            .map(|i| match i {
                It::Field(k, v) => (k, v),
                It::Span(_) => unreachable!(),
            })
            .collect();
        for (k, v) in &event_fields {
            let key = if json::collides(k.as_bytes(), json::RESERVED) {
                format!("fields.{k}")
            } else {
                (*k).clone()
            };
            let dupes = event_fields
                .iter()
                .filter(|(k2, _)| *k2 == *k || format!("fields.{k2}") == key || **k2 == key)
                .count();
            if dupes > 1 {
                continue;
            }
            let got = &obj[&key];
            match v {
                OwnedValue::Str(s) => {
                    if let Ok(s) = std::str::from_utf8(s) {
                        prop_assert_eq!(got.as_str(), Some(s));
                    } else {
                        prop_assert!(got.is_string());
                    }
                }
                OwnedValue::I64(n) => prop_assert_eq!(got.as_i64(), Some(*n)),
                OwnedValue::U64(n) => prop_assert_eq!(got.as_u64(), Some(*n)),
                OwnedValue::F64(f) if f.is_nan() => prop_assert_eq!(got.as_str(), Some("NaN")),
                OwnedValue::F64(f) if f.is_infinite() => {
                    prop_assert_eq!(got.as_str(), Some(if *f > 0.0 { "inf" } else { "-inf" }));
                }
                OwnedValue::F64(f) => {
                    let g = got.as_f64().unwrap();
                    prop_assert!((g - f).abs() <= f.abs() * 1e-15, "{} vs {}", g, f);
                }
                OwnedValue::Bool(b) => prop_assert_eq!(got.as_bool(), Some(*b)),
            }
        }
        let span_names: Vec<&String> = case
            .items
            .iter()
            .filter_map(|i| match i {
                It::Span(n) => Some(n),
                It::Field(..) => None,
            })
            .collect();
        if span_names.is_empty() {
            prop_assert!(obj.get("spans").is_none());
        } else {
            let spans = obj["spans"].as_array().unwrap();
            prop_assert_eq!(spans.len(), span_names.len());
            for (s, n) in spans.iter().zip(span_names) {
                prop_assert_eq!(s["name"].as_str(), Some(n.as_str()));
            }
        }
    }

    #[test]
    fn prop_batches_have_one_line_per_record(cases in prop::collection::vec(any_case(), 1..8)) {
        for format in [Format::text(), Format::json()] {
            let mut r = Renderer::new(&format).unwrap();
            let mut out = Vec::new();
            for case in &cases {
                let buf = case.encode();
                r.render(&RecordView::parse(&buf).unwrap(), &mut out);
            }
            prop_assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), cases.len());
        }
    }

    #[test]
    fn prop_floats_round_trip(
        f in prop_oneof![
            any::<f64>(),
            (any::<i32>(), 0u32..5).prop_map(|(n, k)| f64::from(n) / 10f64.powi(k as i32)),
            (0u64..1 << 53).prop_map(|n| n as f64),
        ]
    ) {
        let mut out = Vec::new();
        push_float(f, &mut out);
        let text = std::str::from_utf8(&out).unwrap();
        if f.is_finite() {
            let back: f64 = text.parse().unwrap();
            prop_assert_eq!(back.to_bits(), f.to_bits(), "{} -> {}", f, text);
            // Also a valid JSON number.
            let j: Json = serde_json::from_str(text).unwrap();
            prop_assert!(j.is_number(), "{}", text);
            // Never longer than ryu's shortest form.
            let ryu_len = ryu::Buffer::new().format_finite(f).len();
            prop_assert!(out.len() <= ryu_len, "{} vs ryu", text);
        } else {
            prop_assert!(["NaN", "inf", "-inf"].contains(&text));
        }
    }

    #[test]
    fn prop_patterns_never_panic(pattern in "[{}a-z:<>0-9 ]{0,30}") {
        if let Ok(format) = Format::text_pattern(&pattern) {
            let mut r = Renderer::new(&format).unwrap();
            let mut out = Vec::new();
            r.render(&RecordView::parse(&served()).unwrap(), &mut out);
            assert_one_clean_text_line(&out)?;
        }
    }
}
