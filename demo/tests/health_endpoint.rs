//! `/health/logging` against the real service binary: jamless writing into
//! a FIFO whose reader does not read. The writer blocks in `write(2)`, the
//! endpoint says 503 (`stalled`) while every request is still answered and
//! no handler waits inside a log call; once the FIFO is drained it says 200
//! again, and at exit every request's log call is either in the FIFO or
//! counted as dropped.

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Upper bound for any one wait on the service; generous for slow machines.
const PATIENCE: Duration = Duration::from_secs(30);
const REQUEST_MARKER: &str = "path=/v1/healthCheck";

/// The service process; killed on every path out of the test.
struct Service {
    child: Child,
    addr: SocketAddr,
}

impl Service {
    fn start(args: &[&str]) -> Service {
        let mut child = Command::new(env!("CARGO_BIN_EXE_jamless-demo-service"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start jamless-demo-service");
        let stdout = child.stdout.take().expect("stdout pipe");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let mut service = Service {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let line = rx
            .recv_timeout(PATIENCE)
            .expect("no `listening on` line from the service");
        service.addr = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        service
    }

    fn get(&self, path: &str) -> (u16, String) {
        http_get(self.addr, path).unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// Sends SIGTERM and waits for the exit status.
    fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = i32::try_from(self.child.id()).expect("pid");
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the service did not exit on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One `GET` on a fresh connection; returns status and body.
fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad response {response:?}")))?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

fn mkfifo(path: &Path) {
    let c = CString::new(path.as_os_str().as_bytes()).expect("path without NUL");
    // SAFETY: a valid NUL-terminated path.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    assert_eq!(rc, 0, "mkfifo: {}", std::io::Error::last_os_error());
}

/// Reads the FIFO until `stop` is set and nothing is left; returns the
/// request lines read.
fn drain(mut reader: File, stop: Arc<AtomicBool>) -> JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        let mut text = Vec::new();
        loop {
            match reader.read(&mut buf) {
                Ok(n) if n > 0 => text.extend_from_slice(&buf[..n]),
                Ok(_) | Err(_) if stop.load(Ordering::Acquire) => break,
                Ok(_) => std::thread::sleep(Duration::from_millis(1)),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                Err(e) => panic!("reading the FIFO: {e}"),
            }
        }
        String::from_utf8_lossy(&text)
            .lines()
            .filter(|l| l.contains(REQUEST_MARKER))
            .count() as u64
    })
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn health_logging_reports_a_stalled_sink_then_its_recovery() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo: PathBuf = dir.path().join("service.log");
    mkfifo(&fifo);
    // A reader that holds the FIFO open and reads nothing (yet): the
    // writer's writes block once the pipe buffer is full. (Without any
    // reader, opening would fail with ENXIO and jamless would report a
    // failing sink, `degraded`, not a stall.)
    let reader = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .expect("open the FIFO for reading");
    let stats_file = dir.path().join("stats.json");
    let log_dir = dir.path().to_str().expect("utf-8 path");
    let stats_arg = stats_file.to_str().expect("utf-8 path");
    let mut service = Service::start(&[
        "--logger",
        "jamless",
        "--rotate-secs",
        "0",
        "--log-dir",
        log_dir,
        "--stats-file",
        stats_arg,
        "--instance",
        "health-test",
    ]);

    // Requests until the endpoint reports the stall. Every request must be
    // answered meanwhile: logging never holds a request up.
    let deadline = Instant::now() + PATIENCE;
    let mut requests = 0u64;
    let stalled = loop {
        for _ in 0..50 {
            assert_eq!(service.get("/v1/healthCheck").0, 200);
            requests += 1;
        }
        let (status, body) = service.get("/health/logging");
        if status == 503 {
            break json(&body);
        }
        assert_eq!(status, 200, "{body}");
        assert!(
            Instant::now() < deadline,
            "no 503 from /health/logging within {PATIENCE:?} of a blocked sink \
             ({requests} requests); last answer: {body}"
        );
    };
    assert_eq!(stalled["state"], "stalled", "{stalled}");
    assert_eq!(stalled["logger"], "jamless", "{stalled}");
    assert_eq!(
        u(&stalled["demo"]["requests_received"]),
        requests,
        "{stalled}"
    );
    assert_eq!(
        u(&stalled["demo"]["log_calls_returned"]),
        requests,
        "{stalled}"
    );
    assert_eq!(u(&stalled["demo"]["log_calls_waiting"]), 0, "{stalled}");
    assert!(u(&stalled["queued"]) > 0, "{stalled}");

    // A reader appears: the writer drains its queue and recovers.
    let stop = Arc::new(AtomicBool::new(false));
    let drained = drain(reader, Arc::clone(&stop));
    let recovered = loop {
        let (status, body) = service.get("/health/logging");
        let h = json(&body);
        // Quiet logger: nothing queued, every offered record accounted.
        let settled = u(&h["queued"]) == 0
            && u(&h["written"]) + u(&h["rejected"]) + u(&h["dropped_after_accept"])
                == u(&h["offered"]);
        if status == 200 && settled {
            break h;
        }
        assert!(
            Instant::now() < deadline + PATIENCE,
            "no recovery within {PATIENCE:?} of draining the FIFO; last answer {status}: {body}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let state = recovered["state"].as_str().unwrap_or_default();
    assert!(state == "healthy" || state == "degraded", "{recovered}");
    assert_eq!(u(&recovered["offered"]), requests, "{recovered}");
    assert_eq!(u(&recovered["demo"]["log_calls_waiting"]), 0, "{recovered}");

    // Stop it: the statistics account for every request's log call.
    let status = service.terminate();
    assert!(status.success(), "exit status {status}");
    stop.store(true, Ordering::Release);
    let lines_read = drained.join().expect("drain thread");
    let stats = json(&std::fs::read_to_string(&stats_file).expect("stats file"));
    assert_eq!(stats["logger"], "jamless", "{stats}");
    assert_eq!(stats["instance"], "health-test", "{stats}");
    assert_eq!(u(&stats["requests_received"]), requests, "{stats}");
    assert_eq!(u(&stats["log_calls_started"]), requests, "{stats}");
    assert_eq!(u(&stats["log_calls_returned"]), requests, "{stats}");
    assert_eq!(u(&stats["log_calls_waiting"]), 0, "{stats}");
    assert_eq!(stats["writer_alive"], true, "{stats}");
    assert_eq!(stats["flush_complete"], true, "{stats}");
    assert_eq!(u(&stats["queued_at_exit"]), 0, "{stats}");
    let written = u(&stats["health"]["written"]);
    assert_eq!(
        written + u(&stats["dropped_counted"]),
        requests,
        "every log call written or counted as dropped: {stats}"
    );
    assert_eq!(lines_read, written, "request lines read from the FIFO");
}
