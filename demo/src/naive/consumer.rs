//! The naive logger's consumer thread and its rotation: a port of the
//! goroutine and of `intRotate`, **including the bug** (the loop returns
//! on any rotation error). See the parent module.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use super::clock::{period_start, Civil};
use super::{NaiveConfig, Record, Shared};

/// log4go's `maxbackup`: the highest `.NNN` tried.
const MAX_BACKUP: u32 = 999;
/// A buffer older than this is written even if more records wait
/// (`TraceLogBuffer.Flush`).
const FLUSH_AFTER: Duration = Duration::from_millis(1);

/// What the consumer does next.
enum Next {
    Record(Record),
    Rotate,
    Closed,
}

/// Marks the consumer dead when its thread ends, however it ends.
struct AliveFlag(Arc<Shared>);

impl Drop for AliveFlag {
    fn drop(&mut self) {
        self.0.consumer_alive.store(false, Ordering::Release);
    }
}

/// The consumer: the open file, the rotation schedule and the buffer.
pub(crate) struct Consumer {
    path: PathBuf,
    rotate_every: Option<Duration>,
    /// The simulated metadata latency (zero: the faithful port).
    fs_latency: Duration,
    file: Option<File>,
    /// When the next rotation is due.
    next_rotation: Option<SystemTime>,
    buffer: Vec<u8>,
    buffered: u64,
    buffer_since: Option<Instant>,
    shared: Arc<Shared>,
}

impl Consumer {
    pub(crate) fn new(config: NaiveConfig, shared: Arc<Shared>) -> Consumer {
        Consumer {
            path: config.path,
            rotate_every: config.rotate_every,
            fs_latency: config.fs_latency,
            file: None,
            next_rotation: None,
            buffer: Vec::with_capacity(4096),
            buffered: 0,
            buffer_since: None,
            shared,
        }
    }

    /// The constructor's first `intRotate`: an existing file is renamed
    /// away (stamped with the previous period), then the path is opened.
    pub(crate) fn open_first(&mut self) -> io::Result<()> {
        let now = SystemTime::now();
        if let Some(every) = self.rotate_every {
            let current = period_start(now, every);
            self.int_rotate(current.checked_sub(every).unwrap_or(current))?;
            self.next_rotation = Some(current + every);
        } else {
            self.int_rotate(now)?;
        }
        Ok(())
    }

    /// The goroutine. Returns on the first rotation error: the bug.
    pub(crate) fn run(mut self, rx: &Mutex<Receiver<Record>>) {
        let _alive = AliveFlag(Arc::clone(&self.shared));
        let rx = rx.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            match self.next(&rx) {
                Next::Record(record) => {
                    self.shared.received.fetch_add(1, Ordering::AcqRel);
                    self.encode(&record);
                    let old = self
                        .buffer_since
                        .is_some_and(|since| since.elapsed() > FLUSH_AFTER);
                    if self.shared.queued() == 0 || old {
                        self.flush();
                    }
                }
                Next::Rotate => {
                    self.flush();
                    let (Some(due), Some(every)) = (self.next_rotation, self.rotate_every) else {
                        continue;
                    };
                    // The file being closed covers the period that just ended.
                    let ended = due.checked_sub(every).unwrap_or(due);
                    if let Err(e) = self.int_rotate(ended) {
                        eprintln!("naive: rotation failed: {e}; consumer exiting");
                        self.shared.set_last_error(e.to_string());
                        // THE BUG, faithfully: the consumer is gone for good
                        // and nobody will ever receive from the channel again.
                        return;
                    }
                    self.shared.rotations.fetch_add(1, Ordering::AcqRel);
                    self.next_rotation = Some(period_start(SystemTime::now(), every) + every);
                }
                Next::Closed => return,
            }
        }
    }

    /// `select { case rec := <-w.rec: ...; case <-timer: rotate }`.
    fn next(&self, rx: &Receiver<Record>) -> Next {
        loop {
            let Some(due) = self.next_rotation else {
                return rx.recv().map_or(Next::Closed, Next::Record);
            };
            let wait = match due.duration_since(SystemTime::now()) {
                Ok(wait) if !wait.is_zero() => wait,
                _ => return Next::Rotate,
            };
            match rx.recv_timeout(wait) {
                Ok(record) => return Next::Record(record),
                // Check the wall clock again: the wait is monotonic time.
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return Next::Closed,
            }
        }
    }

    /// Formats a record into the buffer: `[date time] [LEVL] (source) msg`.
    fn encode(&mut self, record: &Record) {
        let level = match record.level {
            tracing::Level::ERROR => "EROR",
            tracing::Level::WARN => "WARN",
            tracing::Level::INFO => "INFO",
            tracing::Level::DEBUG => "DEBG",
            tracing::Level::TRACE => "TRAC",
        };
        let line = format!(
            "[{}] [{level}] ({}) {}\n",
            Civil::utc(record.created).line_stamp(),
            record.source,
            record.message
        );
        self.buffer.extend_from_slice(line.as_bytes());
        self.buffered += 1;
        self.buffer_since.get_or_insert_with(Instant::now);
    }

    /// Writes the buffer. A failed write is printed and its records are
    /// lost, uncounted except as an error (as in the original).
    fn flush(&mut self) {
        if self.buffer.is_empty() {
            return;
        }
        let result = match self.file.as_mut() {
            Some(f) => f.write_all(&self.buffer),
            None => Err(io::Error::other("file already closed")),
        };
        match result {
            Ok(()) => {
                self.shared
                    .written
                    .fetch_add(self.buffered, Ordering::AcqRel);
            }
            Err(e) => {
                self.shared.write_errors.fetch_add(1, Ordering::AcqRel);
                eprintln!("naive: write {}: {e}", self.path.display());
            }
        }
        self.buffer.clear();
        self.buffered = 0;
        self.buffer_since = None;
    }

    /// log4go's `intRotate`, step by step.
    fn int_rotate(&mut self, stamp: SystemTime) -> io::Result<()> {
        // Close any log file that may be open, after its trailer.
        if let Some(mut old) = self.file.take() {
            let _ = old.write_all(trailer().as_bytes());
            drop(old);
        }
        // If we are keeping log files, move it to the next available number.
        if self.rotate_every.is_some() && self.lstat(&self.path) {
            let stamp = Civil::utc(stamp).file_stamp();
            let mut num = 1;
            let target = loop {
                let candidate = dated_name(&self.path, &stamp, num);
                if !self.lstat(&candidate) {
                    break candidate;
                }
                num += 1;
                if num > MAX_BACKUP {
                    return Err(io::Error::other(format!(
                        "Rotate: cannot find free log number to rename {}",
                        self.path.display()
                    )));
                }
            };
            // Rename the file to its newfound home. Another process that
            // rotated the same path an instant earlier makes this ENOENT.
            self.simulated_latency();
            fs::rename(&self.path, &target).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!(
                        "Rotate: rename {} {}: {e}",
                        self.path.display(),
                        target.display()
                    ),
                )
            })?;
        }
        // Open the log file.
        self.simulated_latency();
        let mut file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o664)
            .open(&self.path)
            .map_err(|e| io::Error::new(e.kind(), format!("open {}: {e}", self.path.display())))?;
        let _ = file.write_all(header().as_bytes());
        self.file = Some(file);
        Ok(())
    }

    /// `os.Lstat(path) == nil`: whether something exists at `path`.
    fn lstat(&self, path: &Path) -> bool {
        self.simulated_latency();
        fs::symlink_metadata(path).is_ok()
    }

    /// The pause of [`NaiveConfig::simulated_fs_latency`]: NOT part of the
    /// original logger; nothing happens unless the demo asks for it.
    fn simulated_latency(&self) {
        if !self.fs_latency.is_zero() {
            std::thread::sleep(self.fs_latency);
        }
    }
}

/// `<path>.<stamp>.<NNN>`.
fn dated_name(path: &Path, stamp: &str, num: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{stamp}.{num:03}"));
    PathBuf::from(name)
}

/// The header line written after each open (log4go's `SetHeadFoot`).
fn header() -> String {
    format!(
        "# naive log opened at {} by pid {}\n",
        Civil::utc(SystemTime::now()).line_stamp(),
        std::process::id()
    )
}

/// The trailer line written before each close.
fn trailer() -> String {
    format!(
        "# naive log closed at {} by pid {}\n",
        Civil::utc(SystemTime::now()).line_stamp(),
        std::process::id()
    )
}
