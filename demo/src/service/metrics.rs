//! The demo's own counters: requests received and, around the one log call
//! each request makes, how many calls started, returned, and are inside a
//! log call right now (the analogue of the incident's goroutine dump: ~8,000
//! goroutines parked in `LogWrite`).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// Counters shared by the request path, the endpoints and the exit path.
#[derive(Debug, Default)]
pub struct DemoMetrics {
    requests_received: AtomicU64,
    log_calls_started: AtomicU64,
    log_calls_returned: AtomicU64,
    log_calls_waiting: AtomicU64,
}

impl DemoMetrics {
    /// Counts a request that reached the service.
    pub fn request_received(&self) {
        self.requests_received.fetch_add(1, Ordering::Relaxed);
    }

    /// Runs one log call `f`, counting it as started and waiting before and
    /// as returned (no longer waiting) after.
    pub fn log_call<R>(&self, f: impl FnOnce() -> R) -> R {
        self.log_calls_started.fetch_add(1, Ordering::SeqCst);
        self.log_calls_waiting.fetch_add(1, Ordering::SeqCst);
        let result = f();
        self.log_calls_waiting.fetch_sub(1, Ordering::SeqCst);
        self.log_calls_returned.fetch_add(1, Ordering::SeqCst);
        result
    }

    /// The counters now.
    pub fn snapshot(&self) -> DemoSnapshot {
        DemoSnapshot {
            requests_received: self.requests_received.load(Ordering::SeqCst),
            log_calls_started: self.log_calls_started.load(Ordering::SeqCst),
            log_calls_returned: self.log_calls_returned.load(Ordering::SeqCst),
            log_calls_waiting: self.log_calls_waiting.load(Ordering::SeqCst),
        }
    }
}

/// The demo counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DemoSnapshot {
    /// Requests that reached the `/v1` routes.
    pub requests_received: u64,
    /// Request log calls entered.
    pub log_calls_started: u64,
    /// Request log calls that returned to their handler.
    pub log_calls_returned: u64,
    /// Request handlers inside a log call right now.
    pub log_calls_waiting: u64,
}

impl DemoSnapshot {
    /// Prometheus text exposition (`jamless_demo_*`).
    pub fn to_prometheus(&self) -> String {
        let metrics = [
            (
                "jamless_demo_requests_received_total",
                "counter",
                "Requests that reached the /v1 routes.",
                self.requests_received,
            ),
            (
                "jamless_demo_log_calls_started_total",
                "counter",
                "Request log calls entered.",
                self.log_calls_started,
            ),
            (
                "jamless_demo_log_calls_returned_total",
                "counter",
                "Request log calls that returned.",
                self.log_calls_returned,
            ),
            (
                "jamless_demo_log_calls_waiting",
                "gauge",
                "Request handlers inside a log call now.",
                self.log_calls_waiting,
            ),
        ];
        let mut out = String::new();
        for (name, kind, help, value) in metrics {
            // Writing to a String cannot fail.
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_call_is_waiting_only_while_it_runs() {
        let m = DemoMetrics::default();
        m.request_received();
        let inside = m.log_call(|| m.snapshot());
        assert_eq!(inside.log_calls_waiting, 1);
        assert_eq!(inside.log_calls_returned, 0);
        let after = m.snapshot();
        assert_eq!(
            after,
            DemoSnapshot {
                requests_received: 1,
                log_calls_started: 1,
                log_calls_returned: 1,
                log_calls_waiting: 0,
            }
        );
        assert!(after
            .to_prometheus()
            .contains("\njamless_demo_log_calls_waiting 0\n"));
    }
}
