//! TEMPORARY stand-in (Mutex) until the lock-free ring lands.
#![allow(dead_code)]
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PushError {
    Full,
    TooLarge,
}

pub(crate) struct ByteQueue {
    q: Mutex<VecDeque<Vec<u8>>>,
    used: AtomicUsize,
    cap: usize,
    taken: AtomicBool,
    consumed: AtomicU64,
}
pub(crate) struct Consumer {
    q: Arc<ByteQueue>,
}

impl ByteQueue {
    pub(crate) fn new(capacity_bytes: usize) -> Arc<ByteQueue> {
        Arc::new(ByteQueue {
            q: Mutex::new(VecDeque::new()),
            used: AtomicUsize::new(0),
            cap: capacity_bytes.next_power_of_two().max(4096),
            taken: AtomicBool::new(false),
            consumed: AtomicU64::new(0),
        })
    }
    pub(crate) fn capacity(&self) -> usize {
        self.cap
    }
    pub(crate) fn max_payload(&self) -> usize {
        self.cap / 8 - 8
    }
    pub(crate) fn used_bytes(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }
    pub(crate) fn try_push(
        &self,
        len: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<(), PushError> {
        if len > self.max_payload() {
            return Err(PushError::TooLarge);
        }
        let mut q = self.q.lock().unwrap();
        let sz = (len + 8 + 7) & !7;
        if self.used.load(Ordering::Relaxed) + sz > self.cap {
            return Err(PushError::Full);
        }
        let mut v = vec![0; len];
        fill(&mut v);
        q.push_back(v);
        self.used.fetch_add(sz, Ordering::Relaxed);
        Ok(())
    }
    pub(crate) fn take_consumer(self: &Arc<Self>) -> Option<Consumer> {
        if self.taken.swap(true, Ordering::AcqRel) {
            None
        } else {
            Some(Consumer { q: self.clone() })
        }
    }
    pub(crate) fn consumed(&self) -> u64 {
        self.consumed.load(Ordering::Relaxed)
    }
}
impl Drop for Consumer {
    fn drop(&mut self) {
        self.q.taken.store(false, Ordering::Release)
    }
}
impl Consumer {
    pub(crate) fn read_batch(&mut self, max_bytes: usize, mut f: impl FnMut(&[u8])) -> usize {
        let mut n = 0;
        let mut bytes = 0;
        while bytes < max_bytes {
            let Some(v) = self.q.q.lock().unwrap().pop_front() else {
                break;
            };
            bytes += v.len();
            n += 1;
            self.q
                .used
                .fetch_sub((v.len() + 15) & !7, Ordering::Relaxed);
            self.q.consumed.fetch_add(1, Ordering::Relaxed);
            f(&v);
        }
        n
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.q.q.lock().unwrap().is_empty()
    }
    pub(crate) fn consumed(&self) -> u64 {
        self.q.consumed()
    }
}
