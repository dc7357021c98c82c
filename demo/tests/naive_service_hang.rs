//! The naive logger in the real service binary: once its consumer has died
//! (a rotation error, made deterministic by moving the log directory away),
//! the 32-record channel fills, the next request handlers block in their
//! first log call, and their tokio worker threads with them. `SIGTERM` still
//! produces the statistics, from a thread outside the runtime, and they show
//! what the incident's goroutine dump showed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

const PATIENCE: Duration = Duration::from_secs(15);
/// How long a request may take before the client gives up on it (nginx's
/// `proxy_read_timeout`). Not an assertion: the statistics decide.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(4);
const CHANNEL: u64 = jamless_demo::naive::LOG_BUFFER_LENGTH as u64;
const REQUESTS: usize = 40;

/// The service process; killed on every path out of the test.
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Forwards each line of `pipe` to a channel.
fn lines(pipe: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for a line containing `needle`.
fn expect_line(rx: &mpsc::Receiver<String>, needle: &str) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(_) => {}
            Err(e) => panic!("no line containing {needle:?} within {PATIENCE:?}: {e}"),
        }
    }
}

/// One `GET`; true if it was answered with 200 within the client timeout.
fn answered(addr: SocketAddr, path: &str) -> bool {
    let attempt = || -> std::io::Result<bool> {
        let mut stream = TcpStream::connect_timeout(&addr, CLIENT_TIMEOUT)?;
        stream.set_read_timeout(Some(CLIENT_TIMEOUT))?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        Ok(response.starts_with("HTTP/1.1 200"))
    };
    attempt().unwrap_or(false)
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn naive_service_hangs_after_its_consumer_dies_and_the_stats_show_it() {
    let root = tempfile::tempdir().expect("tempdir");
    let log_dir = root.path().join("logs");
    let stats_file = root.path().join("stats.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_jamless-demo-service"))
        .args([
            "--logger",
            "naive",
            "--rotate-secs",
            "1",
            "--instance",
            "hang-test",
        ])
        .arg("--log-dir")
        .arg(&log_dir)
        .arg("--stats-file")
        .arg(&stats_file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start jamless-demo-service");
    let stdout = lines(child.stdout.take().expect("stdout"));
    let stderr = lines(child.stderr.take().expect("stderr"));
    let mut service = Service(child);
    let first = expect_line(&stdout, "listening on ");
    let addr: SocketAddr = first
        .trim_start_matches("listening on ")
        .parse()
        .unwrap_or_else(|e| panic!("{first:?}: {e}"));

    // The log directory goes away; the next rotation fails and the consumer
    // says so on standard error, once, and exits.
    std::fs::rename(&log_dir, root.path().join("moved")).expect("move the log directory");
    let said = expect_line(&stderr, "naive: rotation failed:");
    assert!(said.ends_with("; consumer exiting"), "{said}");

    // Concurrent requests: the first 32 log calls fill the channel, the
    // next ones block their tokio workers; the rest are never served.
    let clients: Vec<_> = (0..REQUESTS)
        .map(|_| std::thread::spawn(move || answered(addr, "/v1/healthCheck")))
        .collect();
    let ok = clients
        .into_iter()
        .map(|c| c.join().expect("client thread"))
        .filter(|&ok| ok)
        .count() as u64;
    assert!(ok <= CHANNEL, "{ok} requests answered");

    // SIGTERM: the exit path does not need the (hung) runtime.
    let pid = i32::try_from(service.0.id()).expect("pid");
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = service.0.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "no exit within {PATIENCE:?} of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status}");

    let text = std::fs::read_to_string(&stats_file).expect("stats file");
    let stats: Value = serde_json::from_str(&text).expect("stats JSON");
    assert_eq!(stats["logger"], "naive", "{stats}");
    assert_eq!(stats["logger_state"], "dead", "{stats}");
    assert_eq!(stats["writer_alive"], false, "{stats}");
    let error = stats["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("No such file or directory"), "{stats}");
    // Exactly the channel's worth of log calls returned; at least one
    // handler is stuck inside its log call; those records are lost, and the
    // logger counted nothing as dropped.
    assert_eq!(u(&stats["log_calls_returned"]), CHANNEL, "{stats}");
    let waiting = u(&stats["log_calls_waiting"]);
    assert!(waiting >= 1, "{stats}");
    assert_eq!(u(&stats["log_calls_started"]), CHANNEL + waiting, "{stats}");
    assert_eq!(u(&stats["queued_at_exit"]), CHANNEL, "{stats}");
    assert_eq!(u(&stats["dropped_counted"]), 0, "{stats}");
    assert_eq!(u(&stats["health"]["written"]), 0, "{stats}");
    assert_eq!(u(&stats["health"]["waiting_callers"]), waiting, "{stats}");
    assert!(
        u(&stats["requests_received"]) >= CHANNEL + waiting,
        "{stats}"
    );
}
