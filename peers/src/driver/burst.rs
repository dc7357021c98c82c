//! Scenarios 2 (throughput) and 5 (memory): one thread logs N records back
//! to back into a file; then the file is read back.

use crate::lines::scan_dir;
use crate::results::BurstRun;
use crate::scenario::Scenario;

use super::{spawn, Ctx};

/// Runs `scenario` (throughput or memory) for every peer.
pub fn run(ctx: &Ctx, peers: &[String], scenario: Scenario) -> anyhow::Result<Vec<BurstRun>> {
    let s = &ctx.sizes;
    let records = match scenario {
        Scenario::Memory => s.memory_records,
        _ => s.throughput_records,
    };
    // Throughput files are parsed record by record; in the memory burst's
    // (about 1 GB each) the record text is only counted.
    let parse = scenario == Scenario::Throughput;
    let mut out = Vec::new();
    for peer in peers {
        ctx.bar
            .set_message(format!("{}: {peer}", scenario.as_str()));
        let dir = ctx.tempdir(scenario.as_str())?;
        let logs = dir.path().join("logs");
        std::fs::create_dir_all(&logs)?;
        let mut args = ctx.args(peer, scenario, dir.path(), logs.join("app.log"));
        args.records = records;
        let stderr = dir.path().join("stderr.txt");
        let child = spawn::start(&ctx.exe, args, stderr)?.wait(ctx.deadline(), Some(s.mem_cap_kb));
        let (scan, tally) = scan_dir(&logs, parse)?;
        let on_disk = if parse {
            tally.unique_below(0, 0, records)
        } else {
            scan.counts.records
        };
        ctx.tick(&format!(
            "{} {peer}: {}",
            scenario.as_str(),
            child.failure().unwrap_or_else(|| "ok".into())
        ));
        out.push(BurstRun {
            child,
            scan: Some(scan),
            on_disk,
        });
    }
    Ok(out)
}
