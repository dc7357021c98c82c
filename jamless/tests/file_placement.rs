//! Where the files go, with a hostile file system or environment: a
//! symbolic link planted at the log path is refused (both file sinks), the
//! refusal is reported and the records go to the fallback sink, counted;
//! a log directory writable by every user is reported (a warning, logging
//! goes on); an instance tag from a hostile `$POD_NAME` (`..`, `/`) cannot
//! put a file outside the log directory, and the sanitising is reported.

mod common;
#[path = "common/procs.rs"]
mod procs;

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{assert_accounted, collecting_handler, settle, MemorySink};
use jamless::{Builder, Format, Level, Naming, RotatingFileSink, Sink};

const RECORDS: u64 = 200;

fn log_all(logger: &jamless::Logger) {
    for i in 0..RECORDS {
        logger.log(
            Level::Info,
            "app",
            format_args!("{}", procs::record_line(0, i)),
        );
    }
}

/// Builds a logger on `sink` with a memory fallback taking over quickly.
fn with_fallback(
    sink: Box<dyn Sink>,
) -> (
    jamless::Logger,
    jamless::Guard,
    MemorySink,
    std::sync::Arc<std::sync::Mutex<Vec<jamless::LastError>>>,
) {
    let fallback = MemorySink::new();
    let (handler, errors) = collecting_handler();
    let (logger, guard) = Builder::new()
        .sink(sink)
        .format(Format::text_pattern("{message}").unwrap())
        .fallback(Some(Box::new(fallback.clone())))
        .fallback_after(Duration::from_millis(50))
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(10))
        .error_handler(handler)
        .build()
        .unwrap();
    (logger, guard, fallback, errors)
}

fn symlink_refused(sink: Box<dyn Sink>, link: &Path, target: &Path) {
    let (logger, _guard, fallback, errors) = with_fallback(sink);
    log_all(&logger);
    let h = settle(&logger);
    assert_accounted(&h, RECORDS);
    assert_eq!(
        fs::read(target).unwrap(),
        b"secret\n",
        "the link's target was written"
    );
    assert!(fs::symlink_metadata(link).unwrap().file_type().is_symlink());
    let refused = errors
        .lock()
        .unwrap()
        .iter()
        .any(|e| e.class == "permission_denied" && e.message.contains("symbolic links"));
    assert!(
        refused,
        "refusal not reported: {:?}",
        errors.lock().unwrap()
    );
    // Every record went to the fallback, whole, once, and is counted so.
    let mut tally = procs::Tally::default();
    tally.add_text(Path::new("fallback"), &fallback.text());
    assert!(tally.missing(0, RECORDS).is_empty(), "{h}");
    assert!(tally.duplicates(0).is_empty());
    assert_eq!(h.written, RECORDS, "{h}");
    assert_eq!(h.written_fallback, RECORDS, "{h}");
}

#[test]
fn symlink_at_the_path_is_refused_by_the_file_sink() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("victim");
    fs::write(&target, "secret\n").unwrap();
    let path = dir.path().join("app.log");
    symlink(&target, &path).unwrap();
    let sink = jamless::FileSinkBuilder::new(&path).build();
    symlink_refused(Box::new(sink), &path, &target);
}

#[test]
fn symlink_at_the_path_is_refused_by_the_rotating_sink() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("victim");
    fs::write(&target, "secret\n").unwrap();
    // Fixed active name: the path is known before the first write.
    let path = dir.path().join("app.log");
    symlink(&target, &path).unwrap();
    let sink = RotatingFileSink::builder(Naming::new(dir.path(), "app").fixed_active_name(true))
        .build()
        .unwrap();
    symlink_refused(Box::new(sink), &path, &target);
}

fn warned_about_dir(errors: &[jamless::LastError]) -> bool {
    errors
        .iter()
        .any(|e| e.message.contains("writable by every user"))
}

#[test]
fn a_log_directory_writable_by_others_is_reported_and_logging_goes_on() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("shared");
    fs::create_dir(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
    let sinks: Vec<(Box<dyn Sink>, PathBuf)> = vec![
        (
            Box::new(jamless::FileSinkBuilder::new(dir.join("plain.log")).build()),
            dir.join("plain.log"),
        ),
        (
            Box::new(
                RotatingFileSink::builder(Naming::new(&dir, "rot").fixed_active_name(true))
                    .build()
                    .unwrap(),
            ),
            dir.join("rot.log"),
        ),
    ];
    for (sink, path) in sinks {
        let (logger, _guard, fallback, errors) = with_fallback(sink);
        log_all(&logger);
        let h = settle(&logger);
        assert_accounted(&h, RECORDS);
        assert!(
            warned_about_dir(&errors.lock().unwrap()),
            "{}: no warning: {:?}",
            path.display(),
            errors.lock().unwrap()
        );
        let mut tally = procs::Tally::default();
        tally.add_file(&procs::read_log_file(&path));
        assert!(tally.missing(0, RECORDS).is_empty(), "{h}");
        assert_eq!(h.written_fallback, 0);
        assert!(fallback.text().is_empty());
    }
}

const POD_CHILD_VAR: &str = "JAMLESS_PLACEMENT_CHILD";

/// The child: builds a rotating sink tagged `{pod}` with whatever
/// `$POD_NAME` it was given, logs, and checks that every file it made is
/// inside the log directory and that the sanitising was reported.
#[test]
fn pod_name_child() {
    let Some(dir) = procs::child_params::<PathBuf>(POD_CHILD_VAR) else {
        return;
    };
    let sink =
        RotatingFileSink::builder(Naming::new(dir.join("logs"), "app").instance_tag("{pod}"))
            .build()
            .unwrap();
    let (logger, _guard, _fallback, errors) = with_fallback(Box::new(sink));
    log_all(&logger);
    let h = settle(&logger);
    assert_accounted(&h, RECORDS);
    assert_eq!(h.written_fallback, 0, "{h}");
    let noted = errors
        .lock()
        .unwrap()
        .iter()
        .any(|e| e.message.contains("not a safe file name part"));
    assert!(
        noted,
        "sanitising not reported: {:?}",
        errors.lock().unwrap()
    );
    procs::print_report(&"ok");
}

#[test]
fn hostile_pod_name_cannot_leave_the_log_directory() {
    let exe = std::env::current_exe().unwrap();
    for pod in ["../../escaped", "../x/../../y", "a/b/c", ".."] {
        let work = tempfile::tempdir().unwrap();
        let out = work.path().join("out");
        fs::create_dir(&out).unwrap();
        let status = std::process::Command::new(&exe)
            .args([
                "--exact",
                "pod_name_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(POD_CHILD_VAR, serde_json::to_string(&work.path()).unwrap())
            .env("POD_NAME", pod)
            .stdout(fs::File::create(out.join("stdout")).unwrap())
            .stderr(fs::File::create(out.join("stderr")).unwrap())
            .status()
            .unwrap();
        assert!(
            status.success(),
            "POD_NAME={pod:?}: child failed: {}",
            fs::read_to_string(out.join("stderr")).unwrap()
        );
        let stdout = fs::read_to_string(out.join("stdout")).unwrap();
        assert!(
            stdout.contains(procs::REPORT_MARKER),
            "POD_NAME={pod:?}: the child test did not run: {stdout}"
        );
        // Nothing but the log directory and the child's output appeared,
        // here or above.
        let mut top: Vec<String> = fs::read_dir(work.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        top.sort();
        assert_eq!(top, ["logs", "out"], "POD_NAME={pod:?}");
        let logs: Vec<PathBuf> = fs::read_dir(work.path().join("logs"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert!(!logs.is_empty());
        for p in &logs {
            assert!(p.is_file(), "{}", p.display());
            let name = p.file_name().unwrap().to_string_lossy();
            assert!(name.starts_with("app."), "POD_NAME={pod:?}: {name}");
            assert!(!name.contains(".."), "POD_NAME={pod:?}: {name}");
        }
        let mut tally = procs::Tally::default();
        for p in &logs {
            tally.add_file(&procs::read_log_file(p));
        }
        assert!(tally.missing(0, RECORDS).is_empty(), "POD_NAME={pod:?}");
    }
}
