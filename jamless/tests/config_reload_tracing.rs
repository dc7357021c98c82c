//! A reloaded filter takes effect for `tracing` callsites whose interest
//! was already cached. Its own binary: it sets the global subscriber.
#![cfg(all(feature = "config", feature = "tracing"))]

mod common;

use common::{assert_accounted, message_config as config, read_lines, settle};

use jamless::Builder;
use tracing_subscriber::prelude::*;

/// The same callsites every round.
fn emit(round: &str) {
    tracing::trace!("trace {round}");
    tracing::debug!("debug {round}");
    tracing::info!("info {round}");
    let span = tracing::info_span!("request", id = 7);
    let _entered = span.enter();
    tracing::warn!("warn {round}");
}

#[test]
fn reloaded_levels_reach_cached_tracing_callsites() {
    std::env::remove_var("RUST_LOG");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let (logger, _guard) = Builder::from_config_str(&config(&path, "info"), "v1.toml")
        .unwrap()
        .build()
        .unwrap();
    tracing_subscriber::registry()
        .with(
            logger
                .tracing_layer()
                .with_filter(logger.tracing_filter().unwrap()),
        )
        .init();
    emit("1");
    emit("1");

    logger.set_filter("debug").unwrap();
    emit("2");

    logger
        .reload_config_str(&config(&path, "warn"), "v2.toml")
        .unwrap();
    emit("3");

    logger
        .reload_config_str(
            &config(&path, "error,config_reload_tracing=trace"),
            "v3.toml",
        )
        .unwrap();
    emit("4");

    let h = settle(&logger);
    let expected = [
        "info 1", "warn 1", "info 1", "warn 1", "debug 2", "info 2", "warn 2", "warn 3", "trace 4",
        "debug 4", "info 4", "warn 4",
    ];
    assert_eq!(read_lines(&path), expected);
    assert_accounted(&h, expected.len() as u64);
}
