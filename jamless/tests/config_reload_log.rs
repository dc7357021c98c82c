//! A reloaded filter takes effect for `log` and native callsites that ran
//! before the change (the `log` facade's maximum level and the macros'
//! cached level follow it). Its own binary: it installs the global logger.
#![cfg(all(feature = "config", feature = "log"))]

mod common;

use common::{assert_accounted, message_config as config, read_lines, settle};

use jamless::Builder;

/// The same callsites every round.
fn emit(round: &str) {
    log::trace!("log trace {round}");
    log::debug!("log debug {round}");
    log::info!("log info {round}");
    jamless::trace!("native trace {}", round);
    jamless::debug!("native debug {}", round);
    jamless::warn!("native warn {}", round);
}

#[test]
fn reloaded_levels_reach_cached_log_and_native_callsites() {
    std::env::remove_var("RUST_LOG");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let (logger, _guard) = Builder::from_config_str(&config(&path, "info"), "v1.toml")
        .unwrap()
        .build()
        .unwrap();
    logger.install_log().unwrap();
    assert_eq!(log::max_level(), log::LevelFilter::Info);
    emit("1");

    logger.set_filter("debug").unwrap();
    assert_eq!(log::max_level(), log::LevelFilter::Debug);
    emit("2");

    // A reload of the file, with directives that are not one level.
    let r = logger
        .reload_config_str(&config(&path, "warn,config_reload_log=trace"), "v2.toml")
        .unwrap();
    assert_eq!(r.applied.len(), 1, "{r}");
    assert_eq!(log::max_level(), log::LevelFilter::Trace);
    emit("3");

    logger.set_filter("warn").unwrap();
    assert_eq!(log::max_level(), log::LevelFilter::Warn);
    emit("4");

    let h = settle(&logger);
    let expected = [
        "log info 1",
        "native warn 1",
        "log debug 2",
        "log info 2",
        "native debug 2",
        "native warn 2",
        "log trace 3",
        "log debug 3",
        "log info 3",
        "native trace 3",
        "native debug 3",
        "native warn 3",
        "native warn 4",
    ];
    assert_eq!(read_lines(&path), expected);
    assert_accounted(&h, expected.len() as u64);
}
