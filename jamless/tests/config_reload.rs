//! Reloading a configuration into a running logger: filters and formats
//! change live, the rest is reported, a bad file changes nothing.
#![cfg(feature = "config")]

mod common;

use std::path::Path;

use jamless::{Builder, Level, Outcome};

use common::{assert_accounted, read_lines, settle};

fn config(log: &Path, filter: &str, format: &str) -> String {
    format!(
        "error_handler = \"none\"\n[[pipeline]]\nname = \"main\"\nfilter = \"{filter}\"\nformat = {format}\nsink = {{ type = \"file\", path = \"{}\" }}\n",
        log.display()
    )
}

const TEXT: &str = "{ type = \"text\", pattern = \"{level} {message}\" }";
const JSON: &str = "{ type = \"json\" }";

#[test]
fn filters_and_formats_change_live_and_the_rest_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let (logger, _guard) = Builder::from_config_str(&config(&log, "info", TEXT), "v1.toml")
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        logger.log(Level::Info, "t", format_args!("one")),
        Outcome::Accepted
    );
    assert_eq!(
        logger.log(Level::Debug, "t", format_args!("two")),
        Outcome::Filtered
    );
    settle(&logger);

    let other = dir.path().join("other.log");
    let v2 = config(&other, "debug", JSON);
    let report = logger.reload_config_str(&v2, "v2.toml").unwrap();
    assert!(
        report
            .applied
            .iter()
            .any(|a| a.contains("filter \"info\" -> \"debug\"")),
        "{report}"
    );
    assert!(
        report.applied.iter().any(|a| a.contains("format")),
        "{report}"
    );
    assert_eq!(
        report.needs_restart,
        vec!["pipeline \"main\": sink".to_string()],
        "{report}"
    );
    assert_eq!(
        logger.log(Level::Debug, "t", format_args!("three")),
        Outcome::Accepted
    );
    let h = settle(&logger);
    assert_accounted(&h, 2);
    assert_eq!(h.config_reloads, 1);

    // The sink stayed; the new format is in force for the new batch.
    let lines = read_lines(&log);
    assert_eq!(lines[0], "INFO one", "{lines:?}");
    assert!(
        lines[1].starts_with('{') && lines[1].contains("\"three\""),
        "{lines:?}"
    );
    assert!(!other.exists(), "a new sink needs a restart");

    // The same file again: nothing to apply, the sink still reported.
    let again = logger.reload_config_str(&v2, "v2.toml").unwrap();
    assert!(again.applied.is_empty(), "{again}");
    assert_eq!(again.needs_restart.len(), 1, "{again}");
}

#[test]
fn a_bad_version_changes_nothing_and_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let (logger, _guard) = Builder::from_config_str(&config(&log, "warn", TEXT), "v1.toml")
        .unwrap()
        .build()
        .unwrap();
    let bad_filter = config(&log, "debug,x=loud", JSON);
    let e = logger
        .reload_config_str(&bad_filter, "v2.toml")
        .unwrap_err();
    assert!(e.is_config() && e.to_string().contains("v2.toml:4:"), "{e}");
    let unknown = config(&log, "debug", JSON) + "bogus = 1\n";
    assert!(logger.reload_config_str(&unknown, "v3.toml").is_err());
    let missing = dir.path().join("missing.toml");
    assert!(logger.reload_config_file(&missing).unwrap_err().is_io());
    assert_eq!(logger.pipeline_filter("main").as_deref(), Some("warn"));
    assert_eq!(
        logger.log(Level::Info, "t", format_args!("x")),
        Outcome::Filtered
    );
    logger.log(Level::Warn, "t", format_args!("kept"));
    let h = settle(&logger);
    assert_eq!((h.config_errors, h.config_reloads), (3, 0), "{h}");
    assert_eq!(
        read_lines(&log),
        vec!["WARN kept".to_string()],
        "old format kept"
    );
}

#[test]
fn pipelines_added_or_removed_need_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let v1 = config(&log, "info", TEXT);
    let (logger, _guard) = Builder::from_config_str(&v1, "v1.toml")
        .unwrap()
        .build()
        .unwrap();
    let v2 = v1.replace("name = \"main\"", "name = \"renamed\"");
    let r = logger.reload_config_str(&v2, "v2.toml").unwrap();
    assert!(
        r.needs_restart
            .iter()
            .any(|n| n.contains("\"renamed\": added")),
        "{r}"
    );
    assert!(
        r.needs_restart
            .iter()
            .any(|n| n.contains("\"main\": removed")),
        "{r}"
    );
    let v3 = format!("capacity_bytes = 131072\n{v1}");
    let r = logger.reload_config_str(&v3, "v3.toml").unwrap();
    assert_eq!(r.needs_restart, vec!["capacity_bytes".to_string()], "{r}");
}

#[test]
fn runtime_setters_refuse_bad_input_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let (logger, _guard) = Builder::new().file(&log).filter("info").build().unwrap();
    assert!(logger.set_filter("info,[").unwrap_err().is_config());
    assert_eq!(logger.filter(), "info");
    assert!(logger
        .set_pipeline_filter("nope", "debug")
        .unwrap_err()
        .is_config());
    assert!(logger
        .set_pipeline_filter("main", "x=loud")
        .unwrap_err()
        .is_config());
    assert_eq!(logger.pipeline_filter("main").as_deref(), Some(""));
    logger.set_pipeline_filter("main", "error").unwrap();
    assert_eq!(
        logger.log(Level::Warn, "t", format_args!("x")),
        Outcome::Filtered
    );
    logger.set_filter("trace").unwrap();
    assert_eq!(logger.filter(), "trace");
    // A logger built in code: reloads compare filters and formats only.
    let r = logger
        .reload_config_str(&config(&log, "warn", TEXT), "code.toml")
        .unwrap();
    assert!(r.notes.iter().any(|n| n.contains("not built from")), "{r}");
    assert_eq!(logger.pipeline_filter("main").as_deref(), Some("warn"));
}

#[test]
fn with_several_pipelines_each_changes_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.log"), dir.path().join("b.log"));
    let two = |filter_b: &str, format_a: &str| {
        format!(
            "error_handler = \"none\"\nformat = {TEXT}\n\
             [[pipeline]]\nname = \"a\"\nformat = {format_a}\nsink = {{ type = \"file\", path = \"{}\" }}\n\
             [[pipeline]]\nname = \"b\"\nfilter = \"{filter_b}\"\nsink = {{ type = \"file\", path = \"{}\" }}\n",
            a.display(),
            b.display()
        )
    };
    let (logger, _guard) = Builder::from_config_str(&two("warn", TEXT), "v1.toml")
        .unwrap()
        .build()
        .unwrap();
    logger.log(Level::Info, "t", format_args!("one"));
    settle(&logger);
    let r = logger
        .reload_config_str(&two("info", JSON), "v2.toml")
        .unwrap();
    assert_eq!(r.applied.len(), 2, "{r}");
    assert!(r.needs_restart.is_empty(), "{r}");
    logger.log(Level::Info, "t", format_args!("two"));
    let h = settle(&logger);
    for p in &h.pipelines {
        assert_eq!(p.received, p.written + p.dropped() + p.queued, "{h}");
    }
    let a_lines = read_lines(&a);
    assert_eq!(a_lines[0], "INFO one", "{a_lines:?}");
    assert!(
        a_lines[1].starts_with('{') && a_lines[1].contains("\"two\""),
        "{a_lines:?}"
    );
    assert_eq!(
        read_lines(&b),
        vec!["INFO two".to_string()],
        "b's filter changed, not its format"
    );
}

/// Filters that are one level decide from an atomic; per-target ones load
/// the parsed filter. Switching between the two kinds, both ways, for the
/// logger's filter (the `log` adapter) and a pipeline's (the routes every
/// caller checks), always applies the filter in force.
#[test]
fn switching_between_one_level_and_per_target_filters_applies_each() {
    use log::Log;
    let dir = tempfile::tempdir().unwrap();
    let (logger, _guard) = Builder::new()
        .file(dir.path().join("app.log"))
        .filter("info")
        .build()
        .unwrap();
    let adapter = logger.log_adapter().unwrap();
    let enabled = |level: log::Level, target: &str| {
        adapter.enabled(&log::Metadata::builder().level(level).target(target).build())
    };
    let routed = |level: Level, target: &str| {
        logger.log(level, target, format_args!("r")) != Outcome::Filtered
    };
    for _ in 0..2 {
        logger.set_filter("info").unwrap();
        assert!(enabled(log::Level::Info, "app::db"));
        assert!(!enabled(log::Level::Debug, "app::db"));
        assert!(logger.allows(Level::Info, "x") && !logger.allows(Level::Debug, "x"));
        logger.set_filter("info,app::db=debug").unwrap();
        assert!(enabled(log::Level::Debug, "app::db"));
        assert!(!enabled(log::Level::Debug, "app::http"));
        assert!(logger.allows(Level::Debug, "app::db"));
        assert!(!logger.allows(Level::Debug, "app::http"));
        assert!(!logger.allows(Level::Trace, "app::db"));
        logger.set_filter("warn").unwrap();
        assert!(!enabled(log::Level::Info, "app::db"));
        assert!(enabled(log::Level::Warn, "app::http"));
        // A `/regex` needs the parsed filter even with one level.
        logger.set_filter("info/keep").unwrap();
        let record = |msg: std::fmt::Arguments<'_>| {
            adapter.log(
                &log::Record::builder()
                    .level(log::Level::Info)
                    .target("t")
                    .args(msg)
                    .build(),
            );
        };
        let before = logger.health().offered;
        record(format_args!("drop this"));
        record(format_args!("keep this"));
        assert_eq!(logger.health().offered, before + 1);

        logger.set_pipeline_filter("main", "warn").unwrap();
        assert!(!routed(Level::Info, "app::db"));
        assert!(routed(Level::Warn, "app::db"));
        logger
            .set_pipeline_filter("main", "warn,app::db=debug")
            .unwrap();
        assert!(routed(Level::Debug, "app::db"));
        assert!(!routed(Level::Debug, "app::http"));
        assert!(!routed(Level::Info, "other"));
        logger.set_pipeline_filter("main", "error").unwrap();
        assert!(!routed(Level::Debug, "app::db"));
        assert!(routed(Level::Error, "app::db"));
        logger.set_pipeline_filter("main", "").unwrap();
        assert!(routed(Level::Trace, "x"));
    }
    let h = settle(&logger);
    assert_accounted(&h, h.offered);
}
