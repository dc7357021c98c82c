//! A format waiting for its pipeline's thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::render::Renderer;

/// A renderer handed to a pipeline's thread, which takes it before its
/// next batch. The thread checks one flag per batch (a relaxed load) and
/// takes the lock only when a new format is waiting.
#[derive(Default)]
pub(crate) struct PendingFormat {
    waiting: AtomicBool,
    renderer: Mutex<Option<Renderer>>,
}

impl PendingFormat {
    /// Leaves `renderer` for the thread (replacing one not yet taken).
    pub(crate) fn put(&self, renderer: Renderer) {
        let mut slot = self.renderer.lock().unwrap_or_else(|p| p.into_inner());
        *slot = Some(renderer);
        // Release: a thread that sees the flag finds the renderer.
        self.waiting.store(true, Ordering::Release);
    }

    /// The renderer waiting, if any (for the pipeline's thread).
    #[inline]
    pub(crate) fn take(&self) -> Option<Renderer> {
        if !self.waiting.load(Ordering::Relaxed) {
            return None;
        }
        self.take_slow()
    }

    #[cold]
    fn take_slow(&self) -> Option<Renderer> {
        let mut slot = self.renderer.lock().unwrap_or_else(|p| p.into_inner());
        self.waiting.store(false, Ordering::Relaxed);
        slot.take()
    }
}
