//! The catalogue of scenarios and the sizes they run with.

use std::time::Duration;

use crate::call::Api;
use crate::clock::{instant_overhead, systemtime_cost, Stopwatch};
use crate::latency::{self, Dest, LatencyConfig};
use crate::report::{
    load_avg, ClockResult, LatencyResult, Percentiles, Report, RunSummary, ThroughputResult,
};
use crate::throughput::{self, ThroughputConfig};

/// How big the runs are.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Plan {
    /// Measured calls per thread in each latency run.
    pub calls: u64,
    /// Unmeasured warm-up calls per thread.
    pub warmup: u64,
    /// Repetitions of each latency and throughput scenario.
    pub runs: usize,
    /// The pace of the paced scenarios, in ns between calls per thread.
    pub pace_ns: u64,
    /// Queue capacity of the latency runs on a file.
    pub capacity: usize,
    /// Queue capacity of the stalled-FIFO runs: small enough that the
    /// calls fill it, so the run exercises the full-queue path.
    pub stalled_capacity: usize,
    /// Records in each throughput run.
    pub throughput_records: u64,
    /// Queue capacity of the throughput runs.
    pub throughput_capacity: usize,
    /// Samples of the stopwatch-overhead measurement.
    pub clock_samples: u64,
}

impl Plan {
    /// The full benchmark: 1,000,000 calls per thread, 3 runs, 5,000,000
    /// throughput records, a 64 MiB queue (8 MiB, the default, for the
    /// stalled sink).
    pub fn full() -> Plan {
        Plan {
            calls: 1_000_000,
            warmup: 10_000,
            runs: 3,
            pace_ns: 1_000,
            capacity: 64 << 20,
            stalled_capacity: 8 << 20,
            throughput_records: 5_000_000,
            throughput_capacity: 64 << 20,
            clock_samples: 1_000_000,
        }
    }

    /// A smoke run for CI: small counts, one run, an 8 MiB queue.
    pub fn quick() -> Plan {
        Plan {
            calls: 20_000,
            warmup: 1_000,
            runs: 1,
            pace_ns: 1_000,
            capacity: 8 << 20,
            stalled_capacity: 1 << 20,
            throughput_records: 100_000,
            throughput_capacity: 64 << 20,
            clock_samples: 10_000,
        }
    }
}

/// What kind of measurement a scenario is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The stopwatch's own overhead.
    Clock,
    /// Per-call latency: API, threads, paced or not, destination.
    Latency(Api, usize, bool, Dest),
    /// Per-call latency with the queue's memory never touched before the
    /// measured calls (`warm_ring: false`), 1 thread, `log` facade.
    ColdRing,
    /// The `stalled-paced` loop (paced, slow calls attributed) calling a
    /// `log::Log` that does nothing: the machine's own slow calls.
    Control,
    /// Sustained throughput into a file, through this many pipelines, by
    /// the `log` facade or by the native macro.
    Throughput(usize, Api),
}

/// A named scenario.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// The name `--scenario` takes.
    pub name: &'static str,
    /// One line on what it measures.
    pub what: &'static str,
    /// What it runs.
    pub kind: Kind,
}

const fn lat(
    name: &'static str,
    what: &'static str,
    api: Api,
    threads: usize,
    paced: bool,
    dest: Dest,
) -> Scenario {
    Scenario {
        name,
        what,
        kind: Kind::Latency(api, threads, paced, dest),
    }
}

/// Every scenario, in the order a full run takes them.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "clock",
        what: "the stopwatch itself: two back-to-back readings (quanta raw counter; std Instant for comparison), and one `SystemTime::now()` (the clock jamless stamps records with)",
        kind: Kind::Clock,
    },
    lat("noop", "`log::info!` into a `log::Log` that ignores the record: the facade's floor (macro, level check, global dispatch, the harness's per-thread switch)", Api::Noop, 1, false, Dest::File),
    lat("format-only", "`log::info!` into a `log::Log` that formats the message into a reused buffer and discards it: the cost of formatting itself", Api::FormatOnly, 1, false, Dest::File),
    lat("empty", "an empty call in the timed loop (`black_box(id)`): the stopwatch and loop alone, the baseline of the native macro", Api::Empty, 1, false, Dest::File),
    lat("log-1t", "`log::info!` into jamless, file on disk, 1 thread back to back", Api::Log, 1, false, Dest::File),
    lat("native-1t", "`jamless::info!(logger: &adapter, ..)`, the native macro (arguments copied raw, the writer formats), same four arguments, file on disk, 1 thread back to back", Api::Native, 1, false, Dest::File),
    lat("native-2t", "the native macro, file on disk, 2 threads back to back", Api::Native, 2, false, Dest::File),
    Scenario {
        name: "log-1t-cold",
        what: "as `log-1t`, but the queue's memory is fresh: the measured calls are the first to touch the ring's pages (a service's first pass, or a cold start)",
        kind: Kind::ColdRing,
    },
    lat("log-1t-paced", "`log::info!` into jamless, file on disk, 1 thread, one call per pace (spin-paced)", Api::Log, 1, true, Dest::File),
    lat("log-2t", "`log::info!` into jamless, file on disk, 2 threads back to back", Api::Log, 2, false, Dest::File),
    lat("log-2t-paced", "`log::info!` into jamless, file on disk, 2 threads, each one call per pace", Api::Log, 2, true, Dest::File),
    lat("api-1t", "`Logger::log(Level::Info, target, format_args!(..))`, no facade, file on disk, 1 thread back to back", Api::Api, 1, false, Dest::File),
    lat("tracing-1t", "`tracing::info!(id, path, status, took_us, \"request\")` into `registry().with(logger.tracing_layer())`, 1 thread back to back", Api::Tracing, 1, false, Dest::File),
    lat("tracing-1t-paced", "the same tracing event, 1 thread, one call per pace", Api::Tracing, 1, true, Dest::File),
    lat("tracing-2t", "the same tracing event, 2 threads back to back", Api::Tracing, 2, false, Dest::File),
    lat("tracing-2t-paced", "the same tracing event, 2 threads, each one call per pace", Api::Tracing, 2, true, Dest::File),
    lat("log-1t-paced-rotating", "as `log-1t-paced`, but into a rotating file sink: a new file every second, closed files gzip-compressed on the housekeeper thread (compare with `log-1t-paced`)", Api::Log, 1, true, Dest::Rotating),
    lat("log-1t-3pipelines", "as `log-1t`, but the logger has three pipelines (the file, `/dev/null`, a second file): the dispatcher copies each record into three backlogs (compare with `log-1t`)", Api::Log, 1, false, Dest::ThreePipelines),
    lat("log-1t-paced-3pipelines", "as `log-1t-paced` with the three pipelines (compare with `log-1t-paced`)", Api::Log, 1, true, Dest::ThreePipelines),
    lat("log-1t-paced-pipeline-stalled", "as `log-1t-paced`, with a second pipeline writing to a FIFO whose reader never reads (a stopped collector): that pipeline drops alone, the file keeps every record", Api::Log, 1, true, Dest::PipelineStalled),
    lat("stalled", "`log::info!` into jamless writing to a FIFO whose reader never reads (writer blocked in write(2)), 1 thread back to back", Api::Log, 1, false, Dest::StalledFifo),
    lat("stalled-paced", "the stalled FIFO, 1 thread, one call per pace (long enough for the watchdog to declare the stall mid-run)", Api::Log, 1, true, Dest::StalledFifo),
    Scenario {
        name: "stalled-control",
        what: "the `stalled-paced` loop, context-switch counters read after every call and all, calling the no-op `log::Log` instead of jamless: the slow calls this machine causes by itself",
        kind: Kind::Control,
    },
    Scenario {
        name: "throughput",
        what: "1 thread logs N records through the `log` facade into a file; time until `flush` completes; lines counted in the file",
        kind: Kind::Throughput(1, Api::Log),
    },
    Scenario {
        name: "throughput-native",
        what: "as `throughput`, but through the native macro (`jamless::info!`): the writer formats each message",
        kind: Kind::Throughput(1, Api::Native),
    },
    Scenario {
        name: "throughput-2pipelines",
        what: "as `throughput`, but the logger has two pipelines, each writing its own file (the producer waits while a backlog is over half full)",
        kind: Kind::Throughput(2, Api::Log),
    },
];

/// Looks a scenario up by name.
pub fn find(name: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.name == name)
}

/// The latency configuration of a scenario under a plan.
pub fn latency_config(
    plan: &Plan,
    api: Api,
    threads: usize,
    paced: bool,
    dest: Dest,
) -> LatencyConfig {
    LatencyConfig {
        api,
        threads,
        calls: plan.calls,
        warmup: plan.warmup,
        warm_ring: true,
        attribute_slow: dest.stalls(),
        pace_ns: paced.then_some(plan.pace_ns),
        dest,
        capacity: match dest {
            Dest::File | Dest::Rotating | Dest::ThreePipelines | Dest::PipelineStalled => {
                plan.capacity
            }
            Dest::StalledFifo => plan.stalled_capacity,
        },
    }
}

/// Runs the scenarios in order, calling `progress` with a line after each
/// run (for stderr), and returns the report.
pub fn run_all(
    plan: &Plan,
    scenarios: &[&Scenario],
    quick: bool,
    mut progress: impl FnMut(&str),
) -> Result<Report, String> {
    let mut report = Report {
        generated_unix: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        quick,
        load_avg: [load_avg(), String::new()],
        clock: None,
        latency: Vec::new(),
        throughput: Vec::new(),
    };
    for s in scenarios {
        match s.kind {
            Kind::Clock => {
                let sw = Stopwatch::new();
                let q = Percentiles::of(&sw.overhead(plan.clock_samples));
                let i = Percentiles::of(&instant_overhead(plan.clock_samples));
                let st = Percentiles::of(&systemtime_cost(&sw, plan.clock_samples));
                progress(&format!(
                    "clock: quanta p50 {} ns, Instant p50 {} ns",
                    q.p50, i.p50
                ));
                report.clock = Some(ClockResult {
                    source: if sw.is_tsc() { "tsc" } else { "monotonic" }.to_string(),
                    ticks_per_us: sw.ticks_per_us(),
                    quanta: q,
                    instant: i,
                    systemtime: st,
                });
            }
            Kind::Latency(..) | Kind::ColdRing | Kind::Control => {
                let cfg = match s.kind {
                    Kind::Latency(api, threads, paced, dest) => {
                        latency_config(plan, api, threads, paced, dest)
                    }
                    Kind::ColdRing => LatencyConfig {
                        warm_ring: false,
                        ..latency_config(plan, Api::Log, 1, false, Dest::File)
                    },
                    _ => LatencyConfig {
                        attribute_slow: true,
                        ..latency_config(plan, Api::Noop, 1, true, Dest::File)
                    },
                };
                let mut runs = Vec::with_capacity(plan.runs);
                for i in 0..plan.runs {
                    let run = latency::run(&cfg)?;
                    let sum = RunSummary::of(&run);
                    progress(&format!(
                        "{} run {}/{}: p50 {} p99.9 {} max {} ns{}",
                        s.name,
                        i + 1,
                        plan.runs,
                        sum.latency.p50,
                        sum.latency.p999,
                        sum.latency.max,
                        sum.counts.as_ref().map_or(String::new(), |c| format!(
                            "; offered {} accepted {} rejected {} written {} state {}",
                            c.offered, c.accepted, c.rejected, c.written, c.state
                        ))
                    ));
                    runs.push(sum);
                }
                report
                    .latency
                    .push(LatencyResult::new(s.name, s.what, cfg, runs));
            }
            Kind::Throughput(pipelines, api) => {
                let cfg = ThroughputConfig {
                    api,
                    records: plan.throughput_records,
                    capacity: plan.throughput_capacity,
                    block_for: Duration::from_secs(10),
                    pipelines,
                };
                let mut runs = Vec::with_capacity(plan.runs);
                for i in 0..plan.runs {
                    let r = throughput::run(&cfg)?;
                    progress(&format!(
                        "throughput run {}/{}: {:.0} lines/s, {:.0} MB/s, verified {}",
                        i + 1,
                        plan.runs,
                        r.lines_per_sec(),
                        r.mb_per_sec(),
                        r.verified()
                    ));
                    runs.push(r);
                }
                report
                    .throughput
                    .push(ThroughputResult { config: cfg, runs });
            }
        }
    }
    report.load_avg[1] = load_avg();
    Ok(report)
}
