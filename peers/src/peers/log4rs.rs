//! log4rs: a `RollingFileAppender` (it has no asynchronous appender: the
//! caller formats and writes under the appender's mutex).

use ::log4rs::append::rolling_file::policy::compound::roll::fixed_window::FixedWindowRoller;
use ::log4rs::append::rolling_file::policy::compound::trigger::size::SizeTrigger;
use ::log4rs::append::rolling_file::policy::compound::CompoundPolicy;
use ::log4rs::append::rolling_file::RollingFileAppender;
use ::log4rs::config::{Appender, Config, Root};
use log::LevelFilter;

use crate::peer::{Finish, Peer, PeerInfo, Setup};

/// Archives kept by the fixed window (every roll renames each of them, so
/// log4rs's docs warn against large counts; this keeps every file of a run).
const WINDOW: u32 = 1000;

/// Facts for the tables.
pub fn info() -> PeerInfo {
    PeerInfo {
        name: "log4rs",
        version: "log4rs 1.4.0",
        settings: "synchronous (no async appender): RollingFileAppender, default pattern \
                   encoder, 1 KiB BufWriter flushed after every record (one write(2) per \
                   record, under a mutex); size trigger 1 TiB outside the rotation \
                   scenario; rotation: size trigger at the size limit (one trigger per \
                   policy), FixedWindowRoller of 1,000 gzip archives, features gzip + \
                   background_rotation",
        non_blocking: false,
        fastest_rotation: Some("size (or time, one trigger per policy); fixed-window renames"),
        counts_drops: false,
    }
}

struct Log4rs;

/// Installs log4rs with one rolling file appender.
pub fn init(setup: &Setup) -> Result<Box<dyn Peer>, String> {
    let path = setup.path.to_string_lossy().into_owned();
    let limit = if setup.rotate {
        setup.rotate_bytes
    } else {
        1 << 40
    };
    let roller = FixedWindowRoller::builder()
        .build(&format!("{path}.{{}}.gz"), WINDOW)
        .map_err(|e| format!("roller: {e}"))?;
    let policy = CompoundPolicy::new(Box::new(SizeTrigger::new(limit)), Box::new(roller));
    let appender = RollingFileAppender::builder()
        .build(&setup.path, Box::new(policy))
        .map_err(|e| format!("appender: {e}"))?;
    let config = Config::builder()
        .appender(Appender::builder().build("file", Box::new(appender)))
        .build(Root::builder().appender("file").build(LevelFilter::Info))
        .map_err(|e| format!("config: {e}"))?;
    ::log4rs::init_config(config).map_err(|e| format!("init_config: {e}"))?;
    Ok(Box::new(Log4rs))
}

impl Peer for Log4rs {
    fn log(&self, seq: u64, proc_id: u32, thread: u32) {
        super::log_facade_record(module_path!(), seq, proc_id, thread);
    }

    fn finish(self: Box<Self>) -> Finish {
        // Every record is already flushed; this is the facade's flush.
        log::logger().flush();
        Finish { dropped: None }
    }
}
