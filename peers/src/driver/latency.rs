//! Scenario 1: caller latency. Every round runs every peer once per thread
//! count, back to back, so ratios can be taken within a round.

use crate::results::LatencyRun;
use crate::scenario::Scenario;

use super::{spawn, Ctx};

/// Runs all rounds.
pub fn run(ctx: &Ctx, peers: &[String]) -> anyhow::Result<Vec<LatencyRun>> {
    let s = &ctx.sizes;
    let mut out = Vec::new();
    for round in 0..s.runs {
        for &threads in &s.latency_threads {
            for peer in peers {
                ctx.bar.set_message(format!(
                    "latency round {}/{} {threads}t: {peer}",
                    round + 1,
                    s.runs
                ));
                let dir = ctx.tempdir("latency")?;
                let mut args = ctx.args(
                    peer,
                    Scenario::Latency,
                    dir.path(),
                    dir.path().join("app.log"),
                );
                args.threads = threads;
                args.records = s.latency_calls;
                args.warmup = s.latency_warmup;
                args.pace_ns = s.pace_ns;
                // No progress thread competing with the measured calls.
                args.progress = None;
                let stderr = dir.path().join("stderr.txt");
                let child =
                    spawn::start(&ctx.exe, args, stderr)?.wait(ctx.deadline(), Some(s.mem_cap_kb));
                ctx.tick(&format!(
                    "latency round {} {threads}t {peer}: {}",
                    round + 1,
                    child.failure().unwrap_or_else(|| "ok".into())
                ));
                out.push(LatencyRun {
                    threads,
                    round,
                    child,
                });
            }
        }
    }
    Ok(out)
}
