//! Tests of the record format: examples, then properties.

use super::*;

use proptest::prelude::*;

fn meta<'a>() -> Meta<'a> {
    Meta {
        kind: Kind::Event,
        level: Level::Info,
        timestamp_ns: 1_795_000_000_123_456_789,
        thread_id: 7,
        thread_name: "main",
        target: "app::http",
        module_path: "app::http::server",
        file: "src/http.rs",
        line: Some(42),
    }
}

fn items<'a>(view: &RecordView<'a>) -> Vec<Item<'a>> {
    view.items().map(|i| i.unwrap()).collect()
}

#[test]
fn round_trip_example() {
    let mut buf = Vec::new();
    let mut enc = Encoder::new(&mut buf, &meta());
    enc.message_bytes(b"request ");
    enc.message_fmt(format_args!("served in {} ms", 12));
    enc.field("path", Value::Str(b"/v1"));
    enc.field("status", Value::U64(200));
    enc.field_fmt("peer", format_args!("{:?}", "10.0.0.1"));
    enc.span("conn");
    enc.field("id", Value::I64(-3));
    enc.span("req");
    enc.field("ratio", Value::F64(0.5));
    enc.field("ok", Value::Bool(true));
    let len = enc.finish();
    assert_eq!(len, buf.len());

    let v = RecordView::parse(&buf).unwrap();
    assert_eq!(v.kind, Kind::Event);
    assert_eq!(v.level, Level::Info);
    assert_eq!(v.timestamp_ns, 1_795_000_000_123_456_789);
    assert_eq!(v.thread_id, 7);
    assert_eq!(v.thread_name, b"main");
    assert_eq!(v.target, b"app::http");
    assert_eq!(v.module_path, b"app::http::server");
    assert_eq!(v.file, b"src/http.rs");
    assert_eq!(v.line, Some(42));
    assert!(!v.truncated());
    assert_eq!(v.orig_len, 0);
    assert_eq!(v.message(), b"request served in 12 ms");
    assert_eq!(
        items(&v),
        vec![
            Item::Field(b"path", Value::Str(b"/v1")),
            Item::Field(b"status", Value::U64(200)),
            Item::Field(b"peer", Value::Str(b"\"10.0.0.1\"")),
            Item::Span(b"conn"),
            Item::Field(b"id", Value::I64(-3)),
            Item::Span(b"req"),
            Item::Field(b"ratio", Value::F64(0.5)),
            Item::Field(b"ok", Value::Bool(true)),
        ]
    );
}

#[test]
fn empty_record_and_raw_kind() {
    let mut buf = Vec::new();
    let m = Meta {
        kind: Kind::Raw,
        level: Level::Trace,
        thread_name: "",
        target: "",
        module_path: "",
        file: "",
        line: None,
        ..meta()
    };
    Encoder::new(&mut buf, &m).finish();
    assert_eq!(buf.len(), HEADER_LEN + 1 + 3 * 2);
    let v = RecordView::parse(&buf).unwrap();
    assert_eq!(v.kind, Kind::Raw);
    assert_eq!(v.level, Level::Trace);
    assert_eq!(v.line, None);
    assert_eq!(v.message(), b"");
    assert!(v.thread_name.is_empty() && v.target.is_empty());
    assert_eq!(v.items().count(), 0);
}

#[test]
fn buffer_is_reused() {
    let mut buf = Vec::new();
    let mut enc = Encoder::new(&mut buf, &meta());
    enc.message_bytes(&[b'x'; 1000]);
    enc.finish();
    let cap = buf.capacity();
    let mut enc = Encoder::new(&mut buf, &meta());
    enc.message_bytes(b"short");
    enc.finish();
    assert_eq!(buf.capacity(), cap);
    assert_eq!(RecordView::parse(&buf).unwrap().message(), b"short");
}

#[test]
fn long_metadata_is_cut_at_a_character_boundary() {
    let name = "é".repeat(200); // 400 bytes
    let target = "東".repeat(100); // 300 bytes
    let m = Meta {
        thread_name: &name,
        target: &target,
        module_path: &target,
        file: &target,
        ..meta()
    };
    let mut buf = Vec::new();
    let mut enc = Encoder::new(&mut buf, &m);
    enc.field(&target, Value::Bool(false));
    enc.finish();
    let v = RecordView::parse(&buf).unwrap();
    assert_eq!(v.thread_name.len(), 254);
    assert!(name.as_bytes().starts_with(v.thread_name));
    for s in [v.target, v.module_path, v.file] {
        assert_eq!(s.len(), 255);
        assert!(std::str::from_utf8(s).is_ok());
    }
    assert_eq!(
        items(&v),
        vec![Item::Field(target.as_bytes(), Value::Bool(false))]
    );
}

#[test]
fn a_line_of_u32_max_reads_as_none() {
    let mut buf = Vec::new();
    let m = Meta {
        line: Some(u32::MAX),
        ..meta()
    };
    Encoder::new(&mut buf, &m).finish();
    assert_eq!(RecordView::parse(&buf).unwrap().line, None);
}

#[test]
fn formatting_error_is_marked() {
    struct Bad;
    impl fmt::Display for Bad {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("part")?;
            Err(fmt::Error)
        }
    }
    let mut buf = Vec::new();
    let mut enc = Encoder::new(&mut buf, &meta());
    enc.message_fmt(format_args!("{}", Bad));
    enc.field_fmt("k", format_args!("{}", Bad));
    enc.finish();
    let v = RecordView::parse(&buf).unwrap();
    assert_eq!(v.message(), b"part<formatting error>");
    assert_eq!(
        items(&v),
        vec![Item::Field(b"k", Value::Str(b"part<formatting error>"))]
    );
}

#[test]
fn truncate_example() {
    let mut buf = Vec::new();
    let mut enc = Encoder::new(&mut buf, &meta());
    enc.message_bytes("aé東🎉".as_bytes()); // 1 + 2 + 3 + 4 bytes
    enc.field("k", Value::U64(1));
    enc.finish();
    let full = buf.len();
    let msg_start = full - 10 - (1 + 2 + 1 + 1 + 8);
    assert!(!truncate(&mut buf, full));
    assert_eq!(buf.len(), full);

    // Room for 5 message bytes: "aé" (3 bytes) is the longest whole prefix.
    let mut b = buf.clone();
    assert!(truncate(&mut b, msg_start + 5));
    let v = RecordView::parse(&b).unwrap();
    assert!(v.truncated());
    assert_eq!(v.orig_len as usize, full);
    assert_eq!(v.message(), "aé".as_bytes());
    assert_eq!(v.items().count(), 0);

    // Room for the whole message but not the field: the field goes.
    let mut b = buf.clone();
    assert!(truncate(&mut b, full - 1));
    let v = RecordView::parse(&b).unwrap();
    assert!(v.truncated());
    assert_eq!(v.message(), "aé東🎉".as_bytes());
    assert_eq!(v.items().count(), 0);

    // No room at all for the message.
    let mut b = buf.clone();
    assert!(truncate(&mut b, msg_start));
    let v = RecordView::parse(&b).unwrap();
    assert_eq!(v.message(), b"");
    assert_eq!(b.len(), msg_start);
}

#[test]
fn truncate_binary_message_steps_back_at_most_three_bytes() {
    // A raw line of binary bytes: all UTF-8 continuation bytes.
    let mut buf = Vec::new();
    let mut enc = Encoder::new(&mut buf, &meta());
    enc.message_bytes(&[0x80; 100]);
    enc.finish();
    let msg_start = buf.len() - 100;
    assert!(truncate(&mut buf, msg_start + 50));
    let v = RecordView::parse(&buf).unwrap();
    assert_eq!(v.message(), &[0x80; 47][..]);
}

#[test]
fn malformed_input() {
    assert_eq!(RecordView::parse(&[]).unwrap_err(), DecodeError);
    let mut buf = Vec::new();
    let mut enc = Encoder::new(&mut buf, &meta());
    enc.message_bytes(b"m");
    enc.field("a", Value::I64(1));
    enc.finish();
    let good = buf.clone();

    let mut b = good.clone();
    b[0] = 9; // unknown kind
    assert!(RecordView::parse(&b).is_err());
    let mut b = good.clone();
    b[1] = 0; // unknown level
    assert!(RecordView::parse(&b).is_err());
    let mut b = good.clone();
    b[OFF_MSG_LEN] = 200; // message longer than the record
    assert!(RecordView::parse(&b).is_err());
    // Every strict prefix of the header and metadata fails to parse.
    let msg_start = good.len() - 1 - (1 + 2 + 1 + 1 + 8);
    for n in 0..msg_start + 1 {
        assert!(RecordView::parse(&good[..n]).is_err(), "{n}");
    }
    // A cut inside the fields gives one error, then the iteration ends.
    let v = RecordView::parse(&good[..good.len() - 3]).unwrap();
    let got: Vec<_> = v.items().collect();
    assert_eq!(got, vec![Err(DecodeError)]);
    // An unknown item tag or value tag is an error too.
    let mut b = good.clone();
    b[msg_start + 1] = 7;
    let v = RecordView::parse(&b).unwrap();
    assert_eq!(v.items().collect::<Vec<_>>(), vec![Err(DecodeError)]);
    let mut b = good.clone();
    b[msg_start + 1 + 3 + 1] = 9;
    let v = RecordView::parse(&b).unwrap();
    assert_eq!(v.items().collect::<Vec<_>>(), vec![Err(DecodeError)]);
}

// ---------------------------------------------------------------- properties

#[derive(Debug, Clone)]
struct OwnedMeta {
    kind: Kind,
    level: Level,
    timestamp_ns: u64,
    thread_id: u64,
    thread_name: String,
    target: String,
    module_path: String,
    file: String,
    line: Option<u32>,
}

impl OwnedMeta {
    fn meta(&self) -> Meta<'_> {
        Meta {
            kind: self.kind,
            level: self.level,
            timestamp_ns: self.timestamp_ns,
            thread_id: self.thread_id,
            thread_name: &self.thread_name,
            target: &self.target,
            module_path: &self.module_path,
            file: &self.file,
            line: self.line,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum OwnedValue {
    Str(Vec<u8>),
    I64(i64),
    U64(u64),
    F64(u64),
    Bool(bool),
}

impl OwnedValue {
    fn value(&self) -> Value<'_> {
        match self {
            OwnedValue::Str(s) => Value::Str(s),
            OwnedValue::I64(v) => Value::I64(*v),
            OwnedValue::U64(v) => Value::U64(*v),
            OwnedValue::F64(bits) => Value::F64(f64::from_bits(*bits)),
            OwnedValue::Bool(v) => Value::Bool(*v),
        }
    }

    fn from_value(v: Value<'_>) -> OwnedValue {
        match v {
            Value::Str(s) => OwnedValue::Str(s.to_vec()),
            Value::I64(v) => OwnedValue::I64(v),
            Value::U64(v) => OwnedValue::U64(v),
            // Compare floats by their bits, so NaN equals itself.
            Value::F64(v) => OwnedValue::F64(v.to_bits()),
            Value::Bool(v) => OwnedValue::Bool(v),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum OwnedItem {
    Field(String, OwnedValue),
    Span(String),
}

fn any_level() -> impl Strategy<Value = Level> {
    prop::sample::select(Level::ALL.to_vec())
}

fn any_meta() -> impl Strategy<Value = OwnedMeta> {
    (
        prop_oneof![Just(Kind::Event), Just(Kind::Raw)],
        any_level(),
        any::<u64>(),
        any::<u64>(),
        ".{0,20}",
        ".{0,40}",
        ".{0,40}",
        ".{0,40}",
        any::<Option<u32>>().prop_map(|l| l.filter(|&l| l != u32::MAX)),
    )
        .prop_map(
            |(
                kind,
                level,
                timestamp_ns,
                thread_id,
                thread_name,
                target,
                module_path,
                file,
                line,
            )| {
                OwnedMeta {
                    kind,
                    level,
                    timestamp_ns,
                    thread_id,
                    thread_name,
                    target,
                    module_path,
                    file,
                    line,
                }
            },
        )
}

fn any_value() -> impl Strategy<Value = OwnedValue> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..40).prop_map(OwnedValue::Str),
        any::<i64>().prop_map(OwnedValue::I64),
        any::<u64>().prop_map(OwnedValue::U64),
        any::<u64>().prop_map(OwnedValue::F64),
        any::<f64>().prop_map(|f| OwnedValue::F64(f.to_bits())),
        any::<bool>().prop_map(OwnedValue::Bool),
    ]
}

fn any_items() -> impl Strategy<Value = Vec<OwnedItem>> {
    prop::collection::vec(
        prop_oneof![
            4 => (".{0,12}", any_value()).prop_map(|(k, v)| OwnedItem::Field(k, v)),
            1 => ".{0,12}".prop_map(OwnedItem::Span),
        ],
        0..12,
    )
}

fn encode(m: &OwnedMeta, message: &[u8], items: &[OwnedItem]) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut enc = Encoder::new(&mut buf, &m.meta());
    enc.message_bytes(message);
    for item in items {
        match item {
            OwnedItem::Field(k, v) => enc.field(k, v.value()),
            OwnedItem::Span(name) => enc.span(name),
        }
    }
    enc.finish();
    buf
}

fn decoded_items(v: &RecordView<'_>) -> Vec<OwnedItem> {
    v.items()
        .map(|i| match i.unwrap() {
            Item::Field(k, v) => OwnedItem::Field(
                String::from_utf8(k.to_vec()).unwrap(),
                OwnedValue::from_value(v),
            ),
            Item::Span(n) => OwnedItem::Span(String::from_utf8(n.to_vec()).unwrap()),
        })
        .collect()
}

proptest! {
    #[test]
    fn prop_round_trip(
        m in any_meta(),
        message in prop::collection::vec(any::<u8>(), 0..200),
        items in any_items(),
    ) {
        let buf = encode(&m, &message, &items);
        let v = RecordView::parse(&buf).unwrap();
        prop_assert_eq!(v.kind, m.kind);
        prop_assert_eq!(v.level, m.level);
        prop_assert_eq!(v.timestamp_ns, m.timestamp_ns);
        prop_assert_eq!(v.thread_id, m.thread_id);
        prop_assert_eq!(v.thread_name, m.thread_name.as_bytes());
        prop_assert_eq!(v.target, m.target.as_bytes());
        prop_assert_eq!(v.module_path, m.module_path.as_bytes());
        prop_assert_eq!(v.file, m.file.as_bytes());
        prop_assert_eq!(v.line, m.line);
        prop_assert!(!v.truncated());
        prop_assert_eq!(v.message(), &message[..]);
        prop_assert_eq!(decoded_items(&v), items);
    }

    #[test]
    fn prop_truncate(
        m in any_meta(),
        message in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..300),
            ".{0,100}".prop_map(String::into_bytes),
        ],
        items in any_items(),
        slack in 0usize..400,
    ) {
        let buf = encode(&m, &message, &items);
        // Where the message starts: the header and metadata must fit.
        let meta_len = {
            let v = RecordView::parse(&buf).unwrap();
            v.message().as_ptr() as usize - buf.as_ptr() as usize
        };
        let max = meta_len + slack;
        let mut b = buf.clone();
        let cut = truncate(&mut b, max);
        prop_assert_eq!(cut, buf.len() > max);
        let v = RecordView::parse(&b).unwrap();
        prop_assert!(message.starts_with(v.message()));
        if cut {
            prop_assert!(b.len() <= max);
            prop_assert!(v.truncated());
            prop_assert_eq!(v.orig_len as usize, buf.len());
            prop_assert_eq!(v.items().count(), 0);
            // Valid UTF-8 stays valid: the cut is on a character boundary.
            if std::str::from_utf8(&message).is_ok() {
                prop_assert!(std::str::from_utf8(v.message()).is_ok());
            }
            // Nothing more was cut than needed.
            let room = max - meta_len;
            prop_assert!(v.message().len() + 3 >= room.min(message.len()));
            prop_assert_eq!(v.target, m.target.as_bytes());
        } else {
            prop_assert_eq!(&b, &buf);
            prop_assert!(!v.truncated());
        }
        // Cutting again changes nothing.
        let mut again = b.clone();
        prop_assert!(!truncate(&mut again, max.max(b.len())));
        prop_assert_eq!(again, b);
    }

    /// The caller path (body encoded, head and body written into the
    /// claimed space, cut by `Pending::truncate`) produces exactly the bytes
    /// of a whole record encoded and cut in one buffer.
    #[test]
    fn prop_pending_matches_whole_record(
        m in any_meta(),
        message in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..300),
            ".{0,100}".prop_map(String::into_bytes),
        ],
        items in any_items(),
        slack in 0usize..400,
    ) {
        let whole = encode(&m, &message, &items);
        let meta_len = whole.len() - {
            let v = RecordView::parse(&whole).unwrap();
            whole.len() - (v.message().as_ptr() as usize - whole.as_ptr() as usize)
        };
        let max = meta_len + slack;
        let mut expected = whole.clone();
        let cut = truncate(&mut expected, max);

        let mut buf = vec![0xAA; 7]; // a reused buffer is cleared first
        let mut enc = Encoder::body(&mut buf);
        enc.message_bytes(&message);
        for item in &items {
            match item {
                OwnedItem::Field(k, v) => enc.field(k, v.value()),
                OwnedItem::Span(name) => enc.span(name),
            }
        }
        let msg_len = enc.finish_body();
        prop_assert_eq!(msg_len, message.len());
        let meta = m.meta();
        let mut rec = Pending::new(Head::new(&meta), &buf, msg_len);
        prop_assert_eq!(rec.len(), whole.len());
        prop_assert_eq!(rec.truncate(max), cut);
        let mut out = vec![0; rec.len()];
        rec.write(&mut out);
        prop_assert_eq!(out, expected);
    }

    #[test]
    fn prop_random_bytes_never_panic(
        head in prop_oneof![
            Just(Vec::new()),
            (1u8..=2, 1u8..=5).prop_map(|(kind, level)| vec![kind, level]),
        ],
        tail in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        // Half the inputs start with a valid kind and level, so they get
        // past the first checks.
        let bytes = [head, tail].concat();
        if let Ok(v) = RecordView::parse(&bytes) {
            let _ = v.message();
            let n = v.items().take(1000).count();
            prop_assert!(n <= bytes.len());
        }
    }

    #[test]
    fn prop_corrupted_records_never_panic(
        m in any_meta(),
        message in prop::collection::vec(any::<u8>(), 0..50),
        items in any_items(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut buf = encode(&m, &message, &items);
        for (at, byte) in edits {
            let i = at.index(buf.len());
            buf[i] = byte;
        }
        let len = cut.index(buf.len() + 1);
        buf.truncate(len);
        if let Ok(v) = RecordView::parse(&buf) {
            let _ = v.message();
            let mut errors = 0;
            for item in v.items() {
                errors += item.is_err() as usize;
            }
            prop_assert!(errors <= 1);
            let mut b = buf.clone();
            truncate(&mut b, buf.len() / 2);
        }
    }
}

#[test]
fn a_native_record_carries_its_site_id_and_resolves_to_an_event() {
    // The site's strings and line are given, as the caller has them ...
    let native = Meta {
        kind: Kind::Native,
        target: "app::db",
        module_path: "app::db",
        file: "src/db.rs",
        line: Some(9),
        ..meta()
    };
    let buf = encode_pending(&native, |enc| {
        let b = enc.message_buf();
        b.extend_from_slice(&7u32.to_le_bytes());
        b.extend_from_slice(b"args");
        enc.field("k", Value::U64(1));
    });
    // ... but the head holds empty strings where an event holds them.
    assert_eq!(buf[OFF_KIND], Kind::Native as u8);
    assert_eq!(
        buf.len(),
        HEADER_LEN + 1 + 4 + 6 + NATIVE_ID_LEN + 4 + 1 + 2 + 1 + 1 + 8
    );
    let v = RecordView::parse(&buf).unwrap();
    assert_eq!(
        (v.target, v.module_path, v.file, v.line),
        (&b""[..], &b""[..], &b""[..], None)
    );
    assert_eq!(v.native_parts(), Ok((7, &b"args"[..])));
    let long = "t".repeat(MAX_META_STR + 10);
    let site = Site {
        target: &long,
        module_path: "app::db",
        file: "src/db.rs",
        line: Some(9),
    };
    let e = v.resolved(site, b"formatted");
    assert_eq!(e.kind, Kind::Event);
    assert_eq!(e.message(), b"formatted");
    assert_eq!(e.target.len(), MAX_META_STR, "cut as the head cuts");
    assert_eq!(
        (e.module_path, e.file, e.line),
        (&b"app::db"[..], &b"src/db.rs"[..], Some(9))
    );
    assert_eq!(
        (e.timestamp_ns, e.thread_id, e.thread_name),
        (v.timestamp_ns, 7, &b"main"[..])
    );
    assert_eq!(items(&e), vec![Item::Field(b"k", Value::U64(1))]);

    // An event is not a native record, and a message too short for the id
    // is a decode error.
    let event = encode_pending(&meta(), |enc| enc.message_bytes(b"x"));
    let event = RecordView::parse(&event).unwrap();
    assert_eq!(event.native_parts(), Err(DecodeError));
    let short = encode_pending(&native, |enc| enc.message_bytes(b"ab"));
    assert_eq!(
        RecordView::parse(&short).unwrap().native_parts(),
        Err(DecodeError)
    );
}

#[test]
fn a_module_path_equal_to_the_target_is_stored_once() {
    let same = Meta {
        module_path: "app::http",
        ..meta()
    };
    let body = |enc: &mut Encoder<'_>| enc.message_bytes(b"hello");
    let once = encode_pending(&same, body);
    let twice = encode_pending(&meta(), body);
    let view = RecordView::parse(&once).unwrap();
    assert_eq!(view.module_path, b"app::http");
    assert_eq!(view.target, b"app::http");
    assert_eq!(view.message(), b"hello");
    assert!(!view.truncated());
    // Stored once: this record lacks only the module path's bytes.
    assert_eq!(twice.len() - once.len(), "app::http::server".len());
    let other = RecordView::parse(&twice).unwrap();
    assert_eq!(other.module_path, b"app::http::server");
    // An empty module path with an empty target stays empty.
    let none = Meta {
        target: "",
        module_path: "",
        ..meta()
    };
    let rec = encode_pending(&none, body);
    let view = RecordView::parse(&rec).unwrap();
    assert_eq!((view.target, view.module_path), (&b""[..], &b""[..]));
}
