//! Any pattern: parsing never panics, and a pattern that parses renders
//! every record, hostile ones included, as one clean text line.
#![no_main]

use jamless::__fuzz::{self, FieldValue, Input, InputItem};
use jamless::Format;
use jamless_fuzz::check_text;
use libfuzzer_sys::fuzz_target;

const HOSTILE: &str = "a\nb\rc\0d\u{1b}[31m\u{7f}\u{85}\u{9b}\u{2028}\u{2029}\u{202e}\u{2066}z";

fn records() -> Vec<Vec<u8>> {
    let items = [
        InputItem::Field(HOSTILE, FieldValue::Str(HOSTILE.as_bytes())),
        InputItem::Field("n", FieldValue::F64(f64::NAN)),
        InputItem::Span(HOSTILE),
        InputItem::Field("id", FieldValue::U64(7)),
        InputItem::Span("inner"),
    ];
    let base = Input {
        raw: false,
        level: 3,
        timestamp_ns: 1_795_000_000_123_456_789,
        thread_id: 7,
        thread_name: HOSTILE,
        target: HOSTILE,
        module_path: HOSTILE,
        file: HOSTILE,
        line: Some(42),
        message: b"msg \xff\xfe\n\x1b[0m",
        items: &items,
        max_record: None,
    };
    let raw = Input {
        raw: true,
        items: &[],
        ..base.clone()
    };
    let empty = Input {
        thread_name: "",
        target: "",
        module_path: "",
        file: "",
        line: None,
        message: b"",
        items: &[],
        ..base.clone()
    };
    let long = vec![b'x'; 4000];
    let cut = Input {
        message: &long,
        max_record: Some(1024),
        ..base.clone()
    };
    [base, raw, empty, cut].iter().map(__fuzz::encode).collect()
}

fuzz_target!(|pattern: &str| {
    let Ok(format) = Format::text_pattern(pattern) else {
        return;
    };
    for rec in records() {
        check_text(&__fuzz::render(&format, &rec).expect("renders"));
    }
});
