//! The writer's retry decision for a failing sink, as a pure state machine
//! (time is passed in, decisions come out), so every path is unit-tested.

use std::time::{Duration, Instant};

/// Where the next attempt to write a batch should go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// Try the primary sink now.
    Primary,
    /// Hold the batch and try the primary sink again at this instant.
    WaitUntil(Instant),
    /// Give up on the primary for this batch: use the fallback sink.
    Fallback,
    /// Give up on the primary for this batch and there is no fallback:
    /// count the batch as dropped.
    Drop,
}

/// Retry timing of the writer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
    /// How long the primary may fail before batches leave it (for the
    /// fallback sink, or dropped when there is none).
    pub(crate) give_up_after: Duration,
    pub(crate) has_fallback: bool,
}

/// The failure state of the primary sink.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Retry {
    failing_since: Option<Instant>,
    backoff: Duration,
    next_attempt: Option<Instant>,
}

impl Retry {
    pub(crate) fn on_success(&mut self) {
        *self = Retry::default();
    }

    pub(crate) fn on_failure(&mut self, now: Instant, p: &RetryPolicy) {
        self.failing_since.get_or_insert(now);
        self.backoff = if self.backoff.is_zero() {
            p.initial_backoff
        } else {
            (self.backoff * 2).min(p.max_backoff)
        };
        self.next_attempt = Some(now + self.backoff);
    }

    /// Decides where the batch goes now. With `hurry` (shutdown or a flush
    /// deadline pending) the writer never holds a batch to wait.
    pub(crate) fn route(&self, now: Instant, p: &RetryPolicy, hurry: bool) -> Route {
        let (Some(since), Some(next)) = (self.failing_since, self.next_attempt) else {
            return Route::Primary;
        };
        if now >= next {
            return Route::Primary;
        }
        if !hurry && now.duration_since(since) < p.give_up_after {
            return Route::WaitUntil(next);
        }
        if p.has_fallback {
            Route::Fallback
        } else {
            Route::Drop
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(has_fallback: bool) -> RetryPolicy {
        RetryPolicy {
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(80),
            give_up_after: Duration::from_secs(1),
            has_fallback,
        }
    }

    #[test]
    fn healthy_sink_goes_primary() {
        let r = Retry::default();
        assert_eq!(
            r.route(Instant::now(), &policy(true), false),
            Route::Primary
        );
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let p = policy(true);
        let t0 = Instant::now();
        let mut r = Retry::default();
        let mut waits = vec![];
        let mut now = t0;
        for _ in 0..6 {
            r.on_failure(now, &p);
            match r.route(now, &p, false) {
                Route::WaitUntil(t) => waits.push(t - now),
                other => panic!("expected wait, got {other:?}"),
            }
            now += Duration::from_millis(1);
        }
        let ms: Vec<u128> = waits.iter().map(|d| d.as_millis()).collect();
        assert_eq!(ms, vec![10, 20, 40, 80, 80, 80]);
    }

    #[test]
    fn retries_primary_when_backoff_elapsed() {
        let p = policy(true);
        let t0 = Instant::now();
        let mut r = Retry::default();
        r.on_failure(t0, &p);
        assert_eq!(
            r.route(t0 + Duration::from_millis(10), &p, false),
            Route::Primary
        );
    }

    #[test]
    fn gives_up_to_fallback_or_drop_after_limit() {
        let t0 = Instant::now();
        for (fallback, expect) in [(true, Route::Fallback), (false, Route::Drop)] {
            let p = policy(fallback);
            let mut r = Retry::default();
            r.on_failure(t0, &p);
            let later = t0 + Duration::from_millis(1500);
            r.on_failure(later, &p);
            assert_eq!(r.route(later, &p, false), expect);
            assert_eq!(
                r.route(later + Duration::from_millis(80), &p, false),
                Route::Primary
            );
        }
    }

    #[test]
    fn hurry_never_waits() {
        let p = policy(false);
        let t0 = Instant::now();
        let mut r = Retry::default();
        r.on_failure(t0, &p);
        assert_eq!(r.route(t0, &p, true), Route::Drop);
    }

    #[test]
    fn success_resets() {
        let p = policy(true);
        let t0 = Instant::now();
        let mut r = Retry::default();
        r.on_failure(t0, &p);
        r.on_success();
        assert_eq!(r.route(t0, &p, false), Route::Primary);
    }
}
