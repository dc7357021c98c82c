//! The measured call: one typical request log line with four arguments,
//! written the way each API spells it.

use jamless::{Level, LogAdapter, Logger, Outcome};

/// The request path every call logs.
pub const PATH: &str = "/v1/items";

/// Which API a producer thread calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Api {
    /// `log::info!` into a `log::Log` that does nothing.
    Noop,
    /// `log::info!` into a `log::Log` that only formats the message.
    FormatOnly,
    /// `log::info!` into jamless's `log` adapter.
    Log,
    /// `Logger::log` with `format_args!`, no facade.
    Api,
    /// `tracing::info!` into `registry().with(logger.tracing_layer())`.
    Tracing,
    /// `jamless::info!` (the native macro, deferred formatting) into an
    /// explicit jamless logger.
    Native,
    /// Nothing: the timed loop around an empty call, the baseline the
    /// native macro is compared with.
    Empty,
}

impl Api {
    /// Whether the calls reach a jamless logger.
    pub fn uses_jamless(self) -> bool {
        matches!(self, Api::Log | Api::Api | Api::Tracing | Api::Native)
    }
}

/// `log::info!` with four arguments (through whatever global logger is
/// installed).
#[inline(always)]
pub fn log_facade(id: u64) {
    log::info!(
        "request id={} path={} status={} took_us={}",
        id,
        PATH,
        200,
        1234
    );
}

/// The same record through [`Logger::log`].
#[inline(always)]
pub fn logger_api(logger: &Logger, id: u64) -> Outcome {
    logger.log(
        Level::Info,
        "jamless_bench::call",
        format_args!(
            "request id={} path={} status={} took_us={}",
            id, PATH, 200, 1234
        ),
    )
}

/// The same record through jamless's native macro (arguments copied raw,
/// the writer formats).
#[inline(always)]
pub fn native_macro(adapter: &LogAdapter, id: u64) {
    jamless::info!(
        logger: adapter,
        "request id={} path={} status={} took_us={}",
        id,
        PATH,
        200,
        1234
    );
}

/// The same event as `tracing` fields (through the thread's default
/// subscriber).
#[inline(always)]
pub fn tracing_event(id: u64) {
    let path = PATH;
    let status: u64 = 200;
    let took_us: u64 = 1234;
    tracing::info!(id, path, status, took_us, "request");
}
