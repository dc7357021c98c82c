use super::*;
use crate::record::{encode_pending, Item, Meta, RecordView};

/// Encodes `record` as the caller path does, from thread 7 "worker-1".
fn encode(record: &log::Record<'_>) -> Vec<u8> {
    let site = site(record);
    let meta = Meta {
        kind: Kind::Event,
        level: Level::from(record.level()),
        timestamp_ns: 1,
        thread_id: 7,
        thread_name: "worker-1",
        target: site.target,
        module_path: site.module_path,
        file: site.file,
        line: site.line,
    };
    encode_pending(&meta, |enc| encode_record(enc, record))
}

#[test]
fn encodes_metadata_message_and_typed_key_values() {
    let big = u128::MAX;
    let kvs: &[(&str, kv::Value<'_>)] = &[
        ("user_id", kv::Value::from(42u64)),
        ("delta", kv::Value::from(-3i64)),
        ("ratio", kv::Value::from(0.5f64)),
        ("admin", kv::Value::from(true)),
        ("name", kv::Value::from("ann")),
        (
            "addr",
            kv::Value::from_display(&std::net::Ipv4Addr::LOCALHOST),
        ),
        ("big", kv::Value::from(big)),
    ];
    let args = format_args!("login {} ok", 3);
    let record = log::Record::builder()
        .args(args)
        .level(log::Level::Warn)
        .target("app::auth")
        .module_path(Some("app::auth::login"))
        .file(Some("src/auth.rs"))
        .line(Some(12))
        .key_values(&kvs)
        .build();
    let buf = encode(&record);

    let view = RecordView::parse(&buf).unwrap();
    assert_eq!(view.kind, Kind::Event);
    assert_eq!(view.level, Level::Warn);
    assert_eq!(view.target, b"app::auth");
    assert_eq!(view.module_path, b"app::auth::login");
    assert_eq!(view.file, b"src/auth.rs");
    assert_eq!(view.line, Some(12));
    assert_eq!(view.thread_id, 7);
    assert_eq!(view.thread_name, b"worker-1");
    assert_eq!(view.message(), b"login 3 ok");
    let items: Vec<Item<'_>> = view.items().map(Result::unwrap).collect();
    let big_text = big.to_string();
    assert_eq!(
        items,
        vec![
            Item::Field(b"user_id", Value::U64(42)),
            Item::Field(b"delta", Value::I64(-3)),
            Item::Field(b"ratio", Value::F64(0.5)),
            Item::Field(b"admin", Value::Bool(true)),
            Item::Field(b"name", Value::Str(b"ann")),
            Item::Field(b"addr", Value::Str(b"127.0.0.1")),
            Item::Field(b"big", Value::Str(big_text.as_bytes())),
        ]
    );
}

#[test]
fn record_without_location_or_fields() {
    let record = log::Record::builder()
        .args(format_args!("plain"))
        .level(log::Level::Info)
        .target("t")
        .build();
    let buf = encode(&record);
    let view = RecordView::parse(&buf).unwrap();
    assert_eq!(view.message(), b"plain");
    assert_eq!(view.module_path, b"");
    assert_eq!(view.file, b"");
    assert_eq!(view.line, None);
    assert_eq!(view.items().count(), 0);
}

#[test]
fn filter_parsing_reports_errors() {
    assert!(parse_filter("info,app::db=debug").is_ok());
    assert!(parse_filter("").is_ok());
    let err = parse_filter("app=loud").unwrap_err();
    assert!(err.is_config(), "{err}");
    assert!(parse_filter("info/[unclosed").unwrap_err().is_config());
    assert!(parse_filter("a/b/c").unwrap_err().is_config());
}

#[test]
fn filter_enables_by_target_and_level() {
    let filter = parse_filter("warn,app::db=debug").unwrap();
    let enabled = |level, target| {
        filter.enabled(&log::Metadata::builder().level(level).target(target).build())
    };
    assert!(enabled(log::Level::Warn, "other"));
    assert!(!enabled(log::Level::Info, "other"));
    assert!(enabled(log::Level::Debug, "app::db::pool"));
    assert!(!enabled(log::Level::Trace, "app::db"));
    assert_eq!(filter.filter(), log::LevelFilter::Debug);
}

#[test]
fn a_global_level_decides_as_the_filter_does() {
    let targets = ["", "app", "app::db", "info", "warn"];
    for spec in ["info", "WARN", " debug ", "trace", "error", "off", "Off"] {
        let global = global_level(spec).unwrap_or_else(|| panic!("{spec:?}"));
        let filter = parse_filter(spec).unwrap();
        assert_eq!(global, filter.filter(), "{spec:?}");
        for level in log::Level::iter() {
            for target in targets {
                let m = log::Metadata::builder().level(level).target(target).build();
                assert_eq!(
                    level <= global,
                    filter.enabled(&m),
                    "{spec:?} {level} {target}"
                );
            }
        }
    }
    for spec in [
        "",
        "app",
        "info,app=debug",
        "app=info",
        "info/x",
        "debug,warn",
    ] {
        assert_eq!(global_level(spec), None, "{spec:?}");
    }
}
