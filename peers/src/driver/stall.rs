//! Scenario 3: the log file is a FIFO nobody reads. The driver is the
//! watchdog: when every call has returned, or at the stall deadline, it
//! drains the FIFO (tallying what comes through) and gives the child the
//! release deadline to finish; a child still running then is killed as
//! hung.

use std::time::{Duration, Instant};

use crate::results::{Killed, StallOutcome, StallRun};
use crate::scenario::{Phase, Scenario};

use super::fifo::StalledFifo;
use super::{spawn, Ctx};

/// Runs the stall scenario for every peer.
pub fn run(ctx: &Ctx, peers: &[String]) -> anyhow::Result<Vec<StallRun>> {
    let s = &ctx.sizes;
    let mut out = Vec::new();
    for peer in peers {
        ctx.bar.set_message(format!("stall: {peer}"));
        let dir = ctx.tempdir("stall")?;
        let logs = dir.path().join("logs");
        std::fs::create_dir_all(&logs)?;
        let mut fifo = StalledFifo::create(&logs, "app.log")?;
        let mut args = ctx.args(peer, Scenario::Stall, dir.path(), fifo.path().to_path_buf());
        args.threads = s.stall_threads;
        args.records = s.stall_records;
        let issued = s.stall_records * s.stall_threads as u64;
        let mut child = spawn::start(&ctx.exe, args, dir.path().join("stderr.txt"))?;
        let stall = Duration::from_secs(s.stall_secs);
        let release = Duration::from_secs(s.release_secs);
        let started = Instant::now();
        let mut released_at: Option<Instant> = None;
        let mut at_release = None;
        let mut blocked = false;
        loop {
            if child.poll() {
                break;
            }
            if released_at.is_none() {
                let p = child.progress();
                let logged = p.as_ref().is_some_and(|p| {
                    matches!(p.phase, Phase::Logged | Phase::Finished) && p.calls >= issued
                });
                if logged || started.elapsed() > stall {
                    blocked = !logged;
                    at_release = p;
                    fifo.release();
                    released_at = Some(Instant::now());
                }
            } else if released_at.is_some_and(|r| r.elapsed() > release) {
                child.kill(Killed::Deadline);
                break;
            }
            if let Some(rss) = child.rss_kb() {
                if rss > s.mem_cap_kb {
                    child.kill(Killed::MemoryCap);
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let released_after_secs = released_at
            .map(|r| r.saturating_duration_since(started).as_secs_f64())
            .unwrap_or_else(|| started.elapsed().as_secs_f64());
        let child = child.collect();
        let tally = fifo.finish();
        let drained_unique = (0..s.stall_threads as u32)
            .map(|t| tally.unique_below(0, t, s.stall_records))
            .sum();
        let outcome = match child.killed {
            Some(Killed::Deadline) => StallOutcome::Hung,
            _ if !child.ok() => StallOutcome::Failed,
            _ if blocked => StallOutcome::Blocked,
            _ => StallOutcome::Completed,
        };
        ctx.tick(&format!("stall {peer}: {outcome:?}"));
        out.push(StallRun {
            child,
            outcome,
            at_release,
            released_after_secs,
            drained: tally.counts,
            drained_unique,
        });
    }
    Ok(out)
}
