//! No JSON line holds a key twice: repeated `log` key-values and `tracing`
//! fields, and a field that meets the name another was renamed to, are
//! written under the first free `<key>_<n>`, every value kept. Lines are
//! read back from a real file with a reader that fails on a duplicate key
//! at any depth.
#![cfg(all(feature = "log", feature = "tracing"))]

mod common;

use common::{assert_accounted, settle};

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use jamless::{Builder, Format, Guard, Logger};
use log::Log;
use serde::de::{Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

/// Any JSON value, read with a check that no object at any depth holds a
/// key twice (a map would hide a duplicate by keeping the last value).
struct NoDuplicateKeys;

impl<'de> serde::Deserialize<'de> for NoDuplicateKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<NoDuplicateKeys, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = NoDuplicateKeys;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NoDuplicateKeys, A::Error> {
                let mut keys = HashSet::new();
                while let Some((key, NoDuplicateKeys)) =
                    map.next_entry::<String, NoDuplicateKeys>()?
                {
                    if !keys.insert(key.clone()) {
                        return Err(A::Error::custom(format!("duplicate key {key:?}")));
                    }
                }
                Ok(NoDuplicateKeys)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NoDuplicateKeys, A::Error> {
                while let Some(NoDuplicateKeys) = seq.next_element::<NoDuplicateKeys>()? {}
                Ok(NoDuplicateKeys)
            }
            fn visit_bool<E>(self, _: bool) -> Result<NoDuplicateKeys, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_i64<E>(self, _: i64) -> Result<NoDuplicateKeys, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_u64<E>(self, _: u64) -> Result<NoDuplicateKeys, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_f64<E>(self, _: f64) -> Result<NoDuplicateKeys, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_str<E>(self, _: &str) -> Result<NoDuplicateKeys, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_unit<E>(self) -> Result<NoDuplicateKeys, E> {
                Ok(NoDuplicateKeys)
            }
        }
        d.deserialize_any(V)
    }
}

fn logger(dir: &Path) -> (Logger, Guard) {
    Builder::new()
        .file(dir.join("app.log"))
        .format(Format::json())
        .filter("trace")
        .build()
        .unwrap()
}

/// The one line written, parsed, after checking that the record is
/// accounted for and that no object in the line holds a key twice.
fn one_line(logger: &Logger, dir: &Path) -> serde_json::Map<String, Value> {
    let h = settle(logger);
    assert_accounted(&h, 1);
    assert_eq!(h.written, 1, "{h}");
    let text = std::fs::read_to_string(dir.join("app.log")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    if let Err(e) = serde_json::from_str::<NoDuplicateKeys>(lines[0]) {
        panic!("{e} in {}", lines[0]);
    }
    match serde_json::from_str(lines[0]) {
        Ok(Value::Object(o)) => o,
        other => panic!("not a JSON object ({other:?}): {}", lines[0]),
    }
}

#[test]
fn the_duplicate_check_sees_a_duplicate() {
    assert!(serde_json::from_str::<NoDuplicateKeys>(r#"{"a":[{"b":1,"b":2}]}"#).is_err());
    assert!(serde_json::from_str::<NoDuplicateKeys>(r#"{"a":[{"b":1,"c":2}],"b":3}"#).is_ok());
}

#[test]
fn repeated_log_key_values_keep_every_value_under_distinct_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (logger, _guard) = logger(dir.path());
    let adapter = logger.log_adapter().unwrap();
    let pairs = [
        ("a", log::kv::Value::from(1u64)),
        ("a", log::kv::Value::from(2u64)),
        ("a_2", log::kv::Value::from(3u64)),
        ("message", log::kv::Value::from("m1")),
        ("fields.message", log::kv::Value::from("m2")),
        ("a", log::kv::Value::from(4u64)),
    ];
    adapter.log(
        &log::Record::builder()
            .level(log::Level::Info)
            .target("t")
            .args(format_args!("the message"))
            .key_values(&pairs)
            .build(),
    );
    let e = one_line(&logger, dir.path());
    assert_eq!(e.get("message"), Some(&Value::from("the message")));
    for (key, want) in [
        ("a", Value::from(1)),
        ("a_2", Value::from(2)),
        ("a_2_2", Value::from(3)),
        ("fields.message", Value::from("m1")),
        ("fields.message_2", Value::from("m2")),
        ("a_3", Value::from(4)),
    ] {
        assert_eq!(e.get(key), Some(&want), "{key} in {e:?}");
    }
}

#[test]
fn repeated_tracing_fields_in_the_event_and_in_a_span_keep_every_value() {
    let dir = tempfile::tempdir().unwrap();
    let (logger, _guard) = logger(dir.path());
    let layer = logger
        .tracing_layer()
        .with_filter(logger.tracing_filter().unwrap());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let span = tracing::info_span!("s", k = 1u64, k = 2u64, name = "n1");
        let _e = span.enter();
        tracing::info!(x = 1u64, x = 2u64, "event");
    });
    let e = one_line(&logger, dir.path());
    assert_eq!(e.get("x"), Some(&Value::from(1)), "{e:?}");
    assert_eq!(e.get("x_2"), Some(&Value::from(2)), "{e:?}");
    let spans = e.get("spans").and_then(Value::as_array).unwrap();
    assert_eq!(spans.len(), 1);
    let s = &spans[0];
    assert_eq!(s["name"], "s", "{s}");
    assert_eq!(s["k"], 1, "{s}");
    assert_eq!(s["k_2"], 2, "{s}");
    assert_eq!(s["fields.name"], "n1", "{s}");
}
