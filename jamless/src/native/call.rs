//! The caller's side of a native call: which logger, whether the filter
//! lets the call through, and the record handed to the logger's `submit`
//! (the same admission, counting and queue as the `log` facade's records).

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

use log::kv;

use crate::error::Error;
use crate::facade::LogAdapter;
use crate::level::Level;
use crate::logger::Logger;
use crate::record::{Encoder, Kind, Site, NATIVE_ID_LEN};

use super::args::{ArgEncoder, Decoder};
use super::site::CallSite;

/// The global logger of the native macros, with its parsed directives.
static GLOBAL: OnceLock<LogAdapter> = OnceLock::new();

/// The most verbose level the global logger's directives enable (a
/// `log::LevelFilter` as a number: 0 is off, and stays so while no logger
/// is installed, so that a call without one costs one load and compare).
static MAX_LEVEL: AtomicU8 = AtomicU8::new(0);

/// What the submission needs of the call site: the target, for the
/// logger's filter (a Native record's head stores none of the site's
/// strings: the dispatcher and the writer find them by the site's id).
fn head_site(site: &CallSite) -> Site<'static> {
    Site {
        target: site.target(),
        module_path: "",
        file: "",
        line: None,
    }
}

fn log_level(level: Level) -> log::Level {
    match level {
        Level::Error => log::Level::Error,
        Level::Warn => log::Level::Warn,
        Level::Info => log::Level::Info,
        Level::Debug => log::Level::Debug,
        Level::Trace => log::Level::Trace,
    }
}

/// The global logger, if one is installed and `level` is not above every
/// directive's level.
#[inline(always)]
pub fn global_enabled(level: Level) -> Option<&'static LogAdapter> {
    // Relaxed: a call racing with the installation may miss it, as a
    // `log::info!` racing with `log::set_max_level` may.
    if level as u8 <= MAX_LEVEL.load(Ordering::Relaxed) {
        GLOBAL.get()
    } else {
        None
    }
}

/// `adapter`, unless `level` is above every directive's level.
#[inline]
pub fn explicit_enabled(level: Level, adapter: &LogAdapter) -> Option<&LogAdapter> {
    if level as u8 <= adapter.max_u8() {
        Some(adapter)
    } else {
        None
    }
}

/// Filters a native call with the logger's directives, as the `log`
/// adapter filters a `log` record, and submits it.
#[inline]
pub fn submit(
    adapter: &LogAdapter,
    site: &'static CallSite,
    kvs: &[(kv::Key<'_>, kv::Value<'_>)],
    encode: impl FnOnce(&mut ArgEncoder<'_>),
) {
    let level = site.level();
    let metadata = log::Metadata::builder()
        .level(log_level(level))
        .target(site.target())
        .build();
    if !adapter.allows(&metadata) {
        return;
    }
    if adapter.has_regex() {
        return submit_matching(adapter, site, kvs, encode);
    }
    let id = site.id();
    adapter
        .logger()
        .core
        .submit(level, Kind::Native, head_site(site), |enc| {
            let buf = enc.message_buf();
            buf.extend_from_slice(&id.to_le_bytes());
            encode(&mut ArgEncoder::new(buf));
            fields(enc, kvs);
        });
}

#[inline]
fn fields(enc: &mut Encoder<'_>, kvs: &[(kv::Key<'_>, kv::Value<'_>)]) {
    if !kvs.is_empty() {
        crate::facade::encode_fields(enc, &kvs);
    }
}

/// [`submit`] when the directives carry a `/regex` message filter: the
/// message is formatted on the caller to match it (as the `log` adapter
/// does), and the record is submitted only if it matches.
#[cold]
#[inline(never)]
fn submit_matching(
    adapter: &LogAdapter,
    site: &'static CallSite,
    kvs: &[(kv::Key<'_>, kv::Value<'_>)],
    encode: impl FnOnce(&mut ArgEncoder<'_>),
) {
    let mut args = Vec::new();
    encode(&mut ArgEncoder::new(&mut args));
    let mut message = String::new();
    // A failure renders what the writer would render; it cannot matter
    // more to the regex than to the line.
    let _ = site.render(&mut Decoder::new(&args), &mut message);
    let s = site.site();
    let matches = adapter.matches(
        &log::Record::builder()
            .args(format_args!("{message}"))
            .level(log_level(site.level()))
            .target(s.target)
            .module_path_static(Some(s.module_path))
            .file_static(Some(s.file))
            .line(s.line)
            .build(),
    );
    if !matches {
        return;
    }
    let id = site.id();
    adapter
        .logger()
        .core
        .submit(site.level(), Kind::Native, head_site(site), |enc| {
            let buf = enc.message_buf();
            buf.reserve(NATIVE_ID_LEN + args.len());
            buf.extend_from_slice(&id.to_le_bytes());
            buf.extend_from_slice(&args);
            fields(enc, kvs);
        });
}

impl Logger {
    /// Makes this logger the one jamless's native macros
    /// ([`crate::info!`] and its siblings) log to, filtering with its
    /// directives as [`Logger::install_log`] does. [`Logger::install_log`]
    /// calls it too, so one call sets up both the `log` facade and the
    /// macros.
    ///
    /// Fails with [`Error::is_already_installed`] if the macros already
    /// have a global logger (it cannot be replaced), and with
    /// [`Error::is_config`] if the directives do not parse.
    ///
    /// ```no_run
    /// let (logger, _guard) = jamless::Builder::new().file("logs/app.log").build()?;
    /// logger.install_native()?;
    /// jamless::info!("request id={} status={}", 42, 200);
    /// # Ok::<(), jamless::Error>(())
    /// ```
    ///
    /// [`Logger::set_filter`] then also updates the macros' cached level.
    pub fn install_native(&self) -> Result<(), Error> {
        let adapter = self.log_adapter()?;
        let live = &self.core.live;
        let _changing = live.lock();
        GLOBAL
            .set(adapter)
            .map_err(|_| Error::already_installed("jamless native macros"))?;
        live.native_global.store(true, Ordering::Relaxed);
        // The adapter itself is published by the OnceLock (a call that
        // sees this level and then the lock finds it set).
        MAX_LEVEL.store(live.facade_max.load(Ordering::Relaxed), Ordering::Release);
        Ok(())
    }
}

/// Sets the native macros' cached level (after the global logger's
/// filter changed; the caller holds the logger's change lock).
pub(crate) fn set_global_max_level(max: u8) {
    MAX_LEVEL.store(max, Ordering::Release);
}

/// [`Logger::install_native`] unless the macros already have a global
/// logger (for [`Logger::install_log`], which installs both).
pub(crate) fn install_if_unset(logger: &Logger) -> Result<(), Error> {
    if GLOBAL.get().is_some() {
        return Ok(());
    }
    match logger.install_native() {
        Err(e) if e.is_already_installed() => Ok(()),
        other => other,
    }
}
