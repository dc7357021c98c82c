//! The optional panic hook logs the panic and flushes before the previous
//! hook runs. (Its own test binary: a panic hook is process-wide.)

mod common;

use std::time::Duration;

use common::{settle, MemorySink};
use jamless::Builder;

#[test]
fn a_panic_is_logged_and_flushed() {
    let sink = MemorySink::new();
    let (logger, _guard) = Builder::new().sink(sink.clone()).build().unwrap();
    logger.install_panic_hook(Duration::from_secs(5));
    let joined = std::thread::Builder::new()
        .name("doomed".into())
        .spawn(|| panic!("boom 42"))
        .unwrap()
        .join();
    assert!(joined.is_err());
    // The hook flushed already; the line is there without another flush.
    let lines = sink.lines();
    let line = lines
        .iter()
        .find(|l| l.contains("boom 42"))
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert!(line.contains("ERROR"), "{line}");
    assert!(line.contains("panic"), "{line}");
    let h = settle(&logger);
    assert_eq!(h.written, 1);
}
