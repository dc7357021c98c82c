//! The `log` facade adapter, end to end: through a logger into a file.
//!
//! This binary installs the global `log` logger once, in
//! `installed_logger_writes_records_and_skips_filtered_ones`; the other
//! tests use adapters directly.
#![cfg(feature = "log")]

mod common;

use common::{line_with, read_lines};

use std::path::Path;
use std::time::Duration;

use jamless::{Builder, Format, Logger};
use log::Log;

fn logger(dir: &Path, filter: &str) -> (Logger, jamless::Guard) {
    Builder::new()
        .file(dir.join("app.log"))
        .format(Format::json())
        .filter(filter)
        .build()
        .unwrap()
}

#[test]
fn installed_logger_writes_records_and_skips_filtered_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let (logger, _guard) = logger(dir.path(), "debug,noisy=warn");
    logger.install_log().unwrap();
    assert!(logger.install_log().unwrap_err().is_already_installed());
    assert_eq!(log::max_level(), log::LevelFilter::Debug);

    log::info!(target: "app::auth", user_id = 42, ratio = 0.5, admin = false, name = "ann"; "login from {}", "10.0.0.7");
    log::debug!("debug is enabled {}", 1);
    log::trace!("trace is below the filter");
    log::info!(target: "noisy", "noisy info is below its filter");
    log::warn!(target: "noisy::sub", "noisy warn passes");
    log::error!(big = u128::MAX; "wide key-value");
    log::logger().flush();

    assert!(logger.flush(Duration::from_secs(5)).complete);
    let lines = read_lines(&path);
    let login = line_with(&lines, "login from 10.0.0.7");
    for part in ["user_id", "42", "ratio", "0.5", "admin", "false", "name"] {
        assert!(login.contains(part), "{part:?} in {login}");
    }
    assert!(line_with(&lines, "debug is enabled 1").contains("\"log.level\":\"debug\""));
    line_with(&lines, "noisy warn passes");
    let wide = line_with(&lines, "wide key-value");
    assert!(!lines.iter().any(|l| l.contains("below")), "{lines:#?}");
    {
        assert!(login.contains("app::auth"), "{login}");
        assert!(login.contains("ann"), "{login}");
        assert!(wide.contains(&u128::MAX.to_string()), "{wide}");
        assert!(line_with(&lines, "noisy warn passes").contains("noisy::sub"));
        assert!(line_with(&lines, "debug is enabled").contains(module_path!()));
    }

    // Filtered records were never offered, so no counter saw them.
    let h = logger.health();
    assert_eq!(h.offered, 4, "{h}");
    assert_eq!(h.accepted, 4, "{h}");
    assert_eq!(h.rejected, 0, "{h}");
    assert_eq!(h.written, lines.len() as u64, "{h}");
    assert_eq!(h.written, 4, "{h}");
}

#[test]
fn adapter_filters_by_target_level_and_regex() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let (logger, _guard) = logger(dir.path(), "info,db=trace/needle");
    let adapter = logger.log_adapter().unwrap();
    assert_eq!(adapter.max_level(), log::LevelFilter::Trace);

    let meta = |level, target| log::Metadata::builder().level(level).target(target).build();
    assert!(adapter.enabled(&meta(log::Level::Info, "web")));
    assert!(!adapter.enabled(&meta(log::Level::Debug, "web")));
    assert!(adapter.enabled(&meta(log::Level::Trace, "db::pool")));

    let emit = |level, target: &str, args: std::fmt::Arguments<'_>| {
        adapter.log(
            &log::Record::builder()
                .level(level)
                .target(target)
                .args(args)
                .line(Some(7))
                .file(Some("src/db.rs"))
                .build(),
        );
    };
    emit(log::Level::Info, "web", format_args!("a needle in web"));
    emit(
        log::Level::Info,
        "web",
        format_args!("web without it: dropped"),
    );
    emit(
        log::Level::Debug,
        "web",
        format_args!("web debug needle: dropped"),
    );
    emit(
        log::Level::Trace,
        "db",
        format_args!("db trace needle {}", 3),
    );
    adapter.flush();

    assert!(logger.flush(Duration::from_secs(5)).complete);
    let lines = read_lines(&path);
    line_with(&lines, "a needle in web");
    line_with(&lines, "db trace needle 3");
    assert!(!lines.iter().any(|l| l.contains("dropped")), "{lines:#?}");
    let h = logger.health();
    assert_eq!(h.offered, 2, "{h}");
    assert_eq!(h.written, 2, "{h}");
    assert_eq!(h.written, lines.len() as u64, "{h}");
}

#[test]
fn bad_directives_are_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["app=loud", "info/[unclosed", "a/b/c"] {
        let (logger, _guard) = logger(dir.path(), bad);
        let err = logger.log_adapter().unwrap_err();
        assert!(err.is_config(), "{bad}: {err}");
        assert!(logger.install_log().unwrap_err().is_config(), "{bad}");
    }
}
