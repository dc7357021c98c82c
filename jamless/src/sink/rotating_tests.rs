use std::sync::atomic::{AtomicU64, Ordering};
use std::time::UNIX_EPOCH;

use super::*;

/// A settable wall clock, in milliseconds since the epoch.
fn manual_clock(start: &str) -> (Clock, Arc<AtomicU64>) {
    let t: Timestamp = start.parse().unwrap();
    let ms = Arc::new(AtomicU64::new(t.as_millisecond() as u64));
    let m = Arc::clone(&ms);
    let clock: Clock =
        Arc::new(move || UNIX_EPOCH + Duration::from_millis(m.load(Ordering::SeqCst)));
    (clock, ms)
}

fn set(ms: &AtomicU64, at: &str) {
    let t: Timestamp = at.parse().unwrap();
    ms.store(t.as_millisecond() as u64, Ordering::SeqCst);
}

fn write_all(sink: &mut RotatingFileSink, mut buf: &[u8]) {
    while !buf.is_empty() {
        let n = sink.write(buf).unwrap();
        assert!(n > 0);
        buf = &buf[n..];
    }
}

fn files(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    v.sort();
    v
}

fn read(dir: &std::path::Path, name: &str) -> String {
    fs::read_to_string(dir.join(name)).unwrap()
}

#[test]
fn dated_daily_rotation_crosses_midnight_without_renaming() {
    let dir = tempfile::tempdir().unwrap();
    let (clock, ms) = manual_clock("2026-11-27T23:59:59Z");
    let mut sink = RotatingFileSink::builder(Naming::new(dir.path(), "app"))
        .clock(clock)
        .build()
        .unwrap();
    write_all(&mut sink, b"before midnight\n");
    set(&ms, "2026-11-28T00:00:01Z");
    write_all(&mut sink, b"after midnight\n");
    set(&ms, "2026-12-31T23:59:59.999Z");
    write_all(&mut sink, b"year end\n");
    set(&ms, "2027-01-01T00:00:00Z");
    write_all(&mut sink, b"new year\n");
    assert_eq!(
        files(dir.path()),
        [
            "app.2026-11-27.log",
            "app.2026-11-28.log",
            "app.2026-12-31.log",
            "app.2027-01-01.log"
        ]
    );
    assert_eq!(read(dir.path(), "app.2026-11-27.log"), "before midnight\n");
    assert_eq!(read(dir.path(), "app.2026-11-28.log"), "after midnight\n");
    assert_eq!(read(dir.path(), "app.2027-01-01.log"), "new year\n");
}

#[test]
fn size_splits_at_line_boundaries_and_indices_continue_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let (clock, _ms) = manual_clock("2026-11-27T12:00:00Z");
    let build = || {
        RotatingFileSink::builder(Naming::new(dir.path(), "app"))
            .clock(Arc::clone(&clock))
            .max_bytes(100)
            .build()
            .unwrap()
    };
    let mut a = build();
    let mut b = build();
    let mut all = String::new();
    for i in 0..40 {
        let line = format!("line {i:03} xxxxxxxxxxxxxxxx\n");
        all.push_str(&line);
        // Two "processes" take turns on the same directory.
        let sink = if i % 3 == 0 { &mut b } else { &mut a };
        write_all(sink, line.as_bytes());
    }
    let names = files(dir.path());
    assert!(names.len() >= 8, "{names:?}");
    let mut seen = Vec::new();
    for n in &names {
        let text = read(dir.path(), n);
        assert!(text.len() <= 100 + 30, "{n} holds {} bytes", text.len());
        assert!(text.ends_with('\n'));
        seen.extend(text.lines().map(str::to_owned));
    }
    seen.sort();
    let mut want: Vec<String> = all.lines().map(str::to_owned).collect();
    want.sort();
    assert_eq!(seen, want, "every line once, none torn");
}

#[test]
fn a_line_larger_than_a_file_goes_alone_into_a_fresh_file() {
    let dir = tempfile::tempdir().unwrap();
    let (clock, _ms) = manual_clock("2026-11-27T12:00:00Z");
    let mut sink = RotatingFileSink::builder(Naming::new(dir.path(), "app"))
        .clock(clock)
        .max_bytes(10)
        .build()
        .unwrap();
    write_all(
        &mut sink,
        b"short\nthis line is longer than ten bytes\nend\n",
    );
    let mut names = files(dir.path());
    // app.DATE.log is index 0, then app.DATE.1.log, app.DATE.2.log ...
    let index = |n: &String| {
        n.split('.')
            .nth(2)
            .and_then(|i| i.parse::<u32>().ok())
            .unwrap_or(0)
    };
    names.sort_by_key(index);
    let contents: Vec<String> = names.iter().map(|n| read(dir.path(), n)).collect();
    assert_eq!(
        contents.concat(),
        "short\nthis line is longer than ten bytes\nend\n"
    );
    assert!(
        contents.contains(&"this line is longer than ten bytes\n".to_string()),
        "{contents:?}"
    );
}

#[test]
fn fixed_active_name_is_renamed_once_when_two_writers_rotate_together() {
    let dir = tempfile::tempdir().unwrap();
    let (clock, ms) = manual_clock("2026-11-27T23:59:58Z");
    let build = || {
        RotatingFileSink::builder(Naming::new(dir.path(), "app").fixed_active_name(true))
            .clock(Arc::clone(&clock))
            .build()
            .unwrap()
    };
    let mut a = build();
    let mut b = build();
    write_all(&mut a, b"a day 1\n");
    write_all(&mut b, b"b day 1\n");
    set(&ms, "2026-11-28T00:00:00Z");
    // Both reach the boundary: one renames, the other only reopens.
    write_all(&mut a, b"a day 2\n");
    write_all(&mut b, b"b day 2\n");
    assert_eq!(files(dir.path()), ["app.2026-11-27.log", "app.log"]);
    assert_eq!(read(dir.path(), "app.2026-11-27.log"), "a day 1\nb day 1\n");
    assert_eq!(read(dir.path(), "app.log"), "a day 2\nb day 2\n");
}

#[test]
fn fixed_active_name_restart_after_midnight_rotates_the_old_file_first() {
    let dir = tempfile::tempdir().unwrap();
    let (clock, ms) = manual_clock("2026-11-27T10:00:00Z");
    let naming = || Naming::new(dir.path(), "app").fixed_active_name(true);
    let mut a = RotatingFileSink::builder(naming())
        .clock(Arc::clone(&clock))
        .build()
        .unwrap();
    write_all(&mut a, b"yesterday\n");
    drop(a);
    // The file's mtime is the real time; make the clock say "tomorrow" of that.
    let mtime = fs::metadata(dir.path().join("app.log"))
        .unwrap()
        .modified()
        .unwrap();
    let tomorrow = to_ts(mtime) + jiff::SignedDuration::from_hours(24);
    ms.store(tomorrow.as_millisecond() as u64, Ordering::SeqCst);
    let mut b = RotatingFileSink::builder(naming())
        .clock(clock)
        .build()
        .unwrap();
    write_all(&mut b, b"today\n");
    let names = files(dir.path());
    assert_eq!(names.len(), 2, "{names:?}");
    assert_eq!(read(dir.path(), "app.log"), "today\n");
    let old = names.iter().find(|n| *n != "app.log").unwrap();
    assert_eq!(read(dir.path(), old), "yesterday\n");
    let _ = ms;
}

#[test]
fn fixed_active_size_rotation_with_vanished_file_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (clock, _ms) = manual_clock("2026-11-27T12:00:00Z");
    let mut a = RotatingFileSink::builder(Naming::new(dir.path(), "app").fixed_active_name(true))
        .clock(clock)
        .max_bytes(20)
        .build()
        .unwrap();
    write_all(&mut a, b"0123456789012345678\n");
    // Someone removes the active file before our size rotation.
    fs::remove_file(dir.path().join("app.log")).unwrap();
    write_all(&mut a, b"next\n");
    assert_eq!(read(dir.path(), "app.log"), "next\n");
}

#[test]
fn rotate_on_start_begins_a_new_file_in_both_modes() {
    for fixed in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let (clock, _ms) = manual_clock("2026-11-27T12:00:00Z");
        let naming = || Naming::new(dir.path(), "app").fixed_active_name(fixed);
        let mut first = RotatingFileSink::builder(naming())
            .clock(Arc::clone(&clock))
            .build()
            .unwrap();
        write_all(&mut first, b"first run\n");
        drop(first);
        // Without the option a restart appends to the same file ...
        let mut again = RotatingFileSink::builder(naming())
            .clock(Arc::clone(&clock))
            .build()
            .unwrap();
        write_all(&mut again, b"second run\n");
        drop(again);
        assert_eq!(files(dir.path()).len(), 1, "fixed={fixed}");
        // ... with it, the restart starts a new one.
        let mut fresh = RotatingFileSink::builder(naming())
            .clock(Arc::clone(&clock))
            .rotate_on_start(true)
            .build()
            .unwrap();
        write_all(&mut fresh, b"third run\n");
        let names = files(dir.path());
        assert_eq!(names.len(), 2, "fixed={fixed}: {names:?}");
        let texts: Vec<String> = names.iter().map(|n| read(dir.path(), n)).collect();
        assert!(
            texts.contains(&"first run\nsecond run\n".to_string()),
            "{texts:?}"
        );
        assert!(texts.contains(&"third run\n".to_string()), "{texts:?}");
    }
}

/// Closing the sink (what the writer does at shutdown) stops the
/// housekeeper, even half-way through compressing a large file, and waits
/// for it: a file is left either as the original or as its compressed
/// copy, never both, and no temporary file is left behind.
#[test]
fn close_stops_the_housekeeper_without_leaving_a_file_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (clock, ms) = manual_clock("2026-01-01T12:00:00Z");
    let mut sink = RotatingFileSink::builder(Naming::new(dir.path(), "app"))
        .clock(clock)
        .retention(
            Retention::new()
                .compress(rotation::Compression::Gzip)
                .grace(Duration::ZERO),
        )
        .build()
        .unwrap();
    // Incompressible-ish lines, so that compressing takes a while.
    let mut line = String::new();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut day_one = Vec::new();
    while day_one.len() < 32 << 20 {
        line.clear();
        for _ in 0..8 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            line.push_str(&format!("{x:016x}"));
        }
        line.push('\n');
        day_one.extend_from_slice(line.as_bytes());
    }
    write_all(&mut sink, &day_one);
    set(&ms, "2026-01-02T12:00:00Z");
    write_all(&mut sink, b"day two\n");
    sink.maintain(SystemTime::now()).unwrap();
    sink.close().unwrap();

    let names = files(dir.path());
    let plain = names.iter().any(|n| n == "app.2026-01-01.log");
    let gz = names.iter().any(|n| n == "app.2026-01-01.log.gz");
    assert!(plain != gz, "exactly one of the two must exist: {names:?}");
    assert!(
        !fs::read_dir(dir.path()).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".tmp")),
        "temporary file left: {names:?}"
    );
    if plain {
        assert_eq!(
            fs::read(dir.path().join("app.2026-01-01.log")).unwrap(),
            day_one
        );
    }
    assert_eq!(read(dir.path(), "app.2026-01-02.log"), "day two\n");
    // Stopped for good: nothing changes afterwards.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(files(dir.path()), names);
}

#[test]
fn deleted_current_file_gets_its_unverified_records_back_and_a_moved_one_does_not() {
    for fixed in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let (clock, ms) = manual_clock("2026-11-27T12:00:00Z");
        let mut sink =
            RotatingFileSink::builder(Naming::new(dir.path(), "app").fixed_active_name(fixed))
                .clock(clock)
                .check_interval(Duration::ZERO)
                .build()
                .unwrap();
        let name = if fixed {
            "app.log"
        } else {
            "app.2026-11-27.log"
        };
        write_all(&mut sink, b"a\n");
        fs::remove_file(dir.path().join(name)).unwrap();
        // Deleted before any check: "a" is written again.
        write_all(&mut sink, b"b\n");
        assert_eq!(read(dir.path(), name), "a\nb\n", "fixed: {fixed}");
        assert_eq!(sink.stats().records_replayed(), 1);
        // Moved away: "c" stays in the moved file, never written twice.
        write_all(&mut sink, b"c\n");
        fs::rename(dir.path().join(name), dir.path().join("moved")).unwrap();
        write_all(&mut sink, b"d\n");
        assert_eq!(read(dir.path(), "moved"), "a\nb\nc\n", "fixed: {fixed}");
        assert_eq!(read(dir.path(), name), "d\n", "fixed: {fixed}");
        // Deleted while idle: maintain writes "d" again at once.
        fs::remove_file(dir.path().join(name)).unwrap();
        set(&ms, "2026-11-27T12:00:01Z");
        sink.maintain(SystemTime::now()).unwrap();
        assert_eq!(read(dir.path(), name), "d\n", "fixed: {fixed}");
        assert!(sink.take_lost().is_none());
    }
}
