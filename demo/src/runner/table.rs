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
        p.instances
            .iter()
            .map(|i| format!("{}/{}", i.counts.answered, i.counts.timed_out))
            .collect::<Vec<_>>()
            .join("  ")
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
    row("callers stuck in a log call at exit", &|p| {
        opt(p.callers_stuck)
    });
    row("log calls returned", &|p| opt(p.log_calls_returned));
    row("lines written (counted in files)", &|p| {
        opt(p.lines_in_files)
    });
    row("drops counted by the logger", &|p| opt(p.dropped_counted));
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
