//! Drop notices: a pipeline tells its own output what was lost, here and
//! in every other pipeline of the logger.
//!
//! When records were dropped since the last notice that reached this
//! pipeline's sink, anywhere in the logger (refused at the call, or lost by
//! any pipeline), the pipeline puts one line in front of its next batch:
//! `N records dropped between T1 and T2` with the counts by cause and by
//! level as fields, and, when the logger has several pipelines, how many
//! each pipeline lost (`pipeline.<name>.dropped`). So the file on disk says
//! that the collector lost records. At most one per `notice_interval`, and
//! always one on flush and shutdown, so the last losses are never left
//! unreported.

use std::time::Instant;

use super::{PipelineParts, PipelineShared};
use crate::common::Common;
use crate::counters::{DropCause, DropTotals};
use crate::level::Level;
use crate::logger::now_ns;
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
    "dropped.forked",
    "dropped.backlog_full",
];

const LEVEL_KEYS: [&str; 5] = [
    "dropped.error",
    "dropped.warn",
    "dropped.info",
    "dropped.debug",
    "dropped.trace",
];

/// The drop totals of every source, the logger first, then each pipeline,
/// into `out` (reused: the check runs before every batch).
fn all_totals(common: &Common, out: &mut Vec<DropTotals>) {
    out.clear();
    out.push(common.counters.drop_totals());
    out.extend(common.pipelines.iter().map(|p| p.counters.drop_totals()));
}

/// Renders a notice into the batch if there are unreported drops and it is
/// time (or `force`).
pub(super) fn maybe_render(
    common: &Common,
    p: &PipelineShared,
    parts: &mut PipelineParts,
    now: Instant,
    force: bool,
) {
    let mut totals = std::mem::take(&mut parts.totals);
    all_totals(common, &mut totals);
    let new = totals
        .iter()
        .zip(&parts.reported)
        .fold(DropTotals::default(), |sum, (t, r)| sum.plus(&t.since(r)));
    let n = new.total();
    parts.totals = totals;
    if n == 0 {
        return;
    }
    let totals = parts.totals.clone();
    let fresh: Vec<DropTotals> = totals
        .iter()
        .zip(&parts.reported)
        .map(|(t, r)| t.since(r))
        .collect();
    if !force
        && parts
            .last_notice
            .is_some_and(|t| now.duration_since(t) < p.config.notice_interval)
    {
        return;
    }
    parts.last_notice = Some(now);
    // The span: from the end of this pipeline's previous notice (or the
    // first drop ever) to the latest drop, over the sources with news.
    let spans = std::iter::once(common.counters.drop_span())
        .chain(common.pipelines.iter().map(|q| q.counters.drop_span()))
        .zip(&fresh)
        .filter(|(_, f)| f.total() > 0)
        .map(|(span, _)| span);
    let (mut first, mut last) = (u64::MAX, 0);
    for (f, l) in spans {
        first = first.min(f);
        last = last.max(l);
    }
    if parts.noticed_until > 0 {
        first = parts.noticed_until;
    }
    parts.noticed_until = last;
    let first = if first == 0 || first == u64::MAX {
        last
    } else {
        first
    };
    let (first, last) = (parts.clock.to_unix_ns(first), parts.clock.to_unix_ns(last));
    let last = last.max(first);
    let message = format!(
        "jamless: {n} records dropped between {} and {}",
        rfc3339(first),
        rfc3339(last)
    );
    let mut fields: Vec<(String, Value<'_>)> = vec![("dropped".to_string(), Value::U64(n))];
    for (i, cause) in DropCause::ALL.iter().enumerate() {
        debug_assert_eq!(CAUSE_KEYS[i], format!("dropped.{}", cause.as_str()));
        if new.by_cause[i] > 0 {
            fields.push((CAUSE_KEYS[i].to_string(), Value::U64(new.by_cause[i])));
        }
    }
    for (i, level) in Level::ALL.iter().enumerate() {
        debug_assert_eq!(LEVEL_KEYS[i], format!("dropped.{}", level.as_lower_str()));
        if new.by_level[i] > 0 {
            fields.push((LEVEL_KEYS[i].to_string(), Value::U64(new.by_level[i])));
        }
    }
    if !common.single() {
        for (q, f) in common.pipelines.iter().zip(&fresh[1..]) {
            if f.total() > 0 {
                fields.push((
                    format!("pipeline.{}.dropped", q.name),
                    Value::U64(f.total()),
                ));
            }
        }
    }
    let fields: Vec<(&str, Value<'_>)> = fields.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let at = now_ns();
    parts
        .renderer
        .render_notice(Level::Warn, at, &message, &fields, &mut parts.batch.buf);
    parts.batch.push_notice(totals, at);
}
