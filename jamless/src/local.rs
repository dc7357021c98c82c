//! Per-thread state of callers: a stable id, the thread's name and a
//! reusable encode buffer, so that a log call allocates nothing once its
//! thread has logged a first record.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Initial capacity of a thread's encode buffer.
const SCRATCH_CAPACITY: usize = 512;

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
            Some(f(&mut local.scratch, caller))
        })
        .ok()
        .flatten()
}
