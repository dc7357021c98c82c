//! The log file is deleted, its directory removed, the file moved, or
//! rotated by logrotate (`create` and `copytruncate`) while one process
//! logs 2,000 records a second through `log::info!` into
//! `Builder::new().file("logs/app.log")`, with default settings otherwise.
//! The fault happens at t = 3 s, with a real `rm`, `rm -rf`, `mv` or
//! `logrotate`; the run lasts about 6 s. Afterwards every file is read
//! back:
//!
//! * deleted file or directory: every record logged after the deletion is
//!   in the recreated file exactly once, and every record at all is there
//!   or in the deleted file (read through a descriptor the test kept):
//!   nothing is lost, nothing is counted as dropped;
//! * moved, logrotate `create`: every record exactly once in the files;
//! * `copytruncate`: the records missing are at most those counted as
//!   `file_truncated`, the error handler was told and a drop notice is in
//!   the log.
//!
//! Each scenario runs in a child process (this test binary re-executed),
//! because `log`'s global logger can be installed once per process.

mod common;
#[path = "common/procs.rs"]
mod procs;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jamless::{Builder, Format};
use procs::Tally;
use serde::{Deserialize, Serialize};

const CHILD_VAR: &str = "JAMLESS_NOLOSS_CHILD";
const CHILD_TEST: &str = "noloss_child";
const RATE: u64 = 2000;
const FAULT_AT: Duration = Duration::from_secs(3);
const RUN_FOR: Duration = Duration::from_secs(6);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Fault {
    RmFile,
    RmDir,
    Mv,
    LogrotateCreate,
    LogrotateCopyTruncate,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Params {
    fault: Fault,
    work: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Outcome {
    offered: u64,
    written: u64,
    dropped: u64,
    file_truncated: u64,
    logged_after_fault: u64,
    missing: u64,
    replayed: u64,
}

fn logrotate_conf(work: &Path, log: &Path, directive: &str) -> PathBuf {
    let conf = work.join("logrotate.conf");
    fs::write(
        &conf,
        format!(
            "{} {{\n    rotate 5\n    {directive}\n    nocompress\n    missingok\n    ifempty\n}}\n",
            log.display()
        ),
    )
    .unwrap();
    procs::chmod(&conf, 0o644);
    conf
}

fn do_fault(fault: Fault, work: &Path, dir: &Path, log: &Path) {
    let logrotate = || {
        procs::program("logrotate")
            .expect("logrotate is needed (apt-get install logrotate; .ci/run does)")
    };
    let mut cmd = match fault {
        Fault::RmFile => {
            let mut c = Command::new("rm");
            c.arg(log);
            c
        }
        Fault::RmDir => {
            let mut c = Command::new("rm");
            c.arg("-rf").arg(dir);
            c
        }
        Fault::Mv => {
            let mut c = Command::new("mv");
            c.arg(log).arg(dir.join("app.log.1"));
            c
        }
        Fault::LogrotateCreate | Fault::LogrotateCopyTruncate => {
            let directive = if fault == Fault::LogrotateCreate {
                "create 0640"
            } else {
                "copytruncate"
            };
            let conf = logrotate_conf(work, log, directive);
            let mut c = Command::new(logrotate());
            c.arg("-f").arg("-s").arg(work.join("state")).arg(conf);
            c
        }
    };
    procs::run(&mut cmd);
}

/// The child: logs, breaks the file at 3 s, checks everything, reports.
#[test]
fn noloss_child() {
    let Some(p) = procs::child_params::<Params>(CHILD_VAR) else {
        return;
    };
    let dir = p.work.join("logs");
    let log = dir.join("app.log");
    let (handler, errors) = common::collecting_handler();
    let (logger, guard) = Builder::new()
        .file(&log)
        .format(Format::text_pattern("{message}").unwrap())
        .fallback(None)
        .error_handler(handler)
        .build()
        .unwrap();
    logger.install_log().unwrap();
    let seq = Arc::new(AtomicU64::new(0));
    let pump = {
        let seq = Arc::clone(&seq);
        std::thread::spawn(move || {
            let start = Instant::now();
            while start.elapsed() < RUN_FOR {
                while seq.load(Ordering::Relaxed) < procs::due(start, RATE) {
                    let s = seq.load(Ordering::Relaxed);
                    log::info!("{}", procs::record_line(0, s));
                    seq.store(s + 1, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    std::thread::sleep(FAULT_AT);
    // Keep the file that is about to be deleted readable.
    let mut old = fs::File::open(&log).unwrap();
    do_fault(p.fault, &p.work, &dir, &log);
    let after_fault = seq.load(Ordering::Relaxed);
    pump.join().unwrap();
    let offered = seq.load(Ordering::Relaxed);
    let h = common::settle(&logger);
    common::assert_accounted(&h, offered);
    drop(guard);

    let mut live = Tally::of_dir(&dir);
    assert!(
        live.bad.is_empty(),
        "{:?}: torn lines {:?}",
        p.fault,
        live.bad
    );
    assert_eq!(live.nul_bytes, 0);
    let dups = live.duplicates(0);
    assert!(dups.is_empty(), "{:?}: duplicated {dups:?}", p.fault);
    let mut replayed = 0;
    match p.fault {
        Fault::RmFile | Fault::RmDir => {
            assert_eq!(h.dropped(), 0, "{:?}: nothing lost: {h}", p.fault);
            let late: Vec<u64> = (after_fault..offered)
                .filter(|&s| live.count(0, s) != 1)
                .collect();
            assert!(
                late.is_empty(),
                "{:?}: records logged after the deletion missing: {late:?}",
                p.fault
            );
            let mut text = String::new();
            old.read_to_string(&mut text).unwrap();
            let mut gone = Tally::default();
            gone.add_text(&log, &text);
            replayed = (0..offered)
                .filter(|&s| gone.count(0, s) > 0 && live.count(0, s) > 0)
                .count() as u64;
            live.add_text(&log, &text);
            let missing = live.missing(0, offered);
            assert!(missing.is_empty(), "{:?}: lost {missing:?}", p.fault);
        }
        Fault::Mv | Fault::LogrotateCreate => {
            assert_eq!(h.dropped(), 0, "{:?}: nothing lost: {h}", p.fault);
            let missing = live.missing(0, offered);
            assert!(missing.is_empty(), "{:?}: lost {missing:?}", p.fault);
            assert_eq!(live.found(0), h.written);
        }
        Fault::LogrotateCopyTruncate => {
            let missing = live.missing(0, offered).len() as u64;
            assert_eq!(h.dropped(), h.drops.file_truncated, "{h}");
            assert!(
                missing <= h.drops.file_truncated,
                "copytruncate: {missing} missing, {} counted: {h}",
                h.drops.file_truncated
            );
            if h.drops.file_truncated > 0 {
                assert!(live.notices > 0, "no drop notice in the log");
                let told = errors
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|e| e.class == "file_truncated");
                assert!(told, "the error handler was not told");
            }
            assert!(
                live.fragments.is_empty() || missing > 0,
                "a fragment of a record that is whole"
            );
        }
    }
    let missing = live.missing(0, offered).len() as u64;
    procs::print_report(&Outcome {
        offered,
        written: h.written,
        dropped: h.dropped(),
        file_truncated: h.drops.file_truncated,
        logged_after_fault: offered - after_fault,
        missing,
        replayed,
    });
}

fn run(fault: Fault) -> Outcome {
    let work = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let params = Params {
        fault,
        work: work.path().to_path_buf(),
    };
    let child = procs::spawn_child(
        &exe,
        &[],
        CHILD_TEST,
        CHILD_VAR,
        &params,
        work.path(),
        &format!("{fault:?}"),
    );
    let done = procs::wait_all(vec![child], Instant::now() + Duration::from_secs(60));
    let outcome: Outcome = done[0].report();
    eprintln!("{fault:?}: {outcome:?}");
    outcome
}

#[test]
fn rm_log_file_under_load_loses_nothing() {
    let o = run(Fault::RmFile);
    assert_eq!((o.dropped, o.missing), (0, 0));
}

#[test]
fn rm_rf_log_directory_under_load_loses_nothing() {
    let o = run(Fault::RmDir);
    assert_eq!((o.dropped, o.missing), (0, 0));
}

#[test]
fn mv_log_file_under_load_writes_nothing_twice() {
    let o = run(Fault::Mv);
    assert_eq!((o.dropped, o.missing), (0, 0));
}

#[test]
fn logrotate_create_under_load_loses_nothing() {
    let o = run(Fault::LogrotateCreate);
    assert_eq!((o.dropped, o.missing), (0, 0));
}

#[test]
fn logrotate_copytruncate_loses_nothing_uncounted() {
    let o = run(Fault::LogrotateCopyTruncate);
    assert!(o.missing <= o.file_truncated, "{o:?}");
}
