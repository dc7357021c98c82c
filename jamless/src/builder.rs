//! Configuration: [`Builder`] validates everything and starts the threads.

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use crate::common::Common;
use crate::control::{Control, Signal};
use crate::counters::Counters;
use crate::error::Error;
use crate::guard::Guard;
use crate::health::Status;
use crate::live::{FacadeFilter, Live, PendingFormat};
use crate::logger::{Core, Logger};
use crate::pipeline::{
    default_fallback, Directives, Pipeline, PipelineConfig, PipelineParts, PipelineShared, Routes,
};
use crate::policy::{Overflow, OverflowKind, Shedding, MAX_BLOCK};
use crate::queue::ByteQueue;
use crate::render::{Format, Renderer};
use crate::report::{stderr_handler, ErrorHandler};
use crate::retry::RetryPolicy;
use crate::sink::{FileSinkBuilder, Sink};
use crate::supervisor::{spawn_watchdog, WatchConfig, Worker};

/// Smallest accepted queue capacity.
pub const MIN_CAPACITY: usize = 64 * 1024;

enum SinkChoice {
    File(PathBuf),
    Custom(Box<dyn Sink>),
}

/// Builds a [`Logger`] and its [`Guard`].
///
/// ```no_run
/// let (logger, _guard) = jamless::Builder::new()
///     .file("logs/app.log")
///     .build()?;
/// logger.install_log()?;
/// log::info!("service started");
/// # Ok::<(), jamless::Error>(())
/// ```
pub struct Builder {
    name: String,
    sink: SinkChoice,
    /// `file` or `sink` was called (the one-pipeline shorthand).
    sink_set: bool,
    pipelines: Vec<Pipeline>,
    fallback: Option<Box<dyn Sink>>,
    /// `fallback` was given by the user (one sink: for one pipeline only).
    fallback_custom: bool,
    format: Format,
    capacity: usize,
    max_record: usize,
    overflow: Overflow,
    shedding: Option<Shedding>,
    filter: Option<String>,
    handler: ErrorHandler,
    idle_interval: Duration,
    maintain_interval: Duration,
    notice_interval: Duration,
    batch_bytes: usize,
    initial_backoff: Duration,
    max_backoff: Duration,
    fallback_after: Duration,
    stall_timeout: Duration,
    watch_interval: Duration,
    shutdown_timeout: Duration,
    /// The configuration file this builder was made from, kept by the
    /// logger to compare reloads with.
    #[cfg(feature = "config")]
    pub(crate) config: Option<Box<crate::config::ConfigFile>>,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("name", &self.name)
            .field("capacity", &self.capacity)
            .field("overflow", &self.overflow)
            .finish_non_exhaustive()
    }
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl Builder {
    /// A builder with the defaults: text lines to `logs/app.log`, an 8 MiB
    /// queue, drop-newest on overflow, shedding below `WARN` above 80% full,
    /// standard error as fallback after 5 s of failing writes, and the
    /// filter from `RUST_LOG` (or `info` when it is not set).
    pub fn new() -> Builder {
        Builder {
            name: "jamless".to_string(),
            sink: SinkChoice::File(PathBuf::from("logs/app.log")),
            sink_set: false,
            pipelines: Vec::new(),
            fallback: default_fallback(),
            fallback_custom: false,
            format: Format::text(),
            capacity: 8 << 20,
            max_record: 64 << 10,
            overflow: Overflow::drop_newest(),
            shedding: Some(Shedding::default()),
            filter: None,
            handler: stderr_handler(),
            idle_interval: Duration::from_millis(10),
            maintain_interval: Duration::from_millis(250),
            notice_interval: Duration::from_secs(1),
            batch_bytes: 256 << 10,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_secs(1),
            fallback_after: Duration::from_secs(5),
            stall_timeout: Duration::from_secs(2),
            watch_interval: Duration::from_millis(100),
            shutdown_timeout: Duration::from_secs(3),
            #[cfg(feature = "config")]
            config: None,
        }
    }

    /// Names the logger's threads (`<name>-writer`, `<name>-watchdog`).
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = name.into();
        self
    }

    /// Writes to a file (created `0640`, parent directories created, always
    /// appended, reopened when moved or deleted). For more control build a
    /// [`crate::FileSink`] and pass it to [`Builder::sink`].
    ///
    /// This and [`Builder::sink`] make a logger of one pipeline, named
    /// `main`; use [`Builder::pipeline`] for several (not both).
    pub fn file(mut self, path: impl Into<PathBuf>) -> Builder {
        self.sink = SinkChoice::File(path.into());
        self.sink_set = true;
        self
    }

    /// Writes to any [`Sink`] (the one-pipeline shorthand, see
    /// [`Builder::file`]).
    pub fn sink(mut self, sink: impl Sink) -> Builder {
        self.sink = SinkChoice::Custom(Box::new(sink));
        self.sink_set = true;
        self
    }

    /// Adds a pipeline: a destination with its own sink, format, filter,
    /// backlog and retry policy (see [`Pipeline`]). With several pipelines
    /// a dispatcher thread hands each record to every pipeline that takes
    /// it, and each pipeline writes on its own thread, so a slow or broken
    /// destination delays and drops only its own records.
    pub fn pipeline(mut self, pipeline: Pipeline) -> Builder {
        self.pipelines.push(pipeline);
        self
    }

    /// Where records go while a sink fails (default: standard error), for
    /// every pipeline that does not set its own. `None` drops them instead,
    /// counted as I/O failures.
    ///
    /// A fallback sink given here can serve one pipeline only; with several
    /// pipelines give each its own with [`Pipeline::fallback`] (the default
    /// standard error serves all).
    pub fn fallback(mut self, fallback: Option<Box<dyn Sink>>) -> Builder {
        self.fallback_custom = fallback.is_some();
        self.fallback = fallback;
        self
    }

    /// How long the primary sink may fail (while the writer retries with
    /// back-off, holding the batch) before batches go to the fallback.
    pub fn fallback_after(mut self, d: Duration) -> Builder {
        self.fallback_after = d;
        self
    }

    /// Back-off between retries of a failing sink: starts at `initial`,
    /// doubles, and stays at `max`.
    pub fn retry_backoff(mut self, initial: Duration, max: Duration) -> Builder {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }

    /// Text or JSON lines (default: text with the default pattern), for
    /// every pipeline that does not set its own.
    pub fn format(mut self, format: Format) -> Builder {
        self.format = format;
        self
    }

    /// The queue's memory cap in bytes (default 8 MiB, at least 64 KiB, at
    /// most 1 GiB; rounded up to a power of two). [`Builder::build`] refuses
    /// a capacity outside these bounds with a configuration error.
    pub fn capacity_bytes(mut self, bytes: usize) -> Builder {
        self.capacity = bytes;
        self
    }

    /// The largest encoded record (default 64 KiB). A larger record keeps
    /// its metadata and the start of its message, marked as truncated.
    pub fn max_record_bytes(mut self, bytes: usize) -> Builder {
        self.max_record = bytes;
        self
    }

    /// What a log call does when the queue is full (default: drop newest).
    pub fn overflow(mut self, overflow: Overflow) -> Builder {
        self.overflow = overflow;
        self
    }

    /// Level shedding above a watermark; `None` turns it off.
    pub fn shedding(mut self, shedding: Option<Shedding>) -> Builder {
        self.shedding = shedding;
        self
    }

    /// Which records the `log` and `tracing` adapters accept, in the usual
    /// `RUST_LOG` syntax (`info,my_crate::db=debug`).
    pub fn filter(mut self, directives: impl Into<String>) -> Builder {
        self.filter = Some(directives.into());
        self
    }

    /// Where the writer reports its own errors (default: rate-limited lines
    /// on standard error).
    pub fn error_handler(mut self, handler: ErrorHandler) -> Builder {
        self.handler = handler;
        self
    }

    /// How long the writer sleeps when idle; records logged meanwhile wait
    /// at most this long before they are written (default 10 ms).
    pub fn idle_interval(mut self, d: Duration) -> Builder {
        self.idle_interval = d;
        self
    }

    /// How often the sink checks its destination, e.g. whether the file was
    /// moved or deleted (default 250 ms; the file sink itself checks at most
    /// once per its `check_interval`).
    pub fn maintain_interval(mut self, d: Duration) -> Builder {
        self.maintain_interval = d;
        self
    }

    /// Minimum time between two drop notices in the log (default 1 s).
    pub fn notice_interval(mut self, d: Duration) -> Builder {
        self.notice_interval = d;
        self
    }

    /// No writer progress for this long while records wait makes the state
    /// `Stalled` (default 2 s).
    pub fn stall_timeout(mut self, d: Duration) -> Builder {
        self.stall_timeout = d;
        self
    }

    /// How often the watchdog checks the writer (default 100 ms).
    pub fn watch_interval(mut self, d: Duration) -> Builder {
        self.watch_interval = d;
        self
    }

    /// How long dropping the [`Guard`] may wait to flush (default 3 s).
    pub fn shutdown_timeout(mut self, d: Duration) -> Builder {
        self.shutdown_timeout = d;
        self
    }

    pub(crate) fn filter_spec(&self) -> String {
        match &self.filter {
            Some(f) => f.clone(),
            None => std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_string()),
        }
    }

    fn validate(&self) -> Result<(), Error> {
        // The queue rounds the capacity up to a power of two and cannot
        // hold a ring larger than its maximum: refuse what it cannot honour
        // rather than build a smaller queue than asked for.
        let max = crate::queue::MAX_CAPACITY;
        if self.capacity < MIN_CAPACITY || self.capacity > max {
            return Err(Error::config(format!(
                "capacity_bytes must be between {MIN_CAPACITY} (64 KiB) and {max} ({} GiB, \
                 the largest queue), got {}",
                max >> 30,
                self.capacity
            )));
        }
        if let OverflowKind::BlockFor(t) = self.overflow.0 {
            if t > MAX_BLOCK {
                return Err(Error::config(format!(
                    "block_for timeout {t:?} exceeds the maximum of {MAX_BLOCK:?}: a log call may not wait that long"
                )));
            }
        }
        if let Some(s) = &self.shedding {
            if !(s.watermark > 0.0 && s.watermark <= 1.0) {
                return Err(Error::config(format!(
                    "shedding watermark must be in (0, 1], got {}",
                    s.watermark
                )));
            }
        }
        if self.sink_set && !self.pipelines.is_empty() {
            return Err(Error::config(
                "Builder::file or Builder::sink together with Builder::pipeline: \
                 give every destination as a Pipeline",
            ));
        }
        let mut names = std::collections::HashSet::new();
        for p in &self.pipelines {
            p.check_name()?;
            if !names.insert(p.name.as_str()) {
                return Err(Error::config(format!(
                    "two pipelines are named {:?}",
                    p.name
                )));
            }
            if p.backlog < MIN_CAPACITY || p.backlog > (1 << 30) {
                return Err(Error::config(format!(
                    "pipeline {:?}: backlog_bytes must be between {MIN_CAPACITY} and 1 GiB, got {}",
                    p.name, p.backlog
                )));
            }
        }
        if self.max_record < 1024 {
            return Err(Error::config("max_record_bytes must be at least 1024"));
        }
        for (what, d) in [
            ("idle_interval", self.idle_interval),
            ("watch_interval", self.watch_interval),
            ("stall_timeout", self.stall_timeout),
        ] {
            if d.is_zero() {
                return Err(Error::config(format!("{what} must not be zero")));
            }
        }
        Ok(())
    }

    /// Validates the configuration and starts the worker threads (one per
    /// pipeline, a dispatcher when there are several) and the watchdog.
    /// Does no file I/O: files are opened by the pipelines' threads.
    pub fn build(mut self) -> Result<(Logger, Guard), Error> {
        self.validate()?;
        // Calibrate the timestamp counter now, not on the first log call.
        crate::clock::global();
        let fork_generation = crate::fork::register()
            .map_err(|e| Error::io("cannot register the fork handler", e))?;
        let filter = self.filter_spec();
        if self.pipelines.is_empty() {
            let sink: Box<dyn Sink> =
                match std::mem::replace(&mut self.sink, SinkChoice::File(PathBuf::new())) {
                    SinkChoice::File(p) => Box::new(FileSinkBuilder::new(p).build()),
                    SinkChoice::Custom(s) => s,
                };
            self.pipelines.push(Pipeline {
                name: "main".to_string(),
                sink,
                format: None,
                filter: None,
                backlog: MIN_CAPACITY,
                fallback: None,
                fallback_after: None,
                backoff: None,
                essential: true,
            });
        }
        let queue = ByteQueue::new(self.capacity);
        let capacity = queue.capacity();
        let single = self.pipelines.len() == 1;
        let status = Arc::new(Status::new());
        let sources = self.pipelines.len() + 1;
        let mut filters = Vec::new();
        let mut max_record = self.max_record.min(queue.max_payload());
        let mut shared = Vec::new();
        for p in std::mem::take(&mut self.pipelines) {
            let format = p.format.as_ref().unwrap_or(&self.format);
            let renderer = Renderer::new(format)?;
            let directives = match &p.filter {
                Some(spec) => Directives::parse(spec)?,
                None => Directives::all(),
            };
            filters.push(directives.clone());
            let fallback = match p.fallback {
                Some(f) => f,
                None if self.fallback_custom => match self.fallback.take() {
                    Some(f) => Some(f),
                    None => {
                        return Err(Error::config(
                            "Builder::fallback can serve one pipeline only: \
                             give each pipeline its own with Pipeline::fallback",
                        ))
                    }
                },
                None if self.fallback.is_some() => default_fallback(),
                None => None,
            };
            let (initial_backoff, max_backoff) = p
                .backoff
                .unwrap_or((self.initial_backoff, self.max_backoff));
            let config = PipelineConfig {
                batch_bytes: self.batch_bytes,
                idle_interval: self.idle_interval,
                maintain_interval: self.maintain_interval,
                notice_interval: self.notice_interval,
                retry: RetryPolicy {
                    initial_backoff,
                    max_backoff,
                    give_up_after: p.fallback_after.unwrap_or(self.fallback_after),
                    has_fallback: fallback.is_some(),
                },
            };
            let source = if single {
                Arc::clone(&queue)
            } else {
                ByteQueue::new(p.backlog)
            };
            max_record = max_record.min(source.max_payload());
            shared.push(Arc::new(PipelineShared {
                sink_description: p.sink.describe(),
                sink_stats: p.sink.stats(),
                name: p.name,
                essential: p.essential,
                counters: Counters::new(),
                status: if single {
                    Arc::clone(&status)
                } else {
                    Arc::new(Status::new())
                },
                control: Control::new(),
                wake_at: source.capacity() / 4,
                source,
                counts_on_read: single,
                filter: ArcSwap::from_pointee(directives),
                pending_format: PendingFormat::default(),
                config,
                parts: Mutex::new(PipelineParts::new(renderer, p.sink, fallback, sources)),
            }));
        }
        let (shed_at, shed_keep) = match self.shedding {
            Some(s) => (((capacity as f64) * s.watermark) as usize, Some(s.keep)),
            None => (usize::MAX, None),
        };
        let common = Arc::new(Common {
            name: self.name,
            counters: Counters::new(),
            status,
            dispatched: AtomicU64::new(0),
            handler: self.handler,
            pipelines: shared,
            ring: Arc::clone(&queue),
            dispatch: Control::new(),
            dispatch_idle: self.idle_interval,
            space: Signal::new(),
            epoch: Instant::now(),
            fork_generation,
            config_reloads: AtomicU64::new(0),
            config_errors: AtomicU64::new(0),
        });
        let core = Arc::new(Core {
            common: Arc::clone(&common),
            queue,
            overflow: self.overflow.0,
            shed_at,
            shed_keep,
            max_record,
            wake_at: capacity / 4,
            live: Live::new(Routes::new(filters), FacadeFilter::lenient(&filter)),
            fork_generation,
        });
        let mut workers = Vec::new();
        for w in Worker::all(&common) {
            match w.spawn(&common) {
                Ok(h) => workers.push((w, h)),
                Err(e) => {
                    crate::guard::shutdown(&core, self.shutdown_timeout);
                    return Err(Error::io("cannot start a worker thread", e));
                }
            }
        }
        let watch = WatchConfig {
            interval: self.watch_interval,
            stall_timeout: self.stall_timeout,
        };
        let watchdog = match spawn_watchdog(&common, workers, watch) {
            Ok(w) => w,
            Err(e) => {
                crate::guard::shutdown(&core, self.shutdown_timeout);
                return Err(Error::io("cannot start the watchdog thread", e));
            }
        };
        #[cfg(feature = "config")]
        {
            *core.live.applied_config() = self.config.take();
        }
        let logger = Logger {
            core: Arc::clone(&core),
        };
        let guard = Guard {
            core,
            timeout: self.shutdown_timeout,
            watchdog: Some(watchdog),
        };
        Ok((logger, guard))
    }
}
