//! The stalled disk (adapted from `bench/src/fifo.rs`): a FIFO whose read
//! end the driver holds open without reading, so a writer blocks in
//! `write(2)` once the 64 KiB pipe buffer is full. [`StalledFifo::release`]
//! starts draining it, and every line that comes through is tallied.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::lines::Tally;

/// A FIFO with an idle reader.
pub struct StalledFifo {
    path: PathBuf,
    reader: Option<File>,
    drain: Option<(Arc<AtomicBool>, JoinHandle<Tally>)>,
}

impl StalledFifo {
    /// Creates the FIFO `name` in `dir` and opens its read end (without
    /// reading), so a writer's open does not wait for a reader.
    pub fn create(dir: &Path, name: &str) -> std::io::Result<StalledFifo> {
        let path = dir.join(name);
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|e| std::io::Error::new(ErrorKind::InvalidInput, e))?;
        // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
        if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
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

    /// The FIFO's path, for the child.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts reading everything into a [`Tally`] (parsing each line).
    pub fn release(&mut self) {
        let Some(mut reader) = self.reader.take() else {
            return;
        };
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut tally = Tally::new(true);
            let mut buf = vec![0u8; 1 << 16];
            loop {
                match reader.read(&mut buf) {
                    Ok(n) if n > 0 => tally.feed(&buf[..n]),
                    // 0: no writer has it open; WouldBlock: empty for now.
                    Ok(_) => {
                        if stop2.load(Ordering::SeqCst) {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        if stop2.load(Ordering::SeqCst) {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            tally.end_stream();
            tally
        });
        self.drain = Some((stop, handle));
    }

    /// Once every writer is gone: reads what is left and returns the tally.
    pub fn finish(mut self) -> Tally {
        // Never released: the pipe may still hold what the writer left.
        self.release();
        match self.drain.take() {
            Some((stop, handle)) => {
                stop.store(true, Ordering::SeqCst);
                handle.join().unwrap_or_default()
            }
            None => Tally::new(true),
        }
    }
}
