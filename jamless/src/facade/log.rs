//! The `log` facade adapter.
//!
//! [`LogAdapter`] implements [`log::Log`]: it filters with the logger's
//! `RUST_LOG`-style directives (the `env_filter` crate, as `env_logger`
//! does), then encodes the record on the caller's thread — the formatted
//! message and the key-values as typed fields into the thread's reusable
//! buffer — and offers it to the queue, which takes the level, target,
//! module path, file and line straight from the `log::Record`. A record the
//! filter rejects is neither encoded nor offered.

use std::time::Duration;

use log::kv::{self, VisitSource, VisitValue};

use crate::error::Error;
use crate::level::Level;
use crate::live::NOT_EXACT;
use crate::logger::Logger;
use crate::record::{Encoder, Kind, Site, Value};

/// How long [`log::Log::flush`] waits for the writer.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(1);

/// A [`log::Log`] that sends records to a [`Logger`].
///
/// Obtain one from [`Logger::log_adapter`] to compose it with other
/// loggers, or let [`Logger::install_log`] install it as the global logger.
///
/// * Filtering uses the logger's directives (see [`crate::Builder::filter`])
///   in the `RUST_LOG` syntax of `env_logger`: `info,my_crate::db=debug`.
///   Checking a disabled record compares its level and target with the
///   directives and does nothing else (directives that are one global
///   level, like the default `info`, cost one comparison). A `/regex`
///   message filter, if the directives carry one, formats the message a
///   second time (into a temporary `String`) to match it; avoid it on hot
///   paths.
/// * Key-values (`log::info!(user_id = 42; "login")`) become typed fields:
///   integers, floats, booleans and strings keep their type, anything else
///   is written with its `Display`.
/// * [`log::Log::flush`] waits up to one second for the writer (see
///   [`Logger::flush`] for a chosen deadline).
#[derive(Debug)]
pub struct LogAdapter {
    logger: Logger,
}

/// The logger's directives parsed for the `log` facade.
#[derive(Debug)]
pub(crate) struct LogFilter {
    filter: env_filter::Filter,
    /// The directives carry a `/regex` message filter.
    regex: bool,
    /// The directives are one global level (`info`): the check is then one
    /// comparison instead of a call into the filter.
    global: Option<log::LevelFilter>,
    /// The most verbose level any directive enables.
    pub(crate) max: log::LevelFilter,
}

impl LogFilter {
    /// The level the directives come down to when they are one global
    /// level without a `/regex`.
    pub(crate) fn exact(&self) -> Option<log::LevelFilter> {
        if self.regex {
            None
        } else {
            self.global
        }
    }

    /// Whether the directives let `level` from `target` through (the
    /// `/regex` part, which needs a message, is not asked).
    pub(crate) fn enabled(&self, level: Level, target: &str) -> bool {
        let level = match level {
            Level::Error => log::Level::Error,
            Level::Warn => log::Level::Warn,
            Level::Info => log::Level::Info,
            Level::Debug => log::Level::Debug,
            Level::Trace => log::Level::Trace,
        };
        self.filter
            .enabled(&log::Metadata::builder().level(level).target(target).build())
    }

    /// Parses `RUST_LOG`-style directives, reporting any error.
    pub(crate) fn parse(spec: &str) -> Result<LogFilter, Error> {
        let (filter, global) = log_filter_parts(spec)?;
        Ok(LogFilter {
            max: filter.filter(),
            filter,
            regex: spec.contains('/'),
            global,
        })
    }
}

/// A `log::LevelFilter` from its number (0: off, 5: trace).
pub(crate) fn level_filter_from_u8(n: u8) -> log::LevelFilter {
    match n {
        0 => log::LevelFilter::Off,
        1 => log::LevelFilter::Error,
        2 => log::LevelFilter::Warn,
        3 => log::LevelFilter::Info,
        4 => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    }
}

impl LogAdapter {
    /// The most verbose level any directive enables: the value for
    /// [`log::set_max_level`] when this adapter is the global logger. It
    /// follows [`Logger::set_filter`].
    pub fn max_level(&self) -> log::LevelFilter {
        level_filter_from_u8(self.max_u8())
    }

    /// [`LogAdapter::max_level`] as a number (one relaxed load).
    #[inline]
    pub(crate) fn max_u8(&self) -> u8 {
        self.logger
            .core
            .live
            .facade_max
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl LogAdapter {
    #[inline]
    pub(crate) fn allows(&self, metadata: &log::Metadata<'_>) -> bool {
        self.logger
            .allows(Level::from(metadata.level()), metadata.target())
    }

    /// The level the directives come down to, if they are one global
    /// level without a `/regex`; else [`NOT_EXACT`] (one relaxed load).
    #[inline]
    fn exact_u8(&self) -> u8 {
        self.logger
            .core
            .live
            .facade_exact
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether `record` passes the directives, `/regex` included: the
    /// atomics decide the usual filters (as in [`LogAdapter::allows`]);
    /// other directives are loaded once and asked once.
    #[inline]
    fn passes(&self, record: &log::Record<'_>) -> bool {
        let metadata = record.metadata();
        if metadata.level() as u8 > self.max_u8() {
            return false;
        }
        match self.exact_u8() {
            // `matches` checks the level and target too, then formats the
            // message into a String for the regex; only when there is one.
            NOT_EXACT => self.current(|f| {
                if f.regex {
                    f.filter.matches(record)
                } else {
                    match f.global {
                        Some(max) => metadata.level() <= max,
                        None => f.filter.enabled(metadata),
                    }
                }
            }),
            exact => metadata.level() as u8 <= exact,
        }
    }

    /// Asks the current filter; `false` if the directives did not parse.
    #[inline]
    fn current(&self, ask: impl FnOnce(&LogFilter) -> bool) -> bool {
        self.logger
            .core
            .live
            .facade
            .load()
            .log
            .as_ref()
            .is_some_and(ask)
    }

    /// The directives carry a `/regex` message filter (no load of the
    /// filter when they are one global level).
    #[inline]
    pub(crate) fn has_regex(&self) -> bool {
        self.exact_u8() == NOT_EXACT && self.current(|f| f.regex)
    }

    /// Whether a record passes the directives, `/regex` included.
    pub(crate) fn matches(&self, record: &log::Record<'_>) -> bool {
        self.current(|f| f.filter.matches(record))
    }

    /// The logger records go to.
    #[inline]
    pub(crate) fn logger(&self) -> &Logger {
        &self.logger
    }
}

impl log::Log for LogAdapter {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        self.allows(metadata)
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.passes(record) {
            return;
        }
        let level = Level::from(record.level());
        self.logger
            .core
            .submit(level, Kind::Event, site(record), |enc| {
                encode_record(enc, record)
            });
    }

    fn flush(&self) {
        // The facade has no way to report the outcome; the health snapshot
        // shows what was not written.
        let _ = self.logger.flush(FLUSH_TIMEOUT);
    }
}

/// Where a `log` record comes from.
#[inline]
pub(crate) fn site<'a>(record: &log::Record<'a>) -> Site<'a> {
    Site {
        target: record.target(),
        module_path: record.module_path().unwrap_or(""),
        file: record.file().unwrap_or(""),
        line: record.line(),
    }
}

/// Encodes the body of one `log` record: the formatted message, then the
/// key-values as fields.
#[inline]
pub(crate) fn encode_record(enc: &mut Encoder<'_>, record: &log::Record<'_>) {
    enc.message_fmt(*record.args());
    encode_fields(enc, record.key_values());
}

/// Encodes key-values as fields (of a `log` record, or of a native call).
#[inline]
pub(crate) fn encode_fields(enc: &mut Encoder<'_>, kvs: &dyn kv::Source) {
    // Our visitors never fail; an error can only come from a source that
    // gave up half-way, and the pairs visited so far are kept.
    let _ = kvs.visit(&mut Pairs(enc));
}

/// Visits key-value pairs into fields.
struct Pairs<'e, 'b>(&'e mut Encoder<'b>);

impl<'kvs> VisitSource<'kvs> for Pairs<'_, '_> {
    fn visit_pair(&mut self, key: kv::Key<'kvs>, value: kv::Value<'kvs>) -> Result<(), kv::Error> {
        let _ = value.visit(Pair {
            enc: &mut *self.0,
            key: key.as_str(),
        });
        Ok(())
    }
}

/// Visits one value into a typed field.
struct Pair<'e, 'b, 'k> {
    enc: &'e mut Encoder<'b>,
    key: &'k str,
}

impl<'v> VisitValue<'v> for Pair<'_, '_, '_> {
    fn visit_any(&mut self, value: kv::Value<'_>) -> Result<(), kv::Error> {
        self.enc.field_fmt(self.key, format_args!("{value}"));
        Ok(())
    }

    fn visit_u64(&mut self, value: u64) -> Result<(), kv::Error> {
        self.enc.field(self.key, Value::U64(value));
        Ok(())
    }

    fn visit_i64(&mut self, value: i64) -> Result<(), kv::Error> {
        self.enc.field(self.key, Value::I64(value));
        Ok(())
    }

    fn visit_u128(&mut self, value: u128) -> Result<(), kv::Error> {
        match u64::try_from(value) {
            Ok(v) => self.enc.field(self.key, Value::U64(v)),
            Err(_) => self.enc.field_fmt(self.key, format_args!("{value}")),
        }
        Ok(())
    }

    fn visit_i128(&mut self, value: i128) -> Result<(), kv::Error> {
        match i64::try_from(value) {
            Ok(v) => self.enc.field(self.key, Value::I64(v)),
            Err(_) => self.enc.field_fmt(self.key, format_args!("{value}")),
        }
        Ok(())
    }

    fn visit_f64(&mut self, value: f64) -> Result<(), kv::Error> {
        self.enc.field(self.key, Value::F64(value));
        Ok(())
    }

    fn visit_bool(&mut self, value: bool) -> Result<(), kv::Error> {
        self.enc.field(self.key, Value::Bool(value));
        Ok(())
    }

    fn visit_str(&mut self, value: &str) -> Result<(), kv::Error> {
        self.enc.field(self.key, Value::Str(value.as_bytes()));
        Ok(())
    }
}

/// The level of directives that are one global level and nothing else
/// (`info`, `WARN`, `off`), as `env_filter` reads them; `None` for anything
/// with a module, several directives or a regex.
fn global_level(spec: &str) -> Option<log::LevelFilter> {
    if spec.contains([',', '=', '/']) {
        return None;
    }
    spec.trim().parse().ok()
}

/// Parses `RUST_LOG`-style directives, reporting any error.
fn parse_filter(spec: &str) -> Result<env_filter::Filter, Error> {
    let mut builder = env_filter::Builder::new();
    builder
        .try_parse(spec)
        .map_err(|e| Error::config(format!("invalid filter {spec:?}: {e}")))?;
    Ok(builder.build())
}

/// The filter of a [`LogAdapter`] and the one global level it checks
/// instead, if the directives are just that.
pub(crate) fn log_filter_parts(
    spec: &str,
) -> Result<(env_filter::Filter, Option<log::LevelFilter>), Error> {
    Ok((parse_filter(spec)?, global_level(spec)))
}

impl Logger {
    /// A [`log::Log`] adapter filtering with this logger's directives.
    ///
    /// Fails with a configuration error (see [`Error::is_config`]) if the
    /// directives do not parse (an unknown level, a bad `/regex`).
    ///
    /// The adapter follows [`Logger::set_filter`] and configuration
    /// reloads: it reads the logger's current filter on every call.
    pub fn log_adapter(&self) -> Result<LogAdapter, Error> {
        let current = self.core.live.facade.load();
        if current.log.is_none() {
            // Report why the directives do not parse.
            LogFilter::parse(&current.spec)?;
        }
        Ok(LogAdapter {
            logger: self.clone(),
        })
    }

    /// Installs this logger as the `log` facade's global logger and sets
    /// the facade's maximum level from the directives, so that disabled
    /// `log::debug!` calls cost one atomic load. Also installs it for
    /// jamless's native macros (see [`Logger::install_native`]) unless they
    /// already have a global logger.
    ///
    /// Fails with [`Error::is_already_installed`] if a global `log` logger
    /// was already set (by this or any other library), and with
    /// [`Error::is_config`] if the directives do not parse.
    ///
    /// ```no_run
    /// let (logger, _guard) = jamless::Builder::new()
    ///     .file("logs/app.log")
    ///     .filter("info,my_app::db=debug")
    ///     .build()?;
    /// logger.install_log()?;
    /// log::info!(user_id = 42, admin = false; "login from {}", "10.0.0.7");
    /// # Ok::<(), jamless::Error>(())
    /// ```
    ///
    /// [`Logger::set_filter`] then also sets the facade's maximum level.
    pub fn install_log(&self) -> Result<(), Error> {
        let adapter = self.log_adapter()?;
        {
            let live = &self.core.live;
            let _changing = live.lock();
            log::set_boxed_logger(Box::new(adapter))
                .map_err(|_| Error::already_installed("log"))?;
            live.log_global
                .store(true, std::sync::atomic::Ordering::Relaxed);
            log::set_max_level(level_filter_from_u8(
                live.facade_max.load(std::sync::atomic::Ordering::Relaxed),
            ));
        }
        crate::native::call::install_if_unset(self)
    }
}

#[cfg(test)]
#[path = "log_tests.rs"]
mod tests;
