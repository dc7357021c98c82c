//! Fixed active name shared by two processes (two sinks with their own
//! clocks here, deterministic): a process that was idle for a whole period
//! must not rename the active file under the label of the period it last
//! wrote in, when another process already rotated since.

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use jamless::{Clock, Naming, RotatingFileSink, Rotation, Sink};

fn clock(at: &str) -> (Clock, Arc<AtomicU64>) {
    let t: jiff::Timestamp = at.parse().unwrap();
    let ms = Arc::new(AtomicU64::new(t.as_millisecond() as u64));
    let m = Arc::clone(&ms);
    let c: Clock = Arc::new(move || UNIX_EPOCH + Duration::from_millis(m.load(Ordering::SeqCst)));
    (c, ms)
}

fn set(ms: &AtomicU64, at: &str) {
    let t: jiff::Timestamp = at.parse().unwrap();
    ms.store(t.as_millisecond() as u64, Ordering::SeqCst);
}

/// Writes a line, and gives the file the modification time the sink's
/// clock says (the sink looks at it when it starts).
fn write(sink: &mut RotatingFileSink, ms: &AtomicU64, line: &str) {
    let mut buf = format!("{line}\n").into_bytes();
    while !buf.is_empty() {
        let n = sink.write(&buf).unwrap();
        buf.drain(..n);
    }
    let now = UNIX_EPOCH + Duration::from_millis(ms.load(Ordering::SeqCst));
    let path = sink.current_path().unwrap();
    let f = fs::OpenOptions::new().append(true).open(path).unwrap();
    f.set_modified(now).unwrap();
}

fn sink(dir: &Path, c: Clock) -> RotatingFileSink {
    RotatingFileSink::builder(Naming::new(dir, "app").fixed_active_name(true))
        .rotation(Rotation::HOURLY)
        .clock(c)
        .build()
        .unwrap()
}

fn files(dir: &Path) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn idle_process_labels_the_active_file_by_the_period_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, a_ms) = clock("2026-11-27T12:30:00Z");
    let (cb, b_ms) = clock("2026-11-27T12:30:00Z");
    let mut a = sink(dir.path(), ca);
    let mut b = sink(dir.path(), cb);
    write(&mut a, &a_ms, "a 12:30");
    write(&mut b, &b_ms, "b 12:30");
    // A rotates hour 12 away and writes hour 13 into the active file.
    set(&a_ms, "2026-11-27T13:30:00Z");
    write(&mut a, &a_ms, "a 13:30");
    // B was idle all of hour 13; it is the first to write in hour 14.
    set(&b_ms, "2026-11-27T14:30:00Z");
    write(&mut b, &b_ms, "b 14:30");
    set(&a_ms, "2026-11-27T14:31:00Z");
    write(&mut a, &a_ms, "a 14:31");
    let got = files(dir.path());
    let expect = vec![
        (
            "app.2026-11-27T12.log".to_string(),
            "a 12:30\nb 12:30\n".to_string(),
        ),
        ("app.2026-11-27T13.log".to_string(), "a 13:30\n".to_string()),
        ("app.log".to_string(), "b 14:30\na 14:31\n".to_string()),
    ];
    assert_eq!(
        got, expect,
        "hour 13's records must be in hour 13's file, not labelled as hour 12"
    );
}
