//! The queue capacity a builder accepts is the capacity the logger gets:
//! rounded up to a power of two, and refused (not silently changed) when
//! the queue cannot hold it.

mod common;

use common::MemorySink;

use jamless::{Builder, MIN_CAPACITY};

/// The largest queue: 1 GiB.
const MAX: usize = 1 << 30;

#[test]
fn capacities_the_queue_cannot_honour_are_refused() {
    for capacity in [
        0,
        MIN_CAPACITY - 1,
        MAX + 1,
        (MAX * 3 / 2) & !7,
        2 << 30,
        3 << 30,
        4 << 30,
        usize::MAX,
    ] {
        let err = Builder::new()
            .sink(MemorySink::new())
            .capacity_bytes(capacity)
            .build()
            .err()
            .unwrap_or_else(|| panic!("capacity {capacity} was accepted"));
        assert!(err.is_config(), "{capacity}: {err}");
        let text = err.to_string();
        assert!(
            text.contains("1073741824") && text.contains(&MIN_CAPACITY.to_string()),
            "{capacity}: the error names the limits: {text}"
        );
        assert!(text.contains(&capacity.to_string()), "{text}");
    }
}

#[test]
fn accepted_capacities_are_rounded_up_to_a_power_of_two() {
    for (asked, got) in [
        (MIN_CAPACITY, MIN_CAPACITY),
        (100_000, 131_072),
        (1 << 20, 1 << 20),
        ((1 << 20) + 1, 2 << 20),
    ] {
        let (logger, _guard) = Builder::new()
            .sink(MemorySink::new())
            .capacity_bytes(asked)
            .build()
            .unwrap();
        assert_eq!(logger.health().queue_capacity_bytes, got as u64, "{asked}");
    }
}
