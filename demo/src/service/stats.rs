//! The statistics file the service writes when it is stopped
//! (`--stats-file`), which the demo runner reads. The field names are a
//! contract with the runner: do not rename them.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::Value;

use super::logging::HealthReport;
use super::metrics::DemoSnapshot;

/// What one service reports about itself at exit.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// `naive`, `jamless` or `off`.
    pub logger: &'static str,
    /// The `--instance` label.
    pub instance: String,
    /// The process id.
    pub pid: u32,
    /// Requests that reached the `/v1` routes.
    pub requests_received: u64,
    /// Request log calls entered.
    pub log_calls_started: u64,
    /// Request log calls that returned.
    pub log_calls_returned: u64,
    /// Request handlers inside a log call at exit.
    pub log_calls_waiting: u64,
    /// Records the logger itself counted as dropped (naive: 0).
    pub dropped_counted: u64,
    /// Records still queued when the statistics were taken (naive: its
    /// channel, lost without being counted).
    pub queued_at_exit: u64,
    /// The logger's state when the signal arrived (before jamless was shut
    /// down): `healthy`, `degraded`, `stalled`, `dead`, `off`.
    pub logger_state: String,
    /// Whether the writer (jamless) or consumer (naive) thread was running
    /// when the signal arrived.
    pub writer_alive: bool,
    /// The logger's last error.
    pub last_error: Option<String>,
    /// jamless only: whether the shutdown flush wrote everything before its
    /// deadline.
    pub flush_complete: Option<bool>,
    /// The logger's full health object, taken after the shutdown (jamless's
    /// snapshot, then in state `shut_down`, or the naive logger's).
    pub health: Value,
}

impl Stats {
    /// Assembles the statistics from the logger's health when the signal
    /// arrived (`at_signal`), after shutdown (`last`), and the demo counters.
    pub fn new(
        logger: &'static str,
        instance: &str,
        at_signal: &HealthReport,
        last: HealthReport,
        demo: DemoSnapshot,
        flush_complete: Option<bool>,
    ) -> Stats {
        Stats {
            logger,
            instance: instance.to_string(),
            pid: std::process::id(),
            requests_received: demo.requests_received,
            log_calls_started: demo.log_calls_started,
            log_calls_returned: demo.log_calls_returned,
            log_calls_waiting: demo.log_calls_waiting,
            dropped_counted: last.dropped_counted,
            queued_at_exit: last.queued,
            logger_state: at_signal.state.clone(),
            writer_alive: at_signal.writer_alive,
            last_error: last.last_error.or_else(|| at_signal.last_error.clone()),
            flush_complete,
            health: last.body,
        }
    }

    /// Writes the statistics as JSON to `path`, atomically (a temporary
    /// file renamed into place), so a reader never sees half a file.
    ///
    /// # Errors
    ///
    /// Serialising, writing or renaming failed.
    pub fn write(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(self).context("serialising the statistics")?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        fs::write(&tmp, json).with_context(|| format!("writing {}", Path::new(&tmp).display()))?;
        fs::rename(&tmp, path)
            .with_context(|| format!("renaming the statistics into {}", path.display()))
    }
}
