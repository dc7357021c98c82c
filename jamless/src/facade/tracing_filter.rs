//! The `tracing` per-layer filter that follows the logger's directives.
//!
//! [`JamlessFilter`] holds no directives of its own: each call loads the
//! logger's current [`EnvFilter`] and asks it. When the directives change
//! ([`Logger::set_filter`], a configuration reload) the logger rebuilds
//! `tracing`'s callsite interest cache, so callsites that cached "never"
//! or "always" ask again.

use tracing_core::subscriber::Interest;
use tracing_core::{span, LevelFilter, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;

use crate::error::Error;
use crate::logger::Logger;

/// A per-layer [`Filter`] for [`crate::JamlessLayer`] that filters with the
/// logger's directives as they are now (an `EnvFilter` underneath, so span
/// and field directives work). Obtain it from [`Logger::tracing_filter`].
///
/// A change of directives applies to spans entered after it; a span that
/// was entered before keeps the matching state the old directives gave it
/// only for directives on span fields.
#[derive(Debug, Clone)]
pub struct JamlessFilter {
    logger: Logger,
}

impl JamlessFilter {
    fn with<R>(&self, f: impl FnOnce(&tracing_subscriber::EnvFilter) -> R, none: R) -> R {
        match &self.logger.core.live.facade.load().tracing {
            Some(filter) => f(filter),
            None => none,
        }
    }
}

impl<S> Filter<S> for JamlessFilter
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(&self, meta: &Metadata<'_>, cx: &Context<'_, S>) -> bool {
        self.with(|f| Filter::<S>::enabled(f, meta, cx), false)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        self.with(
            |f| Filter::<S>::callsite_enabled(f, meta),
            Interest::never(),
        )
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.with(|f| Filter::<S>::max_level_hint(f), Some(LevelFilter::OFF))
    }

    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        self.with(|f| Filter::<S>::on_new_span(f, attrs, id, ctx), ());
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        self.with(|f| Filter::<S>::on_record(f, id, values, ctx), ());
    }

    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.with(|f| Filter::<S>::on_enter(f, id, ctx), ());
    }

    fn on_exit(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.with(|f| Filter::<S>::on_exit(f, id, ctx), ());
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        self.with(|f| Filter::<S>::on_close(f, id, ctx), ());
    }
}

impl Logger {
    /// A per-layer filter with this logger's directives (see
    /// [`crate::Builder::filter`]), for
    /// `logger.tracing_layer().with_filter(logger.tracing_filter()?)`.
    ///
    /// It is an `EnvFilter` underneath, which understands the `env_logger`
    /// syntax and more (span and field directives such as
    /// `my_app[request{id=7}]=trace`), and it follows
    /// [`Logger::set_filter`] and configuration reloads. Fails with a
    /// configuration error (see [`Error::is_config`]) if the directives do
    /// not parse.
    pub fn tracing_filter(&self) -> Result<JamlessFilter, Error> {
        let current = self.core.live.facade.load();
        if current.tracing.is_none() {
            // Report why the directives do not parse.
            crate::facade::parse_tracing_filter(&current.spec)?;
        }
        Ok(JamlessFilter {
            logger: self.clone(),
        })
    }
}
