//! One module per peer; [`init`] picks one by name.
//!
//! Every module has `pub fn info() -> PeerInfo` and
//! `pub fn init(setup: &Setup) -> Result<Box<dyn Peer>, String>`. To add a
//! peer, add its `mod` line and one line to each list below. (Module names
//! shadow the crates they wrap here, so adapters name their crate as
//! `::crate_name`.)

use crate::peer::{Peer, PeerInfo, Setup};

mod fast_log;
mod ftlog;
mod logforth;
mod slog;
mod spdlog;

mod flexi_logger;
mod jamless;
mod jamless_native;
mod log4rs;
mod low_latency_log;
mod noop;
mod ticklog;
mod tracing_appender;

/// Every peer, in table order.
pub fn all() -> Vec<PeerInfo> {
    vec![
        noop::info(),
        jamless::info(),
        jamless_native::info(),
        ticklog::info(),
        low_latency_log::info(),
        tracing_appender::info(),
        log4rs::info(),
        flexi_logger::info(),
        fast_log::info(),
        ftlog::info(),
        spdlog::info(),
        slog::info(),
        logforth::info(),
    ]
}

/// Installs the named peer for `setup`.
pub fn init(name: &str, setup: &Setup) -> Result<Box<dyn Peer>, String> {
    match name {
        "noop" => noop::init(setup),
        "jamless" => jamless::init(setup),
        "jamless-native" => jamless_native::init(setup),
        "ticklog" => ticklog::init(setup),
        "low_latency_log" => low_latency_log::init(setup),
        "tracing-appender" => tracing_appender::init(setup),
        "log4rs" => log4rs::init(setup),
        "flexi_logger" => flexi_logger::init(setup),
        "fast_log" => fast_log::init(setup),
        "ftlog" => ftlog::init(setup),
        "spdlog-rs" => spdlog::init(setup),
        "slog" => slog::init(setup),
        "logforth" => logforth::init(setup),
        _ => Err(format!("unknown peer {name}")),
    }
}

/// The `took_us` argument of the benchmark record.
pub const TOOK_US: u32 = 1234;

/// The benchmark record through the `log` facade: the call every peer that
/// is a `log` backend makes, written once so that they all run the same
/// code. `target` is the calling adapter's `module_path!()`, as if each had
/// written the macro itself.
#[inline(always)]
pub(crate) fn log_facade_record(target: &'static str, seq: u64, proc_id: u32, thread: u32) {
    log::info!(
        target: target,
        "request id={} proc={} thread={} took_us={}",
        seq,
        proc_id,
        thread,
        TOOK_US
    );
}
