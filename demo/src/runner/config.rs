//! Command-line flags and the values derived from them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Parser;

/// The demonstration runner: naive vs jamless under the incident's conditions.
#[derive(Parser, Debug, Clone)]
#[command(name = "jamless-demo", version, about, long_about = None)]
pub struct Args {
    /// Output directory (log dirs, stderr captures, stats, chart). Default:
    /// `<target dir>/jamless-demo/<YYYYmmdd-HHMMSS>/`.
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// Seconds of load per logger phase.
    #[arg(long, default_value_t = 25.0)]
    pub secs: f64,

    /// Rotation period of the services, in seconds (both rotate at the same
    /// wall-clock multiples). One second gives the faithful naive port about
    /// 25 chances to lose its rename race in a phase.
    #[arg(long, default_value_t = 1)]
    pub rotate_secs: u64,

    /// Naive services only, an optional SIMULATION: milliseconds the naive
    /// logger waits before each file-system call of a rotation (a slow disk
    /// or network mount), passed as the service's `--naive-fs-latency-ms`.
    /// 0 (the default) is the faithful port, whose ~25 µs rename race is
    /// lost at a few percent of rotations; 2 widens the window so the
    /// failure shows within a few rotations.
    #[arg(long, default_value_t = 0)]
    pub naive_fs_latency_ms: u64,

    /// Concurrent client workers per service.
    #[arg(long, default_value_t = 16)]
    pub workers: usize,

    /// Target request rate per service (requests/s, all its workers together).
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,

    /// Client timeout per request in milliseconds (nginx's 60 s
    /// `proxy_read_timeout`, scaled down); a request that hits it is a "504".
    #[arg(long, default_value_t = 2000)]
    pub timeout_ms: u64,

    /// Reuse connections (HTTP keep-alive). Default: a fresh connection per
    /// request, as nginx does towards an upstream without `keepalive`.
    #[arg(long)]
    pub keep_alive: bool,

    /// End the naive phase `--after-fail-secs` after its consumer died
    /// instead of after `--secs` (bounded by `--max-secs`).
    #[arg(long)]
    pub until_naive_fails: bool,

    /// Upper bound of the naive phase, seconds. By default the naive phase
    /// runs `--secs`, and longer if its rotation race has not been lost by
    /// then (until `--after-fail-secs` past the failure, at most this);
    /// with `--until-naive-fails` it ends after the failure.
    #[arg(long, default_value_t = 90.0)]
    pub max_secs: f64,

    /// Seconds of load after the naive consumer died, with
    /// `--until-naive-fails` or when the failure comes after `--secs`.
    /// Default: the client timeout plus one second.
    #[arg(long)]
    pub after_fail_secs: Option<f64>,

    /// Loggers to run, in order (`naive`, `jamless`, `off`).
    #[arg(long, value_delimiter = ',', default_value = "naive,jamless")]
    pub loggers: Vec<String>,

    /// Phases to run, in order: `rotation` (the services log to files that
    /// rotate; the incident), `network` (they log to a real rsyslogd that
    /// is then stopped, as a dead collector would be).
    #[arg(long, value_delimiter = ',', default_value = "rotation,network")]
    pub phases: Vec<String>,

    /// Loggers of the network phase, in order (`naive-syslog`: the `syslog`
    /// crate over TCP from the request path; `jamless`: a file pipeline and
    /// a syslog pipeline).
    #[arg(long, value_delimiter = ',', default_value = "naive-syslog,jamless")]
    pub network_loggers: Vec<String>,

    /// Seconds of load per logger in the network phase.
    #[arg(long, default_value_t = 20.0)]
    pub network_secs: f64,

    /// Seconds into the network phase's load at which rsyslogd is stopped
    /// (SIGSTOP); it stays stopped until the load ends.
    #[arg(long, default_value_t = 3.0)]
    pub collector_stop_secs: f64,

    /// Bytes of query string on every request of the network phase (a long
    /// search or tracking URL), which the services log with the request.
    /// At about 4 KB per line the collector's socket buffers (about 4 MB
    /// in the kernel here) fill within about 5 s; with the rotation phase's
    /// 150-byte lines it would take over a minute.
    #[arg(long, default_value_t = 4096)]
    pub network_query_bytes: usize,

    /// Write every number of the run as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,

    /// Where to write the SVG chart. Default: `<out>/chart.svg`.
    #[arg(long)]
    pub chart: Option<PathBuf>,

    /// Path of the `jamless-demo-service` binary. Default: next to this
    /// executable (built first with `cargo build` when run by `cargo run`).
    #[arg(long)]
    pub service_bin: Option<PathBuf>,

    /// Do not run `cargo build` for the service binary even under `cargo run`.
    #[arg(long)]
    pub no_build: bool,

    /// Benchmark mode: alternate `off` and `jamless` under the same load and
    /// print a markdown table of request latencies.
    #[arg(long)]
    pub bench: bool,

    /// Runs per logger in `--bench` mode.
    #[arg(long, default_value_t = 5)]
    pub bench_runs: usize,

    /// Seconds of load per run in `--bench` mode.
    #[arg(long, default_value_t = 10.0)]
    pub bench_secs: f64,

    /// Seconds at the start of each bench run left out of the statistics
    /// (process start-up, first connections).
    #[arg(long, default_value_t = 1.0)]
    pub warmup_secs: f64,

    /// Also write the `--bench` markdown table to this file.
    #[arg(long)]
    pub md: Option<PathBuf>,
}

impl Args {
    /// Rejects values that would make the run meaningless.
    pub fn validate(&self) -> Result<()> {
        if !(self.secs > 0.0 && self.max_secs > 0.0 && self.bench_secs > 0.0) {
            bail!("--secs, --max-secs and --bench-secs must be positive");
        }
        if self.rotate_secs == 0 {
            bail!("--rotate-secs must be at least 1");
        }
        if self.workers == 0 || self.rate <= 0.0 {
            bail!("--workers and --rate must be positive");
        }
        if self.timeout_ms == 0 {
            bail!("--timeout-ms must be positive");
        }
        for p in &self.phases {
            if !matches!(p.as_str(), "rotation" | "network") {
                bail!("unknown phase {p:?} (rotation or network)");
            }
        }
        for l in &self.network_loggers {
            if !matches!(l.as_str(), "naive-syslog" | "jamless") {
                bail!("unknown network logger {l:?} (naive-syslog or jamless)");
            }
        }
        if !(self.network_secs > self.collector_stop_secs && self.collector_stop_secs >= 0.0) {
            bail!("--network-secs must be longer than --collector-stop-secs (>= 0)");
        }
        for l in &self.loggers {
            if !matches!(l.as_str(), "naive" | "jamless" | "off") {
                bail!("unknown logger {l:?} (naive, jamless or off)");
            }
        }
        Ok(())
    }

    /// The client timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// Load after the naive consumer died, with `--until-naive-fails`.
    pub fn after_fail(&self) -> Duration {
        match self.after_fail_secs {
            Some(s) => Duration::from_secs_f64(s.max(0.0)),
            None => self.timeout() + Duration::from_secs(1),
        }
    }

    /// The output directory, created.
    pub fn out_dir(&self) -> Result<PathBuf> {
        let dir = match &self.out {
            Some(d) => d.clone(),
            None => default_target_dir()
                .join("jamless-demo")
                .join(local_stamp()),
        };
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(dir)
    }
}

/// The cargo target directory this executable lives in (`target/release/x`
/// → `target`), or `./target` when that is not recognisable.
fn default_target_dir() -> PathBuf {
    let exe = std::env::current_exe().ok();
    let profile_dir = exe.as_deref().and_then(Path::parent);
    match profile_dir.and_then(Path::parent) {
        Some(t) if t.join("CACHEDIR.TAG").exists() => t.to_path_buf(),
        _ => PathBuf::from("target"),
    }
}

/// Local time as `YYYYmmdd-HHMMSS`.
pub fn local_stamp() -> String {
    // SAFETY: `time(NULL)` has no preconditions; `localtime_r` writes into
    // the `tm` we own and only reads `now`.
    let tm = unsafe {
        let now = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&now, &mut tm).is_null() {
            return format!("t{now}");
        }
        tm
    };
    format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_derive() {
        let a = Args::parse_from(["jamless-demo"]);
        a.validate().unwrap();
        assert_eq!(a.loggers, ["naive", "jamless"]);
        assert_eq!(a.phases, ["rotation", "network"]);
        assert_eq!(a.network_loggers, ["naive-syslog", "jamless"]);
        let bad = Args::parse_from(["jamless-demo", "--phases", "disk"]);
        assert!(bad.validate().is_err());
        assert_eq!(a.timeout(), Duration::from_secs(2));
        assert_eq!(a.after_fail(), Duration::from_secs(3));
        let bad = Args::parse_from(["jamless-demo", "--loggers", "naive,log4go"]);
        assert!(bad.validate().is_err());
    }

    #[test]
    fn stamp_has_the_documented_shape() {
        let s = local_stamp();
        assert_eq!(s.len(), 15, "{s}");
        assert_eq!(&s[8..9], "-");
    }
}
