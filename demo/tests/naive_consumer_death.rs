//! The naive logger in-process: a rotation error ends its consumer; after
//! that the channel's records are never written and counted nowhere, and
//! the next log call once the channel is full blocks for good.
//!
//! The rotation error is made deterministic by moving the log directory
//! away: at the next rotation the path is gone, so nothing is renamed, and
//! reopening it fails with `ENOENT` (in the incident it was the `rename`
//! that failed with `ENOENT`; the consumer's reaction, `return`, is the
//! same for any rotation error).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jamless_demo::naive::{NaiveConfig, NaiveLogger, LOG_BUFFER_LENGTH};
use tracing_subscriber::layer::SubscriberExt;

/// Polls `done` until it holds; fails with `what` after `limit`.
fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "not within {limit:?}: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Lines containing `needle` in all files of `dir`.
fn lines_with(dir: &Path, needle: &str) -> usize {
    std::fs::read_dir(dir)
        .expect("list the log directory")
        .map(|e| std::fs::read_to_string(e.expect("entry").path()).expect("read a log file"))
        .map(|text| text.lines().filter(|l| l.contains(needle)).count())
        .sum()
}

#[test]
fn after_a_rotation_error_records_vanish_uncounted_and_log_calls_block() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("logs");
    std::fs::create_dir(&dir).expect("mkdir");
    let logger = NaiveLogger::start(NaiveConfig::new(dir.join("app.log")).rotate_every_secs(1))
        .expect("start the naive logger");
    let dispatch =
        tracing::Dispatch::new(tracing_subscriber::registry().with(logger.tracing_layer()));

    // While the consumer lives, records are written.
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..10 {
            tracing::info!(request = i, "before");
        }
    });
    wait_until(Duration::from_secs(5), "10 records written", || {
        logger.health().written == 10
    });

    // The directory goes away; the next rotation (at most 1 s away) fails
    // and the consumer returns.
    let moved = root.path().join("moved");
    std::fs::rename(&dir, &moved).expect("move the log directory away");
    wait_until(Duration::from_secs(5), "the consumer exits", || {
        !logger.health().consumer_alive
    });
    let h = logger.health();
    assert_eq!(h.state, "dead");
    let error = h.last_error.clone().unwrap_or_default();
    assert!(error.contains("No such file or directory"), "{error}");

    // One caller logs capacity + 1 records: the channel takes `capacity`,
    // then the send blocks, forever.
    let returned = Arc::new(AtomicU64::new(0));
    let caller = {
        let (dispatch, returned) = (dispatch.clone(), Arc::clone(&returned));
        std::thread::spawn(move || {
            tracing::dispatcher::with_default(&dispatch, || {
                for i in 0..=LOG_BUFFER_LENGTH {
                    tracing::info!(request = i, "after");
                    returned.fetch_add(1, Ordering::SeqCst);
                }
            });
        })
    };
    wait_until(
        Duration::from_secs(10),
        "a caller blocked in a send on a full channel",
        || {
            let h = logger.health();
            h.waiting_callers == 1 && h.queued == LOG_BUFFER_LENGTH as u64
        },
    );
    assert!(!caller.is_finished(), "the blocked call returned");
    assert_eq!(returned.load(Ordering::SeqCst), LOG_BUFFER_LENGTH as u64);

    // 42 records were accepted by `log_write`: 10 are in the file, 32 sit in
    // a channel nobody will ever read. The logger counts none of them as
    // lost: it has no drop counter at all.
    let h = logger.health();
    assert_eq!(h.sent, 10 + LOG_BUFFER_LENGTH as u64);
    assert_eq!(h.written, 10);
    assert_eq!(h.queued, LOG_BUFFER_LENGTH as u64);
    let json = serde_json::to_string(&h).expect("health as JSON");
    assert!(!json.contains("drop"), "{json}");
    assert_eq!(lines_with(&moved, "before"), 10);
    assert_eq!(lines_with(&moved, "after"), 0);
    // The blocked thread is left behind; the test process exits anyway.
}
