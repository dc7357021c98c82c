//! Pipelines: one destination each (a filter, a renderer, a sink, a retry
//! and fallback policy, and counters of its own).
//!
//! A logger has one or more pipelines. With one, the pipeline's thread
//! reads the logger's ring itself, exactly as a single writer would. With
//! several, a dispatcher thread ([`crate::dispatch`]) reads the ring once
//! and copies each record into the backlog of every pipeline whose filter
//! takes it: a bounded byte queue of the same kind as the ring, drained by
//! that pipeline's own thread. A sink may then block only its own thread;
//! a pipeline whose backlog is full drops (and counts) alone.
//!
//! Every pipeline keeps `received = written + dropped + queued` exactly,
//! `queued` including the batch its sink is writing right now.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;

use crate::control::Control;
use crate::counters::{Counters, DropTotals};
use crate::error::Error;
use crate::health::Status;
use crate::live::PendingFormat;
use crate::queue::ByteQueue;
use crate::render::{Format, Renderer};
use crate::retry::{Retry, RetryPolicy};
use crate::sink::{Sink, StderrSink};

mod batch;
pub(crate) mod filter;
mod notice;
mod run;

pub(crate) use batch::Batch;
pub(crate) use filter::{Directives, Routes};
pub(crate) use run::{panic_message, pipeline_main, Exit};

/// Default size of a pipeline's backlog when a logger has several.
pub const DEFAULT_BACKLOG: usize = 4 << 20;

/// One destination of a logger: a sink with its own format, filter,
/// backlog, retry and fallback policy and counters.
///
/// ```no_run
/// use jamless::{Builder, Format, Pipeline, StdoutSink};
/// let (logger, _guard) = Builder::new()
///     .pipeline(Pipeline::new("file", jamless::FileSinkBuilder::new("logs/app.log").build())
///         .format(Format::json())
///         .filter("debug"))
///     .pipeline(Pipeline::new("stdout", StdoutSink::new()).filter("warn"))
///     .build()?;
/// # Ok::<(), jamless::Error>(())
/// ```
///
/// Settings left unset take the builder's: [`crate::Builder::format`],
/// [`crate::Builder::fallback`], [`crate::Builder::fallback_after`] and
/// [`crate::Builder::retry_backoff`].
pub struct Pipeline {
    pub(crate) name: String,
    pub(crate) sink: Box<dyn Sink>,
    pub(crate) format: Option<Format>,
    pub(crate) filter: Option<String>,
    pub(crate) backlog: usize,
    pub(crate) fallback: Option<Option<Box<dyn Sink>>>,
    pub(crate) fallback_after: Option<Duration>,
    pub(crate) backoff: Option<(Duration, Duration)>,
    pub(crate) essential: bool,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("name", &self.name)
            .field("sink", &self.sink.describe())
            .field("filter", &self.filter)
            .finish_non_exhaustive()
    }
}

impl Pipeline {
    /// A pipeline named `name` (letters, digits, `_`, `-`, `.`; unique in
    /// its logger; used in health and metrics) writing to `sink`.
    pub fn new(name: impl Into<String>, sink: impl Sink) -> Pipeline {
        Pipeline::boxed(name.into(), Box::new(sink))
    }

    /// [`Pipeline::new`] with a sink already boxed.
    pub(crate) fn boxed(name: String, sink: Box<dyn Sink>) -> Pipeline {
        Pipeline {
            name,
            sink,
            format: None,
            filter: None,
            backlog: DEFAULT_BACKLOG,
            fallback: None,
            fallback_after: None,
            backoff: None,
            essential: true,
        }
    }

    /// Text or JSON lines for this pipeline (default: the builder's).
    #[must_use]
    pub fn format(mut self, format: Format) -> Pipeline {
        self.format = Some(format);
        self
    }

    /// Which records this pipeline takes, on top of the logger's filter:
    /// `warn`, or `info,my_app::db=debug,hyper=off` (the longest matching
    /// target prefix wins). Default: every record the logger takes.
    #[must_use]
    pub fn filter(mut self, directives: impl Into<String>) -> Pipeline {
        self.filter = Some(directives.into());
        self
    }

    /// The memory cap of this pipeline's backlog in bytes (default 4 MiB,
    /// at least 64 KiB, rounded up to a power of two), used when the
    /// logger has several pipelines. When it is full this pipeline drops
    /// and counts ([`crate::DropCause::BacklogFull`]); the others go on.
    #[must_use]
    pub fn backlog_bytes(mut self, bytes: usize) -> Pipeline {
        self.backlog = bytes;
        self
    }

    /// Where this pipeline's records go while its sink fails; `None` drops
    /// them (counted). Default: the builder's fallback (standard error).
    #[must_use]
    pub fn fallback(mut self, fallback: Option<Box<dyn Sink>>) -> Pipeline {
        self.fallback = Some(fallback);
        self
    }

    /// How long the sink may fail before batches go to the fallback.
    #[must_use]
    pub fn fallback_after(mut self, d: Duration) -> Pipeline {
        self.fallback_after = Some(d);
        self
    }

    /// Back-off between retries of a failing sink (starts at `initial`,
    /// doubles, stays at `max`).
    #[must_use]
    pub fn retry_backoff(mut self, initial: Duration, max: Duration) -> Pipeline {
        self.backoff = Some((initial, max));
        self
    }

    /// Whether this pipeline's state decides the logger's (default true).
    /// A stalled or failing non-essential pipeline makes the logger
    /// `Degraded`, not `Stalled`: a debug copy to a collector should not
    /// fail a liveness probe.
    #[must_use]
    pub fn essential(mut self, essential: bool) -> Pipeline {
        self.essential = essential;
        self
    }

    pub(crate) fn check_name(&self) -> Result<(), Error> {
        let ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
        if ok {
            Ok(())
        } else {
            Err(Error::config(format!(
                "pipeline name {:?} must be 1 to 64 letters, digits, '_', '-' or '.'",
                self.name
            )))
        }
    }
}

/// Timing of a pipeline's thread.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PipelineConfig {
    /// Payload bytes drained per batch (one write call each).
    pub(crate) batch_bytes: usize,
    /// How long the thread sleeps when it has nothing to do.
    pub(crate) idle_interval: Duration,
    /// How often the sink's `maintain` runs.
    pub(crate) maintain_interval: Duration,
    /// Minimum time between two drop notices (a final one is always written
    /// on flush and shutdown).
    pub(crate) notice_interval: Duration,
    pub(crate) retry: RetryPolicy,
}

/// What other threads may touch of a pipeline: counters, status, the
/// mailbox, its source queue, and (locked by its one running thread for
/// that thread's lifetime) its parts.
pub(crate) struct PipelineShared {
    pub(crate) name: String,
    pub(crate) sink_description: String,
    /// The sink's own counters, if it keeps any.
    pub(crate) sink_stats: Option<crate::sink::SinkStats>,
    pub(crate) essential: bool,
    pub(crate) counters: Counters,
    /// Its own status with several pipelines; the logger's with one.
    pub(crate) status: Arc<Status>,
    pub(crate) control: Control,
    /// What its thread drains: the logger's ring with one pipeline, its own
    /// backlog with several.
    pub(crate) source: Arc<ByteQueue>,
    /// Whether its thread counts `received` as it reads (true when it reads
    /// the ring itself; with a dispatcher, the dispatcher counts).
    pub(crate) counts_on_read: bool,
    /// Fill of `source` at which a producer wakes a sleeping thread early.
    pub(crate) wake_at: usize,
    /// Its filter, swapped whole when it changes.
    pub(crate) filter: ArcSwap<Directives>,
    /// A new format for its thread to take before its next batch.
    pub(crate) pending_format: PendingFormat,
    pub(crate) config: PipelineConfig,
    pub(crate) parts: Mutex<PipelineParts>,
}

impl PipelineShared {
    /// Records received and not yet written or dropped (including the batch
    /// being written). Reads the finished counts first, so the result is
    /// never short of the truth.
    pub(crate) fn queued(&self) -> u64 {
        let done = self.done();
        self.counters
            .received
            .load(Ordering::Acquire)
            .saturating_sub(done)
    }

    /// Records written or dropped.
    pub(crate) fn done(&self) -> u64 {
        self.counters.written.load(Ordering::Acquire) + self.counters.dropped_after_accept()
    }
}

/// A pipeline's working state. It outlives a thread, so a restarted thread
/// continues with the same sink, renderer and buffers.
pub(crate) struct PipelineParts {
    pub(crate) renderer: Renderer,
    pub(crate) sink: Box<dyn Sink>,
    pub(crate) fallback: Option<Box<dyn Sink>>,
    pub(crate) batch: Batch,
    pub(crate) retry: Retry,
    /// A line was cut short in this destination; start the next write with
    /// a newline so no record is glued to a fragment.
    pub(crate) newline_due: [bool; 2],
    /// Drop totals already reported in this pipeline's output, per source
    /// (the logger first, then each pipeline).
    pub(crate) reported: Vec<DropTotals>,
    /// Scratch for the current totals, reused before every batch.
    pub(crate) totals: Vec<DropTotals>,
    pub(crate) last_notice: Option<std::time::Instant>,
    /// The latest drop (raw clock) covered by this pipeline's last notice.
    pub(crate) noticed_until: u64,
    pub(crate) last_maintain: Option<std::time::Instant>,
    /// Turns the records' raw timestamps into wall-clock time.
    pub(crate) clock: crate::clock::Converter,
}

impl PipelineParts {
    pub(crate) fn new(
        renderer: Renderer,
        sink: Box<dyn Sink>,
        fallback: Option<Box<dyn Sink>>,
        sources: usize,
    ) -> PipelineParts {
        PipelineParts {
            renderer,
            sink,
            fallback,
            batch: Batch::new(),
            retry: Retry::default(),
            newline_due: [false; 2],
            reported: vec![DropTotals::default(); sources],
            totals: Vec::with_capacity(sources),
            last_notice: None,
            noticed_until: 0,
            last_maintain: None,
            clock: crate::clock::global().converter(),
        }
    }
}

/// The default fallback of a pipeline: standard error.
pub(crate) fn default_fallback() -> Option<Box<dyn Sink>> {
    Some(Box::new(StderrSink::new()))
}
