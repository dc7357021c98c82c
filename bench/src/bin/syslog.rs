//! `syslog`: records per second delivered to a real rsyslogd on loopback,
//! per transport, for jamless and for the Rust syslog clients people use
//! (the `syslog` crate and `fasyslog`), in the same run; then each client's
//! caller latency while rsyslogd is stopped (SIGSTOP), and whether it
//! blocks.
//!
//! Every client gets a fresh rsyslogd (the test suite's harness, so the
//! same configuration: main queue Direct, input rate limits off, one JSON
//! line per message received). Delivered means counted in rsyslogd's
//! output file; the rate is records received divided by the time from the
//! first log call to the moment the last one was seen in the file.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use jamless::{Builder, Format, Level, Logger, SyslogFormat, SyslogSink, TlsConfig, Transport};
use jamless_bench::{new_histogram, Percentiles, Stopwatch};

#[path = "../../../jamless/tests/common/rsyslog.rs"]
mod rsyslog;
use rsyslog::{Inputs, Rsyslog};

const USAGE: &str = "\
usage: syslog [--records N] [--stopped-calls N]

  --records N        records per client in the delivery runs (default 200,000)
  --stopped-calls N  calls per client while rsyslogd is stopped (default 100,000)

Needs root-free loopback ports and rsyslog (apt-get install rsyslog
rsyslog-relp rsyslog-gnutls).";

const PAYLOAD: &str = "method=GET path=/api/v1/items status=200 bytes=5120 user=alice";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Client {
    JamlessUdp,
    JamlessTcp,
    JamlessTls,
    JamlessRelp,
    SyslogUdp,
    SyslogTcp,
    FasyslogUdp,
    FasyslogTcp,
}

const CLIENTS: [Client; 8] = [
    Client::JamlessUdp,
    Client::JamlessTcp,
    Client::JamlessTls,
    Client::JamlessRelp,
    Client::SyslogUdp,
    Client::SyslogTcp,
    Client::FasyslogUdp,
    Client::FasyslogTcp,
];

impl Client {
    fn name(self) -> &'static str {
        match self {
            Client::JamlessUdp => "jamless UDP",
            Client::JamlessTcp => "jamless TCP",
            Client::JamlessTls => "jamless TLS",
            Client::JamlessRelp => "jamless RELP",
            Client::SyslogUdp => "syslog 7 UDP",
            Client::SyslogTcp => "syslog 7 TCP",
            Client::FasyslogUdp => "fasyslog 1 UDP",
            Client::FasyslogTcp => "fasyslog 1 TCP",
        }
    }

    fn inputs(self) -> Inputs {
        let mut i = Inputs::default();
        match self {
            Client::JamlessUdp | Client::SyslogUdp | Client::FasyslogUdp => i.udp = true,
            Client::JamlessTcp | Client::SyslogTcp | Client::FasyslogTcp => i.tcp = true,
            Client::JamlessTls => i.tls = true,
            Client::JamlessRelp => i.relp = true,
        }
        i
    }
}

/// One client, connected, logging from the calling thread.
enum Sender {
    /// The guard is kept so the writer runs until the client is dropped.
    Jamless(Logger, #[allow(dead_code)] jamless::Guard),
    Syslog(
        syslog::Logger<syslog::LoggerBackend, syslog::Formatter5424>,
        bool,
    ),
    Fasyslog(fasyslog::sender::SyslogSender),
}

impl Sender {
    fn connect(client: Client, rs: &Rsyslog) -> Sender {
        let addr = |port: u16| format!("127.0.0.1:{port}");
        let jamless = |t: Transport| {
            let sink = SyslogSink::builder(t).build().expect("sink");
            let quiet: jamless::ErrorHandler = Arc::new(|_: &jamless::LastError| {});
            let (logger, guard) = Builder::new()
                .sink(sink)
                .fallback(None)
                .error_handler(quiet)
                .capacity_bytes(64 << 20)
                .format(Format::syslog(SyslogFormat::rfc5424().app_name("bench")))
                .filter("info")
                .build()
                .expect("logger");
            Sender::Jamless(logger, guard)
        };
        let formatter = syslog::Formatter5424 {
            facility: syslog::Facility::LOG_USER,
            hostname: Some("bench-host".into()),
            process: "bench".into(),
            pid: std::process::id(),
        };
        match client {
            Client::JamlessUdp => jamless(Transport::udp(addr(rs.udp_port))),
            Client::JamlessTcp => jamless(Transport::tcp(addr(rs.tcp_port))),
            Client::JamlessTls => {
                let ca = &rs.certs.as_ref().expect("certificates").ca;
                jamless(Transport::tls(
                    addr(rs.tls_port),
                    TlsConfig::new(ca).server_name("localhost"),
                ))
            }
            Client::JamlessRelp => jamless(Transport::relp(addr(rs.relp_port))),
            Client::SyslogUdp => Sender::Syslog(
                syslog::udp(formatter, "127.0.0.1:0", addr(rs.udp_port)).expect("syslog udp"),
                false,
            ),
            // The crate writes no framing over TCP: users end each message
            // with a newline (non-transparent framing), as done here.
            Client::SyslogTcp => Sender::Syslog(
                syslog::tcp(formatter, addr(rs.tcp_port)).expect("syslog tcp"),
                true,
            ),
            Client::FasyslogUdp => Sender::Fasyslog(fasyslog::sender::SyslogSender::Udp(
                fasyslog::sender::udp("127.0.0.1:0", addr(rs.udp_port)).expect("fasyslog udp"),
            )),
            Client::FasyslogTcp => Sender::Fasyslog(fasyslog::sender::SyslogSender::Tcp(
                fasyslog::sender::tcp(addr(rs.tcp_port)).expect("fasyslog tcp"),
            )),
        }
    }

    fn log(&mut self, i: u64) {
        match self {
            Sender::Jamless(logger, _) => {
                logger.log(Level::Info, "bench", format_args!("record {i} {PAYLOAD}"));
            }
            Sender::Syslog(logger, newline) => {
                let nl = if *newline { "\n" } else { "" };
                // Errors are what the caller would see; the count received
                // tells what was lost.
                let _ = logger.info((
                    0u32,
                    Default::default(),
                    format!("record {i} {PAYLOAD}{nl}"),
                ));
            }
            Sender::Fasyslog(sender) => {
                let _ = sender.send_rfc5424(
                    fasyslog::Severity::INFORMATIONAL,
                    None::<String>,
                    Vec::new(),
                    format_args!("record {i} {PAYLOAD}"),
                );
            }
        }
    }

    /// Pushes out what the client buffers.
    fn finish(&mut self) {
        match self {
            Sender::Jamless(logger, _) => {
                logger.flush(Duration::from_secs(60));
            }
            Sender::Syslog(..) => {}
            Sender::Fasyslog(sender) => {
                let _ = sender.flush();
            }
        }
    }

    fn dropped(&self) -> Option<u64> {
        match self {
            Sender::Jamless(logger, _) => Some(logger.health().dropped()),
            _ => None,
        }
    }
}

fn lines_in(path: &std::path::Path) -> u64 {
    std::fs::read(path)
        .map(|b| b.iter().filter(|&&c| c == b'\n').count() as u64)
        .unwrap_or(0)
}

struct Delivery {
    received: u64,
    per_sec: f64,
    caller_ns: f64,
    dropped: Option<u64>,
}

fn delivery(client: Client, records: u64) -> Delivery {
    let dir = tempfile::tempdir().expect("temp dir");
    let rs = Rsyslog::start(dir.path(), client.inputs());
    let mut sender = Sender::connect(client, &rs);
    let t0 = Instant::now();
    for i in 0..records {
        sender.log(i);
    }
    let logged = t0.elapsed();
    sender.finish();
    // Wait until the output stops growing (or everything arrived).
    let mut last = (0, Instant::now());
    loop {
        let n = lines_in(&rs.out);
        if n != last.0 {
            last = (n, Instant::now());
        }
        if n >= records || last.1.elapsed() > Duration::from_secs(2) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let dropped = sender.dropped();
    drop(sender);
    let elapsed = last.1.duration_since(t0).as_secs_f64();
    Delivery {
        received: last.0,
        per_sec: last.0 as f64 / elapsed.max(1e-9),
        caller_ns: logged.as_nanos() as f64 / records as f64,
        dropped,
    }
}

struct Stopped {
    calls_done: u64,
    blocked: bool,
    latency: Percentiles,
}

/// Logs `calls` records with rsyslogd stopped; a client still inside a
/// call after 5 s is reported as blocked.
fn stopped(client: Client, calls: u64) -> Stopped {
    let dir = tempfile::tempdir().expect("temp dir");
    let rs = Rsyslog::start(dir.path(), client.inputs());
    let mut sender = Sender::connect(client, &rs);
    for i in 0..100 {
        sender.log(i);
    }
    sender.finish();
    std::thread::sleep(Duration::from_millis(200));
    rs.stop();
    let progress = Arc::new(AtomicU64::new(0));
    let (tx, rx) = mpsc::channel();
    let p = Arc::clone(&progress);
    let worker = std::thread::spawn(move || {
        let sw = Stopwatch::new();
        let mut h = new_histogram();
        for i in 0..calls {
            let t = sw.raw();
            sender.log(i);
            h.saturating_record(sw.nanos(t, sw.raw()).max(1));
            p.store(i + 1, Ordering::Relaxed);
        }
        let _ = tx.send(Percentiles::of(&h));
        sender
    });
    let result = rx.recv_timeout(Duration::from_secs(5));
    let calls_done = progress.load(Ordering::Relaxed);
    rs.cont();
    let latency = match result {
        Ok(p) => p,
        Err(_) => rx
            .recv()
            .expect("the worker finishes once rsyslogd reads again"),
    };
    let blocked = calls_done < calls;
    let sender = worker.join().expect("worker");
    drop(sender);
    Stopped {
        calls_done,
        blocked,
        latency,
    }
}

fn main() -> ExitCode {
    let mut records: u64 = 200_000;
    let mut stopped_calls: u64 = 100_000;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |what: &str| -> Option<u64> {
            let v = args.next().and_then(|v| v.replace('_', "").parse().ok());
            if v.is_none() {
                eprintln!("syslog: {what} needs a number\n{USAGE}");
            }
            v
        };
        match a.as_str() {
            "--records" => match num("--records") {
                Some(n) => records = n,
                None => return ExitCode::FAILURE,
            },
            "--stopped-calls" => match num("--stopped-calls") {
                Some(n) => stopped_calls = n,
                None => return ExitCode::FAILURE,
            },
            "--help" | "-h" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("syslog: unknown argument {other}\n{USAGE}");
                return ExitCode::FAILURE;
            }
        }
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "#### Delivered to rsyslogd on loopback ({records} records per client, one thread)\n\n\
         | client | received | delivered/s | caller ns/call (mean) | dropped (counted) |\n\
         |---|---:|---:|---:|---:|"
    );
    for c in CLIENTS {
        let d = delivery(c, records);
        let _ = writeln!(
            out,
            "| {} | {} ({:.1}%) | {:.0} | {:.0} | {} |",
            c.name(),
            d.received,
            100.0 * d.received as f64 / records as f64,
            d.per_sec,
            d.caller_ns,
            d.dropped
                .map_or("not counted".to_string(), |n| n.to_string())
        );
        let _ = out.flush();
    }
    let _ = writeln!(
        out,
        "\n#### Caller latency with rsyslogd stopped (SIGSTOP), {stopped_calls} calls\n\n\
         | client | blocks? | calls done in 5 s | p50 ns | p99 ns | p99.9 ns | max ns |\n\
         |---|---|---:|---:|---:|---:|---:|"
    );
    for c in CLIENTS {
        let s = stopped(c, stopped_calls);
        let l = s.latency;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            c.name(),
            if s.blocked { "**blocks**" } else { "no" },
            s.calls_done,
            l.p50,
            l.p99,
            l.p999,
            l.max
        );
        let _ = out.flush();
    }
    ExitCode::SUCCESS
}
