//! A tight loop of log calls, for profiling the caller path (`perf record`,
//! `valgrind --tool=callgrind`). Prints the health snapshot.
//!
//! `hot_loop [CALLS] [CAPACITY_BYTES] [MODE]`, MODE one of:
//!
//! * `api` (default): `Logger::log` with `format_args!`;
//! * `log`: `log::info!` through jamless installed with `install_log`;
//! * `format`: `log::info!` into a `log::Log` that only formats the message
//!   into a reused thread-local buffer (the baseline);
//! * `noop`: `log::info!` into a `log::Log` that does nothing.
//!
//! Each call goes through one `#[inline(never)]` function per mode
//! (`call_api`, `call_log`), so a profile's inclusive cost of that
//! function divided by CALLS is the cost of one call. For instruction
//! counts per call on the caller thread only:
//!
//! ```text
//! valgrind --tool=callgrind --separate-threads=yes \
//!     target/release/examples/hot_loop 200000 268435456 log
//! callgrind_annotate --inclusive=yes callgrind.out.<pid>-01 | grep call_
//! ```
use std::cell::RefCell;
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

const PATH: &str = "/v1/items";

#[inline(never)]
fn call_api(logger: &jamless::Logger, i: u64) {
    logger.log(
        jamless::Level::Info,
        "bench",
        format_args!(
            "request id={} path={} status={} took_us={}",
            i, PATH, 200, 1234
        ),
    );
}

#[inline(never)]
fn call_log(i: u64) {
    log::info!(
        "request id={} path={} status={} took_us={}",
        i,
        PATH,
        200,
        1234
    );
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
    static SCRATCH: RefCell<String> = RefCell::new(String::with_capacity(512));
}

/// A `log::Log` that formats the message into a reused buffer, nothing else.
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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: u64 = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000_000);
    let capacity: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(8 << 20);
    let mode = args.next().unwrap_or_else(|| "api".to_string());
    let dir = std::env::temp_dir().join(format!("jamless-hot-{}", std::process::id()));
    let (logger, guard) = jamless::Builder::new()
        .file(dir.join("hot.log"))
        .filter("info")
        .capacity_bytes(capacity)
        .overflow(jamless::Overflow::block_for(Duration::from_secs(1)))
        .shedding(None)
        .build()?;
    match mode.as_str() {
        "api" => {}
        "log" => logger.install_log()?,
        "format" => {
            log::set_logger(&FormatLog)?;
            log::set_max_level(log::LevelFilter::Info);
        }
        "noop" => {
            log::set_logger(&NoopLog)?;
            log::set_max_level(log::LevelFilter::Info);
        }
        other => return Err(format!("unknown mode {other:?}").into()),
    }
    let t0 = Instant::now();
    if mode == "api" {
        for i in 0..n {
            call_api(&logger, i);
        }
    } else {
        for i in 0..n {
            call_log(i);
        }
    }
    let calls = t0.elapsed();
    let r = logger.flush(Duration::from_secs(60));
    println!(
        "{mode}: {n} calls in {calls:?} ({:.1} ns/call); flushed after {:?} (complete: {})",
        calls.as_nanos() as f64 / n as f64,
        t0.elapsed(),
        r.complete
    );
    println!("{}", logger.health());
    drop(guard);
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}
