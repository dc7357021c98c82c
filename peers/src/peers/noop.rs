//! The baseline: `log::info!` into a `log::Log` that does nothing with the
//! record (as `bench/src/switch.rs`'s `NoopLog`): the floor every `log`
//! based peer pays for the macro, the level check and the dispatch.

use crate::peer::{Finish, Peer, PeerInfo, Setup};

/// Facts for the tables.
pub fn info() -> PeerInfo {
    PeerInfo {
        name: "noop",
        version: "log 0.4.35",
        settings: "baseline: log::info! into a log::Log whose log() only black_boxes the record; \
                   writes nothing",
        non_blocking: true,
        fastest_rotation: None,
        counts_drops: false,
    }
}

struct NoopLog;

impl log::Log for NoopLog {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    #[inline(never)]
    fn log(&self, record: &log::Record<'_>) {
        std::hint::black_box(record);
    }

    fn flush(&self) {}
}

static NOOP: NoopLog = NoopLog;

struct Noop;

/// Installs the no-op logger as the global `log` logger.
pub fn init(_setup: &Setup) -> Result<Box<dyn Peer>, String> {
    log::set_logger(&NOOP).map_err(|e| format!("set_logger: {e}"))?;
    log::set_max_level(log::LevelFilter::Info);
    Ok(Box::new(Noop))
}

impl Peer for Noop {
    fn log(&self, seq: u64, proc_id: u32, thread: u32) {
        super::log_facade_record(module_path!(), seq, proc_id, thread);
    }

    fn finish(self: Box<Self>) -> Finish {
        Finish::default()
    }
}
