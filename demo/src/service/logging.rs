//! The service's logger: jamless (the way to do it; with `--syslog-addr` a
//! file pipeline and a syslog pipeline), the naive port of the incident's
//! logger or the `syslog` crate over TCP (the failures), or none at all,
//! installed as the `tracing` subscriber; and what each says about its own
//! health.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::ValueEnum;
use serde_json::{json, Value};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::naive::{NaiveConfig, NaiveLogger};

/// Which logger the service logs its requests through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LoggerKind {
    /// jamless with its default settings.
    Jamless,
    /// The port of the incident's log4go writer (the failure).
    Naive,
    /// The `syslog` crate over TCP to `--syslog-addr`, writing from the
    /// request's thread (the failure, network version).
    NaiveSyslog,
    /// No logging at all: no subscriber is installed.
    Off,
}

/// Where and how the log files are written.
#[derive(Debug, Clone)]
pub struct LogFiles {
    /// The log directory.
    pub dir: PathBuf,
    /// The file name (`service.log`).
    pub name: String,
    /// Rotation period in seconds; 0 for one plain file `<dir>/<name>`.
    pub rotate_secs: u64,
    /// Naive logger only: the simulated file-system latency of
    /// [`NaiveConfig::simulated_fs_latency`] (zero: the faithful port).
    pub naive_fs_latency: Duration,
    /// A syslog collector (`host:port`, TCP): jamless adds a syslog
    /// pipeline beside the file; `naive-syslog` sends everything there.
    pub syslog_addr: Option<String>,
    /// The backlog of jamless's syslog pipeline, in bytes.
    pub syslog_backlog_bytes: usize,
    /// The app-name of the syslog messages.
    pub app_name: String,
}

impl LogFiles {
    fn path(&self) -> PathBuf {
        self.dir.join(&self.name)
    }
}

/// The installed logger.
#[derive(Debug)]
pub enum Logging {
    /// jamless; its guard is held by the exit path.
    Jamless(jamless::Logger),
    /// The naive logger.
    Naive(NaiveLogger),
    /// The `syslog` crate (it has no health of its own).
    NaiveSyslog,
    /// No logger.
    Off,
}

/// A logger's health as `/health/logging` serves it.
#[derive(Debug, Clone)]
pub struct HealthReport {
    /// Whether logging works (HTTP 200) or not (503).
    pub serving: bool,
    /// The state word: `healthy`, `stalled`, `dead`, `off`, ...
    pub state: String,
    /// Whether the writer (jamless) or consumer (naive) thread runs.
    pub writer_alive: bool,
    /// The logger's last error, as text.
    pub last_error: Option<String>,
    /// Records the logger itself counted as dropped (naive: 0, it counts
    /// nothing).
    pub dropped_counted: u64,
    /// Records accepted and not yet written.
    pub queued: u64,
    /// The full JSON object: jamless's snapshot, or the naive logger's.
    pub body: Value,
}

impl Logging {
    /// Builds the chosen logger and installs it as the global `tracing`
    /// subscriber. jamless's [`jamless::Guard`] is returned for the exit
    /// path to shut it down.
    ///
    /// # Errors
    ///
    /// The log directory cannot be created, the logger cannot be built, or
    /// a global subscriber is already installed.
    pub fn install(
        kind: LoggerKind,
        files: &LogFiles,
    ) -> Result<(Logging, Option<jamless::Guard>)> {
        if kind != LoggerKind::Off && kind != LoggerKind::NaiveSyslog {
            std::fs::create_dir_all(&files.dir)
                .with_context(|| format!("creating the log directory {}", files.dir.display()))?;
        }
        match kind {
            LoggerKind::Jamless => {
                let (logger, guard) = jamless_builder(files)?
                    .build()
                    .context("starting jamless")?;
                let filter = logger.tracing_filter().context("jamless filter")?;
                tracing_subscriber::registry()
                    .with(logger.tracing_layer().with_filter(filter))
                    .try_init()
                    .context("installing the tracing subscriber")?;
                Ok((Logging::Jamless(logger), Some(guard)))
            }
            LoggerKind::Naive => {
                let config = NaiveConfig::new(files.path())
                    .rotate_every_secs(files.rotate_secs)
                    .simulated_fs_latency(files.naive_fs_latency);
                let logger = NaiveLogger::start(config).with_context(|| {
                    format!("starting the naive logger on {}", files.path().display())
                })?;
                let filter =
                    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
                tracing_subscriber::registry()
                    .with(logger.tracing_layer().with_filter(filter))
                    .try_init()
                    .context("installing the tracing subscriber")?;
                Ok((Logging::Naive(logger), None))
            }
            LoggerKind::NaiveSyslog => {
                let addr = files
                    .syslog_addr
                    .as_deref()
                    .context("--logger naive-syslog needs --syslog-addr")?;
                crate::service::naive_syslog::install(addr, &files.app_name)?;
                let filter =
                    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
                // Not `try_init`: that would also install tracing-log's
                // `log` logger in place of the syslog crate's.
                tracing::subscriber::set_global_default(
                    tracing_subscriber::registry()
                        .with(crate::service::naive_syslog::ToLog.with_filter(filter)),
                )
                .context("installing the tracing subscriber")?;
                Ok((Logging::NaiveSyslog, None))
            }
            LoggerKind::Off => Ok((Logging::Off, None)),
        }
    }

    /// `jamless`, `naive` or `off`.
    pub fn kind(&self) -> &'static str {
        match self {
            Logging::Jamless(_) => "jamless",
            Logging::Naive(_) => "naive",
            Logging::NaiveSyslog => "naive-syslog",
            Logging::Off => "off",
        }
    }

    /// The logger's health now.
    pub fn health(&self) -> HealthReport {
        match self {
            Logging::Jamless(logger) => {
                let snapshot = logger.health();
                let mut body = serde_json::to_value(&snapshot)
                    .unwrap_or_else(|e| json!({ "error": e.to_string() }));
                body["logger"] = json!("jamless");
                // With several pipelines the logger's drop total counts
                // deliveries of every pipeline; the lines the runner counts
                // are the file pipeline's, so its drops are the ones that
                // balance them (the syslog pipeline's are in `body`).
                let dropped_counted = snapshot
                    .pipeline(FILE_PIPELINE)
                    .map_or_else(|| snapshot.dropped(), |p| p.dropped());
                HealthReport {
                    serving: snapshot.state.is_serving(),
                    state: snapshot.state.as_str().to_string(),
                    writer_alive: snapshot.state != jamless::State::Dead,
                    last_error: snapshot
                        .last_error
                        .as_ref()
                        .map(|e| format!("{}: {} ({})", e.operation, e.message, e.class)),
                    dropped_counted,
                    queued: snapshot.queued,
                    body,
                }
            }
            Logging::Naive(logger) => {
                let health = logger.health();
                HealthReport {
                    serving: health.consumer_alive,
                    state: health.state.to_string(),
                    writer_alive: health.consumer_alive,
                    last_error: health.last_error.clone(),
                    dropped_counted: 0,
                    queued: health.queued,
                    body: serde_json::to_value(&health)
                        .unwrap_or_else(|e| json!({ "error": e.to_string() })),
                }
            }
            Logging::NaiveSyslog => HealthReport {
                // It has no health to report: a probe cannot tell.
                serving: true,
                state: "unknown".to_string(),
                writer_alive: true,
                last_error: None,
                dropped_counted: 0,
                queued: 0,
                body: json!({ "logger": "naive-syslog", "state": "unknown" }),
            },
            Logging::Off => HealthReport {
                serving: true,
                state: "off".to_string(),
                writer_alive: false,
                last_error: None,
                dropped_counted: 0,
                queued: 0,
                body: json!({ "logger": "off", "state": "off" }),
            },
        }
    }

    /// The logger's own metrics in Prometheus text format (empty for off).
    pub fn prometheus(&self) -> String {
        match self {
            Logging::Jamless(logger) => logger.health().to_prometheus(),
            Logging::Naive(logger) => logger.health().to_prometheus(),
            Logging::NaiveSyslog | Logging::Off => String::new(),
        }
    }

    /// At exit, gives a running naive consumer up to `grace` to empty its
    /// channel, as log4go's `Close` gave it 10 ms. Does nothing for the
    /// others (jamless is shut down through its guard).
    pub fn settle(&self, grace: Duration) {
        if let Logging::Naive(logger) = self {
            let deadline = Instant::now() + grace;
            while logger.health().consumer_alive && logger.queued() > 0 && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

/// The name of jamless's file pipeline when a syslog pipeline is beside it.
pub const FILE_PIPELINE: &str = "file";
/// The name of jamless's syslog pipeline.
pub const SYSLOG_PIPELINE: &str = "syslog";

/// jamless with its defaults, writing `<dir>/<name>` (no rotation) or
/// rotating every `rotate_secs` with the default (dated) names, which are
/// safe for several processes on one path. With a syslog address, two
/// pipelines: that file (essential) and RFC 5424 over TCP to the collector
/// (not essential: a collector in trouble degrades the logger, it does not
/// fail the service's liveness probe), each with its own backlog.
fn jamless_builder(files: &LogFiles) -> Result<jamless::Builder> {
    let builder = jamless::Builder::new();
    let Some(addr) = &files.syslog_addr else {
        return Ok(match file_sink(files)? {
            FileSink::Plain(path) => builder.file(path),
            FileSink::Rotating(sink) => builder.sink(*sink),
        });
    };
    let file = match file_sink(files)? {
        FileSink::Plain(path) => {
            jamless::Pipeline::new(FILE_PIPELINE, jamless::FileSinkBuilder::new(path).build())
        }
        FileSink::Rotating(sink) => jamless::Pipeline::new(FILE_PIPELINE, *sink),
    };
    let syslog = jamless::SyslogSink::builder(jamless::Transport::tcp(addr.clone()))
        .build()
        .with_context(|| format!("configuring the syslog sink for {addr}"))?;
    let format = jamless::SyslogFormat::rfc5424().app_name(files.app_name.clone());
    Ok(builder.pipeline(file).pipeline(
        jamless::Pipeline::new(SYSLOG_PIPELINE, syslog)
            .format(jamless::Format::syslog(format))
            .backlog_bytes(files.syslog_backlog_bytes)
            .fallback(None)
            .essential(false),
    ))
}

enum FileSink {
    Plain(PathBuf),
    Rotating(Box<jamless::RotatingFileSink>),
}

fn file_sink(files: &LogFiles) -> Result<FileSink> {
    if files.rotate_secs == 0 {
        return Ok(FileSink::Plain(files.path()));
    }
    let rotation = jamless::Rotation::every(Duration::from_secs(files.rotate_secs))
        .context("--rotate-secs")?;
    let sink = jamless::RotatingFileSink::builder(jamless::Naming::from_path(files.path()))
        .rotation(rotation)
        .build()
        .with_context(|| {
            format!(
                "configuring the rotating sink for {}",
                files.path().display()
            )
        })?;
    Ok(FileSink::Rotating(Box::new(sink)))
}
