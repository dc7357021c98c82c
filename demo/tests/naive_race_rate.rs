//! A MEASUREMENT, not a check (ignored by default): how often does the
//! naive logger's rotation race happen with two real service processes
//! sharing one log path, rotating every second, under load?
//!
//! ```text
//! cargo test --release -p jamless-demo --test naive_race_rate -- --ignored --nocapture
//! ```
//!
//! Environment: `NAIVE_RACE_TRIALS` (default 5), `NAIVE_RACE_MAX_ROTATIONS`
//! per trial (default 30), `NAIVE_RACE_CLIENTS` keep-alive load connections
//! (default 2; 0 = idle), `NAIVE_RACE_FS_LATENCY_MS` (default 0: the
//! faithful port; see `--naive-fs-latency-ms`).
//!
//! Each trial runs until a consumer prints `naive: rotation failed` or the
//! rotation budget is spent, and counts the rotation boundaries that
//! passed. The per-boundary failure rate is failures / boundaries. From the
//! trailer lines (`# naive log closed at ...`, written when a rotation
//! starts) it also prints, per boundary, how far apart the two processes
//! started rotating: the race needs them within a few tens of µs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Starts one naive service; returns it, its address and its stderr lines.
fn start(
    dir: &Path,
    instance: &str,
    latency_ms: u64,
) -> (Killed, SocketAddr, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jamless-demo-service"))
        .args([
            "--logger",
            "naive",
            "--rotate-secs",
            "1",
            "--instance",
            instance,
        ])
        .arg("--naive-fs-latency-ms")
        .arg(latency_ms.to_string())
        .arg("--log-dir")
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the service");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("listening line");
    let addr = line
        .trim()
        .trim_start_matches("listening on ")
        .parse()
        .expect("address");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (Killed(child), addr, rx)
}

/// Keep-alive `GET /v1/healthCheck` in a loop until `stop`.
fn load(addr: SocketAddr, stop: Arc<AtomicBool>, sent: Arc<AtomicU64>) {
    let request = format!("GET /v1/healthCheck HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut s) = TcpStream::connect(addr) else {
            return;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        // One response fits in one read (a short header and "ok\n").
        while !stop.load(Ordering::Relaxed)
            && s.write_all(request.as_bytes()).is_ok()
            && s.read(&mut buf).is_ok_and(|n| n > 0)
        {
            sent.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Per boundary second: the two processes' rotation start times (trailers).
fn start_offsets_us(dir: &Path) -> Vec<f64> {
    let mut by_pid: std::collections::BTreeMap<String, std::collections::BTreeMap<i64, f64>> =
        Default::default();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        for line in text.lines() {
            // "# naive log closed at 2026/11/27 09:37:11.000006 UTC by pid 11061"
            let Some(rest) = line.strip_prefix("# naive log closed at ") else {
                continue;
            };
            let parts: Vec<&str> = rest.split_whitespace().collect();
            let (Some(time), Some(pid)) = (parts.get(1), parts.get(5)) else {
                continue;
            };
            let secs: Vec<f64> = time.split(':').filter_map(|p| p.parse().ok()).collect();
            if let [h, m, s] = secs[..] {
                let t = h * 3600.0 + m * 60.0 + s;
                by_pid
                    .entry(pid.to_string())
                    .or_default()
                    .insert(t.floor() as i64, t);
            }
        }
    }
    let pids: Vec<_> = by_pid.values().collect();
    let [a, b] = pids[..] else { return Vec::new() };
    a.iter()
        .filter_map(|(sec, ta)| b.get(sec).map(|tb| (ta - tb).abs() * 1e6))
        .collect()
}

#[test]
#[ignore = "a measurement of the naive rotation race; takes up to a minute per trial"]
fn naive_rotation_race_rate() {
    let trials = env("NAIVE_RACE_TRIALS", 5);
    let max_rotations = env("NAIVE_RACE_MAX_ROTATIONS", 30);
    let clients = env("NAIVE_RACE_CLIENTS", 2);
    let latency = env("NAIVE_RACE_FS_LATENCY_MS", 0);
    let (mut failures, mut boundaries) = (0u64, 0u64);
    let mut failed_offsets = Vec::new();
    for trial in 0..trials {
        let root = tempfile::tempdir().expect("tempdir");
        let dir = root.path().join("logs");
        let (_a, addr_a, err_a) = start(&dir, "a", latency);
        let (_b, addr_b, err_b) = start(&dir, "b", latency);
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let loaders: Vec<_> = (0..clients)
            .map(|i| {
                let addr = if i % 2 == 0 { addr_a } else { addr_b };
                let (stop, sent) = (Arc::clone(&stop), Arc::clone(&sent));
                std::thread::spawn(move || load(addr, stop, sent))
            })
            .collect();
        let started = now_secs();
        let deadline =
            Instant::now() + Duration::from_secs(max_rotations) + Duration::from_millis(500);
        let mut failed = None;
        while failed.is_none() && Instant::now() < deadline {
            for rx in [&err_a, &err_b] {
                while let Ok(line) = rx.try_recv() {
                    if line.contains("naive: rotation failed") && failed.is_none() {
                        failed = Some((now_secs(), line));
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        stop.store(true, Ordering::Relaxed);
        let end = failed.as_ref().map_or_else(now_secs, |(t, _)| *t);
        let passed = (end.floor() - started.floor()) as u64;
        boundaries += passed;
        let offsets = start_offsets_us(&dir);
        if failed.is_some() {
            failures += 1;
            if let Some(last) = offsets.last() {
                failed_offsets.push(*last);
            }
        }
        let mut sorted = offsets.clone();
        sorted.sort_by(f64::total_cmp);
        println!(
            "trial {trial}: {} after {passed} boundaries, {} requests; rotation start offsets (µs, sorted): {:?}",
            if failed.is_some() { "FAILED" } else { "no failure" },
            sent.load(Ordering::Relaxed),
            sorted.iter().map(|o| o.round() as u64).collect::<Vec<_>>(),
        );
        drop(loaders);
    }
    println!(
        "fs latency {latency} ms, {clients} load clients: {failures} failures in {boundaries} boundaries \
         (p ≈ {:.3} per boundary); start offsets at the failing boundaries (µs): {failed_offsets:?}",
        failures as f64 / boundaries.max(1) as f64
    );
}
