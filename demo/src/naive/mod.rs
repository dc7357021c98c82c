//! # `naive`: THE FAILURE BEING DEMONSTRATED. Never copy this logger.
//!
//! A small, faithful Rust port of the log4go file writer
//! (`FileLogTraceWriter`) whose consumer died in the incident of
//! `shared/INCIDENT.md`. It exists only so that the demo can show the outage
//! happen, side by side with jamless. Everything that made it fatal is kept
//! on purpose:
//!
//! * [`NaiveLogger::log_write`] is `w.rec <- rec`: a **blocking** send on a
//!   bounded channel of [`LOG_BUFFER_LENGTH`] (32) records, with no timeout,
//!   no drop and no counting of what is lost.
//! * One consumer thread receives the records, formats them and writes
//!   them to the file (buffered, flushed when the channel is empty or the
//!   buffer is 1 ms old, as the original does).
//! * Rotation happens on a timer at wall-clock multiples of the period, so
//!   two processes sharing a path rotate at the same instants, and is done
//!   like log4go's `intRotate`: write the trailer and close the file; if the
//!   path exists, find the first free `<name>.<YYYY-MM-DD-HH-MM-SS>.<NNN>`,
//!   `rename` the file there; reopen the path (`O_APPEND|O_CREATE`, mode
//!   0664) and write the header. When two processes do this at the same
//!   instant, the loser's `rename` finds no file (`ENOENT`).
//! * On **any** rotation error the consumer prints one line to standard
//!   error (`naive: rotation failed: <err>; consumer exiting`) and
//!   **returns**. The channel stays open (the logger keeps the receiver, as
//!   the Go channel outlived its goroutine), so from then on every log call
//!   blocks forever once the channel is full, and the records in the channel
//!   are lost without being counted anywhere.
//!
//! The additions, none of which changes the behaviour above:
//!
//! * counters that the original lacked (records sent, received and written,
//!   callers waiting in a send, whether the consumer is alive), so that the
//!   demo can show what a goroutine dump showed;
//! * an opt-in **simulation** of a slow file system
//!   ([`NaiveConfig::simulated_fs_latency`], the service's
//!   `--naive-fs-latency-ms`, zero by default) that widens the rotation
//!   race's window from tens of microseconds to milliseconds, so that the
//!   demo need not wait for a rare collision. It is not part of the port.
//!
//! The stamp in a rotated file's name is the start of the period the file
//! covers, in UTC (log4go used the local "last hour").

mod clock;
mod consumer;
mod layer;

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde::Serialize;

pub use layer::NaiveLayer;

/// The channel's capacity in records (log4go's `LogBufferLength`).
pub const LOG_BUFFER_LENGTH: usize = 32;

/// One log record, as log4go's `LogRecord`: formatted by the consumer.
#[derive(Debug, Clone)]
pub struct Record {
    /// When the record was made.
    pub created: SystemTime,
    /// Its level.
    pub level: tracing::Level,
    /// Where it comes from (the `tracing` target).
    pub source: &'static str,
    /// The message, with any fields appended as ` key=value`.
    pub message: String,
}

impl Record {
    /// A record made now.
    pub fn now(level: tracing::Level, source: &'static str, message: String) -> Record {
        Record {
            created: SystemTime::now(),
            level,
            source,
            message,
        }
    }
}

/// How a [`NaiveLogger`] writes and rotates.
#[derive(Debug, Clone)]
pub struct NaiveConfig {
    /// The log file (renamed away at each rotation).
    pub path: PathBuf,
    /// The rotation period (whole seconds, aligned to the wall clock), or
    /// `None` for no rotation.
    pub rotate_every: Option<Duration>,
    /// The channel's capacity in records.
    pub capacity: usize,
    /// **Not part of the original; a simulation knob, zero by default.**
    /// A pause before each file-system metadata call of a rotation (each
    /// `lstat`, the `rename` and the reopening `open`), as if the log
    /// directory were on a slow file system (a network mount, a saturated
    /// disk). It widens the race window of two processes rotating one path
    /// from a few tens of µs on a local disk to about this long; see
    /// [`NaiveConfig::simulated_fs_latency`].
    pub fs_latency: Duration,
}

impl NaiveConfig {
    /// Writes to `path`, without rotation, with a channel of
    /// [`LOG_BUFFER_LENGTH`] records.
    pub fn new(path: impl Into<PathBuf>) -> NaiveConfig {
        NaiveConfig {
            path: path.into(),
            rotate_every: None,
            capacity: LOG_BUFFER_LENGTH,
            fs_latency: Duration::ZERO,
        }
    }

    /// **A simulation, not part of the ported logger**: makes each metadata
    /// call of a rotation (`lstat`, `rename`, `open`) take `latency` longer.
    ///
    /// Two processes rotating the same path at the same instant collide
    /// only if the loser's `lstat` sees the file before the winner's
    /// `rename` and the loser's own `rename` comes before the winner's
    /// reopening `open`. On a local disk that window is a few tens of µs: with
    /// two processes rotating every second on a loaded 2-core machine
    /// (`tests/naive_race_rate.rs`), about one boundary in ten failed
    /// (23 of 234), every one whose two rotations started less than ~40 µs
    /// apart; on an idle machine the rotations started ~200-400 µs apart
    /// and none of 42 failed. In production it took two pods on one node
    /// and many hourly rotations. With a latency `L` before each call the
    /// loser fails whenever the two rotations start less than about `L`
    /// apart (2 ms: 14 of 17 boundaries failed, loaded or idle; 5 ms: 8 of
    /// 9), so the failure is near certain within a few rotations, which is
    /// what a demo needs. Zero (the default) is the faithful port.
    pub fn simulated_fs_latency(mut self, latency: Duration) -> NaiveConfig {
        self.fs_latency = latency;
        self
    }

    /// Rotates every `secs` seconds (0: never).
    pub fn rotate_every_secs(mut self, secs: u64) -> NaiveConfig {
        self.rotate_every = (secs > 0).then(|| Duration::from_secs(secs));
        self
    }
}

/// Counters and flags shared by callers and the consumer.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub(crate) capacity: usize,
    /// Sends that completed (the record entered the channel).
    pub(crate) sent: AtomicU64,
    /// Records the consumer took from the channel.
    pub(crate) received: AtomicU64,
    /// Records written to the file.
    pub(crate) written: AtomicU64,
    /// Callers inside a send right now.
    pub(crate) waiting: AtomicU64,
    pub(crate) rotations: AtomicU64,
    pub(crate) write_errors: AtomicU64,
    pub(crate) consumer_alive: AtomicBool,
    pub(crate) last_error: Mutex<Option<String>>,
}

impl Shared {
    /// Records in the channel (sent, not yet received).
    pub(crate) fn queued(&self) -> u64 {
        let received = self.received.load(Ordering::Acquire);
        self.sent.load(Ordering::Acquire).saturating_sub(received)
    }

    pub(crate) fn set_last_error(&self, message: String) {
        let mut slot = self.last_error.lock().unwrap_or_else(|p| p.into_inner());
        *slot = Some(message);
    }
}

/// The naive logger: a handle on the channel (cheap to clone).
#[derive(Debug, Clone)]
pub struct NaiveLogger {
    tx: SyncSender<Record>,
    shared: Arc<Shared>,
    /// The receiving end outlives the consumer, as the Go channel outlived
    /// its goroutine: without it a send would fail instead of blocking.
    _rx: Arc<Mutex<Receiver<Record>>>,
}

impl NaiveLogger {
    /// Opens the file (rotating an existing one away first, as log4go's
    /// constructor does) and starts the consumer thread.
    ///
    /// # Errors
    ///
    /// The first rotation or open failed, or the thread could not start.
    pub fn start(config: NaiveConfig) -> io::Result<NaiveLogger> {
        let (tx, rx) = sync_channel(config.capacity);
        let shared = Arc::new(Shared {
            capacity: config.capacity,
            ..Shared::default()
        });
        let mut consumer = consumer::Consumer::new(config, Arc::clone(&shared));
        consumer.open_first()?;
        let rx = Arc::new(Mutex::new(rx));
        let consumer_rx = Arc::clone(&rx);
        shared.consumer_alive.store(true, Ordering::Release);
        let spawned = std::thread::Builder::new()
            .name("naive-consumer".into())
            .spawn(move || consumer.run(&consumer_rx));
        if let Err(e) = spawned {
            shared.consumer_alive.store(false, Ordering::Release);
            return Err(e);
        }
        Ok(NaiveLogger {
            tx,
            shared,
            _rx: rx,
        })
    }

    /// log4go's `LogWrite`: `w.rec <- rec`. Blocks, without any limit, while
    /// the channel is full; forever once the consumer has exited.
    pub fn log_write(&self, record: Record) {
        self.shared.waiting.fetch_add(1, Ordering::AcqRel);
        // Cannot fail: this handle keeps the receiver alive.
        let sent = self.tx.send(record).is_ok();
        self.shared.waiting.fetch_sub(1, Ordering::AcqRel);
        if sent {
            self.shared.sent.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// A `tracing` layer that sends every event through
    /// [`log_write`](NaiveLogger::log_write).
    pub fn tracing_layer(&self) -> NaiveLayer {
        NaiveLayer::new(self.clone())
    }

    /// Records in the channel: lost, uncounted, if the process ends now.
    pub fn queued(&self) -> u64 {
        self.shared.queued()
    }

    /// What the counters say now.
    pub fn health(&self) -> NaiveHealth {
        let s = &self.shared;
        let alive = s.consumer_alive.load(Ordering::Acquire);
        NaiveHealth {
            logger: "naive",
            state: if alive { "healthy" } else { "dead" },
            consumer_alive: alive,
            waiting_callers: s.waiting.load(Ordering::Acquire),
            sent: s.sent.load(Ordering::Acquire),
            written: s.written.load(Ordering::Acquire),
            queued: s.queued(),
            channel_capacity: s.capacity as u64,
            rotations: s.rotations.load(Ordering::Acquire),
            write_errors: s.write_errors.load(Ordering::Acquire),
            last_error: s
                .last_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        }
    }
}

/// The naive logger's health, as the demo's `/health/logging` serves it.
/// The original had nothing of the kind; the demo adds it to show what a
/// goroutine dump showed after the outage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NaiveHealth {
    /// Always `naive`.
    pub logger: &'static str,
    /// `healthy` while the consumer runs, `dead` once it has exited.
    pub state: &'static str,
    /// Whether the consumer thread is running.
    pub consumer_alive: bool,
    /// Callers blocked in a send right now.
    pub waiting_callers: u64,
    /// Records that entered the channel.
    pub sent: u64,
    /// Records written to the file.
    pub written: u64,
    /// Records in the channel now.
    pub queued: u64,
    /// The channel's capacity.
    pub channel_capacity: u64,
    /// Rotations done.
    pub rotations: u64,
    /// Failed writes (printed to standard error; their records are lost).
    pub write_errors: u64,
    /// The error that ended the consumer, if it has ended.
    pub last_error: Option<String>,
}

impl NaiveHealth {
    /// Prometheus text exposition of the counters.
    pub fn to_prometheus(&self) -> String {
        let metrics: [(&str, &str, &str, u64); 7] = [
            (
                "naive_consumer_alive",
                "gauge",
                "1 while the consumer thread runs.",
                u64::from(self.consumer_alive),
            ),
            (
                "naive_waiting_callers",
                "gauge",
                "Callers blocked in a send.",
                self.waiting_callers,
            ),
            (
                "naive_records_sent_total",
                "counter",
                "Records that entered the channel.",
                self.sent,
            ),
            (
                "naive_records_written_total",
                "counter",
                "Records written to the file.",
                self.written,
            ),
            (
                "naive_records_queued",
                "gauge",
                "Records in the channel.",
                self.queued,
            ),
            (
                "naive_rotations_total",
                "counter",
                "Rotations done.",
                self.rotations,
            ),
            (
                "naive_write_errors_total",
                "counter",
                "Failed writes.",
                self.write_errors,
            ),
        ];
        let mut out = String::new();
        for (name, kind, help, value) in metrics {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
            ));
        }
        out
    }
}
