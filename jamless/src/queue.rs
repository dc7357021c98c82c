//! The bounded byte queue between callers and the writer: a multi-producer,
//! single-consumer byte ring.
//!
//! Callers (any number of threads) copy encoded records into the ring with
//! [`ByteQueue::try_push`]; the writer thread, through the one [`Consumer`],
//! takes them out in FIFO order with [`Consumer::read_batch`]. The ring is
//! bounded in bytes; when a record does not fit, `try_push` says
//! [`PushError::Full`] at once and the caller decides what to do (drop and
//! count, shed, or wait a bounded time). Pushing never blocks, never
//! allocates, takes no lock and makes no syscall.
//!
//! # Protocol
//!
//! This is the many-to-one ring buffer of Agrona
//! (`org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer`, records as in its
//! `RecordDescriptor`; Aeron clients use it to send commands to the media
//! driver), with its `claimCapacity` and `read` logic, translated to the Rust
//! memory model. Differences: the ring memory is a boxed slice of
//! `AtomicU64` words instead of a raw buffer; an abandoned claim is turned
//! into padding by a drop guard instead of by Agrona's `unblock()` scan; a
//! batch may cross the end of the ring; there is no message type id for
//! users, no correlation counter and no consumer heartbeat (supervision
//! lives in the writer).
//!
//! ## Record layout
//!
//! Every record starts on an 8-byte boundary with one 8-byte header word,
//! read and written as one `AtomicU64` while producers and the consumer may
//! race on it (the consumer finally zeroes it with the rest of the record,
//! once it alone owns it), followed by the payload.
//! Its footprint is its length rounded up to a multiple of 8, and it is
//! always contiguous: it never wraps past the end of the ring.
//!
//! ```text
//!  byte 0              4                   8                      aligned
//!  +-------------------+-------------------+--------------------+---+
//!  | length: i32 (LE)  |  type: i32 (LE)   | payload            |pad|
//!  +-------------------+-------------------+--------------------+---+
//!  |<----- header: one AtomicU64 word ---->|<- length - 8 ----->|
//!
//!  length = 8 + payload length (not rounded)
//!    == 0  nothing written here yet (free, or claimed but header unwritten)
//!    <  0  claimed, being written (-length)
//!    >  0  published: the payload is complete (Release store by producer,
//!          Acquire load by consumer)
//!  type   = DATA (1): a record to deliver
//!           PADDING (-1): space to skip (end-of-ring filler, or a record
//!           whose `fill` panicked)
//! ```
//!
//! The word's low half is the length and its high half the type, so on a
//! little-endian machine the bytes sit exactly where Agrona puts them.
//!
//! ## Ring
//!
//! Positions are `u64` byte counters that only grow (they cannot overflow in
//! practice); a position's place in the ring is `position & (capacity - 1)`.
//!
//! ```text
//!  no wrap between head and tail:
//!  0                                                              capacity
//!  +--------+=======+=======+=========+=======+----------------------+
//!  |  zero  | rec A | rec B | claimed | rec D |  zero                |
//!  +--------+=======+=======+=========+=======+----------------------+
//!           ^ head                            ^ tail
//!
//!  wrapped (rec E did not fit at the end, so the rest of the ring was
//!  claimed with it, in the same CAS, as a PADDING record):
//!  0                                                              capacity
//!  +=======+=========+-----------------+=======+=======+====+=========+
//!  | rec E | claimed |  zero           | rec A | rec B | .. | PADDING |
//!  +=======+=========+-----------------+=======+=======+====+=========+
//!                    ^ tail            ^ head
//!
//!  claim succeeds iff   tail + padding + align8(8 + len) - head <= capacity
//!  where padding = capacity - tail index if the record does not fit before
//!  the end, else 0
//! ```
//!
//! The consumer reads from `head` record by record and stops at the first
//! header that is not positive: `rec D` above is published but waits until
//! the claimed record before it is published too (FIFO in claim order).
//!
//! ## Invariants
//!
//! 1. `head <= tail <= head + capacity` at all times (positions compared as
//!    if read at one instant; each is read atomically).
//! 2. Every byte outside `[head, tail)` (mod capacity) is zero. The consumer
//!    zeroes what it consumed *before* it moves `head` past it (Release), and
//!    a producer only claims space below a `head` it loaded with Acquire, so
//!    zeroing happens-before any reuse.
//! 3. `[head, tail)` is a sequence of contiguous records, each claimed by
//!    exactly one CAS on `tail`; a producer owns the bytes it claimed until it
//!    publishes them, and nobody else touches them meanwhile.
//! 4. A header word is written only by the producer that claimed it (the
//!    in-progress `-length`, then the published `length`), and zeroed only by
//!    the consumer after it has consumed it. A published header is never
//!    changed before the consumer zeroes it.
//! 5. The consumer reads payload bytes only after an Acquire load of a
//!    positive header, which synchronises with the producer's Release store
//!    made after its payload writes. So payload bytes are never accessed by
//!    two threads without a happens-before edge: there is no data race on
//!    them, by protocol.
//!
//! ## Why each interleaving is safe
//!
//! * Two producers race for the same tail: the CAS lets exactly one win; the
//!   loser retries from the new tail. Claimed ranges are disjoint.
//! * A producer races the consumer for free space (against the capacity, or
//!   a lower `limit` for sheddable records): the producer's view of
//!   `head` (the cache or a fresh Acquire load) is never ahead of the real
//!   head, so it can only underestimate free space (reporting `Full` rather
//!   than overwriting). `Full` is only reported after a fresh load of `head`
//!   proved the record could not be placed at that instant.
//! * The consumer meets a claimed, unpublished record: its header is `0` or
//!   negative, the consumer stops there, and resumes from there on its next
//!   call; records behind it wait (FIFO by claim order). A producer whose
//!   `fill` panics still publishes, as PADDING, through a drop guard, so the
//!   consumer can never be stuck behind a dead claim. (The only way to stall
//!   the ring is a `fill` that never returns; `fill` is jamless's own
//!   encoder, which does not block.)
//! * The consumer's `f` panics: every record already handed to `f` is counted
//!   as read before `f` runs, and a drop guard zeroes and releases exactly
//!   those bytes while unwinding. No record is delivered twice or lost.
//! * The consumer polls a header that no producer has written yet (at `tail`
//!   or at a claim whose header is not yet stored): the word is zero
//!   (invariant 2) and reads as "stop". That word is always the header of the
//!   next record claimed there, never payload, because claims start at
//!   `tail` and every published record ends on a record boundary; so the
//!   producer's later store to it is atomic too, and the consumer never
//!   reads a word that a producer writes non-atomically.
//! * Wrap: the PADDING header at the end of the ring is published right after
//!   the CAS, so the consumer can skip it and then wait at index 0 for the
//!   wrapped record like any other.
//! * One batch never looks at more than `capacity` bytes: the records between
//!   `head` and `tail` fit in one ring, and the word at `head + capacity` is
//!   the consumer's own first record, not yet zeroed.
//! * Consumer hand-over: [`ByteQueue::take_consumer`] and the `Consumer`'s
//!   `Drop` are an Acquire/Release pair on one flag, so a new consumer (for
//!   example a restarted writer thread) sees everything the old one did.
//!
//! ## Memory orderings at a glance
//!
//! | access                          | ordering | pairs with                      |
//! |---------------------------------|----------|---------------------------------|
//! | producer loads `head`           | Acquire  | consumer's `head` store         |
//! | producer stores/loads the cache | Rel./Acq.| each other (carries `head`'s edge) |
//! | producer CAS on `tail`          | Relaxed  | — (`tail` publishes no data)    |
//! | producer stores published header| Release  | consumer's header load          |
//! | consumer loads header           | Acquire  | producer's header store         |
//! | consumer zeroes bytes           | plain    | ordered before its `head` store |
//! | consumer stores `head`          | Release  | producers' `head` load          |
//! | `take_consumer` / `Consumer` drop | Acq./Rel. | each other (consumer hand-over) |
//!
//! Callers that put a sleeping consumer to rest with a flag (the writer's
//! "wake me only if I sleep" protocol) must put a `SeqCst` fence between
//! their own flag access and the queue access on both sides; the queue does
//! not provide that ordering by itself.

use std::fmt;
use std::slice;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_utils::{Backoff, CachePadded};

/// Size of a record header (one `AtomicU64` word).
const HEADER_LEN: usize = 8;
/// Records start on multiples of this; the ring is made of words this big.
const ALIGNMENT: usize = 8;
/// Smallest ring, in bytes.
const MIN_CAPACITY: usize = 4096;
/// Largest ring, in bytes (1 GiB): keeps every length well inside an `i32`.
pub(crate) const MAX_CAPACITY: usize = 1 << 30;
/// Header type of a record to deliver.
const TYPE_DATA: i32 = 1;
/// Header type of a record to skip (Agrona's `PADDING_MSG_TYPE_ID`).
const TYPE_PADDING: i32 = -1;

/// Packs a header word: length in the low half, type in the high half.
#[inline]
fn make_header(length: i32, msg_type: i32) -> u64 {
    (u64::from(msg_type as u32) << 32) | u64::from(length as u32)
}

/// The length half of a header word (record length including the header).
#[inline]
fn record_length(header: u64) -> i32 {
    header as u32 as i32
}

/// The type half of a header word.
#[inline]
fn message_type(header: u64) -> i32 {
    (header >> 32) as u32 as i32
}

/// Rounds `n` up to a multiple of [`ALIGNMENT`].
#[inline]
fn align(n: usize) -> usize {
    (n + ALIGNMENT - 1) & !(ALIGNMENT - 1)
}

/// The ring size for a requested size: clamped to
/// `MIN_CAPACITY..=MAX_CAPACITY`, then rounded up to a power of two.
fn ring_capacity(capacity_bytes: usize) -> usize {
    capacity_bytes
        .clamp(MIN_CAPACITY, MAX_CAPACITY)
        .next_power_of_two()
}

/// Why [`ByteQueue::try_push`] did not take a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PushError {
    /// Not enough free space right now; the record was not written.
    Full,
    /// The payload is longer than [`ByteQueue::max_payload`]; it can never fit.
    TooLarge,
}

impl fmt::Display for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PushError::Full => "queue full",
            PushError::TooLarge => "record larger than the queue's maximum payload",
        })
    }
}

/// A bounded multi-producer, single-consumer ring of variable-length byte
/// records (see the [module docs](self) for the protocol).
///
/// Shared as `Arc<ByteQueue>`: producers call [`try_push`](Self::try_push)
/// through the `Arc` from any thread, and the one consumer is obtained with
/// [`take_consumer`](Self::take_consumer).
pub(crate) struct ByteQueue {
    /// Position of the first byte not yet released by the consumer.
    ///
    /// Written only by the current [`Consumer`] (Release, after zeroing what
    /// it passed); read by producers with Acquire. Never decreases; always
    /// at a record boundary; `head <= tail <= head + capacity`.
    head: CachePadded<AtomicU64>,
    /// A recent value of `head`, shared by producers so that they do not all
    /// pull `head`'s cache line from the consumer on every push.
    ///
    /// Always a value `head` once had, hence `<= head` (it may even move
    /// backwards when two producers refresh it at once, which only makes it
    /// more conservative). Stored with Release after an Acquire load of
    /// `head`, loaded with Acquire, so a producer that uses it also
    /// happens-after the consumer's zeroing up to it.
    head_cache: CachePadded<AtomicU64>,
    /// Position just past the last claimed byte. Advanced only by a
    /// successful CAS of a producer, by the claimed record's aligned length
    /// plus any end-of-ring padding claimed with it. Never decreases.
    tail: CachePadded<AtomicU64>,
    /// Records ever visited by any consumer (including a record whose
    /// handler panicked, since it was released). Written by the consumer.
    consumed: CachePadded<AtomicU64>,
    /// True while a [`Consumer`] exists. Swapped to true with Acquire by
    /// `take_consumer`, set to false with Release by `Consumer::drop`.
    consumer_taken: AtomicBool,
    /// Ring size in bytes: a power of two in `MIN_CAPACITY..=MAX_CAPACITY`.
    capacity: usize,
    /// The ring, `capacity / 8` words, all zero where no record is (see the
    /// invariants). Header words are accessed atomically whenever two threads
    /// may touch them; payload bytes, and the consumer's zeroing, go through
    /// raw pointers derived from this slice, by one thread at a time as the
    /// protocol orders it.
    buf: Box<[AtomicU64]>,
}

impl fmt::Debug for ByteQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ByteQueue")
            .field("capacity", &self.capacity)
            .field("head", &self.head.load(Ordering::Relaxed))
            .field("tail", &self.tail.load(Ordering::Relaxed))
            .field("consumed", &self.consumed.load(Ordering::Relaxed))
            .finish()
    }
}

impl ByteQueue {
    /// Makes an empty queue whose ring holds `capacity_bytes` bytes, clamped
    /// to 4 KiB ..= 1 GiB and rounded up to a power of two.
    ///
    /// The ring counts headers (8 bytes per record) and alignment padding
    /// (up to 7 bytes per record), so it holds somewhat less payload than its
    /// capacity. This allocates the ring once; nothing allocates afterwards.
    pub(crate) fn new(capacity_bytes: usize) -> Arc<ByteQueue> {
        let capacity = ring_capacity(capacity_bytes);
        let buf: Box<[AtomicU64]> = (0..capacity / ALIGNMENT)
            .map(|_| AtomicU64::new(0))
            .collect();
        // The allocator hands out zero pages that the kernel maps on first
        // write. Touch every page now, at build time, so that no log call
        // takes those page faults (measured: p99 240 ns -> 3.4 us on a
        // fresh 64 MiB ring). An atomic store cannot be optimised away.
        const WORDS_PER_PAGE: usize = 4096 / ALIGNMENT;
        for word in buf.iter().step_by(WORDS_PER_PAGE) {
            word.store(0, Ordering::Relaxed);
        }
        Arc::new(ByteQueue {
            head: CachePadded::new(AtomicU64::new(0)),
            head_cache: CachePadded::new(AtomicU64::new(0)),
            tail: CachePadded::new(AtomicU64::new(0)),
            consumed: CachePadded::new(AtomicU64::new(0)),
            consumer_taken: AtomicBool::new(false),
            capacity,
            buf,
        })
    }

    /// The ring size in bytes (a power of two, at least 4096).
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// The largest payload [`try_push`](Self::try_push) can ever accept:
    /// `capacity / 8 - 8` bytes (one eighth of the ring per record, header
    /// included, as Agrona's `maxMsgLength`), e.g. 504 bytes for a 4 KiB
    /// ring, 1 MiB - 8 for an 8 MiB ring. Keeping records small relative to
    /// the ring bounds the end-of-ring padding and so the space a wrap can
    /// waste.
    pub(crate) fn max_payload(&self) -> usize {
        self.capacity / 8 - HEADER_LEN
    }

    /// Bytes claimed and not yet released by the consumer (`tail - head`,
    /// headers and padding included).
    ///
    /// Approximate while others push or read (a snapshot of two counters
    /// read one after the other, clamped to `0..=capacity`), exact when the
    /// queue is quiescent.
    pub(crate) fn used_bytes(&self) -> usize {
        // Head first: tail only grows, so a tail read later is never behind
        // this head (the difference cannot go negative; saturating anyway).
        let head = self.head.load(Ordering::Acquire);
        let tail = self.tail.load(Ordering::Acquire);
        (tail.saturating_sub(head) as usize).min(self.capacity)
    }

    /// True if at least `bytes` bytes of the ring are in use: a cheap hint
    /// for deciding early that a record would be shed (the claim in
    /// [`try_push_within`](Self::try_push_within) stays the authority).
    ///
    /// Usually reads only the tail and the producers' cached head: their
    /// difference bounds the fill from above, so when it is below `bytes`
    /// the answer is `false` without touching the consumer's cache line.
    pub(crate) fn fill_at_least(&self, bytes: usize) -> bool {
        // Relaxed: a hint. The cache is read first, so it is no newer than
        // the head at the time tail is read: tail - cache >= fill.
        let cached_head = self.head_cache.load(Ordering::Relaxed);
        let tail = self.tail.load(Ordering::Relaxed);
        if tail.saturating_sub(cached_head) < bytes as u64 {
            return false;
        }
        self.used_bytes() >= bytes
    }

    /// Total records ever visited by any [`Consumer`] of this queue (records
    /// delivered to a `read_batch` handler, including one whose handler
    /// panicked; padding not counted).
    #[cfg(test)]
    pub(crate) fn consumed(&self) -> u64 {
        self.consumed.load(Ordering::Relaxed)
    }

    /// Writes one record of `len` payload bytes: claims space, calls `fill`
    /// with exactly `len` bytes (all zero) to write the payload into, then
    /// publishes the record.
    ///
    /// Any thread may call this at any time. It is lock-free, never blocks,
    /// never waits for space, never allocates and makes no syscall; the only
    /// loop is the CAS on the tail, which retries only when another producer
    /// claimed space in the meantime (or when the weak CAS fails spuriously).
    ///
    /// A zero-length payload is allowed (the record is a bare header and the
    /// consumer is handed an empty slice).
    ///
    /// # Errors
    ///
    /// * [`PushError::TooLarge`] if `len > self.max_payload()`; `fill` is not
    ///   called.
    /// * [`PushError::Full`] if there is not enough free space right now;
    ///   `fill` is not called.
    ///
    /// # Panics
    ///
    /// Only if `fill` panics; the panic is propagated after the claimed space
    /// has been published as padding, which the consumer skips. The record is
    /// then neither delivered nor counted by the queue.
    ///
    /// `fill` should be short and must not block: the consumer cannot get
    /// past this record until `fill` returns.
    pub(crate) fn try_push(
        &self,
        len: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<(), PushError> {
        self.try_push_within(len, usize::MAX, fill)
    }

    /// [`try_push`](Self::try_push) against a lower limit: the record is
    /// taken only if, with it (and any end-of-ring padding it needs), at most
    /// `limit` bytes of the ring are in use; otherwise [`PushError::Full`].
    /// A `limit` at or above the capacity is the plain `try_push`.
    ///
    /// This is how level shedding is decided: a sheddable record claims
    /// against the watermark. The check is the claim's own free-space check
    /// (against the cached head first), so it costs nothing extra.
    ///
    /// # Errors
    ///
    /// As [`try_push`](Self::try_push); `TooLarge` is checked first, so it
    /// does not depend on `limit`.
    pub(crate) fn try_push_within(
        &self,
        len: usize,
        limit: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<(), PushError> {
        if len > self.max_payload() {
            return Err(PushError::TooLarge);
        }
        let limit = limit.min(self.capacity) as u64;
        let record_len = HEADER_LEN + len;
        let aligned = align(record_len) as u64;
        let capacity = self.capacity as u64;
        let mask = capacity - 1;

        // Claim: Agrona's claimCapacity.
        let backoff = Backoff::new();
        let mut head = self.head_cache.load(Ordering::Acquire);
        let mut tail = self.tail.load(Ordering::Relaxed);
        let padding = loop {
            let to_end = capacity - (tail & mask);
            let padding = if aligned > to_end { to_end } else { 0 };
            let required = padding + aligned;
            // `head` may be newer than `tail` (records claimed and consumed
            // since `tail` was read): then `tail` is stale, the CAS below
            // fails and we retry, so counting that as empty is harmless.
            if tail.saturating_sub(head) + required > limit {
                head = self.head.load(Ordering::Acquire);
                if tail.saturating_sub(head) + required > limit {
                    return Err(PushError::Full);
                }
                self.head_cache.store(head, Ordering::Release);
            }
            // Relaxed is enough: `tail` carries no data. Disjointness comes
            // from the CAS itself (one modification order), freedom of the
            // space from our Acquire load of `head`, and publication from the
            // header's Release store.
            match self.tail.compare_exchange_weak(
                tail,
                tail + required,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break padding,
                Err(current) => {
                    tail = current;
                    backoff.spin();
                }
            }
        };

        // We own [tail, tail + padding + aligned) now (invariant 3).
        let mut index = (tail & mask) as usize;
        if padding != 0 {
            // The padding record fills the rest of the ring; publish it at
            // once so the consumer can pass it while we write the record.
            self.header(index)
                .store(make_header(padding as i32, TYPE_PADDING), Ordering::Release);
            index = 0;
        }
        let header = self.header(index);
        header.store(
            make_header(-(record_len as i32), TYPE_DATA),
            Ordering::Relaxed,
        );

        // Publishes on drop, also while unwinding from a panic in `fill`.
        let mut guard = PublishGuard {
            header,
            record_len: record_len as i32,
            msg_type: TYPE_PADDING,
        };
        let offset = index + HEADER_LEN;
        debug_assert!(offset + len <= self.capacity, "payload out of the ring");
        debug_assert_eq!(index % ALIGNMENT, 0);
        // SAFETY: `offset + len <= capacity` (the record was placed so that
        // it ends inside the ring, checked above in debug builds), so the
        // range is inside `buf`, and `ring_ptr` has provenance over all of
        // `buf`. The bytes are inside `AtomicU64`s (`UnsafeCell`s), so writing
        // through a pointer derived from a shared reference is allowed. They
        // are initialised (zero, invariant 2) and exclusively ours until the
        // guard publishes them (invariant 3): no other thread reads or writes
        // them while this `&mut` lives, and the consumer's zeroing of them
        // happens-before, because the `head` we checked against was loaded
        // with Acquire (directly, or from the cache, whose Release store
        // followed an Acquire load of `head` by the producer that made it). The
        // reference cannot outlive this call (`fill` is generic over its
        // lifetime).
        let payload = unsafe { slice::from_raw_parts_mut(self.ring_ptr().add(offset), len) };
        fill(payload);
        guard.msg_type = TYPE_DATA;
        drop(guard);
        Ok(())
    }

    /// Returns the queue's one [`Consumer`], or `None` while another one is
    /// alive. Dropping the consumer makes it available again (a restarted
    /// writer thread takes it over where the last one stopped).
    pub(crate) fn take_consumer(self: &Arc<Self>) -> Option<Consumer> {
        // Acquire pairs with the Release in `Consumer::drop`: the new
        // consumer sees the old one's head and zeroing.
        self.consumer_taken
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| Consumer {
                queue: Arc::clone(self),
            })
    }

    /// The header word of the record starting at byte `index` of the ring.
    #[inline]
    fn header(&self, index: usize) -> &AtomicU64 {
        debug_assert_eq!(index % ALIGNMENT, 0, "record not aligned");
        &self.buf[index / ALIGNMENT]
    }

    /// A pointer to the first byte of the ring, valid for all of it.
    #[inline]
    fn ring_ptr(&self) -> *mut u8 {
        self.buf.as_ptr().cast::<u8>().cast_mut()
    }

    /// Zeroes `len` bytes of the ring from byte `index` (both multiples of 8),
    /// with a plain `memset`, as Agrona's `setMemory`.
    ///
    /// Plain rather than atomic stores on purpose: after the zeroing, every
    /// word's last write is a full-width non-atomic one, so a word never
    /// mixes a producer's partial non-atomic payload writes with an earlier
    /// atomic write that nothing full-width separated. That is race-free
    /// either way, but it keeps each location's history simple (Miri's weak
    /// memory emulation crashes on the other pattern) and it is a `memset`.
    ///
    /// # Safety
    ///
    /// Only the consumer may call this, and only on bytes it has visited and
    /// not yet released (`[head, head + bytes_read)`, mod capacity): nobody
    /// else accesses them until `head` moves past them, and everything the
    /// producers wrote there happens-before (Acquire loads of the headers).
    unsafe fn zero(&self, index: usize, len: usize) {
        debug_assert_eq!(index % ALIGNMENT, 0);
        debug_assert_eq!(len % ALIGNMENT, 0);
        debug_assert!(index + len <= self.capacity, "zeroing past the ring");
        // SAFETY: in bounds (`index + len <= capacity`, checked in debug
        // builds; the caller passes a range inside the ring), `ring_ptr` has
        // provenance over the whole ring and the bytes are inside
        // `UnsafeCell`s. By the caller's contract no other thread accesses
        // them concurrently, and the Release store of `head` that follows
        // orders these writes before any producer's reuse.
        unsafe { self.ring_ptr().add(index).write_bytes(0, len) };
    }
}

/// Publishes a claimed record when dropped: as DATA if `fill` returned, as
/// PADDING if it panicked (the default until `try_push` flips it).
struct PublishGuard<'a> {
    header: &'a AtomicU64,
    record_len: i32,
    msg_type: i32,
}

impl Drop for PublishGuard<'_> {
    fn drop(&mut self) {
        // Release: the payload writes (if any) happen-before the consumer's
        // Acquire load that sees this positive length.
        self.header.store(
            make_header(self.record_len, self.msg_type),
            Ordering::Release,
        );
    }
}

/// The single reader of a [`ByteQueue`], owned by the writer thread.
///
/// Obtained from [`ByteQueue::take_consumer`]; at most one exists at a time.
/// Dropping it hands the role back to the queue.
pub(crate) struct Consumer {
    queue: Arc<ByteQueue>,
}

impl fmt::Debug for Consumer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("queue", &self.queue)
            .finish()
    }
}

impl Consumer {
    /// Visits published records in FIFO order, calling `f(payload)` for each.
    ///
    /// Stops after the record that brings the total payload visited in this
    /// call to `max_bytes` or more (so at least one record is visited if one
    /// is ready, even for `max_bytes == 0`), or when the next record is not
    /// yet published (still being written, or not there). Padding is skipped
    /// silently. Returns the number of records handed to `f`.
    ///
    /// Before returning, the space of the visited records is zeroed and
    /// released to producers. If `f` panics, the records already handed to
    /// `f` (including the one it panicked on) are released all the same and
    /// counted as consumed, so none is ever delivered twice; the rest stay
    /// queued for the next call.
    pub(crate) fn read_batch(&mut self, max_bytes: usize, mut f: impl FnMut(&[u8])) -> usize {
        let queue = &*self.queue;
        let capacity = queue.capacity;
        let mask = capacity as u64 - 1;
        // Relaxed: only the consumer stores `head`, and consumer hand-over
        // is ordered by `consumer_taken` (Acquire/Release).
        let head = queue.head.load(Ordering::Relaxed);
        let mut batch = ReleaseGuard {
            queue,
            head,
            bytes_read: 0,
            records: 0,
        };
        let mut payload_bytes = 0usize;
        // Never look at more than one ring's worth: past that we would be
        // back at `head`, whose bytes are not zeroed until the guard runs.
        while batch.bytes_read < capacity {
            let index = ((head + batch.bytes_read as u64) & mask) as usize;
            // Acquire pairs with the producer's Release publication.
            let header = queue.header(index).load(Ordering::Acquire);
            let length = record_length(header);
            if length <= 0 {
                break; // free, or claimed and not yet published
            }
            let length = length as usize;
            let footprint = align(length);
            debug_assert!(length >= HEADER_LEN, "record shorter than its header");
            debug_assert!(
                index + footprint <= capacity,
                "record crosses the ring's end"
            );
            // Count it as read before handing it out (Agrona does the same):
            // if `f` panics, the guard releases it, so it is not seen twice.
            batch.bytes_read += footprint;
            if message_type(header) == TYPE_PADDING {
                continue;
            }
            debug_assert_eq!(message_type(header), TYPE_DATA);
            batch.records += 1;
            let payload_len = length - HEADER_LEN;
            // SAFETY: the record lies inside the ring (`index + footprint <=
            // capacity`, producers never place a record across the end;
            // checked in debug builds) and `ring_ptr` has provenance over all
            // of it. We loaded its positive header with Acquire, which
            // synchronises with the producer's Release store made after its
            // payload writes, so the bytes are initialised and visible; the
            // producer never touches them again, and no producer can reuse
            // them before we zero them and move `head` past them (invariants
            // 2-4), which happens only after this shared borrow ends (`f`
            // cannot keep it: it is generic over the lifetime).
            let payload = unsafe {
                slice::from_raw_parts(queue.ring_ptr().add(index + HEADER_LEN), payload_len)
            };
            f(payload);
            payload_bytes += payload_len;
            if payload_bytes >= max_bytes {
                break;
            }
        }
        batch.records
        // `batch` drops here: zero, count, release.
    }

    /// True if no record, published or still being written, is in the ring
    /// (`head == tail`).
    pub(crate) fn is_empty(&self) -> bool {
        let queue = &*self.queue;
        queue.head.load(Ordering::Relaxed) == queue.tail.load(Ordering::Acquire)
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        // Release pairs with the Acquire in `take_consumer`.
        self.queue.consumer_taken.store(false, Ordering::Release);
    }
}

/// Zeroes and releases what a `read_batch` visited, when dropped (normally
/// or while unwinding from a panic in the handler).
struct ReleaseGuard<'a> {
    queue: &'a ByteQueue,
    /// `head` when the batch started.
    head: u64,
    /// Bytes visited from `head`: whole records, padding included.
    bytes_read: usize,
    /// Records handed to the handler.
    records: usize,
}

impl Drop for ReleaseGuard<'_> {
    fn drop(&mut self) {
        let queue = self.queue;
        if self.records != 0 {
            queue
                .consumed
                .fetch_add(self.records as u64, Ordering::Relaxed);
        }
        if self.bytes_read == 0 {
            return;
        }
        debug_assert!(self.bytes_read <= queue.capacity);
        let start = (self.head & (queue.capacity as u64 - 1)) as usize;
        let first = self.bytes_read.min(queue.capacity - start);
        // SAFETY: we are the consumer (a `ReleaseGuard` only exists inside
        // `Consumer::read_batch`), and these two ranges are exactly the
        // `bytes_read <= capacity` bytes visited from `head`, split at the end
        // of the ring; they are not released until the store below.
        unsafe {
            queue.zero(start, first);
            queue.zero(0, self.bytes_read - first);
        }
        // Release: the zeroes happen-before any producer that sees this head.
        queue
            .head
            .store(self.head + self.bytes_read as u64, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::{self, AssertUnwindSafe};
    use std::sync::atomic::AtomicUsize;
    use std::thread;

    /// Panics without running the panic hook (keeps test output quiet).
    fn quiet_panic() -> ! {
        panic::resume_unwind(Box::new("test panic"))
    }

    fn push(q: &ByteQueue, bytes: &[u8]) -> Result<(), PushError> {
        q.try_push(bytes.len(), |buf| buf.copy_from_slice(bytes))
    }

    fn drain(c: &mut Consumer) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while c.read_batch(usize::MAX, |p| out.push(p.to_vec())) > 0 {}
        out
    }

    /// Footprint of a record with `len` payload bytes.
    fn footprint(len: usize) -> usize {
        align(HEADER_LEN + len)
    }

    fn pattern(seed: usize, len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| (seed.wrapping_mul(31) + i * 7) as u8)
            .collect()
    }

    #[test]
    fn header_round_trip() {
        for (len, ty) in [
            (8, TYPE_DATA),
            (-16, TYPE_DATA),
            (4096, TYPE_PADDING),
            (i32::MAX, 7),
        ] {
            let h = make_header(len, ty);
            assert_eq!(record_length(h), len);
            assert_eq!(message_type(h), ty);
        }
        assert_eq!(make_header(0, 0), 0);
        // Agrona's byte layout on little-endian: length at 0, type at 4.
        let bytes = make_header(24, TYPE_PADDING).to_le_bytes();
        assert_eq!(&bytes[..4], &24i32.to_le_bytes());
        assert_eq!(&bytes[4..], &(-1i32).to_le_bytes());
    }

    #[test]
    fn capacity_rounding() {
        assert_eq!(ByteQueue::new(0).capacity(), 4096);
        assert_eq!(ByteQueue::new(4096).capacity(), 4096);
        assert_eq!(ByteQueue::new(4097).capacity(), 8192);
        assert_eq!(ByteQueue::new(5000).capacity(), 8192);
        assert_eq!(ByteQueue::new(4096).max_payload(), 504);
        assert_eq!(ring_capacity((1 << 23) - 100), 1 << 23);
        assert_eq!(ring_capacity(MAX_CAPACITY - 1), MAX_CAPACITY);
        assert_eq!(ring_capacity(usize::MAX), MAX_CAPACITY);
        // Every length stays a positive i32.
        assert!(MAX_CAPACITY / 8 <= i32::MAX as usize);
    }

    #[test]
    fn push_read_order_and_exact_bytes() {
        let q = ByteQueue::new(4096);
        let mut c = q.take_consumer().unwrap();
        assert!(c.is_empty());
        let records: Vec<Vec<u8>> = (0..20).map(|i| pattern(i, i * 3 + 1)).collect();
        for r in &records {
            push(&q, r).unwrap();
        }
        assert!(!c.is_empty());
        let expected_used: usize = records.iter().map(|r| footprint(r.len())).sum();
        assert_eq!(q.used_bytes(), expected_used);
        assert_eq!(drain(&mut c), records);
        assert!(c.is_empty());
        assert_eq!(q.used_bytes(), 0);
        assert_eq!(q.consumed(), 20);
    }

    #[test]
    fn fill_sees_zeroed_bytes_of_exact_length() {
        let q = ByteQueue::new(4096);
        let mut c = q.take_consumer().unwrap();
        for round in 0..40 {
            for len in [0, 1, 7, 8, 9, 100] {
                q.try_push(len, |buf| {
                    assert_eq!(buf.len(), len);
                    assert!(buf.iter().all(|&b| b == 0), "stale bytes in a fresh claim");
                    buf.fill(0xAB);
                })
                .unwrap();
            }
            let mut seen = 0;
            c.read_batch(usize::MAX, |p| {
                assert!(p.iter().all(|&b| b == 0xAB));
                seen += 1;
            });
            assert_eq!(seen, 6, "round {round}");
        }
    }

    #[test]
    fn zero_length_records() {
        let q = ByteQueue::new(4096);
        let mut c = q.take_consumer().unwrap();
        push(&q, b"").unwrap();
        push(&q, b"x").unwrap();
        push(&q, b"").unwrap();
        assert_eq!(q.used_bytes(), 8 + 16 + 8);
        let got = drain(&mut c);
        assert_eq!(got, vec![b"".to_vec(), b"x".to_vec(), b"".to_vec()]);
        assert_eq!(q.used_bytes(), 0);
        // A ring full of bare headers.
        let mut n = 0;
        while push(&q, b"").is_ok() {
            n += 1;
        }
        assert_eq!(n, 4096 / 8);
        assert_eq!(q.used_bytes(), 4096);
        assert_eq!(c.read_batch(usize::MAX, |p| assert!(p.is_empty())), 512);
        assert_eq!(q.used_bytes(), 0);
    }

    #[test]
    fn too_large() {
        let q = ByteQueue::new(4096);
        let mut c = q.take_consumer().unwrap();
        let max = q.max_payload();
        let called = AtomicBool::new(false);
        assert_eq!(
            q.try_push(max + 1, |_| called.store(true, Ordering::Relaxed)),
            Err(PushError::TooLarge)
        );
        assert_eq!(
            q.try_push(usize::MAX, |_| unreachable!()),
            Err(PushError::TooLarge)
        );
        assert!(!called.load(Ordering::Relaxed));
        assert_eq!(q.used_bytes(), 0);
        let big = pattern(9, max);
        push(&q, &big).unwrap();
        assert_eq!(q.used_bytes(), 4096 / 8);
        assert_eq!(drain(&mut c), vec![big]);
    }

    #[test]
    fn full_then_success_after_read() {
        let q = ByteQueue::new(4096);
        let mut c = q.take_consumer().unwrap();
        let rec = [7u8; 120]; // footprint 128
        for _ in 0..32 {
            push(&q, &rec).unwrap();
        }
        assert_eq!(q.used_bytes(), 4096);
        let called = AtomicBool::new(false);
        assert_eq!(
            q.try_push(0, |_| called.store(true, Ordering::Relaxed)),
            Err(PushError::Full)
        );
        assert!(!called.load(Ordering::Relaxed));
        // Read one: exactly its footprint comes back.
        assert_eq!(c.read_batch(1, |p| assert_eq!(p, &rec[..])), 1);
        assert_eq!(q.used_bytes(), 4096 - 128);
        assert_eq!(push(&q, &[1; 121]), Err(PushError::Full)); // needs 136
        push(&q, &rec).unwrap();
        assert_eq!(push(&q, b""), Err(PushError::Full));
        assert_eq!(drain(&mut c).len(), 32);
        assert_eq!(q.used_bytes(), 0);
        push(&q, &rec).unwrap();
    }

    #[test]
    fn full_when_wrap_needs_padding() {
        let q = ByteQueue::new(4096);
        let mut c = q.take_consumer().unwrap();
        // 4000 bytes used, then read them: head = tail = 4000, 96 to the end.
        for _ in 0..25 {
            push(&q, &[1; 152]).unwrap(); // footprint 160
        }
        assert_eq!(drain(&mut c).len(), 25);
        // 496 bytes do not fit in the 96 at the end: padding 96 + 504 at 0.
        push(&q, &[2; 496]).unwrap();
        assert_eq!(q.used_bytes(), 96 + 504);
        // Six more from index 504 on: 3024 bytes, 3624 used, 472 free.
        for _ in 0..6 {
            push(&q, &[3; 496]).unwrap(); // 6 * 504 = 3024
        }
        assert_eq!(q.used_bytes(), 3624);
        // 472 left in total; a 464-byte record (472 footprint) fits exactly.
        assert_eq!(push(&q, &[4; 465]), Err(PushError::Full));
        push(&q, &[4; 464]).unwrap();
        assert_eq!(q.used_bytes(), 4096);
        let got = drain(&mut c);
        assert_eq!(got.len(), 8);
        assert_eq!(got[0], vec![2; 496]);
        assert_eq!(got[7], vec![4; 464]);
        assert_eq!(q.used_bytes(), 0);
    }

    #[test]
    fn push_within_a_limit() {
        let q = ByteQueue::new(4096);
        let mut c = q.take_consumer().unwrap();
        let called = AtomicBool::new(false);
        // TooLarge wins over the limit; nothing fits under a zero limit.
        assert_eq!(
            q.try_push_within(q.max_payload() + 1, 0, |_| unreachable!()),
            Err(PushError::TooLarge)
        );
        assert_eq!(
            q.try_push_within(0, 0, |_| called.store(true, Ordering::Relaxed)),
            Err(PushError::Full)
        );
        assert_eq!(
            q.try_push_within(0, 7, |_| unreachable!()),
            Err(PushError::Full)
        );
        assert!(!called.load(Ordering::Relaxed));
        // Up to exactly the limit, counting headers and alignment.
        for _ in 0..10 {
            q.try_push_within(100, 1200, |b| b.fill(1)).unwrap(); // 112 each
        }
        assert_eq!(q.used_bytes(), 1120);
        assert_eq!(
            q.try_push_within(73, 1200, |_| unreachable!()),
            Err(PushError::Full)
        ); // 88
        q.try_push_within(72, 1200, |b| b.fill(2)).unwrap(); // 80: exactly 1200
        assert_eq!(
            q.try_push_within(0, 1200, |_| unreachable!()),
            Err(PushError::Full)
        );
        // The plain push (and a limit above the capacity) still has room.
        q.try_push_within(0, usize::MAX, |_| {}).unwrap();
        push(&q, b"x").unwrap();
        assert_eq!(q.used_bytes(), 1200 + 8 + 16);
        assert_eq!(drain(&mut c).len(), 13);
        // Padding counts against the limit: on a fresh ring, head = tail =
        // 3968 after this.
        let q = ByteQueue::new(4096);
        let mut c = q.take_consumer().unwrap();
        for _ in 0..31 {
            push(&q, &[0; 120]).unwrap();
        }
        drain(&mut c);
        // 200 bytes (208) do not fit in the last 128: needs 128 + 208 = 336.
        assert_eq!(
            q.try_push_within(200, 335, |_| unreachable!()),
            Err(PushError::Full)
        );
        q.try_push_within(200, 336, |b| b.fill(3)).unwrap();
        assert_eq!(q.used_bytes(), 336);
        assert_eq!(drain(&mut c), vec![vec![3; 200]]);
    }

    #[test]
    fn fill_at_least() {
        let q = ByteQueue::new(4096);
        let mut c = q.take_consumer().unwrap();
        assert!(q.fill_at_least(0));
        assert!(!q.fill_at_least(1));
        push(&q, &[0; 100]).unwrap(); // 112
        assert!(q.fill_at_least(112));
        assert!(!q.fill_at_least(113));
        drain(&mut c);
        // The producers' cached head is stale now (still 0): the answer must
        // come from the real head.
        assert!(!q.fill_at_least(1));
        for _ in 0..512 {
            push(&q, b"").unwrap(); // 8 bytes each: never needs padding
        }
        assert!(q.fill_at_least(4096));
        assert!(!q.fill_at_least(4097));
    }

    #[test]
    fn wrap_around_with_padding_many_times() {
        let q = ByteQueue::new(4096);
        let mut c = q.take_consumer().unwrap();
        let rounds = if cfg!(miri) { 300 } else { 20_000 };
        let mut next_push = 0usize;
        let mut next_read = 0usize;
        let mut full = 0usize;
        let len_of = |i: usize| (i * 37 + 11) % 301; // odd and even, 0..=300
        for round in 0..rounds {
            // Push a few, some of which may not fit.
            for _ in 0..(round % 5) + 1 {
                let len = len_of(next_push);
                match q.try_push(len, |b| b.copy_from_slice(&pattern(next_push, len))) {
                    Ok(()) => next_push += 1,
                    Err(PushError::Full) => {
                        full += 1;
                        break;
                    }
                    Err(e) => panic!("{e:?}"),
                }
            }
            // Read with varying byte limits.
            let limit = (round * 13) % 700;
            let before = next_read;
            let n = c.read_batch(limit, |p| {
                assert_eq!(p, &pattern(next_read, len_of(next_read))[..]);
                next_read += 1;
            });
            assert_eq!(n, next_read - before);
            let pending: usize = (next_read..next_push).map(|i| footprint(len_of(i))).sum();
            // used_bytes includes at most one padding record per wrap.
            assert!(q.used_bytes() >= pending && q.used_bytes() <= pending + 512);
        }
        let n = c.read_batch(usize::MAX, |p| {
            assert_eq!(p, &pattern(next_read, len_of(next_read))[..]);
            next_read += 1;
        });
        assert!(n > 0);
        assert_eq!(next_read, next_push);
        assert_eq!(q.used_bytes(), 0);
        assert_eq!(q.consumed(), next_push as u64);
        let laps = q.tail.load(Ordering::Relaxed) / 4096;
        assert!(laps >= if cfg!(miri) { 5 } else { 500 }, "only {laps} laps");
        assert!(full > 0, "never full");
    }

    #[test]
    fn read_batch_byte_limit() {
        let q = ByteQueue::new(4096);
        let mut c = q.take_consumer().unwrap();
        for i in 0..10 {
            push(&q, &[i; 10]).unwrap();
        }
        // Always at least one record.
        assert_eq!(c.read_batch(0, |p| assert_eq!(p, &[0u8; 10])), 1);
        // Stops after the record that reaches the limit.
        assert_eq!(c.read_batch(20, |_| {}), 2);
        assert_eq!(c.read_batch(21, |_| {}), 3);
        let mut rest = Vec::new();
        assert_eq!(c.read_batch(usize::MAX, |p| rest.push(p[0])), 4);
        assert_eq!(rest, vec![6, 7, 8, 9]);
        assert_eq!(c.read_batch(usize::MAX, |_| unreachable!()), 0);
    }

    #[test]
    fn batch_crosses_the_end_of_the_ring() {
        let q = ByteQueue::new(4096);
        let mut c = q.take_consumer().unwrap();
        for _ in 0..30 {
            push(&q, &[0; 120]).unwrap();
        }
        assert_eq!(drain(&mut c).len(), 30); // head = tail = 3840
        for i in 0..10u8 {
            push(&q, &[i; 100]).unwrap(); // 112 each: 2 fit, then padding
        }
        let mut got = Vec::new();
        assert_eq!(c.read_batch(usize::MAX, |p| got.push(p[0])), 10);
        assert_eq!(got, (0..10).collect::<Vec<_>>());
        assert_eq!(q.used_bytes(), 0);
    }

    #[test]
    fn take_consumer_exclusive_and_retaken_after_drop() {
        let q = ByteQueue::new(4096);
        let c = q.take_consumer().unwrap();
        assert!(q.take_consumer().is_none());
        assert!(q.take_consumer().is_none());
        drop(c);
        let mut c = q.take_consumer().unwrap();
        assert!(q.take_consumer().is_none());
        push(&q, b"one").unwrap();
        push(&q, b"two").unwrap();
        assert_eq!(c.read_batch(0, |p| assert_eq!(p, b"one")), 1);
        // The next consumer lives on another thread and continues in order.
        drop(c);
        let q2 = Arc::clone(&q);
        let got = thread::spawn(move || {
            let mut c = q2.take_consumer().unwrap();
            assert!(q2.take_consumer().is_none());
            drain(&mut c)
        })
        .join()
        .unwrap();
        assert_eq!(got, vec![b"two".to_vec()]);
        assert_eq!(q.consumed(), 2);
        // Dropped on that thread: available again here.
        let c = q.take_consumer().unwrap();
        assert!(c.is_empty());
    }

    #[test]
    fn panic_in_fill_publishes_padding() {
        let q = ByteQueue::new(4096);
        let mut c = q.take_consumer().unwrap();
        push(&q, b"before").unwrap();
        let r = panic::catch_unwind(AssertUnwindSafe(|| {
            let _ = q.try_push(50, |buf| {
                buf[..5].copy_from_slice(b"torn!");
                quiet_panic();
            });
        }));
        assert!(r.is_err());
        push(&q, b"after").unwrap();
        assert_eq!(q.used_bytes(), 16 + footprint(50) + 16);
        assert_eq!(drain(&mut c), vec![b"before".to_vec(), b"after".to_vec()]);
        assert_eq!(q.used_bytes(), 0);
        assert_eq!(q.consumed(), 2);
        // The skipped bytes were zeroed like any other: the ring is reusable.
        for i in 0..200 {
            let r = panic::catch_unwind(AssertUnwindSafe(|| {
                q.try_push(i % 90, |_| {
                    if i % 3 == 0 {
                        quiet_panic();
                    }
                })
            }));
            assert_eq!(r.is_err(), i % 3 == 0);
            if i % 7 == 0 {
                c.read_batch(usize::MAX, |p| assert!(p.iter().all(|&b| b == 0)));
            }
        }
        c.read_batch(usize::MAX, |p| assert!(p.iter().all(|&b| b == 0)));
        assert_eq!(q.used_bytes(), 0);
        assert_eq!(q.consumed(), 2 + 200 - 67);
    }

    #[test]
    fn panic_in_fill_as_last_record_before_wrap() {
        let q = ByteQueue::new(4096);
        let mut c = q.take_consumer().unwrap();
        for _ in 0..31 {
            push(&q, &[0; 120]).unwrap();
        }
        drain(&mut c); // head = tail = 3968, 128 to the end
        let r = panic::catch_unwind(AssertUnwindSafe(|| {
            let _ = q.try_push(200, |_| quiet_panic()); // wraps: padding + record at 0
        }));
        assert!(r.is_err());
        push(&q, b"next").unwrap();
        assert_eq!(drain(&mut c), vec![b"next".to_vec()]);
        assert_eq!(q.used_bytes(), 0);
    }

    #[test]
    fn panic_in_read_handler_releases_exactly_the_visited() {
        let q = ByteQueue::new(4096);
        let mut c = q.take_consumer().unwrap();
        for i in 0..6u8 {
            push(&q, &[i; 30]).unwrap();
        }
        let mut seen = Vec::new();
        let r = panic::catch_unwind(AssertUnwindSafe(|| {
            c.read_batch(usize::MAX, |p| {
                seen.push(p[0]);
                if p[0] == 2 {
                    quiet_panic();
                }
            })
        }));
        assert!(r.is_err());
        assert_eq!(seen, vec![0, 1, 2]);
        assert_eq!(q.consumed(), 3);
        assert_eq!(q.used_bytes(), 3 * footprint(30));
        let rest: Vec<u8> = drain(&mut c).iter().map(|p| p[0]).collect();
        assert_eq!(rest, vec![3, 4, 5]);
        assert_eq!(q.consumed(), 6);
        assert_eq!(q.used_bytes(), 0);
        // Panicking on the first record still releases it.
        push(&q, b"a").unwrap();
        push(&q, b"b").unwrap();
        let r = panic::catch_unwind(AssertUnwindSafe(|| {
            c.read_batch(usize::MAX, |_| quiet_panic())
        }));
        assert!(r.is_err());
        assert_eq!(drain(&mut c), vec![b"b".to_vec()]);
        // The consumer survives a panic and can also be handed over.
        drop(c);
        assert!(q.take_consumer().is_some());
    }

    #[test]
    fn consumer_stops_at_unpublished_record() {
        let q = ByteQueue::new(4096);
        let mut c = q.take_consumer().unwrap();
        push(&q, b"first").unwrap();
        q.try_push(8, |buf| {
            buf.copy_from_slice(b"middle!!");
            // While this record is claimed but unpublished, a nested push
            // publishes after it; the consumer must stop in front of it.
            push(&q, b"nested").unwrap();
            assert_eq!(c.read_batch(usize::MAX, |p| assert_eq!(p, b"first")), 1);
            assert_eq!(c.read_batch(usize::MAX, |_| unreachable!()), 0);
            assert!(!c.is_empty());
        })
        .unwrap();
        assert_eq!(
            drain(&mut c),
            vec![b"middle!!".to_vec(), b"nested".to_vec()]
        );
        assert!(c.is_empty());
    }

    #[test]
    fn send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        fn assert_send<T: Send>() {}
        assert_send_sync::<ByteQueue>();
        assert_send::<Consumer>();
    }

    /// Payload: thread id (1 byte), sequence number (8 bytes), then a pattern
    /// derived from both, of a length derived from both.
    fn stress_payload_len(tid: usize, seq: u64) -> usize {
        9 + ((seq as usize).wrapping_mul(7) + tid * 13) % 200
    }

    fn stress_byte(tid: usize, seq: u64, i: usize) -> u8 {
        (seq as usize ^ (tid << 5)).wrapping_add(i * 3) as u8
    }

    fn stress(capacity: usize, producers: usize, attempts: u64) -> (u64, u64) {
        let q = ByteQueue::new(capacity);
        let done = Arc::new(AtomicUsize::new(0));
        let consumer = {
            let q = Arc::clone(&q);
            let done = Arc::clone(&done);
            thread::spawn(move || {
                let mut c = q.take_consumer().unwrap();
                let mut next = vec![0u64; producers]; // lowest acceptable next seq
                let mut received = vec![0u64; producers];
                let backoff = Backoff::new();
                loop {
                    let finished = done.load(Ordering::Acquire) == producers;
                    let n = c.read_batch(4096, |p| {
                        let tid = p[0] as usize;
                        let seq = u64::from_le_bytes(p[1..9].try_into().unwrap());
                        assert!(tid < producers, "bad thread id {tid}");
                        assert!(
                            seq >= next[tid],
                            "thread {tid}: seq {seq} after {}",
                            next[tid]
                        );
                        assert_eq!(p.len(), stress_payload_len(tid, seq), "length");
                        for (i, &b) in p[9..].iter().enumerate() {
                            assert_eq!(b, stress_byte(tid, seq, i), "corrupt byte");
                        }
                        next[tid] = seq + 1;
                        received[tid] += 1;
                    });
                    if n == 0 {
                        if finished && c.is_empty() {
                            break;
                        }
                        backoff.snooze();
                        if backoff.is_completed() {
                            thread::yield_now();
                        }
                    } else {
                        backoff.reset();
                    }
                }
                received
            })
        };
        let handles: Vec<_> = (0..producers)
            .map(|tid| {
                let q = Arc::clone(&q);
                let done = Arc::clone(&done);
                thread::spawn(move || {
                    let (mut accepted, mut full) = (0u64, 0u64);
                    for seq in 0..attempts {
                        let len = stress_payload_len(tid, seq);
                        let r = q.try_push(len, |buf| {
                            buf[0] = tid as u8;
                            buf[1..9].copy_from_slice(&seq.to_le_bytes());
                            for (i, b) in buf[9..].iter_mut().enumerate() {
                                *b = stress_byte(tid, seq, i);
                            }
                        });
                        match r {
                            Ok(()) => accepted += 1,
                            Err(PushError::Full) => {
                                full += 1;
                                thread::yield_now();
                            }
                            Err(PushError::TooLarge) => panic!("too large"),
                        }
                    }
                    done.fetch_add(1, Ordering::Release);
                    (accepted, full)
                })
            })
            .collect();
        let mut accepted = vec![0u64; producers];
        let mut full_total = 0;
        for (tid, h) in handles.into_iter().enumerate() {
            let (a, f) = h.join().unwrap();
            assert_eq!(a + f, attempts, "thread {tid}: accepted + full != attempts");
            accepted[tid] = a;
            full_total += f;
        }
        let received = consumer.join().unwrap();
        assert_eq!(received, accepted, "accepted != received per thread");
        let accepted_total: u64 = accepted.iter().sum();
        assert_eq!(q.consumed(), accepted_total);
        assert_eq!(q.used_bytes(), 0);
        assert_eq!(accepted_total + full_total, attempts * producers as u64);
        eprintln!(
            "stress capacity={capacity} producers={producers} attempts/thread={attempts}: \
             accepted={accepted_total} full={full_total} laps={}",
            q.tail.load(Ordering::Relaxed) / q.capacity() as u64
        );
        (accepted_total, full_total)
    }

    #[test]
    fn stress_small_ring_many_producers() {
        let attempts = if cfg!(miri) { 200 } else { 200_000 };
        let (accepted, _full) = stress(4096, 4, attempts);
        assert!(accepted > 0);
    }

    #[test]
    fn stress_large_ring() {
        let attempts = if cfg!(miri) { 200 } else { 200_000 };
        // Miri retags the whole ring on every access: keep it small there.
        let capacity = if cfg!(miri) { 1 << 14 } else { 1 << 20 };
        let (accepted, _full) = stress(capacity, 3, attempts);
        assert!(accepted > 0);
    }

    #[test]
    fn stress_with_panicking_fills_and_consumer_handover() {
        let producers = 3;
        let attempts: u64 = if cfg!(miri) { 150 } else { 50_000 };
        let q = ByteQueue::new(4096);
        let stop = Arc::new(AtomicBool::new(false));
        let handles: Vec<_> = (0..producers)
            .map(|tid| {
                let q = Arc::clone(&q);
                thread::spawn(move || {
                    let mut ok = 0u64;
                    for seq in 0..attempts {
                        let r = panic::catch_unwind(AssertUnwindSafe(|| {
                            q.try_push(stress_payload_len(tid, seq), |buf| {
                                buf[0] = tid as u8;
                                buf[1..9].copy_from_slice(&seq.to_le_bytes());
                                if seq % 5 == 0 {
                                    quiet_panic();
                                }
                                for (i, b) in buf[9..].iter_mut().enumerate() {
                                    *b = stress_byte(tid, seq, i);
                                }
                            })
                        }));
                        match r {
                            Ok(Ok(())) => ok += 1,
                            Ok(Err(_)) => thread::yield_now(),
                            Err(_) => assert_eq!(seq % 5, 0),
                        }
                    }
                    ok
                })
            })
            .collect();
        // Two consumer threads take turns: each holds the consumer for a
        // while, and handler panics are injected now and then.
        let lost = Arc::new(AtomicU64::new(0));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let q = Arc::clone(&q);
                let stop = Arc::clone(&stop);
                let lost = Arc::clone(&lost);
                thread::spawn(move || {
                    let mut seen = Vec::new();
                    // A handler panic is injected every 17th batch.
                    let mut batches_to_panic = 17u32;
                    loop {
                        let stopping = stop.load(Ordering::Acquire);
                        if let Some(mut c) = q.take_consumer() {
                            for _ in 0..4 {
                                batches_to_panic -= 1;
                                let inject = batches_to_panic == 0;
                                if inject {
                                    batches_to_panic = 17;
                                }
                                let r = panic::catch_unwind(AssertUnwindSafe(|| {
                                    c.read_batch(1000, |p| {
                                        let tid = p[0] as usize;
                                        let seq = u64::from_le_bytes(p[1..9].try_into().unwrap());
                                        assert_ne!(seq % 5, 0, "a panicked fill was delivered");
                                        for (i, &b) in p[9..].iter().enumerate() {
                                            assert_eq!(b, stress_byte(tid, seq, i));
                                        }
                                        seen.push((tid, seq));
                                        if inject {
                                            // Delivered and then lost by the handler.
                                            lost.fetch_add(1, Ordering::Relaxed);
                                            quiet_panic();
                                        }
                                    })
                                }));
                                let _ = r;
                            }
                            if stopping && c.is_empty() {
                                break;
                            }
                        } else if stopping {
                            // The other reader holds it; it drains to the end.
                            if q.used_bytes() == 0 {
                                break;
                            }
                        }
                        thread::yield_now();
                    }
                    seen
                })
            })
            .collect();
        let accepted: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
        stop.store(true, Ordering::Release);
        let mut all: Vec<(usize, u64)> = Vec::new();
        for r in readers {
            all.extend(r.join().unwrap());
        }
        assert_eq!(all.len() as u64, accepted, "delivered != accepted");
        assert_eq!(q.consumed(), accepted);
        all.sort_unstable();
        let before = all.len();
        all.dedup();
        assert_eq!(all.len(), before, "a record was delivered twice");
        assert!(lost.load(Ordering::Relaxed) > 0 || cfg!(miri));
        assert_eq!(q.used_bytes(), 0);
    }
}
