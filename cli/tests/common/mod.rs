//! Helpers for the `jamless` command's tests: the real binary as a child
//! process, a producer that times its `write()` calls, a FIFO, and a tiny
//! loopback HTTP client.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub const JAMLESS: &str = env!("CARGO_BIN_EXE_jamless");

/// Starts `jamless` with `args`, standard input piped, standard error
/// captured.
pub fn spawn(args: &[&str]) -> Child {
    Command::new(JAMLESS)
        .args(args)
        // The filters under test are the command's and the file's.
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start jamless")
}

/// Waits for the child to exit, at most `limit`; kills it and fails if it
/// does not. Returns its status and standard error.
pub fn wait_exit(child: &mut Child, limit: Duration) -> (ExitStatus, String) {
    let t0 = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                e.read_to_string(&mut err).unwrap();
            }
            return (status, err);
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("jamless did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// What a producer measured about its own `write()` calls.
#[derive(Debug, Clone)]
pub struct WriteTimes {
    pub writes: u64,
    pub bytes: u64,
    pub elapsed: Duration,
    /// Sorted durations of every write, in nanoseconds.
    pub sorted_ns: Vec<u64>,
}

impl WriteTimes {
    pub fn max(&self) -> Duration {
        Duration::from_nanos(self.sorted_ns.last().copied().unwrap_or(0))
    }

    pub fn quantile(&self, q: f64) -> Duration {
        if self.sorted_ns.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.sorted_ns.len() - 1) as f64 * q).round() as usize;
        Duration::from_nanos(self.sorted_ns[i])
    }

    pub fn over(&self, bound: Duration) -> usize {
        let b = bound.as_nanos() as u64;
        self.sorted_ns.len() - self.sorted_ns.partition_point(|&n| n <= b)
    }
}

impl std::fmt::Display for WriteTimes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} writes, {} bytes in {:?}; write() p50 {:?} p99 {:?} p99.9 {:?} max {:?}",
            self.writes,
            self.bytes,
            self.elapsed,
            self.quantile(0.5),
            self.quantile(0.99),
            self.quantile(0.999),
            self.max()
        )
    }
}

/// The test line number `i`: a fixed-width body of about 100 bytes.
pub fn line(i: u64) -> String {
    format!("line {i:09} GET /api/v1/items?id={i} status=200 bytes=512 duration_ms=3 user=ann\n")
}

/// Writes `n` lines, `per_write` lines per `write()` call, timing each
/// call. Closes the pipe at the end unless `keep_open`.
pub fn produce(
    stdin: ChildStdin,
    n: u64,
    per_write: u64,
    keep_open: bool,
) -> (WriteTimes, Option<ChildStdin>) {
    let (times, stdin, error) = try_produce(stdin, n, per_write);
    if let Some(e) = error {
        panic!("write to jamless: {e} after {times}");
    }
    (times, keep_open.then_some(stdin))
}

/// [`produce`] that stops at the first failed write (the reader went
/// away) and says why. The failed call's time is included.
pub fn try_produce(
    mut stdin: ChildStdin,
    n: u64,
    per_write: u64,
) -> (WriteTimes, ChildStdin, Option<std::io::Error>) {
    let mut times = Vec::with_capacity((n / per_write.max(1) + 1) as usize);
    let mut bytes = 0u64;
    let mut buf = String::new();
    let mut error = None;
    let t0 = Instant::now();
    let mut i = 0;
    'outer: while i < n {
        buf.clear();
        for _ in 0..per_write.min(n - i) {
            buf.push_str(&line(i));
            i += 1;
        }
        let mut data = buf.as_bytes();
        while !data.is_empty() {
            let t = Instant::now();
            let result = stdin.write(data);
            times.push(t.elapsed().as_nanos() as u64);
            match result {
                Ok(w) => {
                    data = &data[w..];
                    bytes += w as u64;
                }
                Err(e) => {
                    error = Some(e);
                    break 'outer;
                }
            }
        }
    }
    let elapsed = t0.elapsed();
    times.sort_unstable();
    let wt = WriteTimes {
        writes: times.len() as u64,
        bytes,
        elapsed,
        sorted_ns: times,
    };
    (wt, stdin, error)
}

/// A FIFO at `dir/name`.
pub fn mkfifo(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let status = Command::new("mkfifo").arg(&path).status().unwrap();
    assert!(status.success(), "mkfifo failed: {status}");
    path
}

/// Opens the FIFO's read end without ever reading (so writes block once
/// the pipe buffer is full).
pub fn idle_reader(path: &Path) -> std::fs::File {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .unwrap()
}

/// A loopback address with a port that was free a moment ago.
pub fn free_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// `GET path` over loopback: (status code, body). Retries the connection
/// for a while, since the command binds its port after it starts.
pub fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let t0 = Instant::now();
    let mut stream = loop {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
            Ok(s) => break s,
            Err(e) if t0.elapsed() < Duration::from_secs(20) => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("connect {addr}: {e}"),
        }
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let status: u16 = raw
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad HTTP answer: {raw:?}"));
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// The command's `--report-file`, parsed.
pub fn report(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).expect("report file");
    serde_json::from_str(&text).expect("report JSON")
}

/// Checks the accounting in a final report: every line read was offered
/// or filtered, offered = accepted + rejected, accepted = written +
/// dropped_after_accept + queued, and `lost` is drops plus unwritten.
#[track_caller]
pub fn assert_report_accounted(r: &serde_json::Value, lines: u64) {
    let h = &r["health"];
    let u = |v: &serde_json::Value| v.as_u64().unwrap_or_else(|| panic!("{v} in {r:#}"));
    assert_eq!(u(&r["input"]["lines"]), lines, "lines read: {r:#}");
    assert_eq!(
        u(&h["offered"]) + u(&r["input"]["filtered"]),
        lines,
        "every line offered or filtered: {r:#}"
    );
    assert_eq!(
        u(&h["offered"]),
        u(&h["accepted"]) + u(&h["rejected"]),
        "offered = accepted + rejected: {r:#}"
    );
    assert_eq!(
        u(&h["accepted"]),
        u(&h["written"]) + u(&h["dropped_after_accept"]) + u(&h["queued"]),
        "accepted = written + dropped_after_accept + queued: {r:#}"
    );
    assert_eq!(
        u(&r["lost"]),
        u(&h["rejected"]) + u(&h["dropped_after_accept"]) + u(&r["flush"]["unwritten"]),
        "lost = dropped + unwritten: {r:#}"
    );
}

/// Sends `signal` (a name such as `HUP`) to the child with kill(1).
pub fn signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} {}", child.id());
}
