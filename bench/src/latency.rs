//! One latency run: producer threads time every single call into a
//! histogram, at full speed or spin-paced, and the logger's health
//! counters say what became of the records.

use std::path::PathBuf;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use jamless::{Builder, HealthSnapshot, Logger, Overflow};
use tracing_subscriber::layer::SubscriberExt;

use crate::call::{self, Api};
use crate::clock::{new_histogram, Stopwatch, ThreadStats};
use crate::fifo::StalledFifo;
use crate::report::STALL_MAX_TARGET_NS;
use crate::switch::{self, Target};

/// Where a jamless logger writes during a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dest {
    /// A file in a fresh temporary directory on disk.
    File,
    /// A FIFO whose reader never reads (see [`StalledFifo`]).
    StalledFifo,
    /// A rotating file sink in a fresh temporary directory: a new file every
    /// second, closed files gzip-compressed by the housekeeper (1 s grace).
    Rotating,
    /// Three pipelines: the file, `/dev/null` (standing in for a stdout
    /// that a container runtime drains at once) and a second file.
    ThreePipelines,
    /// Two pipelines: the file, and a FIFO whose reader never reads (a
    /// stopped collector); the FIFO's pipeline is not essential.
    PipelineStalled,
}

impl Dest {
    /// Whether part of the destination never drains (flushes cannot
    /// complete; the run ends by releasing the FIFO).
    pub fn stalls(self) -> bool {
        matches!(self, Dest::StalledFifo | Dest::PipelineStalled)
    }
}

/// What one latency run does.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LatencyConfig {
    /// The API the producers call.
    pub api: Api,
    /// Producer threads.
    pub threads: usize,
    /// Measured calls per thread.
    pub calls: u64,
    /// Unmeasured calls per thread before the measured ones.
    pub warmup: u64,
    /// Also warm the queue's memory: before measuring, push enough
    /// records through the ring to pass its whole capacity (flushing as it
    /// goes), so that the measured calls find its pages already mapped. A
    /// long-running service pays those first-touch page faults once; a
    /// cold run shows them on its callers. Ignored for a stalled FIFO,
    /// whose ring can only fill once.
    pub warm_ring: bool,
    /// Read the thread's context-switch counters after every call (outside
    /// the timed region) to tell a slow call the thread was switched out
    /// during from one it was not. Costs a syscall per call, so only the
    /// stalled-sink scenarios, whose target is a maximum, use it.
    pub attribute_slow: bool,
    /// `Some(ns)`: one call every `ns` nanoseconds per thread, spin-paced;
    /// `None`: back to back.
    pub pace_ns: Option<u64>,
    /// Where the logger writes.
    pub dest: Dest,
    /// The queue's capacity in bytes.
    pub capacity: usize,
}

/// The logger's counters over the measured calls (differences of two
/// health snapshots).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Records offered by the measured calls.
    pub offered: u64,
    /// Of those, admitted into the queue.
    pub accepted: u64,
    /// Of those, refused at the call (sum of the causes below).
    pub rejected: u64,
    /// Refused: queue full.
    pub queue_full: u64,
    /// Refused: level shedding above the watermark.
    pub shed: u64,
    /// Refused: waited for room until the timeout.
    pub timed_out: u64,
    /// Records written by the time the final flush returned (for a stalled
    /// FIFO this includes the warm-up records, which were still queued
    /// when the measured calls began).
    pub written: u64,
    /// Accepted, then lost (I/O failure, panic, internal).
    pub dropped_after_accept: u64,
    /// The logger's state right after the last measured call.
    pub state: String,
}

impl Counts {
    fn between(
        before: &HealthSnapshot,
        after: &HealthSnapshot,
        flushed: &HealthSnapshot,
    ) -> Counts {
        Counts {
            offered: after.offered - before.offered,
            accepted: after.accepted - before.accepted,
            rejected: after.rejected - before.rejected,
            queue_full: after.drops.queue_full - before.drops.queue_full,
            shed: after.drops.shed - before.drops.shed,
            timed_out: after.drops.timed_out - before.drops.timed_out,
            written: flushed.written - before.written,
            dropped_after_accept: flushed.dropped_after_accept - before.dropped_after_accept,
            state: after.state.to_string(),
        }
    }

    /// Refused records as a fraction of offered ones.
    pub fn drop_ratio(&self) -> f64 {
        if self.offered == 0 {
            0.0
        } else {
            self.rejected as f64 / self.offered as f64
        }
    }
}

/// What one run measured.
#[derive(Debug, Clone)]
pub struct Run {
    /// Every measured call's latency in ns, all threads merged.
    pub hist: Histogram<u64>,
    /// Counters over the measured calls (`None` for the baselines).
    pub counts: Option<Counts>,
    /// From the start of the measured calls until the last thread ended.
    pub wall: Duration,
    /// Page faults and context switches of the producer threads during
    /// the measured calls (timing and histogram recording included),
    /// summed over threads.
    pub callers: ThreadStats,
    /// With `attribute_slow`: calls above 50 µs during which the thread
    /// was not switched out (summed over threads).
    pub slow_unswitched: Option<u64>,
    /// With `attribute_slow`: the slowest of those, in ns.
    pub worst_unswitched_ns: Option<u64>,
    /// Steal time of the whole machine (the hypervisor running someone
    /// else on our CPUs) during the measured calls, in ms.
    pub steal_ms: Option<u64>,
}

/// The machine's total steal time so far, in clock ticks (the `cpu` line
/// of `/proc/stat`, 8th value).
fn steal_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines().next()?.split_whitespace().nth(8)?.parse().ok()
}

/// Clock ticks per second of `/proc/stat` (USER_HZ).
fn clock_ticks_per_sec() -> u64 {
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as u64
    } else {
        100
    }
}

/// Warm-up calls per thread between two flushes (a few MB of records).
const WARMUP_FLUSH_EVERY: u64 = 20_000;

/// Where runs put their temporary directories: `$JAMLESS_BENCH_DIR`, else
/// the system's temporary directory.
pub fn scratch_root() -> PathBuf {
    std::env::var_os("JAMLESS_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
}

/// Builds the logger a run uses: the defaults (drop-newest, shedding below
/// `WARN` above 80% full), a filter of `info`, and `cfg.capacity`.
fn build_logger(cfg: &LatencyConfig, path: PathBuf) -> Result<(Logger, jamless::Guard), String> {
    let mut b = Builder::new().name("bench");
    b = if cfg.dest == Dest::PipelineStalled {
        // `path` is the FIFO; the file sits beside it.
        let file = path.with_file_name("bench.log");
        b.pipeline(jamless::Pipeline::new(
            "file",
            jamless::FileSinkBuilder::new(file).build(),
        ))
        .pipeline(
            jamless::Pipeline::new("stalled", jamless::FileSinkBuilder::new(&path).build())
                .fallback(None)
                .essential(false),
        )
    } else if cfg.dest == Dest::ThreePipelines {
        let second = path.with_file_name("second.log");
        b.pipeline(jamless::Pipeline::new(
            "file",
            jamless::FileSinkBuilder::new(&path).build(),
        ))
        .pipeline(jamless::Pipeline::new(
            "devnull",
            jamless::FileSinkBuilder::new("/dev/null").build(),
        ))
        .pipeline(jamless::Pipeline::new(
            "second",
            jamless::FileSinkBuilder::new(second).build(),
        ))
    } else if cfg.dest == Dest::Rotating {
        let dir = path.parent().map(PathBuf::from).unwrap_or_default();
        let sink = jamless::RotatingFileSink::builder(jamless::Naming::new(dir, "bench"))
            .rotation(
                jamless::Rotation::every(Duration::from_secs(1))
                    .map_err(|e| format!("rotation: {e}"))?,
            )
            .retention(
                jamless::Retention::new()
                    .compress(jamless::Compression::Gzip)
                    .grace(Duration::from_secs(1)),
            )
            .build()
            .map_err(|e| format!("rotating sink: {e}"))?;
        b.sink(sink)
    } else {
        b.file(path)
    };
    let mut b = b
        .filter("info")
        .capacity_bytes(cfg.capacity)
        .overflow(Overflow::drop_newest());
    if cfg.dest.stalls() {
        // Nothing to fall back to, and declare the stall early so the run
        // sees the state change while it logs.
        b = b
            .fallback(None)
            .stall_timeout(Duration::from_millis(100))
            .watch_interval(Duration::from_millis(20));
    }
    b.build()
        .map_err(|e| format!("cannot build the logger: {e}"))
}

/// Runs `cfg` once.
pub fn run(cfg: &LatencyConfig) -> Result<Run, String> {
    switch::install()?;
    if cfg.threads == 0 {
        return Err("threads must be at least 1".into());
    }
    let sw = Stopwatch::new();
    let dir = tempfile::Builder::new()
        .prefix("jamless-bench-")
        .tempdir_in(scratch_root())
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let mut fifo = None;
    let built = if cfg.api.uses_jamless() {
        let path = match cfg.dest {
            Dest::File | Dest::Rotating | Dest::ThreePipelines => dir.path().join("bench.log"),
            Dest::StalledFifo | Dest::PipelineStalled => {
                let f = StalledFifo::create(dir.path(), "stalled.log")
                    .map_err(|e| format!("mkfifo: {e}"))?;
                let p = f.path().to_path_buf();
                fifo = Some(f);
                p
            }
        };
        Some(build_logger(cfg, path)?)
    } else {
        None
    };
    let logger = built.as_ref().map(|(l, _)| l.clone());
    let adapter = match (&logger, cfg.api) {
        (Some(l), Api::Log) => Some(Arc::new(
            l.log_adapter().map_err(|e| format!("log adapter: {e}"))?,
        )),
        _ => None,
    };

    let barrier = Barrier::new(cfg.threads + 1);
    let (hists, before, after, wall, steal) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..cfg.threads)
            .map(|t| {
                let target = match cfg.api {
                    Api::Noop => Target::Noop,
                    Api::FormatOnly => Target::FormatOnly,
                    Api::Log => adapter.clone().map(Target::Jamless).unwrap_or_default(),
                    Api::Api | Api::Tracing | Api::Native | Api::Empty => Target::Nothing,
                };
                let (logger, barrier, sw) = (logger.clone(), &barrier, &sw);
                std::thread::Builder::new()
                    .name(format!("producer-{t}"))
                    .spawn_scoped(s, move || {
                        producer(cfg, t as u64, target, logger, barrier, sw)
                    })
                    .expect("spawn a producer thread")
            })
            .collect();
        barrier.wait(); // every producer has warmed up
        let before = logger.as_ref().map(|l| {
            // Start from an empty queue so the warm-up does not count (a
            // stalled sink never empties it: do not wait for that).
            if !cfg.dest.stalls() {
                l.flush(Duration::from_secs(60));
            }
            l.health()
        });
        let steal0 = steal_ticks();
        barrier.wait(); // go
        let mut hists = Vec::with_capacity(cfg.threads);
        for h in handles {
            hists.push(h.join().expect("a producer thread panicked"));
        }
        let steal = steal0.zip(steal_ticks()).map(|(a, b)| b.saturating_sub(a));
        let after = logger.as_ref().map(|l| l.health());
        // From the first producer's first measured call to the last one's
        // last.
        let first = hists.iter().map(|m: &Measured| m.start).min();
        let last = hists.iter().map(|m: &Measured| m.end).max();
        let wall = match (first, last) {
            (Some(a), Some(b)) => b.saturating_duration_since(a),
            _ => Duration::ZERO,
        };
        (hists, before, after, wall, steal)
    });

    let mut hist = new_histogram();
    let mut callers = ThreadStats::default();
    for m in &hists {
        hist.add(&m.hist).map_err(|e| format!("histogram: {e:?}"))?;
        callers = callers.plus(m.stats);
    }
    let counts = match (built, before, after) {
        (Some((logger, guard)), Some(before), Some(after)) => {
            let flushed = match fifo.take() {
                Some(mut f) => {
                    // Let the blocked writer go, then stop.
                    f.release();
                    let _ = guard.shutdown(Duration::from_secs(30));
                    let h = logger.health();
                    f.finish();
                    h
                }
                None => {
                    let _ = logger.flush(Duration::from_secs(60));
                    let h = logger.health();
                    let _ = guard.shutdown(Duration::from_secs(30));
                    h
                }
            };
            Some(Counts::between(&before, &after, &flushed))
        }
        _ => None,
    };
    switch::set_target(Target::Nothing);
    let attributed = cfg.attribute_slow;
    Ok(Run {
        hist,
        counts,
        wall,
        callers,
        slow_unswitched: attributed.then(|| hists.iter().map(|m| m.slow_unswitched).sum()),
        worst_unswitched_ns: attributed.then(|| {
            hists
                .iter()
                .map(|m| m.worst_unswitched_ns)
                .max()
                .unwrap_or(0)
        }),
        steal_ms: steal.map(|t| t * 1000 / clock_ticks_per_sec()),
    })
}

/// What one producer thread measured.
struct Measured {
    hist: Histogram<u64>,
    stats: ThreadStats,
    slow_unswitched: u64,
    worst_unswitched_ns: u64,
    start: Instant,
    end: Instant,
}

/// One producer thread: warm up, wait for the start, time each call.
fn producer(
    cfg: &LatencyConfig,
    index: u64,
    target: Target,
    logger: Option<Logger>,
    barrier: &Barrier,
    sw: &Stopwatch,
) -> Measured {
    // Distinct ids per thread, as distinct requests would have.
    let base = index * 1_000_000_000_000;
    match cfg.api {
        Api::Noop | Api::FormatOnly | Api::Log => {
            switch::set_target(target);
            let h = timed_loop(cfg, logger.as_ref(), barrier, sw, |i| {
                call::log_facade(base + i)
            });
            switch::set_target(Target::Nothing);
            h
        }
        Api::Api => {
            let logger = logger.expect("the api scenario has a logger");
            timed_loop(cfg, Some(&logger), barrier, sw, |i| {
                std::hint::black_box(call::logger_api(&logger, base + i));
            })
        }
        Api::Native => {
            let logger = logger.expect("the native scenario has a logger");
            let adapter = logger
                .log_adapter()
                .expect("the harness's directives parse");
            timed_loop(cfg, Some(&logger), barrier, sw, |i| {
                call::native_macro(&adapter, base + i)
            })
        }
        Api::Empty => timed_loop(cfg, None, barrier, sw, |i| {
            std::hint::black_box(i);
        }),
        Api::Tracing => {
            let logger = logger.expect("the tracing scenario has a logger");
            let subscriber = tracing_subscriber::registry().with(logger.tracing_layer());
            tracing::subscriber::with_default(subscriber, || {
                timed_loop(cfg, Some(&logger), barrier, sw, |i| {
                    call::tracing_event(base + i)
                })
            })
        }
    }
}

/// Warms up, meets the others at the barrier twice (warmed up, go), then
/// times `cfg.calls` calls of `f`, each on its own.
fn timed_loop(
    cfg: &LatencyConfig,
    logger: Option<&Logger>,
    barrier: &Barrier,
    sw: &Stopwatch,
    mut f: impl FnMut(u64),
) -> Measured {
    let warmup = match logger {
        Some(_) if cfg.warm_ring && !cfg.dest.stalls() => {
            // Records are well over 100 bytes, so this passes the whole
            // ring at least once.
            cfg.warmup
                .max(cfg.capacity as u64 / 100 / cfg.threads as u64)
        }
        _ => cfg.warmup,
    };
    for i in 0..warmup {
        f(u64::MAX / 2 + i);
        if (i + 1) % WARMUP_FLUSH_EVERY == 0 {
            if let Some(l) = logger {
                // Keep the queue below the shedding watermark.
                l.flush(Duration::from_secs(30));
            }
        }
    }
    let mut hist = new_histogram();
    barrier.wait();
    barrier.wait();
    let stats = ThreadStats::now();
    let start = Instant::now();
    let (mut slow_unswitched, mut worst_unswitched_ns) = (0u64, 0u64);
    let mut prev = stats;
    let mut one = |i: u64| {
        let t0 = sw.raw();
        f(i);
        let t1 = sw.raw();
        let ns = sw.nanos(t0, t1).max(1);
        hist.saturating_record(ns);
        if cfg.attribute_slow {
            let now = ThreadStats::now();
            let switched = now.voluntary_switches != prev.voluntary_switches
                || now.involuntary_switches != prev.involuntary_switches;
            if ns > STALL_MAX_TARGET_NS && !switched {
                slow_unswitched += 1;
                worst_unswitched_ns = worst_unswitched_ns.max(ns);
            }
            prev = now;
        }
    };
    match cfg.pace_ns {
        None => {
            for i in 0..cfg.calls {
                one(i);
            }
        }
        Some(ns) => {
            let period = sw.ticks_for_ns(ns);
            let mut next = sw.raw();
            for i in 0..cfg.calls {
                next += period;
                let mut now = sw.raw();
                while now < next {
                    std::hint::spin_loop();
                    now = sw.raw();
                }
                // Late by more than a period (preempted, or the call took
                // long): start a new schedule instead of bursting to
                // catch up, so every call keeps its pace.
                if now - next > period {
                    next = now;
                }
                one(i);
            }
        }
    }
    let end = Instant::now();
    Measured {
        hist,
        stats: ThreadStats::now().since(stats),
        slow_unswitched,
        worst_unswitched_ns,
        start,
        end,
    }
}
