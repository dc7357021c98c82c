//! The `jamless` command against the classic pipe loggers: Apache's
//! `rotatelogs`, daemontools' `multilog` and runit's `svlogd`.
//!
//! `cargo bench -p jamless-cli --bench pipe` (short: about half a minute).
//! `JAMLESS_CLI_BENCH_LINES` sets the number of lines of the throughput
//! runs (default 1,000,000), `JAMLESS_CLI_BENCH_ROUNDS` the rounds (3).
//!
//! Two measurements, each consumer in its own process, the producer being
//! this process writing into a real pipe:
//!
//! 1. **Throughput to a file**: N lines of about 100 bytes, written in
//!    64 KiB `write()` calls as fast as the pipe takes them; the time is
//!    from the first write to the consumer's exit (after end of input, so
//!    its flush is included). Every consumer's output directory is read
//!    back and its lines counted; jamless's drops (it never makes the
//!    producer wait, so a producer faster than the disk path loses lines
//!    and counts them) are reported beside its rate.
//! 2. **Producer write latency with the sink stalled**: the consumer's
//!    output is a FIFO that is open but never read (rotatelogs and jamless
//!    can write to a FIFO; multilog and svlogd write into a directory of
//!    regular files they rename, so they are not run here). The producer
//!    writes one line per `write()`, as a line-buffered program does, for
//!    at most 5 s; a write still blocked then is ended by killing the
//!    consumer, and counts as blocked.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{idle_reader, mkfifo, try_produce, WriteTimes, JAMLESS};

/// A consumer's arguments for an output directory (or FIFO).
type ArgsFn = fn(&Path) -> Vec<String>;

/// One consumer: its name and how to start it writing into `dir`.
struct Consumer {
    name: &'static str,
    program: &'static str,
    args: ArgsFn,
    /// Prepares `dir` (svlogd's config file).
    setup: fn(&Path),
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

fn consumers() -> Vec<Consumer> {
    vec![
        Consumer {
            name: "jamless --file",
            program: JAMLESS,
            args: |d| {
                vec![
                    "--file".into(),
                    s(&d.join("app.log")),
                    "--report-file".into(),
                    s(&d.join("../report.json")),
                ]
            },
            setup: |_| {},
        },
        Consumer {
            name: "jamless --rotate hourly",
            program: JAMLESS,
            args: |d| {
                vec![
                    "--file".into(),
                    s(&d.join("app.log")),
                    "--rotate".into(),
                    "hourly".into(),
                    "--report-file".into(),
                    s(&d.join("../report.json")),
                ]
            },
            setup: |_| {},
        },
        Consumer {
            name: "rotatelogs (hourly)",
            program: "rotatelogs",
            args: |d| vec![s(&d.join("app.%Y%m%d%H.log")), "3600".into()],
            setup: |_| {},
        },
        Consumer {
            name: "multilog s16777215",
            program: "multilog",
            args: |d| vec!["s16777215".into(), s(d)],
            setup: |_| {},
        },
        Consumer {
            name: "svlogd (s100000000)",
            program: "svlogd",
            args: |d| vec![s(d)],
            setup: |d| std::fs::write(d.join("config"), "s100000000\n").unwrap(),
        },
    ]
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn check_installed(program: &str) {
    if program == JAMLESS {
        return;
    }
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "{program} is not installed: apt-get install apache2-utils daemontools runit"
    );
}

fn start(program: &str, args: &[String]) -> Child {
    Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {program}: {e}"))
}

/// The producer's lines in every log file under `dir` (not svlogd's and
/// multilog's bookkeeping files, not jamless's drop notices).
fn count_lines(dir: &Path) -> u64 {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        if ["config", "lock", "state", "newstate"].contains(&name.as_str()) || !p.is_file() {
            continue;
        }
        let data = std::fs::read(&p).unwrap();
        n += data
            .split(|&b| b == b'\n')
            .filter(|l| l.starts_with(b"line "))
            .count() as u64;
    }
    n
}

struct Throughput {
    secs: f64,
    lines_out: u64,
    dropped: Option<u64>,
}

fn throughput(c: &Consumer, n: u64) -> Throughput {
    let root = tempfile::tempdir().unwrap();
    let dir: PathBuf = root.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    (c.setup)(&dir);
    let mut child = start(c.program, &(c.args)(&dir));
    let stdin = child.stdin.take().unwrap();
    let t0 = Instant::now();
    // 64 KiB writes: about 650 lines of ~100 bytes.
    let (_, stdin, error) = try_produce(stdin, n, 650);
    assert!(error.is_none(), "{}: {error:?}", c.name);
    drop(stdin);
    let status = child.wait().unwrap();
    let secs = t0.elapsed().as_secs_f64();
    let report = root.path().join("report.json");
    let dropped = report.exists().then(|| {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        v["lost"].as_u64().unwrap()
    });
    assert!(
        status.success() || (dropped.is_some_and(|d| d > 0) && status.code() == Some(1)),
        "{}: {status}",
        c.name
    );
    let lines_out = count_lines(&dir);
    assert_eq!(
        lines_out + dropped.unwrap_or(0),
        n,
        "{}: every line written (or, for jamless, counted as lost)",
        c.name
    );
    Throughput {
        secs,
        lines_out,
        dropped,
    }
}

/// Producer latency while the consumer's output FIFO is never read.
fn stalled(name: &str, program: &str, args: ArgsFn, n: u64) -> (WriteTimes, bool) {
    let dir = tempfile::tempdir().unwrap();
    let fifo = mkfifo(dir.path(), "app.log");
    let _reader = idle_reader(&fifo);
    let mut child = start(program, &args(&fifo));
    let stdin = child.stdin.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let producer = std::thread::spawn(move || {
        let r = try_produce(stdin, n, 1);
        let _ = tx.send(());
        r
    });
    let blocked = rx.recv_timeout(Duration::from_secs(5)).is_err();
    let _ = child.kill();
    let _ = child.wait();
    let (times, _, error) = producer.join().unwrap();
    if !blocked {
        assert!(error.is_none(), "{name}: {error:?}");
    }
    (times, blocked)
}

fn fmt_d(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns >= 1_000_000_000 {
        format!("{:.2} s", d.as_secs_f64())
    } else if ns >= 1_000_000 {
        format!("{:.2} ms", ns as f64 / 1e6)
    } else if ns >= 1_000 {
        format!("{:.1} µs", ns as f64 / 1e3)
    } else {
        format!("{ns} ns")
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes
    // nothing: then run a tiny smoke version.
    let full = std::env::args().any(|a| a == "--bench");
    let n = if full {
        env_u64("JAMLESS_CLI_BENCH_LINES", 1_000_000)
    } else {
        20_000
    };
    let rounds = if full {
        env_u64("JAMLESS_CLI_BENCH_ROUNDS", 3)
    } else {
        1
    };
    let list = consumers();
    for c in &list {
        check_installed(c.program);
    }
    println!("## Throughput: {n} lines of ~100 bytes from a pipe to a file, {rounds} rounds (interleaved)\n");
    let mut results: Vec<Vec<Throughput>> = list.iter().map(|_| Vec::new()).collect();
    for _ in 0..rounds {
        for (c, r) in list.iter().zip(results.iter_mut()) {
            r.push(throughput(c, n));
        }
    }
    println!(
        "| consumer | lines/s (median) | min–max | lines in files | lines dropped (counted) |"
    );
    println!("|---|---:|---:|---:|---:|");
    for (c, r) in list.iter().zip(&results) {
        let mut rates: Vec<f64> = r.iter().map(|t| t.lines_out as f64 / t.secs).collect();
        rates.sort_by(f64::total_cmp);
        let median = rates[rates.len() / 2];
        let lines: Vec<String> = r.iter().map(|t| t.lines_out.to_string()).collect();
        let dropped: Vec<String> = r
            .iter()
            .map(|t| t.dropped.map_or("–".to_string(), |d| d.to_string()))
            .collect();
        println!(
            "| {} | {:.0} | {:.0}–{:.0} | {} | {} |",
            c.name,
            median,
            rates[0],
            rates[rates.len() - 1],
            lines.join(" / "),
            dropped.join(" / ")
        );
    }

    let m = if full { 300_000 } else { 20_000 };
    println!("\n## Producer write() latency, output FIFO never read: {m} lines, one write() each, 5 s limit\n");
    println!("| consumer | writes done | p50 | p99 | p99.9 | max | writes > 1 ms | blocked at the limit |");
    println!("|---|---:|---:|---:|---:|---:|---:|---|");
    let stalled_runs: [(&str, &str, ArgsFn); 2] = [
        ("jamless --file FIFO", JAMLESS, |f| {
            vec![
                "--file".into(),
                s(f),
                "--shutdown-timeout".into(),
                "1s".into(),
            ]
        }),
        ("rotatelogs -t FIFO", "rotatelogs", |f| {
            vec!["-t".into(), s(f), "3600".into()]
        }),
    ];
    for (name, program, args) in stalled_runs {
        let (t, blocked) = stalled(name, program, args, m);
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} | {} |",
            t.writes,
            fmt_d(t.quantile(0.5)),
            fmt_d(t.quantile(0.99)),
            fmt_d(t.quantile(0.999)),
            fmt_d(t.max()),
            t.over(Duration::from_millis(1)),
            if blocked { "yes (killed)" } else { "no" }
        );
    }
}
