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
    /// Kill variants: after every flush that completed (about every
    /// 50 ms), append `<seq> <dropped>` to this file: every record below
    /// `<seq>` was written or is among `<dropped>` (rejected or dropped).
    #[serde(default)]
    progress: Option<PathBuf>,
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
    let sink = sink_for(&p.dir, p.variant);
    let stats = sink.stats();
    let (logger, guard) = Builder::new()
        .name(format!("chaos-{}", p.proc))
        .sink(sink)
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
    let mut last_progress = Instant::now();
    while start.elapsed() < duration {
        if let Some(progress) = &p.progress {
            if last_progress.elapsed() >= Duration::from_millis(50) {
                last_progress = Instant::now();
                let upto = seq;
                if logger.flush(Duration::from_secs(1)).complete {
                    use std::io::Write;
                    let line = format!("{upto} {}\n", logger.health().dropped());
                    let mut f = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(progress)
                        .unwrap();
                    f.write_all(line.as_bytes()).unwrap();
                }
            }
        }
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
        extra: serde_json::json!({ "fragments_repaired": stats.fragments_repaired() }),
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
                progress: None,
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

// ---------------------------------------------------------------------
// SIGKILL chaos: processes killed in the middle of their writes.

/// The proc id of planted fragments (the test itself, acting as a process
/// killed in the middle of its write).
const PLANTED: u32 = 9999;

/// The last `<seq> <dropped>` line of a killed child's progress file.
fn last_progress(path: &Path) -> (u64, u64) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| text.ends_with('\n') || !text.ends_with(l))
        .filter_map(|l| {
            let (a, b) = l.split_once(' ')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        })
        .next_back()
        .unwrap_or((0, 0))
}

/// Appends half a record to the file being written, under the append lock
/// as a jamless process holds it: what a process killed in the middle of
/// its `write(2)` leaves behind.
fn plant_fragment(dir: &Path, variant: Variant, n: u64) -> bool {
    use std::io::Write;
    let target = match variant {
        Variant::Fixed | Variant::FixedGzip => dir.join("app.log"),
        _ => {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return false;
            };
            let mut names: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "log"))
                .collect();
            names.sort();
            match names.pop() {
                Some(p) => p,
                None => return false,
            }
        }
    };
    let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(&target) else {
        return false;
    };
    rustix::fs::flock(&f, rustix::fs::FlockOperation::LockExclusive).unwrap();
    let line = procs::record_line(PLANTED, n);
    f.write_all(&line.as_bytes()[..line.len() / 2]).unwrap();
    true
}

/// `nprocs` processes log to one path rotating every second; every
/// ~300 ms one of them is killed with SIGKILL and restarted (as a new
/// proc id), and half a record is planted into the current file. No line
/// may hold two records or a record glued to a fragment; every record a
/// killed process had flushed is there exactly once (or counted in its
/// last progress line); survivors are checked in full.
fn run_kill_chaos(variant: Variant) {
    let secs = env_u64("JAMLESS_CHAOS_SECS", 12);
    let nprocs = env_u64("JAMLESS_CHAOS_PROCS", 8) as u32;
    let rate = env_u64("JAMLESS_CHAOS_RATE", 2000);
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("logs");
    let exe = std::env::current_exe().unwrap();
    let end = Instant::now() + Duration::from_secs(secs) + Duration::from_millis(500);
    let spawn = |id: u32| {
        let left = end.saturating_duration_since(Instant::now());
        let params = ChildParams {
            proc: id,
            dir: dir.clone(),
            variant,
            duration_ms: left.as_millis() as u64,
            rate,
            start_unix_ms: unix_ms(),
            progress: Some(work.path().join(format!("progress-{id}"))),
        };
        procs::KillOnDrop(Some(procs::spawn_child(
            &exe,
            &[],
            CHILD_TEST,
            CHILD_VAR,
            &params,
            work.path(),
            &format!("proc-{id}"),
        )))
    };
    let mut slots: Vec<(u32, procs::KillOnDrop)> = (0..nprocs).map(|k| (k, spawn(k))).collect();
    let mut next_id = nprocs;
    let mut killed = Vec::new();
    let mut planted = 0u64;
    let mut round = 0usize;
    // Stop killing a second before the end, so that every survivor ends
    // on its own and reports.
    while Instant::now() + Duration::from_millis(1500) < end {
        std::thread::sleep(Duration::from_millis(150));
        if plant_fragment(&dir, variant, planted) {
            planted += 1;
        }
        std::thread::sleep(Duration::from_millis(150));
        let k = round % slots.len();
        round += 1;
        let (id, child) = &mut slots[k];
        if let Some(c) = &mut child.0 {
            // Child::kill sends SIGKILL.
            c.child.kill().unwrap();
            c.child.wait().unwrap();
        }
        killed.push(*id);
        *id = next_id;
        *child = spawn(next_id);
        next_id += 1;
    }
    let survivors: Vec<procs::ChildProc> = slots
        .into_iter()
        .filter_map(|(_, mut c)| c.0.take())
        .collect();
    let finished = procs::wait_all(survivors, Instant::now() + Duration::from_secs(90));
    let reports: Vec<ChildReport> = finished.iter().map(|f| f.report()).collect();

    let tally = Tally::of_dir(&dir);
    assert!(
        tally.bad.is_empty(),
        "{variant:?} + SIGKILL: {} lines hold two records or a record glued to a fragment, e.g. {:?}",
        tally.bad.len(),
        &tally.bad[..tally.bad.len().min(5)]
    );
    assert_eq!(tally.nul_bytes, 0, "{variant:?}: NUL bytes in the files");
    // A fragment is a killed process's record or a planted one; records of
    // a process that ended normally are whole.
    let killed_set: std::collections::BTreeSet<u32> = killed.iter().copied().collect();
    for (path, line) in &tally.fragments {
        // A fragment too short to tell whose is a killed process's or a
        // planted one: only those cut lines.
        if let procs::Line::Fragment { proc: Some(p), .. } = procs::parse_line(line) {
            assert!(
                p == PLANTED || killed_set.contains(&p),
                "{variant:?}: fragment of a process that was not killed in {}: {line:?}",
                path.display()
            );
        }
    }
    let mut checked_killed = 0;
    for &id in &killed {
        let (flushed, dropped) = last_progress(&work.path().join(format!("progress-{id}")));
        let dups = tally.duplicates(id);
        assert!(dups.is_empty(), "killed proc {id}: duplicated {dups:?}");
        let missing = tally.missing(id, flushed);
        assert!(
            missing.len() as u64 <= dropped,
            "killed proc {id}: {} records below its last flushed seq {flushed} missing \
             (it counted {dropped} dropped), e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(10)]
        );
        checked_killed += u64::from(flushed > 0);
    }
    let mut repaired = 0;
    for r in &reports {
        r.assert_accounted();
        procs::assert_process_complete(&tally, r);
        repaired += r.extra["fragments_repaired"].as_u64().unwrap_or(0);
    }
    let planted_found = tally
        .fragments
        .iter()
        .filter(|(_, l)| l.starts_with(&format!("proc={PLANTED} ")))
        .count() as u64;
    // Every planted fragment stands alone on its line (if a process later
    // appended there; the last one in a file may still end it).
    assert!(
        planted_found + tally.unterminated.len() as u64 >= planted,
        "{variant:?}: planted {planted} fragments, found {planted_found} alone"
    );
    assert!(
        killed.len() as u64 >= secs * 2,
        "only {} kills",
        killed.len()
    );
    eprintln!(
        "chaos {variant:?} + SIGKILL: {nprocs} procs x {secs} s, {} kills ({checked_killed} had \
         flushed), {planted} fragments planted ({planted_found} found alone), {} fragments in \
         the files, survivors repaired {repaired}, files {}",
        killed.len(),
        tally.fragments.len(),
        tally.files
    );
}

#[test]
fn shared_path_dated_names_sigkill() {
    run_kill_chaos(Variant::Dated);
}

#[test]
fn shared_path_fixed_active_name_sigkill() {
    run_kill_chaos(Variant::Fixed);
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
