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

/// Whether the writer is asked to hurry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hurry {
    No,
    /// A flush is waiting.
    Flush,
    /// Shutdown has begun.
    Shutdown,
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
            self.backoff.saturating_mul(2).min(p.max_backoff)
        };
        // A huge back-off saturates instead of overflowing the instant.
        self.next_attempt = Some(
            now.checked_add(self.backoff)
                .unwrap_or_else(|| crate::control::deadline_after(self.backoff)),
        );
    }

    /// Decides where the batch goes now. A flush does not wait out
    /// `give_up_after` when there is a fallback: it takes the fallback at
    /// once (without one it retries as usual, never dropping early because
    /// of the flush). Shutdown never holds a batch.
    pub(crate) fn route(&self, now: Instant, p: &RetryPolicy, hurry: Hurry) -> Route {
        let (Some(since), Some(next)) = (self.failing_since, self.next_attempt) else {
            return Route::Primary;
        };
        if now >= next {
            return Route::Primary;
        }
        let patient = match hurry {
            Hurry::No => now.duration_since(since) < p.give_up_after,
            Hurry::Flush => !p.has_fallback && now.duration_since(since) < p.give_up_after,
            Hurry::Shutdown => false,
        };
        if patient {
            // Never hold a batch past the moment of giving up, however long
            // the back-off.
            let give_up = since.checked_add(p.give_up_after).unwrap_or(next);
            return Route::WaitUntil(next.min(give_up));
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
            r.route(Instant::now(), &policy(true), Hurry::No),
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
            match r.route(now, &p, Hurry::No) {
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
            r.route(t0 + Duration::from_millis(10), &p, Hurry::No),
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
            assert_eq!(r.route(later, &p, Hurry::No), expect);
            assert_eq!(
                r.route(later + Duration::from_millis(80), &p, Hurry::No),
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
        assert_eq!(r.route(t0, &p, Hurry::Shutdown), Route::Drop);
        assert!(matches!(r.route(t0, &p, Hurry::Flush), Route::WaitUntil(_)));
        let p = policy(true);
        assert_eq!(r.route(t0, &p, Hurry::Flush), Route::Fallback);
    }

    #[test]
    fn huge_backoff_saturates() {
        let p = RetryPolicy {
            initial_backoff: Duration::MAX,
            max_backoff: Duration::MAX,
            give_up_after: Duration::MAX,
            has_fallback: false,
        };
        let mut r = Retry::default();
        let t0 = Instant::now();
        r.on_failure(t0, &p);
        r.on_failure(t0, &p);
        assert!(matches!(r.route(t0, &p, Hurry::No), Route::WaitUntil(_)));
    }

    #[test]
    fn success_resets() {
        let p = policy(true);
        let t0 = Instant::now();
        let mut r = Retry::default();
        r.on_failure(t0, &p);
        r.on_success();
        assert_eq!(r.route(t0, &p, Hurry::No), Route::Primary);
    }
}
