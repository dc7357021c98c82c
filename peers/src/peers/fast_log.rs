//! [`fast_log`](https://docs.rs/fast_log) 1.7: a `log` backend with a
//! crossbeam channel, one dispatcher thread and one thread per appender.
//!
//! Settings, from the crate's README ("Performance optimization
//! (important)": `chan_len(Some(100000))`) and source (`src/fast_log.rs`,
//! `src/plugin/file.rs`, `src/plugin/file_split.rs`):
//!
//! * `Config::chan_len(Some(100_000))`: a bounded crossbeam channel; a full
//!   channel makes `log!` block (`Sender::send`). `None` would be an
//!   unbounded channel; fast_log has no drop policy and no drop counter.
//!   The same `chan_len` bounds the dispatcher → appender channel, whose
//!   elements are *batches* (`Arc<Vec<FastLogRecord>>` of everything the
//!   dispatcher found queued), so when the writer stalls the dispatcher
//!   keeps emptying the first channel into up to 100 000 batches: memory
//!   grows and callers do not block until that second channel is full too
//!   (1 000 000 records into a FIFO nobody read: no call blocked).
//! * One dispatcher worker (`worker_tasks` default `Some(1)`) that formats
//!   each record (`FastLogFormat`: local time, `[INFO]`, message, `\n`),
//!   merges everything queued into one batch and hands it to the file
//!   appender, which writes the batch with one `write_all` (no `BufWriter`:
//!   the batch is the buffer).
//! * `log::logger().flush()` sends a flush command through the same channel
//!   and waits on a `WaitGroup` until the appender wrote and flushed it.
//! * Rotation: `FileSplitAppender` with `RollingType::BySize(rotate_bytes)`
//!   (one `RollingType` per appender: size *or* time, the shortest time
//!   being `DateType::Sec`), `KeepType::All`, `GZipPacker`. On rotation
//!   fast_log *copies* the live file to `<stem><timestamp>.log` and
//!   truncates the live file; a separate saver thread then gzips the copy.
//!
//! The constructors `Config::file` / `Config::file_split` `unwrap` the file
//! open; this adapter builds the appenders itself to return an error.

use std::fs::File;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fast_log::appender::{Command, FastLogRecord};
use fast_log::consts::LogSize;
use fast_log::error::LogError;
use fast_log::plugin::file::FileAppender;
use fast_log::plugin::file_split::{
    CanRollingPack, FileSplitAppender, KeepType, Packer, RawFile, Rolling, RollingType,
};
use fast_log::plugin::packer::{GZipPacker, LogPacker};
use fast_log::Config;
use log::LevelFilter;

use crate::peer::{Finish, Peer, PeerInfo, Setup};

/// Channel capacity (records), as in the README's performance advice.
const CHAN_LEN: usize = 100_000;

/// How long `finish` waits for fast_log's saver thread to gzip the files it
/// rotated (it has no handle to join).
const PACK_WAIT: Duration = Duration::from_secs(60);

/// What the table prints about this peer.
pub fn info() -> PeerInfo {
    PeerInfo {
        name: "fast_log",
        version: "fast_log 1.7.10",
        settings: "bounded crossbeam channel of 100k records (chan_len, the README's \
                   performance setting), caller blocks when full (no drop policy), but \
                   the dispatcher moves records on into a second channel of 100k batches \
                   of any size, so a stalled writer buffers without practical bound \
                   before callers block; one write_all per batch, default \
                   FastLogFormat text (local time, [INFO], message); rotation: size only \
                   (rotate_bytes; one RollingType per appender), KeepType::All, gzip of \
                   the rotated copy on fast_log's saver thread",
        non_blocking: true,
        fastest_rotation: Some(
            "size (rotate_bytes), gzip; time down to 1 s exists but not combined",
        ),
        counts_drops: false,
    }
}

/// Installs fast_log as the global `log` logger for `setup`.
pub fn init(setup: &Setup) -> Result<Box<dyn Peer>, String> {
    let path = setup
        .path
        .to_str()
        .ok_or_else(|| format!("fast_log: path {} is not UTF-8", setup.path.display()))?;
    let config = Config::new()
        .chan_len(Some(CHAN_LEN))
        .level(LevelFilter::Info);
    let packs = Arc::new(PackCounts::default());
    let config = if setup.rotate {
        let bytes = usize::try_from(setup.rotate_bytes)
            .map_err(|_| format!("fast_log: rotate_bytes {} too large", setup.rotate_bytes))?;
        let rolling = CountingRolling {
            inner: Rolling::new(RollingType::BySize(LogSize::B(bytes.max(1)))),
            packs: packs.clone(),
        };
        let packer = GzipOrKeep {
            packs: packs.clone(),
        };
        let appender = FileSplitAppender::new::<RawFile>(
            path,
            Box::new(rolling),
            Box::new(KeepType::All),
            Box::new(packer),
        )
        .map_err(|e| format!("fast_log: cannot open {path}: {e}"))?;
        config.add_appender(appender)
    } else {
        let appender =
            FileAppender::new(path).map_err(|e| format!("fast_log: cannot open {path}: {e}"))?;
        config.add_appender(appender)
    };
    fast_log::init(config).map_err(|e| format!("fast_log: init failed: {e}"))?;
    Ok(Box::new(FastLogPeer { packs }))
}

/// Rotations handed to the saver thread versus those it has finished.
#[derive(Default)]
struct PackCounts {
    sent: AtomicU64,
    done: AtomicU64,
}

/// fast_log's own `Rolling`, counting the rotations whose copy goes to the
/// saver thread to be packed (a rotation triggered by the flush command is
/// sent with a `WaitGroup`, which makes the saver thread return without
/// packing; `flush().wait()` covers that one).
struct CountingRolling {
    inner: Rolling,
    packs: Arc<PackCounts>,
}

impl CanRollingPack for CountingRolling {
    fn can(
        &mut self,
        appender: &dyn Packer,
        temp_name: &str,
        temp_size: usize,
        arg: &FastLogRecord,
    ) -> Option<String> {
        let name = self.inner.can(appender, temp_name, temp_size, arg);
        if name.is_some() && matches!(arg.command, Command::CommandRecord) {
            self.packs.sent.fetch_add(1, Ordering::SeqCst);
        }
        name
    }
}

/// fast_log's `GZipPacker`, plus a completion count so `finish` can wait
/// for the saver thread.
///
/// `GZipPacker` derives the archive name with `path.replace(".log", ".gz")`;
/// for a file without `.log` in its name that is the file itself, which
/// `File::create` would truncate. Such files are kept uncompressed instead
/// (as `LogPacker` does). The packer removes the rotated copy itself once
/// the `.gz` is complete (what the saver thread would do on `Ok(true)`), so
/// that the count only moves once the directory is final.
struct GzipOrKeep {
    packs: Arc<PackCounts>,
}

impl Packer for GzipOrKeep {
    fn pack_name(&self) -> &'static str {
        GZipPacker {}.pack_name()
    }

    fn do_pack(&self, log_file: File, log_file_path: &str) -> Result<bool, LogError> {
        let result =
            if log_file_path.ends_with(".log") && log_file_path.matches(".log").count() == 1 {
                match (GZipPacker {}).do_pack(log_file, log_file_path) {
                    Ok(true) => {
                        let _ = std::fs::remove_file(log_file_path);
                        Ok(false)
                    }
                    other => other,
                }
            } else {
                LogPacker {}.do_pack(log_file, log_file_path)
            };
        self.packs.done.fetch_add(1, Ordering::SeqCst);
        result
    }
}

/// The running fast_log peer (the logger itself is global).
struct FastLogPeer {
    packs: Arc<PackCounts>,
}

impl Peer for FastLogPeer {
    fn log(&self, seq: u64, proc_id: u32, thread: u32) {
        super::log_facade_record(module_path!(), seq, proc_id, thread);
    }

    fn finish(self: Box<Self>) -> Finish {
        // fast_log's `Log::flush` sends a flush command and waits until the
        // appender thread has written and flushed everything before it.
        log::logger().flush();
        // The saver thread gzips rotated copies after that; wait for it.
        let deadline = Instant::now() + PACK_WAIT;
        while self.packs.done.load(Ordering::SeqCst) < self.packs.sent.load(Ordering::SeqCst)
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        // Stops the dispatcher and appender threads (they cannot be joined).
        let _ = fast_log::exit();
        Finish { dropped: None }
    }
}
