//! `fork()` detection without a syscall per record.
//!
//! A child process made by `fork()` has only the thread that forked: none
//! of a logger's worker threads exist there, its ring may hold records
//! that parent threads were writing at the instant of the fork, and locks
//! held by the parent's workers stay locked for ever. The child cannot
//! safely take the logger over, so jamless counts every record the child
//! logs through an inherited logger as dropped with the cause
//! [`crate::DropCause::Forked`], reports the logger as dead in the child's
//! health snapshot, and lets the child's shutdown return at once. A child
//! that should log builds its own logger.
//!
//! Detection: a `pthread_atfork` child handler (registered once, when the
//! first logger is built) increments a process-wide generation; each
//! logger remembers the generation it was built in, and a log call
//! compares the two with one relaxed load.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

static GENERATION: AtomicU64 = AtomicU64::new(0);
static REGISTER: Once = Once::new();

extern "C" fn in_child() {
    // Async-signal-safe: one atomic increment.
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// Registers the fork handler (once per process) and returns the current
/// generation. Fails only if `pthread_atfork` does (out of memory).
pub(crate) fn register() -> std::io::Result<u64> {
    let mut result = 0;
    REGISTER.call_once(|| {
        // The handlers are plain functions that touch one static atomic.
        #[allow(unsafe_code)]
        // SAFETY: `pthread_atfork` is given a valid `extern "C"` function
        // for the child and null for the others, as POSIX allows; the
        // function only increments a static atomic, which is
        // async-signal-safe.
        let rc = unsafe { libc::pthread_atfork(None, None, Some(in_child)) };
        result = rc;
    });
    if result != 0 {
        return Err(std::io::Error::from_raw_os_error(result));
    }
    Ok(generation())
}

/// The process's fork generation: 0 in the original process, one more in
/// each generation of children.
#[inline]
pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}
