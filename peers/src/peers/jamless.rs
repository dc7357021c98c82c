//! jamless, configured as its README shows a user would: `Builder::new()`
//! with its defaults, a file sink, `install_log`, `log::info!`.

use std::time::Duration;

use ::jamless::{
    Builder, Compression, Guard, Logger, Naming, Retention, RotatingFileSink, Rotation,
};

use crate::peer::{Finish, Peer, PeerInfo, Setup};

/// Facts for the tables.
pub fn info() -> PeerInfo {
    PeerInfo {
        name: "jamless",
        version: "jamless 0.1.0 (this repository)",
        settings: "Builder::new() defaults: 8 MiB byte queue, drop newest when full, shed below \
                   WARN above 80% full, one writer thread, text format; install_log(); \
                   rotation: RotatingFileSink, dated names, every 1 s and at the size limit, \
                   gzip after a 1 s grace (default grace 10 s), keep all",
        non_blocking: true,
        fastest_rotation: Some("every 1 s and by size; multi-process safe, dated names"),
        counts_drops: true,
    }
}

struct Jamless {
    logger: Logger,
    guard: Guard,
}

/// Builds the logger and installs it as the global `log` logger.
pub fn init(setup: &Setup) -> Result<Box<dyn Peer>, String> {
    let builder = Builder::new();
    let builder = if setup.rotate {
        let every = Rotation::every(Duration::from_secs(1)).map_err(|e| e.to_string())?;
        let sink = RotatingFileSink::builder(Naming::from_path(&setup.path))
            .rotation(every)
            .max_bytes(setup.rotate_bytes)
            .retention(
                Retention::new()
                    .compress(Compression::Gzip)
                    .grace(Duration::from_secs(1)),
            )
            .build()
            .map_err(|e| format!("rotating sink: {e}"))?;
        builder.sink(sink)
    } else {
        builder.file(&setup.path)
    };
    let (logger, guard) = builder.build().map_err(|e| format!("build: {e}"))?;
    logger
        .install_log()
        .map_err(|e| format!("install_log: {e}"))?;
    Ok(Box::new(Jamless { logger, guard }))
}

impl Peer for Jamless {
    fn log(&self, seq: u64, proc_id: u32, thread: u32) {
        super::log_facade_record(module_path!(), seq, proc_id, thread);
    }

    fn finish(self: Box<Self>) -> Finish {
        let Jamless { logger, guard } = *self;
        let _ = guard.shutdown(Duration::from_secs(60));
        Finish {
            dropped: Some(logger.health().dropped()),
        }
    }

    fn dropped_so_far(&self) -> Option<u64> {
        Some(self.logger.health().dropped())
    }
}
