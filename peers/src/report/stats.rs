//! Numbers derived from the raw results: the median latency run, ratios
//! within a round, and loss accounting.

use crate::clock::Percentiles;
use crate::results::{BurstRun, ChildRun, LatencyRun, Results, StallRun};

/// The latency runs of one peer at one thread count.
pub struct LatencySummary<'a> {
    /// The run whose p99.9 is the median of the runs (the lower middle for
    /// an even count); `None` if no run completed.
    pub median: Option<&'a LatencyRun>,
    /// Per reported value (p50, p99, p99.9, p99.99, max), the smallest and
    /// largest over the completed runs.
    pub spread: [(u64, u64); 5],
    /// Completed runs.
    pub ok: usize,
    /// All runs.
    pub total: usize,
}

/// Summarises `peer`'s runs at `threads`.
pub fn latency_summary<'a>(r: &'a Results, peer: &str, threads: usize) -> LatencySummary<'a> {
    let runs: Vec<&LatencyRun> = r
        .latency
        .iter()
        .filter(|l| l.child.peer == peer && l.threads == threads)
        .collect();
    let mut ok: Vec<&LatencyRun> = runs.iter().copied().filter(|l| l.child.ok()).collect();
    ok.sort_by_key(|l| pct(&l.child).map_or(0, |p| p.p999));
    let mut spread = [(u64::MAX, 0u64); 5];
    for l in &ok {
        if let Some(p) = pct(&l.child) {
            for (s, v) in spread.iter_mut().zip(p.fields()) {
                *s = (s.0.min(v), s.1.max(v));
            }
        }
    }
    LatencySummary {
        median: ok.get(ok.len().saturating_sub(1) / 2).copied(),
        spread,
        ok: ok.len(),
        total: runs.len(),
    }
}

/// A child's latency percentiles, if it completed.
pub fn pct(c: &ChildRun) -> Option<Percentiles> {
    c.result.as_ref().filter(|_| c.ok()).map(|r| r.latency)
}

/// Records the peer dropped during a latency run's measured calls.
pub fn latency_drops(c: &ChildRun) -> Option<u64> {
    let r = c.result.as_ref()?;
    Some(r.dropped_logged?.saturating_sub(r.dropped_start?))
}

/// Which of jamless's two call paths a comparison is about, and so which
/// peers are its rivals: the `log` facade (`jamless`) against the loggers
/// called through a facade or their own formatting macros, the native
/// macro (`jamless-native`) against the other deferred-formatting macros.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// `log::info!` into jamless, against every non-native peer.
    Facade,
    /// `jamless::info!`, against [`NATIVE_PEERS`].
    Native,
}

/// The peers whose own macros defer formatting to a background thread.
pub const NATIVE_PEERS: [&str; 2] = ["ticklog", "low_latency_log"];

impl Path {
    /// The jamless peer on this path.
    pub fn peer(self) -> &'static str {
        match self {
            Path::Facade => "jamless",
            Path::Native => "jamless-native",
        }
    }

    /// What its rivals are called in the report.
    pub fn rivals(self) -> &'static str {
        match self {
            Path::Facade => "the best facade logger",
            Path::Native => "the best native-macro logger",
        }
    }

    /// Whether `peer` is a rival of this path (never the baseline, never
    /// jamless itself).
    pub fn is_rival(self, peer: &str, baseline: &str) -> bool {
        if peer == baseline || peer.starts_with("jamless") {
            return false;
        }
        NATIVE_PEERS.contains(&peer) == (self == Path::Native)
    }
}

/// Per round, jamless's value on `path` against its best rival's for one
/// percentile: `(round, best peer, best value, jamless value)`.
pub fn round_ratios(
    r: &Results,
    threads: usize,
    field: usize,
    path: Path,
    baseline: &str,
) -> Vec<(usize, String, u64, u64)> {
    let rounds = r.latency.iter().map(|l| l.round + 1).max().unwrap_or(0);
    let mut out = Vec::new();
    for round in 0..rounds {
        let here = r
            .latency
            .iter()
            .filter(|l| l.round == round && l.threads == threads);
        let mut best: Option<(String, u64)> = None;
        let mut mine = None;
        for l in here {
            let Some(p) = pct(&l.child) else { continue };
            let v = p.fields()[field];
            if l.child.peer == path.peer() {
                mine = Some(v);
            } else if path.is_rival(&l.child.peer, baseline)
                && best.as_ref().is_none_or(|b| v < b.1)
            {
                best = Some((l.child.peer.clone(), v));
            }
        }
        if let (Some((peer, b)), Some(m)) = (best, mine) {
            out.push((round, peer, b, m));
        }
    }
    out
}

/// Per round, `peer`'s value of one percentile with `threads` threads:
/// `(round, value)`.
pub fn round_values(r: &Results, threads: usize, field: usize, peer: &str) -> Vec<(usize, u64)> {
    r.latency
        .iter()
        .filter(|l| l.threads == threads && l.child.peer == peer)
        .filter_map(|l| pct(&l.child).map(|p| (l.round, p.fields()[field])))
        .collect()
}

/// Median and range of `v` (sorted copy); `None` when empty.
pub fn median_range(v: &[f64]) -> Option<(f64, f64, f64)> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    Some((s[(s.len() - 1) / 2], s[0], s[s.len() - 1]))
}

/// Issued minus found minus reported dropped (a peer without a counter
/// reports 0). `None` when the child did not complete (records in flight
/// at the kill are unknown).
pub fn unaccounted(issued: u64, found: u64, dropped: Option<u64>) -> i64 {
    issued as i64 - found as i64 - dropped.unwrap_or(0) as i64
}

/// Unaccounted loss of a throughput or memory run, if it completed.
pub fn burst_unaccounted(b: &BurstRun) -> Option<i64> {
    let r = b.child.result.as_ref().filter(|_| b.child.ok())?;
    Some(unaccounted(r.issued, b.on_disk, r.dropped_final))
}

/// Unaccounted loss of a stall run, if it completed.
pub fn stall_unaccounted(s: &StallRun) -> Option<i64> {
    let r = s.child.result.as_ref().filter(|_| s.child.ok())?;
    Some(unaccounted(r.issued, s.drained_unique, r.dropped_final))
}
