//! The numbers of a finished phase, and what they must show.

use std::path::PathBuf;

use serde::Serialize;

use super::load::Outcome;
use super::logs::LogCount;
use super::phase::{HealthProbe, PhaseRun};
use super::procs::{RotationFailure, Stopped};
use super::samples::{self, Bucket, Counts, Latency};
use super::stats::ServiceStats;

/// One service's numbers.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceReport {
    /// Instance name.
    pub name: String,
    /// Requests sent to it.
    pub counts: Counts,
    /// Latency of its answered requests.
    pub latency: Latency,
    /// Its stats file.
    pub stats: Option<ServiceStats>,
    /// Why there is no stats file.
    pub stats_error: Option<String>,
    /// How it ended.
    pub stopped: Stopped,
    /// Its naive consumer's death, if any.
    pub rotation_failure: Option<RotationFailure>,
    /// Requests sent to it after that death that timed out.
    pub timed_out_after_failure: u64,
    /// Per second of the load (by send time).
    pub per_second: Vec<Bucket>,
    /// Its captured stderr.
    pub stderr_file: PathBuf,
    /// Network phase: its `/health/logging` with the collector stopped.
    pub health_probe: Option<HealthProbe>,
    /// Network phase: its request lines the collector received.
    pub collector_received: Option<u64>,
}

/// One phase's numbers.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseReport {
    /// Logger.
    pub logger: String,
    /// Label (directory name).
    pub label: String,
    /// The shared log directory.
    pub log_dir: PathBuf,
    /// Seconds of load.
    pub load_secs: f64,
    /// Seconds since the phase's origin at which the load started.
    pub load_start_secs: f64,
    /// Both services together.
    pub counts: Counts,
    /// Latency of all answered requests.
    pub latency: Latency,
    /// Per service.
    pub instances: Vec<InstanceReport>,
    /// The first consumer death of the phase.
    pub consumer_died: Option<(String, RotationFailure)>,
    /// Sum over services of requests timed out after their consumer died
    /// (network phase: after the collector was stopped).
    pub timed_out_after_failure: u64,
    /// Network phase: when the collector was stopped (SIGSTOP), seconds
    /// since the origin.
    pub collector_stopped_at: Option<f64>,
    /// Network phase: request lines the collector received, all services.
    pub collector_received: Option<u64>,
    /// Sum of `requests_received`: requests that reached the services'
    /// routes (`None` when a stats file is missing, as for every sum below).
    pub requests_received: Option<u64>,
    /// Sum of `log_calls_returned`.
    pub log_calls_returned: Option<u64>,
    /// Sum of `log_calls_waiting`: callers stuck in a log call at exit.
    pub callers_stuck: Option<u64>,
    /// Sum of `dropped_counted`.
    pub dropped_counted: Option<u64>,
    /// Sum of `queued_at_exit`.
    pub queued_at_exit: Option<u64>,
    /// Request lines counted in the files (`naive-syslog`, which writes no
    /// file: at the collector).
    pub lines_in_files: Option<u64>,
    /// `log_calls_returned - lines_in_files - dropped_counted`, unclamped
    /// (`None` without stats or files, and for `off`).
    pub lost_uncounted: Option<i64>,
    /// The file count, or why it failed.
    pub logs: Result<LogCount, String>,
    /// Rotation instants, seconds since the phase's origin.
    pub rotations_at: Vec<f64>,
    /// First load errors.
    pub first_errors: Vec<String>,
    /// When (seconds since the origin) and for how long the runner itself
    /// did not run: an overloaded machine, not the service.
    pub runner_stalls: Vec<(f64, f64)>,
}

impl PhaseReport {
    /// Computes the numbers of a finished phase.
    pub fn from_run(run: &PhaseRun) -> PhaseReport {
        let (start, end) = run.load_window;
        let instances: Vec<InstanceReport> = run
            .instances
            .iter()
            .enumerate()
            .map(|(i, inst)| {
                let mine: Vec<_> = run.samples.iter().filter(|s| s.target == i).collect();
                let fault_at = inst
                    .failure
                    .as_ref()
                    .map(|f| f.at_secs)
                    .or(run.collector_stopped_at);
                let after = fault_at.map_or(0, |at| {
                    mine.iter()
                        .filter(|s| s.outcome == Outcome::TimedOut)
                        .filter(|s| s.sent_at.as_secs_f64() >= at)
                        .count() as u64
                });
                InstanceReport {
                    name: inst.name.clone(),
                    counts: samples::counts(mine.iter().copied()),
                    latency: samples::latency(mine.iter().copied()),
                    stats: inst.stats.as_ref().ok().cloned(),
                    stats_error: inst.stats.as_ref().err().cloned(),
                    stopped: inst.stopped.clone(),
                    rotation_failure: inst.failure.clone(),
                    timed_out_after_failure: after,
                    per_second: samples::per_second(&run.samples, i, end.ceil() as usize),
                    stderr_file: inst.stderr_file.clone(),
                    health_probe: run.probes.get(i).cloned(),
                    collector_received: run.collector_received.get(i).copied(),
                }
            })
            .collect();
        let stats: Option<Vec<ServiceStats>> = instances.iter().map(|i| i.stats.clone()).collect();
        let sum = |f: fn(&ServiceStats) -> u64| stats.as_ref().map(|v| v.iter().map(f).sum());
        let log_calls_returned = sum(|s| s.log_calls_returned);
        let dropped_counted = sum(|s| s.dropped_counted);
        let collector_received = (!run.collector_received.is_empty())
            .then(|| run.collector_received.iter().sum::<u64>());
        let lines_in_files = if run.settings.logger == "naive-syslog" {
            collector_received
        } else {
            run.logs.as_ref().ok().map(|l| l.request_lines)
        };
        // With logging off the log calls go nowhere: no identity to check.
        let lost_uncounted = match (log_calls_returned, lines_in_files, dropped_counted) {
            (Some(r), Some(l), Some(d)) if run.settings.logger != "off" => {
                Some(r as i64 - l as i64 - d as i64)
            }
            _ => None,
        };
        let consumer_died = instances
            .iter()
            .filter_map(|i| i.rotation_failure.clone().map(|f| (i.name.clone(), f)))
            .min_by(|a, b| a.1.at_secs.total_cmp(&b.1.at_secs));
        PhaseReport {
            logger: run.settings.logger.clone(),
            label: run.settings.label.clone(),
            log_dir: run.log_dir.clone(),
            load_secs: end - start,
            load_start_secs: start,
            counts: samples::counts(&run.samples),
            latency: samples::latency(&run.samples),
            timed_out_after_failure: instances.iter().map(|i| i.timed_out_after_failure).sum(),
            instances,
            consumer_died,
            collector_stopped_at: run.collector_stopped_at,
            collector_received,
            requests_received: sum(|s| s.requests_received),
            log_calls_returned,
            callers_stuck: sum(|s| s.log_calls_waiting),
            dropped_counted,
            queued_at_exit: sum(|s| s.queued_at_exit),
            lines_in_files,
            lost_uncounted,
            logs: run.logs.clone(),
            rotations_at: rotation_instants(run.origin_unix, run.settings.rotate_secs, end),
            first_errors: run.first_errors.clone(),
            runner_stalls: run.runner_stalls.clone(),
        }
    }

    /// What this phase failed to show; empty when it showed what it should.
    pub fn failures(&self) -> Vec<String> {
        let mut f = Vec::new();
        let l = &self.logger;
        for i in &self.instances {
            if let Some(e) = &i.stats_error {
                f.push(format!("{l}: no stats from {}: {e}", i.name));
            }
        }
        if let Err(e) = &self.logs {
            f.push(format!("{l}: could not count the log lines: {e}"));
        }
        match l.as_str() {
            "naive" => self.naive_failures(&mut f),
            "naive-syslog" => self.naive_syslog_failures(&mut f),
            "jamless" => {
                self.jamless_failures(&mut f);
                if self.collector_stopped_at.is_some() {
                    self.jamless_network_failures(&mut f);
                }
            }
            _ => {
                if self.counts.answered != self.counts.sent || self.counts.sent == 0 {
                    f.push(format!(
                        "{l}: answered {} of {} requests",
                        self.counts.answered, self.counts.sent
                    ));
                }
            }
        }
        f
    }

    fn naive_failures(&self, f: &mut Vec<String>) {
        if self.consumer_died.is_none() {
            f.push(format!(
                "naive: the rotation race did not happen: no `naive: rotation failed` line in \
                 {:.0} s ({} rotations); the hang was not shown this time",
                self.load_secs,
                self.rotations_at.len()
            ));
            return;
        }
        if self.timed_out_after_failure == 0 {
            f.push("naive: its consumer died, but no request timed out afterwards".into());
        }
        if self.callers_stuck.is_some_and(|n| n == 0) {
            f.push("naive: no caller was stuck in a log call at the end".into());
        }
    }

    fn naive_syslog_failures(&self, f: &mut Vec<String>) {
        if self.collector_stopped_at.is_none() {
            f.push("naive-syslog: the collector was never stopped".into());
            return;
        }
        if self.timed_out_after_failure == 0 {
            f.push(
                "naive-syslog: the collector was stopped, but no request timed out afterwards \
                 (the kernel's socket buffers did not fill: try a longer --network-secs)"
                    .into(),
            );
        }
        if self.callers_stuck.is_some_and(|n| n == 0) {
            f.push("naive-syslog: no caller was stuck in a log call at the end".into());
        }
    }

    /// With the collector stopped: `/health/logging` answers 200, the file
    /// pipeline is healthy and lost nothing, the syslog pipeline shows its
    /// trouble and counted its drops.
    fn jamless_network_failures(&self, f: &mut Vec<String>) {
        for i in &self.instances {
            let n = &i.name;
            let Some(p) = &i.health_probe else {
                f.push(format!("jamless: {n}'s /health/logging was not probed"));
                continue;
            };
            if p.status != Some(200) {
                f.push(format!(
                    "jamless: {n}'s /health/logging answered {:?} ({:?}), not 200",
                    p.status, p.error
                ));
            }
            if p.file_state.as_deref() != Some("healthy") || p.file_dropped != Some(0) {
                f.push(format!(
                    "jamless: {n}'s file pipeline was {:?} with {:?} drops, not healthy with none",
                    p.file_state, p.file_dropped
                ));
            }
            if !matches!(
                p.syslog_state.as_deref(),
                Some("degraded" | "failing" | "stalled")
            ) {
                f.push(format!(
                    "jamless: {n}'s syslog pipeline was {:?} with the collector stopped",
                    p.syslog_state
                ));
            }
            if p.syslog_dropped.unwrap_or(0) == 0 {
                f.push(format!(
                    "jamless: {n}'s syslog pipeline counted no drops with the collector stopped"
                ));
            }
        }
    }

    fn jamless_failures(&self, f: &mut Vec<String>) {
        let c = &self.counts;
        if c.sent == 0 {
            f.push("jamless: no request was sent".into());
        }
        if c.timed_out > 0 || c.errors > 0 || c.answered != c.sent {
            let mut msg = format!(
                "jamless: answered {} of {} requests ({} timed out, {} errors)",
                c.answered, c.sent, c.timed_out, c.errors
            );
            if !self.runner_stalls.is_empty() {
                let worst = self.runner_stalls.iter().map(|s| s.1).fold(0.0, f64::max);
                msg.push_str(&format!(
                    "; note: the runner itself stalled {} time(s), up to {worst:.1} s: the \
                     machine is overloaded, try again or raise --timeout-ms",
                    self.runner_stalls.len()
                ));
            }
            f.push(msg);
        }
        if let Some(n) = self.lost_uncounted.filter(|&n| n != 0) {
            f.push(format!("jamless: {n} log lines lost without being counted"));
        }
        if let Some(n) = self.callers_stuck.filter(|&n| n != 0) {
            f.push(format!("jamless: {n} callers stuck in a log call at exit"));
        }
    }
}

/// The wall-clock multiples of `period` seconds between the origin and
/// `end` seconds after it, as offsets from the origin.
pub fn rotation_instants(origin_unix: f64, period: u64, end: f64) -> Vec<f64> {
    let p = period.max(1) as f64;
    let mut t = (origin_unix / p).floor() * p + p;
    let mut out = Vec::new();
    while t - origin_unix <= end {
        out.push(t - origin_unix);
        t += p;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_instants_are_wall_clock_multiples() {
        let r = rotation_instants(1000.5, 3, 7.0);
        assert_eq!(r, vec![1.5, 4.5]);
        assert!(rotation_instants(999.0, 3, 0.5).is_empty());
        assert_eq!(rotation_instants(998.0, 3, 1.0), vec![1.0]);
    }
}
