//! The health snapshot as a `/health` endpoint serves it: serde JSON and
//! Prometheus text, with the numbers the logger actually counted.

mod common;

use common::{settle, MemorySink};
use jamless::{Builder, Level, Outcome, State};

#[test]
fn snapshot_serialises_to_json_and_prometheus_with_the_real_counts() {
    let sink = MemorySink::new();
    let (logger, guard) = Builder::new().sink(sink.clone()).build().unwrap();
    for i in 0..3 {
        assert_eq!(
            logger.log(Level::Info, "t", format_args!("line {i}")),
            Outcome::Accepted
        );
    }
    let h = settle(&logger);
    assert_eq!(h.state, State::Healthy);

    let json = serde_json::to_value(&h).unwrap();
    assert_eq!(json["state"], "healthy");
    assert_eq!(json["offered"], 3);
    assert_eq!(json["written"], 3);
    assert_eq!(json["drops"]["queue_full"], 0);
    assert_eq!(json["queue_capacity_bytes"], h.queue_capacity_bytes);
    assert!(json["last_error"].is_null());

    let text = h.to_prometheus();
    for line in text.lines() {
        // Every line is a comment or `name{labels} value`.
        if line.starts_with('#') {
            assert!(
                line.starts_with("# HELP jamless_") || line.starts_with("# TYPE jamless_"),
                "{line}"
            );
            continue;
        }
        let (name, value) = line.rsplit_once(' ').unwrap();
        assert!(name.starts_with("jamless_"), "{line}");
        value
            .parse::<u64>()
            .unwrap_or_else(|_| panic!("not a number: {line}"));
    }
    assert!(text.contains("jamless_records_written_total 3\n"), "{text}");
    assert!(
        text.contains("jamless_state{state=\"healthy\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("jamless_state{state=\"stalled\"} 0\n"),
        "{text}"
    );
    assert!(
        text.contains("jamless_records_dropped_total{cause=\"queue_full\"} 0\n"),
        "{text}"
    );

    let shown = h.to_string();
    assert!(
        shown.starts_with("state=healthy offered=3 accepted=3 written=3"),
        "{shown}"
    );

    // After shutdown the state says so and late records are counted.
    drop(guard);
    assert_eq!(
        logger.log(Level::Error, "t", format_args!("late")),
        Outcome::Dropped(jamless::DropCause::Shutdown)
    );
    let h = logger.health();
    assert_eq!(h.state, State::ShutDown);
    assert!(!h.state.is_serving());
    assert_eq!(serde_json::to_value(&h).unwrap()["drops"]["shutdown"], 1);
    assert_eq!(sink.lines().len(), 3);
}
