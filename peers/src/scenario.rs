//! What the driver asks of a child process, and what the child reports
//! back (both as JSON files and command-line arguments).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::clock::{CurvePoint, Percentiles};

/// The five scenarios.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// 1. Caller latency of every call, into a histogram.
    Latency,
    /// 2. Time until N records are on disk.
    Throughput,
    /// 3. The log file is a FIFO nobody reads.
    Stall,
    /// 4. Several processes, one base path, the most frequent rotation.
    Rotation,
    /// 5. Peak RSS during a burst.
    Memory,
}

impl Scenario {
    /// Every scenario, in report order.
    pub const ALL: [Scenario; 5] = [
        Scenario::Latency,
        Scenario::Throughput,
        Scenario::Stall,
        Scenario::Rotation,
        Scenario::Memory,
    ];

    /// The command-line spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::Latency => "latency",
            Scenario::Throughput => "throughput",
            Scenario::Stall => "stall",
            Scenario::Rotation => "rotation",
            Scenario::Memory => "memory",
        }
    }
}

/// The child's command line (`peer --peer NAME --scenario S ...`).
#[derive(Debug, Clone, clap::Parser, Serialize, Deserialize)]
#[command(
    name = "peer",
    about = "Runs one scenario against one peer logger in this process (started by `peers`)."
)]
pub struct ChildArgs {
    /// The peer to install (see `peers --list`).
    #[arg(long)]
    pub peer: String,
    /// The scenario to run.
    #[arg(long, value_enum)]
    pub scenario: Scenario,
    /// The log file (or FIFO, or rotation base path).
    #[arg(long)]
    pub path: PathBuf,
    /// Logging threads.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Records per thread (for `latency`: measured calls per thread).
    #[arg(long)]
    pub records: u64,
    /// This process's number among those sharing a path (scenario 4).
    #[arg(long, default_value_t = 0)]
    pub proc_id: u32,
    /// Where to write the result.
    #[arg(long)]
    pub json: PathBuf,
    /// Where to write progress every 50 ms (atomically replaced).
    #[arg(long)]
    pub progress: Option<PathBuf>,
    /// `latency`: unmeasured calls per thread first (at the same pace).
    #[arg(long, default_value_t = 0)]
    pub warmup: u64,
    /// `latency`: one call every this many ns per thread, spin-paced;
    /// 0 = back to back.
    #[arg(long, default_value_t = 0)]
    pub pace_ns: u64,
    /// `rotation`: records per second per thread (sleep-paced); 0 = back
    /// to back.
    #[arg(long, default_value_t = 0)]
    pub rate: u64,
    /// `rotation`: size limit for peers that rotate by size.
    #[arg(long, default_value_t = 256 * 1024)]
    pub rotate_bytes: u64,
}

impl ChildArgs {
    /// The arguments that reproduce `self` (without the program name).
    pub fn to_args(&self) -> Vec<String> {
        let mut v = vec![
            "--peer".to_string(),
            self.peer.clone(),
            "--scenario".into(),
            self.scenario.as_str().into(),
            "--path".into(),
            self.path.display().to_string(),
            "--threads".into(),
            self.threads.to_string(),
            "--records".into(),
            self.records.to_string(),
            "--proc-id".into(),
            self.proc_id.to_string(),
            "--json".into(),
            self.json.display().to_string(),
            "--warmup".into(),
            self.warmup.to_string(),
            "--pace-ns".into(),
            self.pace_ns.to_string(),
            "--rate".into(),
            self.rate.to_string(),
            "--rotate-bytes".into(),
            self.rotate_bytes.to_string(),
        ];
        if let Some(p) = &self.progress {
            v.push("--progress".into());
            v.push(p.display().to_string());
        }
        v
    }
}

/// Where the child is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Installing the peer.
    Starting,
    /// Unmeasured calls (latency only).
    Warmup,
    /// Making the calls.
    Logging,
    /// Every call returned; about to call `finish`.
    Logged,
    /// `finish` returned.
    Finished,
}

/// What the child says while it runs (the driver reads it when it has to
/// kill the child).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Progress {
    /// Where the child is.
    pub phase: Phase,
    /// Calls that returned so far (all threads, warm-up included).
    pub calls: u64,
    /// Slowest call so far, ns (warm-up included).
    pub max_call_ns: u64,
    /// The peer's drop counter now, if it has one.
    pub dropped: Option<u64>,
    /// Resident set size now, KiB.
    pub rss_kb: u64,
    /// Peak resident set size so far, KiB.
    pub hwm_kb: u64,
    /// Resident set size once the peer was installed, before the first
    /// call, KiB.
    pub rss_start_kb: u64,
    /// Seconds since the peer was installed.
    pub secs: f64,
}

/// What a child reports when it completes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChildResult {
    /// The child's arguments.
    pub args: ChildArgs,
    /// Calls made, all threads, warm-up included.
    pub issued: u64,
    /// Latency of the measured calls (all calls except warm-up).
    pub latency: Percentiles,
    /// Percentile curve of the measured calls, for plotting.
    pub curve: Vec<CurvePoint>,
    /// Measured calls per second over all threads.
    pub calls_per_sec: f64,
    /// The peer's drop counter just before and just after the measured
    /// calls (latency), or before the first call.
    pub dropped_start: Option<u64>,
    /// The peer's drop counter when the last call returned.
    pub dropped_logged: Option<u64>,
    /// What `finish` reported.
    pub dropped_final: Option<u64>,
    /// First measured call to the last call's return, s.
    pub log_secs: f64,
    /// First measured call to `finish`'s return, s.
    pub total_secs: f64,
    /// Newlines in the log file right after `finish` returned
    /// (throughput only).
    pub lines_at_finish: Option<u64>,
    /// Resident set size before the first call, KiB.
    pub rss_start_kb: u64,
    /// Peak resident set size when the last call returned, KiB.
    pub hwm_logged_kb: u64,
    /// Peak resident set size after `finish`, KiB.
    pub hwm_kb: u64,
    /// Whether the stopwatch reads the TSC.
    pub tsc: bool,
    /// The stopwatch's own cost (two readings around nothing).
    pub stopwatch: Percentiles,
}

/// Writes `value` as JSON to `path` atomically (temporary file, rename).
pub fn write_json_atomic(path: &Path, value: &impl Serialize) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let tmp = path.with_extension("tmp");
    let text = serde_json::to_vec_pretty(value).context("serialise")?;
    std::fs::write(&tmp, text).with_context(|| format!("write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("rename to {}", path.display()))?;
    Ok(())
}
