//! Criterion benches of the caller's path: what one typical `info!` with
//! four arguments costs the thread that logs it.
//!
//! * `log_facade/jamless`: `log::info!` through jamless installed as the
//!   global `log` logger (`Logger::install_log`, once per process).
//! * `log_facade/jamless_direct`, `noop`, `format_only`: the same record
//!   handed to a `&dyn log::Log` directly (as the macro does after its
//!   level check): jamless's adapter, a logger that does nothing, and one
//!   that only formats the message into a reused buffer. The differences
//!   are jamless's own cost and the cost of formatting itself.
//! * `logger_api/jamless`: the same record through `Logger::log`.
//! * `tracing/jamless_layer`: `tracing::info!(id, path, status, took_us,
//!   "request")` through `registry().with(logger.tracing_layer())` as the
//!   thread's default subscriber; `tracing/registry_only` is the registry
//!   without the layer.
//!
//! The file sink writes into a temporary directory on disk; the queue is
//! 64 MiB, and a ring's worth of records passes through it before the
//! first bench so that no bench pays the first touch of its pages. So that the benches time admissions and not drops, the calls
//! are timed in chunks of at most `CHUNK` calls with an untimed
//! `Logger::flush` between chunks, and each group prints the health
//! counters it caused (offered, accepted, dropped and the drop ratio).
//!
//! Run: `cargo bench -p jamless --bench hot_path` (add `-- --quick` for a
//! short run).

use std::cell::Cell;
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use jamless::{Builder, Guard, HealthSnapshot, Level, Logger};
use tracing_subscriber::layer::SubscriberExt;

/// Queue capacity: big enough that a chunk of calls never fills it.
const CAPACITY: usize = 64 << 20;
/// Calls between two untimed flushes (about 10–20 MB of records).
const CHUNK: u64 = 100_000;
const PATH: &str = "/v1/items";

struct Fixture {
    logger: Logger,
    guard: Option<Guard>,
    _dir: tempfile::TempDir,
    /// Calls since the last flush.
    pending: Cell<u64>,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("temporary directory");
        let (logger, guard) = Builder::new()
            .name("hot-path")
            .file(dir.path().join("hot_path.log"))
            .filter("info")
            .capacity_bytes(CAPACITY)
            .build()
            .expect("build the logger");
        // Push the whole ring's worth of records through once, so that no
        // bench pays the first touch of the queue's pages (a long-running
        // service pays it once).
        for i in 0..(CAPACITY / 64) as u64 {
            let _ = logger.log(Level::Info, "warm_up", format_args!("warm-up {i}"));
            if i % CHUNK == CHUNK - 1 {
                logger.flush(Duration::from_secs(60));
            }
        }
        logger.flush(Duration::from_secs(60));
        Fixture {
            logger,
            guard: Some(guard),
            _dir: dir,
            pending: Cell::new(0),
        }
    }

    /// Times `iters` calls of `f`; the flushes that keep the queue from
    /// filling happen between timed chunks. `flushing` is false for the
    /// baselines, which do not log into jamless.
    fn time(&self, iters: u64, flushing: bool, mut f: impl FnMut(u64)) -> Duration {
        let mut total = Duration::ZERO;
        let mut done = 0;
        while done < iters {
            let n = (iters - done).min(CHUNK.saturating_sub(self.pending.get()).max(1));
            let t0 = Instant::now();
            for i in done..done + n {
                f(i);
            }
            total += t0.elapsed();
            done += n;
            if flushing {
                self.pending.set(self.pending.get() + n);
                if self.pending.get() >= CHUNK {
                    self.logger.flush(Duration::from_secs(60));
                    self.pending.set(0);
                }
            }
        }
        total
    }

    /// Prints what a group did to the logger's counters.
    fn report(&self, group: &str, before: &HealthSnapshot) {
        self.logger.flush(Duration::from_secs(60));
        self.pending.set(0);
        let h = self.logger.health();
        let offered = h.offered - before.offered;
        let dropped = h.dropped() - before.dropped();
        let ratio = if offered == 0 {
            0.0
        } else {
            dropped as f64 / offered as f64
        };
        println!(
            "health after {group}: offered {offered} accepted {} dropped {dropped} (ratio {:.4}%: queue full {}, shed {}) written {} state {}",
            h.accepted - before.accepted,
            ratio * 100.0,
            h.drops.queue_full - before.drops.queue_full,
            h.drops.shed - before.drops.shed,
            h.written - before.written,
            h.state,
        );
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(g) = self.guard.take() {
            let _ = g.shutdown(Duration::from_secs(10));
        }
    }
}

/// A `log::Log` that does nothing with the record.
struct NoopLog;

impl log::Log for NoopLog {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        black_box(record);
    }
    fn flush(&self) {}
}

thread_local! {
    static SCRATCH: std::cell::RefCell<String> = std::cell::RefCell::new(String::with_capacity(512));
}

/// A `log::Log` that formats the message into a reused thread-local buffer
/// and discards it.
struct FormatLog;

impl log::Log for FormatLog {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        SCRATCH.with(|s| {
            let mut buf = s.borrow_mut();
            buf.clear();
            let _ = buf.write_fmt(*record.args());
            black_box(&*buf);
        });
    }
    fn flush(&self) {}
}

/// What `log::info!` hands the global logger after its level check.
#[inline(always)]
fn direct(logger: &dyn log::Log, id: u64) {
    logger.log(
        &log::Record::builder()
            .level(log::Level::Info)
            .target(module_path!())
            .module_path_static(Some(module_path!()))
            .file_static(Some(file!()))
            .line(Some(line!()))
            .args(format_args!(
                "request id={} path={} status={} took_us={}",
                id, PATH, 200, 1234
            ))
            .build(),
    );
}

fn log_facade(c: &mut Criterion, fx: &Fixture) {
    let adapter = fx.logger.log_adapter().expect("log adapter");
    let before = fx.logger.health();
    let mut g = c.benchmark_group("log_facade");
    g.bench_function("jamless", |b| {
        b.iter_custom(|iters| {
            fx.time(iters, true, |id| {
                log::info!(
                    "request id={} path={} status={} took_us={}",
                    id,
                    PATH,
                    200,
                    1234
                )
            })
        })
    });
    g.bench_function("jamless_direct", |b| {
        b.iter_custom(|iters| fx.time(iters, true, |id| direct(black_box(&adapter), id)))
    });
    g.bench_function("noop", |b| {
        b.iter_custom(|iters| fx.time(iters, false, |id| direct(black_box(&NoopLog), id)))
    });
    g.bench_function("format_only", |b| {
        b.iter_custom(|iters| fx.time(iters, false, |id| direct(black_box(&FormatLog), id)))
    });
    g.finish();
    fx.report("log_facade", &before);
}

/// jamless's native macro (global logger, installed by `install_log`), and
/// a disabled call of it next to a disabled `log::debug!`.
fn native_macro(c: &mut Criterion, fx: &Fixture) {
    let before = fx.logger.health();
    let mut g = c.benchmark_group("native");
    g.bench_function("jamless", |b| {
        b.iter_custom(|iters| {
            fx.time(iters, true, |id| {
                jamless::info!(
                    "request id={} path={} status={} took_us={}",
                    id,
                    PATH,
                    200,
                    1234
                )
            })
        })
    });
    g.bench_function("disabled_native", |b| {
        b.iter_custom(|iters| fx.time(iters, false, |id| jamless::debug!("request id={}", id)))
    });
    g.bench_function("disabled_log", |b| {
        b.iter_custom(|iters| fx.time(iters, false, |id| log::debug!("request id={}", id)))
    });
    g.finish();
    fx.report("native", &before);
}

fn logger_api(c: &mut Criterion, fx: &Fixture) {
    let before = fx.logger.health();
    let mut g = c.benchmark_group("logger_api");
    g.bench_function("jamless", |b| {
        b.iter_custom(|iters| {
            fx.time(iters, true, |id| {
                black_box(fx.logger.log(
                    Level::Info,
                    "hot_path",
                    format_args!(
                        "request id={} path={} status={} took_us={}",
                        id, PATH, 200, 1234
                    ),
                ));
            })
        })
    });
    g.finish();
    fx.report("logger_api", &before);
}

#[inline(always)]
fn tracing_event(id: u64) {
    let path = PATH;
    let status: u64 = 200;
    let took_us: u64 = 1234;
    tracing::info!(id, path, status, took_us, "request");
}

fn tracing_layer(c: &mut Criterion, fx: &Fixture) {
    let before = fx.logger.health();
    let mut g = c.benchmark_group("tracing");
    {
        let subscriber = tracing_subscriber::registry().with(fx.logger.tracing_layer());
        let _default = tracing::subscriber::set_default(subscriber);
        g.bench_function("jamless_layer", |b| {
            b.iter_custom(|iters| fx.time(iters, true, tracing_event))
        });
    }
    {
        let _default = tracing::subscriber::set_default(tracing_subscriber::registry());
        g.bench_function("registry_only", |b| {
            b.iter_custom(|iters| fx.time(iters, false, tracing_event))
        });
    }
    g.finish();
    fx.report("tracing", &before);
}

fn hot_path(c: &mut Criterion) {
    let fx = Fixture::new();
    fx.logger.install_log().expect("install the log facade");
    println!(
        "queue {} MiB, untimed flush every {CHUNK} calls, log file in a temporary directory",
        CAPACITY >> 20
    );
    log_facade(c, &fx);
    native_macro(c, &fx);
    logger_api(c, &fx);
    tracing_layer(c, &fx);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = hot_path
}
criterion_main!(benches);
