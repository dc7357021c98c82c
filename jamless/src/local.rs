//! Per-thread state of callers: a stable id, the thread's name and a
//! reusable encode buffer, so that a log call allocates nothing once its
//! thread has logged a first record.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Initial capacity of a thread's encode buffer.
const SCRATCH_CAPACITY: usize = 512;

/// A thread's encode buffer that grew beyond this (an oversized record: a
/// message is encoded whole before it is cut to the maximum record size) is
/// shrunk back to it once the record is in the queue, so one 100 MiB message
/// does not leave its thread holding 100 MiB. The default maximum record
/// size, so records of every size a default logger keeps stay allocation-free.
const KEEP_CAPACITY: usize = 64 << 10;

/// Who is calling: the thread's id (for the counter stripe and the record)
/// and its name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caller<'a> {
    pub(crate) id: u64,
    pub(crate) name: &'a str,
}

struct Local {
    /// 0 until the thread's first record (ids start at 1).
    id: u64,
    /// The thread's name, cut to the record format's limit once.
    name: String,
    scratch: Vec<u8>,
}

thread_local! {
    static LOCAL: RefCell<Local> = const {
        RefCell::new(Local {
            id: 0,
            name: String::new(),
            scratch: Vec::new(),
        })
    };
}

/// A thread's first record: take an id, copy the name, size the buffer.
#[cold]
#[inline(never)]
fn init(local: &mut Local) {
    // Relaxed: the id only has to be unique, not ordered.
    local.id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let thread = std::thread::current();
    local.name = crate::record::cut_thread_name(thread.name().unwrap_or("")).to_owned();
    local.scratch = Vec::with_capacity(SCRATCH_CAPACITY);
}

/// Runs `f` with this thread's encode buffer and identity. Returns `None`
/// if the state is not available: during thread-local destruction, or if
/// `f` re-entered (a `Display` impl that logs while its record is being
/// encoded); the caller then falls back to a temporary buffer.
#[inline]
pub(crate) fn with_local<R>(f: impl FnOnce(&mut Vec<u8>, Caller<'_>) -> R) -> Option<R> {
    LOCAL
        .try_with(|cell| {
            let mut local = cell.try_borrow_mut().ok()?;
            if local.id == 0 {
                init(&mut local);
            }
            let local = &mut *local;
            let caller = Caller {
                id: local.id,
                name: &local.name,
            };
            let result = f(&mut local.scratch, caller);
            if local.scratch.capacity() > KEEP_CAPACITY {
                shrink(&mut local.scratch);
            }
            Some(result)
        })
        .ok()
        .flatten()
}

/// Gives back the memory of an oversized record (see [`KEEP_CAPACITY`]).
#[cold]
#[inline(never)]
fn shrink(scratch: &mut Vec<u8>) {
    scratch.clear();
    scratch.shrink_to(KEEP_CAPACITY);
}

/// The capacity of this thread's encode buffer (0 before its first record).
#[cfg(test)]
pub(crate) fn scratch_capacity() -> usize {
    LOCAL.with(|cell| cell.borrow().scratch.capacity())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Builder, Level, Outcome};
    use std::time::Duration;

    /// Logs one message of `len` bytes from a fresh thread through a real
    /// logger; returns the thread's buffer capacity afterwards and the
    /// logged line.
    fn log_from_thread(len: usize) -> (usize, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.log");
        let (logger, guard) = Builder::new().file(&path).build().unwrap();
        let big = "x".repeat(len);
        let capacity = std::thread::spawn(move || {
            let outcome = logger.log(Level::Info, "big", format_args!("{big}"));
            assert_eq!(outcome, Outcome::Accepted);
            assert!(logger.flush(Duration::from_secs(30)).complete);
            scratch_capacity()
        })
        .join()
        .unwrap();
        drop(guard);
        let text = std::fs::read_to_string(&path).unwrap();
        (capacity, text)
    }

    #[test]
    fn buffer_shrinks_back_after_an_oversized_record() {
        let (capacity, text) = log_from_thread(100 << 20);
        assert!(
            capacity <= KEEP_CAPACITY,
            "a 100 MiB message left a {capacity}-byte buffer"
        );
        assert_eq!(text.lines().count(), 1);
        assert!(text.contains("[truncated from "), "{}", &text[..200]);
    }

    #[test]
    fn buffer_of_working_size_is_kept() {
        let (capacity, text) = log_from_thread(32 << 10);
        assert!(
            capacity >= 32 << 10,
            "a 32 KiB record shrank the buffer to {capacity}"
        );
        assert!(!text.contains("[truncated from "));
    }
}
