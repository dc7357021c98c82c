//! `--bench`: request latency with jamless versus logging off, same load,
//! same run, interleaved (off, jamless, jamless, off, ...) so that drift of
//! the machine's load cancels out, as a markdown table for `BENCHMARKS.md`.

use std::fmt::Write;
use std::time::Duration;

use anyhow::{Context, Result};

use super::config::{local_stamp, Args};
use super::phase::{self, PhaseRun, PhaseSettings, Until, INSTANCES};
use super::samples::{self, Counts, Latency};
use super::table::ms;
use super::{locate, report::PhaseReport};

/// The target of the issue: logging adds less than this to p99.
const TARGET_P99_RATIO: f64 = 1.02;

/// One run's numbers.
struct BenchRun {
    run: usize,
    logger: &'static str,
    counts: Counts,
    latency: Latency,
    dropped: Option<u64>,
    lost: Option<i64>,
}

/// Runs the benchmark; `Ok(true)` when every run answered every request.
pub fn run(args: &Args) -> Result<bool> {
    args.validate()?;
    let bin = locate::service_bin(args.service_bin.as_deref(), args.no_build)?;
    let out = args.out_dir()?.join("bench");
    let rt = super::runtime()?;
    let load = super::load_config(args);
    let started = local_stamp();
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "bench: {} runs x {} s per logger (off and jamless interleaved), output in {}",
        args.bench_runs,
        args.bench_secs,
        out.display()
    );
    let mut runs = Vec::new();
    for i in 0..args.bench_runs {
        let order: [&'static str; 2] = if i % 2 == 0 {
            ["off", "jamless"]
        } else {
            ["jamless", "off"]
        };
        for logger in order {
            let label = format!("{logger}-{}", i + 1);
            let settings = PhaseSettings {
                logger: logger.to_string(),
                label: label.clone(),
                bin: bin.clone(),
                dir: out.join(&label),
                rotate_secs: args.rotate_secs,
                naive_fs_latency_ms: args.naive_fs_latency_ms,
                load: load.clone(),
                until: Until::Secs(args.bench_secs),
                progress: true,
                align_start: false,
                network: None,
            };
            let r = phase::run(&rt, &settings, None)?;
            let b = measure(&r, i + 1, logger, Duration::from_secs_f64(args.warmup_secs));
            println!(
                "{label:>10}: {} requests, p50 {} ms, p99 {} ms, p99.9 {} ms, max {} ms",
                b.counts.sent,
                ms(b.latency.p50_ms),
                ms(b.latency.p99_ms),
                ms(b.latency.p999_ms),
                ms(b.latency.max_ms)
            );
            runs.push(b);
        }
    }
    let md = markdown(args, &runs, &started, loadavg.trim());
    println!("\n{md}");
    if let Some(path) = &args.md {
        std::fs::write(path, &md).with_context(|| format!("writing {}", path.display()))?;
        println!("written to {}", path.display());
    }
    Ok(runs
        .iter()
        .all(|r| r.counts.sent > 0 && r.counts.answered == r.counts.sent))
}

/// The numbers of one run, leaving out requests sent during the warm-up.
fn measure(r: &PhaseRun, run: usize, logger: &'static str, warmup: Duration) -> BenchRun {
    let from = Duration::from_secs_f64(r.load_window.0) + warmup;
    let kept: Vec<_> = r.samples.iter().filter(|s| s.sent_at >= from).collect();
    let report = PhaseReport::from_run(r);
    BenchRun {
        run,
        logger,
        counts: samples::counts(kept.iter().copied()),
        latency: samples::latency(kept.iter().copied()),
        dropped: report.dropped_counted,
        lost: report.lost_uncounted,
    }
}

/// What the p99 ratio and the run-to-run noise (relative spread of the
/// `off` runs' p99) allow to say about the target.
pub fn verdict(ratio: f64, noise: f64) -> &'static str {
    let diff = ratio - 1.0;
    if !(ratio.is_finite() && noise.is_finite()) {
        "no data"
    } else if diff.abs() <= noise {
        if noise < TARGET_P99_RATIO - 1.0 {
            "met (difference within a noise smaller than the target)"
        } else {
            "not resolvable here: the difference is within run-to-run noise larger than \
             the 2% target; no evidence that jamless adds to p99, and no proof of < 2%"
        }
    } else if ratio < TARGET_P99_RATIO {
        "met"
    } else {
        "not met"
    }
}

/// In how many runs jamless's value of `f` exceeded off's, and how many
/// runs had both.
fn paired(runs: &[BenchRun], f: fn(&Latency) -> f64) -> (usize, usize) {
    let mut higher = 0;
    let mut pairs = 0;
    for r in runs.iter().filter(|r| r.logger == "off") {
        if let Some(j) = runs
            .iter()
            .find(|j| j.logger == "jamless" && j.run == r.run)
        {
            pairs += 1;
            if f(&j.latency) > f(&r.latency) {
                higher += 1;
            }
        }
    }
    (higher, pairs)
}

/// The median of `v` (mean of the middle two for an even count).
pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn markdown(args: &Args, runs: &[BenchRun], started: &str, loadavg: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "### Request latency: jamless versus logging off\n");
    let _ = writeln!(
        s,
        "`jamless-demo --bench`, started {started} (local time), load average at start `{loadavg}`, \
         {} CPUs. Per run: {} `jamless-demo-service` processes sharing one log directory, \
         rotating every {} s; {} workers x {} req/s per service, {}, client timeout {} ms; \
         {} s per run, the first {} s left out. {} runs per logger, interleaved \
         (off, jamless, jamless, off, ...). Latency is the client's: connect + request + \
         response of `GET /v1/healthCheck` over loopback, answered requests only.\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        INSTANCES.len(),
        args.rotate_secs,
        args.workers,
        args.rate,
        if args.keep_alive { "keep-alive" } else { "a fresh connection per request" },
        args.timeout_ms,
        args.bench_secs,
        args.warmup_secs,
        args.bench_runs,
    );
    let _ = writeln!(
        s,
        "| run | logger | requests | answered | timed out | p50 ms | p99 ms | p99.9 ms | max ms | dropped | lost uncounted |"
    );
    let _ = writeln!(s, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let opt = |v: Option<u64>| v.map_or_else(|| "n/a".into(), |v| v.to_string());
    for r in runs {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.run,
            r.logger,
            r.counts.sent,
            r.counts.answered,
            r.counts.timed_out,
            ms(r.latency.p50_ms),
            ms(r.latency.p99_ms),
            ms(r.latency.p999_ms),
            ms(r.latency.max_ms),
            opt(r.dropped),
            r.lost.map_or_else(|| "n/a".into(), |v| v.to_string()),
        );
    }
    let med = |logger: &str, f: fn(&Latency) -> f64| {
        median(
            runs.iter()
                .filter(|r| r.logger == logger)
                .map(|r| f(&r.latency))
                .collect(),
        )
    };
    let fields: [fn(&Latency) -> f64; 4] =
        [|l| l.p50_ms, |l| l.p99_ms, |l| l.p999_ms, |l| l.max_ms];
    for logger in ["off", "jamless"] {
        let cells: Vec<String> = fields.iter().map(|f| ms(med(logger, *f))).collect();
        let _ = writeln!(
            s,
            "| **median** | {logger} | | | | {} | | |",
            cells.join(" | ")
        );
    }
    let ratios: Vec<String> = fields
        .iter()
        .map(|f| format!("{:.3}", med("jamless", *f) / med("off", *f)))
        .collect();
    let _ = writeln!(
        s,
        "| **jamless / off** | | | | | {} | | |\n",
        ratios.join(" | ")
    );
    let ratio = med("jamless", |l| l.p99_ms) / med("off", |l| l.p99_ms);
    let off_p99: Vec<f64> = runs
        .iter()
        .filter(|r| r.logger == "off")
        .map(|r| r.latency.p99_ms)
        .collect();
    let (lo, hi) = off_p99
        .iter()
        .fold((f64::INFINITY, 0f64), |(a, b), &v| (a.min(v), b.max(v)));
    let noise = if lo > 0.0 { hi / lo - 1.0 } else { f64::NAN };
    let _ = writeln!(
        s,
        "p99 with jamless is {:+.1}% of p99 with logging off (medians of runs; target: less \
         than +{:.0}%). Run-to-run noise: p99 with logging off ranged from {} to {} ms \
         ({:.0}% spread). Verdict: **{}**.",
        (ratio - 1.0) * 100.0,
        (TARGET_P99_RATIO - 1.0) * 100.0,
        ms(lo),
        ms(hi),
        noise * 100.0,
        verdict(ratio, noise),
    );
    for (name, f) in [("p50", fields[0]), ("p99", fields[1])] {
        let (higher, pairs) = paired(runs, f);
        let _ = writeln!(
            s,
            "\n{name}: jamless was higher than logging off in {higher} of {pairs} runs \
             (each run pairs one off and one jamless phase, back to back)."
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(vec![]).is_nan());
    }

    #[test]
    fn verdicts() {
        assert_eq!(verdict(1.01, 0.005), "met");
        assert_eq!(verdict(1.05, 0.01), "not met");
        assert!(verdict(0.6, 1.8).starts_with("not resolvable"));
        assert!(verdict(1.3, 1.8).starts_with("not resolvable"));
        assert!(verdict(1.001, 0.01).starts_with("met"));
        assert_eq!(verdict(f64::NAN, 0.1), "no data");
    }
}
