//! The Markdown tables, one per scenario.

use std::fmt::Write as _;

use super::fmt::{dur_ns, int, mib, opt, rate, signed, spread};
use super::stats::{
    burst_unaccounted, latency_drops, latency_summary, median_range, pct, round_ratios,
    stall_unaccounted, unaccounted, Path,
};
use crate::driver::BASELINE;
use crate::results::{BurstRun, Results, StallOutcome};

/// Peers in table order that appear in `names`.
fn ordered<'a>(r: &'a Results, names: &[&str]) -> Vec<&'a str> {
    r.peers
        .iter()
        .map(|p| p.name.as_str())
        .filter(|n| names.contains(n))
        .collect()
}

/// Header: machine, run, peers.
pub fn header(o: &mut String, r: &Results) {
    let m = &r.meta;
    let _ = writeln!(o, "### Machine and run\n");
    let _ = writeln!(o, "- date: {} (whole run {:.0} s)", m.date, m.duration_secs);
    let _ = writeln!(o, "- CPUs: {} × {}; memory {}", m.cpus, m.cpu, m.memory);
    let _ = writeln!(o, "- `rustc -V`: {}; kernel {}", m.rustc, m.kernel);
    let _ = writeln!(
        o,
        "- log files: fresh temporary directories under {}",
        m.scratch
    );
    let _ = writeln!(o, "- stopwatch: {}", m.clock);
    let _ = writeln!(
        o,
        "- load average (1, 5, 15 min) at start {}, at end {}{}",
        m.load_avg[0],
        m.load_avg[1],
        if m.quick {
            "; **--quick sizes (smoke test, not a measurement)**"
        } else {
            ""
        }
    );
    let _ = writeln!(o, "- command: `{}`", m.command);
    for s in &m.sizes {
        let _ = writeln!(o, "- {s}");
    }
    let _ = writeln!(o, "\n### Peers and their settings\n");
    let _ = writeln!(
        o,
        "| peer | version (Cargo.lock) | non-blocking caller | fastest rotation | counts drops | settings |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|");
    for p in &r.peers {
        let locked = match &p.locked {
            Some(v) if p.version.contains(v.as_str()) => String::new(),
            Some(v) => format!(" (lock: {v})"),
            None => String::new(),
        };
        let _ = writeln!(
            o,
            "| {} | {}{} | {} | {} | {} | {} |",
            p.name,
            p.version,
            locked,
            if p.non_blocking { "yes" } else { "**no**" },
            p.fastest_rotation.as_deref().unwrap_or("**none**"),
            if p.counts_drops { "yes" } else { "no" },
            p.settings
        );
    }
    o.push('\n');
}

/// Scenario 1.
pub fn latency(o: &mut String, r: &Results, plots: &str) {
    if r.latency.is_empty() {
        return;
    }
    let rounds = r.latency.iter().map(|l| l.round + 1).max().unwrap_or(0);
    let _ = writeln!(o, "### 1. Caller latency (ns per call)\n");
    let _ = writeln!(
        o,
        "Every call timed on its own. Each cell is the value of the median run \
         (the run whose p99.9 is the median of {rounds} round(s)), with [min–max] \
         over the runs. \"dropped\" is what the peer itself counted during the \
         measured calls (— : it has no counter). A dropped record is a fast call \
         for the wrong reason. \"calls/s achieved\" below the pace means the \
         callers were preempted or the calls were slower than the pace.\n"
    );
    let mut threads: Vec<usize> = r.latency.iter().map(|l| l.threads).collect();
    threads.sort_unstable();
    threads.dedup();
    let names: Vec<&str> = r.latency.iter().map(|l| l.child.peer.as_str()).collect();
    let show = rounds > 1;
    for &t in &threads {
        let _ = writeln!(o, "#### {t} thread(s)\n");
        let _ = writeln!(
            o,
            "| peer | p50 | p99 | p99.9 | p99.99 | max | calls/s achieved | dropped | runs ok |"
        );
        let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for peer in ordered(r, &names) {
            let s = latency_summary(r, peer, t);
            let Some(m) = s.median else {
                let why = r
                    .latency
                    .iter()
                    .find(|l| l.child.peer == peer && l.threads == t)
                    .and_then(|l| l.child.failure())
                    .unwrap_or_default();
                let _ = writeln!(o, "| {peer} | {why} | | | | | | | 0/{} |", s.total);
                continue;
            };
            let (Some(p), Some(res)) = (pct(&m.child), m.child.result.as_ref()) else {
                continue;
            };
            let f = p.fields();
            let cells: Vec<String> = (0..5)
                .map(|i| spread(f[i], s.spread[i].0, s.spread[i].1, show))
                .collect();
            let _ = writeln!(
                o,
                "| {peer} | {} | {} | {} | {} | {} | {} | {} | {}/{} |",
                cells[0],
                cells[1],
                cells[2],
                cells[3],
                cells[4],
                rate(res.calls_per_sec),
                opt(latency_drops(&m.child)),
                s.ok,
                s.total
            );
        }
        o.push('\n');
        for path in [Path::Facade, Path::Native] {
            for (field, label) in [(0usize, "p50"), (2, "p99.9")] {
                let rr = round_ratios(r, t, field, path, BASELINE);
                let ratios: Vec<f64> = rr
                    .iter()
                    .map(|(_, _, best, mine)| *best as f64 / (*mine).max(1) as f64)
                    .collect();
                if let Some((med, lo, hi)) = median_range(&ratios) {
                    let bests: Vec<String> = rr
                        .iter()
                        .map(|(_, p, b, _)| format!("{p} {}", int(*b)))
                        .collect();
                    let _ = writeln!(
                        o,
                        "- {label}, {t} thread(s): {} ÷ `{}`, same round: \
                         **{med:.2}×** (median of {} rounds, range {lo:.2}–{hi:.2}×; best per round: {})",
                        path.rivals(),
                        path.peer(),
                        ratios.len(),
                        bests.join(", ")
                    );
                }
            }
        }
        let _ = writeln!(
            o,
            "\n![latency percentiles, {t} thread(s)]({plots}/latency_{t}t.svg)\n"
        );
    }
}

/// Scenario 2.
pub fn throughput(o: &mut String, r: &Results) {
    if r.throughput.is_empty() {
        return;
    }
    let _ = writeln!(o, "### 2. Throughput: time until N records are on disk\n");
    let _ = writeln!(
        o,
        "From the first call until the peer's own flush/shutdown returned; then every \
         file under the log directory was read back and each record identified. \
         \"at finish\" is the newline count of the file right after the flush returned \
         (lower than on disk: the flush returned early). Unaccounted = issued − on disk − \
         reported dropped.\n"
    );
    let _ = writeln!(
        o,
        "| peer | issued | on disk | at finish | reported dropped | unaccounted | torn / dup | time (s) | lines/s | MB/s |"
    );
    let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for b in &r.throughput {
        burst_row(o, b, |o, b, res, scan| {
            let secs = res.total_secs.max(1e-9);
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} / {} | {:.2} | {} | {:.1} |",
                b.child.peer,
                int(res.issued),
                int(b.on_disk),
                opt(res.lines_at_finish),
                opt(res.dropped_final),
                burst_unaccounted(b).map_or_else(|| "—".into(), signed),
                int(scan.counts.torn),
                int(scan.counts.duplicates),
                secs,
                rate(b.on_disk as f64 / secs),
                scan.counts.bytes as f64 / 1e6 / secs
            );
        });
    }
    o.push('\n');
}

fn burst_row(
    o: &mut String,
    b: &BurstRun,
    f: impl FnOnce(&mut String, &BurstRun, &crate::scenario::ChildResult, &crate::lines::Scan),
) {
    match (
        b.child.result.as_ref().filter(|_| b.child.ok()),
        b.scan.as_ref(),
    ) {
        (Some(res), Some(scan)) => f(o, b, res, scan),
        _ => {
            let why = b.child.failure().unwrap_or_default();
            let _ = writeln!(o, "| {} | {why} |", b.child.peer);
        }
    }
}

/// Scenario 3.
pub fn stall(o: &mut String, r: &Results, stall_secs: &str) {
    if r.stall.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "### 3. Stalled disk: the log file is a FIFO nobody reads\n"
    );
    let _ = writeln!(
        o,
        "{stall_secs} Outcome: *completed* (every call returned while the FIFO was \
         stalled), *blocked* (calls were still blocked when the FIFO was drained; \
         they completed afterwards), *hung* (still not done after the drain; killed). \
         Max call and RSS growth cover the stalled phase (RSS: peak minus RSS before \
         the first call). Delivered = distinct records that came through the FIFO \
         once drained; unaccounted = issued − delivered − reported dropped.\n"
    );
    let _ = writeln!(
        o,
        "| peer | outcome | calls returned while stalled | max call | RSS growth (MiB) | reported dropped | delivered | unaccounted |"
    );
    let _ = writeln!(o, "|---|---|---:|---:|---:|---:|---:|---:|");
    for s in &r.stall {
        let outcome = match s.outcome {
            StallOutcome::Completed => "completed".to_string(),
            StallOutcome::Blocked => "**blocked**".to_string(),
            StallOutcome::Hung => "**hung**".to_string(),
            StallOutcome::Failed => s.child.failure().unwrap_or_default(),
        };
        let p = s.at_release.as_ref();
        let issued = s.child.result.as_ref().map(|r| r.issued);
        let calls = p.map_or_else(|| "—".into(), |p| int(p.calls));
        let max = match (s.outcome, p) {
            (StallOutcome::Blocked | StallOutcome::Hung, p) => format!(
                "calls blocked at {:.0} s (slowest returned: {})",
                s.released_after_secs,
                p.map_or_else(|| "—".into(), |p| dur_ns(p.max_call_ns))
            ),
            (_, Some(p)) => dur_ns(p.max_call_ns),
            _ => "—".into(),
        };
        let growth = p.map_or_else(
            || "—".into(),
            |p| mib(p.hwm_kb.saturating_sub(p.rss_start_kb)),
        );
        let dropped = s.child.dropped();
        let _ = writeln!(
            o,
            "| {} | {} | {}{} | {} | {} | {} | {} | {} |",
            s.child.peer,
            outcome,
            calls,
            issued.map_or(String::new(), |i| format!(" of {}", int(i))),
            max,
            growth,
            opt(dropped),
            int(s.drained_unique),
            stall_unaccounted(s).map_or_else(|| "—".into(), signed)
        );
    }
    o.push('\n');
}

/// Scenario 4.
pub fn rotation(o: &mut String, r: &Results, plots: &str) {
    if r.rotation.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "### 4. Shared-path rotation: several processes, one base path\n"
    );
    let _ = writeln!(
        o,
        "Every file under the log directory read back (`.gz` decompressed). Missing = \
         issued records not found; duplicated = found more than once; torn = lines \
         holding part of a record or two run together; unaccounted = missing − reported \
         dropped. Max call is the slowest single call of any process (rotation work \
         done on the caller shows here).\n"
    );
    let _ = writeln!(
        o,
        "| peer | files (.gz) | issued | missing | duplicated | torn | reported dropped | unaccounted | hung procs | max call |"
    );
    let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for rot in &r.rotation {
        let gz = rot.scan.files.iter().filter(|f| f.gzip).count();
        let dropped = rot.reported_dropped();
        let max = rot
            .procs
            .iter()
            .filter_map(|p| {
                p.child
                    .result
                    .as_ref()
                    .map(|r| r.latency.max)
                    .or_else(|| p.child.progress.as_ref().map(|p| p.max_call_ns))
            })
            .max();
        let failed: Vec<String> = rot.procs.iter().filter_map(|p| p.child.failure()).collect();
        let unreadable = rot.scan.files.iter().filter(|f| f.error.is_some()).count();
        let _ = writeln!(
            o,
            "| {} | {} ({gz}){} | {} | {} | {} | {} | {} | {} | {}{} | {} |",
            rot.peer,
            rot.scan.files.len(),
            if unreadable > 0 {
                format!(", {unreadable} unreadable")
            } else {
                String::new()
            },
            int(rot.issued()),
            int(rot.missing()),
            int(rot.scan.counts.duplicates),
            int(rot.scan.counts.torn),
            opt(dropped),
            signed(unaccounted(rot.missing(), 0, dropped)),
            rot.hung(),
            if failed.is_empty() {
                String::new()
            } else {
                format!(" ({})", failed[0])
            },
            max.map_or_else(|| "—".into(), dur_ns)
        );
    }
    for p in &r.peers {
        if p.fastest_rotation.is_none() && p.name != BASELINE {
            let _ = writeln!(o, "| {} | cannot rotate: not run | | | | | | | | |", p.name);
        }
    }
    let _ = writeln!(
        o,
        "\n![losses per peer, rotation scenario]({plots}/rotation_losses.svg)\n"
    );
}

/// Scenario 5.
pub fn memory(o: &mut String, r: &Results) {
    if r.memory.is_empty() {
        return;
    }
    let base = r
        .memory
        .iter()
        .find(|b| b.child.peer == BASELINE)
        .and_then(|b| b.child.result.as_ref())
        .map(|r| r.hwm_kb);
    let _ = writeln!(o, "### 5. Memory: peak RSS during a burst\n");
    let _ = writeln!(
        o,
        "One thread logs the burst back to back; VmHWM (peak resident set) read from \
         /proc/self/status after the peer's flush returned. \"Over baseline\" subtracts \
         the noop baseline's VmHWM (same harness, no logger). Records on disk: occurrences \
         of the record text in every file (not parsed; a peer's own notice lines are not \
         counted).\n"
    );
    let _ = writeln!(
        o,
        "| peer | records | VmHWM (MiB) | over baseline (MiB) | time (s) | records on disk | reported dropped | unaccounted |"
    );
    let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|---:|---:|");
    for b in &r.memory {
        burst_row(o, b, |o, b, res, _| {
            let over = base.map_or_else(|| "—".into(), |bk| mib(res.hwm_kb.saturating_sub(bk)));
            let unacc = if b.child.peer == BASELINE {
                "—".to_string()
            } else {
                burst_unaccounted(b).map_or_else(|| "—".into(), signed)
            };
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {:.2} | {} | {} | {} |",
                b.child.peer,
                int(res.issued),
                mib(res.hwm_kb),
                over,
                res.total_secs,
                int(b.on_disk),
                opt(res.dropped_final),
                unacc
            );
        });
    }
    o.push('\n');
}
