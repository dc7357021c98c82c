//! jamless through its native macro (`jamless::info!`): the caller copies
//! the call site's id and the raw arguments, the writer formats. Otherwise
//! configured as the `jamless` peer (`Builder::new()` defaults, a file
//! sink), installed with `install_native()` instead of `install_log()`.

use std::time::Duration;

use ::jamless::{Builder, Guard, Logger};

use crate::peer::{Finish, Peer, PeerInfo, Setup};

/// Facts for the tables.
pub fn info() -> PeerInfo {
    PeerInfo {
        name: "jamless-native",
        version: "jamless 0.1.0 (this repository)",
        settings: "jamless::info! (deferred formatting: call-site id + raw arguments copied, \
                   the writer formats); Builder::new() defaults as the jamless peer: 8 MiB \
                   byte queue, drop newest when full (counted), shed below WARN above 80% \
                   full, text format; install_native(); no rotation run (the jamless peer \
                   covers it)",
        non_blocking: true,
        fastest_rotation: None,
        counts_drops: true,
    }
}

struct JamlessNative {
    logger: Logger,
    guard: Guard,
}

/// Builds the logger and installs it for the native macros.
pub fn init(setup: &Setup) -> Result<Box<dyn Peer>, String> {
    if setup.rotate {
        return Err("jamless-native: rotation is measured by the jamless peer".into());
    }
    let (logger, guard) = Builder::new()
        .file(&setup.path)
        .build()
        .map_err(|e| format!("build: {e}"))?;
    logger
        .install_native()
        .map_err(|e| format!("install_native: {e}"))?;
    Ok(Box::new(JamlessNative { logger, guard }))
}

impl Peer for JamlessNative {
    fn log(&self, seq: u64, proc_id: u32, thread: u32) {
        ::jamless::info!(
            "request id={} proc={} thread={} took_us={}",
            seq,
            proc_id,
            thread,
            super::TOOK_US
        );
    }

    fn finish(self: Box<Self>) -> Finish {
        let JamlessNative { logger, guard } = *self;
        let _ = guard.shutdown(Duration::from_secs(60));
        Finish {
            dropped: Some(logger.health().dropped()),
        }
    }

    fn dropped_so_far(&self) -> Option<u64> {
        Some(self.logger.health().dropped())
    }
}
