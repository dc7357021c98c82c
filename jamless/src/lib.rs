//! jamless: logging that can never take a service down.
//!
//! A log call encodes its record, copies it into a bounded in-memory queue
//! and returns; it never waits for I/O, and by default never waits at all.
//! Behind the queue a logger has one or more [`Pipeline`]s (a file, stdout,
//! a collector), each with its own filter, format, backlog, retry policy,
//! counters and thread, which renders text or JSON lines and writes each
//! batch with one call; a destination that blocks or fails delays and
//! drops only its own records. Whatever happens to the
//! disk, the file, the directory or the writer thread, every record is
//! either written or counted as dropped with its cause, the losses are
//! written into the log itself, and [`Logger::health`] tells at any time
//! whether logging works.
//!
//! # The model
//!
//! ```text
//!  caller threads                      pipeline threads          watchdog
//!  log::info! / tracing / Logger::log  (with several pipelines
//!  jamless::info! (writer formats)
//!    -> encode record (thread buffer)   a dispatcher copies each
//!    -> admit: shed? room? wait <= t?   record into each one's
//!    -> copy into the byte queue        bounded backlog)          restarts dead
//!       (or drop and count)             render lines              workers, declares
//!                                       one write() per batch     stuck ones
//!                                       retry / fallback /        stalled
//!                                       drop and count
//! ```
//!
//! # Quick start
//!
//! ```no_run
//! let (logger, _guard) = jamless::Builder::new().file("logs/app.log").build()?;
//! logger.install_log()?; // the `log` facade
//! log::info!("request id={} status={}", 42, 200);
//! println!("{}", logger.health());
//! # Ok::<(), jamless::Error>(())
//! ```
//!
//! Keep the [`Guard`] alive until the end of `main`: dropping it flushes
//! with a deadline and stops the writer.
//!
//! # Native macros
//!
//! [`error!`], [`warn!`], [`info!`], [`debug!`] and [`trace!`] take the
//! syntax of `log`'s macros (format string with positional, named and
//! inline arguments, `target:`, key-values, `logger:`) but defer the
//! formatting: the caller copies a call-site id and the raw arguments
//! (integers, floats, `bool`, `char`, strings, and types that implement
//! [`NativeArg`]; anything else is formatted on the caller) and the writer
//! thread formats the message. The lines are byte for byte those of the
//! same `log::info!` call; filtering, admission, drops and counters are
//! the `log` facade's.
//!
//! ```no_run
//! let (logger, _guard) = jamless::Builder::new().file("logs/app.log").build()?;
//! logger.install_native()?; // or install_log(), which installs both
//! let (path, ms) = ("/v1/items", 12.5);
//! jamless::info!("{path} took {ms:.1} ms");
//! jamless::warn!(target: "http", status = 503; "upstream {} unavailable", "db");
//! # Ok::<(), jamless::Error>(())
//! ```
//!
//! # Configuration file and runtime changes
//!
//! With the cargo feature `config` (on by default) a TOML file can describe
//! the logger ([`Builder::from_config_file`], [`Builder::from_env_config`]
//! for `JAMLESS_CONFIG`), and while the logger runs its filters and formats
//! can change: [`Logger::set_filter`], [`Logger::set_pipeline_filter`],
//! [`Logger::set_pipeline_format`] (always available), and
//! [`Logger::reload_config_file`], [`Logger::watch_config`] and
//! [`Logger::install_sighup`]. The keys are documented in
//! `docs/configuration.md`.
//!
//! # Guarantees
//!
//! * A log call never waits longer than its [`Overflow`] policy allows, and
//!   no policy waits forever.
//! * Every record offered is counted exactly once: `offered = accepted +
//!   rejected`, `accepted = written + dropped_after_accept + queued`
//!   (see [`HealthSnapshot`]).
//! * The writer survives sink errors (retry, back-off, fallback) and panics
//!   in sinks and renderers; a dead writer thread is restarted.
#![deny(missing_docs, unreachable_pub, unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod builder;
mod clock;
mod common;
#[cfg(feature = "config")]
mod config;
mod control;
mod counters;
mod dispatch;
mod error;
mod facade;
#[allow(unsafe_code)] // One `pthread_atfork` call; see the module's docs.
mod fork;
mod guard;
mod health;
mod level;
mod live;
mod local;
mod logger;
mod native;
mod pipeline;
mod policy;
mod prometheus;
#[allow(unsafe_code)] // The ring buffer; every block has a SAFETY comment.
mod queue;
mod record;
mod render;
mod report;
mod retry;
mod rotation;
mod sink;
mod supervisor;

/// Entry points for the fuzz targets in `fuzz/`: only with the cargo
/// feature `fuzzing` (off by default); not part of the API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
#[path = "fuzz_api.rs"]
pub mod __fuzz;

pub use builder::{Builder, MIN_CAPACITY};
#[cfg(feature = "config")]
pub use config::{ConfigWatch, ReloadReport, Sighup, CONFIG_ENV};
pub use counters::DropCause;
pub use error::Error;
#[cfg(feature = "log")]
pub use facade::LogAdapter;
#[cfg(feature = "tracing")]
pub use facade::{JamlessFilter, JamlessLayer, JamlessMakeWriter, JamlessWriter, SPANS_OMITTED};
pub use guard::Guard;
pub use health::{Drops, HealthSnapshot, LastError, PipelineHealth, State};
pub use level::Level;
pub use logger::{FlushReport, Logger};
#[doc(hidden)]
pub use native::__private;
pub use native::{NativeArg, NativeValue};
pub use pipeline::{Pipeline, DEFAULT_BACKLOG};
pub use policy::{Outcome, Overflow, Shedding, MAX_BLOCK};
pub use render::{severity, Facility, Format, SyslogFormat, TimeZoneChoice, DEFAULT_SD_ID};
pub use report::{stderr_handler, ErrorHandler};
pub use rotation::{Compression, Naming, Retention, Rotation, RotationTz};
pub use sink::{
    Clock, FileSink, FileSinkBuilder, FileStats, IoErrorClass, LineMeta, Lines, LostLines,
    RotatingFileSink, RotatingFileSinkBuilder, Sink, SinkStats, StderrSink, StdoutSink,
    SyslogCounters, SyslogSink, SyslogSinkBuilder, SyslogStats, TlsConfig, Transport,
    MIN_MESSAGE_BYTES,
};
