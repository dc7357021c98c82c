//! The child process: installs one peer, runs one scenario, reports.

mod drive;
mod progress;

use std::sync::Barrier;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context as _};
use hdrhistogram::Histogram;

use crate::clock::{curve, new_histogram, Percentiles, Stopwatch};
use crate::peer::{Peer, Setup};
use crate::procfs::{vm_hwm_kb, vm_rss_kb};
use crate::scenario::{ChildArgs, ChildResult, Phase, Scenario};

pub use drive::{drive, Caller, Live, Pacing};
use progress::Reporter;

/// What one logging thread measured.
struct Measured {
    hist: Histogram<u64>,
    start: Instant,
    end: Instant,
}

/// Runs the scenario `args` asks for and returns the result (the caller
/// writes it).
pub fn run(args: &ChildArgs) -> anyhow::Result<ChildResult> {
    if args.threads == 0 {
        return Err(anyhow!("--threads must be at least 1"));
    }
    let sw = Stopwatch::new();
    let stopwatch = Percentiles::of(&sw.overhead(100_000));
    let setup = Setup {
        path: args.path.clone(),
        rotate: args.scenario == Scenario::Rotation,
        threads: args.threads,
        rotate_bytes: args.rotate_bytes,
    };
    let installed = Instant::now();
    let peer = crate::peers::init(&args.peer, &setup)
        .map_err(|e| anyhow!("cannot install peer {}: {e}", args.peer))?;
    let rss_start = vm_rss_kb();
    let reporter = Reporter::new(args.progress.clone(), args.threads, rss_start, installed);
    reporter.write(Phase::Starting, &*peer);

    let pacing = match args.scenario {
        Scenario::Latency if args.pace_ns > 0 => Pacing::Spin(args.pace_ns),
        Scenario::Rotation if args.rate > 0 => Pacing::Rate(args.rate),
        _ => Pacing::Full,
    };
    let warmup = if args.scenario == Scenario::Latency {
        args.warmup
    } else {
        0
    };
    let barrier = Barrier::new(args.threads + 1);
    let (measured, dropped_start, dropped_logged) = std::thread::scope(|s| {
        let peer: &dyn Peer = &*peer;
        let handles: Vec<_> = (0..args.threads)
            .map(|t| {
                let (sw, barrier, live) = (&sw, &barrier, reporter.live());
                let who = Caller {
                    proc_id: args.proc_id,
                    thread: t as u32,
                };
                std::thread::Builder::new()
                    .name(format!("caller-{t}"))
                    .spawn_scoped(s, move || {
                        let mut hist = new_histogram();
                        if warmup > 0 {
                            drive(peer, sw, who, 0..warmup, pacing, &mut hist, live);
                            hist.reset();
                        }
                        barrier.wait(); // warmed up
                        barrier.wait(); // go
                        let start = Instant::now();
                        let seqs = warmup..warmup + args.records;
                        drive(peer, sw, who, seqs, pacing, &mut hist, live);
                        Measured {
                            hist,
                            start,
                            end: Instant::now(),
                        }
                    })
            })
            .collect::<Result<_, _>>()?;
        reporter.spawn(s, peer, Phase::Warmup);
        barrier.wait();
        if warmup > 0 {
            // Let the peer's background thread write the warm-up records
            // before the measured calls begin (no peer-neutral flush).
            std::thread::sleep(Duration::from_millis(200));
        }
        let dropped_start = peer.dropped_so_far();
        reporter.set_phase(Phase::Logging);
        barrier.wait();
        let mut measured = Vec::new();
        for h in handles {
            measured.push(
                h.join()
                    .map_err(|_| std::io::Error::other("a logging thread panicked"))?,
            );
        }
        let dropped_logged = peer.dropped_so_far();
        reporter.stop();
        Ok::<_, std::io::Error>((measured, dropped_start, dropped_logged))
    })
    .context("logging threads")?;
    let hwm_logged_kb = vm_hwm_kb();
    reporter.write(Phase::Logged, &*peer);

    let mut hist = new_histogram();
    for m in &measured {
        hist.add(&m.hist).map_err(|e| anyhow!("histogram: {e:?}"))?;
    }
    let first = measured.iter().map(|m| m.start).min();
    let last = measured.iter().map(|m| m.end).max();
    let (first, last) = first.zip(last).ok_or_else(|| anyhow!("no threads"))?;
    let finish = peer.finish();
    let finished = Instant::now();
    let lines_at_finish = if args.scenario == Scenario::Throughput {
        Some(crate::lines::count_newlines(&args.path).context("count lines at finish")?)
    } else {
        None
    };
    reporter.write_finished(finish.dropped);
    let log_secs = last.saturating_duration_since(first).as_secs_f64();
    Ok(ChildResult {
        args: args.clone(),
        issued: (warmup + args.records) * args.threads as u64,
        latency: Percentiles::of(&hist),
        curve: curve(&hist),
        calls_per_sec: hist.len() as f64 / log_secs.max(1e-9),
        dropped_start,
        dropped_logged,
        dropped_final: finish.dropped,
        log_secs,
        total_secs: finished.saturating_duration_since(first).as_secs_f64(),
        lines_at_finish,
        rss_start_kb: rss_start,
        hwm_logged_kb,
        hwm_kb: vm_hwm_kb(),
        tsc: sw.is_tsc(),
        stopwatch,
    })
}
