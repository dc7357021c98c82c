//! `Logger::log_raw`: lines written by another program, offered as raw
//! records (the path of the `jamless` command).

mod common;

use common::{assert_accounted, settle, MemorySink};
use jamless::{Builder, DropCause, Format, Level, Outcome, Pipeline};

fn text_logger(sink: &MemorySink) -> (jamless::Logger, jamless::Guard) {
    Builder::new()
        .sink(sink.clone())
        .max_record_bytes(4096)
        .build()
        .unwrap()
}

#[test]
fn raw_lines_are_written_as_they_are_one_line_each() {
    let sink = MemorySink::new();
    let (logger, _guard) = text_logger(&sink);
    let lines: [&[u8]; 5] = [
        b"plain line",
        b"ends with a newline\n",
        b"ends with crlf\r\n",
        b"two\nlines and an \x1b[31mescape",
        b"bad utf-8 \xff\xfe here",
    ];
    for line in lines {
        assert_eq!(logger.log_raw(Level::Info, "", line), Outcome::Accepted);
    }
    let h = settle(&logger);
    assert_accounted(&h, 5);
    assert_eq!(h.written, 5, "{h}");
    assert_eq!(
        sink.lines(),
        [
            "plain line",
            "ends with a newline",
            "ends with crlf",
            "two\\nlines and an \\x1b[31mescape",
            "bad utf-8 \\xff\\xfe here",
        ]
    );
}

#[test]
fn a_line_longer_than_a_record_is_cut_and_marked() {
    let sink = MemorySink::new();
    let (logger, _guard) = text_logger(&sink);
    assert_eq!(logger.max_record_bytes(), 4096);
    let huge = vec![b'x'; 1 << 20];
    assert_eq!(logger.log_raw(Level::Warn, "", &huge), Outcome::Accepted);
    let h = settle(&logger);
    assert_accounted(&h, 1);
    assert_eq!(h.truncated, 1, "{h}");
    let lines = sink.lines();
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    assert!(line.starts_with("xxxx"), "{line:.40}");
    // Only max_record_bytes + 1 bytes were copied from the caller's line.
    assert!(
        line.ends_with("bytes]") && line.contains("[truncated from "),
        "{}",
        &line[line.len() - 60..]
    );
    assert!(
        line.len() < 4096 + 64,
        "cut to the record size: {}",
        line.len()
    );
}

#[test]
fn level_and_target_drive_filters_and_json() {
    let errors = MemorySink::new();
    let all = MemorySink::new();
    let (logger, _guard) = Builder::new()
        .pipeline(
            Pipeline::new("errors", errors.clone())
                .filter("error")
                .format(Format::json()),
        )
        .pipeline(Pipeline::new("all", all.clone()).format(Format::json()))
        .build()
        .unwrap();
    logger.log_raw(Level::Error, "my-server", b"disk on fire");
    logger.log_raw(Level::Info, "my-server", b"request served");
    // A clean JSON object passes through unchanged in the JSON format.
    logger.log_raw(Level::Debug, "my-server", br#"{"level":"debug","msg":"x"}"#);
    let h = settle(&logger);
    assert_eq!(h.offered, 3, "{h}");
    assert_eq!(h.pipeline("errors").unwrap().written, 1, "{h}");
    assert_eq!(h.pipeline("all").unwrap().written, 3, "{h}");
    assert_eq!(h.drops.get(DropCause::QueueFull), 0, "{h}");

    let e = errors.lines();
    assert_eq!(e.len(), 1, "{e:?}");
    let v: serde_json::Value = serde_json::from_str(&e[0]).unwrap();
    assert_eq!(v["message"], "disk on fire");
    assert_eq!(v["log.level"], "error");
    assert_eq!(v["log.logger"], "my-server");
    let a = all.lines();
    assert_eq!(a[2], r#"{"level":"debug","msg":"x"}"#);
}
