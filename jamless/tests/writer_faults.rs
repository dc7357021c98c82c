//! The writer survives sinks that fail, write short, and panic; every
//! record is accounted for and no record is glued to another.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::{
    assert_accounted, collecting_handler, is_notice, settle, Fault, FaultySink, MemorySink,
};
use jamless::{Builder, DropCause, Level, Outcome, State};

fn msg(i: u64) -> String {
    format!("rec-{i}-end")
}

/// Every non-empty line holds at most one record, and a whole record line
/// ends with its `-end` marker: nothing is glued to anything.
fn assert_no_glued_lines(text: &str) -> usize {
    let mut whole = 0;
    for line in text.lines().filter(|l| !l.is_empty() && !is_notice(l)) {
        let n = line.matches("rec-").count();
        assert!(n <= 1, "two records on one line: {line:?}");
        if n == 1 && line.ends_with("-end") {
            whole += 1;
        }
    }
    whole
}

#[test]
fn panicking_sink_loses_only_counted_batches() {
    let sink = FaultySink::new();
    sink.panic_every.store(3, Ordering::Relaxed);
    let (handler, reports) = collecting_handler();
    let (logger, _guard) = Builder::new()
        .sink(sink.clone())
        .fallback(None)
        .error_handler(handler)
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(2))
        .build()
        .unwrap();
    let n = 5_000u64;
    for i in 0..n {
        assert_eq!(
            logger.log(Level::Info, "t", format_args!("{}", msg(i))),
            Outcome::Accepted
        );
        if i % 100 == 99 {
            logger.flush(Duration::from_secs(10));
        }
    }
    let h = settle(&logger);
    assert_accounted(&h, n);
    assert!(h.panics > 0, "the sink panicked: {h}");
    assert!(h.drops.panic > 0, "panicked batches are counted: {h}");
    assert_eq!(h.drops.panic + h.written, n, "{h}");
    let text = sink.inner.text();
    assert_eq!(assert_no_glued_lines(&text) as u64, h.written);
    assert!(reports.lock().unwrap().iter().any(|r| r.class == "panic"));
    assert_ne!(h.state, State::Dead);
}

#[test]
fn failing_sink_is_retried_until_it_recovers_without_loss() {
    let sink = FaultySink::new();
    let (handler, reports) = collecting_handler();
    let (logger, _guard) = Builder::new()
        .sink(sink.clone())
        .error_handler(handler)
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(20))
        .fallback_after(Duration::from_secs(60))
        .build()
        .unwrap();
    sink.set(Fault::Error);
    for i in 0..1_000 {
        logger.log(Level::Info, "t", format_args!("{}", msg(i)));
    }
    // The batch is held and retried: wait until the failure is visible.
    let mut waited = 0;
    while logger.health().io_errors < 3 && waited < 10_000 {
        std::thread::sleep(Duration::from_millis(5));
        waited += 5;
    }
    let h = logger.health();
    assert_eq!(h.state, State::Degraded, "{h}");
    assert_eq!(h.written, 0);
    sink.set(Fault::None);
    let h = settle(&logger);
    assert_accounted(&h, 1_000);
    assert_eq!(
        h.written, 1_000,
        "nothing lost across a transient failure: {h}"
    );
    assert_eq!(h.state, State::Healthy);
    assert!(h.last_error.is_some());
    assert!(reports
        .lock()
        .unwrap()
        .iter()
        .any(|r| r.class == "disk_full"));
    assert_eq!(assert_no_glued_lines(&sink.inner.text()), 1_000);
}

#[test]
fn long_failure_goes_to_fallback_then_back() {
    let sink = FaultySink::new();
    let fallback = MemorySink::new();
    let (handler, _reports) = collecting_handler();
    let (logger, _guard) = Builder::new()
        .sink(sink.clone())
        .fallback(Some(Box::new(fallback.clone())))
        .error_handler(handler)
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(5))
        .fallback_after(Duration::from_millis(50))
        .build()
        .unwrap();
    sink.set(Fault::Error);
    for i in 0..500 {
        logger.log(Level::Info, "t", format_args!("{}", msg(i)));
    }
    let h = settle(&logger);
    assert_accounted(&h, 500);
    assert_eq!(h.written, 500, "{h}");
    assert_eq!(h.written_fallback, 500, "{h}");
    assert_eq!(assert_no_glued_lines(&fallback.text()), 500);
    sink.set(Fault::None);
    // The primary is retried after its back-off and takes over again.
    let mut i = 500;
    loop {
        logger.log(Level::Info, "t", format_args!("{}", msg(i)));
        i += 1;
        let h = settle(&logger);
        if h.written_fallback < h.written {
            break;
        }
        assert!(i < 5_000, "primary never resumed: {h}");
        std::thread::sleep(Duration::from_millis(2));
    }
    let h = logger.health();
    assert_accounted(&h, i);
    assert_eq!(h.state, State::Healthy);
}

#[test]
fn short_writes_complete_every_line() {
    let sink = FaultySink::new();
    sink.set(Fault::Short(7));
    let (logger, _guard) = Builder::new().sink(sink.clone()).build().unwrap();
    for i in 0..300 {
        logger.log(Level::Info, "t", format_args!("{}", msg(i)));
    }
    let h = settle(&logger);
    assert_accounted(&h, 300);
    assert_eq!(h.written, 300);
    assert_eq!(assert_no_glued_lines(&sink.inner.text()), 300);
}

#[test]
fn torn_write_never_glues_records() {
    let sink = FaultySink::new();
    let (handler, _r) = collecting_handler();
    let (logger, _guard) = Builder::new()
        .sink(sink.clone())
        .fallback(None)
        .error_handler(handler)
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(2))
        .fallback_after(Duration::from_millis(20))
        .build()
        .unwrap();
    sink.set(Fault::HalfThenError);
    for i in 0..200 {
        logger.log(Level::Info, "t", format_args!("{}", msg(i)));
    }
    let h = settle(&logger);
    assert_accounted(&h, 200);
    assert!(h.drops.io_failure > 0, "{h}");
    sink.set(Fault::None);
    for i in 200..400 {
        logger.log(Level::Info, "t", format_args!("{}", msg(i)));
    }
    // Wait out the back-off so the primary is tried again.
    std::thread::sleep(Duration::from_millis(10));
    logger.log(Level::Info, "t", format_args!("{}", msg(400)));
    let h = settle(&logger);
    assert_accounted(&h, 401);
    let text = sink.inner.text();
    let whole = assert_no_glued_lines(&text) as u64;
    assert_eq!(
        whole, h.written,
        "every written record is a whole line:\n{text}"
    );
    assert!(text.contains(&msg(400)));
}

#[test]
fn writer_death_is_survived_and_restarted() {
    let sink = MemorySink::new();
    let (handler, reports) = collecting_handler();
    let (logger, _guard) = Builder::new()
        .sink(sink.clone())
        .error_handler(handler)
        .watch_interval(Duration::from_millis(10))
        .build()
        .unwrap();
    let mut offered = 0u64;
    for round in 0..3 {
        logger.simulate_writer_death();
        for i in 0..2_000 {
            // Callers keep going whether the writer is alive or not.
            logger.log(
                Level::Info,
                "t",
                format_args!("{}", msg(round * 10_000 + i)),
            );
            offered += 1;
        }
        let h = settle(&logger);
        assert!(h.writer_restarts > round, "restarted: {h}");
    }
    let h = settle(&logger);
    assert_accounted(&h, offered);
    assert_eq!(h.written, offered, "{h}");
    assert_eq!(h.writer_restarts, 3);
    assert_eq!(sink.lines().len() as u64, offered);
    assert!(reports.lock().unwrap().iter().any(|r| r.class == "dead"));
}

#[test]
fn drop_notice_is_written_into_the_log() {
    let sink = FaultySink::new();
    let (handler, _r) = collecting_handler();
    let (logger, _guard) = Builder::new()
        .sink(sink.clone())
        .error_handler(handler)
        .capacity_bytes(64 * 1024)
        .shedding(None)
        .retry_backoff(Duration::from_millis(50), Duration::from_millis(50))
        .fallback_after(Duration::from_secs(60))
        .build()
        .unwrap();
    // Hold the writer on a failing sink so the queue fills and drops.
    sink.set(Fault::Error);
    let mut offered = 0u64;
    let mut dropped = 0u64;
    while dropped < 100 {
        if let Outcome::Dropped(c) = logger.log(Level::Info, "t", format_args!("{}", msg(offered)))
        {
            assert_eq!(c, DropCause::QueueFull);
            dropped += 1;
        }
        offered += 1;
    }
    sink.set(Fault::None);
    let h = settle(&logger);
    assert_accounted(&h, offered);
    assert_eq!(h.drops.queue_full, dropped);
    let lines = sink.inner.lines();
    let notices: Vec<_> = lines.iter().filter(|l| is_notice(l)).collect();
    assert_eq!(notices.len() as u64, h.notices_written);
    assert!(!notices.is_empty(), "a notice reached the log");
    assert!(
        notices[0].contains(&format!("{dropped} records dropped")),
        "{notices:?}"
    );
    assert!(notices[0].contains("queue_full"), "{notices:?}");
    // The span of the drops is given in wall-clock time (converted from the
    // callers' raw clock readings): today's date, in UTC.
    let dates: Vec<String> = [0i64, -120]
        .iter()
        .map(|s| {
            (jiff::Timestamp::now() + jiff::SignedDuration::from_secs(*s))
                .strftime("%Y-%m-%d")
                .to_string()
        })
        .collect();
    assert!(
        dates
            .iter()
            .any(|d| notices[0].matches(d.as_str()).count() >= 2),
        "both ends of the span are dated {dates:?}: {notices:?}"
    );
    assert_eq!(lines.len() as u64, h.written + h.notices_written);
}
