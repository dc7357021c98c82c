//! tracing-appender: `tracing_subscriber::fmt` writing through
//! `tracing_appender::non_blocking` (its documented non-blocking writer) into
//! a `RollingFileAppender`.

use ::tracing_appender::non_blocking::{ErrorCounter, NonBlockingBuilder, WorkerGuard};
use ::tracing_appender::rolling::{self, RollingFileAppender, Rotation};

use crate::peer::{Finish, Peer, PeerInfo, Setup};

/// Facts for the tables.
pub fn info() -> PeerInfo {
    PeerInfo {
        name: "tracing-appender",
        version: "tracing-appender 0.2.5, tracing-subscriber 0.3.23",
        settings: "fmt() subscriber (default format, ANSI off, max level INFO) writing to \
                   non_blocking (NonBlockingBuilder::default(): bounded channel of 128,000 \
                   lines, lossy: drops the line when full, one worker thread) over \
                   rolling::never; rotation: RollingFileAppender MINUTELY (no size \
                   rotation, no compression), keep all",
        non_blocking: true,
        fastest_rotation: Some("minutely (time only; no size limit, no compression)"),
        counts_drops: true,
    }
}

struct TracingAppender {
    guard: WorkerGuard,
    errors: ErrorCounter,
}

/// Installs the fmt subscriber globally.
pub fn init(setup: &Setup) -> Result<Box<dyn Peer>, String> {
    let dir = setup
        .path
        .parent()
        .ok_or("the path has no directory")?
        .to_path_buf();
    let name = setup.path.file_name().ok_or("the path has no file name")?;
    let appender = if setup.rotate {
        let stem = setup.path.file_stem().ok_or("no file stem")?;
        let mut b = RollingFileAppender::builder()
            .rotation(Rotation::MINUTELY)
            .filename_prefix(stem.to_string_lossy());
        if let Some(ext) = setup.path.extension() {
            b = b.filename_suffix(ext.to_string_lossy());
        }
        b.build(&dir)
            .map_err(|e| format!("rolling appender: {e}"))?
    } else {
        rolling::never(&dir, name)
    };
    let (writer, guard) = NonBlockingBuilder::default().finish(appender);
    let errors = writer.error_counter();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    tracing::subscriber::set_global_default(subscriber)
        .map_err(|e| format!("set_global_default: {e}"))?;
    Ok(Box::new(TracingAppender { guard, errors }))
}

impl Peer for TracingAppender {
    fn log(&self, seq: u64, proc_id: u32, thread: u32) {
        tracing::info!(
            "request id={} proc={} thread={} took_us={}",
            seq,
            proc_id,
            thread,
            1234
        );
    }

    fn finish(self: Box<Self>) -> Finish {
        let TracingAppender { guard, errors } = *self;
        // The guard's drop is the documented flush: it waits up to 100 ms
        // to send the shutdown and up to 1 s for the worker.
        drop(guard);
        Finish {
            dropped: Some(errors.dropped_lines() as u64),
        }
    }

    fn dropped_so_far(&self) -> Option<u64> {
        Some(self.errors.dropped_lines() as u64)
    }
}
