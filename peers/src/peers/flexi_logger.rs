//! flexi_logger in its asynchronous write mode (`WriteMode::Async`).

use ::flexi_logger::{
    opt_format, Age, Cleanup, Criterion, FileSpec, Logger, LoggerHandle, Naming, WriteMode,
};

use crate::peer::{Finish, Peer, PeerInfo, Setup};

/// Facts for the tables.
pub fn info() -> PeerInfo {
    PeerInfo {
        name: "flexi_logger",
        version: "flexi_logger 0.31.10",
        settings: "WriteMode::Async (defaults: unbounded channel of formatted buffers, pool of \
                   5 buffers of 200 B, flush every 1 s, one writer thread), opt_format \
                   (timestamp, level, file:line), FileSpec::try_from(path); rotation: \
                   Criterion::AgeOrSize(Age::Second, size limit), Naming::Timestamps \
                   (rCURRENT renamed), Cleanup::KeepCompressedFiles(100,000) (gzip, feature \
                   compress)",
        non_blocking: true,
        fastest_rotation: Some("every second or by size; renames the current file"),
        counts_drops: false,
    }
}

struct Flexi {
    handle: LoggerHandle,
}

/// Starts flexi_logger as the global `log` logger.
pub fn init(setup: &Setup) -> Result<Box<dyn Peer>, String> {
    let spec = FileSpec::try_from(&setup.path).map_err(|e| format!("file spec: {e}"))?;
    let mut logger = Logger::try_with_str("info")
        .map_err(|e| format!("spec: {e}"))?
        .log_to_file(spec)
        .format(opt_format)
        .write_mode(WriteMode::Async);
    if setup.rotate {
        logger = logger.rotate(
            Criterion::AgeOrSize(Age::Second, setup.rotate_bytes),
            Naming::Timestamps,
            Cleanup::KeepCompressedFiles(100_000),
        );
    }
    let handle = logger.start().map_err(|e| format!("start: {e}"))?;
    Ok(Box::new(Flexi { handle }))
}

impl Peer for Flexi {
    fn log(&self, seq: u64, proc_id: u32, thread: u32) {
        super::log_facade_record(module_path!(), seq, proc_id, thread);
    }

    fn finish(self: Box<Self>) -> Finish {
        self.handle.flush();
        self.handle.shutdown();
        Finish { dropped: None }
    }
}
