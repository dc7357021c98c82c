use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, SystemTime};

use super::*;
use crate::rotation::{InstanceEnv, Naming};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Some log lines, large enough to take several buffers.
fn content() -> Vec<u8> {
    (0..8_000)
        .map(|i| {
            format!(
                "2026-11-27T13:05:{:02}Z INFO request id={i} status=200\n",
                i % 60
            )
        })
        .collect::<String>()
        .into_bytes()
}

fn gunzip(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(File::open(path)?).read_to_end(&mut out)?;
    Ok(out)
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn set_old_mtime(path: &Path) -> std::io::Result<SystemTime> {
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000);
    File::options().write(true).open(path)?.set_modified(old)?;
    Ok(old)
}

#[test]
fn gzip_round_trip_keeps_mode_and_mtime() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let path = tmp.path().join("app.2026-11-27.log");
    let data = content();
    fs::write(&path, &data)?;
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640))?;
    let mtime = set_old_mtime(&path)?;

    let outcome = compress_file(&path, Compression::Gzip)?;
    let gz = tmp.path().join("app.2026-11-27.log.gz");
    let CompressOutcome::Compressed {
        original,
        compressed,
    } = outcome
    else {
        panic!("not compressed: {outcome:?}");
    };
    assert_eq!(original, data.len() as u64);
    assert!(compressed > 0 && compressed < original / 5, "{compressed}");
    assert_eq!(names_in(tmp.path()), ["app.2026-11-27.log.gz"]);
    assert_eq!(gunzip(&gz)?, data);
    let meta = fs::metadata(&gz)?;
    assert_eq!(meta.permissions().mode() & 0o777, 0o640);
    assert_eq!(meta.modified()?, mtime);
    Ok(())
}

#[cfg(feature = "zstd")]
#[test]
fn zstd_round_trip() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let path = tmp.path().join("app.2026-11-27.log");
    let data = content();
    fs::write(&path, &data)?;
    let outcome = compress_file(&path, Compression::Zstd)?;
    assert!(
        matches!(outcome, CompressOutcome::Compressed { .. }),
        "{outcome:?}"
    );
    let zst = tmp.path().join("app.2026-11-27.log.zst");
    assert_eq!(zstd::stream::decode_all(File::open(zst)?)?, data);
    assert_eq!(names_in(tmp.path()), ["app.2026-11-27.log.zst"]);
    Ok(())
}

#[cfg(not(feature = "zstd"))]
#[test]
fn zstd_without_the_feature_is_a_config_error() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let path = tmp.path().join("app.log");
    fs::write(&path, b"x\n")?;
    let result = compress_file(&path, Compression::Zstd);
    assert!(result.is_err_and(|e| e.is_config()));
    assert!(path.exists());
    Ok(())
}

#[test]
fn nothing_to_do_cases_are_skips() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    let path = dir.join("app.2026-11-27.log");
    let skipped = |reason| Ok::<_, Error>(CompressOutcome::Skipped(reason));
    let same = |a: Result<CompressOutcome, Error>, b: Result<CompressOutcome, Error>| {
        assert_eq!(a.map_err(|e| e.to_string()), b.map_err(|e| e.to_string()));
    };

    same(
        compress_file(&path, Compression::Gzip),
        skipped(SkipReason::SourceGone),
    );
    fs::write(&path, b"line\n")?;
    same(
        compress_file(&path, Compression::None),
        skipped(SkipReason::Disabled),
    );

    // A finished copy: nothing to do, the original is retention's business.
    fs::write(dir.join("app.2026-11-27.log.gz"), b"done")?;
    same(
        compress_file(&path, Compression::Gzip),
        skipped(SkipReason::AlreadyDone),
    );
    assert!(path.exists());
    fs::remove_file(dir.join("app.2026-11-27.log.gz"))?;

    // A fresh claim by another process: leave it alone.
    let temp = dir.join("app.2026-11-27.log.gz.tmp");
    fs::write(&temp, b"partial")?;
    same(
        compress_file(&path, Compression::Gzip),
        skipped(SkipReason::InProgress),
    );
    assert_eq!(fs::read(&temp)?, b"partial");
    assert!(path.exists());

    // A symbolic link planted as the original is not followed.
    let link = dir.join("app.2026-11-26.log");
    std::os::unix::fs::symlink(&path, &link)?;
    same(
        compress_file(&link, Compression::Gzip),
        skipped(SkipReason::NotAFile),
    );
    Ok(())
}

#[test]
fn a_stale_claim_is_broken() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let path = tmp.path().join("app.2026-11-27.log");
    let data = content();
    fs::write(&path, &data)?;
    let temp = tmp.path().join("app.2026-11-27.log.gz.tmp");
    fs::write(&temp, b"left by a dead compressor")?;
    set_old_mtime(&temp)?;
    let outcome = compress_file(&path, Compression::Gzip)?;
    assert!(
        matches!(outcome, CompressOutcome::Compressed { .. }),
        "{outcome:?}"
    );
    assert_eq!(names_in(tmp.path()), ["app.2026-11-27.log.gz"]);
    assert_eq!(gunzip(&tmp.path().join("app.2026-11-27.log.gz"))?, data);
    Ok(())
}

#[test]
fn concurrent_compressors_publish_exactly_once() -> TestResult {
    let data = content();
    for round in 0..20 {
        let tmp = tempfile::tempdir()?;
        let path = tmp.path().join("app.2026-11-27.log");
        fs::write(&path, &data)?;
        let threads = if round % 2 == 0 { 2 } else { 4 };
        let barrier = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let barrier = Arc::clone(&barrier);
                let path = path.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    compress_file(&path, Compression::Gzip).map_err(|e| e.to_string())
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for handle in handles {
            outcomes.push(handle.join().map_err(|_| "compressor panicked")??);
        }
        let done = outcomes
            .iter()
            .filter(|o| matches!(o, CompressOutcome::Compressed { .. }))
            .count();
        assert_eq!(done, 1, "round {round}: {outcomes:?}");
        assert!(outcomes.iter().all(|o| matches!(
            o,
            CompressOutcome::Compressed { .. }
                | CompressOutcome::Skipped(
                    SkipReason::InProgress | SkipReason::AlreadyDone | SkipReason::SourceGone
                )
        )));
        assert_eq!(
            names_in(tmp.path()),
            ["app.2026-11-27.log.gz"],
            "round {round}"
        );
        assert_eq!(gunzip(&tmp.path().join("app.2026-11-27.log.gz"))?, data);
    }
    Ok(())
}

#[test]
fn a_removed_claim_is_lost_not_published() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let temp = tmp.path().join("x.log.gz.tmp");
    let target = tmp.path().join("x.log.gz");
    let Some(out) = claim(&temp, STALE_TEMP)? else {
        panic!("claim refused");
    };
    // A stale-breaker removed our name and another process claimed anew.
    fs::remove_file(&temp)?;
    fs::write(&temp, b"someone else's partial file")?;
    assert_eq!(publish(&out, &temp, &target)?, Publish::Lost);
    assert_eq!(publish_by_name(&out, &temp, &target)?, Publish::Lost);
    assert!(!target.exists());
    assert_eq!(fs::read(&temp)?, b"someone else's partial file");
    Ok(())
}

#[test]
fn publishing_never_replaces() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let target = tmp.path().join("x.log.gz");
    fs::write(&target, b"first")?;
    for by_name in [false, true] {
        let temp = tmp.path().join("x.log.gz.tmp");
        let Some(out) = claim(&temp, STALE_TEMP)? else {
            panic!("claim refused");
        };
        let result = if by_name {
            publish_by_name(&out, &temp, &target)?
        } else {
            publish(&out, &temp, &target)?
        };
        assert_eq!(result, Publish::Exists);
        assert_eq!(fs::read(&target)?, b"first");
        fs::remove_file(&temp)?;
    }
    // And by name it publishes when the target is free.
    fs::remove_file(&target)?;
    let temp = tmp.path().join("x.log.gz.tmp");
    let Some(out) = claim(&temp, STALE_TEMP)? else {
        panic!("claim refused");
    };
    assert_eq!(publish_by_name(&out, &temp, &target)?, Publish::Done);
    assert!(target.exists() && !temp.exists());
    Ok(())
}

#[test]
fn a_growing_original_is_noticed() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let path = tmp.path().join("x.log");
    fs::write(&path, b"one\n")?;
    let before = fs::metadata(&path)?;
    assert!(!changed(&before, &fs::metadata(&path)?));
    let mut file = File::options().append(true).open(&path)?;
    file.write_all(b"late batch\n")?;
    assert!(changed(&before, &fs::metadata(&path)?));
    Ok(())
}

#[test]
fn recover_cleans_leftovers_of_dead_compressors() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    for name in [
        "app.2026-11-25.log", // compressed copy complete: remove
        "app.2026-11-25.log.gz",
        "app.2026-11-26.log.gz.tmp", // stale: remove
        "app.2026-11-26.log",
        "app.2026-11-27.log.gz.tmp", // fresh: keep
        "app.2026-11-27.log",
        "other.2026-11-25.log", // not ours: keep
        "other.2026-11-25.log.gz",
        "other.2026-11-26.log.gz.tmp",
    ] {
        fs::write(dir.join(name), b"x")?;
    }
    set_old_mtime(&dir.join("app.2026-11-26.log.gz.tmp"))?;
    set_old_mtime(&dir.join("other.2026-11-26.log.gz.tmp"))?;
    let names = Naming::new(dir, "app").resolve(&InstanceEnv::default())?;
    let done = recover(&names)?;
    assert_eq!(
        (
            done.originals_removed,
            done.temps_removed,
            done.errors.len()
        ),
        (1, 1, 0)
    );
    assert_eq!(
        names_in(dir),
        [
            "app.2026-11-25.log.gz",
            "app.2026-11-26.log",
            "app.2026-11-27.log",
            "app.2026-11-27.log.gz.tmp",
            "other.2026-11-25.log",
            "other.2026-11-25.log.gz",
            "other.2026-11-26.log.gz.tmp",
        ]
    );
    // Idempotent, and a missing directory is clean.
    let again = recover(&names)?;
    assert_eq!((again.originals_removed, again.temps_removed), (0, 0));
    let gone = Naming::new(dir.join("missing"), "app").resolve(&InstanceEnv::default())?;
    assert_eq!(recover(&gone)?.originals_removed, 0);
    // With a zero stale limit the fresh one goes too.
    assert_eq!(recover_with(&names, Duration::ZERO)?.temps_removed, 1);
    Ok(())
}
