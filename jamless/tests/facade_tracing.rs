//! The `tracing` adapters, end to end: the layer and the fmt `MakeWriter`,
//! through a logger into a file. Subscribers are set per thread with
//! `with_default`, so the tests can run in parallel.
#![cfg(feature = "tracing")]

mod common;

use common::{line_with, read_lines};

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use jamless::{Builder, Format, Guard, Level, Logger, Shedding};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

fn logger(dir: &Path, filter: &str) -> (Logger, Guard) {
    Builder::new()
        .file(dir.join("app.log"))
        .format(Format::json())
        .filter(filter)
        .build()
        .unwrap()
}

/// A logger writing text lines: raw lines from the fmt layer stay as they are.
fn text_logger(dir: &Path, filter: &str) -> (Logger, Guard) {
    Builder::new()
        .file(dir.join("app.log"))
        .format(Format::text())
        .filter(filter)
        .build()
        .unwrap()
}

fn flushed_lines(logger: &Logger, dir: &Path) -> Vec<String> {
    assert!(logger.flush(Duration::from_secs(5)).complete);
    read_lines(&dir.join("app.log"))
}

#[test]
fn layer_writes_events_with_fields_and_spans() {
    let dir = tempfile::tempdir().unwrap();
    let (logger, _guard) = logger(dir.path(), "debug,noisy=warn");
    let layer = logger
        .tracing_layer()
        .with_filter(logger.tracing_filter().unwrap());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let request = tracing::info_span!(
            "request",
            req_id = 7001u64,
            path = "/login",
            user = tracing::field::Empty
        );
        let _r = request.enter();
        request.record("user", "ann");
        let db = tracing::debug_span!("db_query", table = "accounts");
        let _d = db.enter();
        tracing::info!(
            status = 200u64,
            elapsed_ms = 3.5,
            cached = false,
            "query done in {}",
            "3.5ms"
        );
        // Below the filter: a TRACE span is not entered for this layer and
        // its fields never appear; its events are not offered.
        let hidden = tracing::trace_span!("hidden_span", secret = 1);
        let _h = hidden.enter();
        tracing::warn!(attempt = -2i64, "retrying");
        tracing::trace!("trace is below the filter");
        tracing::info!(target: "noisy", "noisy info is below its filter");
        tracing::warn!(target: "noisy::sub", "noisy warn passes");
    });
    tracing::subscriber::with_default(
        tracing_subscriber::registry().with(
            logger
                .tracing_layer()
                .with_filter(logger.tracing_filter().unwrap()),
        ),
        || tracing::error!(code = 5i64, "outside any span"),
    );

    let lines = flushed_lines(&logger, dir.path());
    let done = line_with(&lines, "query done in 3.5ms");
    for part in ["status", "200", "elapsed_ms", "3.5", "cached", "false"] {
        assert!(done.contains(part), "{part:?} in {done}");
    }
    let retry = line_with(&lines, "retrying");
    assert!(retry.contains("-2"), "{retry}");
    line_with(&lines, "noisy warn passes");
    line_with(&lines, "outside any span");
    assert!(!lines.iter().any(|l| l.contains("below")), "{lines:#?}");
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("hidden_span") || l.contains("secret")),
        "{lines:#?}"
    );
    {
        for part in ["request", "7001", "/login", "ann", "db_query", "accounts"] {
            assert!(done.contains(part), "{part:?} in {done}");
            assert!(retry.contains(part), "{part:?} in {retry}");
        }
        assert!(done.contains(module_path!()), "{done}");
        assert!(line_with(&lines, "noisy warn passes").contains("noisy::sub"));
        assert!(!line_with(&lines, "outside any span").contains("request"));
    }

    let h = logger.health();
    assert_eq!(h.offered, 4, "{h}");
    assert_eq!(h.rejected, 0, "{h}");
    assert_eq!(h.written, lines.len() as u64, "{h}");
    assert_eq!(h.written, 4, "{h}");
}

#[test]
fn bad_directives_are_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let (logger, _guard) = logger(dir.path(), "app=loud");
    assert!(logger.tracing_filter().unwrap_err().is_config());
}

#[test]
fn fmt_with_make_writer_writes_one_record_per_event() {
    let dir = tempfile::tempdir().unwrap();
    let (logger, _guard) = text_logger(dir.path(), "debug");
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logger.make_writer())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("conn", peer = "10.0.0.9");
        let _s = span.enter();
        tracing::info!(bytes = 512u64, "received frame");
        tracing::debug!("debug passes");
        tracing::trace!("trace is below the filter");
        tracing::error!("an error");
    });

    let lines = flushed_lines(&logger, dir.path());
    // The fmt layer formatted the whole line: its level, span and fields.
    let frame = line_with(&lines, "received frame");
    for part in [
        "INFO",
        "conn",
        "peer=\"10.0.0.9\"",
        "bytes=512",
        module_path!(),
    ] {
        assert!(frame.contains(part), "{part:?} in {frame}");
    }
    assert!(line_with(&lines, "debug passes").contains("DEBUG"));
    assert!(line_with(&lines, "an error").contains("ERROR"));
    assert!(!lines.iter().any(|l| l.contains("below")), "{lines:#?}");
    assert!(
        !lines.iter().any(|l| l.trim().is_empty()),
        "no blank lines: {lines:#?}"
    );

    let h = logger.health();
    assert_eq!(h.offered, 3, "{h}");
    assert_eq!(h.written, 3, "{h}");
    assert_eq!(h.written, lines.len() as u64, "{h}");
}

#[test]
fn make_writer_records_carry_the_event_level() {
    // Shed everything below WARN at once: only the level decides.
    let dir = tempfile::tempdir().unwrap();
    let (logger, _guard) = Builder::new()
        .file(dir.path().join("app.log"))
        .format(Format::json())
        .shedding(Some(Shedding::new(1e-9, Level::Warn)))
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logger.make_writer())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!("info event");
        tracing::warn!("warn is kept");
        tracing::error!("error is kept");
    });
    // Without metadata a writer counts as INFO.
    logger
        .make_writer()
        .make_writer()
        .write_all(b"plain write\n")
        .unwrap();

    let lines = flushed_lines(&logger, dir.path());
    line_with(&lines, "warn is kept");
    line_with(&lines, "error is kept");
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("info event") || l.contains("plain write")),
        "{lines:#?}"
    );
    let h = logger.health();
    assert_eq!(h.offered, 4, "{h}");
    assert_eq!(h.written, 2, "{h}");
    assert_eq!(h.drops.shed, 2, "{h}");
    assert_eq!(h.drops.by_level, [0, 0, 2, 0, 0], "{h}");
    // Besides the two records, the file may hold the writer's drop notice
    // (written as soon as it can, so perhaps not yet).
    assert!(lines.len() <= 3, "{lines:#?}");
}

#[test]
fn writer_joins_writes_and_skips_empty_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (logger, _guard) = logger(dir.path(), "info");
    let make = logger.make_writer();
    {
        let mut w = make.make_writer();
        w.write_all(b"first part, ").unwrap();
        write!(w, "second part {}", 2).unwrap();
        w.write_all(b"\r\n").unwrap();
        w.flush().unwrap();
    }
    {
        let _unused = make.make_writer();
    }
    {
        // A writer made while another is alive on the same thread.
        let mut outer = make.make_writer();
        outer.write_all(b"outer line\n").unwrap();
        let mut inner = make.make_writer();
        inner.write_all(b"inner line\n").unwrap();
        drop(inner);
        outer.write_all(b"").unwrap();
    }
    {
        let mut w = make.make_writer();
        w.write_all(b"after nesting\n").unwrap();
    }
    let lines = flushed_lines(&logger, dir.path());
    line_with(&lines, "first part, second part 2");
    line_with(&lines, "inner line");
    line_with(&lines, "outer line");
    line_with(&lines, "after nesting");
    assert_eq!(lines.len(), 4, "{lines:#?}");
    assert!(!lines.iter().any(|l| l.contains('\r')), "{lines:#?}");
    let h = logger.health();
    assert_eq!(h.offered, 4, "{h}");
    assert_eq!(h.written, 4, "{h}");
}

#[test]
fn writer_output_beyond_the_record_limit_is_cut_and_marked() {
    let dir = tempfile::tempdir().unwrap();
    let (logger, _guard) = Builder::new()
        .file(dir.path().join("app.log"))
        .format(Format::json())
        .max_record_bytes(1024)
        .build()
        .unwrap();
    let make = logger.make_writer();
    {
        let mut w = make.make_writer();
        for _ in 0..1000 {
            w.write_all(b"0123456789").unwrap();
        }
    }
    let lines = flushed_lines(&logger, dir.path());
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].len() < 2048, "{}", lines[0].len());
    let h = logger.health();
    assert_eq!(h.truncated, 1, "{h}");
    assert_eq!(h.written, 1, "{h}");
}
