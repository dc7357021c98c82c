//! Summaries of repeated runs, and their Markdown and JSON forms.

use std::fmt::Write as _;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::latency::{Counts, LatencyConfig, Run};
use crate::throughput::{ThroughputConfig, ThroughputRun};

/// The target for the stalled-sink scenarios: no call above 50 µs.
pub const STALL_MAX_TARGET_NS: u64 = 50_000;

/// Percentiles of one histogram, in ns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Samples recorded.
    pub count: u64,
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// 99.99th percentile.
    pub p9999: u64,
    /// Largest sample.
    pub max: u64,
    /// Mean.
    pub mean: f64,
    /// Samples above 50 µs (the stalled-sink target), at the histogram's
    /// resolution.
    #[serde(default)]
    pub over_50us: u64,
}

impl Percentiles {
    /// Reads the percentiles of `h`.
    pub fn of(h: &Histogram<u64>) -> Percentiles {
        Percentiles {
            count: h.len(),
            p50: h.value_at_quantile(0.50),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            p9999: h.value_at_quantile(0.9999),
            max: h.max(),
            mean: h.mean(),
            over_50us: h
                .len()
                .saturating_sub(h.count_between(0, STALL_MAX_TARGET_NS)),
        }
    }

    /// The five latency values, in table order (p50, p99, p99.9, p99.99,
    /// max).
    pub fn fields(&self) -> [u64; 5] {
        [self.p50, self.p99, self.p999, self.p9999, self.max]
    }

    fn field(&self, i: usize) -> u64 {
        [
            self.p50,
            self.p99,
            self.p999,
            self.p9999,
            self.max,
            self.over_50us,
        ][i]
    }
}

/// One run of a latency scenario, summarised.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// Latency percentiles of all measured calls.
    pub latency: Percentiles,
    /// The logger's counters (absent for the baselines).
    pub counts: Option<Counts>,
    /// Wall time of the measured calls, in seconds.
    pub wall_secs: f64,
    /// Calls per second over all threads.
    pub calls_per_sec: f64,
    /// Page faults and context switches of the producers while measuring.
    pub callers: crate::clock::ThreadStats,
    /// Calls above 50 µs with no context switch of their thread (only
    /// when the run attributed slow calls).
    pub slow_unswitched: Option<u64>,
    /// The slowest of those, in ns.
    pub worst_unswitched_ns: Option<u64>,
    /// The machine's steal time during the run, in ms.
    pub steal_ms: Option<u64>,
}

impl RunSummary {
    /// Summarises a run.
    pub fn of(run: &Run) -> RunSummary {
        let secs = run.wall.as_secs_f64();
        RunSummary {
            latency: Percentiles::of(&run.hist),
            counts: run.counts.clone(),
            wall_secs: secs,
            calls_per_sec: run.hist.len() as f64 / secs.max(1e-9),
            callers: run.callers,
            slow_unswitched: run.slow_unswitched,
            worst_unswitched_ns: run.worst_unswitched_ns,
            steal_ms: run.steal_ms,
        }
    }
}

/// All runs of one latency scenario.
#[derive(Debug, Clone, Serialize)]
pub struct LatencyResult {
    /// The scenario's name.
    pub name: String,
    /// What it measures.
    pub what: String,
    /// Its configuration.
    pub config: LatencyConfig,
    /// Each run.
    pub runs: Vec<RunSummary>,
    /// Per percentile, the median over the runs.
    pub median: Percentiles,
    /// Per percentile, the smallest value over the runs.
    pub min: Percentiles,
    /// Per percentile, the largest value over the runs.
    pub max: Percentiles,
}

impl LatencyResult {
    /// Summarises the runs of one scenario.
    pub fn new(
        name: &str,
        what: &str,
        config: LatencyConfig,
        runs: Vec<RunSummary>,
    ) -> LatencyResult {
        let pick = |f: fn(&mut Vec<u64>) -> u64| {
            let mut out = [0u64; 6];
            for (i, o) in out.iter_mut().enumerate() {
                let mut v: Vec<u64> = runs.iter().map(|r| r.latency.field(i)).collect();
                v.sort_unstable();
                *o = if v.is_empty() { 0 } else { f(&mut v) };
            }
            Percentiles {
                count: runs.first().map_or(0, |r| r.latency.count),
                p50: out[0],
                p99: out[1],
                p999: out[2],
                p9999: out[3],
                max: out[4],
                over_50us: out[5],
                mean: median_f64(runs.iter().map(|r| r.latency.mean).collect()),
            }
        };
        LatencyResult {
            name: name.to_string(),
            what: what.to_string(),
            median: pick(|v| v[(v.len() - 1) / 2]),
            min: pick(|v| v[0]),
            max: pick(|v| v[v.len() - 1]),
            config,
            runs,
        }
    }
}

/// The first three fields of `/proc/loadavg` (empty where unavailable).
pub(crate) fn load_avg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn median_f64(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[(v.len() - 1) / 2]
}

/// All runs of the throughput scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ThroughputResult {
    /// Its configuration.
    pub config: ThroughputConfig,
    /// Each run.
    pub runs: Vec<ThroughputRun>,
}

/// The cost of the stopwatch itself.
#[derive(Debug, Clone, Serialize)]
pub struct ClockResult {
    /// `tsc` or `monotonic`: what quanta's raw counter reads.
    pub source: String,
    /// Raw ticks per microsecond.
    pub ticks_per_us: f64,
    /// Two back-to-back raw readings, scaled to ns.
    pub quanta: Percentiles,
    /// `Instant::now()` then `elapsed()`.
    pub instant: Percentiles,
    /// One `SystemTime::now()` inside a quanta pair (what jamless pays per
    /// record for its timestamp, plus the pair's own cost).
    pub systemtime: Percentiles,
}

/// Everything one invocation measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// When the report was made, seconds since the Unix epoch.
    pub generated_unix: u64,
    /// Logical CPUs available to the process.
    pub cpus: usize,
    /// Whether `--quick` sizes were used.
    pub quick: bool,
    /// `/proc/loadavg` when the run started and when it ended: other work
    /// on the machine shows up in the tails.
    pub load_avg: [String; 2],
    /// The stopwatch's overhead, if measured.
    pub clock: Option<ClockResult>,
    /// Latency scenarios, in the order run.
    pub latency: Vec<LatencyResult>,
    /// The throughput scenarios run.
    pub throughput: Vec<ThroughputResult>,
}

fn cell(r: &LatencyResult, i: usize) -> String {
    let (m, lo, hi) = (r.median.field(i), r.min.field(i), r.max.field(i));
    if r.runs.len() > 1 {
        format!("{} [{}–{}]", ns(m), ns(lo), ns(hi))
    } else {
        ns(m)
    }
}

/// Nanoseconds with thousands separators.
fn ns(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn median_u64(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v.get(v.len().saturating_sub(1) / 2).copied().unwrap_or(0)
}

impl Report {
    /// The report as Markdown tables.
    pub fn to_markdown(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "{} CPUs; load average (1, 5, 15 min) at start {}, at end {}{}.\n",
            self.cpus,
            self.load_avg[0],
            self.load_avg[1],
            if self.quick { "; --quick sizes" } else { "" }
        );
        if let Some(c) = &self.clock {
            let _ = writeln!(
                o,
                "### Stopwatch overhead (ns; included in every latency below), and a wall-clock read\n"
            );
            let _ = writeln!(o, "| clock | p50 | p99 | p99.9 | max |");
            let _ = writeln!(o, "|---|---:|---:|---:|---:|");
            for (name, p) in [
                (
                    format!("quanta raw ({}, {:.0} ticks/µs)", c.source, c.ticks_per_us),
                    &c.quanta,
                ),
                ("std::time::Instant".to_string(), &c.instant),
                (
                    "`SystemTime::now()` inside a quanta pair".to_string(),
                    &c.systemtime,
                ),
            ] {
                let _ = writeln!(
                    o,
                    "| {name} | {} | {} | {} | {} |",
                    p.p50,
                    p.p99,
                    p.p999,
                    ns(p.max)
                );
            }
            o.push('\n');
        }
        if !self.latency.is_empty() {
            let runs = self.latency.iter().map(|r| r.runs.len()).max().unwrap_or(0);
            let _ = writeln!(
                o,
                "### Caller latency (ns per call; median of {runs} run(s), [min–max] over runs)\n"
            );
            let _ = writeln!(
                o,
                "| scenario | threads × calls | pace | p50 | p99 | p99.9 | p99.99 | max | calls > 50 µs | accepted | dropped at call (cause) | drop % |"
            );
            let _ = writeln!(
                o,
                "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"
            );
            for r in &self.latency {
                let c = &r.config;
                let pace = c
                    .pace_ns
                    .map_or("full speed".to_string(), |p| format!("1 / {} ns", ns(p)));
                let counts: Vec<&Counts> =
                    r.runs.iter().filter_map(|x| x.counts.as_ref()).collect();
                let (acc, drop, pct) = if counts.is_empty() {
                    ("–".to_string(), "– (baseline)".to_string(), "–".to_string())
                } else {
                    let acc = median_u64(counts.iter().map(|c| c.accepted).collect());
                    let rej = median_u64(counts.iter().map(|c| c.rejected).collect());
                    let qf: u64 = counts.iter().map(|c| c.queue_full).sum();
                    let shed: u64 = counts.iter().map(|c| c.shed).sum();
                    let to: u64 = counts.iter().map(|c| c.timed_out).sum();
                    let mut cause = Vec::new();
                    for (n, v) in [("full", qf), ("shed", shed), ("timeout", to)] {
                        if v > 0 {
                            cause.push(format!("{n} {}", ns(v)));
                        }
                    }
                    let cause = if cause.is_empty() {
                        String::new()
                    } else {
                        format!(" ({}; all runs)", cause.join(", "))
                    };
                    let lo = counts
                        .iter()
                        .map(|c| c.drop_ratio())
                        .fold(f64::INFINITY, f64::min);
                    let hi = counts.iter().map(|c| c.drop_ratio()).fold(0.0, f64::max);
                    let pct = if counts.len() > 1 {
                        format!(
                            "{:.1} [{:.1}–{:.1}]",
                            median_f64(counts.iter().map(|c| c.drop_ratio()).collect()) * 100.0,
                            lo * 100.0,
                            hi * 100.0
                        )
                    } else {
                        format!("{:.1}", lo * 100.0)
                    };
                    (ns(acc), format!("{}{cause}", ns(rej)), pct)
                };
                let _ = writeln!(
                    o,
                    "| {} | {} × {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    r.name,
                    c.threads,
                    ns(c.calls),
                    pace,
                    cell(r, 0),
                    cell(r, 1),
                    cell(r, 2),
                    cell(r, 3),
                    cell(r, 4),
                    cell(r, 5),
                    acc,
                    drop,
                    pct
                );
            }
            o.push('\n');
            let _ = writeln!(
                o,
                "What the kernel did to the producer threads while they measured (summed over threads; median [min–max] over runs). \
                 Faults are first touches of memory; a blocked caller switched voluntarily (a lock, a waiting syscall); \
                 a preempted one was descheduled by other work:\n"
            );
            let _ = writeln!(o, "| scenario | minor page faults | blocked (voluntary switches) | preempted (involuntary switches) | machine steal (ms) | calls/s (all threads) |");
            let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|");
            for r in &self.latency {
                let spread = |f: fn(&RunSummary) -> u64| {
                    let v: Vec<u64> = r.runs.iter().map(f).collect();
                    let (lo, hi) = (
                        v.iter().copied().min().unwrap_or(0),
                        v.iter().copied().max().unwrap_or(0),
                    );
                    let m = median_u64(v);
                    if r.runs.len() > 1 {
                        format!("{} [{}–{}]", ns(m), ns(lo), ns(hi))
                    } else {
                        ns(m)
                    }
                };
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} | {} | {} |",
                    r.name,
                    spread(|x| x.callers.minor_faults),
                    spread(|x| x.callers.voluntary_switches),
                    spread(|x| x.callers.involuntary_switches),
                    spread(|x| x.steal_ms.unwrap_or(0)),
                    spread(|x| x.calls_per_sec as u64),
                );
            }
            o.push('\n');
            let noop = self
                .latency
                .iter()
                .find(|r| r.config.api == crate::call::Api::Noop);
            for r in self.latency.iter().filter(|r| r.config.attribute_slow) {
                let worst = r.max.max;
                let slow: u64 = r.runs.iter().map(|x| x.latency.over_50us).sum();
                let calls: u64 = r.runs.iter().map(|x| x.latency.count).sum();
                let states: Vec<&str> = r
                    .runs
                    .iter()
                    .filter_map(|x| x.counts.as_ref().map(|c| c.state.as_str()))
                    .collect();
                let unswitched = if r.runs.iter().all(|x| x.slow_unswitched.is_some()) {
                    let n: u64 = r.runs.iter().filter_map(|x| x.slow_unswitched).sum();
                    let w = r
                        .runs
                        .iter()
                        .filter_map(|x| x.worst_unswitched_ns)
                        .max()
                        .unwrap_or(0);
                    if n == 0 {
                        "none".to_string()
                    } else {
                        format!("{} (slowest {} ns)", ns(n), ns(w))
                    }
                } else {
                    "not measured".to_string()
                };
                let baseline = noop.map_or(String::new(), |n| {
                    let slow: u64 = n.runs.iter().map(|x| x.latency.over_50us).sum();
                    let calls: u64 = n.runs.iter().map(|x| x.latency.count).sum();
                    format!(
                        " (the `noop` baseline, which never touches jamless: {} of {}, worst {} ns)",
                        ns(slow),
                        ns(calls),
                        ns(n.max.max)
                    )
                });
                let _ = writeln!(
                    o,
                    "- `{}`: worst call over all runs {} ns, target ≤ {} ns: **{}**; calls above 50 µs: {} of {}{}; \
                     of those, calls during which the caller was not switched out: {}; state after the calls: {}",
                    r.name,
                    ns(worst),
                    ns(STALL_MAX_TARGET_NS),
                    if !r.config.dest.stalls() {
                        "n/a (control)"
                    } else if worst <= STALL_MAX_TARGET_NS {
                        "met"
                    } else {
                        "missed"
                    },
                    ns(slow),
                    ns(calls),
                    baseline,
                    unswitched,
                    if states.is_empty() { "–".to_string() } else { states.join(", ") }
                );
            }
            let _ = writeln!(o, "\nScenarios:\n");
            for r in &self.latency {
                let _ = writeln!(o, "- `{}`: {}", r.name, r.what);
            }
            o.push('\n');
        }
        for t in &self.throughput {
            let _ = writeln!(
                o,
                "### Throughput (1 thread, {}, {}, {} MiB queue, `block_for({:?})`, no shedding)\n",
                if t.config.api == crate::call::Api::Native {
                    "native macro `jamless::info!`"
                } else {
                    "`log` facade"
                },
                if t.config.pipelines == 1 {
                    "file on disk".to_string()
                } else {
                    format!(
                        "{} pipelines, a file each (lines counted in the first)",
                        t.config.pipelines
                    )
                },
                t.config.capacity >> 20,
                t.config.block_for
            );
            let _ = writeln!(
                o,
                "| run | records | bytes/line | calls done (s) | flushed (s) | lines/s | MB/s | lines in file | dropped | verified | producer CPU (s) | writer CPU (s) | writer lines per CPU-s |"
            );
            let _ = writeln!(
                o,
                "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|"
            );
            for (i, r) in t.runs.iter().enumerate() {
                let _ = writeln!(
                    o,
                    "| {} | {} | {:.1} | {:.3} | {:.3} | {} | {:.0} | {} | {} | {} | {:.3} | {} | {} |",
                    i + 1,
                    ns(r.records),
                    r.avg_line_bytes(),
                    r.submit_secs,
                    r.total_secs,
                    ns(r.lines_per_sec() as u64),
                    r.mb_per_sec(),
                    ns(r.lines_in_file),
                    r.dropped,
                    if r.verified() { "yes" } else { "NO" },
                    r.producer_cpu_secs,
                    r.writer_cpu_secs.map_or("?".to_string(), |w| format!("{w:.3}")),
                    r.writer_lines_per_cpu_sec().map_or("?".to_string(), |w| ns(w as u64)),
                );
            }
            if let Some(r) = t.runs.first() {
                let _ = writeln!(
                    o,
                    "\nA line as written (first line of run 1):\n\n```text\n{}\n```",
                    r.first_line
                );
            }
            let med = median_f64(t.runs.iter().map(|r| r.lines_per_sec()).collect());
            let _ = writeln!(
                o,
                "\nMedian: {} lines/s (target ≥ 3,000,000: **{}**).\n",
                ns(med as u64),
                if med >= 3e6 { "met" } else { "missed" }
            );
            let producer = median_f64(
                t.runs
                    .iter()
                    .map(|r| r.records as f64 / r.producer_cpu_secs.max(1e-9))
                    .collect(),
            );
            let writer: Vec<f64> = t
                .runs
                .iter()
                .filter_map(|r| r.writer_lines_per_cpu_sec())
                .collect();
            if !writer.is_empty() {
                let writer = median_f64(writer);
                let _ = writeln!(
                    o,
                    "Per CPU-second (medians): the producer made {} calls, the writer wrote {} lines. \
                     With a core each and nothing else running, this pipeline would be bounded by the slower, \
                     about {} lines/s ({} limits).\n",
                    ns(producer as u64),
                    ns(writer as u64),
                    ns(producer.min(writer) as u64),
                    if producer < writer { "the producer" } else { "the writer" }
                );
            }
        }
        o
    }
}
