//! A watched configuration file rewritten 50 times (some versions invalid)
//! while four threads log: every record is written exactly once or counted,
//! the accounting holds, and the filter in force follows the file.
#![cfg(feature = "config")]

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jamless::{Builder, Level, Outcome};

use common::{is_notice, read_lines, settle};

const FILTERS: [&str; 5] = ["info", "debug", "warn", "trace", "error"];

fn valid(version: usize, log: &Path, filter: &str) -> String {
    format!(
        "# version {version}\nerror_handler = \"none\"\n\n[[pipeline]]\nname = \"main\"\nfilter = \"{filter}\"\nsink = {{ type = \"file\", path = \"{}\" }}\n",
        log.display()
    )
}

fn invalid(version: usize, log: &Path) -> String {
    match version % 4 {
        0 => valid(version, log, "info,db=loud"),
        1 => valid(version, log, "info") + "colour = true\n",
        2 => format!("# version {version}\n[[pipeline]\nname = "),
        _ => valid(version, log, "info").replace("name = \"main\"", "name = 5"),
    }
}

/// Replaces the file whole, as an editor or a deployment should.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn level_of(n: u64) -> Level {
    [
        Level::Error,
        Level::Warn,
        Level::Info,
        Level::Debug,
        Level::Trace,
    ][(n % 5) as usize]
}

fn passes(filter: &str, level: Level) -> bool {
    let max = match filter {
        "error" => Level::Error,
        "warn" => Level::Warn,
        "info" => Level::Info,
        "debug" => Level::Debug,
        _ => Level::Trace,
    };
    level <= max
}

#[test]
fn fifty_rewrites_under_load_lose_and_duplicate_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let config = dir.path().join("jamless.toml");
    std::fs::write(&config, valid(0, &log, "info")).unwrap();
    let (logger, guard) = Builder::from_config_file(&config).unwrap().build().unwrap();
    let watch = logger
        .watch_config(&config, Duration::from_millis(2))
        .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let producers: Vec<_> = (0..4)
        .map(|t| {
            let logger = logger.clone();
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut outcomes = HashMap::new();
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let id = format!("t{t}-{n}");
                    let o = logger.log(level_of(n), "load", format_args!("id={id}"));
                    outcomes.insert(id, o);
                    n += 1;
                    if n.is_multiple_of(64) {
                        std::thread::sleep(Duration::from_micros(200));
                    }
                }
                outcomes
            })
        })
        .collect();

    let mut probes = HashMap::new();
    let mut errors = 0;
    for version in 1..=50usize {
        let bad = version.is_multiple_of(5);
        let filter = FILTERS[version % FILTERS.len()];
        let before = logger.health();
        if bad {
            replace(&config, &invalid(version, &log));
        } else {
            replace(&config, &valid(version, &log, filter));
        }
        // Every version differs, so the watcher tries each exactly once.
        wait_for(&format!("version {version} to be read"), || {
            let h = logger.health();
            h.config_reloads + h.config_errors == before.config_reloads + before.config_errors + 1
        });
        let h = logger.health();
        if bad {
            errors += 1;
            assert_eq!(h.config_errors, errors, "version {version} refused: {h}");
            let e = h
                .last_error
                .as_ref()
                .expect("the refusal is the last error");
            assert!(e.message.contains("jamless.toml"), "{e:?}");
        }
        // The level in force is the last valid version's.
        let in_force = (1..=version)
            .rev()
            .find(|v| !v.is_multiple_of(5))
            .map_or("info", |v| FILTERS[v % FILTERS.len()]);
        assert_eq!(logger.pipeline_filter("main").as_deref(), Some(in_force));
        for level in [
            Level::Error,
            Level::Warn,
            Level::Info,
            Level::Debug,
            Level::Trace,
        ] {
            let id = format!("probe-{version}-{level:?}");
            let o = logger.log(level, "probe", format_args!("id={id}"));
            if passes(in_force, level) {
                assert_ne!(o, Outcome::Filtered, "{id} under {in_force}");
            } else {
                assert_eq!(o, Outcome::Filtered, "{id} under {in_force}");
            }
            probes.insert(id, o);
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut outcomes = probes;
    for p in producers {
        outcomes.extend(p.join().unwrap());
    }
    watch.stop();
    let h = settle(&logger);
    drop(guard);

    // The file: every accepted record once, nothing else of the test's.
    let lines = read_lines(&log);
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut config_notices = 0u64;
    for line in &lines {
        if let Some(at) = line.find("id=") {
            *seen.entry(&line[at + 3..]).or_default() += 1;
        } else if line.contains("jamless::config") {
            config_notices += 1;
        } else {
            assert!(is_notice(line), "unexpected line {line:?}");
        }
    }
    let mut accepted = 0u64;
    let mut filtered = 0u64;
    for (id, o) in &outcomes {
        let n = seen.get(id.as_str()).copied().unwrap_or(0);
        match o {
            Outcome::Accepted => {
                accepted += 1;
                assert_eq!(n, 1, "{id} accepted: written exactly once");
            }
            Outcome::Filtered => {
                filtered += 1;
                assert_eq!(n, 0, "{id} filtered: never written");
            }
            Outcome::Dropped(_) => assert_eq!(n, 0, "{id} dropped: never written"),
        }
    }
    assert_eq!(seen.len() as u64, accepted, "no id the test did not accept");
    assert!(
        accepted > 0 && filtered > 0,
        "accepted {accepted} filtered {filtered}"
    );
    // Every valid version after the first applied a change and said so;
    // every invalid one was told of too.
    assert_eq!(h.config_errors, 10, "{h}");
    assert_eq!(h.config_reloads, 40, "{h}");
    assert!(config_notices >= 10, "{config_notices} notices");
    // The accounting identities: the logger's and the test's own.
    let offered_by_test = outcomes.len() as u64 - filtered;
    assert_eq!(h.offered, offered_by_test + config_notices, "{h}");
    assert_eq!(h.offered, h.accepted + h.rejected, "{h}");
    assert_eq!(h.queued, 0, "{h}");
    assert_eq!(
        h.accepted,
        h.written + h.dropped_after_accept + h.queued,
        "{h}"
    );
    assert_eq!(h.written, accepted + config_notices, "{h}");
}

#[test]
fn a_vanished_or_broken_file_is_told_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let config = dir.path().join("jamless.toml");
    std::fs::write(&config, valid(0, &log, "warn")).unwrap();
    let (handler, reports) = common::collecting_handler();
    let (logger, _guard) = Builder::from_config_file(&config)
        .unwrap()
        .error_handler(handler)
        .build()
        .unwrap();
    let _watch = logger
        .watch_config(&config, Duration::from_millis(2))
        .unwrap();

    std::fs::remove_file(&config).unwrap();
    wait_for("the missing file to be told", || {
        logger.health().config_errors == 1
    });
    replace(&config, &invalid(2, &log));
    wait_for("the broken file to be told", || {
        logger.health().config_errors == 2
    });
    assert_eq!(logger.pipeline_filter("main").as_deref(), Some("warn"));
    replace(&config, &valid(3, &log, "info"));
    wait_for("the repaired file to be applied", || {
        logger.pipeline_filter("main").as_deref() == Some("info")
    });
    // The watcher logs its notice after the reload is applied: wait for the
    // line itself, not only for the new filter.
    wait_for("the reload to be told in the log", || {
        settle(&logger);
        read_lines(&log)
            .iter()
            .any(|l| l.contains("jamless::config") && l.contains("reloaded"))
    });
    let h = settle(&logger);
    assert_eq!((h.config_errors, h.config_reloads), (2, 1), "{h}");
    let told: Vec<String> = reports
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.operation == "config reload")
        .map(|e| e.message.clone())
        .collect();
    assert_eq!(told.len(), 2, "{told:?}");
    assert!(
        told[0].contains("cannot read") && told[0].contains("jamless.toml"),
        "{told:?}"
    );
    assert!(told[1].contains("jamless.toml:"), "with the line: {told:?}");
    // The log tells of all three: two refusals (WARN), one reload (INFO).
    let lines = read_lines(&log);
    let notices: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("jamless::config"))
        .collect();
    assert_eq!(notices.len(), 3, "{lines:?}");
    assert!(
        notices[0].contains("WARN") && notices[0].contains("not applied"),
        "{notices:?}"
    );
    assert!(
        notices[2].contains("INFO") && notices[2].contains("reloaded"),
        "{notices:?}"
    );
}
