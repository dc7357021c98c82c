//! The rule for `RUST_LOG` and the file: when set, it replaces the file's
//! logger-level `filter` (at start-up and on reload); pipeline filters
//! still apply on top. Its own binary: it sets the process environment.
#![cfg(all(feature = "config", feature = "log"))]

mod common;

use common::{read_lines, settle};

use jamless::Builder;

fn config(log: &std::path::Path, filter: &str, pipeline_filter: &str) -> String {
    format!(
        "filter = \"{filter}\"\n[[pipeline]]\nname = \"main\"\nfilter = \"{pipeline_filter}\"\nformat = {{ type = \"text\", pattern = \"{{message}}\" }}\nsink = {{ type = \"file\", path = \"{}\" }}\n",
        log.display()
    )
}

#[test]
fn rust_log_replaces_the_files_filter_and_pipeline_filters_still_apply() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");

    // Without RUST_LOG the file's filter is in force.
    std::env::remove_var("RUST_LOG");
    let (logger, guard) = Builder::from_config_str(&config(&path, "debug", ""), "a.toml")
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(logger.filter(), "debug");
    drop(guard);

    // An empty RUST_LOG counts as unset.
    std::env::set_var("RUST_LOG", " ");
    let (logger, guard) = Builder::from_config_str(&config(&path, "debug", ""), "b.toml")
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(logger.filter(), "debug");
    drop(guard);

    std::env::set_var("RUST_LOG", "trace");
    let (logger, _guard) = Builder::from_config_str(&config(&path, "warn", "debug"), "c.toml")
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(logger.filter(), "trace", "RUST_LOG wins at start-up");
    let adapter = logger.log_adapter().unwrap();
    use log::Log;
    let log_at = |level: log::Level, message: &str| {
        adapter.log(
            &log::Record::builder()
                .level(level)
                .target("app")
                .args(format_args!("{message}"))
                .build(),
        );
    };
    // The logger takes trace (RUST_LOG); the pipeline takes debug and up.
    log_at(log::Level::Trace, "trace 1");
    log_at(log::Level::Debug, "debug 1");

    // A reload keeps RUST_LOG and says so; its pipeline filter applies.
    let r = logger
        .reload_config_str(&config(&path, "error", "info"), "d.toml")
        .unwrap();
    assert!(r.notes.iter().any(|n| n.contains("RUST_LOG")), "{r}");
    assert_eq!(logger.filter(), "trace", "RUST_LOG wins on reload");
    assert_eq!(logger.pipeline_filter("main").as_deref(), Some("info"));
    log_at(log::Level::Debug, "debug 2");
    log_at(log::Level::Info, "info 2");
    settle(&logger);
    assert_eq!(read_lines(&path), ["debug 1", "info 2"]);
    std::env::remove_var("RUST_LOG");
}
