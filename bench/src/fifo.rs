//! A stalled sink: a FIFO whose reader opens it and never reads, so the
//! writer blocks in `write(2)` once the pipe buffer (64 KiB) is full.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A FIFO with an idle reader; [`StalledFifo::release`] starts reading.
#[derive(Debug)]
pub struct StalledFifo {
    path: PathBuf,
    reader: Option<File>,
    drain: Option<(Arc<AtomicBool>, JoinHandle<u64>)>,
}

impl StalledFifo {
    /// Creates the FIFO `name` in `dir` and opens its read end (without
    /// reading), so the logger's non-blocking open finds a reader.
    pub fn create(dir: &Path, name: &str) -> std::io::Result<StalledFifo> {
        let path = dir.join(name);
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|e| std::io::Error::new(ErrorKind::InvalidInput, e))?;
        // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
        let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&path)?;
        Ok(StalledFifo {
            path,
            reader: Some(reader),
            drain: None,
        })
    }

    /// The FIFO's path, to give to the logger.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts reading (and discarding) everything, so the blocked writer
    /// can finish; reading goes on until [`StalledFifo::finish`].
    pub fn release(&mut self) {
        let Some(mut reader) = self.reader.take() else {
            return;
        };
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut buf = vec![0u8; 1 << 16];
            let mut total = 0u64;
            loop {
                match reader.read(&mut buf) {
                    Ok(n) if n > 0 => total += n as u64,
                    // 0: no writer has the FIFO open right now.
                    Ok(_) => {
                        if stop2.load(Ordering::SeqCst) {
                            return total;
                        }
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        if stop2.load(Ordering::SeqCst) {
                            return total;
                        }
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => return total,
                }
            }
        });
        self.drain = Some((stop, handle));
    }

    /// Stops the reader started by [`StalledFifo::release`] once the FIFO
    /// is empty; returns the bytes read.
    pub fn finish(mut self) -> u64 {
        match self.drain.take() {
            Some((stop, handle)) => {
                stop.store(true, Ordering::SeqCst);
                handle.join().unwrap_or(0)
            }
            None => 0,
        }
    }
}
