//! **The failure being demonstrated** (network version): request logging
//! through the popular `syslog` crate over TCP, set up the way its README
//! shows (`syslog::tcp` with a `Formatter3164`, wrapped in its
//! `BasicLogger` and installed as the `log` logger). Never copy it.
//!
//! The crate writes each message from the caller's thread, under a mutex,
//! into a blocking `TcpStream`. While the collector reads, that costs a
//! system call per request; when the collector stops reading (a hung or
//! SIGSTOPped rsyslogd), the kernel's socket buffers fill and the next
//! `send` blocks the request's thread, and every other request's thread
//! waits behind the mutex: the tokio workers stop and the service stops
//! answering, as with the naive file logger whose consumer died.
//!
//! `tracing` events reach it through a small layer that formats the
//! event's fields as `key=value` and calls `log::info!`, as a service
//! migrating from `log` to `tracing` would bridge them. The crate writes
//! no framing over TCP; each message ends with a newline (rsyslog's
//! non-transparent framing), as its users do.

use std::fmt::Write as _;

use anyhow::{anyhow, Context, Result};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::Context as LayerContext;
use tracing_subscriber::Layer;

/// Connects to the collector at `addr` and installs the crate's
/// `BasicLogger` as the global `log` logger (the README's setup).
///
/// # Errors
///
/// The collector cannot be reached, or a `log` logger is already set.
pub fn install(addr: &str, process: &str) -> Result<()> {
    let formatter = syslog::Formatter3164 {
        facility: syslog::Facility::LOG_USER,
        hostname: None,
        process: process.into(),
        pid: std::process::id(),
    };
    let logger = syslog::tcp(formatter, addr)
        .map_err(|e| anyhow!("{e}"))
        .with_context(|| format!("connecting to syslog at {addr}"))?;
    log::set_boxed_logger(Box::new(syslog::BasicLogger::new(logger)))
        .context("installing the syslog crate's BasicLogger")?;
    log::set_max_level(log::LevelFilter::Info);
    Ok(())
}

/// The `tracing` layer that hands every event to the `log` logger.
#[derive(Debug, Default, Clone, Copy)]
pub struct ToLog;

impl<S: tracing::Subscriber> Layer<S> for ToLog {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: LayerContext<'_, S>) {
        let mut line = KeyValues::default();
        event.record(&mut line);
        log::info!(target: event.metadata().target(), "{}\n", line.0.trim_start());
    }
}

/// `message key=value key=value` of one event.
#[derive(Default)]
struct KeyValues(String);

impl Visit for KeyValues {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            let _ = write!(self.0, " {value}");
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, " {value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}
