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

use crate::common::Common;
use crate::counters::{DropCause, DropTotals};
use crate::pipeline::PipelineShared;

/// The overall state of a logger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// The writer is running and its last write succeeded.
    Healthy,
    /// Logging works with losses or detours: a sink is failing and its
    /// records are retried or sent to the fallback sink, or a pipeline that
    /// is not essential is failing or stalled.
    Degraded,
    /// A pipeline's sink is failing and it has no fallback: its records are
    /// retried, then dropped and counted. (A logger whose essential pipeline
    /// fails is `Degraded`: callers are unaffected.)
    Failing,
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
            State::Failing => "failing",
            State::Stalled => "stalled",
            State::Dead => "dead",
            State::ShutDown => "shut_down",
        }
    }

    /// True for `Healthy`, `Degraded` and `Failing`: log calls work, maybe
    /// with losses. A health endpoint can answer 200 for these and 503
    /// otherwise.
    pub fn is_serving(self) -> bool {
        matches!(self, State::Healthy | State::Degraded | State::Failing)
    }

    /// How bad, for picking the worst of several (higher is worse).
    fn severity(self) -> u8 {
        match self {
            State::Healthy => 0,
            State::Degraded => 1,
            State::Failing => 2,
            State::Stalled => 3,
            State::Dead => 4,
            State::ShutDown => 5,
        }
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

    /// The state of the thread this status describes; `has_fallback`
    /// tells a failing sink with a fallback (`Degraded`) from one without
    /// (`Failing`).
    pub(crate) fn state(&self, has_fallback: bool) -> State {
        if self.shut_down.load(Ordering::Acquire) {
            State::ShutDown
        } else if !self.writer_alive.load(Ordering::Acquire) {
            State::Dead
        } else if self.stalled.load(Ordering::Acquire) {
            State::Stalled
        } else if self.sink_failing.load(Ordering::Acquire) {
            if has_fallback {
                State::Degraded
            } else {
                State::Failing
            }
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
    let timeout_ns = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
    queued_bytes > 0 && now_ns.saturating_sub(heartbeat_ns) > timeout_ns
}

/// Drop counts of one snapshot, by cause and by level.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Drops {
    /// Rejected because the queue was full.
    pub queue_full: u64,
    /// Rejected by level shedding.
    pub shed: u64,
    /// Rejected after waiting for room until the caller's timeout.
    pub timed_out: u64,
    /// Rejected because the logger was shutting down.
    pub shutdown: u64,
    /// Rejected because the process is a `fork()` child of the one that
    /// built the logger.
    pub forked: u64,
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
    /// Accepted, then dropped by a pipeline whose backlog was full.
    pub backlog_full: u64,
    /// All drops by level: error, warn, info, debug, trace.
    pub by_level: [u64; 5],
}

impl Drops {
    fn from_totals(d: &DropTotals) -> Drops {
        let c = |cause: DropCause| d.by_cause[cause.index()];
        Drops {
            queue_full: c(DropCause::QueueFull),
            shed: c(DropCause::Shed),
            timed_out: c(DropCause::TimedOut),
            shutdown: c(DropCause::Shutdown),
            forked: c(DropCause::Forked),
            io_failure: c(DropCause::IoFailure),
            panic: c(DropCause::Panic),
            internal: c(DropCause::Internal),
            file_truncated: c(DropCause::FileTruncated),
            file_unlinked: c(DropCause::FileUnlinked),
            backlog_full: c(DropCause::BacklogFull),
            by_level: d.by_level,
        }
    }

    /// The count for one cause.
    pub fn get(&self, cause: DropCause) -> u64 {
        match cause {
            DropCause::QueueFull => self.queue_full,
            DropCause::Shed => self.shed,
            DropCause::TimedOut => self.timed_out,
            DropCause::Shutdown => self.shutdown,
            DropCause::Forked => self.forked,
            DropCause::IoFailure => self.io_failure,
            DropCause::Panic => self.panic,
            DropCause::Internal => self.internal,
            DropCause::FileTruncated => self.file_truncated,
            DropCause::FileUnlinked => self.file_unlinked,
            DropCause::BacklogFull => self.backlog_full,
        }
    }

    /// All drops.
    pub fn total(&self) -> u64 {
        DropCause::ALL.iter().map(|c| self.get(*c)).sum()
    }
}

/// One pipeline in a [`HealthSnapshot`].
///
/// `received = written + dropped + queued` holds at every instant: `queued`
/// is computed as what remains, and covers records in the pipeline's
/// backlog and in the batch its sink is writing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PipelineHealth {
    /// Its name.
    pub name: String,
    /// Its sink, as the sink describes itself (`file:logs/app.log`).
    pub sink: String,
    /// Its state.
    pub state: State,
    /// Whether its state decides the logger's.
    pub essential: bool,
    /// Records given to it (that passed its filter).
    pub received: u64,
    /// Records its sink (or fallback) wrote.
    pub written: u64,
    /// Of `written`, records that went to its fallback sink.
    pub written_fallback: u64,
    /// Records it dropped, by cause.
    pub drops: Drops,
    /// Records received and not yet written or dropped.
    pub queued: u64,
    /// Bytes in its backlog (with one pipeline: the logger's queue).
    pub backlog_used_bytes: u64,
    /// Its backlog's capacity (with one pipeline: the logger's queue).
    pub backlog_capacity_bytes: u64,
    /// Drop notices it wrote.
    pub notices_written: u64,
    /// Bytes it handed to its sinks.
    pub bytes_written: u64,
    /// Its last successful write to its sink, ms since the Unix epoch (0:
    /// never).
    pub last_write_unix_ms: u64,
    /// Sink errors it met.
    pub io_errors: u64,
    /// Its most recent error.
    pub last_error: Option<LastError>,
    /// The sink's own counters (a file sink's repaired fragments and
    /// replayed records, a syslog sink's reconnections and resent
    /// messages, ...), by name.
    pub sink_counters: std::collections::BTreeMap<String, u64>,
}

impl PipelineHealth {
    /// Records it dropped, for any cause.
    pub fn dropped(&self) -> u64 {
        self.drops.total()
    }

    fn collect(p: &PipelineShared, single: bool) -> PipelineHealth {
        // Finished counts first: `queued` is never short of the truth.
        let written = p.counters.written.load(Ordering::Acquire);
        let totals = p.counters.drop_totals();
        let received = p.counters.received.load(Ordering::Acquire);
        let dropped = totals.total();
        let has_fallback = p.config.retry.has_fallback;
        let mut state = p.status.state(has_fallback);
        if single && state == State::ShutDown && !p.control.exited.load(Ordering::Acquire) {
            // The logger's status says shut down as soon as shutdown began;
            // the pipeline is still writing.
            state = State::Healthy;
        }
        PipelineHealth {
            name: p.name.clone(),
            sink: p.sink_description.clone(),
            state,
            essential: p.essential,
            received,
            written,
            written_fallback: p.counters.written_fallback.load(Ordering::Relaxed),
            drops: Drops::from_totals(&totals),
            queued: received.saturating_sub(written + dropped),
            backlog_used_bytes: p.source.used_bytes() as u64,
            backlog_capacity_bytes: p.source.capacity() as u64,
            notices_written: p.counters.notices.load(Ordering::Relaxed),
            bytes_written: p.counters.bytes_written.load(Ordering::Relaxed),
            last_write_unix_ms: p.status.last_write_ms.load(Ordering::Relaxed),
            io_errors: p.status.io_errors.load(Ordering::Relaxed),
            last_error: p.status.last_error(),
            sink_counters: p
                .sink_stats
                .as_ref()
                .map(|s| {
                    s.read()
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// A picture of a logger at one moment.
///
/// Counters are read one by one while other threads log; the identities
/// hold at every instant because `queued` is computed as what remains:
///
/// * `offered = accepted + rejected`;
/// * with one pipeline, `accepted = written + dropped_after_accept +
///   queued`, `queued` including the batch being written;
/// * with several, each entry of `pipelines` keeps `received = written +
///   dropped + queued`, and the top-level `written`, `written_fallback`,
///   `dropped_after_accept` and `queued` add up the pipelines (a record
///   written by two pipelines counts twice: they count deliveries) plus the
///   records still in the logger's queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthSnapshot {
    /// The overall state: the worst of the logger's own (shut down, dead or
    /// stalled queue reader) and its essential pipelines'; a failing or
    /// stalled non-essential pipeline makes it at most `Degraded`.
    pub state: State,
    /// Records offered to the logger (accepted + rejected).
    pub offered: u64,
    /// Records admitted into the queue.
    pub accepted: u64,
    /// Records refused at the call (queue full, shed, timed out, shutdown,
    /// forked).
    pub rejected: u64,
    /// Records written to a sink (primary or fallback), summed over the
    /// pipelines.
    pub written: u64,
    /// Of `written`, records that went to a fallback sink.
    pub written_fallback: u64,
    /// Records accepted and then lost (I/O failure, panic, internal,
    /// truncated or deleted file, full backlog), summed over the pipelines.
    pub dropped_after_accept: u64,
    /// Records accepted and not yet written or dropped: in the queue, in a
    /// backlog, or being written.
    pub queued: u64,
    /// Drops by cause and level (rejections, and the pipelines' drops).
    pub drops: Drops,
    /// Records whose message was cut to the maximum record size.
    pub truncated: u64,
    /// Drop notices the pipelines wrote into their outputs.
    pub notices_written: u64,
    /// Bytes handed to sinks.
    pub bytes_written: u64,
    /// Queue bytes in use.
    pub queue_used_bytes: u64,
    /// Queue capacity in bytes.
    pub queue_capacity_bytes: u64,
    /// Callers waiting for room right now (only with a `block_for` policy).
    pub waiting_callers: u64,
    /// Last successful write of any pipeline, ms since the Unix epoch (0:
    /// never).
    pub last_write_unix_ms: u64,
    /// Sink errors met by the pipelines.
    pub io_errors: u64,
    /// Panics caught in sinks, formatters and worker loops.
    pub panics: u64,
    /// Times a worker thread was restarted.
    pub writer_restarts: u64,
    /// Configuration files applied to the running logger (reloads).
    pub config_reloads: u64,
    /// Configuration files that could not be applied (unreadable, invalid
    /// TOML, unknown keys, bad values); the configuration in force stayed
    /// as it was. The reason is in `last_error`.
    pub config_errors: u64,
    /// The most recent error.
    pub last_error: Option<LastError>,
    /// Each pipeline, in the order they were added.
    pub pipelines: Vec<PipelineHealth>,
}

impl HealthSnapshot {
    pub(crate) fn collect(c: &Common) -> HealthSnapshot {
        let single = c.single();
        let pipelines: Vec<PipelineHealth> = c
            .pipelines
            .iter()
            .map(|p| PipelineHealth::collect(p, single))
            .collect();
        let logger_drops = c.counters.drop_totals();
        let in_ring = c.in_ring();
        let accepted = c.counters.accepted.sum();
        let rejected = c.counters.rejected();
        let mut totals = logger_drops;
        for p in &c.pipelines {
            totals = totals.plus(&p.counters.drop_totals());
        }
        let sum = |f: fn(&PipelineHealth) -> u64| pipelines.iter().map(f).sum::<u64>();
        let forked = crate::fork::generation() != c.fork_generation;
        let state = if forked {
            State::Dead
        } else {
            logger_state(c, &pipelines)
        };
        let restarts: u64 = c
            .pipelines
            .iter()
            .map(|p| p.status.restarts.load(Ordering::Relaxed))
            .sum::<u64>()
            + if single {
                0
            } else {
                c.status.restarts.load(Ordering::Relaxed)
            };
        let panics: u64 = c
            .pipelines
            .iter()
            .map(|p| p.status.panics.load(Ordering::Relaxed))
            .sum::<u64>()
            + if single {
                0
            } else {
                c.status.panics.load(Ordering::Relaxed)
            };
        HealthSnapshot {
            state,
            offered: accepted + rejected,
            accepted,
            rejected,
            written: sum(|p| p.written),
            written_fallback: sum(|p| p.written_fallback),
            dropped_after_accept: c.counters.dropped_after_accept() + sum(|p| p.dropped()),
            queued: in_ring + sum(|p| p.queued),
            drops: Drops::from_totals(&totals),
            truncated: c.counters.truncated.load(Ordering::Relaxed),
            notices_written: sum(|p| p.notices_written),
            bytes_written: sum(|p| p.bytes_written),
            queue_used_bytes: c.ring.used_bytes() as u64,
            queue_capacity_bytes: c.ring.capacity() as u64,
            waiting_callers: c.status.waiting_callers.load(Ordering::Relaxed) as u64,
            last_write_unix_ms: pipelines
                .iter()
                .map(|p| p.last_write_unix_ms)
                .max()
                .unwrap_or(0),
            io_errors: sum(|p| p.io_errors),
            panics,
            writer_restarts: restarts,
            config_reloads: c.config_reloads.load(Ordering::Relaxed),
            config_errors: c.config_errors.load(Ordering::Relaxed),
            last_error: c.status.last_error(),
            pipelines,
        }
    }

    /// Total records dropped for any cause.
    pub fn dropped(&self) -> u64 {
        self.rejected + self.dropped_after_accept
    }

    /// The pipeline named `name`, if there is one.
    pub fn pipeline(&self, name: &str) -> Option<&PipelineHealth> {
        self.pipelines.iter().find(|p| p.name == name)
    }

    /// Prometheus text exposition (version 0.0.4) of the counters and gauges.
    pub fn to_prometheus(&self) -> String {
        crate::prometheus::render(self)
    }
}

/// The logger's state: its own, then the worst of its pipelines'.
fn logger_state(c: &Common, pipelines: &[PipelineHealth]) -> State {
    if c.status.shut_down.load(Ordering::Acquire) {
        return State::ShutDown;
    }
    if c.single() {
        // The pipeline shares the logger's status.
        return pipelines.first().map_or(State::Dead, |p| p.state);
    }
    let own = c.status.state(true);
    let mut worst = own;
    for p in pipelines {
        let s = if p.essential {
            p.state
        } else if p.state == State::Healthy {
            State::Healthy
        } else {
            State::Degraded
        };
        // A failing essential pipeline leaves callers unaffected: degraded.
        let s = if s == State::Failing {
            State::Degraded
        } else {
            s
        };
        if s.severity() > worst.severity() {
            worst = s;
        }
    }
    worst
}

impl fmt::Display for HealthSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "state={} offered={} accepted={} written={} (fallback {}) queued={} dropped={} [",
            self.state,
            self.offered,
            self.accepted,
            self.written,
            self.written_fallback,
            self.queued,
            self.dropped(),
        )?;
        write_drops(f, &self.drops)?;
        write!(
            f,
            "] queue={}/{} bytes io_errors={} panics={} restarts={} waiting_callers={}",
            self.queue_used_bytes,
            self.queue_capacity_bytes,
            self.io_errors,
            self.panics,
            self.writer_restarts,
            self.waiting_callers,
        )?;
        if self.config_reloads + self.config_errors > 0 {
            write!(
                f,
                " config_reloads={} config_errors={}",
                self.config_reloads, self.config_errors
            )?;
        }
        if let Some(e) = &self.last_error {
            write!(
                f,
                " last_error=\"{}: {} ({})\"",
                e.operation, e.message, e.class
            )?;
        }
        if self.pipelines.len() > 1 {
            for p in &self.pipelines {
                write!(
                    f,
                    " | pipeline {} ({}) state={} received={} written={} queued={} dropped={} [",
                    p.name,
                    p.sink,
                    p.state,
                    p.received,
                    p.written,
                    p.queued,
                    p.dropped()
                )?;
                write_drops(f, &p.drops)?;
                write!(
                    f,
                    "] backlog={}/{} bytes",
                    p.backlog_used_bytes, p.backlog_capacity_bytes
                )?;
            }
        }
        Ok(())
    }
}

fn write_drops(f: &mut fmt::Formatter<'_>, d: &Drops) -> fmt::Result {
    for (i, cause) in DropCause::ALL.iter().enumerate() {
        if i > 0 {
            f.write_str(" ")?;
        }
        write!(f, "{}={}", cause.as_str(), d.get(*cause))?;
    }
    Ok(())
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
        assert_eq!(s.state(true), State::Dead);
        s.writer_alive.store(true, Ordering::Release);
        assert_eq!(s.state(true), State::Healthy);
        s.sink_failing.store(true, Ordering::Release);
        assert_eq!(s.state(true), State::Degraded);
        assert_eq!(s.state(false), State::Failing);
        s.stalled.store(true, Ordering::Release);
        assert_eq!(s.state(true), State::Stalled);
        assert!(!s.writer_usable());
        s.shut_down.store(true, Ordering::Release);
        assert_eq!(s.state(true), State::ShutDown);
        assert!(!State::Stalled.is_serving() && State::Degraded.is_serving());
    }
}
