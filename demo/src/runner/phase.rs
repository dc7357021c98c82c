//! One logger phase: two services sharing a log directory, the load, the
//! stop, and everything collected afterwards.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use super::collector::Collector;
use super::load::{Load, LoadConfig, Sample};
use super::logs::{self, LogCount};
use super::procs::{RotationFailure, Service, ServiceSpec, Stopped};
use super::stats::{self, ServiceStats};

/// The two "pods" on one node.
pub const INSTANCES: [&str; 2] = ["pod-a", "pod-b"];
/// The log file name both share.
pub const LOG_NAME: &str = "service.log";
/// How long the services get to write their stats after SIGTERM.
const STOP_GRACE: Duration = Duration::from_secs(6);
/// How often the driver wakes up (progress, stop conditions).
const DRIVER_TICK: Duration = Duration::from_millis(200);
/// A driver wake-up this much later than due means the runner itself was
/// not running (an overloaded machine): recorded as a stall.
const STALL: Duration = Duration::from_millis(500);

/// When a phase's load ends.
#[derive(Debug, Clone, Copy)]
pub enum Until {
    /// After this many seconds.
    Secs(f64),
    /// After `secs`, if the naive consumer died by then (and `after` past
    /// its death); otherwise `after` past the death, or `max_secs`. The
    /// default of the naive phase: the faithful port's race is lost at a
    /// few percent of rotations, so a fixed run can miss it.
    AtLeast {
        /// The planned length.
        secs: f64,
        /// Load after the failure.
        after: Duration,
        /// Upper bound when the failure is late or does not come.
        max_secs: f64,
    },
    /// `after` past the first naive rotation failure, or `max_secs`.
    NaiveFails {
        /// Load after the failure.
        after: Duration,
        /// Upper bound.
        max_secs: f64,
    },
}

/// Everything one phase needs.
#[derive(Debug, Clone)]
pub struct PhaseSettings {
    /// `naive`, `jamless` or `off`.
    pub logger: String,
    /// Label for the progress bar and directories (`naive`, `off-3`, ...).
    pub label: String,
    /// The service binary.
    pub bin: PathBuf,
    /// The phase's directory (`<out>/<label>`).
    pub dir: PathBuf,
    /// Rotation period.
    pub rotate_secs: u64,
    /// Naive only: simulated file-system latency of a rotation, ms.
    pub naive_fs_latency_ms: u64,
    /// The load.
    pub load: LoadConfig,
    /// When the load ends.
    pub until: Until,
    /// Show a progress bar.
    pub progress: bool,
    /// Start the services just after a rotation instant, so that they run
    /// healthily for most of a period before their first rotation.
    pub align_start: bool,
    /// The network phase: the collector the services log to, and when
    /// (seconds into the load) it is stopped with SIGSTOP.
    pub network: Option<NetworkSettings>,
}

/// The network phase's settings.
#[derive(Debug, Clone)]
pub struct NetworkSettings {
    /// The collector's TCP address, passed as `--syslog-addr`.
    pub syslog_addr: String,
    /// Seconds into the load at which the collector is stopped.
    pub stop_at_secs: f64,
}

/// What `/health/logging` of a service answered while the collector was
/// stopped (at the end of the load).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct HealthProbe {
    /// The HTTP status, if it answered within the client timeout.
    pub status: Option<u16>,
    /// Why it did not answer.
    pub error: Option<String>,
    /// The logger's state word.
    pub state: Option<String>,
    /// The file pipeline's state.
    pub file_state: Option<String>,
    /// The syslog pipeline's state.
    pub syslog_state: Option<String>,
    /// Records the syslog pipeline counted as dropped.
    pub syslog_dropped: Option<u64>,
    /// Of those, because its backlog was full.
    pub syslog_backlog_full: Option<u64>,
    /// Records the file pipeline counted as dropped.
    pub file_dropped: Option<u64>,
}

/// One service's results.
#[derive(Debug, Clone)]
pub struct InstanceRun {
    /// Instance name.
    pub name: String,
    /// Its stats file, or why there is none.
    pub stats: Result<ServiceStats, String>,
    /// How it ended.
    pub stopped: Stopped,
    /// Its rotation failure, if it printed one.
    pub failure: Option<RotationFailure>,
    /// Where its stderr is.
    pub stderr_file: PathBuf,
}

/// A finished phase.
#[derive(Debug, Clone)]
pub struct PhaseRun {
    /// What was run.
    pub settings: PhaseSettings,
    /// Unix time of the phase's time origin, seconds.
    pub origin_unix: f64,
    /// When the load started and ended, seconds since the origin.
    pub load_window: (f64, f64),
    /// Every request.
    pub samples: Vec<Sample>,
    /// First load errors.
    pub first_errors: Vec<String>,
    /// Times (since the origin) and lengths, in seconds, at which the
    /// runner itself did not run for longer than [`STALL`]: requests in
    /// flight then may time out through no fault of the service.
    pub runner_stalls: Vec<(f64, f64)>,
    /// Per service, in [`INSTANCES`] order.
    pub instances: Vec<InstanceRun>,
    /// The log directory.
    pub log_dir: PathBuf,
    /// Lines counted in it, or why not.
    pub logs: Result<LogCount, String>,
    /// Network phase: when the collector was stopped, seconds since the
    /// origin.
    pub collector_stopped_at: Option<f64>,
    /// Network phase: per service, its `/health/logging` at the end of the
    /// load (collector still stopped).
    pub probes: Vec<HealthProbe>,
    /// Network phase: per service, request lines the collector received
    /// (counted after it was continued and the services had exited).
    pub collector_received: Vec<u64>,
}

/// Runs one phase. Must run on the main thread (see [`Service::spawn`]).
pub fn run(
    rt: &tokio::runtime::Runtime,
    set: &PhaseSettings,
    collector: Option<&Collector>,
) -> Result<PhaseRun> {
    let log_dir = set.dir.join("logs");
    std::fs::create_dir_all(&log_dir).with_context(|| format!("creating {}", log_dir.display()))?;
    if set.align_start {
        std::thread::sleep(until_just_after_rotation(
            SystemTime::now(),
            set.rotate_secs,
        ));
    }
    let origin = Instant::now();
    let origin_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let mut services = Vec::new();
    for name in INSTANCES {
        let spec = ServiceSpec {
            bin: set.bin.clone(),
            logger: set.logger.clone(),
            instance: name.to_string(),
            log_dir: log_dir.clone(),
            log_name: LOG_NAME.to_string(),
            rotate_secs: set.rotate_secs,
            naive_fs_latency_ms: set.naive_fs_latency_ms,
            stats_file: set.dir.join(format!("{name}.stats.json")),
            stderr_file: set.dir.join(format!("{name}.stderr")),
            stdout_file: set.dir.join(format!("{name}.stdout")),
            syslog_addr: set.network.as_ref().map(|n| n.syslog_addr.clone()),
        };
        services.push(Service::spawn(spec, origin)?);
    }
    let driven = rt.block_on(drive(set, &services, origin, collector))?;
    let probes = if set.network.is_some() {
        rt.block_on(probe_all(&services, set.load.timeout))
    } else {
        Vec::new()
    };
    for s in &services {
        s.terminate();
    }
    let deadline = Instant::now() + STOP_GRACE;
    let mut instances = Vec::new();
    for mut s in services {
        let stopped = s.wait_or_kill(deadline)?;
        instances.push(InstanceRun {
            name: s.spec.instance.clone(),
            stats: stats::read(&s.spec.stats_file).map_err(|e| format!("{e:#}")),
            stopped,
            failure: s.rotation_failure(),
            stderr_file: s.spec.stderr_file.clone(),
        });
    }
    let logs = logs::count_dir(&log_dir).map_err(|e| format!("{e:#}"));
    let collector_received = match collector {
        Some(c) => {
            // What the kernel still held reaches rsyslogd's output now.
            c.cont();
            std::thread::sleep(COLLECTOR_DRAIN);
            INSTANCES
                .iter()
                .map(|name| c.request_lines(&app_name(name)))
                .collect()
        }
        None => Vec::new(),
    };
    Ok(PhaseRun {
        settings: set.clone(),
        origin_unix,
        load_window: driven.window,
        samples: driven.samples,
        first_errors: driven.first_errors,
        runner_stalls: driven.stalls,
        instances,
        log_dir,
        logs,
        collector_stopped_at: driven.collector_stopped_at,
        probes,
        collector_received,
    })
}

/// How long rsyslogd gets, once continued, to write what it was sent.
const COLLECTOR_DRAIN: Duration = Duration::from_millis(1500);

/// The syslog app-name of an instance (the service's `demo-<instance>`).
pub fn app_name(instance: &str) -> String {
    format!("demo-{instance}")
}

/// `GET /health/logging` of every service, concurrently.
async fn probe_all(services: &[Service], timeout: Duration) -> Vec<HealthProbe> {
    let client = match reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            let p = HealthProbe {
                error: Some(format!("building the HTTP client: {e}")),
                ..HealthProbe::default()
            };
            return vec![p; services.len()];
        }
    };
    let tasks: Vec<_> = services
        .iter()
        .map(|s| {
            let (client, url) = (client.clone(), format!("http://{}/health/logging", s.addr));
            tokio::spawn(async move { probe(&client, url).await })
        })
        .collect();
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await.unwrap_or_else(|e| HealthProbe {
            error: Some(format!("the probe task failed: {e}")),
            ..HealthProbe::default()
        }));
    }
    out
}

async fn probe(client: &reqwest::Client, url: String) -> HealthProbe {
    let response = match client.get(&url).send().await {
        Ok(r) => r,
        Err(e) => {
            return HealthProbe {
                error: Some(if e.is_timeout() {
                    "no answer within the client timeout".to_string()
                } else {
                    e.to_string()
                }),
                ..HealthProbe::default()
            }
        }
    };
    let status = response.status().as_u16();
    let body: serde_json::Value = match response.json().await {
        Ok(v) => v,
        Err(e) => {
            return HealthProbe {
                status: Some(status),
                error: Some(format!("reading the body: {e}")),
                ..HealthProbe::default()
            }
        }
    };
    probe_from_body(status, &body)
}

/// The probe's fields from a `/health/logging` body.
pub fn probe_from_body(status: u16, body: &serde_json::Value) -> HealthProbe {
    let pipeline = |name: &str| {
        body["pipelines"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == name))
    };
    let word =
        |v: Option<&serde_json::Value>| v.and_then(|v| v["state"].as_str()).map(str::to_owned);
    let drops = |v: Option<&serde_json::Value>| {
        v.and_then(|v| v["drops"]["by_level"].as_array())
            .map(|a| a.iter().filter_map(serde_json::Value::as_u64).sum())
    };
    let (file, syslog) = (pipeline("file"), pipeline("syslog"));
    HealthProbe {
        status: Some(status),
        error: None,
        state: body["state"].as_str().map(str::to_owned),
        file_state: word(file),
        syslog_state: word(syslog),
        syslog_dropped: drops(syslog),
        syslog_backlog_full: syslog.and_then(|p| p["drops"]["backlog_full"].as_u64()),
        file_dropped: drops(file),
    }
}

/// What [`drive`] returns.
struct Driven {
    samples: Vec<Sample>,
    first_errors: Vec<String>,
    window: (f64, f64),
    stalls: Vec<(f64, f64)>,
    collector_stopped_at: Option<f64>,
}

/// Runs the load with a progress bar until the phase's end condition.
async fn drive(
    set: &PhaseSettings,
    services: &[Service],
    origin: Instant,
    collector: Option<&Collector>,
) -> Result<Driven> {
    let addrs: Vec<_> = services.iter().map(|s| s.addr).collect();
    let start = origin.elapsed().as_secs_f64();
    let load = Load::start(&addrs, &set.load, origin)?;
    let planned = match set.until {
        Until::Secs(s) | Until::AtLeast { secs: s, .. } => s,
        Until::NaiveFails { max_secs, .. } => max_secs,
    };
    let bar = progress_bar(set, planned);
    let mut tick = tokio::time::interval(DRIVER_TICK);
    let mut stalls = Vec::new();
    let mut last = Instant::now();
    let mut collector_stopped_at = None;
    loop {
        tick.tick().await;
        let gap = last.elapsed();
        last = Instant::now();
        if gap > DRIVER_TICK + STALL {
            let at = origin.elapsed().saturating_sub(gap).as_secs_f64();
            stalls.push((at, gap.as_secs_f64()));
        }
        let now = origin.elapsed().as_secs_f64();
        let death = services
            .iter()
            .filter_map(Service::rotation_failure)
            .map(|f| f.at_secs)
            .reduce(f64::min);
        if let (Some(net), Some(c), None) = (&set.network, collector, collector_stopped_at) {
            if now - start >= net.stop_at_secs {
                c.stop();
                collector_stopped_at = Some(origin.elapsed().as_secs_f64());
            }
        }
        if let Until::AtLeast { secs, max_secs, .. } = set.until {
            if death.is_none() && now - start >= secs {
                // Waiting for the race: the bar shows the bound.
                bar.set_length(max_secs.max(secs).ceil() as u64);
            }
        }
        bar.set_position((now - start).max(0.0) as u64);
        let mut message = live_message(&load, death);
        if let Some(t) = collector_stopped_at {
            message.push_str(&format!("  collector stopped at {t:.1}s"));
        }
        bar.set_message(message);
        if should_stop(set.until, now - start, death.map(|d| d - start)) {
            break;
        }
    }
    let end = origin.elapsed().as_secs_f64();
    bar.set_message(format!(
        "{}  (waiting for requests in flight)",
        live_message(&load, None)
    ));
    let result = load.finish().await?;
    bar.finish_and_clear();
    Ok(Driven {
        samples: result.samples,
        first_errors: result.first_errors,
        window: (start, end),
        stalls,
        collector_stopped_at,
    })
}

/// How long from `now` until 100 ms after the next wall-clock multiple of
/// `period` seconds.
pub fn until_just_after_rotation(now: SystemTime, period: u64) -> Duration {
    let period_ms = u128::from(period.max(1)) * 1000;
    let now_ms = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let next = (now_ms / period_ms + 1) * period_ms + 100;
    Duration::from_millis(u64::try_from(next - now_ms).unwrap_or(0))
}

/// Whether the load should end, `elapsed` and `death` measured from the
/// load's start.
pub fn should_stop(until: Until, elapsed: f64, death: Option<f64>) -> bool {
    match until {
        Until::Secs(s) => elapsed >= s,
        Until::AtLeast {
            secs,
            after,
            max_secs,
        } => {
            elapsed >= max_secs.max(secs)
                || (elapsed >= secs && death.is_some_and(|d| elapsed >= d + after.as_secs_f64()))
        }
        Until::NaiveFails { after, max_secs } => {
            elapsed >= max_secs || death.is_some_and(|d| elapsed >= d + after.as_secs_f64())
        }
    }
}

fn live_message(load: &Load, death: Option<f64>) -> String {
    use std::sync::atomic::Ordering::Relaxed;
    let (mut answered, mut timed_out, mut errors) = (0, 0, 0);
    for l in load.live() {
        answered += l.answered.load(Relaxed);
        timed_out += l.timed_out.load(Relaxed);
        errors += l.errors.load(Relaxed);
    }
    let mut msg = format!("answered {answered}  timed out {timed_out}  errors {errors}");
    if let Some(d) = death {
        msg.push_str(&format!("  consumer died at {d:.1}s"));
    }
    msg
}

fn progress_bar(set: &PhaseSettings, planned: f64) -> ProgressBar {
    if !set.progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(planned.ceil() as u64);
    let style = ProgressStyle::with_template("{prefix:>8} [{bar:25}] {pos:>3}/{len}s  {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(set.label.clone());
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_alignment() {
        let t = |ms: u64| UNIX_EPOCH + Duration::from_millis(ms);
        assert_eq!(
            until_just_after_rotation(t(3_000), 3),
            Duration::from_millis(3_100)
        );
        assert_eq!(
            until_just_after_rotation(t(5_500), 3),
            Duration::from_millis(600)
        );
        assert_eq!(
            until_just_after_rotation(t(5_950), 1),
            Duration::from_millis(150)
        );
    }

    #[test]
    fn stop_conditions() {
        assert!(!should_stop(Until::Secs(5.0), 4.9, Some(1.0)));
        assert!(should_stop(Until::Secs(5.0), 5.0, None));
        let u = Until::NaiveFails {
            after: Duration::from_secs(3),
            max_secs: 30.0,
        };
        assert!(!should_stop(u, 10.0, None));
        assert!(!should_stop(u, 10.0, Some(8.0)));
        assert!(should_stop(u, 11.0, Some(8.0)));
        assert!(should_stop(u, 30.0, None));
        let a = Until::AtLeast {
            secs: 25.0,
            after: Duration::from_secs(3),
            max_secs: 90.0,
        };
        // An early failure: the planned length.
        assert!(!should_stop(a, 24.9, Some(2.0)));
        assert!(should_stop(a, 25.0, Some(2.0)));
        // A late one: `after` past it.
        assert!(!should_stop(a, 26.0, Some(24.0)));
        assert!(should_stop(a, 27.0, Some(24.0)));
        // None yet: wait, up to the bound.
        assert!(!should_stop(a, 60.0, None));
        assert!(should_stop(a, 90.0, None));
    }
}
