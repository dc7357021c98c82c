//! Hostile input, end to end through real files: control characters,
//! terminal escapes, line separators and bidi overrides in every string a
//! record carries, invalid UTF-8 through the `MakeWriter` path, huge
//! messages, a record larger than the queue, 10,000 fields and 1,000 nested
//! spans. Every text record must stay one line without a raw control
//! character, every JSON line must parse and give back the message, and
//! every record must be written or counted.
#![cfg(all(feature = "log", feature = "tracing"))]

mod common;

use common::{assert_accounted, settle};

use std::io::Write;
use std::path::Path;

use jamless::{Builder, Format, Guard, HealthSnapshot, Level, Logger, Outcome};
use log::Log;
use serde_json::Value;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

/// Every kind of character that could break a line or a terminal.
const HOSTILE: &str = "cr\r lf\n crlf\r\n nul\0 esc\x1b[31mred\x1b[0m osc\x1b]0;title\x07 \
     bs\x08 del\x7f c1\u{85}\u{9b}31m ls\u{2028} ps\u{2029} \
     rlo\u{202e}lro\u{202d}pdf\u{202c} lri\u{2066}rli\u{2067}fsi\u{2068}pdi\u{2069} tab\t end";

/// A thread name may not hold NUL; everything else of [`HOSTILE`].
fn hostile_thread_name() -> String {
    HOSTILE.replace('\0', "0")
}

/// Characters no rendered line may carry raw.
fn forbidden(c: char) -> bool {
    c.is_control() || matches!(c as u32, 0x2028 | 0x2029 | 0x202A..=0x202E | 0x2066..=0x2069)
}

/// The text escaping as documented on `Format`, written the obvious way.
fn escaped(input: &[u8]) -> String {
    let mut out = String::new();
    for chunk in input.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 || c == '\x7f' => {
                    out.push_str(&format!("\\x{:02x}", c as u32))
                }
                c if forbidden(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

fn text_logger(dir: &Path, pattern: &str) -> (Logger, Guard) {
    Builder::new()
        .file(dir.join("app.log"))
        .format(Format::text_pattern(pattern).unwrap())
        .filter("trace")
        .build()
        .unwrap()
}

fn json_logger(dir: &Path) -> (Logger, Guard) {
    Builder::new()
        .file(dir.join("app.log"))
        .format(Format::json())
        .filter("trace")
        .build()
        .unwrap()
}

/// Flushes, checks the accounting for `offered` records with none dropped,
/// and returns the file's lines (each checked to be one clean line).
fn written_lines(logger: &Logger, dir: &Path, offered: u64) -> (HealthSnapshot, Vec<String>) {
    let h = settle(logger);
    assert_accounted(&h, offered);
    let bytes = std::fs::read(dir.join("app.log")).unwrap();
    assert!(
        bytes.is_empty() || bytes.ends_with(b"\n"),
        "no final newline"
    );
    let lines: Vec<String> = match bytes.strip_suffix(b"\n") {
        None => Vec::new(),
        Some(body) => body
            .split(|&b| b == b'\n')
            .map(|l| {
                let l = String::from_utf8(l.to_vec()).expect("lines are UTF-8");
                if let Some(c) = l.chars().find(|&c| forbidden(c)) {
                    panic!("raw {c:?} in {l:?}");
                }
                l
            })
            .collect(),
    };
    assert_eq!(
        lines.len() as u64,
        h.written,
        "one line per written record: {h}"
    );
    (h, lines)
}

fn parse(line: &str) -> serde_json::Map<String, Value> {
    match serde_json::from_str(line) {
        Ok(Value::Object(o)) => o,
        other => panic!("not a JSON object ({other:?}): {line}"),
    }
}

/// Displays as [`HOSTILE`].
struct Shown;

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(HOSTILE)
    }
}

/// A `log` record with hostile target, module, file, message and fields,
/// logged through the adapter from a thread with a hostile name.
fn log_hostile(logger: &Logger) {
    let adapter = logger.log_adapter().unwrap();
    let module = format!("{HOSTILE}::m");
    std::thread::Builder::new()
        .name(hostile_thread_name())
        .spawn(move || {
            // A `Display` value goes through the formatted-field path.
            let shown = Shown;
            let pairs = [
                (HOSTILE, log::kv::Value::from(HOSTILE)),
                ("plain", log::kv::Value::from(HOSTILE)),
                ("shown", log::kv::Value::from_display(&shown)),
            ];
            adapter.log(
                &log::Record::builder()
                    .level(log::Level::Info)
                    .target(HOSTILE)
                    .module_path(Some(&module))
                    .file(Some(HOSTILE))
                    .line(Some(7))
                    .args(format_args!("{HOSTILE}"))
                    .key_values(&pairs)
                    .build(),
            );
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn log_facade_text_escapes_every_string() {
    let dir = tempfile::tempdir().unwrap();
    let (logger, _guard) = text_logger(
        dir.path(),
        "{level} [{thread}] {target} | {module} | {file}:{line} | {message}{fields}",
    );
    log_hostile(&logger);
    let (_, lines) = written_lines(&logger, dir.path(), 1);
    let e = escaped(HOSTILE.as_bytes());
    let t = escaped(hostile_thread_name().as_bytes());
    assert_eq!(
        lines,
        [format!(
            "INFO [{t}] {e} | {e}::m | {e}:7 | {e} {e}={e} plain={e} shown={e}"
        )]
    );
}

#[test]
fn log_facade_json_round_trips_every_string() {
    let dir = tempfile::tempdir().unwrap();
    let (logger, _guard) = json_logger(dir.path());
    log_hostile(&logger);
    let (_, lines) = written_lines(&logger, dir.path(), 1);
    assert_eq!(lines.len(), 1);
    let o = parse(&lines[0]);
    let module = format!("{HOSTILE}::m");
    let thread = hostile_thread_name();
    for (key, want) in [
        ("message", HOSTILE),
        ("log.logger", HOSTILE),
        ("log.module", module.as_str()),
        ("log.origin.file.name", HOSTILE),
        ("process.thread.name", thread.as_str()),
        (HOSTILE, HOSTILE),
        ("plain", HOSTILE),
        ("shown", HOSTILE),
    ] {
        assert_eq!(o.get(key).and_then(Value::as_str), Some(want), "{key:?}");
    }
}

/// A hostile event in a hostile span, through the `tracing` layer, from a
/// thread with a hostile name.
fn trace_hostile(logger: &Logger) {
    let layer = logger
        .tracing_layer()
        .with_filter(logger.tracing_filter().unwrap());
    let subscriber = tracing_subscriber::registry().with(layer);
    std::thread::Builder::new()
        .name(hostile_thread_name())
        .spawn(move || {
            tracing::subscriber::with_default(subscriber, || {
                let span = tracing::info_span!(
                    "span\r\n\x1b[2J\u{2028}\u{202e}name",
                    "sk\n\x1b[1m" = "sv\r\n\u{85}\0",
                    plain = 1u64
                );
                let _e = span.enter();
                tracing::info!(
                    target: "tgt\n\x1b[31m\u{2029}\u{2066}",
                    { "fk\r\n\u{202e}" = "fv\x1b]0;x\x07\u{9b}", shown = %HOSTILE },
                    "{}",
                    HOSTILE
                );
            });
        })
        .unwrap()
        .join()
        .unwrap();
}

const SPAN: &str = "span\r\n\x1b[2J\u{2028}\u{202e}name";
const TARGET: &str = "tgt\n\x1b[31m\u{2029}\u{2066}";

#[test]
fn tracing_layer_text_escapes_every_string() {
    let dir = tempfile::tempdir().unwrap();
    let (logger, _guard) = text_logger(
        dir.path(),
        "{level} [{thread}] {target} | {spans}{message}{fields}",
    );
    trace_hostile(&logger);
    let (_, lines) = written_lines(&logger, dir.path(), 1);
    let esc = |s: &str| escaped(s.as_bytes());
    assert_eq!(
        lines,
        [format!(
            "INFO [{}] {} | {}{{{}={} plain=1}}: {} {}={} shown={}",
            esc(&hostile_thread_name()),
            esc(TARGET),
            esc(SPAN),
            esc("sk\n\x1b[1m"),
            esc("sv\r\n\u{85}\0"),
            esc(HOSTILE),
            esc("fk\r\n\u{202e}"),
            esc("fv\x1b]0;x\x07\u{9b}"),
            esc(HOSTILE),
        )]
    );
}

#[test]
fn tracing_layer_json_round_trips_every_string() {
    let dir = tempfile::tempdir().unwrap();
    let (logger, _guard) = json_logger(dir.path());
    trace_hostile(&logger);
    let (_, lines) = written_lines(&logger, dir.path(), 1);
    assert_eq!(lines.len(), 1);
    let o = parse(&lines[0]);
    assert_eq!(o["message"], HOSTILE);
    assert_eq!(o["log.logger"], TARGET);
    assert_eq!(o["process.thread.name"], hostile_thread_name().as_str());
    assert_eq!(o["fk\r\n\u{202e}"], "fv\x1b]0;x\x07\u{9b}");
    assert_eq!(o["shown"], HOSTILE);
    let spans = o["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0]["name"], SPAN);
    assert_eq!(spans[0]["sk\n\x1b[1m"], "sv\r\n\u{85}\0");
    assert_eq!(spans[0]["plain"], 1);
}

/// Invalid UTF-8 of every kind (lone continuation, overlong, surrogate,
/// beyond U+10FFFF, truncated sequences), plus controls.
const BAD_UTF8: &[u8] =
    b"bad \xff\xfe lone\x80 overlong\xc0\xaf sur\xed\xa0\x80 big\xf4\x90\x80\x80 \
      cut3\xe2\x82 cut4\xf0\x9f\x8e e0\xe0\x80 f0\xf0\x80\x80 nl\ncr\r esc\x1b[0m";

/// Writes [`BAD_UTF8`] through the `MakeWriter` path, in two writes, as a
/// fmt layer does; plus a line with only a line ending.
fn write_raw(logger: &Logger) {
    let make = logger.make_writer();
    let mut w = make.make_writer();
    w.write_all(&BAD_UTF8[..20]).unwrap();
    w.write_all(&BAD_UTF8[20..]).unwrap();
    w.write_all(b"\n").unwrap();
    drop(w);
}

#[test]
fn invalid_utf8_through_make_writer_text() {
    let dir = tempfile::tempdir().unwrap();
    let (logger, _guard) = text_logger(dir.path(), "{message}");
    write_raw(&logger);
    let (_, lines) = written_lines(&logger, dir.path(), 1);
    assert_eq!(lines, [escaped(BAD_UTF8)]);
}

#[test]
fn invalid_utf8_through_make_writer_json() {
    let dir = tempfile::tempdir().unwrap();
    let (logger, _guard) = json_logger(dir.path());
    write_raw(&logger);
    let (_, lines) = written_lines(&logger, dir.path(), 1);
    assert_eq!(lines.len(), 1);
    let o = parse(&lines[0]);
    // Each maximal invalid sequence becomes one U+FFFD, as
    // `String::from_utf8_lossy` reads it.
    assert_eq!(o["message"], String::from_utf8_lossy(BAD_UTF8).as_ref());
}

#[test]
fn fmt_layer_line_with_hostile_strings_stays_one_clean_line() {
    let dir = tempfile::tempdir().unwrap();
    let (logger, _guard) = text_logger(dir.path(), "{message}");
    // No colours: with the workspace's features unified, the fmt layer may
    // have ANSI support, and its own colour codes would be escaped too.
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(logger.make_writer())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!(field = HOSTILE, "{}", HOSTILE);
    });
    let (_, lines) = written_lines(&logger, dir.path(), 1);
    assert_eq!(lines.len(), 1);
    // The fmt layer's multi-line message is one line, its line breaks
    // visible as escapes.
    assert!(lines[0].contains("lf\\n crlf\\r\\n"), "{}", lines[0]);
    assert!(lines[0].contains("tab\\t end field=\""), "{}", lines[0]);
}

/// Logs one message of `len` bytes; returns the outcome.
fn log_len(logger: &Logger, len: usize) -> Outcome {
    let msg = "m".repeat(len);
    logger.log(Level::Info, "big", format_args!("{msg}"))
}

/// The truncation marker's original size, if `line` ends with it.
fn truncated_from(line: &str) -> Option<u64> {
    let (_, tail) = line.rsplit_once(" \u{2026}[truncated from ")?;
    tail.strip_suffix(" bytes]")?.parse().ok()
}

#[test]
fn messages_of_1_mib_and_100_mib_are_cut_with_the_marker() {
    let dir = tempfile::tempdir().unwrap();
    let (logger, _guard) = text_logger(dir.path(), "{message}");
    assert_eq!(log_len(&logger, 1 << 20), Outcome::Accepted);
    assert_eq!(log_len(&logger, 100 << 20), Outcome::Accepted);
    let (h, lines) = written_lines(&logger, dir.path(), 2);
    assert_eq!(h.truncated, 2, "{h}");
    assert_eq!(lines.len(), 2);
    for (line, len) in lines.iter().zip([1u64 << 20, 100 << 20]) {
        let from = truncated_from(line).unwrap_or_else(|| panic!("no marker: {}", &line[..80]));
        // The original size is the whole record's: the message and its head.
        assert!(from > len && from < len + 1024, "{from} vs {len}");
        // The default maximum record size is 64 KiB.
        assert!(line.len() < 64 << 10, "{}", line.len());
        assert!(line.starts_with(&"m".repeat(60 << 10)));
    }
}

#[test]
fn a_1_mib_message_is_written_whole_when_the_limit_allows() {
    let dir = tempfile::tempdir().unwrap();
    let (logger, _guard) = Builder::new()
        .file(dir.path().join("app.log"))
        .format(Format::json())
        .capacity_bytes(16 << 20)
        .max_record_bytes(2 << 20)
        .build()
        .unwrap();
    assert_eq!(log_len(&logger, 1 << 20), Outcome::Accepted);
    let (h, lines) = written_lines(&logger, dir.path(), 1);
    assert_eq!(h.truncated, 0, "{h}");
    let o = parse(&lines[0]);
    assert_eq!(o["message"].as_str().map(str::len), Some(1 << 20));
    assert!(o.get("jamless.truncated").is_none());
}

#[test]
fn a_record_larger_than_the_queue_is_cut_to_fit_it() {
    let dir = tempfile::tempdir().unwrap();
    // A 64 KiB queue takes records of at most 8 KiB; the larger maximum
    // record size asked for is capped to that.
    let (logger, _guard) = Builder::new()
        .file(dir.path().join("app.log"))
        .format(Format::text_pattern("{message}").unwrap())
        .capacity_bytes(jamless::MIN_CAPACITY)
        .max_record_bytes(1 << 30)
        .build()
        .unwrap();
    assert_eq!(log_len(&logger, 1 << 20), Outcome::Accepted);
    // The same through the `MakeWriter` path: a raw line larger than the queue.
    let make = logger.make_writer();
    let mut w = make.make_writer();
    w.write_all(&vec![b'r'; 1 << 20]).unwrap();
    drop(w);
    let (h, lines) = written_lines(&logger, dir.path(), 2);
    assert_eq!(h.truncated, 2, "{h}");
    for (line, c) in lines.iter().zip(['m', 'r']) {
        assert!(truncated_from(line).is_some(), "no marker: {}", &line[..80]);
        assert!(line.len() < 8 << 10, "{}", line.len());
        assert!(
            line.starts_with(&c.to_string().repeat(4 << 10)),
            "{}",
            &line[..80]
        );
    }
}

/// 10,000 typed fields, through the `log` adapter.
fn log_fields(logger: &Logger, n: usize) {
    let pairs: Vec<(String, u64)> = (0..n).map(|i| (format!("k{i:05}"), i as u64)).collect();
    logger.log_adapter().unwrap().log(
        &log::Record::builder()
            .level(log::Level::Info)
            .target("fields")
            .args(format_args!("many fields"))
            .key_values(&pairs)
            .build(),
    );
}

#[test]
fn ten_thousand_fields_are_written_or_cut_with_the_marker() {
    // Within a 1 MiB record limit: all of them, in order.
    let dir = tempfile::tempdir().unwrap();
    let (logger, _guard) = Builder::new()
        .file(dir.path().join("app.log"))
        .format(Format::json())
        .max_record_bytes(1 << 20)
        .build()
        .unwrap();
    log_fields(&logger, 10_000);
    let (_, lines) = written_lines(&logger, dir.path(), 1);
    let o = parse(&lines[0]);
    for i in 0..10_000u64 {
        assert_eq!(o.get(&format!("k{i:05}")), Some(&Value::from(i)), "k{i:05}");
    }

    // With the default 64 KiB limit: the message and the marker, no field.
    let dir = tempfile::tempdir().unwrap();
    let (logger, _guard) = text_logger(dir.path(), "{message}{fields}");
    log_fields(&logger, 10_000);
    let (h, lines) = written_lines(&logger, dir.path(), 1);
    assert_eq!(h.truncated, 1, "{h}");
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].starts_with("many fields \u{2026}[truncated from "),
        "{}",
        lines[0]
    );
    assert!(
        truncated_from(&lines[0]).is_some_and(|n| n > 100_000),
        "{}",
        lines[0]
    );
}

/// An event inside 1,000 nested spans.
fn nested_spans(logger: &Logger) {
    let layer = logger
        .tracing_layer()
        .with_filter(logger.tracing_filter().unwrap());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let mut entered = Vec::new();
        for depth in 0..1_000u64 {
            let span = tracing::info_span!("nest", depth);
            entered.push(span.entered());
        }
        tracing::info!("deep");
        // Exit and close innermost first.
        while entered.pop().is_some() {}
    });
}

#[test]
fn a_thousand_nested_spans_keep_the_innermost() {
    let dir = tempfile::tempdir().unwrap();
    let (logger, _guard) = json_logger(dir.path());
    nested_spans(&logger);
    let (_, lines) = written_lines(&logger, dir.path(), 1);
    let o = parse(&lines[0]);
    assert_eq!(o["message"], "deep");
    let spans = o["spans"].as_array().unwrap();
    // Records keep the 64 innermost spans, outermost first, after one that
    // counts the 936 left out.
    assert_eq!(spans.len(), 65);
    assert_eq!(spans[0]["name"], jamless::SPANS_OMITTED);
    assert_eq!(spans[0]["count"], 936);
    for (i, span) in spans[1..].iter().enumerate() {
        assert_eq!(span["name"], "nest");
        assert_eq!(span["depth"], 936 + i as u64);
    }

    let dir = tempfile::tempdir().unwrap();
    let (logger, _guard) = text_logger(dir.path(), "{spans}{message}");
    nested_spans(&logger);
    let (_, lines) = written_lines(&logger, dir.path(), 1);
    assert!(
        lines[0].starts_with("jamless.spans_omitted{count=936}>nest{depth=936}>nest{depth=937}>"),
        "{}",
        lines[0]
    );
    assert!(lines[0].ends_with(">nest{depth=999}: deep"), "{}", lines[0]);
}
