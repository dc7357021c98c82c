//! Prometheus text exposition of a [`HealthSnapshot`].

use std::fmt::Write;

use crate::counters::DropCause;
use crate::health::{HealthSnapshot, PipelineHealth};
use crate::Level;
use crate::State;

fn metric(out: &mut String, name: &str, kind: &str, help: &str, value: u64) {
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
    );
}

const STATES: [State; 6] = [
    State::Healthy,
    State::Degraded,
    State::Failing,
    State::Stalled,
    State::Dead,
    State::ShutDown,
];

/// One labelled sample per pipeline, under one HELP/TYPE header.
fn per_pipeline(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    pipelines: &[PipelineHealth],
    value: impl Fn(&PipelineHealth) -> u64,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for p in pipelines {
        let _ = writeln!(out, "{name}{{pipeline=\"{}\"}} {}", p.name, value(p));
    }
}

fn render_pipelines(out: &mut String, pipelines: &[PipelineHealth]) {
    let _ = writeln!(
        out,
        "# HELP jamless_pipeline_state Current pipeline state (1 for the active state).\n# TYPE jamless_pipeline_state gauge"
    );
    for p in pipelines {
        for st in STATES {
            let _ = writeln!(
                out,
                "jamless_pipeline_state{{pipeline=\"{}\",state=\"{st}\"}} {}",
                p.name,
                u8::from(p.state == st)
            );
        }
    }
    per_pipeline(
        out,
        "jamless_pipeline_records_received_total",
        "counter",
        "Records given to the pipeline.",
        pipelines,
        |p| p.received,
    );
    per_pipeline(
        out,
        "jamless_pipeline_records_written_total",
        "counter",
        "Records the pipeline wrote.",
        pipelines,
        |p| p.written,
    );
    per_pipeline(
        out,
        "jamless_pipeline_records_written_fallback_total",
        "counter",
        "Records the pipeline wrote to its fallback sink.",
        pipelines,
        |p| p.written_fallback,
    );
    per_pipeline(
        out,
        "jamless_pipeline_records_queued",
        "gauge",
        "Records received and not yet written or dropped.",
        pipelines,
        |p| p.queued,
    );
    per_pipeline(
        out,
        "jamless_pipeline_backlog_used_bytes",
        "gauge",
        "Backlog bytes in use.",
        pipelines,
        |p| p.backlog_used_bytes,
    );
    per_pipeline(
        out,
        "jamless_pipeline_backlog_capacity_bytes",
        "gauge",
        "Backlog capacity in bytes.",
        pipelines,
        |p| p.backlog_capacity_bytes,
    );
    per_pipeline(
        out,
        "jamless_pipeline_io_errors_total",
        "counter",
        "Sink errors met by the pipeline.",
        pipelines,
        |p| p.io_errors,
    );
    per_pipeline(
        out,
        "jamless_pipeline_last_write_timestamp_ms",
        "gauge",
        "Last successful write, ms since the Unix epoch.",
        pipelines,
        |p| p.last_write_unix_ms,
    );
    let _ = writeln!(
        out,
        "# HELP jamless_pipeline_sink_counter A sink's own counters, by name.\n# TYPE jamless_pipeline_sink_counter counter"
    );
    for p in pipelines {
        for (name, v) in &p.sink_counters {
            let _ = writeln!(
                out,
                "jamless_pipeline_sink_counter{{pipeline=\"{}\",name=\"{name}\"}} {v}",
                p.name
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP jamless_pipeline_records_dropped_total Records a pipeline dropped, by cause.\n# TYPE jamless_pipeline_records_dropped_total counter"
    );
    for p in pipelines {
        for cause in DropCause::ALL.iter().filter(|c| !c.is_rejection()) {
            let _ = writeln!(
                out,
                "jamless_pipeline_records_dropped_total{{pipeline=\"{}\",cause=\"{}\"}} {}",
                p.name,
                cause.as_str(),
                p.drops.get(*cause)
            );
        }
    }
}

pub(crate) fn render(s: &HealthSnapshot) -> String {
    let mut out = String::with_capacity(2048);
    let states = STATES;
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
    for cause in DropCause::ALL {
        let _ = writeln!(
            out,
            "jamless_records_dropped_total{{cause=\"{}\"}} {}",
            cause.as_str(),
            s.drops.get(cause)
        );
    }
    let _ = writeln!(
        out,
        "# HELP jamless_records_dropped_by_level_total Records dropped, by level.\n# TYPE jamless_records_dropped_by_level_total counter"
    );
    for (lvl, v) in Level::ALL.iter().zip(s.drops.by_level) {
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
    metric(
        &mut out,
        "jamless_config_reloads_total",
        "counter",
        "Configuration files applied to the running logger.",
        s.config_reloads,
    );
    metric(
        &mut out,
        "jamless_config_errors_total",
        "counter",
        "Configuration files that could not be applied.",
        s.config_errors,
    );
    render_pipelines(&mut out, &s.pipelines);
    out
}
