use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::{label_start, next_boundary, period_label, period_start};
use crate::rotation::Rotation;

fn ts(text: &str) -> Timestamp {
    text.parse()
        .unwrap_or_else(|e| panic!("bad timestamp {text:?}: {e}"))
}

fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or_else(|e| panic!("zone {name}: {e}"))
}

fn every(secs: u64) -> Rotation {
    Rotation::every(Duration::from_secs(secs)).unwrap_or_else(|e| panic!("{secs}: {e}"))
}

/// Labels of `count` consecutive periods, starting with the one containing
/// `from`.
fn walk(
    rotation: &Rotation,
    tz: &TimeZone,
    from: Timestamp,
    count: usize,
) -> Vec<(String, Timestamp)> {
    let mut out = Vec::new();
    let mut start = period_start(rotation, tz, from);
    for _ in 0..count {
        out.push((period_label(rotation, tz, start), start));
        start = next_boundary(rotation, tz, start).unwrap_or(Timestamp::MAX);
    }
    out
}

fn labels(periods: &[(String, Timestamp)]) -> Vec<&str> {
    periods.iter().map(|(label, _)| label.as_str()).collect()
}

#[test]
fn daily_new_york_23_and_25_hour_days() {
    let ny = zone("America/New_York");
    let day = Rotation::DAILY;
    // Spring forward: 2026-03-08 has 23 hours.
    let noon = ts("2026-03-08T16:00:00Z");
    assert_eq!(period_start(&day, &ny, noon), ts("2026-03-08T05:00:00Z"));
    assert_eq!(
        next_boundary(&day, &ny, noon),
        Some(ts("2026-03-09T04:00:00Z"))
    );
    // Fall back: 2026-11-01 has 25 hours.
    let noon = ts("2026-11-01T17:00:00Z");
    assert_eq!(period_start(&day, &ny, noon), ts("2026-11-01T04:00:00Z"));
    assert_eq!(
        next_boundary(&day, &ny, noon),
        Some(ts("2026-11-02T05:00:00Z"))
    );
    assert_eq!(
        period_label(&day, &ny, ts("2026-11-01T04:00:00Z")),
        "2026-11-01"
    );
    // Inside the repeated hour, still the same day.
    let repeated = ts("2026-11-01T06:30:00Z");
    assert_eq!(
        period_start(&day, &ny, repeated),
        ts("2026-11-01T04:00:00Z")
    );
}

#[test]
fn hourly_new_york_skipped_and_repeated_hours() {
    let ny = zone("America/New_York");
    let spring = walk(&Rotation::HOURLY, &ny, ts("2026-03-08T05:00:00Z"), 4);
    assert_eq!(
        labels(&spring),
        [
            "2026-03-08T00",
            "2026-03-08T01",
            "2026-03-08T03",
            "2026-03-08T04"
        ]
    );
    assert_eq!(spring[2].1, ts("2026-03-08T07:00:00Z"));

    let fall = walk(&Rotation::HOURLY, &ny, ts("2026-11-01T04:00:00Z"), 5);
    assert_eq!(
        labels(&fall),
        [
            "2026-11-01T00",
            "2026-11-01T01-0400",
            "2026-11-01T01-0500",
            "2026-11-01T02",
            "2026-11-01T03"
        ]
    );
    let starts: Vec<_> = fall.iter().map(|(_, start)| *start).collect();
    assert_eq!(
        starts,
        [
            ts("2026-11-01T04:00:00Z"),
            ts("2026-11-01T05:00:00Z"),
            ts("2026-11-01T06:00:00Z"),
            ts("2026-11-01T07:00:00Z"),
            ts("2026-11-01T08:00:00Z"),
        ]
    );
    for (label, start) in &fall {
        assert_eq!(label_start(label, &ny), Some(*start), "{label}");
    }
}

#[test]
fn half_hourly_new_york_repeated_hour() {
    let ny = zone("America/New_York");
    let fall = walk(&every(1800), &ny, ts("2026-11-01T05:00:00Z"), 5);
    assert_eq!(
        labels(&fall),
        [
            "2026-11-01T01-00-0400",
            "2026-11-01T01-30-0400",
            "2026-11-01T01-00-0500",
            "2026-11-01T01-30-0500",
            "2026-11-01T02-00"
        ]
    );
}

#[test]
fn midnight_and_year_end() {
    let utc = TimeZone::UTC;
    let last = ts("2026-12-31T23:59:59.999Z");
    let new_year = ts("2027-01-01T00:00:00Z");
    for rotation in [
        Rotation::MINUTELY,
        Rotation::HOURLY,
        Rotation::DAILY,
        every(10),
        every(5400),
    ] {
        assert_eq!(
            next_boundary(&rotation, &utc, last),
            Some(new_year),
            "{rotation:?}"
        );
        assert_eq!(
            period_start(&rotation, &utc, new_year),
            new_year,
            "{rotation:?}"
        );
        assert_eq!(
            next_boundary(&rotation, &utc, ts("2026-12-31T23:59:59.999999999Z")),
            Some(new_year)
        );
    }
    assert_eq!(period_label(&Rotation::DAILY, &utc, new_year), "2027-01-01");
    assert_eq!(
        period_label(
            &Rotation::DAILY,
            &utc,
            period_start(&Rotation::DAILY, &utc, last)
        ),
        "2026-12-31"
    );
    // Local midnight in New York, one nanosecond before and at it.
    let ny = zone("America/New_York");
    let midnight = ts("2027-01-01T05:00:00Z");
    let before = midnight - SignedDuration::from_nanos(1);
    assert_eq!(next_boundary(&Rotation::DAILY, &ny, before), Some(midnight));
    assert_eq!(period_start(&Rotation::DAILY, &ny, midnight), midnight);
    assert_eq!(
        period_start(&Rotation::DAILY, &ny, before),
        ts("2026-12-31T05:00:00Z")
    );
    assert_eq!(
        next_boundary(&Rotation::DAILY, &ny, midnight),
        Some(ts("2027-01-02T05:00:00Z"))
    );
}

#[test]
fn labels_of_each_kind() {
    let utc = TimeZone::UTC;
    let t = ts("2026-11-27T13:05:10Z");
    let label = |rotation: &Rotation| period_label(rotation, &utc, period_start(rotation, &utc, t));
    assert_eq!(label(&Rotation::NEVER), "");
    assert_eq!(label(&Rotation::DAILY), "2026-11-27");
    assert_eq!(label(&Rotation::HOURLY), "2026-11-27T13");
    assert_eq!(label(&Rotation::MINUTELY), "2026-11-27T13-05");
    assert_eq!(label(&every(10)), "2026-11-27T13-05-10");
    assert_eq!(label(&every(7200)), "2026-11-27T12");
    // Not dividing a day: epoch-aligned, UTC, marked.
    assert_eq!(label(&every(420)), "2026-11-27T12-59Z");
    assert_eq!(label(&every(7)), "2026-11-27T13-05-04Z");
    assert_eq!(label(&every(2 * 86_400)), "2026-11-27Z");
}

#[test]
fn wall_clock_intervals_follow_local_midnight() {
    // Kolkata is UTC+05:30: quarter hours are local quarter hours.
    let kolkata = zone("Asia/Kolkata");
    let t = ts("2026-11-27T13:05:10Z"); // 18:35:10 local
    let quarter = every(900);
    assert_eq!(
        period_start(&quarter, &kolkata, t),
        ts("2026-11-27T13:00:00Z")
    );
    assert_eq!(
        period_label(&quarter, &kolkata, ts("2026-11-27T13:00:00Z")),
        "2026-11-27T18-30"
    );
    // Hourly in Kolkata rotates at half past the UTC hour.
    assert_eq!(
        next_boundary(&Rotation::HOURLY, &kolkata, t),
        Some(ts("2026-11-27T13:30:00Z"))
    );
    // Five-hour intervals don't divide a day: epoch-aligned whatever the zone.
    let five = every(5 * 3600);
    assert_eq!(period_start(&five, &kolkata, t), ts("2026-11-27T09:00:00Z"));
    assert_eq!(
        period_label(&five, &kolkata, ts("2026-11-27T09:00:00Z")),
        "2026-11-27T09Z"
    );
    // Weeks are epoch-aligned: the Unix epoch was a Thursday.
    let week = every(7 * 86_400);
    assert_eq!(period_start(&week, &kolkata, t), ts("2026-11-26T00:00:00Z"));
    assert_eq!(
        period_label(&week, &kolkata, ts("2026-11-26T00:00:00Z")),
        "2026-11-26Z"
    );
}

#[test]
fn never_has_one_endless_period() {
    let utc = TimeZone::UTC;
    let t = ts("2026-11-27T13:05:10Z");
    assert_eq!(period_start(&Rotation::NEVER, &utc, t), Timestamp::MIN);
    assert_eq!(next_boundary(&Rotation::NEVER, &utc, t), None);
    assert_eq!(label_start("", &utc), Some(Timestamp::MIN));
}

#[test]
fn lord_howe_half_hour_dst() {
    // Lord Howe Island moves its clock by 30 minutes: on 2025-10-05 from
    // 02:00 (+10:30) to 02:30 (+11:00), on 2026-04-05 from 02:00 (+11:00)
    // back to 01:30 (+10:30).
    let zone = zone("Australia/Lord_Howe");
    let spring = walk(&Rotation::HOURLY, &zone, ts("2025-10-04T13:30:00Z"), 4);
    assert_eq!(
        labels(&spring),
        [
            "2025-10-05T00",
            "2025-10-05T01",
            "2025-10-05T02-30",
            "2025-10-05T03"
        ]
    );
    // The skipped 02:00 starts its period at the jump, 15:30Z.
    assert_eq!(spring[2].1, ts("2025-10-04T15:30:00Z"));
    let autumn = walk(&Rotation::HOURLY, &zone, ts("2026-04-04T13:00:00Z"), 4);
    assert_eq!(
        labels(&autumn),
        [
            "2026-04-05T00",
            "2026-04-05T01",
            "2026-04-05T02",
            "2026-04-05T03"
        ]
    );
    // 01:00 (+11:00) lasts until 02:00 (+10:30): 90 minutes.
    assert_eq!(
        autumn[2].1.duration_since(autumn[1].1),
        SignedDuration::from_mins(90)
    );
    for (label, start) in spring.iter().chain(&autumn) {
        assert_eq!(label_start(label, &zone), Some(*start), "{label}");
    }
}

#[test]
fn havana_skipped_midnight() {
    // Cuba jumps from 00:00 to 01:00 on 2026-03-08: the day and the
    // six-hour period both start at the jump.
    let havana = zone("America/Havana");
    let jump = ts("2026-03-08T05:00:00Z");
    let six = every(6 * 3600);
    assert_eq!(period_start(&Rotation::DAILY, &havana, jump), jump);
    assert_eq!(period_start(&six, &havana, jump), jump);
    assert_eq!(period_label(&six, &havana, jump), "2026-03-08T01");
    assert_eq!(
        next_boundary(&six, &havana, jump - SignedDuration::from_nanos(1)),
        Some(jump)
    );
    assert_eq!(
        next_boundary(&six, &havana, jump),
        Some(ts("2026-03-08T10:00:00Z"))
    );
}

/// A small deterministic generator, so the sweep needs no dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 11
    }
}

/// Instants around every offset change of 2025 to 2027 and spread at random
/// over 2020 to 2030.
fn instants(tz: &TimeZone, rng: &mut Lcg) -> Vec<Timestamp> {
    let mut out = Vec::new();
    let from = ts("2025-01-01T00:00:00Z");
    let until = ts("2028-01-01T00:00:00Z");
    for transition in tz.following(from).take_while(|t| t.timestamp() < until) {
        let at = transition.timestamp();
        for nanos in [
            -3_600_000_000_001,
            -1_800_000_000_000,
            -1_000_000_000,
            -1,
            0,
            1,
            999_999_999,
            1_800_000_000_000,
            3_600_000_000_000,
            5_400_000_000_000,
        ] {
            out.push(at + SignedDuration::from_nanos(nanos));
        }
    }
    let base = ts("2020-01-01T00:00:00Z").as_second();
    let span = 10 * 365 * 86_400;
    for _ in 0..300 {
        let secs = base + (rng.next() % span) as i64;
        let nanos = (rng.next() % 1_000_000_000) as i32;
        if let Ok(t) = Timestamp::new(secs, nanos) {
            out.push(t);
        }
        // Exactly on whole minutes too, where boundaries sit.
        if let Ok(t) = Timestamp::from_second(secs - secs % 60) {
            out.push(t);
        }
    }
    out
}

#[test]
fn invariants_hold_everywhere() {
    let zones = [
        "UTC",
        "America/New_York",
        "Europe/Berlin",
        "Asia/Kolkata",
        "Asia/Kathmandu",
        "Australia/Lord_Howe",
        "America/Havana",
        "America/Santiago",
        "Pacific/Chatham",
        "Africa/Casablanca",
    ];
    let rotations = [
        Rotation::MINUTELY,
        Rotation::HOURLY,
        Rotation::DAILY,
        every(1),
        every(10),
        every(900),
        every(5400),
        every(7200),
        every(6 * 3600),
        every(7),
        every(420),
        every(2 * 86_400),
    ];
    let mut rng = Lcg(0x5eed);
    let mut checked = 0u32;
    for name in zones {
        let tz = zone(name);
        for now in instants(&tz, &mut rng) {
            for rotation in &rotations {
                let start = period_start(rotation, &tz, now);
                let Some(next) = next_boundary(rotation, &tz, now) else {
                    panic!("{name} {rotation:?} {now}: no next boundary");
                };
                let ctx = format!("{name} {rotation:?} now={now} start={start} next={next}");
                assert!(start <= now && now < next, "{ctx}");
                assert_eq!(period_start(rotation, &tz, next), next, "{ctx}");
                assert_eq!(next_boundary(rotation, &tz, start), Some(next), "{ctx}");
                let length = next.duration_since(start);
                let nominal = rotation.interval().map_or(0, |d| d.as_secs() as i64);
                assert!(length > SignedDuration::ZERO, "{ctx}");
                assert!(
                    length <= SignedDuration::from_secs(nominal + 3 * 3600),
                    "{ctx}"
                );
                let label = period_label(rotation, &tz, start);
                assert_eq!(label_start(&label, &tz), Some(start), "{ctx} label={label}");
                assert_ne!(label, period_label(rotation, &tz, next), "{ctx}");
                checked += 1;
            }
        }
    }
    assert!(checked > 10_000, "only {checked} cases");
}
