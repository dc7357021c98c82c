//! Several pipelines per logger: each isolated, filtered, formatted and
//! accounted on its own.

mod common;
#[path = "common/procs.rs"]
mod procs;

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{collecting_handler, is_notice, read_lines, FaultySink, MemorySink};
use jamless::{
    Builder, FileSinkBuilder, Format, HealthSnapshot, Level, Outcome, Overflow, Pipeline,
    PipelineHealth, State,
};

/// No call may take longer than this (the machine is shared and slow;
/// a blocked caller would take seconds or for ever).
const HANG_BOUND: Duration = Duration::from_secs(1);

#[track_caller]
fn assert_pipeline_accounted(p: &PipelineHealth) {
    assert_eq!(
        p.received,
        p.written + p.dropped() + p.queued,
        "received = written + dropped + queued for {}: {p:?}",
        p.name
    );
    let by_level: u64 = p.drops.by_level.iter().sum();
    assert_eq!(by_level, p.dropped(), "per-level drops add up: {p:?}");
}

#[track_caller]
fn assert_logger_accounted(h: &HealthSnapshot, offered: u64) {
    assert_eq!(h.offered, offered, "{h}");
    assert_eq!(h.accepted + h.rejected, offered, "{h}");
    for p in &h.pipelines {
        assert_pipeline_accounted(p);
    }
    let in_pipelines: u64 = h.pipelines.iter().map(|p| p.queued).sum();
    assert!(h.queued >= in_pipelines, "{h}");
}

fn make_fifo(dir: &Path) -> PathBuf {
    let path = dir.join("stalled.fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .expect("mkfifo (coreutils) must be installed");
    assert!(status.success(), "mkfifo failed: {status}");
    path
}

fn record_ids(lines: &[String], prefix: &str) -> Vec<u64> {
    lines
        .iter()
        .filter_map(|l| l.split_once(prefix))
        .filter_map(|(_, rest)| rest.split_whitespace().next()?.parse().ok())
        .collect()
}

#[test]
fn a_stalled_pipeline_never_costs_the_file_a_record() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = make_fifo(dir.path());
    // A reader that opens the FIFO and never reads.
    let _reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .unwrap();
    let file = dir.path().join("app.log");
    let (handler, _reports) = collecting_handler();
    let (logger, guard) = Builder::new()
        .pipeline(
            Pipeline::new("file", FileSinkBuilder::new(&file).build()).backlog_bytes(32 << 20),
        )
        .pipeline(
            Pipeline::new("fifo", FileSinkBuilder::new(&fifo).build())
                .fallback(None)
                .backlog_bytes(1 << 20),
        )
        .shedding(None)
        .overflow(Overflow::block_for(Duration::from_secs(5)))
        .stall_timeout(Duration::from_millis(200))
        .error_handler(handler)
        .build()
        .unwrap();
    let threads = 4u64;
    let per_thread = 250_000u64;
    let worst = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let logger = logger.clone();
            let worst = Arc::clone(&worst);
            std::thread::spawn(move || {
                for i in 0..per_thread {
                    let t0 = Instant::now();
                    let o = logger.log(
                        Level::Info,
                        "app",
                        format_args!("rec {} end", t * per_thread + i),
                    );
                    worst.fetch_max(t0.elapsed().as_nanos() as u64, Ordering::Relaxed);
                    assert_eq!(o, Outcome::Accepted);
                    // Keep the file pipeline's backlog from overflowing: the
                    // test wants every record in the file, so producers wait
                    // for it (never for the stalled FIFO).
                    if i % 1000 == 0 {
                        while logger.health().pipeline("file").unwrap().queued > 50_000 {
                            std::thread::sleep(Duration::from_millis(1));
                        }
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let offered = threads * per_thread;
    // The file pipeline finishes; the FIFO one cannot.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let h = logger.health();
        let f = h.pipeline("file").unwrap();
        if f.written == offered {
            break;
        }
        assert!(Instant::now() < deadline, "file pipeline stuck: {h}");
        std::thread::sleep(Duration::from_millis(10));
    }
    let h = logger.health();
    assert_logger_accounted(&h, offered);
    let fifo_p = h.pipeline("fifo").unwrap();
    assert!(fifo_p.drops.backlog_full > 0, "{h}");
    assert_eq!(fifo_p.state, State::Stalled, "{h}");
    assert_eq!(
        h.state,
        State::Stalled,
        "an essential pipeline is stalled: {h}"
    );
    let worst = Duration::from_nanos(worst.load(Ordering::Relaxed));
    assert!(worst < HANG_BOUND, "a call took {worst:?}");
    // Every record is in the file exactly once, and notices say what the
    // FIFO lost.
    let report = guard.shutdown(Duration::from_millis(500));
    assert!(!report.complete, "the FIFO pipeline cannot finish");
    let lines = read_lines(&file);
    let mut ids = record_ids(&lines, "rec ");
    ids.sort_unstable();
    assert_eq!(ids.len() as u64, offered);
    ids.dedup();
    assert_eq!(ids.len() as u64, offered, "duplicates in the file");
    let notice = lines
        .iter()
        .find(|l| is_notice(l))
        .expect("a drop notice in the file");
    assert!(
        notice.contains("pipeline.fifo.dropped=") && notice.contains("dropped.backlog_full="),
        "{notice}"
    );
}

#[test]
fn a_panicking_or_failing_pipeline_beside_a_healthy_one() {
    for fault in [common::Fault::Panic, common::Fault::Error] {
        let good = MemorySink::new();
        let bad = FaultySink::new();
        bad.set(fault);
        let (handler, reports) = collecting_handler();
        let (logger, _guard) = Builder::new()
            .pipeline(Pipeline::new("good", good.clone()))
            .pipeline(
                Pipeline::new("bad", bad.clone())
                    .fallback(None)
                    .fallback_after(Duration::from_millis(20))
                    .retry_backoff(Duration::from_millis(1), Duration::from_millis(5))
                    .essential(false),
            )
            .error_handler(handler)
            .build()
            .unwrap();
        let n = 2_000u64;
        for i in 0..n {
            assert_eq!(
                logger.log(Level::Info, "t", format_args!("rec {i} end")),
                Outcome::Accepted
            );
        }
        let r = logger.flush(Duration::from_secs(30));
        assert!(r.complete, "{r:?} {}", logger.health());
        let h = logger.health();
        assert_logger_accounted(&h, n);
        let g = h.pipeline("good").unwrap();
        let b = h.pipeline("bad").unwrap();
        assert_eq!(g.written, n, "{h}");
        assert_eq!(b.written, 0, "{h}");
        assert_eq!(b.dropped(), n, "{h}");
        assert_eq!(b.queued, 0, "{h}");
        assert!(
            matches!(h.state, State::Degraded | State::Healthy),
            "a non-essential failure never fails the logger: {h}"
        );
        let mut ids = record_ids(&good.lines(), "rec ");
        ids.sort_unstable();
        assert_eq!(ids, (0..n).collect::<Vec<_>>());
        let notices = good.lines().into_iter().filter(|l| is_notice(l)).count();
        assert!(
            notices > 0,
            "the good pipeline tells of the bad one's losses"
        );
        assert!(!reports.lock().unwrap().is_empty());
    }
}

#[test]
fn each_pipeline_has_its_own_filter_and_format() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.json");
    let console = MemorySink::new();
    let (logger, _guard) = Builder::new()
        .pipeline(
            Pipeline::new("file", FileSinkBuilder::new(&path).build())
                .format(Format::json())
                .filter("debug"),
        )
        .pipeline(Pipeline::new("stdout", console.clone()).filter("warn,noisy=off"))
        .build()
        .unwrap();
    logger.log(Level::Debug, "app", format_args!("debug one"));
    logger.log(Level::Info, "app", format_args!("info one"));
    logger.log(Level::Warn, "app", format_args!("warn one"));
    logger.log(Level::Error, "noisy", format_args!("noisy error"));
    // Wanted by no pipeline: filtered before it is encoded.
    assert_eq!(
        logger.log(Level::Trace, "app", format_args!("trace one")),
        Outcome::Filtered
    );
    let r = logger.flush(Duration::from_secs(10));
    assert!(r.complete);
    let h = logger.health();
    assert_logger_accounted(&h, 4);
    let json: Vec<serde_json::Value> = read_lines(&path)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let messages: Vec<&str> = json
        .iter()
        .map(|v| v["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        ["debug one", "info one", "warn one", "noisy error"]
    );
    let text = console.lines();
    assert_eq!(text.len(), 1, "{text:?}");
    assert!(
        text[0].contains("WARN") && text[0].ends_with("warn one"),
        "{text:?}"
    );
    assert_eq!(h.pipeline("file").unwrap().received, 4);
    assert_eq!(h.pipeline("stdout").unwrap().received, 1);
}

#[test]
fn health_lists_three_pipelines_in_json_prometheus_and_text() {
    let sinks = [MemorySink::new(), MemorySink::new(), MemorySink::new()];
    let mut b = Builder::new();
    for (name, s) in ["file", "stdout", "collector"].iter().zip(&sinks) {
        b = b.pipeline(Pipeline::new(*name, s.clone()));
    }
    let (logger, _guard) = b.build().unwrap();
    for i in 0..10 {
        logger.log(Level::Info, "t", format_args!("rec {i}"));
    }
    assert!(logger.flush(Duration::from_secs(10)).complete);
    let h = logger.health();
    assert_logger_accounted(&h, 10);
    assert_eq!(h.written, 30, "deliveries: {h}");
    let v = serde_json::to_value(&h).unwrap();
    let names: Vec<&str> = v["pipelines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["file", "stdout", "collector"]);
    assert_eq!(v["pipelines"][2]["written"], 10);
    assert_eq!(v["pipelines"][1]["state"], "healthy");
    let prom = h.to_prometheus();
    for name in names {
        assert!(
            prom.contains(&format!(
                "jamless_pipeline_records_written_total{{pipeline=\"{name}\"}} 10"
            )),
            "{prom}"
        );
    }
    assert!(prom.contains(
        "jamless_pipeline_records_dropped_total{pipeline=\"collector\",cause=\"backlog_full\"} 0"
    ));
    let text = h.to_string();
    assert!(
        text.contains("pipeline collector (memory) state=healthy received=10 written=10"),
        "{text}"
    );
}

#[test]
fn builder_refuses_ambiguous_or_bad_pipelines() {
    let err = |b: Builder| b.build().expect_err("must be refused").to_string();
    let e = err(Builder::new()
        .file("x.log")
        .pipeline(Pipeline::new("a", MemorySink::new())));
    assert!(e.contains("Builder::pipeline"), "{e}");
    let e = err(Builder::new()
        .pipeline(Pipeline::new("a", MemorySink::new()))
        .pipeline(Pipeline::new("a", MemorySink::new())));
    assert!(e.contains("two pipelines"), "{e}");
    let e = err(Builder::new().pipeline(Pipeline::new("a b", MemorySink::new())));
    assert!(e.contains("pipeline name"), "{e}");
    let e =
        err(Builder::new().pipeline(Pipeline::new("a", MemorySink::new()).filter("info,x=loud")));
    assert!(e.contains("loud"), "{e}");
    let e = err(Builder::new()
        .fallback(Some(Box::new(MemorySink::new())))
        .pipeline(Pipeline::new("a", MemorySink::new()))
        .pipeline(Pipeline::new("b", MemorySink::new())));
    assert!(e.contains("one pipeline only"), "{e}");
}

#[test]
fn a_dead_pipeline_thread_is_restarted_without_loss() {
    let a = MemorySink::new();
    let b = MemorySink::new();
    let (logger, _guard) = Builder::new()
        .pipeline(Pipeline::new("a", a.clone()))
        .pipeline(Pipeline::new("b", b.clone()))
        .watch_interval(Duration::from_millis(10))
        .build()
        .unwrap();
    for round in 0..3 {
        logger.simulate_pipeline_death("b");
        logger.simulate_writer_death();
        for i in 0..100 {
            logger.log(
                Level::Info,
                "t",
                format_args!("rec {} end", round * 100 + i),
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        logger.flush(Duration::from_secs(10)).complete,
        "{}",
        logger.health()
    );
    let h = logger.health();
    assert_logger_accounted(&h, 300);
    assert!(h.writer_restarts >= 6, "{h}");
    for s in [&a, &b] {
        let mut ids = record_ids(&s.lines(), "rec ");
        ids.sort_unstable();
        assert_eq!(ids, (0..300).collect::<Vec<_>>());
    }
}

/// Reads a whole file into a string (for the child's stdout copy).
fn read_text(path: &Path) -> String {
    let mut s = String::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_string(&mut s))
        .unwrap_or_default();
    s
}

#[test]
fn stdout_to_a_stopped_reader_never_blocks_callers_and_costs_the_file_nothing() {
    use procs::{child_params, print_report, REPORT_MARKER};
    const TEST: &str = "stdout_to_a_stopped_reader_never_blocks_callers_and_costs_the_file_nothing";
    const VAR: &str = "JAMLESS_PIPELINE_STDOUT_CHILD";
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Params {
        dir: PathBuf,
        secs: u64,
    }
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Report {
        offered: u64,
        worst_call_ns: u64,
        seen_stalled: bool,
        file_written: u64,
        stdout_received: u64,
        stdout_written: u64,
        stdout_dropped: u64,
        stdout_backlog_full: u64,
        stdout_queued: u64,
    }
    if let Some(p) = child_params::<Params>(VAR) {
        // The child: a file pipeline and a stdout pipeline; stdout is a pipe
        // to a reader that the parent stops for a while.
        let file = p.dir.join("app.log");
        let (logger, guard) = Builder::new()
            .pipeline(
                Pipeline::new("file", FileSinkBuilder::new(&file).build()).backlog_bytes(16 << 20),
            )
            .pipeline(
                Pipeline::new("stdout", jamless::StdoutSink::new())
                    .fallback(None)
                    .backlog_bytes(256 << 10),
            )
            .stall_timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let (mut worst, mut offered, mut seen_stalled) = (0u64, 0u64, false);
        let end = Instant::now() + Duration::from_secs(p.secs);
        while Instant::now() < end {
            for _ in 0..100 {
                let t0 = Instant::now();
                logger.log(Level::Info, "app", format_args!("rec {offered} end"));
                worst = worst.max(t0.elapsed().as_nanos() as u64);
                offered += 1;
            }
            seen_stalled |= logger.health().pipeline("stdout").unwrap().state == State::Stalled;
            std::thread::sleep(Duration::from_millis(10));
        }
        let r = guard.shutdown(Duration::from_secs(20));
        assert!(r.complete, "{r:?} {}", logger.health());
        let h = logger.health();
        for p in &h.pipelines {
            assert_pipeline_accounted(p);
        }
        let s = h.pipeline("stdout").unwrap();
        print_report(&Report {
            offered,
            worst_call_ns: worst,
            seen_stalled,
            file_written: h.pipeline("file").unwrap().written,
            stdout_received: s.received,
            stdout_written: s.written,
            stdout_dropped: s.dropped(),
            stdout_backlog_full: s.drops.backlog_full,
            stdout_queued: s.queued,
        });
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let params = Params {
        dir: dir.path().to_path_buf(),
        secs: 9,
    };
    let copy = dir.path().join("stdout.copy");
    let stderr = dir.path().join("child.stderr");
    let mut producer = std::process::Command::new(&exe)
        .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
        .env(VAR, serde_json::to_string(&params).unwrap())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let pipe = producer.stdout.take().unwrap();
    let mut cat = std::process::Command::new("cat")
        .stdin(pipe)
        .stdout(std::fs::File::create(&copy).unwrap())
        .spawn()
        .expect("cat (coreutils) must be installed");
    std::thread::sleep(Duration::from_secs(1));
    let pid = cat.id() as i32;
    // SAFETY: plain signals to a child process we started and still own.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0);
    std::thread::sleep(Duration::from_secs(5));
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGCONT) }, 0);
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = producer.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = producer.kill();
            panic!("the child hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = cat.wait();
    let out = read_text(&copy);
    assert!(
        status.success(),
        "child failed: {out}\n{}",
        read_text(&stderr)
    );
    let line = out
        .lines()
        .find_map(|l| l.split_once(REPORT_MARKER).map(|(_, r)| r))
        .unwrap_or_else(|| panic!("no report in {out}"));
    let r: Report = serde_json::from_str(line).unwrap();
    let worst = Duration::from_nanos(r.worst_call_ns);
    assert!(worst < HANG_BOUND, "a call took {worst:?}");
    assert!(
        r.seen_stalled,
        "stdout was reported stalled while its reader stopped"
    );
    assert_eq!(r.file_written, r.offered, "the file lost nothing");
    let ids = record_ids(&read_lines(&dir.path().join("app.log")), "rec ");
    assert_eq!(ids.len() as u64, r.offered);
    assert_eq!(
        r.stdout_received,
        r.stdout_written + r.stdout_dropped + r.stdout_queued
    );
    assert_eq!(r.stdout_queued, 0);
    assert_eq!(
        r.stdout_dropped, r.stdout_backlog_full,
        "only the backlog overflowed"
    );
    // What stdout wrote reached the reader, whole, once it resumed.
    let on_stdout = out
        .lines()
        .filter(|l| l.contains(" app: rec ") && l.ends_with(" end"))
        .count() as u64;
    assert_eq!(on_stdout, r.stdout_written);
}

#[test]
fn a_sinks_own_counters_reach_the_health_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let (logger, _guard) = Builder::new()
        .pipeline(Pipeline::new(
            "file",
            FileSinkBuilder::new(&path)
                .check_interval(Duration::ZERO)
                .build(),
        ))
        .pipeline(Pipeline::new("memory", MemorySink::new()))
        .build()
        .unwrap();
    logger.log(Level::Info, "t", format_args!("before"));
    assert!(logger.flush(Duration::from_secs(10)).complete);
    std::fs::remove_file(&path).unwrap();
    logger.log(Level::Info, "t", format_args!("after"));
    assert!(logger.flush(Duration::from_secs(10)).complete);
    let h = logger.health();
    let file = h.pipeline("file").unwrap();
    assert!(file.sink_counters["unlinks_seen"] >= 1, "{file:?}");
    assert!(file.sink_counters.contains_key("fragments_repaired"));
    assert!(h.pipeline("memory").unwrap().sink_counters.is_empty());
    let prom = h.to_prometheus();
    assert!(
        prom.contains("jamless_pipeline_sink_counter{pipeline=\"file\",name=\"unlinks_seen\"}"),
        "{prom}"
    );
    let lines = read_lines(&path);
    assert!(lines.iter().any(|l| l.ends_with("after")), "{lines:?}");
}
