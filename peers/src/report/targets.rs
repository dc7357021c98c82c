//! jamless's targets, checked against what was measured (reported, never
//! enforced), and the peers' quirks seen during the run.

use std::fmt::Write as _;

use super::fmt::{mib, signed};
use super::stats::{
    burst_unaccounted, median_range, round_ratios, round_values, stall_unaccounted, Path,
};
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
    let row =
        |o: &mut String, what: String, values: &[f64], unit: &str, ok: &dyn Fn(f64) -> bool| {
            let (text, met) = match median_range(values) {
                Some((m, lo, hi)) => (
                    {
                        // Ratios with two decimals, nanoseconds whole.
                        let d = if unit == "×" { 2 } else { 0 };
                        format!(
                            "{m:.d$}{unit} (range {lo:.d$}–{hi:.d$}{unit} over {} rounds)",
                            values.len()
                        )
                    },
                    ok(m),
                ),
                None => ("not measured".to_string(), false),
            };
            let _ = writeln!(o, "| {what} | {text} | {} |", yes(met));
        };
    for &t in &threads {
        for (path, want) in [(Path::Facade, [2.0, 10.0]), (Path::Native, [1.0, 1.0])] {
            for ((field, label), want) in [(0usize, "p50"), (2, "p99.9")].into_iter().zip(want) {
                let ratios: Vec<f64> = round_ratios(r, t, field, path, BASELINE)
                    .iter()
                    .map(|(_, _, b, m)| *b as f64 / (*m).max(1) as f64)
                    .collect();
                let what = if want > 1.0 {
                    format!(
                        "`{}` {label} ≥ {want}× lower than {}, {t} thread(s)",
                        path.peer(),
                        path.rivals()
                    )
                } else {
                    format!(
                        "`{}` {label} at or ahead of {} (ratio ≥ 1), {t} thread(s)",
                        path.peer(),
                        path.rivals()
                    )
                };
                row(o, what, &ratios, "×", &|m| m >= want);
            }
        }
        // The native macro against the baseline call (`noop`: `log::info!`
        // into a logger that does nothing), per round.
        for ((field, label), slack) in [(0usize, "p50"), (2, "p99.9")]
            .into_iter()
            .zip([10.0, 50.0])
        {
            let base = round_values(r, t, field, BASELINE);
            let diffs: Vec<f64> = round_values(r, t, field, Path::Native.peer())
                .iter()
                .filter_map(|(round, v)| {
                    let b = base.iter().find(|(br, _)| br == round)?.1;
                    Some(*v as f64 - b as f64)
                })
                .collect();
            row(
                o,
                format!("`jamless-native` {label} within {slack} ns of the `noop` baseline's, {t} thread(s)"),
                &diffs,
                " ns",
                &|m| m <= slack,
            );
        }
    }
    // Two producers cost what one does: p50 with 2 threads ≤ 1.3× 1 thread's.
    if threads.contains(&1) && threads.contains(&2) {
        for path in [Path::Facade, Path::Native] {
            let one = round_values(r, 1, 0, path.peer());
            let ratios: Vec<f64> = round_values(r, 2, 0, path.peer())
                .iter()
                .filter_map(|(round, v)| {
                    let b = one.iter().find(|(br, _)| br == round)?.1;
                    Some(*v as f64 / b.max(1) as f64)
                })
                .collect();
            row(
                o,
                format!("`{}` p50 with 2 threads ≤ 1.3× its p50 with 1", path.peer()),
                &ratios,
                "×",
                &|m| m <= 1.3,
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
