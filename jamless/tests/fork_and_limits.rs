//! A `fork()` child logging through its parent's logger, and the limits of
//! every duration and size the API accepts.

mod common;

use std::time::{Duration, Instant};

use common::{assert_accounted, read_lines, settle, Fault, FaultySink, MemorySink};
use jamless::{Builder, DropCause, Level, Outcome, State};

#[test]
fn a_fork_child_counts_its_records_as_dropped_and_exits_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let (logger, guard) = Builder::new().file(&path).build().unwrap();
    for i in 0..100 {
        logger.log(Level::Info, "t", format_args!("parent before {i}"));
    }
    // SAFETY: the child only logs through jamless (atomics, its own
    // thread-local buffer), reads the health snapshot and leaves with
    // `_exit`; it runs no destructor of the parent's state but the guard's.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let mut ok = true;
        for i in 0..1000 {
            ok &= logger.log(Level::Info, "t", format_args!("forked-kid {i}"))
                == Outcome::Dropped(DropCause::Forked);
        }
        let h = logger.health();
        ok &= h.drops.forked == 1000 && h.state == State::Dead;
        let t0 = Instant::now();
        let report = guard.shutdown(Duration::from_secs(30));
        ok &= report.complete && report.unwritten == 0;
        ok &= t0.elapsed() < Duration::from_secs(1);
        // SAFETY: leaving the child without running the test harness.
        unsafe { libc::_exit(if ok { 0 } else { 3 }) };
    }
    for i in 0..100 {
        logger.log(Level::Info, "t", format_args!("parent after {i}"));
    }
    let mut status = 0;
    let t0 = Instant::now();
    loop {
        // SAFETY: waiting for our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "the child hung");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the child saw wrong outcomes or health (status {status})"
    );
    let h = settle(&logger);
    assert_accounted(&h, 200);
    assert_eq!(h.written, 200, "{h}");
    assert_eq!(h.state, State::Healthy, "the parent is unaffected: {h}");
    drop(guard);
    let lines = read_lines(&path);
    assert_eq!(
        lines.iter().filter(|l| l.contains(": parent ")).count(),
        200
    );
    assert!(!lines.iter().any(|l| l.contains("forked-kid")));
}

#[test]
fn huge_durations_saturate_instead_of_panicking() {
    let sink = MemorySink::new();
    let (logger, guard) = Builder::new()
        .sink(sink.clone())
        .idle_interval(Duration::MAX)
        .maintain_interval(Duration::MAX)
        .notice_interval(Duration::MAX)
        .stall_timeout(Duration::MAX)
        .watch_interval(Duration::MAX)
        .fallback_after(Duration::MAX)
        .retry_backoff(Duration::MAX, Duration::MAX)
        .shutdown_timeout(Duration::MAX)
        .build()
        .unwrap();
    for i in 0..10 {
        logger.log(Level::Info, "t", format_args!("rec {i}"));
    }
    let r = logger.flush(Duration::MAX);
    assert!(r.complete, "{r:?}");
    assert_eq!(logger.health().written, 10);
    let r = guard.shutdown(Duration::MAX);
    assert!(r.complete);
    // After shutdown a flush has nothing to wait for and returns at once.
    let t0 = Instant::now();
    let r = logger.flush(Duration::from_secs(30));
    assert!(r.complete && t0.elapsed() < Duration::from_secs(1), "{r:?}");
    assert_eq!(sink.lines().len(), 10);
}

#[test]
fn a_huge_backoff_on_a_failing_sink_holds_nothing_past_giving_up() {
    let sink = FaultySink::new();
    sink.set(Fault::Error);
    let (handler, _reports) = common::collecting_handler();
    let (logger, _guard) = Builder::new()
        .sink(sink)
        .fallback(None)
        .error_handler(handler)
        .retry_backoff(Duration::MAX, Duration::MAX)
        .fallback_after(Duration::from_millis(100))
        .build()
        .unwrap();
    for i in 0..50 {
        logger.log(Level::Info, "t", format_args!("rec {i}"));
    }
    let h = settle(&logger);
    assert_accounted(&h, 50);
    assert_eq!(h.drops.io_failure, 50, "{h}");
    assert_ne!(h.state, State::Dead, "{h}");
    assert_eq!(h.writer_restarts, 0, "no panic, no restart: {h}");
}

#[test]
fn flush_on_a_failing_sink_takes_the_fallback_at_once() {
    let sink = FaultySink::new();
    sink.set(Fault::Error);
    let fallback = MemorySink::new();
    let (handler, _reports) = common::collecting_handler();
    let (logger, _guard) = Builder::new()
        .sink(sink)
        .fallback(Some(Box::new(fallback.clone())))
        .error_handler(handler)
        .fallback_after(Duration::from_secs(3600))
        .build()
        .unwrap();
    for i in 0..20 {
        logger.log(Level::Info, "t", format_args!("rec {i}"));
    }
    let t0 = Instant::now();
    let r = logger.flush(Duration::from_secs(30));
    assert!(r.complete, "{r:?}");
    assert!(t0.elapsed() < Duration::from_secs(5), "{:?}", t0.elapsed());
    let h = logger.health();
    assert_accounted(&h, 20);
    assert_eq!(h.written_fallback, 20, "{h}");
    assert_eq!(fallback.lines().len(), 20);
}
