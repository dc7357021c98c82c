//! jamless's targets, checked against what was measured (reported, never
//! enforced), and the peers' quirks seen during the run.

use std::fmt::Write as _;

use super::fmt::{mib, signed};
use super::stats::{burst_unaccounted, median_range, round_ratios, stall_unaccounted};
use crate::driver::BASELINE;
use crate::results::{ChildRun, Results, StallOutcome};

const JAMLESS: &str = "jamless";
/// jamless's queue capacity with `Builder::new()` defaults (what the
/// adapter configures), for the memory target.
const JAMLESS_CAP_MIB: f64 = 8.0;

fn yes(b: bool) -> &'static str {
    if b {
        "met"
    } else {
        "**not met**"
    }
}

/// The targets table.
pub fn section(o: &mut String, r: &Results) {
    let _ = writeln!(o, "### jamless's targets, as measured in this run\n");
    let _ = writeln!(o, "| target | measured | verdict |");
    let _ = writeln!(o, "|---|---|---|");
    let mut threads: Vec<usize> = r.latency.iter().map(|l| l.threads).collect();
    threads.sort_unstable();
    threads.dedup();
    for t in threads {
        for (field, label, want) in [(0usize, "p50", 2.0), (2, "p99.9", 10.0)] {
            let rr = round_ratios(r, t, field, JAMLESS, BASELINE);
            let ratios: Vec<f64> = rr
                .iter()
                .map(|(_, _, b, m)| *b as f64 / (*m).max(1) as f64)
                .collect();
            let (text, ok) = match median_range(&ratios) {
                Some((m, lo, hi)) => (
                    format!(
                        "{m:.2}× (range {lo:.2}–{hi:.2}× over {} rounds)",
                        ratios.len()
                    ),
                    m >= want,
                ),
                None => ("not measured".to_string(), false),
            };
            let _ = writeln!(
                o,
                "| {label} ≥ {want}× lower than the best other logger, {t} thread(s) | {text} | {} |",
                yes(ok)
            );
        }
    }
    let mine = |c: &ChildRun| c.peer == JAMLESS;
    let all_children: Vec<&ChildRun> = r
        .latency
        .iter()
        .map(|l| &l.child)
        .chain(r.throughput.iter().map(|b| &b.child))
        .chain(r.stall.iter().map(|s| &s.child))
        .chain(
            r.rotation
                .iter()
                .flat_map(|x| x.procs.iter().map(|p| &p.child)),
        )
        .chain(r.memory.iter().map(|b| &b.child))
        .filter(|c| mine(c))
        .collect();
    let failed = all_children.iter().filter(|c| !c.ok()).count();
    let stall = r.stall.iter().find(|s| mine(&s.child));
    let stall_ok = stall.is_none_or(|s| s.outcome == StallOutcome::Completed);
    let _ = writeln!(
        o,
        "| never hung | {} jamless processes, {failed} did not complete; stall: {} | {} |",
        all_children.len(),
        stall.map_or("not run".into(), |s| format!("{:?}", s.outcome)
            .to_lowercase()),
        yes(failed == 0 && stall_ok && !all_children.is_empty())
    );
    let mut parts = Vec::new();
    let mut total_ok = true;
    let mut note = |name: &str, v: Option<i64>| {
        total_ok &= v == Some(0);
        parts.push(format!("{name} {}", v.map_or("n/a".into(), signed)));
    };
    if let Some(b) = r.throughput.iter().find(|b| mine(&b.child)) {
        note("throughput", burst_unaccounted(b));
    }
    if let Some(s) = stall {
        note("stall", stall_unaccounted(s));
    }
    if let Some(x) = r.rotation.iter().find(|x| x.peer == JAMLESS) {
        let v = x.missing() as i64 - x.reported_dropped().unwrap_or(0) as i64;
        let damaged = (x.scan.counts.duplicates + x.scan.counts.torn) as i64;
        note("rotation", Some(v + damaged));
    }
    if let Some(b) = r.memory.iter().find(|b| mine(&b.child)) {
        note("memory", burst_unaccounted(b));
    }
    let _ = writeln!(
        o,
        "| zero unaccounted loss (rotation: also no duplicated or torn lines) | {} | {} |",
        parts.join("; "),
        yes(total_ok && !parts.is_empty())
    );
    let base = r
        .memory
        .iter()
        .find(|b| b.child.peer == BASELINE)
        .and_then(|b| b.child.result.as_ref())
        .map(|x| x.hwm_kb);
    let me = r
        .memory
        .iter()
        .find(|b| mine(&b.child))
        .and_then(|b| b.child.result.as_ref())
        .map(|x| x.hwm_kb);
    let (text, ok) = match (me, base) {
        (Some(m), Some(b)) => {
            let over = m.saturating_sub(b);
            (
                format!(
                    "VmHWM {} MiB, {} MiB over the noop baseline; queue cap {JAMLESS_CAP_MIB} MiB",
                    mib(m),
                    mib(over)
                ),
                over as f64 / 1024.0 <= JAMLESS_CAP_MIB,
            )
        }
        _ => ("not measured".to_string(), false),
    };
    let _ = writeln!(
        o,
        "| memory bounded by its configured cap (growth over the baseline ≤ the queue cap) | {text} | {} |\n",
        yes(ok)
    );
}

/// Failures and complaints (standard error) seen, per scenario and peer.
pub fn quirks(o: &mut String, r: &Results) {
    let mut lines = Vec::new();
    let mut add = |scenario: &str, c: &ChildRun| {
        let err = c.stderr_tail.trim();
        if c.ok() && err.is_empty() {
            return;
        }
        let mut s = format!("- {scenario}, {}: ", c.peer);
        if let Some(f) = c.failure() {
            s.push_str(&f);
            s.push_str(". ");
        }
        if !err.is_empty() {
            let first = err.lines().next().unwrap_or("");
            let last: String = first.chars().take(200).collect();
            let _ = write!(
                s,
                "stderr ({} lines in the tail): `{}`",
                err.lines().count(),
                last.replace('`', "'")
            );
        }
        if !lines.contains(&s) {
            lines.push(s);
        }
    };
    r.latency.iter().for_each(|l| add("latency", &l.child));
    r.throughput
        .iter()
        .for_each(|b| add("throughput", &b.child));
    r.stall.iter().for_each(|s| add("stall", &s.child));
    r.rotation
        .iter()
        .flat_map(|x| &x.procs)
        .for_each(|p| add("rotation", &p.child));
    r.memory.iter().for_each(|b| add("memory", &b.child));
    let _ = writeln!(o, "### Failures and complaints seen in this run\n");
    if lines.is_empty() {
        let _ = writeln!(
            o,
            "None: every child completed and wrote nothing to standard error.\n"
        );
    } else {
        let _ = writeln!(o, "{}\n", lines.join("\n"));
    }
    for rot in &r.rotation {
        if !rot.scan.plain_and_gz.is_empty() {
            let _ = writeln!(
                o,
                "- rotation, {}: {} file(s) left both plain and gzipped after every process \
                 exited (e.g. `{}` and `.gz`); their records count as duplicated",
                rot.peer,
                rot.scan.plain_and_gz.len(),
                rot.scan.plain_and_gz[0]
            );
        }
        let c = &rot.scan.counts;
        if !c.torn_examples.is_empty() {
            let _ = writeln!(
                o,
                "- rotation, {}: torn line example: `{}`",
                rot.peer,
                c.torn_examples[0].replace('`', "'")
            );
        }
    }
    o.push('\n');
}
