//! What the file sink's append protocol costs per batch: a plain
//! `write(2)` with `O_APPEND` against [`jamless::FileSink`], which per
//! batch also takes an advisory `flock`, `fstat`s the descriptor, reads
//! the file's last byte, checks the path every 5 ms, keeps a copy of the
//! batch until the next check, and unlocks.
//!
//! Three columns: a plain `write(2)`; the protocol's system calls and copy
//! alone (what the writer's `write_lines` adds to a batch); and
//! `FileSink::write`, the entry point without line metadata, which also
//! splits the bytes into lines first (the writer does not pay that).
//!
//! `cargo run --release -p jamless --example append_cost [DIR]` (DIR
//! defaults to a temporary directory; the files are removed afterwards).

use std::fs::OpenOptions;
use std::io::Write;
use std::time::Instant;

use jamless::{FileSinkBuilder, Sink};

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("jamless-append-cost-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    println!("batch bytes | plain write | protocol (+extra)   | FileSink::write   (ns per batch)");
    // Whole 100-byte lines, as the writer's batches are.
    for batch in [4_000, 64_000, 256_000] {
        let line = {
            let mut l = vec![b'x'; 99];
            l.push(b'\n');
            l
        };
        let buf: Vec<u8> = line.iter().copied().cycle().take(batch).collect();
        // Enough batches for about 256 MiB, at least 2,000.
        let rounds = ((256 << 20) / batch).max(2000);
        let plain_path = dir.join("plain.log");
        let mut plain = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&plain_path)
            .expect("open");
        let t = Instant::now();
        for _ in 0..rounds {
            plain.write_all(&buf).expect("write");
        }
        let plain_ns = t.elapsed().as_nanos() as f64 / rounds as f64;
        std::fs::remove_file(&plain_path).expect("remove");

        let proto_path = dir.join("protocol.log");
        let mut proto = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&proto_path)
            .expect("open");
        let mut window: Vec<u8> = Vec::with_capacity(batch);
        let t = Instant::now();
        for _ in 0..rounds {
            use rustix::fs::{flock, fstat, FlockOperation};
            flock(&proto, FlockOperation::NonBlockingLockExclusive).expect("flock");
            let st = fstat(&proto).expect("fstat");
            assert!(st.st_nlink > 0);
            if st.st_size > 0 {
                let mut last = [0u8; 1];
                rustix::io::pread(&proto, &mut last, st.st_size as u64 - 1).expect("pread");
                assert_eq!(last[0], b'\n');
            }
            proto.write_all(&buf).expect("write");
            window.clear();
            window.extend_from_slice(&buf);
            flock(&proto, FlockOperation::Unlock).expect("unlock");
        }
        let proto_ns = t.elapsed().as_nanos() as f64 / rounds as f64;
        drop(proto);
        std::fs::remove_file(&proto_path).expect("remove");

        let sink_path = dir.join("sink.log");
        let mut sink = FileSinkBuilder::new(&sink_path).build();
        let t = Instant::now();
        for _ in 0..rounds {
            let mut off = 0;
            while off < buf.len() {
                off += sink.write(&buf[off..]).expect("write");
            }
        }
        let sink_ns = t.elapsed().as_nanos() as f64 / rounds as f64;
        std::fs::remove_file(&sink_path).expect("remove");
        println!(
            "{batch:>11} | {plain_ns:>11.0} | {proto_ns:>8.0} ({:>+8.0}) | {sink_ns:>8.0}",
            proto_ns - plain_ns
        );
    }
    std::fs::remove_dir_all(&dir).expect("remove scratch directory");
}
