//! Everything one driver invocation measured, as saved to `results.json`
//! and read back by the report.

use serde::{Deserialize, Serialize};

use crate::lines::Scan;
use crate::peer::PeerInfo;
use crate::scenario::{ChildResult, Progress};

/// [`PeerInfo`] with owned strings, so it can be read back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeerFacts {
    /// See [`PeerInfo::name`].
    pub name: String,
    /// See [`PeerInfo::version`].
    pub version: String,
    /// Version of the peer's main crate in `Cargo.lock`, if found there.
    pub locked: Option<String>,
    /// See [`PeerInfo::settings`].
    pub settings: String,
    /// See [`PeerInfo::non_blocking`].
    pub non_blocking: bool,
    /// See [`PeerInfo::fastest_rotation`].
    pub fastest_rotation: Option<String>,
    /// See [`PeerInfo::counts_drops`].
    pub counts_drops: bool,
}

impl PeerFacts {
    /// Copies `info`.
    pub fn of(info: &PeerInfo, locked: Option<String>) -> PeerFacts {
        PeerFacts {
            name: info.name.to_string(),
            version: info.version.to_string(),
            locked,
            settings: info.settings.to_string(),
            non_blocking: info.non_blocking,
            fastest_rotation: info.fastest_rotation.map(str::to_string),
            counts_drops: info.counts_drops,
        }
    }
}

/// Why the driver stopped a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Killed {
    /// It did not finish before its deadline.
    Deadline,
    /// Its resident set grew beyond the memory cap.
    MemoryCap,
}

/// One child process, as the driver saw it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChildRun {
    /// The peer.
    pub peer: String,
    /// Start to exit (or kill), s.
    pub wall_secs: f64,
    /// Exit code (`None`: killed by a signal).
    pub exit_code: Option<i32>,
    /// Set when the driver killed it.
    pub killed: Option<Killed>,
    /// Its result, if it wrote one.
    pub result: Option<ChildResult>,
    /// Its last progress report.
    pub progress: Option<Progress>,
    /// The end of its standard error (peers' own complaints).
    pub stderr_tail: String,
}

impl ChildRun {
    /// Completed and wrote a result.
    pub fn ok(&self) -> bool {
        self.killed.is_none() && self.exit_code == Some(0) && self.result.is_some()
    }

    /// A short description of what went wrong, if anything.
    pub fn failure(&self) -> Option<String> {
        if self.ok() {
            return None;
        }
        Some(match (self.killed, self.exit_code) {
            (Some(Killed::Deadline), _) => format!("hung (killed after {:.0} s)", self.wall_secs),
            (Some(Killed::MemoryCap), _) => "killed: memory cap exceeded".to_string(),
            (None, Some(0)) => "no result written".to_string(),
            (None, Some(c)) => {
                let last = self.stderr_tail.lines().last().unwrap_or("").trim();
                let last: String = last.chars().take(160).collect();
                format!("failed (exit {c}): {last}")
            }
            (None, None) => "crashed (signal)".to_string(),
        })
    }

    /// The peer's drop count: at `finish`, else the last one reported.
    pub fn dropped(&self) -> Option<u64> {
        self.result
            .as_ref()
            .and_then(|r| r.dropped_final)
            .or_else(|| self.progress.as_ref().and_then(|p| p.dropped))
    }
}

/// One latency run of one peer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LatencyRun {
    /// Logging threads.
    pub threads: usize,
    /// Round (0-based); every peer runs once per round, back to back.
    pub round: usize,
    /// The child.
    pub child: ChildRun,
}

/// The throughput or memory run of one peer (one child, one file).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BurstRun {
    /// The child.
    pub child: ChildRun,
    /// What was found on disk afterwards.
    pub scan: Option<Scan>,
    /// Records found (throughput: distinct, parsed; memory: occurrences
    /// of the record text).
    pub on_disk: u64,
}

/// How the stalled-disk run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StallOutcome {
    /// Every call returned while the FIFO was stalled.
    Completed,
    /// Calls were still blocked at the deadline; they completed once the
    /// FIFO was drained.
    Blocked,
    /// Still not finished after the FIFO had been drained for the release
    /// deadline (killed).
    Hung,
    /// The child failed or crashed.
    Failed,
}

/// The stalled-disk run of one peer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StallRun {
    /// The child.
    pub child: ChildRun,
    /// How it ended.
    pub outcome: StallOutcome,
    /// Progress when the driver released the FIFO (end of the stalled
    /// phase).
    pub at_release: Option<Progress>,
    /// Seconds from start to release.
    pub released_after_secs: f64,
    /// Lines that came through the FIFO once drained.
    pub drained: crate::lines::Counts,
    /// Distinct records among them.
    pub drained_unique: u64,
}

/// One process of the rotation scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RotationProc {
    /// The child.
    pub child: ChildRun,
    /// Calls it made (from its result, else its last progress).
    pub issued: u64,
    /// Distinct records of it found in the files.
    pub found: u64,
}

/// The rotation run of one peer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RotationRun {
    /// The peer.
    pub peer: String,
    /// The processes.
    pub procs: Vec<RotationProc>,
    /// Every file read back.
    pub scan: Scan,
}

impl RotationRun {
    /// Records issued by all processes.
    pub fn issued(&self) -> u64 {
        self.procs.iter().map(|p| p.issued).sum()
    }

    /// Issued records not found.
    pub fn missing(&self) -> u64 {
        self.procs
            .iter()
            .map(|p| p.issued.saturating_sub(p.found))
            .sum()
    }

    /// Drops the peer reported (None if it counts none).
    pub fn reported_dropped(&self) -> Option<u64> {
        self.procs.iter().map(|p| p.child.dropped()).sum()
    }

    /// Processes that did not finish.
    pub fn hung(&self) -> usize {
        self.procs
            .iter()
            .filter(|p| p.child.killed == Some(Killed::Deadline))
            .count()
    }
}

/// Where and how the run happened.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Meta {
    /// Start, UTC.
    pub date: String,
    /// Wall time of the whole invocation, s.
    pub duration_secs: f64,
    /// CPU model.
    pub cpu: String,
    /// Logical CPUs.
    pub cpus: usize,
    /// Total memory.
    pub memory: String,
    /// `rustc -V`.
    pub rustc: String,
    /// `uname -sr`.
    pub kernel: String,
    /// The temporary directory the logs went to, its device and type.
    pub scratch: String,
    /// The driver's command line.
    pub command: String,
    /// Whether `--quick` sizes were used.
    pub quick: bool,
    /// Load average at start and end.
    pub load_avg: [String; 2],
    /// The stopwatch: "TSC" or "monotonic clock", with its own p50.
    pub clock: String,
    /// The sizes used, one line each.
    pub sizes: Vec<String>,
}

/// Everything.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Results {
    /// Machine and run.
    pub meta: Meta,
    /// The peers, in table order (the baseline first).
    pub peers: Vec<PeerFacts>,
    /// Scenario 1.
    pub latency: Vec<LatencyRun>,
    /// Scenario 2.
    pub throughput: Vec<BurstRun>,
    /// Scenario 3.
    pub stall: Vec<StallRun>,
    /// Scenario 4.
    pub rotation: Vec<RotationRun>,
    /// Scenario 5.
    pub memory: Vec<BurstRun>,
}
