//! A tight loop of `Logger::log` calls, for profiling the caller path
//! (`perf record`, `valgrind --tool=callgrind`). Prints the health snapshot.
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000_000);
    let dir = std::env::temp_dir().join(format!("jamless-hot-{}", std::process::id()));
    let (logger, guard) = jamless::Builder::new()
        .file(dir.join("hot.log"))
        .capacity_bytes(
            std::env::args()
                .nth(2)
                .and_then(|s| s.parse().ok())
                .unwrap_or(8 << 20),
        )
        .overflow(jamless::Overflow::block_for(Duration::from_secs(1)))
        .shedding(None)
        .build()?;
    let t0 = Instant::now();
    for i in 0..n {
        logger.log(
            jamless::Level::Info,
            "bench",
            format_args!(
                "request id={} path={} status={} took_us={}",
                i, "/v1/items", 200, 1234
            ),
        );
    }
    let calls = t0.elapsed();
    let r = logger.flush(Duration::from_secs(60));
    println!(
        "{n} calls in {calls:?} ({:.1} ns/call); flushed after {:?} (complete: {})",
        calls.as_nanos() as f64 / n as f64,
        t0.elapsed(),
        r.complete
    );
    println!("{}", logger.health());
    drop(guard);
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}
