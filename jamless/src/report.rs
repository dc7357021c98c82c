//! The error handler: where the writer reports its own troubles.
//!
//! jamless never prints from library code on its own; every internal error
//! goes to the handler configured on the builder. The default handler writes
//! one line per error kind to standard error, at most once per second per
//! kind, with a count of the ones it held back.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::health::LastError;

/// A function that receives the writer's internal errors.
///
/// It runs on the pipeline, dispatcher and watchdog threads, never on a
/// thread that logs, with one exception: an incomplete shutdown is reported
/// on the thread that shuts the logger down (the one dropping the
/// [`Guard`](crate::Guard) or calling its `shutdown`). It should return
/// quickly, must not take a lock that thread may hold while it shuts down,
/// and must not log through the same logger with a waiting overflow policy.
pub type ErrorHandler = Arc<dyn Fn(&LastError) + Send + Sync>;

/// The default handler: rate-limited lines on standard error.
pub fn stderr_handler() -> ErrorHandler {
    let limiter = Mutex::new(RateLimiter::new(Duration::from_secs(1)));
    Arc::new(move |e: &LastError| {
        let mut limiter = limiter.lock().unwrap_or_else(|p| p.into_inner());
        let key = format!("{}/{}", e.operation, e.class);
        if let Some(suppressed) = limiter.admit(&key, Instant::now()) {
            let mut err = std::io::stderr().lock();
            // Nowhere left to report a failing stderr; the error is also in
            // the health snapshot.
            let _ = if suppressed > 0 {
                writeln!(
                    err,
                    "jamless: {} failed ({}): {} [{} similar errors suppressed]",
                    e.operation, e.class, e.message, suppressed
                )
            } else {
                writeln!(
                    err,
                    "jamless: {} failed ({}): {}",
                    e.operation, e.class, e.message
                )
            };
        }
    })
}

/// At most one event per key per interval; counts what it holds back.
pub(crate) struct RateLimiter {
    interval: Duration,
    seen: HashMap<String, (Instant, u64)>,
}

impl RateLimiter {
    pub(crate) fn new(interval: Duration) -> RateLimiter {
        RateLimiter {
            interval,
            seen: HashMap::new(),
        }
    }

    /// `Some(suppressed_since_last)` if the event may be shown now.
    pub(crate) fn admit(&mut self, key: &str, now: Instant) -> Option<u64> {
        match self.seen.get_mut(key) {
            Some((last, suppressed)) if now.duration_since(*last) < self.interval => {
                *suppressed += 1;
                None
            }
            Some((last, suppressed)) => {
                let n = *suppressed;
                *last = now;
                *suppressed = 0;
                Some(n)
            }
            None => {
                self.seen.insert(key.to_string(), (now, 0));
                Some(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limiter_admits_once_per_interval_and_counts_the_rest() {
        let mut r = RateLimiter::new(Duration::from_secs(1));
        let t0 = Instant::now();
        assert_eq!(r.admit("a", t0), Some(0));
        assert_eq!(r.admit("a", t0 + Duration::from_millis(10)), None);
        assert_eq!(r.admit("a", t0 + Duration::from_millis(20)), None);
        assert_eq!(r.admit("b", t0 + Duration::from_millis(20)), Some(0));
        assert_eq!(r.admit("a", t0 + Duration::from_millis(1500)), Some(2));
    }
}
