//! Drop notices: the writer tells the log itself what it lost.
//!
//! When records were dropped since the last notice that reached the log,
//! the writer puts one line in front of the next batch:
//! `N records dropped between T1 and T2` with the counts by cause and by
//! level as fields. At most one per `notice_interval`, and always one on
//! flush and shutdown, so the last losses are never left unreported.

use std::time::Instant;

use super::WriterParts;
use crate::counters::DropCause;
use crate::level::Level;
use crate::logger::{now_ns, Shared};
use crate::record::Value;

fn rfc3339(ns: u64) -> String {
    match jiff::Timestamp::from_nanosecond(i128::from(ns)) {
        Ok(t) => format!("{t:.6}"),
        Err(_) => ns.to_string(),
    }
}

const CAUSE_KEYS: [&str; DropCause::ALL.len()] = [
    "dropped.queue_full",
    "dropped.shed",
    "dropped.timed_out",
    "dropped.shutdown",
    "dropped.io_failure",
    "dropped.panic",
    "dropped.internal",
    "dropped.file_truncated",
    "dropped.file_unlinked",
];

const LEVEL_KEYS: [&str; 5] = [
    "dropped.error",
    "dropped.warn",
    "dropped.info",
    "dropped.debug",
    "dropped.trace",
];

/// Renders a notice into the batch if there are unreported drops and it is
/// time (or `force`).
pub(super) fn maybe_render(shared: &Shared, parts: &mut WriterParts, now: Instant, force: bool) {
    let totals = shared.counters.drop_totals();
    let new = totals.since(&parts.reported);
    let n = new.total();
    if n == 0 {
        return;
    }
    if !force
        && parts
            .last_notice
            .is_some_and(|t| now.duration_since(t) < shared.config.notice_interval)
    {
        return;
    }
    parts.last_notice = Some(now);
    let (first, last) = shared.counters.take_drop_span();
    let first = if first == 0 { last } else { first };
    let (first, last) = (parts.clock.to_unix_ns(first), parts.clock.to_unix_ns(last));
    let last = last.max(first);
    let message = format!(
        "jamless: {n} records dropped between {} and {}",
        rfc3339(first),
        rfc3339(last)
    );
    let mut fields: Vec<(&str, Value<'_>)> = vec![("dropped", Value::U64(n))];
    for (i, cause) in DropCause::ALL.iter().enumerate() {
        debug_assert_eq!(CAUSE_KEYS[i], format!("dropped.{}", cause.as_str()));
        if new.by_cause[i] > 0 {
            fields.push((CAUSE_KEYS[i], Value::U64(new.by_cause[i])));
        }
    }
    for (i, level) in Level::ALL.iter().enumerate() {
        debug_assert_eq!(LEVEL_KEYS[i], format!("dropped.{}", level.as_lower_str()));
        if new.by_level[i] > 0 {
            fields.push((LEVEL_KEYS[i], Value::U64(new.by_level[i])));
        }
    }
    let at = now_ns();
    parts
        .renderer
        .render_notice(Level::Warn, at, &message, &fields, &mut parts.batch.buf);
    parts.batch.push_notice(totals, at);
}
