//! Scenario 4: several processes per peer log sequence-numbered records to
//! one base path with the peer's most frequent rotation. All peers run at
//! once (each in its own directory), started so that the run straddles a
//! minute boundary (for peers that rotate at most minutely); afterwards
//! every file is read back.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::lines::scan_dir;
use crate::results::{RotationProc, RotationRun};
use crate::scenario::Scenario;

use super::{spawn, Ctx};

/// How long to wait so that a run of `secs` seconds started then has a
/// minute boundary in its middle.
fn wait_for_boundary(secs: u64) -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let half = Duration::from_secs(secs) / 2 + Duration::from_secs(1);
    let into = Duration::from_nanos((now.as_nanos() % 60_000_000_000) as u64);
    let minute = Duration::from_secs(60);
    // Start at (next boundary - half); if that has passed, a minute later.
    let to_next = minute - into;
    if to_next >= half + Duration::from_millis(500) {
        to_next - half
    } else {
        to_next + minute - half
    }
}

/// Runs the rotation scenario for every peer at once.
pub fn run(ctx: &Ctx, peers: &[String]) -> anyhow::Result<Vec<RotationRun>> {
    let s = &ctx.sizes;
    let records = s.rotation_rate * s.rotation_secs;
    let mut dirs = Vec::new();
    for _ in peers {
        dirs.push(ctx.tempdir("rotation")?);
    }
    if s.align {
        let wait = wait_for_boundary(s.rotation_secs);
        ctx.bar.set_message(format!(
            "rotation: waiting {:.0} s to straddle a minute boundary",
            wait.as_secs_f64()
        ));
        std::thread::sleep(wait);
    }
    ctx.bar
        .set_message(format!("rotation: {} peers at once", peers.len()));
    let mut running = Vec::new();
    for (peer, dir) in peers.iter().zip(&dirs) {
        let logs = dir.path().join("logs");
        std::fs::create_dir_all(&logs)?;
        let mut procs = Vec::new();
        for p in 0..s.rotation_procs {
            let mut args = ctx.args(peer, Scenario::Rotation, dir.path(), logs.join("app.log"));
            args.proc_id = p;
            args.records = records;
            args.rate = s.rotation_rate;
            args.json = dir.path().join(format!("proc{p}.result.json"));
            args.progress = Some(dir.path().join(format!("proc{p}.progress.json")));
            let stderr = dir.path().join(format!("proc{p}.stderr.txt"));
            procs.push(spawn::start(&ctx.exe, args, stderr)?);
        }
        running.push(procs);
    }
    // Generous: all peers share the CPUs during this run.
    let deadline = Duration::from_secs(s.rotation_secs * 3 + 30);
    let mut done = vec![vec![false; s.rotation_procs as usize]; peers.len()];
    while done.iter().flatten().any(|d| !d) {
        for (i, procs) in running.iter_mut().enumerate() {
            for (j, p) in procs.iter_mut().enumerate() {
                if !done[i][j] && p.watch(deadline, Some(s.mem_cap_kb)) {
                    done[i][j] = true;
                    ctx.tick(&format!("rotation {} proc {j}: exited", peers[i]));
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    ctx.bar.set_message("rotation: reading files back");
    let mut out = Vec::new();
    for ((peer, procs), dir) in peers.iter().zip(running).zip(&dirs) {
        let (scan, tally) = scan_dir(&dir.path().join("logs"), true)?;
        let procs = procs
            .into_iter()
            .map(|r| {
                let proc_id = r.args.proc_id;
                let child = r.collect();
                let issued = child
                    .result
                    .as_ref()
                    .map(|r| r.issued)
                    .or_else(|| child.progress.as_ref().map(|p| p.calls))
                    .unwrap_or(0);
                RotationProc {
                    found: tally.unique_below(proc_id, 0, issued),
                    child,
                    issued,
                }
            })
            .collect();
        out.push(RotationRun {
            peer: peer.clone(),
            procs,
            scan,
        });
    }
    Ok(out)
}
