//! The default mode: the rotation phase (naive then jamless), the network
//! phase (naive-syslog then jamless, logging to a real rsyslogd that is
//! stopped mid-run), a table and a chart for each, the verdict.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use super::collector::{self, Collector};
use super::config::Args;
use super::load::LoadConfig;
use super::phase::{self, NetworkSettings, PhaseSettings, Until, INSTANCES, LOG_NAME};
use super::report::PhaseReport;
use super::{chart, locate, table};

/// Everything a run produced, for `--json`.
#[derive(Debug, Serialize)]
pub struct DemoReport {
    /// The output directory.
    pub out_dir: PathBuf,
    /// The chart, if it was written.
    pub chart: Option<PathBuf>,
    /// The load every phase ran.
    pub load: LoadConfig,
    /// Rotation period.
    pub rotate_secs: u64,
    /// The naive services' simulated file-system latency, ms.
    pub naive_fs_latency_ms: u64,
    /// The rotation phase, per logger.
    pub phases: Vec<PhaseReport>,
    /// The network phase, per logger.
    pub network_phases: Vec<PhaseReport>,
    /// The network phase's chart, if it was written.
    pub network_chart: Option<PathBuf>,
    /// Seconds into the network phase's load at which rsyslogd was stopped.
    pub collector_stop_secs: f64,
    /// What did not happen as it should.
    pub failures: Vec<String>,
    /// True when `failures` is empty.
    pub demonstrated: bool,
}

/// Runs the demonstration; `Ok(true)` when it showed what it should.
pub fn run(args: &Args) -> Result<bool> {
    args.validate()?;
    let bin = locate::service_bin(args.service_bin.as_deref(), args.no_build)?;
    let out = args.out_dir()?;
    let rt = super::runtime()?;
    let load = super::load_config(args);
    let network = args.phases.iter().any(|p| p == "network");
    if network {
        // Before anything runs: a missing rsyslogd fails with the hint.
        collector::require_rsyslogd()?;
    }
    print_intro(args, &out);
    let mut phases = Vec::new();
    let mut chart = None;
    if args.phases.iter().any(|p| p == "rotation") {
        for logger in &args.loggers {
            let until = if logger == "naive" && args.until_naive_fails {
                Until::NaiveFails {
                    after: args.after_fail(),
                    max_secs: args.max_secs,
                }
            } else if logger == "naive" {
                Until::AtLeast {
                    secs: args.secs,
                    after: args.after_fail(),
                    max_secs: args.max_secs,
                }
            } else {
                Until::Secs(args.secs)
            };
            let settings = PhaseSettings {
                logger: logger.clone(),
                label: logger.clone(),
                bin: bin.clone(),
                dir: out.join(logger),
                rotate_secs: args.rotate_secs,
                naive_fs_latency_ms: args.naive_fs_latency_ms,
                load: load.clone(),
                until,
                progress: true,
                align_start: true,
                network: None,
            };
            let run = phase::run(&rt, &settings, None)?;
            phases.push(report_phase(&run));
        }
        chart = show(&phases, &out.join("chart.svg"), chart::ROTATION_TITLE, args);
    }
    let mut network_phases = Vec::new();
    let mut network_chart = None;
    if network {
        println!(
            "\nnetwork phase: the services log to a real rsyslogd on loopback TCP, stopped \
             (SIGSTOP) {:.0} s into the load, as a hung collector would be; each request \
             carries a {}-byte query string, logged with it",
            args.collector_stop_secs, args.network_query_bytes
        );
        for logger in &args.network_loggers {
            let dir = out.join(format!("network-{logger}"));
            let collector = Collector::start(&dir.join("rsyslog"))?;
            let settings = PhaseSettings {
                logger: logger.clone(),
                label: logger.clone(),
                bin: bin.clone(),
                dir,
                // One plain file: the collector is the only fault here.
                rotate_secs: 0,
                naive_fs_latency_ms: 0,
                load: LoadConfig {
                    query_bytes: args.network_query_bytes,
                    ..load.clone()
                },
                until: Until::Secs(args.network_secs),
                progress: true,
                align_start: false,
                network: Some(NetworkSettings {
                    syslog_addr: collector.addr(),
                    stop_at_secs: args.collector_stop_secs,
                }),
            };
            let run = phase::run(&rt, &settings, Some(&collector))?;
            network_phases.push(report_phase(&run));
        }
        let path = out.join("chart-network.svg");
        network_chart = show(&network_phases, &path, chart::NETWORK_TITLE, args);
    }
    let failures: Vec<String> = phases
        .iter()
        .chain(&network_phases)
        .flat_map(PhaseReport::failures)
        .collect();
    let charts_ok = (phases.is_empty() || chart.is_some())
        && (network_phases.is_empty() || network_chart.is_some());
    let report = DemoReport {
        out_dir: out.clone(),
        chart: chart.clone(),
        load,
        rotate_secs: args.rotate_secs,
        naive_fs_latency_ms: args.naive_fs_latency_ms,
        demonstrated: failures.is_empty() && charts_ok,
        phases,
        network_phases,
        network_chart: network_chart.clone(),
        collector_stop_secs: args.collector_stop_secs,
        failures,
    };
    if let Some(path) = &args.json {
        write_json(path, &report)?;
        println!("numbers (JSON):   {}", path.display());
    }
    for c in report.chart.iter().chain(&report.network_chart) {
        println!("chart:            {}", c.display());
    }
    println!("logs and stderr:  {}", out.display());
    print_verdict(&report);
    Ok(report.demonstrated)
}

/// The numbers of a finished phase, with its progress line and warnings.
fn report_phase(run: &phase::PhaseRun) -> PhaseReport {
    let report = PhaseReport::from_run(run);
    println!("{}", one_line(&report));
    for (at, len) in &report.runner_stalls {
        println!(
            "          warning: the runner itself did not run for {len:.1} s at {at:.1} s \
             (machine overloaded); requests in flight then may time out"
        );
    }
    report
}

/// Prints the table and narratives of `phases` and writes their chart.
fn show(phases: &[PhaseReport], path: &Path, title: &str, args: &Args) -> Option<PathBuf> {
    println!("\n{}", table::render(phases, args.timeout_ms));
    for p in phases {
        println!("{}", narrative(p));
    }
    let path = match (&args.chart, title == chart::ROTATION_TITLE) {
        (Some(c), true) => c.clone(),
        _ => path.to_path_buf(),
    };
    match chart::write(&path, title, phases, args.timeout_ms) {
        Ok(()) => Some(path),
        Err(e) => {
            eprintln!("jamless-demo: the chart could not be written: {e:#}");
            None
        }
    }
}

fn print_intro(args: &Args, out: &Path) {
    println!("jamless demo: the incident of shared/INCIDENT.md, a naive logger versus jamless");
    println!(
        "  per logger: {} services sharing one log directory and file name ({LOG_NAME}), \
         rotating every {} s at the same instants",
        INSTANCES.len(),
        args.rotate_secs
    );
    println!(
        "  load: {} workers x {} req/s per service, {}, client timeout {} ms (nginx's 60 s, scaled)",
        args.workers,
        args.rate,
        if args.keep_alive {
            "keep-alive"
        } else {
            "a fresh connection per request"
        },
        args.timeout_ms
    );
    if args.loggers.iter().any(|l| l == "naive") {
        if args.naive_fs_latency_ms > 0 {
            println!(
                "  naive: SIMULATED slow file system, {} ms before each file-system call of a \
                 rotation (--naive-fs-latency-ms; 0 = the faithful port, whose ~25 µs race \
                 window is hit at only a few percent of rotations)",
                args.naive_fs_latency_ms
            );
        } else {
            println!(
                "  naive: the faithful port (no simulated latency): its rename race is hit at \
                 a few percent of rotations; if it has not happened after {} s the phase goes \
                 on until it does, at most {} s (--until-naive-fails ends right after it; \
                 --naive-fs-latency-ms 2 makes it certain)",
                args.secs, args.max_secs
            );
        }
    }
    println!("  output: {}\n", out.display());
}

fn one_line(p: &PhaseReport) -> String {
    let died = match &p.consumer_died {
        Some((who, f)) => format!("; {who}'s consumer died at {:.1} s", f.at_secs),
        None => String::new(),
    };
    format!(
        "{:>8}: {} sent, {} answered, {} timed out, {} errors in {:.1} s{died}",
        p.logger,
        p.counts.sent,
        p.counts.answered,
        p.counts.timed_out,
        p.counts.errors,
        p.load_secs
    )
}

/// A few sentences on what a phase showed.
fn narrative(p: &PhaseReport) -> String {
    let n = |v: Option<u64>| v.map_or_else(|| "n/a".to_string(), |v| v.to_string());
    if p.collector_stopped_at.is_some() {
        return network_narrative(p);
    }
    match (&p.consumer_died, p.logger.as_str()) {
        (Some((who, f)), _) => {
            let inst = p.instances.iter().find(|i| &i.name == who);
            let unread = inst
                .and_then(|i| {
                    Some(i.counts.sent - i.stats.as_ref()?.requests_received.min(i.counts.sent))
                })
                .map_or_else(String::new, |u| {
                    format!(
                        " {u} of the requests sent to it never reached its routes: the kernel \
                         accepted the connection and the program never read it."
                    )
                });
            format!(
                "{}: {who} printed `{}` at {:.1} s and its consumer thread returned. From then on \
                 {} requests to it timed out.{unread} At exit {} callers were stuck inside a log \
                 call (tokio worker threads: while they are blocked, no request is served) \
                 and {} records sat in channels; {} log lines are lost without being counted.",
                p.logger,
                f.line,
                f.at_secs,
                p.timed_out_after_failure,
                n(p.callers_stuck),
                n(p.queued_at_exit),
                p.lost_uncounted
                    .map_or_else(|| "n/a".into(), |v| v.to_string()),
            )
        }
        (None, "naive") => format!(
            "naive: no rotation failure happened in {:.0} s ({} rotations): the race was lost \
             this time, so the hang did not occur.",
            p.load_secs,
            p.rotations_at.len()
        ),
        (None, _) => format!(
            "{}: {} of {} requests answered ({} timed out); of {} log calls that returned, {} are \
             in the files and {} were counted as dropped: {} lost without being counted.",
            p.logger,
            p.counts.answered,
            p.counts.sent,
            p.counts.timed_out,
            n(p.log_calls_returned),
            n(p.lines_in_files),
            n(p.dropped_counted),
            p.lost_uncounted
                .map_or_else(|| "n/a".into(), |v| v.to_string()),
        ),
    }
}

/// What the network phase showed for one logger.
fn network_narrative(p: &PhaseReport) -> String {
    let n = |v: Option<u64>| v.map_or_else(|| "n/a".to_string(), |v| v.to_string());
    let at = p.collector_stopped_at.unwrap_or(0.0);
    if p.logger == "naive-syslog" {
        let extra = match p.lost_uncounted {
            Some(d) if d < 0 => format!(
                " rsyslogd received {} lines more than the log calls that returned: lines of \
                 callers that never returned, which the kernel had already taken.",
                -d
            ),
            _ => String::new(),
        };
        return format!(
            "naive-syslog: rsyslogd was stopped at {at:.1} s; once the kernel's socket buffers \
             were full, the `syslog` crate's send blocked the request's thread and the others \
             queued behind its mutex: {} requests timed out after the stop, {} callers were stuck \
             in a log call at exit, and its /health/logging could not say anything (it has no \
             health, and the runtime no longer ran).{extra}",
            p.timed_out_after_failure,
            n(p.callers_stuck)
        );
    }
    let probes: Vec<String> = p
        .instances
        .iter()
        .filter_map(|i| {
            let h = i.health_probe.as_ref()?;
            Some(format!(
                "{} answered {} (logger {}, file {}, syslog {} with {} drops counted)",
                i.name,
                h.status.map_or_else(|| "nothing".into(), |s| s.to_string()),
                h.state.as_deref().unwrap_or("?"),
                h.file_state.as_deref().unwrap_or("?"),
                h.syslog_state.as_deref().unwrap_or("?"),
                n(h.syslog_dropped)
            ))
        })
        .collect();
    format!(
        "{}: rsyslogd was stopped at {at:.1} s; {} of {} requests answered ({} timed out). \
         /health/logging with the collector stopped: {}. Of {} log calls, {} are in the files \
         and {} were counted as dropped by the file pipeline: {} lost without being counted.",
        p.logger,
        p.counts.answered,
        p.counts.sent,
        p.counts.timed_out,
        probes.join("; "),
        n(p.log_calls_returned),
        n(p.lines_in_files),
        n(p.dropped_counted),
        p.lost_uncounted
            .map_or_else(|| "n/a".into(), |v| v.to_string()),
    )
}

fn print_verdict(r: &DemoReport) {
    if r.demonstrated {
        if !r.phases.is_empty() {
            println!(
                "\nDEMONSTRATED: the naive service hung after its rotation failure; jamless \
                 answered every request and accounted for every log line."
            );
        }
        if !r.network_phases.is_empty() {
            println!(
                "\nDEMONSTRATED: with the collector stopped, the service logging through the \
                 `syslog` crate stopped answering; jamless answered every request, its \
                 /health/logging stayed 200 with the syslog pipeline degraded and its drops \
                 counted, and the file pipeline lost nothing."
            );
        }
    } else {
        println!("\nNOT DEMONSTRATED:");
        for f in &r.failures {
            println!("  - {f}");
        }
        if (!r.phases.is_empty() && r.chart.is_none())
            || (!r.network_phases.is_empty() && r.network_chart.is_none())
        {
            println!("  - a chart could not be written");
        }
    }
}

/// Writes `value` as pretty JSON.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).context("serializing the report")?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}
