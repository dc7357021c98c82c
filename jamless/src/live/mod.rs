//! Filters and formats that change while the logger runs.
//!
//! Every filter a caller checks sits behind an [`ArcSwap`]: a caller loads
//! the current one (no lock, no syscall) and a change builds a whole new
//! filter and swaps it in. A change is parsed completely before anything
//! is swapped, so a bad one changes nothing. Changes are serialised by a
//! mutex that only the changers take.
//!
//! * The logger's filter (the facades' directives) is one [`FacadeFilter`]
//!   holding the parsed `log` and `tracing` filters, with its most verbose
//!   level mirrored in an atomic for the one-load disabled check. After a
//!   change, the `log` facade's maximum level, the native macros' cached
//!   level and `tracing`'s callsite interest cache are refreshed.
//! * A pipeline's filter is swapped in that pipeline, then the union the
//!   callers check ([`Routes`]) is rebuilt and swapped, its most verbose
//!   level mirrored in an atomic too.
//! * A pipeline's format goes to its thread, which takes it before its next
//!   batch (see [`PendingFormat`]).

#[cfg(feature = "log")]
use std::sync::atomic::AtomicBool;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;

use arc_swap::ArcSwap;

use crate::error::Error;
use crate::logger::Logger;
use crate::pipeline::{Directives, PipelineShared, Routes};
use crate::render::{Format, Renderer};

mod pending;

pub(crate) use pending::PendingFormat;

/// The logger's own directives, parsed for each facade.
pub(crate) struct FacadeFilter {
    /// The directives as given (`RUST_LOG` syntax).
    pub(crate) spec: String,
    /// The `log` facade's (and native macros') filter; `None` when the
    /// directives do not parse (the adapter then refuses to be made).
    #[cfg(feature = "log")]
    pub(crate) log: Option<crate::facade::LogFilter>,
    /// The `tracing` layer's filter; `None` when the directives do not
    /// parse.
    #[cfg(feature = "tracing")]
    pub(crate) tracing: Option<tracing_subscriber::EnvFilter>,
}

impl FacadeFilter {
    /// Parses `spec` for every facade; fails if any of them refuses it.
    pub(crate) fn parse(spec: &str) -> Result<FacadeFilter, Error> {
        Ok(FacadeFilter {
            spec: spec.to_string(),
            #[cfg(feature = "log")]
            log: Some(crate::facade::LogFilter::parse(spec)?),
            #[cfg(feature = "tracing")]
            tracing: Some(crate::facade::parse_tracing_filter(spec)?),
        })
    }

    /// Parses `spec`, keeping what parses (a logger may be built with
    /// directives that a facade refuses; that facade's adapter then fails
    /// to be made, with the parse error).
    pub(crate) fn lenient(spec: &str) -> FacadeFilter {
        FacadeFilter {
            spec: spec.to_string(),
            #[cfg(feature = "log")]
            log: crate::facade::LogFilter::parse(spec).ok(),
            #[cfg(feature = "tracing")]
            tracing: crate::facade::parse_tracing_filter(spec).ok(),
        }
    }

    /// The level `L` when the `log` filter is exactly "records up to `L`"
    /// (one global level, no `/regex`), as a `log::LevelFilter` number;
    /// [`NOT_EXACT`] otherwise.
    fn exact(&self) -> u8 {
        #[cfg(feature = "log")]
        {
            self.log
                .as_ref()
                .and_then(crate::facade::LogFilter::exact)
                .map_or(NOT_EXACT, |l| l as u8)
        }
        #[cfg(not(feature = "log"))]
        {
            NOT_EXACT
        }
    }

    /// The most verbose level the `log` filter enables, as a
    /// `log::LevelFilter` number (0: off).
    fn max(&self) -> u8 {
        #[cfg(feature = "log")]
        {
            self.log.as_ref().map_or(0, |f| f.max as u8)
        }
        #[cfg(not(feature = "log"))]
        {
            0
        }
    }
}

/// In an `*_exact` mirror: the filter needs more than a level comparison.
pub(crate) const NOT_EXACT: u8 = u8::MAX;

/// The logger's changeable filters.
///
/// Each filter is mirrored in atomics so that the usual filters cost a
/// caller no [`ArcSwap::load`]: `*_max` rejects a level no directive takes,
/// and `*_exact`, when the filter is one level for every target, decides
/// alone. Each mirror holds a whole value of the old or of the new filter,
/// so a caller racing a change decides by one or the other.
pub(crate) struct Live {
    /// The union of the pipelines' filters, checked by every caller.
    pub(crate) routes: ArcSwap<Routes>,
    /// `routes`' most verbose level (a [`crate::Level`] number, 0: none): a
    /// record above it is refused with one relaxed load.
    pub(crate) routes_max: AtomicU8,
    /// `routes`' level when every pipeline's filter is one global level (a
    /// [`crate::Level`] number), else [`NOT_EXACT`].
    pub(crate) routes_exact: AtomicU8,
    /// The logger's directives for the facades.
    pub(crate) facade: ArcSwap<FacadeFilter>,
    /// `facade`'s most verbose `log` level (a `log::LevelFilter` number):
    /// the disabled check is one relaxed load of it.
    pub(crate) facade_max: AtomicU8,
    /// `facade`'s level when its `log` filter is one global level without
    /// a `/regex` (a `log::LevelFilter` number), else [`NOT_EXACT`].
    pub(crate) facade_exact: AtomicU8,
    /// This logger is the `log` facade's global logger.
    #[cfg(feature = "log")]
    pub(crate) log_global: AtomicBool,
    /// This logger is the native macros' global logger.
    #[cfg(feature = "log")]
    pub(crate) native_global: AtomicBool,
    /// Held by whoever changes a filter or a format.
    pub(crate) changes: Mutex<()>,
    /// The configuration file last applied (built from or reloaded), held
    /// for the length of a reload.
    #[cfg(feature = "config")]
    pub(crate) applied: Mutex<Option<Box<crate::config::ConfigFile>>>,
}

impl Live {
    /// Whether at least one pipeline takes a record of `level` from
    /// `target`: one relaxed load for a level no pipeline takes, then the
    /// current routes.
    #[inline]
    pub(crate) fn wanted(&self, level: crate::level::Level, target: &str) -> bool {
        if level as u8 > self.routes_max.load(Ordering::Relaxed) {
            return false;
        }
        match self.routes_exact.load(Ordering::Relaxed) {
            NOT_EXACT => self.routes.load().wanted(level, target),
            exact => level as u8 <= exact,
        }
    }

    pub(crate) fn new(routes: Routes, facade: FacadeFilter) -> Live {
        Live {
            routes_max: AtomicU8::new(routes.max_u8()),
            routes_exact: AtomicU8::new(routes.exact_u8()),
            routes: ArcSwap::from_pointee(routes),
            facade_max: AtomicU8::new(facade.max()),
            facade_exact: AtomicU8::new(facade.exact()),
            facade: ArcSwap::from_pointee(facade),
            #[cfg(feature = "log")]
            log_global: AtomicBool::new(false),
            #[cfg(feature = "log")]
            native_global: AtomicBool::new(false),
            changes: Mutex::new(()),
            #[cfg(feature = "config")]
            applied: Mutex::new(None),
        }
    }

    /// The configuration last applied, locked for a reload.
    #[cfg(feature = "config")]
    pub(crate) fn applied_config(
        &self,
    ) -> std::sync::MutexGuard<'_, Option<Box<crate::config::ConfigFile>>> {
        self.applied.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Serialises changes. A changer that panicked left every swapped value
    /// whole, so a poisoned lock is taken as it is.
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.changes.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Logger {
    /// Whether the logger's filter directives in force (see
    /// [`crate::Builder::filter`]) let a record of `level` from `target`
    /// through, as the `log` facade and the native macros check them (a
    /// `/regex` part, which needs the message, is not asked).
    ///
    /// [`Logger::log`] and [`Logger::log_raw`] apply only the pipelines'
    /// filters; a caller that wants the logger's filter on its own records
    /// asks here first, as the `jamless` command does for every line. It
    /// costs one relaxed load for a level above every directive, two for a
    /// filter that is one level. Without the `log` feature every record
    /// passes.
    #[inline]
    pub fn allows(&self, level: crate::Level, target: &str) -> bool {
        #[cfg(feature = "log")]
        {
            let live = &self.core.live;
            // `Level` and `log::LevelFilter` number the levels alike
            // (1: error ... 5: trace).
            let n = level as u8;
            if n > live.facade_max.load(Ordering::Relaxed) {
                return false;
            }
            match live.facade_exact.load(Ordering::Relaxed) {
                NOT_EXACT => live
                    .facade
                    .load()
                    .log
                    .as_ref()
                    .is_some_and(|f| f.enabled(level, target)),
                exact => n <= exact,
            }
        }
        #[cfg(not(feature = "log"))]
        {
            let _ = (level, target);
            true
        }
    }

    /// The logger's filter directives in force (the facades' filter, see
    /// [`crate::Builder::filter`]).
    pub fn filter(&self) -> String {
        self.core.live.facade.load().spec.clone()
    }

    /// Replaces the logger's filter directives (`RUST_LOG` syntax) while
    /// it runs: for the `log` facade, the native macros and the `tracing`
    /// filter from [`Logger::tracing_filter`], callsites already cached
    /// included. Callers never wait for it: they load the current filter.
    ///
    /// Fails with a configuration error, changing nothing, if the
    /// directives do not parse.
    pub fn set_filter(&self, directives: &str) -> Result<(), Error> {
        let parsed = FacadeFilter::parse(directives)?;
        let live = &self.core.live;
        let _changing = live.lock();
        let max = parsed.max();
        let exact = parsed.exact();
        live.facade.store(std::sync::Arc::new(parsed));
        live.facade_exact.store(exact, Ordering::Relaxed);
        live.facade_max.store(max, Ordering::Relaxed);
        #[cfg(feature = "log")]
        {
            if live.log_global.load(Ordering::Relaxed) {
                log::set_max_level(crate::facade::level_filter_from_u8(max));
            }
            if live.native_global.load(Ordering::Relaxed) {
                crate::native::set_global_max_level(max);
            }
        }
        #[cfg(feature = "tracing")]
        tracing_core::callsite::rebuild_interest_cache();
        Ok(())
    }

    /// A pipeline's filter directives in force (`""`: every record the
    /// logger takes); `None` if there is no pipeline of that name.
    pub fn pipeline_filter(&self, pipeline: &str) -> Option<String> {
        self.pipeline_named(pipeline)
            .map(|p| p.filter.load().spec().to_string())
    }

    /// Replaces a pipeline's filter directives (see
    /// [`crate::Pipeline::filter`]) while the logger runs. Records already
    /// accepted keep the routing they had.
    ///
    /// Fails with a configuration error, changing nothing, if there is no
    /// such pipeline or the directives do not parse.
    pub fn set_pipeline_filter(&self, pipeline: &str, directives: &str) -> Result<(), Error> {
        let p = self.pipeline_or_error(pipeline)?;
        let parsed = Directives::parse(directives)?;
        let live = &self.core.live;
        let _changing = live.lock();
        p.filter.store(std::sync::Arc::new(parsed));
        let filters = self
            .core
            .common
            .pipelines
            .iter()
            .map(|p| Directives::clone(&p.filter.load()))
            .collect();
        let routes = Routes::new(filters);
        let (max, exact) = (routes.max_u8(), routes.exact_u8());
        live.routes.store(std::sync::Arc::new(routes));
        live.routes_exact.store(exact, Ordering::Relaxed);
        live.routes_max.store(max, Ordering::Relaxed);
        Ok(())
    }

    /// Replaces a pipeline's format while the logger runs: its thread
    /// renders every batch after the change with the new format (a batch
    /// being written keeps the old one).
    ///
    /// Fails with a configuration error, changing nothing, if there is no
    /// such pipeline or the format is invalid for it.
    pub fn set_pipeline_format(&self, pipeline: &str, format: &Format) -> Result<(), Error> {
        let p = self.pipeline_or_error(pipeline)?;
        let renderer = Renderer::new(format)?;
        let _changing = self.core.live.lock();
        p.pending_format.put(renderer);
        p.control.wake();
        Ok(())
    }

    pub(crate) fn pipeline_named(&self, name: &str) -> Option<&PipelineShared> {
        self.core
            .common
            .pipelines
            .iter()
            .find(|p| p.name == name)
            .map(|p| &**p)
    }

    fn pipeline_or_error(&self, name: &str) -> Result<&PipelineShared, Error> {
        self.pipeline_named(name).ok_or_else(|| {
            let names: Vec<&str> = self
                .core
                .common
                .pipelines
                .iter()
                .map(|p| p.name.as_str())
                .collect();
            Error::config(format!(
                "no pipeline named {name:?} (the pipelines are {names:?})"
            ))
        })
    }
}
