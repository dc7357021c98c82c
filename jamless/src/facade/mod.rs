//! Adapters from the logging facades to the logger.
//!
//! Each adapter turns a facade's record into one jamless record on the
//! caller's thread (level, target, source location, message and typed
//! fields, encoded straight into the thread's reusable buffer) and offers
//! it to the queue. Records the filter rejects are never encoded and never
//! offered, so they appear in no counter.
//!
//! * [`LogAdapter`] (feature `log`): a `log::Log` with an `env_filter`
//!   filter; see [`crate::Logger::install_log`].
//! * [`JamlessLayer`] (feature `tracing`): a `tracing-subscriber` layer
//!   that keeps span fields; see [`crate::Logger::tracing_layer`].
//! * [`JamlessMakeWriter`] (feature `tracing`): a `MakeWriter` for the
//!   `tracing-subscriber` fmt layer, the one-line replacement of
//!   `tracing_appender::non_blocking`; see [`crate::Logger::make_writer`].

#[cfg(feature = "log")]
mod log;
#[cfg(feature = "tracing")]
mod make_writer;
#[cfg(feature = "tracing")]
mod tracing;
#[cfg(feature = "tracing")]
mod tracing_filter;

#[cfg(feature = "log")]
pub(crate) use self::log::encode_fields;
#[cfg(all(feature = "log", feature = "fuzzing"))]
pub(crate) use self::log::log_filter_parts;
#[cfg(feature = "log")]
pub use self::log::LogAdapter;
#[cfg(feature = "log")]
pub(crate) use self::log::{level_filter_from_u8, LogFilter};
#[cfg(feature = "tracing")]
pub use self::make_writer::{JamlessMakeWriter, JamlessWriter};
#[cfg(feature = "tracing")]
pub(crate) use self::tracing::parse_tracing_filter;
#[cfg(feature = "tracing")]
pub use self::tracing::{JamlessLayer, SPANS_OMITTED};
#[cfg(feature = "tracing")]
pub use self::tracing_filter::JamlessFilter;
