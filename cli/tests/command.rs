//! The `jamless` command as users run it: a real producer writing into a
//! real pipe, the real binary, real files, FIFOs, signals and HTTP.

mod common;

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn file_lines(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Polls `/health` until `ok` holds for the snapshot (20 s at most).
fn wait_health(
    addr: std::net::SocketAddr,
    what: &str,
    ok: impl Fn(u16, &serde_json::Value) -> bool,
) -> (u16, serde_json::Value) {
    let t0 = Instant::now();
    loop {
        let (status, body) = http_get(addr, "/health");
        let v: serde_json::Value = serde_json::from_str(&body).expect("health JSON");
        if ok(status, &v) {
            return (status, v);
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "never {what}: {status} {v:#}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_million_lines_into_a_stalled_fifo_never_block_the_producer_and_all_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = mkfifo(dir.path(), "app.log");
    let mut reader = idle_reader(&fifo);
    let addr = free_addr();
    let report_path = dir.path().join("report.json");
    let mut child = spawn(&[
        "--file",
        fifo.to_str().unwrap(),
        "--health-addr",
        &addr.to_string(),
        "--shutdown-timeout",
        "1s",
        "--report-file",
        report_path.to_str().unwrap(),
    ]);
    let stdin = child.stdin.take().unwrap();
    // One write() per line, as a line-buffered program does.
    let n = 1_000_000;
    let (times, stdin) = produce(stdin, n, 1, true);
    eprintln!("producer into jamless with a stalled FIFO: {times}");
    // Generous: the reader is a debug build on a shared 2-core machine. A
    // producer blocked by logging would wait for ever here (the FIFO is
    // never read), never a bounded time.
    assert!(
        times.max() < Duration::from_secs(2),
        "a write() blocked for {:?}: {times}",
        times.max()
    );

    // The pipeline is stalled (stuck in write(2) to the FIFO): 503.
    let (status, h) = wait_health(addr, "stalled", |s, v| s == 503 && v["state"] == "stalled");
    assert_eq!(status, 503);
    // Lines were refused at the full queue (shed: INFO above 80% full,
    // then queue_full), counted.
    assert!(h["rejected"].as_u64().unwrap() > 0, "{h:#}");
    let (status, metrics) = http_get(addr, "/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains(&format!("jamless_input_lines_total {n}\n")),
        "{metrics}"
    );
    assert!(
        metrics.contains("jamless_records_offered_total"),
        "{metrics}"
    );

    drop(stdin);
    let (exit, stderr) = wait_exit(&mut child, Duration::from_secs(30));
    assert_eq!(exit.code(), Some(1), "records were lost: {stderr}");
    assert!(stderr.contains("records lost"), "{stderr}");
    let r = report(&report_path);
    assert_report_accounted(&r, n);
    assert!(r["lost"].as_u64().unwrap() > 0, "{r:#}");
    assert_eq!(r["stopped_by"], "end_of_input");

    // What the FIFO holds is what was written: every line reported written
    // is there whole (a batch cut short when the process exited may add a
    // few more).
    let mut held = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => held.extend_from_slice(&buf[..k]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("fifo read: {e}"),
        }
    }
    let text = String::from_utf8_lossy(&held);
    let data_lines = text
        .split_inclusive('\n')
        .filter(|l| l.starts_with("line ") && l.ends_with('\n'))
        .count() as u64;
    let h = &r["health"];
    let written = h["written"].as_u64().unwrap();
    assert!(
        data_lines >= written && data_lines <= h["accepted"].as_u64().unwrap(),
        "{data_lines} lines in the FIFO, {written} written: {r:#}"
    );
}

#[test]
fn stdin_closing_mid_burst_writes_every_line_read() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let report_path = dir.path().join("report.json");
    // A real producer process: seq, killed in the middle of its output.
    let mut seq = Command::new("seq")
        .args(["1", "1000000000"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Command::new(JAMLESS)
        .args(["--file", log.to_str().unwrap()])
        .args(["--report-file", report_path.to_str().unwrap()])
        .stdin(Stdio::from(seq.stdout.take().unwrap()))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    seq.kill().unwrap();
    seq.wait().unwrap();
    let (exit, stderr) = wait_exit(&mut child, Duration::from_secs(30));
    assert_eq!(exit.code(), Some(0), "{stderr}");
    let r = report(&report_path);
    let read = r["input"]["lines"].as_u64().unwrap();
    assert!(read > 1000, "seq wrote only {read} lines in 700 ms");
    assert_report_accounted(&r, read);
    assert_eq!(r["lost"], 0, "{r:#}");
    let lines = file_lines(&log);
    assert_eq!(
        lines.len() as u64,
        read,
        "one line in the file per line read"
    );
    // Consecutive numbers; the last may be a number cut by the kill.
    let (last, whole) = lines.split_last().unwrap();
    for (i, l) in whole.iter().enumerate() {
        assert_eq!(l, &(i + 1).to_string());
    }
    let next = (whole.len() + 1).to_string();
    assert!(
        next.starts_with(last.as_str()),
        "{last:?} is a prefix of {next}"
    );
}

#[test]
fn a_ten_mib_line_is_cut_with_the_marker_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let report_path = dir.path().join("report.json");
    let mut child = spawn(&[
        "--file",
        log.to_str().unwrap(),
        "--report-file",
        report_path.to_str().unwrap(),
    ]);
    let mut stdin = child.stdin.take().unwrap();
    let peak_kib = || -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    };
    let big = vec![b'a'; 10 << 20];
    stdin.write_all(b"before\n").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // The queue (8 MiB) and the buffers are in place once a line went through.
    let baseline_kib = peak_kib();
    stdin.write_all(&big).unwrap();
    stdin.write_all(b"\nafter\n").unwrap();
    // The writes returned: the reader has taken all but a pipe's worth.
    std::thread::sleep(Duration::from_millis(300));
    let hwm_kib = peak_kib();
    drop(stdin);
    let (exit, stderr) = wait_exit(&mut child, Duration::from_secs(30));
    assert_eq!(
        exit.code(),
        Some(0),
        "a cut line is not a lost one: {stderr}"
    );
    // Peak memory grows far less than the line: it was never held whole.
    assert!(
        hwm_kib < baseline_kib + 2048,
        "peak RSS {baseline_kib} KiB before a 10 MiB line, {hwm_kib} KiB after"
    );
    let lines = file_lines(&log);
    assert_eq!(
        lines.len(),
        3,
        "{:?}",
        lines.iter().map(|l| l.len()).collect::<Vec<_>>()
    );
    assert_eq!(lines[0], "before");
    assert_eq!(lines[2], "after");
    let cut = &lines[1];
    assert!(cut.starts_with("aaaa"));
    assert!(
        cut.contains("\u{2026}[truncated from "),
        "{}",
        &cut[cut.len() - 50..]
    );
    assert!(
        cut.len() <= (64 << 10) + 64,
        "cut to the record size: {}",
        cut.len()
    );
    let r = report(&report_path);
    assert_report_accounted(&r, 3);
    assert_eq!(r["health"]["truncated"], 1, "{r:#}");
    assert_eq!(r["input"]["bytes"], (10 << 20) + 14, "{r:#}");
}

/// Deterministic bytes of every value, newlines included.
fn garbage(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[test]
fn binary_garbage_is_escaped_into_valid_lines() {
    let input = garbage(1 << 20);
    let newlines = input.iter().filter(|&&b| b == b'\n').count() as u64;
    let expected = newlines + u64::from(input.last() != Some(&b'\n'));
    for json in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("app.log");
        let report_path = dir.path().join("report.json");
        let mut args = vec![
            "--file",
            log.to_str().unwrap(),
            "--report-file",
            report_path.to_str().unwrap(),
        ];
        if json {
            args.push("--json");
        }
        let mut child = spawn(&args);
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&input).unwrap();
        drop(stdin);
        let (exit, stderr) = wait_exit(&mut child, Duration::from_secs(30));
        assert_eq!(exit.code(), Some(0), "{stderr}");
        let r = report(&report_path);
        assert_report_accounted(&r, expected);
        let bytes = std::fs::read(&log).unwrap();
        let text = String::from_utf8(bytes).expect("the output is valid UTF-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len() as u64, expected, "json={json}");
        for l in &lines {
            assert!(
                !l.chars().any(|c| c.is_control() && c != '\t'),
                "json={json}: control character left in {l:?}"
            );
            if json {
                let v: serde_json::Value = serde_json::from_str(l).expect("each line is JSON");
                assert!(v["message"].is_string(), "{l}");
            }
        }
    }
}

#[test]
fn sighup_reopens_the_file_after_mv() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let moved = dir.path().join("app.log.1");
    let report_path = dir.path().join("report.json");
    let mut child = spawn(&[
        "--file",
        log.to_str().unwrap(),
        "--report-file",
        report_path.to_str().unwrap(),
    ]);
    let mut stdin = child.stdin.take().unwrap();
    for i in 0..1000 {
        stdin.write_all(format!("before {i}\n").as_bytes()).unwrap();
    }
    let t0 = Instant::now();
    while file_lines(&log).len() < 1000 {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "before lines never written"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    std::fs::rename(&log, &moved).unwrap();
    signal(&child, "HUP");
    // The reopen creates the file at once, before any new line (without
    // the signal the sink would only notice the move at its next write).
    let t0 = Instant::now();
    while !log.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "SIGHUP did not reopen"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    for i in 0..1000 {
        stdin.write_all(format!("after {i}\n").as_bytes()).unwrap();
    }
    drop(stdin);
    let (exit, stderr) = wait_exit(&mut child, Duration::from_secs(30));
    assert_eq!(exit.code(), Some(0), "{stderr}");
    assert_report_accounted(&report(&report_path), 2000);
    let old = file_lines(&moved);
    let new = file_lines(&log);
    assert_eq!(old.len(), 1000);
    assert!(old.iter().all(|l| l.starts_with("before ")));
    assert_eq!(new.len(), 1000);
    assert!(new
        .iter()
        .enumerate()
        .all(|(i, l)| *l == format!("after {i}")));
}

#[test]
fn health_metrics_and_sigusr1_on_a_live_process() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let addr = free_addr();
    let mut child = spawn(&[
        "--file",
        log.to_str().unwrap(),
        "--health-addr",
        &addr.to_string(),
    ]);
    let mut stdin = child.stdin.take().unwrap();
    for i in 0..10 {
        stdin.write_all(line(i).as_bytes()).unwrap();
    }
    stdin.flush().unwrap();
    let (status, h) = wait_health(addr, "written", |_, v| v["written"] == 10);
    assert_eq!(status, 200);
    assert_eq!(h["state"], "healthy");
    assert_eq!(h["offered"], 10);
    assert_eq!(h["pipelines"][0]["name"], "file");
    let (status, metrics) = http_get(addr, "/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("jamless_input_lines_total 10\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("jamless_records_offered_total 10\n"),
        "{metrics}"
    );
    assert_eq!(http_get(addr, "/nothing").0, 404);

    signal(&child, "USR1");
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "TERM");
    let (exit, stderr) = wait_exit(&mut child, Duration::from_secs(30));
    assert_eq!(exit.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("healthy"),
        "SIGUSR1 printed the snapshot: {stderr:?}"
    );
    assert_eq!(file_lines(&log).len(), 10);
    drop(stdin);
}

#[test]
fn sigterm_flushes_and_exits_while_stdin_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let report_path = dir.path().join("report.json");
    let mut child = spawn(&[
        "--file",
        log.to_str().unwrap(),
        "--report-file",
        report_path.to_str().unwrap(),
    ]);
    let stdin = child.stdin.take().unwrap();
    let (_, stdin) = produce(stdin, 5000, 10, true);
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, "TERM");
    let (exit, stderr) = wait_exit(&mut child, Duration::from_secs(30));
    assert_eq!(exit.code(), Some(0), "{stderr}");
    let r = report(&report_path);
    assert_eq!(r["stopped_by"], "SIGTERM");
    assert_report_accounted(&r, 5000);
    assert_eq!(file_lines(&log).len(), 5000);
    drop(stdin);
}

#[test]
fn levels_from_a_json_field_or_a_regex_drive_filters() {
    let input = concat!(
        "{\"level\":\"error\",\"msg\":\"disk full\"}\n",
        "{\"level\":\"info\",\"msg\":\"request\"}\n",
        "{\"level\":40,\"msg\":\"slow (pino warn)\"}\n",
        "not json at all\n",
        "{\"level\":\"debug\",\"msg\":\"detail\"}\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("json.log");
    let report_path = dir.path().join("report.json");
    let mut child = spawn(&[
        "--file",
        log.to_str().unwrap(),
        "--level-json-field",
        "level",
        "--filter",
        "warn",
        "--report-file",
        report_path.to_str().unwrap(),
    ]);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let (exit, stderr) = wait_exit(&mut child, Duration::from_secs(30));
    assert_eq!(
        exit.code(),
        Some(0),
        "filtered lines are not lost: {stderr}"
    );
    let r = report(&report_path);
    assert_report_accounted(&r, 5);
    assert_eq!(r["input"]["filtered"], 3, "{r:#}");
    assert_eq!(
        file_lines(&log),
        [
            "{\"level\":\"error\",\"msg\":\"disk full\"}",
            "{\"level\":40,\"msg\":\"slow (pino warn)\"}",
        ]
    );

    // A regex, JSON output: the detected level is the record's level.
    let log = dir.path().join("regex.log");
    let mut child = spawn(&[
        "--file",
        log.to_str().unwrap(),
        "--json",
        "--level-regex",
        r"^\S+ \[(?P<level>\w+)\]",
        "--default-level",
        "warn",
    ]);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"12:00:00 [ERROR] boom\n12:00:01 [debug] detail\nno level here\n")
        .unwrap();
    let (exit, stderr) = wait_exit(&mut child, Duration::from_secs(30));
    assert_eq!(exit.code(), Some(0), "{stderr}");
    let levels: Vec<String> = file_lines(&log)
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["log.level"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(levels, ["error", "debug", "warn"]);
}

#[test]
fn usage_and_configuration_errors_exit_with_2() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let log = log.to_str().unwrap();
    for args in [
        vec![],
        vec!["--keep", "3", "--stdout"],
        vec!["--file", log, "--rotate", "sometimes"],
        vec!["--file", log, "--level-regex", "no group"],
        vec!["--file", log, "--queue-bytes", "10"],
        vec!["--file", log, "--health-addr", "not-an-address"],
        vec!["--config", "/nonexistent/logs.toml"],
        vec!["--config", "/nonexistent/logs.toml", "--json"],
    ] {
        let out = Command::new(JAMLESS)
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(!out.stderr.is_empty(), "{args:?} says why");
    }
}

#[test]
fn rotating_file_with_stdout_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("app.log");
    let mut child = spawn(&[
        "--file",
        base.to_str().unwrap(),
        "--rotate",
        "hourly",
        "--keep",
        "48",
        "--gzip",
        "--max-bytes",
        "100000",
        "--stdout",
        "--json",
    ]);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let collector = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).unwrap();
        s
    });
    for i in 0..3000 {
        stdin.write_all(line(i).as_bytes()).unwrap();
    }
    drop(stdin);
    let (exit, stderr) = wait_exit(&mut child, Duration::from_secs(30));
    assert_eq!(exit.code(), Some(0), "{stderr}");
    let out = collector.join().unwrap();
    assert_eq!(out.lines().count(), 3000);
    // Dated names, split by size: several files, 3000 lines in all.
    let mut files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    let total: usize = files.iter().map(|f| file_lines(f).len()).sum();
    assert_eq!(total, 3000, "{files:?}");
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with("app.") && name.ends_with(".log"), "{name}");
        for l in file_lines(f) {
            let v: serde_json::Value = serde_json::from_str(&l).unwrap();
            assert!(v["message"].as_str().unwrap().starts_with("line "));
        }
    }
}

/// The configuration file of the `--config` test: one pipeline `file`
/// writing JSON lines, taking the levels `filter` lets through.
fn cli_config(log: &std::path::Path, logger_filter: &str, pipeline_filter: &str) -> String {
    format!(
        "error_handler = \"none\"\nfilter = \"{logger_filter}\"\n[[pipeline]]\nname = \"file\"\nfilter = \"{pipeline_filter}\"\nformat = {{ type = \"json\" }}\nsink = {{ type = \"file\", path = \"{}\" }}\n",
        log.display()
    )
}

#[test]
fn config_file_builds_the_pipelines_and_sighup_reloads_its_filter() {
    // The pipeline's filter changes from info to debug.
    reload_lets_debug_lines_through(
        ("trace", "info"),
        ("trace", "debug"),
        "applied: pipeline \"file\": filter",
    );
}

#[test]
fn the_files_top_level_filter_applies_to_lines_and_follows_sighup() {
    // The logger's filter (the file's top-level `filter`) changes.
    reload_lets_debug_lines_through(
        ("info", ""),
        ("debug", ""),
        "applied: filter \"info\" -> \"debug\"",
    );
}

/// Runs the command on a configuration `before` (logger filter, pipeline
/// filter) that keeps INFO and filters DEBUG lines, changes it to `after`
/// (which keeps both) and sends SIGHUP: DEBUG lines are written from the
/// reload on, every line is written or counted as filtered.
fn reload_lets_debug_lines_through(before: (&str, &str), after: (&str, &str), applied: &str) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let config = dir.path().join("jamless.toml");
    let report_path = dir.path().join("report.json");
    std::fs::write(&config, cli_config(&log, before.0, before.1)).unwrap();
    let mut child = spawn(&[
        "--config",
        config.to_str().unwrap(),
        "--level-regex",
        "^(\\w+) ",
        "--report-file",
        report_path.to_str().unwrap(),
    ]);
    let mut stdin = child.stdin.take().unwrap();
    for i in 0..100 {
        stdin
            .write_all(format!("INFO before {i}\nDEBUG before {i}\n").as_bytes())
            .unwrap();
    }
    let t0 = Instant::now();
    while file_lines(&log).len() < 100 {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "lines never written"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // Let debug lines through, then tell the command.
    let tmp = dir.path().join("jamless.toml.new");
    std::fs::write(&tmp, cli_config(&log, after.0, after.1)).unwrap();
    std::fs::rename(&tmp, &config).unwrap();
    signal(&child, "HUP");
    // Probe until a debug line gets through: the reload has happened.
    let t0 = Instant::now();
    let mut probes = 0;
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("DEBUG probe")
    {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "SIGHUP did not reload"
        );
        stdin.write_all(b"DEBUG probe\n").unwrap();
        probes += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    for i in 0..100 {
        stdin
            .write_all(format!("INFO after {i}\nDEBUG after {i}\n").as_bytes())
            .unwrap();
    }
    drop(stdin);
    let (exit, stderr) = wait_exit(&mut child, Duration::from_secs(30));
    assert_eq!(exit.code(), Some(0), "{stderr}");
    assert!(stderr.contains(applied), "{stderr}");
    let r = report(&report_path);
    assert_report_accounted(&r, 400 + probes);
    let lines = file_lines(&log);
    let messages: Vec<String> = lines
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON lines");
            v["message"].as_str().unwrap().to_string()
        })
        .filter(|m| !m.contains("probe"))
        .collect();
    let mut expected: Vec<String> = (0..100).map(|i| format!("INFO before {i}")).collect();
    for i in 0..100 {
        expected.push(format!("INFO after {i}"));
        expected.push(format!("DEBUG after {i}"));
    }
    assert_eq!(messages, expected);
    assert_eq!(
        r["input"]["filtered"],
        100 + probes - lines.iter().filter(|l| l.contains("probe")).count() as u64,
        "{r:#}"
    );
}
