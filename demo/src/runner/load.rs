//! The bounded loopback load generator.
//!
//! Per target (service) a fixed number of workers; each worker sends
//! `GET /v1/healthCheck` on its own fixed schedule (`workers / rate`
//! apart, staggered), waits for the answer or the client timeout, and
//! records one [`Sample`]. A worker never has more than one request in
//! flight and skips the ticks it missed, so a hung service receives at most
//! `workers` requests per timeout and the generator can never pile up an
//! unbounded backlog.
//!
//! Connections: by default a fresh TCP connection per request (no idle
//! pool). That is what nginx does towards an upstream unless `keepalive` is
//! configured, it makes every request go through the kernel's accept queue
//! and the server's accept loop as in the incident's tcpdump, and it means
//! a connection stuck behind a hung request can never delay the next one.
//! `--keep-alive` switches to a pooled client for comparison.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// The path every request asks for.
pub const PATH: &str = "/v1/healthCheck";
/// Error messages kept per run (the first ones).
const KEEP_ERRORS: usize = 5;

/// Load parameters, the same for every target.
#[derive(Debug, Clone, Serialize)]
pub struct LoadConfig {
    /// Concurrent workers per target.
    pub workers: usize,
    /// Target request rate per target, requests/s.
    pub rate: f64,
    /// Client timeout per request.
    pub timeout: Duration,
    /// Reuse connections.
    pub keep_alive: bool,
    /// Bytes of query string on every request (`?q=xxx...`; 0: none). The
    /// service logs the URI, so this sets the size of each log line.
    pub query_bytes: usize,
}

/// What became of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Outcome {
    /// A 2xx response with its body.
    Answered,
    /// No complete answer within the client timeout (nginx's 504).
    TimedOut,
    /// Connection error or non-2xx status.
    Error,
}

/// One request.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Index of the target it was sent to.
    pub target: usize,
    /// When it was sent, since the phase's time origin.
    pub sent_at: Duration,
    /// How long until the answer, timeout or error.
    pub latency: Duration,
    /// What happened.
    pub outcome: Outcome,
}

/// Live counters of one target, for the progress display.
#[derive(Debug, Default)]
pub struct Live {
    /// Requests sent.
    pub sent: AtomicU64,
    /// Answered.
    pub answered: AtomicU64,
    /// Timed out.
    pub timed_out: AtomicU64,
    /// Errors.
    pub errors: AtomicU64,
}

/// A running load generator.
pub struct Load {
    stop: Arc<AtomicBool>,
    live: Vec<Arc<Live>>,
    errors: Arc<Mutex<Vec<String>>>,
    workers: Vec<JoinHandle<Vec<Sample>>>,
}

/// What [`Load::finish`] returns.
pub struct LoadResult {
    /// Every request, in no particular order.
    pub samples: Vec<Sample>,
    /// The first few error messages.
    pub first_errors: Vec<String>,
}

impl Load {
    /// Starts the workers on the current tokio runtime. Sample times are
    /// measured from `origin`.
    pub fn start(targets: &[SocketAddr], cfg: &LoadConfig, origin: Instant) -> Result<Load> {
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .timeout(cfg.timeout);
        if !cfg.keep_alive {
            builder = builder.pool_max_idle_per_host(0);
        }
        let client = builder.build().context("building the HTTP client")?;
        let stop = Arc::new(AtomicBool::new(false));
        let errors = Arc::new(Mutex::new(Vec::new()));
        let period = Duration::from_secs_f64(cfg.workers as f64 / cfg.rate);
        let first = tokio::time::Instant::now() + Duration::from_millis(20);
        let mut live = Vec::new();
        let mut workers = Vec::new();
        for (target, addr) in targets.iter().enumerate() {
            let counters = Arc::new(Live::default());
            for w in 0..cfg.workers {
                let stagger = period.mul_f64(w as f64 / cfg.workers as f64);
                let worker = Worker {
                    client: client.clone(),
                    url: url(*addr, cfg.query_bytes),
                    target,
                    timeout: cfg.timeout,
                    origin,
                    stop: Arc::clone(&stop),
                    live: Arc::clone(&counters),
                    errors: Arc::clone(&errors),
                };
                workers.push(tokio::spawn(worker.run(first + stagger, period)));
            }
            live.push(counters);
        }
        Ok(Load {
            stop,
            live,
            errors,
            workers,
        })
    }

    /// Live counters per target.
    pub fn live(&self) -> &[Arc<Live>] {
        &self.live
    }

    /// Stops sending and waits for the requests in flight (each ends by
    /// the client timeout at the latest).
    pub async fn finish(self) -> Result<LoadResult> {
        self.stop.store(true, Ordering::SeqCst);
        let mut samples = Vec::new();
        for w in self.workers {
            samples.extend(w.await.context("a load worker panicked")?);
        }
        let first_errors = self
            .errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        Ok(LoadResult {
            samples,
            first_errors,
        })
    }
}

/// The URL of every request to `addr`.
fn url(addr: SocketAddr, query_bytes: usize) -> String {
    if query_bytes == 0 {
        format!("http://{addr}{PATH}")
    } else {
        format!("http://{addr}{PATH}?q={}", "x".repeat(query_bytes))
    }
}

/// One client worker.
struct Worker {
    client: reqwest::Client,
    url: String,
    target: usize,
    timeout: Duration,
    origin: Instant,
    stop: Arc<AtomicBool>,
    live: Arc<Live>,
    errors: Arc<Mutex<Vec<String>>>,
}

impl Worker {
    async fn run(self, first: tokio::time::Instant, period: Duration) -> Vec<Sample> {
        let mut ticks = tokio::time::interval_at(first, period);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut out = Vec::new();
        loop {
            ticks.tick().await;
            if self.stop.load(Ordering::SeqCst) {
                return out;
            }
            let sent = Instant::now();
            self.live.sent.fetch_add(1, Ordering::Relaxed);
            let outcome = self.request().await;
            let latency = sent.elapsed();
            let counter = match outcome {
                Outcome::Answered => &self.live.answered,
                Outcome::TimedOut => &self.live.timed_out,
                Outcome::Error => &self.live.errors,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            out.push(Sample {
                target: self.target,
                sent_at: sent.saturating_duration_since(self.origin),
                latency,
                outcome,
            });
        }
    }

    async fn request(&self) -> Outcome {
        // The client has the same timeout; this outer bound only guards
        // against a timer the client might not apply to some stage.
        let bound = self.timeout + Duration::from_millis(500);
        let call = async {
            let resp = self.client.get(&self.url).send().await?;
            let status = resp.status();
            resp.bytes().await?;
            Ok::<_, reqwest::Error>(status)
        };
        match tokio::time::timeout(bound, call).await {
            Err(_) => Outcome::TimedOut,
            Ok(Ok(status)) if status.is_success() => Outcome::Answered,
            Ok(Ok(status)) => {
                self.note(format!("HTTP {status} from {}", self.url));
                Outcome::Error
            }
            Ok(Err(e)) if e.is_timeout() => Outcome::TimedOut,
            Ok(Err(e)) => {
                self.note(format!("{e:#} ({})", self.url));
                Outcome::Error
            }
        }
    }

    fn note(&self, msg: String) {
        let mut errors = self
            .errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if errors.len() < KEEP_ERRORS {
            errors.push(msg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A tiny server: answers `answered` connections, then accepts and
    /// never answers (the incident, from the client's side).
    async fn server(answered: usize) -> SocketAddr {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let mut n = 0;
            let mut hung = Vec::new();
            loop {
                let (mut s, _) = l.accept().await.unwrap();
                n += 1;
                if n > answered {
                    hung.push(s);
                    continue;
                }
                tokio::spawn(async move {
                    let mut buf = [0u8; 1024];
                    let _ = s.read(&mut buf).await;
                    let _ = s
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                        )
                        .await;
                });
            }
        });
        addr
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn answers_then_timeouts_are_recorded() {
        let addr = server(20).await;
        let cfg = LoadConfig {
            workers: 4,
            rate: 200.0,
            timeout: Duration::from_millis(300),
            keep_alive: false,
            query_bytes: 0,
        };
        let origin = Instant::now();
        let load = Load::start(&[addr], &cfg, origin).unwrap();
        tokio::time::sleep(Duration::from_millis(600)).await;
        let live_sent = load.live()[0].sent.load(Ordering::Relaxed);
        let r = load.finish().await.unwrap();
        assert!(live_sent > 0);
        let answered = r.samples.iter().filter(|s| s.outcome == Outcome::Answered);
        let timed_out = r.samples.iter().filter(|s| s.outcome == Outcome::TimedOut);
        assert_eq!(answered.count(), 20, "{:?}", r.first_errors);
        assert!(timed_out.count() >= 4);
        for s in &r.samples {
            if s.outcome == Outcome::TimedOut {
                assert!(s.latency >= cfg.timeout);
            }
        }
    }
}
