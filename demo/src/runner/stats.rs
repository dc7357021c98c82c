//! The statistics file a service writes on SIGTERM (`--stats-file`).

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// What one service reports about itself at exit. The counters are
/// required: a missing one is a parse error, never a silent zero.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceStats {
    /// `naive`, `jamless` or `off`.
    pub logger: String,
    /// Instance name.
    pub instance: String,
    /// Process id.
    pub pid: u32,
    /// Requests that reached the service.
    pub requests_received: u64,
    /// Log calls entered.
    pub log_calls_started: u64,
    /// Log calls that returned to their caller.
    pub log_calls_returned: u64,
    /// Callers inside a log call at exit (the goroutine-dump analogue).
    pub log_calls_waiting: u64,
    /// Records the logger counted as dropped (naive: always 0).
    pub dropped_counted: u64,
    /// Records still queued at exit (naive: lost with the process).
    #[serde(default)]
    pub queued_at_exit: u64,
    /// The logger's own state word (`healthy`, `dead`, ...).
    #[serde(default)]
    pub logger_state: String,
    /// Whether the writer/consumer thread was alive at exit.
    #[serde(default)]
    pub writer_alive: Option<bool>,
    /// The logger's last error, in whatever shape the service gives it.
    #[serde(default)]
    pub last_error: serde_json::Value,
    /// jamless: whether its shutdown flush completed before the deadline.
    #[serde(default)]
    pub flush_complete: Option<bool>,
    /// The full health snapshot.
    #[serde(default)]
    pub health: serde_json::Value,
}

/// Reads and parses a stats file.
pub fn read(path: &Path) -> Result<ServiceStats> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
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
            "health":{"state":"dead"}}"#;
        let s: ServiceStats = serde_json::from_str(full).unwrap();
        assert_eq!(s.log_calls_waiting, 3);
        assert_eq!(s.writer_alive, Some(false));
        let missing = r#"{"logger":"naive","instance":"a","pid":1,"requests_received":1}"#;
        assert!(serde_json::from_str::<ServiceStats>(missing).is_err());
    }
}
