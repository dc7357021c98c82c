//! The driver's command line and the sizes it implies.

use std::path::PathBuf;

use crate::scenario::Scenario;

/// `peers`: runs every scenario against every peer, each child in its own
/// process, then writes tables and plots.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "peers", version)]
pub struct Options {
    /// Peers to run, comma-separated (default: all; the `noop` baseline is
    /// added to the latency and memory scenarios unless --no-baseline).
    #[arg(long, value_delimiter = ',')]
    pub peers: Vec<String>,
    /// Scenarios to run, comma-separated (default: all).
    #[arg(long, value_delimiter = ',', value_enum)]
    pub scenarios: Vec<Scenario>,
    /// Smoke-test sizes: the whole run takes seconds.
    #[arg(long)]
    pub quick: bool,
    /// Latency rounds (every peer once per round; default 3, quick 1).
    #[arg(long)]
    pub runs: Option<usize>,
    /// Where results.json and the SVG plots go.
    #[arg(long, default_value = "peers/results")]
    pub out: PathBuf,
    /// Write the Markdown section between `<!-- peers:begin -->` and
    /// `<!-- peers:end -->` in this file (appended if the markers are
    /// missing); the rest of the file is kept.
    #[arg(long)]
    pub md: Option<PathBuf>,
    /// Re-render the report from a results.json instead of measuring.
    #[arg(long)]
    pub from_json: Option<PathBuf>,
    /// Print the peers and their settings, then exit.
    #[arg(long)]
    pub list: bool,
    /// Leave out the noop baseline.
    #[arg(long)]
    pub no_baseline: bool,
    /// Directory for the log files (default `$JAMLESS_BENCH_DIR`, else the
    /// system temporary directory).
    #[arg(long)]
    pub scratch: Option<PathBuf>,
    /// Latency: measured calls per thread and run.
    #[arg(long)]
    pub latency_calls: Option<u64>,
    /// Latency: one call every this many ns per thread (0: back to back).
    #[arg(long)]
    pub pace_ns: Option<u64>,
    /// Throughput: records (one thread).
    #[arg(long)]
    pub throughput_records: Option<u64>,
    /// Stall: records per thread.
    #[arg(long)]
    pub stall_records: Option<u64>,
    /// Stall: seconds the FIFO stays stalled before the driver drains it.
    #[arg(long)]
    pub stall_secs: Option<u64>,
    /// Rotation: processes sharing the base path.
    #[arg(long)]
    pub rotation_procs: Option<u32>,
    /// Rotation: seconds each process logs.
    #[arg(long)]
    pub rotation_secs: Option<u64>,
    /// Rotation: records per second per process.
    #[arg(long)]
    pub rotation_rate: Option<u64>,
    /// Rotation: don't wait to start just before a minute boundary (peers
    /// that rotate minutely then may not rotate at all).
    #[arg(long)]
    pub no_align: bool,
    /// Memory: records in the burst.
    #[arg(long)]
    pub memory_records: Option<u64>,
    /// Memory: kill a child whose resident set exceeds this many MiB.
    #[arg(long, default_value_t = 4096)]
    pub mem_cap_mib: u64,
}

/// Sizes of one invocation, after defaults.
#[derive(Debug, Clone)]
pub struct Sizes {
    /// Latency rounds.
    pub runs: usize,
    /// Latency thread counts.
    pub latency_threads: Vec<usize>,
    /// Latency: measured calls per thread.
    pub latency_calls: u64,
    /// Latency: warm-up calls per thread.
    pub latency_warmup: u64,
    /// Latency: pace, ns per call per thread (0: back to back).
    pub pace_ns: u64,
    /// Throughput records.
    pub throughput_records: u64,
    /// Stall threads.
    pub stall_threads: usize,
    /// Stall records per thread.
    pub stall_records: u64,
    /// Stall: seconds before release.
    pub stall_secs: u64,
    /// Stall: seconds after release before the child counts as hung.
    pub release_secs: u64,
    /// Rotation processes.
    pub rotation_procs: u32,
    /// Rotation seconds.
    pub rotation_secs: u64,
    /// Rotation rate per process.
    pub rotation_rate: u64,
    /// Rotation size limit.
    pub rotate_bytes: u64,
    /// Align the rotation run on a minute boundary.
    pub align: bool,
    /// Memory burst records.
    pub memory_records: u64,
    /// Memory cap, KiB.
    pub mem_cap_kb: u64,
    /// Deadline for throughput, memory and latency children, s.
    pub deadline_secs: u64,
}

impl Sizes {
    /// The sizes `o` asks for.
    pub fn of(o: &Options) -> Sizes {
        let q = o.quick;
        Sizes {
            runs: o.runs.unwrap_or(if q { 1 } else { 3 }).max(1),
            latency_threads: vec![1, 2],
            latency_calls: o.latency_calls.unwrap_or(if q { 5_000 } else { 200_000 }),
            latency_warmup: if q { 1_000 } else { 20_000 },
            pace_ns: o.pace_ns.unwrap_or(5_000),
            throughput_records: o
                .throughput_records
                .unwrap_or(if q { 20_000 } else { 2_000_000 }),
            stall_threads: 2,
            stall_records: o.stall_records.unwrap_or(if q { 5_000 } else { 500_000 }),
            stall_secs: o.stall_secs.unwrap_or(if q { 2 } else { 10 }),
            release_secs: if q { 5 } else { 20 },
            rotation_procs: o.rotation_procs.unwrap_or(3),
            rotation_secs: o.rotation_secs.unwrap_or(if q { 2 } else { 10 }),
            rotation_rate: o.rotation_rate.unwrap_or(if q { 2_000 } else { 5_000 }),
            rotate_bytes: if q { 64 * 1024 } else { 256 * 1024 },
            align: !q && !o.no_align,
            memory_records: o
                .memory_records
                .unwrap_or(if q { 50_000 } else { 10_000_000 }),
            mem_cap_kb: o.mem_cap_mib * 1024,
            deadline_secs: if q { 60 } else { 300 },
        }
    }

    /// One line per setting, for the report.
    pub fn describe(&self) -> Vec<String> {
        vec![
            format!(
                "latency: {} round(s); threads {:?}; {} measured calls per thread after {} warm-up calls; {}",
                self.runs,
                self.latency_threads,
                self.latency_calls,
                self.latency_warmup,
                if self.pace_ns == 0 {
                    "back to back".to_string()
                } else {
                    format!("one call every {} ns per thread (spin-paced)", self.pace_ns)
                }
            ),
            format!(
                "throughput: {} records from 1 thread, back to back",
                self.throughput_records
            ),
            format!(
                "stall: {} threads × {} records, back to back, into a FIFO nobody reads for {} s; then drained (hung if not done {} s later)",
                self.stall_threads, self.stall_records, self.stall_secs, self.release_secs
            ),
            format!(
                "rotation: {} processes per peer × {} records/s for {} s, size limit {} KiB where the peer rotates by size{}; all peers at once",
                self.rotation_procs,
                self.rotation_rate,
                self.rotation_secs,
                self.rotate_bytes / 1024,
                if self.align {
                    ", started so the run straddles a minute boundary"
                } else {
                    ", not aligned to a minute boundary"
                }
            ),
            format!(
                "memory: {} records from 1 thread, back to back; a child above {} MiB RSS is killed",
                self.memory_records,
                self.mem_cap_kb / 1024
            ),
        ]
    }
}
