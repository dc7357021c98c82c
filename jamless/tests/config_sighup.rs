//! `SIGHUP` on a real process: after its log file is renamed (logrotate's
//! `create` mode) and its configuration changed, a `SIGHUP` makes it
//! reopen the file and reload the configuration; no record is lost.
//!
//! The child is this test binary run again with `CHILD_DIR` set: it runs
//! `sighup_child_process` only, which logs until told to stop.
#![cfg(feature = "config")]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jamless::{Builder, Level, Outcome};

const CHILD_DIR: &str = "JAMLESS_TEST_SIGHUP_CHILD_DIR";

fn config_text(log: &Path, filter: &str) -> String {
    format!(
        "error_handler = \"none\"\n[[pipeline]]\nname = \"main\"\nfilter = \"{filter}\"\nformat = {{ type = \"text\", pattern = \"{{level}} {{message}}\" }}\nsink = {{ type = \"file\", path = \"{}\" }}\n",
        log.display()
    )
}

fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The child's side (does nothing in a normal test run).
#[test]
fn sighup_child_process() {
    let Some(dir) = std::env::var_os(CHILD_DIR).map(PathBuf::from) else {
        return;
    };
    let config = dir.join("jamless.toml");
    let (logger, guard) = Builder::from_config_file(&config).unwrap().build().unwrap();
    let _sighup = logger.install_sighup(Some(config)).unwrap();
    std::fs::write(dir.join("ready"), "").unwrap();
    let mut outcomes = Vec::new();
    let mut n = 0u64;
    while !dir.join("stop").exists() {
        let level = if n.is_multiple_of(2) {
            Level::Info
        } else {
            Level::Debug
        };
        let o = logger.log(level, "child", format_args!("id={n}"));
        outcomes.push(match o {
            Outcome::Accepted => 'a',
            Outcome::Filtered => 'f',
            Outcome::Dropped(_) => 'd',
        });
        n += 1;
        std::thread::sleep(Duration::from_micros(500));
    }
    let flush = guard.shutdown(Duration::from_secs(10));
    assert!(flush.complete, "{flush:?}");
    let report = serde_json::json!({
        "outcomes": outcomes.into_iter().collect::<String>(),
        "health": logger.health(),
    });
    std::fs::write(dir.join("report.json"), report.to_string()).unwrap();
}

#[test]
fn sighup_reopens_the_renamed_file_and_reloads_the_configuration() {
    if std::env::var_os(CHILD_DIR).is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let rotated = dir.path().join("app.log.1");
    let config = dir.path().join("jamless.toml");
    std::fs::write(&config, config_text(&log, "info")).unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "sighup_child_process", "--test-threads=1"])
        .env(CHILD_DIR, dir.path())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the child to log", || lines(&log).len() >= 20);

    // logrotate `create`: rename, then tell the process.
    std::fs::rename(&log, &rotated).unwrap();
    replace(&config, &config_text(&log, "debug"));
    let kill = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    wait_for("DEBUG records in the reopened file", || {
        lines(&log).iter().any(|l| l.starts_with("DEBUG id="))
    });
    std::fs::write(dir.path().join("stop"), "").unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the child did not exit");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success(), "child: {status}");

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    let outcomes: Vec<char> = report["outcomes"].as_str().unwrap().chars().collect();
    let h = &report["health"];
    let old = lines(&rotated);
    let new = lines(&log);
    let id_of = |l: &String| -> Option<u64> { l.split("id=").nth(1)?.parse().ok() };
    let mut seen: HashMap<u64, usize> = HashMap::new();
    let mut notices = 0;
    for l in old.iter().chain(&new) {
        match id_of(l) {
            Some(id) => *seen.entry(id).or_default() += 1,
            None => {
                assert!(l.contains("configuration"), "unexpected line {l:?}");
                notices += 1;
            }
        }
    }
    // Every accepted record once, in one of the two files; the old file
    // holds only records from before the reopen.
    for (id, o) in outcomes.iter().enumerate() {
        let n = seen.get(&(id as u64)).copied().unwrap_or(0);
        assert_eq!(n, usize::from(*o == 'a'), "id {id} ({o})");
    }
    let last_old = old.iter().filter_map(id_of).max().unwrap();
    let first_new = new.iter().filter_map(id_of).min().unwrap();
    assert!(last_old < first_new, "{last_old} then {first_new}");
    assert!(
        old.iter().all(|l| !l.starts_with("DEBUG")),
        "info until the reload"
    );
    assert_eq!(notices, 1, "the reload is told in the log");
    // The accounting adds up.
    let n = |k: &str| h[k].as_u64().unwrap_or_else(|| panic!("{k} in {h}"));
    let offered_by_child = outcomes.iter().filter(|o| **o != 'f').count() as u64;
    assert_eq!(n("offered"), offered_by_child + notices, "{h}");
    assert_eq!(n("offered"), n("accepted") + n("rejected"), "{h}");
    assert_eq!(n("queued"), 0, "{h}");
    assert_eq!(
        n("accepted"),
        n("written") + n("dropped_after_accept"),
        "{h}"
    );
    assert_eq!(n("written"), (old.len() + new.len()) as u64, "{h}");
    assert_eq!((n("config_reloads"), n("config_errors")), (1, 0), "{h}");
}
