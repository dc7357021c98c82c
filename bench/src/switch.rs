//! One global `log` logger for the whole process that forwards each record
//! to a per-thread target.
//!
//! The `log` facade accepts one global logger per process, but the harness
//! builds a fresh jamless logger (fresh file, fresh counters) for every
//! run. [`install`] sets a [`Switch`] as the global logger once; each
//! producer thread then chooses where its records go with [`set_target`].
//! The switch costs one thread-local access and one indirect call per
//! record, the same for jamless and for the baselines, so the difference
//! between them is jamless's own cost.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

/// Where this thread's `log` records go.
#[derive(Clone, Default)]
pub enum Target {
    /// Nowhere: the records are ignored (nothing installed yet).
    #[default]
    Nothing,
    /// A `log::Log` that reads the record and formats nothing.
    Noop,
    /// A `log::Log` that formats the message into a reused buffer and
    /// discards it: the cost of formatting alone.
    FormatOnly,
    /// A jamless adapter (from `Logger::log_adapter`).
    Jamless(Arc<jamless::LogAdapter>),
}

thread_local! {
    static TARGET: RefCell<Target> = const { RefCell::new(Target::Nothing) };
    static SCRATCH: RefCell<String> = RefCell::new(String::with_capacity(512));
}

/// The process-wide `log::Log` that forwards to this thread's [`Target`].
#[derive(Debug)]
pub struct Switch;

static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();

/// Installs the [`Switch`] as the global `log` logger (once per process)
/// with a maximum level of `Info`. Fails if another global logger was set
/// first.
pub fn install() -> Result<(), String> {
    INSTALLED
        .get_or_init(|| {
            log::set_logger(&Switch).map_err(|e| format!("cannot install the log switch: {e}"))?;
            log::set_max_level(log::LevelFilter::Info);
            Ok(())
        })
        .clone()
}

/// Sends this thread's `log` records to `target` from now on.
pub fn set_target(target: Target) {
    TARGET.with(|t| *t.borrow_mut() = target);
}

impl log::Log for Switch {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    #[inline]
    fn log(&self, record: &log::Record<'_>) {
        TARGET.with(|t| match &*t.borrow() {
            Target::Nothing => {}
            Target::Noop => log::Log::log(&NoopLog, record),
            Target::FormatOnly => log::Log::log(&FormatLog, record),
            Target::Jamless(a) => log::Log::log(&**a, record),
        });
    }

    fn flush(&self) {}
}

/// A `log::Log` that does nothing with the record: the floor any logger
/// pays for the facade (macro, level check, dispatch).
#[derive(Debug, Clone, Copy)]
pub struct NoopLog;

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

/// A `log::Log` that formats the message (`record.args()`) into a reused
/// thread-local buffer and then discards it: what formatting alone costs.
#[derive(Debug, Clone, Copy)]
pub struct FormatLog;

impl log::Log for FormatLog {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    #[inline(never)]
    fn log(&self, record: &log::Record<'_>) {
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            s.clear();
            // Writing into a String cannot fail (`fmt::Write`, as most
            // loggers format).
            let _ = s.write_fmt(*record.args());
            std::hint::black_box(&*s);
        });
    }

    fn flush(&self) {}
}
