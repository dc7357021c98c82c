//! Prometheus text exposition of a [`HealthSnapshot`].

use std::fmt::Write;

use crate::health::HealthSnapshot;
use crate::Level;
use crate::State;

fn metric(out: &mut String, name: &str, kind: &str, help: &str, value: u64) {
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
    );
}

pub(crate) fn render(s: &HealthSnapshot) -> String {
    let mut out = String::with_capacity(2048);
    let states = [
        State::Healthy,
        State::Degraded,
        State::Stalled,
        State::Dead,
        State::ShutDown,
    ];
    let _ = writeln!(
        out,
        "# HELP jamless_state Current logger state (1 for the active state).\n# TYPE jamless_state gauge"
    );
    for st in states {
        let _ = writeln!(
            out,
            "jamless_state{{state=\"{st}\"}} {}",
            u8::from(s.state == st)
        );
    }
    metric(
        &mut out,
        "jamless_records_offered_total",
        "counter",
        "Records offered to the logger.",
        s.offered,
    );
    metric(
        &mut out,
        "jamless_records_accepted_total",
        "counter",
        "Records admitted into the queue.",
        s.accepted,
    );
    metric(
        &mut out,
        "jamless_records_written_total",
        "counter",
        "Records written to a sink.",
        s.written,
    );
    metric(
        &mut out,
        "jamless_records_written_fallback_total",
        "counter",
        "Records written to the fallback sink.",
        s.written_fallback,
    );
    let _ = writeln!(
        out,
        "# HELP jamless_records_dropped_total Records dropped, by cause.\n# TYPE jamless_records_dropped_total counter"
    );
    let d = &s.drops;
    for (cause, v) in [
        ("queue_full", d.queue_full),
        ("shed", d.shed),
        ("timed_out", d.timed_out),
        ("shutdown", d.shutdown),
        ("io_failure", d.io_failure),
        ("panic", d.panic),
        ("internal", d.internal),
        ("file_truncated", d.file_truncated),
        ("file_unlinked", d.file_unlinked),
    ] {
        let _ = writeln!(
            out,
            "jamless_records_dropped_total{{cause=\"{cause}\"}} {v}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP jamless_records_dropped_by_level_total Records dropped, by level.\n# TYPE jamless_records_dropped_by_level_total counter"
    );
    for (lvl, v) in Level::ALL.iter().zip(d.by_level) {
        let _ = writeln!(
            out,
            "jamless_records_dropped_by_level_total{{level=\"{}\"}} {v}",
            lvl.as_lower_str()
        );
    }
    metric(
        &mut out,
        "jamless_records_queued",
        "gauge",
        "Records accepted and not yet written.",
        s.queued,
    );
    metric(
        &mut out,
        "jamless_records_truncated_total",
        "counter",
        "Records cut to the maximum record size.",
        s.truncated,
    );
    metric(
        &mut out,
        "jamless_notices_written_total",
        "counter",
        "Drop notices written into the log.",
        s.notices_written,
    );
    metric(
        &mut out,
        "jamless_bytes_written_total",
        "counter",
        "Bytes handed to sinks.",
        s.bytes_written,
    );
    metric(
        &mut out,
        "jamless_queue_used_bytes",
        "gauge",
        "Queue bytes in use.",
        s.queue_used_bytes,
    );
    metric(
        &mut out,
        "jamless_queue_capacity_bytes",
        "gauge",
        "Queue capacity in bytes.",
        s.queue_capacity_bytes,
    );
    metric(
        &mut out,
        "jamless_waiting_callers",
        "gauge",
        "Callers waiting inside a log call.",
        s.waiting_callers,
    );
    metric(
        &mut out,
        "jamless_last_write_timestamp_ms",
        "gauge",
        "Last successful primary write, ms since the epoch.",
        s.last_write_unix_ms,
    );
    metric(
        &mut out,
        "jamless_io_errors_total",
        "counter",
        "Sink errors met by the writer.",
        s.io_errors,
    );
    metric(
        &mut out,
        "jamless_panics_total",
        "counter",
        "Panics caught in sinks and formatters.",
        s.panics,
    );
    metric(
        &mut out,
        "jamless_writer_restarts_total",
        "counter",
        "Writer thread restarts.",
        s.writer_restarts,
    );
    out
}
