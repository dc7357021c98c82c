//! The default mode: naive then jamless, the table, the chart, the verdict.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use super::config::Args;
use super::load::LoadConfig;
use super::phase::{self, PhaseSettings, Until, INSTANCES, LOG_NAME};
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
    /// Per phase.
    pub phases: Vec<PhaseReport>,
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
    print_intro(args, &out);
    let mut phases = Vec::new();
    for logger in &args.loggers {
        let until = if logger == "naive" && args.until_naive_fails {
            Until::NaiveFails {
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
        };
        let run = phase::run(&rt, &settings)?;
        let report = PhaseReport::from_run(&run);
        println!("{}", one_line(&report));
        for (at, len) in &report.runner_stalls {
            println!(
                "          warning: the runner itself did not run for {len:.1} s at {at:.1} s \
                 (machine overloaded); requests in flight then may time out"
            );
        }
        phases.push(report);
    }
    println!("\n{}", table::render(&phases, args.timeout_ms));
    for p in &phases {
        println!("{}", narrative(p));
    }
    let chart_path = args.chart.clone().unwrap_or_else(|| out.join("chart.svg"));
    let chart = match chart::write(&chart_path, &phases, args.timeout_ms) {
        Ok(()) => Some(chart_path),
        Err(e) => {
            eprintln!("jamless-demo: the chart could not be written: {e:#}");
            None
        }
    };
    let failures: Vec<String> = phases.iter().flat_map(PhaseReport::failures).collect();
    let report = DemoReport {
        out_dir: out.clone(),
        chart: chart.clone(),
        load,
        rotate_secs: args.rotate_secs,
        naive_fs_latency_ms: args.naive_fs_latency_ms,
        demonstrated: failures.is_empty() && chart.is_some(),
        phases,
        failures,
    };
    if let Some(path) = &args.json {
        write_json(path, &report)?;
        println!("numbers (JSON):   {}", path.display());
    }
    if let Some(c) = &chart {
        println!("chart:            {}", c.display());
    }
    println!("logs and stderr:  {}", out.display());
    print_verdict(&report);
    Ok(report.demonstrated)
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
                 a few percent of rotations, so it may not happen in a short run \
                 (--until-naive-fails waits for it; --naive-fs-latency-ms 2 makes it certain)"
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

fn print_verdict(r: &DemoReport) {
    if r.demonstrated {
        println!(
            "\nDEMONSTRATED: the naive service hung after its rotation failure; jamless answered \
             every request and accounted for every log line."
        );
    } else {
        println!("\nNOT DEMONSTRATED:");
        for f in &r.failures {
            println!("  - {f}");
        }
        if r.chart.is_none() {
            println!("  - the chart could not be written");
        }
    }
}

/// Writes `value` as pretty JSON.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).context("serializing the report")?;
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}
