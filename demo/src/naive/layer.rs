//! The naive logger as a `tracing` layer: each event becomes one record,
//! sent with the blocking [`NaiveLogger::log_write`] right inside
//! `on_event`, on the caller's thread (a tokio worker, in the service).

use std::fmt::{self, Write};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use super::{NaiveLogger, Record};

/// A [`Layer`] that sends every event to a [`NaiveLogger`], blocking while
/// its channel is full.
#[derive(Debug, Clone)]
pub struct NaiveLayer {
    logger: NaiveLogger,
}

impl NaiveLayer {
    pub(crate) fn new(logger: NaiveLogger) -> NaiveLayer {
        NaiveLayer { logger }
    }
}

impl<S: Subscriber> Layer<S> for NaiveLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut text = Text::default();
        event.record(&mut text);
        let meta = event.metadata();
        let mut message = text.message;
        message.push_str(&text.fields);
        self.logger
            .log_write(Record::now(*meta.level(), meta.target(), message));
    }
}

/// The message, then the other fields as ` key=value`.
#[derive(Default)]
struct Text {
    message: String,
    fields: String,
}

impl Visit for Text {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }
}
