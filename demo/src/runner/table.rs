//! The side-by-side text table of the phases.

use std::fmt::Write;

use super::report::PhaseReport;

const LABEL_WIDTH: usize = 42;
const COLUMN_WIDTH: usize = 24;

/// Renders the table, one column per phase.
pub fn render(phases: &[PhaseReport], timeout_ms: u64) -> String {
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut row = |label: &str, f: &dyn Fn(&PhaseReport) -> String| {
        rows.push((label.to_string(), phases.iter().map(f).collect()));
    };
    row("", &|p| p.logger.clone());
    row("seconds of load", &|p| format!("{:.1}", p.load_secs));
    row("requests sent", &|p| p.counts.sent.to_string());
    row("answered", &|p| p.counts.answered.to_string());
    let timed_out = format!("timed out ({timeout_ms} ms client: the 504s)");
    row(&timed_out, &|p| p.counts.timed_out.to_string());
    row("errors", &|p| p.counts.errors.to_string());
    row("requests that reached the services", &|p| {
        opt(p.requests_received)
    });
    row("  per pod: answered / timed out", &|p| {
        per_pod(p, |i| {
            format!("{}/{}", i.counts.answered, i.counts.timed_out)
        })
    });
    row("latency p50 / p99 / max, ms (answered)", &|p| {
        if p.latency.count == 0 {
            "-".into()
        } else {
            format!(
                "{} / {} / {}",
                ms(p.latency.p50_ms),
                ms(p.latency.p99_ms),
                ms(p.latency.max_ms)
            )
        }
    });
    let network = phases.iter().any(|p| p.collector_stopped_at.is_some());
    if network {
        row("collector stopped (SIGSTOP), s since start", &|p| {
            p.collector_stopped_at
                .map_or_else(|| "no".into(), |t| format!("{t:.1}"))
        });
        row("  timed out after it", &|p| {
            p.timed_out_after_failure.to_string()
        });
        row("/health/logging, collector stopped", &|p| {
            per_pod(p, |i| match &i.health_probe {
                Some(h) => h
                    .status
                    .map_or_else(|| "no answer".into(), |s| s.to_string()),
                None => "-".into(),
            })
        });
        row("  pipelines: file / syslog state", &|p| {
            per_pod(p, |i| match &i.health_probe {
                Some(h) if h.syslog_state.is_some() => format!(
                    "{}/{}",
                    h.file_state.as_deref().unwrap_or("?"),
                    h.syslog_state.as_deref().unwrap_or("?")
                ),
                _ => "-".into(),
            })
        });
        row("  syslog drops counted (backlog full)", &|p| {
            per_pod(p, |i| {
                match i.health_probe.as_ref().and_then(|h| h.syslog_dropped) {
                    Some(d) => d.to_string(),
                    None => "-".into(),
                }
            })
        });
        row("request lines received by rsyslogd", &|p| {
            opt(p.collector_received)
        });
    } else {
        row(
            "consumer died (stderr), s since start",
            &|p| match &p.consumer_died {
                Some((who, f)) => format!("{who} at {:.1} s", f.at_secs),
                None => "no".into(),
            },
        );
        row("  timed out after it", &|p| match p.consumer_died {
            Some(_) => p.timed_out_after_failure.to_string(),
            None => "-".into(),
        });
    }
    row("callers stuck in a log call at exit", &|p| {
        opt(p.callers_stuck)
    });
    row("log calls returned", &|p| opt(p.log_calls_returned));
    let lines = if network {
        "lines written (files; naive-syslog: rsyslogd)"
    } else {
        "lines written (counted in files)"
    };
    row(lines, &|p| opt(p.lines_in_files));
    let drops = if network {
        "drops counted by the logger (file pipeline)"
    } else {
        "drops counted by the logger"
    };
    row(drops, &|p| opt(p.dropped_counted));
    row("records queued at exit", &|p| opt(p.queued_at_exit));
    row(
        "LINES LOST WITHOUT BEING COUNTED",
        &|p| match p.lost_uncounted {
            Some(n) => n.to_string(),
            None => "n/a".into(),
        },
    );
    row("services exiting on SIGTERM", &|p| {
        let ok = p
            .instances
            .iter()
            .filter(|i| i.stopped.exited_on_term)
            .count();
        format!("{ok}/{}", p.instances.len())
    });
    let mut out = String::new();
    for (i, (label, cells)) in rows.iter().enumerate() {
        let _ = write!(out, "{label:<LABEL_WIDTH$}");
        for c in cells {
            let _ = write!(out, " {c:>COLUMN_WIDTH$}");
        }
        out.push('\n');
        if i == 0 {
            let width = LABEL_WIDTH + cells.len() * (COLUMN_WIDTH + 1);
            out.push_str(&"-".repeat(width));
            out.push('\n');
        }
    }
    out
}

/// One cell with a value per pod, `a  b`.
fn per_pod(p: &PhaseReport, f: impl Fn(&super::report::InstanceReport) -> String) -> String {
    p.instances.iter().map(f).collect::<Vec<_>>().join("  ")
}

fn opt(v: Option<u64>) -> String {
    v.map_or_else(|| "n/a (no stats)".into(), |n| n.to_string())
}

/// Milliseconds with a precision that suits the magnitude.
pub fn ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2}")
    } else if v < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ms_precision() {
        assert_eq!(ms(0.4567), "0.46");
        assert_eq!(ms(12.34), "12.3");
        assert_eq!(ms(2001.0), "2001");
    }
}
