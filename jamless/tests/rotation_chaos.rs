//! Shared-path chaos with real processes: several processes (this test
//! binary, re-executed) log to the same base path and rotate every second,
//! at the same instants, for a while. Afterwards every file is read and, per
//! process, every record offered is found exactly once, whole, or was
//! counted as dropped — the incident's "two pods, one path, one timer".
//!
//! Environment: `JAMLESS_CHAOS_SECS` (default 20) how long each process
//! logs, `JAMLESS_CHAOS_PROCS` (default 8) how many processes,
//! `JAMLESS_CHAOS_RATE` (default 2000) records per second per process.

mod common;
#[path = "common/procs.rs"]
mod procs;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jamless::{
    Builder, Compression, Format, Level, Naming, Outcome, Retention, RotatingFileSink, Rotation,
};
use procs::{ChildReport, Tally};
use serde::{Deserialize, Serialize};

const CHILD_VAR: &str = "JAMLESS_CHAOS_CHILD";
const CHILD_TEST: &str = "chaos_child";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Variant {
    /// Dated names, a new file every second.
    Dated,
    /// Dated names, every second and every 64 KiB.
    DatedSize,
    /// A fixed active name renamed every second.
    Fixed,
    /// Dated names every second, closed files gzipped after a short grace.
    DatedGzip,
    /// A fixed active name renamed every second, then gzipped.
    FixedGzip,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ChildParams {
    proc: u32,
    dir: PathBuf,
    variant: Variant,
    duration_ms: u64,
    rate: u64,
    start_unix_ms: u64,
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn sink_for(dir: &Path, variant: Variant) -> RotatingFileSink {
    let second = Rotation::every(Duration::from_secs(1)).unwrap();
    let dated = Naming::new(dir, "app");
    let fixed = Naming::new(dir, "app").fixed_active_name(true);
    let gzip = Retention::new()
        .compress(Compression::Gzip)
        .grace(Duration::from_secs(2));
    let b = match variant {
        Variant::Dated => RotatingFileSink::builder(dated),
        Variant::DatedSize => RotatingFileSink::builder(dated).max_bytes(64 << 10),
        Variant::Fixed => RotatingFileSink::builder(fixed),
        Variant::DatedGzip => RotatingFileSink::builder(dated).retention(gzip),
        Variant::FixedGzip => RotatingFileSink::builder(fixed).retention(gzip),
    };
    b.rotation(second).build().unwrap()
}

/// The child: logs `proc=<k> seq=<n> ...` at a steady rate, flushes, shuts
/// down and reports its health. Returns at once when not run as a child.
#[test]
fn chaos_child() {
    let Some(p) = procs::child_params::<ChildParams>(CHILD_VAR) else {
        return;
    };
    let (handler, errors) = common::collecting_handler();
    let (logger, guard) = Builder::new()
        .name(format!("chaos-{}", p.proc))
        .sink(sink_for(&p.dir, p.variant))
        .format(Format::text_pattern("{message}").unwrap())
        // A failure must show up as a counted drop, not as lines on stderr.
        .fallback(None)
        .error_handler(handler)
        .build()
        .unwrap();
    let now = unix_ms();
    if p.start_unix_ms > now {
        std::thread::sleep(Duration::from_millis(p.start_unix_ms - now));
    }
    let start = Instant::now();
    let duration = Duration::from_millis(p.duration_ms);
    let mut seq = 0u64;
    let mut rejected = Vec::new();
    while start.elapsed() < duration {
        let target = procs::due(start, p.rate);
        while seq < target {
            let line = procs::record_line(p.proc, seq);
            match logger.log(Level::Info, "chaos", format_args!("{line}")) {
                Outcome::Accepted => {}
                Outcome::Dropped(_) | Outcome::Filtered => rejected.push(seq),
            }
            seq += 1;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let flushed = logger.flush(Duration::from_secs(30));
    let shut = guard.shutdown(Duration::from_secs(10));
    let health = logger.health();
    let mut classes = BTreeMap::new();
    for e in errors.lock().unwrap().iter() {
        *classes
            .entry(format!("{}:{}", e.operation, e.class))
            .or_insert(0) += 1;
    }
    procs::print_report(&ChildReport {
        proc: p.proc,
        offered_by_test: seq,
        rejected_seqs: rejected,
        error_classes: classes,
        flush_complete: flushed.complete && shut.complete,
        health: serde_json::to_value(&health).unwrap(),
        extra: serde_json::Value::Null,
    });
}

fn run_chaos(variant: Variant) {
    let secs = env_u64("JAMLESS_CHAOS_SECS", 20);
    let nprocs = env_u64("JAMLESS_CHAOS_PROCS", 8) as u32;
    let rate = env_u64("JAMLESS_CHAOS_RATE", 2000);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("logs");
    let exe = std::env::current_exe().unwrap();
    let t0 = Instant::now();
    // Every child starts logging at the same instant, well after all of
    // them have been started.
    let start_unix_ms = unix_ms() + 1500;
    let children: Vec<_> = (0..nprocs)
        .map(|k| {
            let params = ChildParams {
                proc: k,
                dir: dir.clone(),
                variant,
                duration_ms: secs * 1000,
                rate,
                start_unix_ms,
            };
            procs::spawn_child(
                &exe,
                &[],
                CHILD_TEST,
                CHILD_VAR,
                &params,
                work.path(),
                &format!("proc-{k}"),
            )
        })
        .collect();
    // Generous: only a hang gets anywhere near it.
    let deadline = Instant::now() + Duration::from_secs(secs + 90);
    let finished = procs::wait_all(children, deadline);
    let hung: Vec<_> = finished
        .iter()
        .filter(|f| f.hung)
        .map(|f| f.name.clone())
        .collect();
    assert!(hung.is_empty(), "children hung and were killed: {hung:?}");
    let reports: Vec<ChildReport> = finished.iter().map(|f| f.report()).collect();
    let children_done = t0.elapsed();

    let tally = Tally::of_dir(&dir);
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        tally.bad.is_empty(),
        "{variant:?}: {} torn or merged lines, e.g. {:?}",
        tally.bad.len(),
        &tally.bad[..tally.bad.len().min(5)]
    );
    assert!(
        tally.fragments.is_empty(),
        "{variant:?}: lines cut short: {:?}",
        &tally.fragments[..tally.fragments.len().min(5)]
    );
    assert!(
        tally.notice_fragments.is_empty(),
        "{variant:?}: notices cut short: {:?}",
        tally.notice_fragments
    );
    assert_eq!(tally.nul_bytes, 0, "{variant:?}: NUL bytes in the files");
    assert!(
        tally.unterminated.is_empty(),
        "{variant:?}: files ending inside a line: {:?}",
        tally.unterminated
    );
    let mut offered = 0;
    let mut missing = 0;
    let mut notices = 0;
    for r in &reports {
        r.assert_accounted();
        missing += procs::assert_process_complete(&tally, r);
        offered += r.offered_by_test;
        notices += r.h("notices_written");
        assert!(
            r.offered_by_test >= rate * secs * 9 / 10,
            "proc {} logged only {} records in {secs} s",
            r.proc,
            r.offered_by_test
        );
    }
    assert_eq!(
        tally.notices, notices,
        "{variant:?}: drop notices found vs. written"
    );
    // Rotation really happened: about one period per second (or more
    // files with size splits).
    assert!(
        tally.files as u64 >= secs.saturating_sub(2).max(1),
        "{variant:?}: only {} files: {names:?}",
        tally.files
    );
    let gz = names.iter().filter(|n| n.ends_with(".gz")).count();
    match variant {
        // Files are compressed once quiet for the 2 s grace.
        Variant::DatedGzip | Variant::FixedGzip if secs >= 6 => {
            assert!(gz > 0, "{variant:?}: nothing was compressed: {names:?}")
        }
        Variant::DatedGzip | Variant::FixedGzip => {}
        _ => assert_eq!(gz, 0),
    }
    if matches!(variant, Variant::Fixed | Variant::FixedGzip) {
        assert!(names.iter().any(|n| n == "app.log"), "{names:?}");
    }
    let errors: BTreeMap<String, u64> = reports.iter().flat_map(|r| r.error_classes.clone()).fold(
        BTreeMap::new(),
        |mut m, (k, v)| {
            *m.entry(k).or_insert(0) += v;
            m
        },
    );
    eprintln!(
        "chaos {variant:?}: {nprocs} procs x {secs} s: offered {offered}, missing {missing} \
         (all counted), files {} ({gz} gz), notices {notices}, reported errors {errors:?}, \
         children took {children_done:.1?}, verify took {:.1?}",
        tally.files,
        t0.elapsed() - children_done
    );
}

#[test]
fn shared_path_dated_names() {
    run_chaos(Variant::Dated);
}

#[test]
fn shared_path_dated_names_with_size_splits() {
    run_chaos(Variant::DatedSize);
}

#[test]
fn shared_path_fixed_active_name() {
    run_chaos(Variant::Fixed);
}

#[test]
fn shared_path_dated_names_gzipped() {
    run_chaos(Variant::DatedGzip);
}

#[test]
fn shared_path_fixed_active_name_gzipped() {
    run_chaos(Variant::FixedGzip);
}

/// The checks above are only as good as the line parser.
#[test]
fn line_parser_tells_whole_lines_from_torn_and_merged_ones() {
    use procs::{parse_line, record_line, Line};
    let a = record_line(3, 12_345);
    let b = record_line(4, 7);
    assert_eq!(
        parse_line(&a),
        Line::Record {
            proc: 3,
            seq: 12_345
        }
    );
    assert_eq!(parse_line(""), Line::Empty);
    assert_eq!(
        parse_line("jamless: 12 records dropped between 2026-11-27T07:29:00.123456Z and 2026-11-27T07:29:01.000001Z"),
        Line::Notice
    );
    assert_eq!(parse_line("jamless: 12 records drop"), Line::NoticeFragment);
    // Every strict prefix of a record is a fragment, never a record.
    for cut in 1..a.len() {
        assert!(
            matches!(parse_line(&a[..cut]), Line::Fragment { .. }),
            "{:?}",
            &a[..cut]
        );
    }
    assert_eq!(
        parse_line(&a[..a.len() - 1]),
        Line::Fragment {
            proc: Some(3),
            seq: Some(12_345)
        }
    );
    // Merged, glued, shifted or suffix pieces are bad.
    for bad in [
        format!("{a}{b}"),
        format!("{}{b}", &a[..20]),
        a[1..].to_string(),
        a.replace("pad=", "pad=x"),
        format!("{a} "),
        a.replace(" end", " en"),
        "garbage".to_string(),
    ] {
        assert!(
            matches!(parse_line(&bad), Line::Bad | Line::Fragment { .. }),
            "{bad:?}"
        );
        assert!(!matches!(parse_line(&bad), Line::Record { .. }), "{bad:?}");
    }
    assert_eq!(parse_line(&format!("{a}{b}")), Line::Bad);
    assert_eq!(parse_line(&a[1..]), Line::Bad);
}
