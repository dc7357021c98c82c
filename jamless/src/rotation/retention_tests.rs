use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use super::{oldest_to_free, plan, Compression, Observed, Plan, Retention};

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

fn ts(text: &str) -> Timestamp {
    text.parse()
        .unwrap_or_else(|e| panic!("bad timestamp {text:?}: {e}"))
}

fn now() -> Timestamp {
    ts("2026-11-27T12:00:00Z")
}

fn at(secs_from_now: i64) -> Timestamp {
    now() + SignedDuration::from_secs(secs_from_now)
}

/// The daily file of `day` (2026-11-`day`), split `index`, last written at
/// the end of its period unless that is in the future.
fn daily(day: i8, index: u32, compressed: bool, bytes: u64) -> Observed {
    let start = jiff::civil::date(2026, 11, day)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::MIN);
    let end = start + SignedDuration::from_secs(DAY);
    let index_part = if index > 0 {
        format!(".{index}")
    } else {
        String::new()
    };
    let ext = if compressed { ".gz" } else { "" };
    Observed {
        path: PathBuf::from(format!("logs/app.2026-11-{day:02}{index_part}.log{ext}")),
        period_start: start,
        period_end: Some(end),
        index,
        compressed,
        bytes,
        modified: end.min(now() - SignedDuration::from_secs(60)),
    }
}

fn name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn names(paths: &[PathBuf]) -> Vec<String> {
    paths.iter().map(|p| name(p)).collect()
}

/// Yesterday and the four days before, plus today's open file.
fn week() -> Vec<Observed> {
    (22..=27).map(|day| daily(day, 0, false, 100)).collect()
}

#[test]
fn keeps_everything_by_default() {
    assert_eq!(
        plan(&week(), &Retention::new(), now(), &[]),
        Plan::default()
    );
}

#[test]
fn max_files_deletes_the_oldest() {
    let decided = plan(&week(), &Retention::new().max_files(3), now(), &[]);
    assert_eq!(
        names(&decided.delete),
        [
            "app.2026-11-22.log",
            "app.2026-11-23.log",
            "app.2026-11-24.log"
        ]
    );
    assert!(decided.compress.is_empty());
}

#[test]
fn max_age_counts_from_the_period_end() {
    let decided = plan(
        &week(),
        &Retention::new().max_age(Duration::from_secs(2 * DAY as u64)),
        now(),
        &[],
    );
    // The 24th ended on the 25th at midnight, 2.5 days ago.
    assert_eq!(
        names(&decided.delete),
        [
            "app.2026-11-22.log",
            "app.2026-11-23.log",
            "app.2026-11-24.log"
        ]
    );
}

#[test]
fn max_total_bytes_counts_the_open_file_too() {
    let mut files = week();
    files[5].bytes = 250; // today's
                          // 5 * 100 + 250 = 750; down to 450 removes three of the past files.
    let decided = plan(&files, &Retention::new().max_total_bytes(450), now(), &[]);
    assert_eq!(
        names(&decided.delete),
        [
            "app.2026-11-22.log",
            "app.2026-11-23.log",
            "app.2026-11-24.log"
        ]
    );
    // Even a limit of 0 keeps today's file.
    let all = plan(&files, &Retention::new().max_total_bytes(0), now(), &[]);
    assert_eq!(all.delete.len(), 5);
    assert!(!names(&all.delete).contains(&"app.2026-11-27.log".to_string()));
}

#[test]
fn limits_combine_and_compression_follows() {
    let mut files = week();
    files.push(daily(21, 0, true, 30));
    files.push(daily(26, 1, false, 100));
    let policy = Retention::new()
        .max_age(Duration::from_secs(5 * DAY as u64))
        .max_files(5)
        .max_total_bytes(350)
        .compress(Compression::Gzip);
    let decided = plan(&files, &policy, now(), &[]);
    // Age: the 21st (ended 5.5 days ago). Count: 7 units left, keep 5: the
    // 22nd and 23rd. Bytes: 24th..27th are 500, down to 350: the 24th and 25th.
    assert_eq!(
        names(&decided.delete),
        [
            "app.2026-11-21.log.gz",
            "app.2026-11-22.log",
            "app.2026-11-23.log",
            "app.2026-11-24.log",
            "app.2026-11-25.log"
        ]
    );
    assert_eq!(
        names(&decided.compress),
        ["app.2026-11-26.log", "app.2026-11-26.1.log"]
    );
}

#[test]
fn active_files_are_never_touched() {
    let files = week();
    let active = [files[1].path.clone()]; // the 23rd, held open by us
    let policy = Retention::new().max_files(1).compress(Compression::Gzip);
    let decided = plan(&files, &policy, now(), &active);
    assert_eq!(
        names(&decided.delete),
        [
            "app.2026-11-22.log",
            "app.2026-11-24.log",
            "app.2026-11-25.log",
            "app.2026-11-26.log"
        ]
    );
    assert!(decided.compress.is_empty());
    // Nothing at all may be touched when everything is active.
    let every: Vec<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
    assert_eq!(plan(&files, &policy, now(), &every), Plan::default());
}

#[test]
fn a_period_that_just_ended_waits_for_the_grace() {
    // Yesterday's file, today's has just begun.
    let midnight = ts("2026-11-27T00:00:00Z");
    let mut yesterday = daily(26, 0, false, 100);
    yesterday.modified = midnight - SignedDuration::from_millis(1);
    let mut today = daily(27, 0, false, 10);
    today.modified = midnight + SignedDuration::from_secs(1);
    let files = [yesterday.clone(), today];
    let gzip = Retention::new().compress(Compression::Gzip).max_files(1);
    let after = |secs: i64| {
        plan(
            &files,
            &gzip,
            midnight + SignedDuration::from_secs(secs),
            &[],
        )
    };
    // Default grace for days: one period, at most an hour.
    assert_eq!(after(30 * 60), Plan::default());
    assert_eq!(after(HOUR - 1), Plan::default());
    assert_eq!(names(&after(HOUR).delete), ["app.2026-11-26.log"]);

    // A late batch at 00:45 restarts the wait.
    let mut late = files.clone();
    late[0].modified = midnight + SignedDuration::from_secs(45 * 60);
    let compress_only = Retention::new().compress(Compression::Gzip);
    let after = |secs: i64| {
        plan(
            &late,
            &compress_only,
            midnight + SignedDuration::from_secs(secs),
            &[],
        )
    };
    assert_eq!(after(HOUR + 60), Plan::default());
    assert_eq!(
        names(&after(HOUR + 46 * 60).compress),
        ["app.2026-11-26.log"]
    );

    // An explicit grace.
    let quick = Retention::new()
        .compress(Compression::Gzip)
        .grace(Duration::from_secs(10));
    let decided = plan(
        &files,
        &quick,
        midnight + SignedDuration::from_secs(11),
        &[],
    );
    assert_eq!(names(&decided.compress), ["app.2026-11-26.log"]);
}

#[test]
fn superseded_splits_of_the_current_period_are_closed() {
    let mut files = vec![
        daily(27, 0, false, 100),
        daily(27, 1, false, 100),
        daily(27, 2, false, 100),
    ];
    files[0].modified = at(-2 * HOUR);
    files[1].modified = at(-30 * 60); // within the hour of grace
    files[2].modified = at(-HOUR * 3);
    let decided = plan(
        &files,
        &Retention::new().compress(Compression::Gzip),
        now(),
        &[],
    );
    // Split 2 is the newest: open, however quiet.
    assert_eq!(names(&decided.compress), ["app.2026-11-27.log"]);
    let decided = plan(&files, &Retention::new().max_files(1), now(), &[]);
    assert_eq!(names(&decided.delete), ["app.2026-11-27.log"]);
}

#[test]
fn compressed_units_count_once_and_leftovers_go() {
    let mut files = week();
    files.push(daily(25, 0, true, 20)); // the 25th compressed, original left over
    files.push(daily(24, 0, true, 20));
    files.retain(|f| f.path != Path::new("logs/app.2026-11-24.log"));
    let decided = plan(
        &files,
        &Retention::new().max_files(6).compress(Compression::Gzip),
        now(),
        &[],
    );
    assert_eq!(names(&decided.delete), ["app.2026-11-25.log"]);
    assert_eq!(
        names(&decided.compress),
        [
            "app.2026-11-22.log",
            "app.2026-11-23.log",
            "app.2026-11-26.log"
        ]
    );
    // Deleting a unit deletes both of its files.
    let decided = plan(&files, &Retention::new().max_files(3), now(), &[]);
    assert_eq!(
        names(&decided.delete),
        [
            "app.2026-11-22.log",
            "app.2026-11-23.log",
            "app.2026-11-24.log.gz",
            "app.2026-11-25.log"
        ]
    );
}

#[test]
fn never_rotated_files_split_by_size() {
    let file = |index: u32, age: i64| Observed {
        path: PathBuf::from(if index == 0 {
            "app.log".to_string()
        } else {
            format!("app.{index}.log")
        }),
        period_start: Timestamp::MIN,
        period_end: None,
        index,
        compressed: false,
        bytes: 100,
        modified: at(-age),
    };
    let files = [file(0, 600), file(1, 300), file(2, 5), file(3, 1)];
    let decided = plan(
        &files,
        &Retention::new().max_files(2).compress(Compression::Gzip),
        now(),
        &[],
    );
    // Grace is 10 s without a period: split 2 is still being written to.
    assert_eq!(names(&decided.delete), ["app.log", "app.1.log"]);
    assert!(decided.compress.is_empty());
    let decided = plan(
        &files,
        &Retention::new().compress(Compression::Gzip),
        now(),
        &[],
    );
    assert_eq!(names(&decided.compress), ["app.log", "app.1.log"]);
}

#[test]
fn files_of_an_earlier_configuration_are_managed() {
    // Daily files observed under NEVER (no period end): only the newest
    // period is open.
    let mut files = week();
    for file in &mut files {
        file.period_end = None;
    }
    let decided = plan(&files, &Retention::new().max_files(2), now(), &[]);
    assert_eq!(decided.delete.len(), 4);
    assert!(!names(&decided.delete).contains(&"app.2026-11-27.log".to_string()));
}

#[test]
fn a_file_from_the_future_does_not_expose_the_current_one() {
    // Another process's clock is a day ahead and wrote tomorrow's file;
    // ours is still written (recent mtime) and listed as active.
    let mut files = week();
    files[5].modified = at(-1);
    files.push(daily(28, 0, false, 100));
    let active = [files[5].path.clone()];
    let decided = plan(
        &files,
        &Retention::new().max_files(1).compress(Compression::Gzip),
        now(),
        &active,
    );
    let deleted = names(&decided.delete);
    assert!(!deleted.contains(&"app.2026-11-27.log".to_string()));
    assert!(!deleted.contains(&"app.2026-11-28.log".to_string()));
    assert_eq!(deleted.len(), 5);
}

#[test]
fn default_grace_follows_the_period() {
    let policy = Retention::new().compress(Compression::Gzip);
    let hourly = |secs: i64, quiet: i64| {
        let start = at(-2 * HOUR);
        let file = Observed {
            path: PathBuf::from("app.x.log"),
            period_start: start,
            period_end: Some(start + SignedDuration::from_secs(secs)),
            index: 0,
            compressed: false,
            bytes: 1,
            modified: at(-quiet),
        };
        // A newer period's file keeps the observed one from being open.
        let newer = Observed {
            path: PathBuf::from("app.y.log"),
            period_start: at(-1),
            period_end: Some(at(HOUR)),
            ..file.clone()
        };
        plan(&[file, newer], &policy, now(), &[]).compress.len()
    };
    // Minutely: a minute of grace.
    assert_eq!(hourly(60, 59), 0);
    assert_eq!(hourly(60, 60), 1);
    // One-second periods: at least 10 s.
    assert_eq!(hourly(1, 9), 0);
    assert_eq!(hourly(1, 10), 1);
    // Hours and beyond: an hour.
    assert_eq!(hourly(HOUR, HOUR - 1), 0);
    assert_eq!(hourly(HOUR, HOUR), 1);
}

#[test]
fn validation() {
    assert!(Retention::new().validate().is_ok());
    assert!(Retention::new()
        .max_files(0)
        .validate()
        .is_err_and(|e| e.is_config()));
    assert!(Retention::new()
        .compress(Compression::Gzip)
        .validate()
        .is_ok());
    assert_eq!(
        Retention::new()
            .compress(Compression::Zstd)
            .validate()
            .is_ok(),
        cfg!(feature = "zstd")
    );
    assert_eq!(
        Retention::new().compress(Compression::Gzip).compression(),
        Compression::Gzip
    );
    assert_eq!(
        Compression::from_name("a.log.gz"),
        ("a.log", Compression::Gzip)
    );
    assert_eq!(
        Compression::from_name("a.log.zst"),
        ("a.log", Compression::Zstd)
    );
    assert_eq!(
        Compression::from_name("a.log"),
        ("a.log", Compression::None)
    );
    assert_eq!(Compression::from_name("gz"), ("gz", Compression::None));
}

#[test]
fn freeing_space_takes_the_oldest_file_older_than_the_one_written() {
    let files = vec![
        daily(25, 0, true, 10),
        daily(25, 0, false, 10),
        daily(26, 0, false, 10),
        daily(27, 0, false, 10),
        daily(27, 1, false, 10),
        daily(27, 2, false, 10),
    ];
    let today = daily(27, 1, false, 0);
    let current = (today.period_start, 1);
    let writing = std::slice::from_ref(&today.path);
    // The oldest unit goes whole: the file and its compressed copy.
    let first = oldest_to_free(&files, current, writing);
    assert_eq!(
        names(&first),
        ["app.2026-11-25.log", "app.2026-11-25.log.gz"]
    );
    // Today's earlier split is older than the one being written.
    let rest: Vec<Observed> = files[2..].to_vec();
    let first = oldest_to_free(&rest[1..], current, writing);
    assert_eq!(names(&first), ["app.2026-11-27.log"]);
    // Never the file being written, nor a newer split, nor an active path.
    let left = vec![daily(27, 1, false, 10), daily(27, 2, false, 10)];
    assert!(oldest_to_free(&left, current, writing).is_empty());
    let active = vec![daily(26, 0, false, 10).path];
    let only = vec![daily(26, 0, false, 10)];
    assert!(oldest_to_free(&only, current, &active).is_empty());
}
