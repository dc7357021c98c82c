//! The statistics file the service writes when it is stopped
//! (`--stats-file`), which the demo runner reads. The field names are a
//! contract with the runner: do not rename them.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::logging::HealthReport;
use super::metrics::DemoSnapshot;

/// What one service reports about itself at exit. The service writes it,
/// the runner reads it with [`read`]; every counter is required, so a
/// missing one is a parse error, never a silent zero.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stats {
    /// `naive`, `jamless` or `off`.
    pub logger: String,
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
            logger: logger.to_string(),
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

/// Reads and parses a statistics file written by [`Stats::write`].
///
/// # Errors
///
/// The file cannot be read or is not a complete statistics object.
pub fn read(path: &Path) -> Result<Stats> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_contract_and_refuses_missing_counters() {
        let full = r#"{"logger":"naive","instance":"pod-b","pid":42,
            "requests_received":10,"log_calls_started":10,"log_calls_returned":7,
            "log_calls_waiting":3,"dropped_counted":0,"queued_at_exit":32,
            "logger_state":"dead","writer_alive":false,"last_error":"rename: ENOENT",
            "flush_complete":null,"health":{"state":"dead"}}"#;
        let s: Stats = serde_json::from_str(full).unwrap();
        assert_eq!(s.log_calls_waiting, 3);
        assert!(!s.writer_alive);
        let missing = r#"{"logger":"naive","instance":"a","pid":1,"requests_received":1}"#;
        assert!(serde_json::from_str::<Stats>(missing).is_err());
    }
}
