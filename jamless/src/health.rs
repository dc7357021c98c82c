//! Health: the writer's state, heartbeat and last error, and the snapshot
//! that a `/health` endpoint or a liveness probe serves.
//!
//! Everything a snapshot reads is an atomic, except the last error, which
//! sits behind a mutex that only the writer (on an error) and snapshot
//! readers take; a log call never touches it.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::counters::{Counters, DropCause};

/// The overall state of a logger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// The writer is running and its last write succeeded.
    Healthy,
    /// The writer is running, but its sink is failing (records are retried,
    /// sent to the fallback sink, or dropped and counted).
    Degraded,
    /// Records are queued and the writer has made no progress for longer
    /// than the stall timeout (a sink blocked in a write, for example).
    Stalled,
    /// The writer thread is not running; it is being restarted.
    Dead,
    /// The logger was shut down.
    ShutDown,
}

impl State {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Healthy => "healthy",
            State::Degraded => "degraded",
            State::Stalled => "stalled",
            State::Dead => "dead",
            State::ShutDown => "shut_down",
        }
    }

    /// True for `Healthy` and `Degraded`: logging works, maybe with losses.
    /// A health endpoint can answer 200 for these and 503 otherwise.
    pub fn is_serving(self) -> bool {
        matches!(self, State::Healthy | State::Degraded)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The most recent error the writer met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastError {
    /// When it happened, in milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    /// What the writer was doing (`write`, `open`, `maintain`, ...).
    pub operation: String,
    /// The error class (see [`crate::IoErrorClass`]) or `panic`.
    pub class: String,
    /// The error message.
    pub message: String,
}

/// Liveness flags and the heartbeat, shared by callers, writer and watchdog.
pub(crate) struct Status {
    /// The writer thread is running its loop.
    pub(crate) writer_alive: AtomicBool,
    /// Set by the watchdog, cleared by the writer on progress.
    pub(crate) stalled: AtomicBool,
    /// The primary sink's last attempt failed.
    pub(crate) sink_failing: AtomicBool,
    /// Shutdown has begun; new records are rejected.
    pub(crate) shut_down: AtomicBool,
    pub(crate) restarts: AtomicU64,
    /// Monotonic ns (since the logger's start) of the writer's last progress.
    pub(crate) heartbeat_ns: AtomicU64,
    /// Wall-clock ms of the last successful write to the primary sink.
    pub(crate) last_write_ms: AtomicU64,
    /// Callers currently waiting for room (`block_for` policy).
    pub(crate) waiting_callers: AtomicUsize,
    pub(crate) io_errors: AtomicU64,
    pub(crate) panics: AtomicU64,
    last_error: Mutex<Option<LastError>>,
}

impl Status {
    pub(crate) fn new() -> Status {
        Status {
            writer_alive: AtomicBool::new(false),
            stalled: AtomicBool::new(false),
            sink_failing: AtomicBool::new(false),
            shut_down: AtomicBool::new(false),
            restarts: AtomicU64::new(0),
            heartbeat_ns: AtomicU64::new(0),
            last_write_ms: AtomicU64::new(0),
            waiting_callers: AtomicUsize::new(0),
            io_errors: AtomicU64::new(0),
            panics: AtomicU64::new(0),
            last_error: Mutex::new(None),
        }
    }

    /// Whether a caller may wait for the writer: it is alive and not stalled.
    #[inline]
    pub(crate) fn writer_usable(&self) -> bool {
        // Acquire pairs with the Release stores in the writer and watchdog,
        // so a caller that sees "dead" or "stalled" stops waiting at once.
        self.writer_alive.load(Ordering::Acquire)
            && !self.stalled.load(Ordering::Acquire)
            && !self.shut_down.load(Ordering::Acquire)
    }

    pub(crate) fn state(&self) -> State {
        if self.shut_down.load(Ordering::Acquire) {
            State::ShutDown
        } else if !self.writer_alive.load(Ordering::Acquire) {
            State::Dead
        } else if self.stalled.load(Ordering::Acquire) {
            State::Stalled
        } else if self.sink_failing.load(Ordering::Acquire) {
            State::Degraded
        } else {
            State::Healthy
        }
    }

    pub(crate) fn set_last_error(&self, err: LastError) {
        let mut slot = self.last_error.lock().unwrap_or_else(|p| p.into_inner());
        *slot = Some(err);
    }

    pub(crate) fn last_error(&self) -> Option<LastError> {
        self.last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Milliseconds since the Unix epoch for a wall-clock time.
pub(crate) fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Decides whether the writer is stalled: records are waiting and it has
/// made no progress for longer than `timeout`. Pure, for tests.
pub(crate) fn is_stalled(
    now_ns: u64,
    heartbeat_ns: u64,
    queued_bytes: usize,
    timeout: Duration,
) -> bool {
    queued_bytes > 0 && now_ns.saturating_sub(heartbeat_ns) > timeout.as_nanos() as u64
}

/// Drop counts of one snapshot, by cause and by level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drops {
    /// Rejected because the queue was full.
    pub queue_full: u64,
    /// Rejected by level shedding.
    pub shed: u64,
    /// Rejected after waiting for room until the caller's timeout.
    pub timed_out: u64,
    /// Rejected because the logger was shutting down.
    pub shutdown: u64,
    /// Accepted, then lost to sink errors.
    pub io_failure: u64,
    /// Accepted, then lost to a panicking sink or formatter.
    pub panic: u64,
    /// Accepted, then found malformed (a jamless bug).
    pub internal: u64,
    /// Written, then possibly lost when another program truncated the file.
    pub file_truncated: u64,
    /// Written into a file that was then deleted, and not recoverable.
    pub file_unlinked: u64,
    /// All drops by level: error, warn, info, debug, trace.
    pub by_level: [u64; 5],
}

/// A consistent-enough picture of a logger at one moment.
///
/// Counters are read one by one while other threads log, so the identities
/// hold exactly only when the logger is quiet (after a flush, for example):
/// `offered = accepted + rejected` and
/// `accepted = written + dropped_after_accept + queued`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthSnapshot {
    /// The overall state.
    pub state: State,
    /// Records offered to the logger (accepted + rejected).
    pub offered: u64,
    /// Records admitted into the queue.
    pub accepted: u64,
    /// Records refused at the call (queue full, shed, timed out, shutdown).
    pub rejected: u64,
    /// Records written to a sink (primary or fallback).
    pub written: u64,
    /// Of `written`, records that went to the fallback sink.
    pub written_fallback: u64,
    /// Records accepted and then lost (I/O failure, panic, internal).
    pub dropped_after_accept: u64,
    /// Records accepted and still waiting in the queue.
    pub queued: u64,
    /// Drops by cause and level.
    pub drops: Drops,
    /// Records whose message was cut to the maximum record size.
    pub truncated: u64,
    /// Drop notices the writer wrote into the log.
    pub notices_written: u64,
    /// Bytes handed to sinks.
    pub bytes_written: u64,
    /// Queue bytes in use.
    pub queue_used_bytes: u64,
    /// Queue capacity in bytes.
    pub queue_capacity_bytes: u64,
    /// Callers waiting for room right now (only with a `block_for` policy).
    pub waiting_callers: u64,
    /// Last successful write to the primary sink, ms since the Unix epoch
    /// (0: never).
    pub last_write_unix_ms: u64,
    /// Sink errors met by the writer.
    pub io_errors: u64,
    /// Panics caught in sinks and formatters.
    pub panics: u64,
    /// Times the writer thread was restarted.
    pub writer_restarts: u64,
    /// The most recent error.
    pub last_error: Option<LastError>,
}

impl HealthSnapshot {
    pub(crate) fn collect(
        status: &Status,
        counters: &Counters,
        consumed: u64,
        queue_used: usize,
        queue_capacity: usize,
    ) -> HealthSnapshot {
        let accepted = counters.accepted.sum();
        let rejected = counters.rejected();
        let d = counters.drop_totals();
        let c = |cause: DropCause| d.by_cause[cause.index()];
        HealthSnapshot {
            state: status.state(),
            offered: accepted + rejected,
            accepted,
            rejected,
            written: counters.written.load(Ordering::Relaxed),
            written_fallback: counters.written_fallback.load(Ordering::Relaxed),
            dropped_after_accept: counters.dropped_after_accept(),
            queued: accepted.saturating_sub(consumed),
            drops: Drops {
                queue_full: c(DropCause::QueueFull),
                shed: c(DropCause::Shed),
                timed_out: c(DropCause::TimedOut),
                shutdown: c(DropCause::Shutdown),
                io_failure: c(DropCause::IoFailure),
                panic: c(DropCause::Panic),
                internal: c(DropCause::Internal),
                file_truncated: c(DropCause::FileTruncated),
                file_unlinked: c(DropCause::FileUnlinked),
                by_level: d.by_level,
            },
            truncated: counters.truncated.load(Ordering::Relaxed),
            notices_written: counters.notices.load(Ordering::Relaxed),
            bytes_written: counters.bytes_written.load(Ordering::Relaxed),
            queue_used_bytes: queue_used as u64,
            queue_capacity_bytes: queue_capacity as u64,
            waiting_callers: status.waiting_callers.load(Ordering::Relaxed) as u64,
            last_write_unix_ms: status.last_write_ms.load(Ordering::Relaxed),
            io_errors: status.io_errors.load(Ordering::Relaxed),
            panics: status.panics.load(Ordering::Relaxed),
            writer_restarts: status.restarts.load(Ordering::Relaxed),
            last_error: status.last_error(),
        }
    }

    /// Total records dropped for any cause.
    pub fn dropped(&self) -> u64 {
        self.rejected + self.dropped_after_accept
    }

    /// Prometheus text exposition (version 0.0.4) of the counters and gauges.
    pub fn to_prometheus(&self) -> String {
        crate::prometheus::render(self)
    }
}

impl fmt::Display for HealthSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "state={} offered={} accepted={} written={} (fallback {}) queued={} dropped={} \
             [queue_full={} shed={} timed_out={} shutdown={} io_failure={} panic={} internal={} \
             file_truncated={} file_unlinked={}] \
             queue={}/{} bytes io_errors={} panics={} restarts={} waiting_callers={}",
            self.state,
            self.offered,
            self.accepted,
            self.written,
            self.written_fallback,
            self.queued,
            self.dropped(),
            self.drops.queue_full,
            self.drops.shed,
            self.drops.timed_out,
            self.drops.shutdown,
            self.drops.io_failure,
            self.drops.panic,
            self.drops.internal,
            self.drops.file_truncated,
            self.drops.file_unlinked,
            self.queue_used_bytes,
            self.queue_capacity_bytes,
            self.io_errors,
            self.panics,
            self.writer_restarts,
            self.waiting_callers,
        )?;
        if let Some(e) = &self.last_error {
            write!(
                f,
                " last_error=\"{}: {} ({})\"",
                e.operation, e.message, e.class
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stall_needs_queued_records_and_old_heartbeat() {
        let t = Duration::from_millis(500);
        let ms = 1_000_000u64;
        assert!(
            !is_stalled(10_000 * ms, 9_000 * ms, 0, t),
            "empty queue is never stalled"
        );
        assert!(
            !is_stalled(10_000 * ms, 9_600 * ms, 10, t),
            "recent progress"
        );
        assert!(is_stalled(10_000 * ms, 9_000 * ms, 10, t));
        assert!(
            !is_stalled(5, 10, 10, t),
            "heartbeat ahead of now saturates"
        );
    }

    #[test]
    fn state_precedence() {
        let s = Status::new();
        assert_eq!(s.state(), State::Dead);
        s.writer_alive.store(true, Ordering::Release);
        assert_eq!(s.state(), State::Healthy);
        s.sink_failing.store(true, Ordering::Release);
        assert_eq!(s.state(), State::Degraded);
        s.stalled.store(true, Ordering::Release);
        assert_eq!(s.state(), State::Stalled);
        assert!(!s.writer_usable());
        s.shut_down.store(true, Ordering::Release);
        assert_eq!(s.state(), State::ShutDown);
        assert!(!State::Stalled.is_serving() && State::Degraded.is_serving());
    }
}
