//! What the kernel leaves of one large `write(2)` when the writing process
//! is killed with SIGKILL in the middle of it: the file ends on a page
//! boundary, with the rest of the buffer missing (so the next append of
//! any process would continue that half-written line).
//!
//! `cargo run --release -p jamless --example killed_write [DIR]` (DIR
//! defaults to the temporary directory; its file system is the one
//! measured). Prints, for five kills 20-60 ms into a 256 MiB write, how
//! much got written and where the file ends relative to 4 KiB pages.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

const LEN: usize = 256 << 20;
const HEAD: &[u8] = b"a line that ends the file before the big write\n";

fn main() {
    let mut args = std::env::args().skip(1);
    let first = args.next();
    if first.as_deref() == Some("--child") {
        let path = args.next().expect("path");
        let buf = vec![b'y'; LEN];
        let mut f = OpenOptions::new().append(true).open(path).expect("open");
        let mut out = std::io::stdout();
        out.write_all(b"go").expect("signal the parent");
        out.flush().expect("flush");
        // One write(2) of 256 MiB; the parent kills us during it.
        let n = f.write(&buf).expect("write");
        eprintln!("child finished its write of {n} bytes before the kill");
        return;
    }
    let dir = first
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let path = dir.join(format!("jamless-killed-write-{}", std::process::id()));
    let exe = std::env::current_exe().expect("own path");
    for trial in 0..5u64 {
        std::fs::write(&path, HEAD).expect("create");
        let mut child = Command::new(&exe)
            .arg("--child")
            .arg(&path)
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut go = [0u8; 2];
        child
            .stdout
            .as_mut()
            .expect("stdout")
            .read_exact(&mut go)
            .expect("child ready");
        std::thread::sleep(Duration::from_millis(20 + 10 * trial));
        // Child::kill sends SIGKILL.
        child.kill().expect("kill");
        child.wait().expect("wait");
        let size = std::fs::metadata(&path).expect("stat").len();
        let written = size - HEAD.len() as u64;
        println!(
            "kill {trial}: {written} of {LEN} bytes written, file ends at {size} \
             ({} bytes past a 4 KiB page boundary)",
            size % 4096
        );
    }
    std::fs::remove_file(&path).expect("remove");
}
