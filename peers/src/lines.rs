//! Reading log files back: every line is a benchmark record
//! (`request id={seq} proc={proc} thread={thread} took_us=1234`, with the
//! peer's own prefix), a torn line (a piece of a record, or two records run
//! together), or another line (a header, a drop notice).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

const MARK: &str = "request id=";

/// What one line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// One whole record.
    Record {
        /// `proc=`.
        proc_id: u32,
        /// `thread=`.
        thread: u32,
        /// `id=`.
        seq: u64,
    },
    /// Part of a record, or more than one.
    Torn,
    /// Neither (headers, notices).
    Other,
}

fn number<T: std::str::FromStr>(s: &str) -> Option<(T, &str)> {
    let end = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    Some((s[..end].parse().ok()?, &s[end..]))
}

/// Classifies one line (without its newline).
pub fn classify(line: &[u8]) -> LineKind {
    let Ok(text) = std::str::from_utf8(line) else {
        return LineKind::Torn;
    };
    let Some(at) = text.find(MARK) else {
        return if text.contains("took_us=") || text.contains("thread=") {
            LineKind::Torn
        } else {
            LineKind::Other
        };
    };
    let rest = &text[at + MARK.len()..];
    if rest.contains(MARK) {
        return LineKind::Torn;
    }
    let parse = || {
        let (seq, r) = number::<u64>(rest)?;
        let (proc_id, r) = number::<u32>(r.strip_prefix(" proc=")?)?;
        let (thread, r) = number::<u32>(r.strip_prefix(" thread=")?)?;
        let r = r.strip_prefix(" took_us=1234")?;
        if r.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(LineKind::Record {
            proc_id,
            thread,
            seq,
        })
    };
    parse().unwrap_or(LineKind::Torn)
}

/// A growable bit set of sequence numbers seen.
#[derive(Debug, Default, Clone)]
struct Seen {
    words: Vec<u64>,
}

impl Seen {
    /// Sets `seq`; false if it was set already.
    fn insert(&mut self, seq: u64) -> bool {
        let (w, b) = ((seq / 64) as usize, seq % 64);
        if w >= self.words.len() {
            self.words.resize(w + 1, 0);
        }
        let had = self.words[w] & (1 << b) != 0;
        self.words[w] |= 1 << b;
        !had
    }

    /// How many of `0..n` are set.
    fn count_below(&self, n: u64) -> u64 {
        let full = (n / 64) as usize;
        let mut c: u64 = self
            .words
            .iter()
            .take(full)
            .map(|w| u64::from(w.count_ones()))
            .sum();
        if !n.is_multiple_of(64) {
            if let Some(w) = self.words.get(full) {
                c += u64::from((w & ((1u64 << (n % 64)) - 1)).count_ones());
            }
        }
        c
    }
}

/// Counts of lines read back.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Counts {
    /// Newline-terminated lines, plus a final unterminated piece.
    pub lines: u64,
    /// Bytes read (decompressed).
    pub bytes: u64,
    /// Whole records (first sightings and duplicates).
    pub records: u64,
    /// Records seen before (same proc, thread and id).
    pub duplicates: u64,
    /// Torn lines (including a file's unterminated last piece).
    pub torn: u64,
    /// Other lines.
    pub other: u64,
    /// Up to three torn lines, for the report.
    pub torn_examples: Vec<String>,
    /// Up to three other lines.
    pub other_examples: Vec<String>,
}

/// Tallies lines; knows which records it has seen.
#[derive(Debug, Default)]
pub struct Tally {
    /// The counts so far.
    pub counts: Counts,
    seen: HashMap<(u32, u32), Seen>,
    partial: Vec<u8>,
    /// Unparsed mode: the last bytes of the previous chunk, so that a
    /// record marker split between two reads is still found.
    carry: Vec<u8>,
    /// Check for duplicates and torn lines (false: count newlines and
    /// record markers only).
    parse: bool,
}

fn example(v: &mut Vec<String>, line: &[u8]) {
    if v.len() < 3 {
        let s = String::from_utf8_lossy(&line[..line.len().min(300)]).into_owned();
        v.push(s);
    }
}

impl Tally {
    /// A tally that parses every line (`parse`), or only counts newlines
    /// and occurrences of the record text (`records`; fast, for files of a
    /// gigabyte, where lines cannot be torn).
    pub fn new(parse: bool) -> Tally {
        Tally {
            parse,
            ..Tally::default()
        }
    }

    fn line(&mut self, line: &[u8]) {
        self.counts.lines += 1;
        if !self.parse {
            return;
        }
        match classify(line) {
            LineKind::Record {
                proc_id,
                thread,
                seq,
            } => {
                self.counts.records += 1;
                if !self.seen.entry((proc_id, thread)).or_default().insert(seq) {
                    self.counts.duplicates += 1;
                }
            }
            LineKind::Torn => {
                self.counts.torn += 1;
                example(&mut self.counts.torn_examples, line);
            }
            LineKind::Other => {
                self.counts.other += 1;
                example(&mut self.counts.other_examples, line);
            }
        }
    }

    /// Feeds bytes of one stream (a file); lines may span calls.
    pub fn feed(&mut self, mut bytes: &[u8]) {
        self.counts.bytes += bytes.len() as u64;
        if !self.parse {
            self.counts.lines += memchr::memchr_iter(b'\n', bytes).count() as u64;
            let keep = MARK.len() - 1;
            // Matches in carry + head necessarily start in the carry (the
            // marker is longer than the head), so none is counted twice.
            let mut joined = std::mem::take(&mut self.carry);
            joined.extend_from_slice(&bytes[..bytes.len().min(keep)]);
            let across = memchr::memmem::find_iter(&joined, MARK).count();
            let inside = memchr::memmem::find_iter(bytes, MARK).count();
            self.counts.records += (across + inside) as u64;
            joined.extend_from_slice(&bytes[bytes.len().min(keep)..]);
            self.carry = joined[joined.len().saturating_sub(keep)..].to_vec();
            return;
        }
        while let Some(nl) = memchr::memchr(b'\n', bytes) {
            if self.partial.is_empty() {
                self.line(&bytes[..nl]);
            } else {
                let mut l = std::mem::take(&mut self.partial);
                l.extend_from_slice(&bytes[..nl]);
                self.line(&l);
            }
            bytes = &bytes[nl + 1..];
        }
        self.partial.extend_from_slice(bytes);
    }

    /// Ends the current stream: an unterminated last piece counts as torn.
    pub fn end_stream(&mut self) {
        self.carry.clear();
        if !self.partial.is_empty() {
            let p = std::mem::take(&mut self.partial);
            self.counts.lines += 1;
            if self.parse {
                self.counts.torn += 1;
                example(&mut self.counts.torn_examples, &p);
            }
        }
    }

    /// Distinct records of `(proc, thread)` with ids in `0..n`.
    pub fn unique_below(&self, proc_id: u32, thread: u32, n: u64) -> u64 {
        self.seen
            .get(&(proc_id, thread))
            .map_or(0, |s| s.count_below(n))
    }

    /// Reads a whole stream into the tally.
    pub fn read_stream(&mut self, mut r: impl Read) -> std::io::Result<()> {
        let mut buf = vec![0u8; 1 << 20];
        let res = loop {
            match r.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => self.feed(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        self.end_stream();
        res
    }
}

/// One file found under a directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileInfo {
    /// Path relative to the directory.
    pub name: String,
    /// Size on disk.
    pub bytes: u64,
    /// Gzip-compressed (read through a decoder).
    pub gzip: bool,
    /// Why it could not be read (completely), if so.
    pub error: Option<String>,
}

/// Everything under a directory, read back.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Scan {
    /// Regular files found.
    pub files: Vec<FileInfo>,
    /// Their lines.
    pub counts: Counts,
    /// Files present both compressed and not (`x` and `x.gz`): their
    /// records are read twice, as a log shipper would ingest them.
    #[serde(default)]
    pub plain_and_gz: Vec<String>,
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let t = e.file_type()?;
        if t.is_dir() {
            walk(&e.path(), out)?;
        } else if t.is_file() {
            out.push(e.path());
        }
    }
    Ok(())
}

/// Reads every regular file under `dir` (`.gz` decompressed; other
/// compressed formats are listed as unreadable). Returns the scan and the
/// tally, which knows the records seen.
pub fn scan_dir(dir: &Path, parse: bool) -> anyhow::Result<(Scan, Tally)> {
    let mut paths = Vec::new();
    walk(dir, &mut paths).with_context(|| format!("list {}", dir.display()))?;
    paths.sort();
    let mut tally = Tally::new(parse);
    let mut files = Vec::new();
    for p in paths {
        let name = p
            .strip_prefix(dir)
            .unwrap_or(&p)
            .to_string_lossy()
            .into_owned();
        let bytes = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
        let gzip = name.ends_with(".gz");
        let compressed_other = [".zip", ".lz4", ".zst", ".xz", ".bz2", ".7z", ".tmp"]
            .iter()
            .any(|s| name.ends_with(s));
        let error = if compressed_other {
            Some("not read (compressed or temporary)".to_string())
        } else {
            let res = File::open(&p).and_then(|f| {
                let f = BufReader::new(f);
                if gzip {
                    tally.read_stream(flate2::read::MultiGzDecoder::new(f))
                } else {
                    tally.read_stream(f)
                }
            });
            res.err().map(|e| e.to_string())
        };
        files.push(FileInfo {
            name,
            bytes,
            gzip,
            error,
        });
    }
    let plain_and_gz = files
        .iter()
        .filter_map(|f| f.name.strip_suffix(".gz"))
        .filter(|plain| files.iter().any(|g| g.name == *plain))
        .map(str::to_string)
        .collect();
    Ok((
        Scan {
            files,
            counts: tally.counts.clone(),
            plain_and_gz,
        },
        tally,
    ))
}

/// Newline bytes in one file.
pub fn count_newlines(path: &Path) -> anyhow::Result<u64> {
    let f = File::open(path).with_context(|| format!("open {}", path.display()))?;
    let mut t = Tally::new(false);
    t.read_stream(f)
        .with_context(|| format!("read {}", path.display()))?;
    Ok(t.counts.lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies() {
        let r = classify(b"2026 INFO x: request id=12 proc=3 thread=1 took_us=1234");
        assert_eq!(
            r,
            LineKind::Record {
                proc_id: 3,
                thread: 1,
                seq: 12
            }
        );
        assert_eq!(
            classify(b"[x] request id=12 proc=3 thread=1 took_us=1234 k=v"),
            LineKind::Record {
                proc_id: 3,
                thread: 1,
                seq: 12
            }
        );
        assert_eq!(classify(b"request id=12 proc=3 thr"), LineKind::Torn);
        assert_eq!(classify(b"c=3 thread=1 took_us=1234"), LineKind::Torn);
        assert_eq!(
            classify(b"request id=1 proc=3 request id=2 proc=3 thread=1 took_us=1234"),
            LineKind::Torn
        );
        assert_eq!(classify(b"logger started"), LineKind::Other);
    }

    #[test]
    fn tallies_duplicates_and_pieces() {
        let mut t = Tally::new(true);
        t.feed(b"request id=0 proc=0 thread=0 took_us=1234\nrequest id=1 pr");
        t.feed(b"oc=0 thread=0 took_us=1234\nrequest id=0 proc=0 thread=0 took_us=1234\nreq");
        t.end_stream();
        assert_eq!(t.counts.lines, 4);
        assert_eq!(t.counts.records, 3);
        assert_eq!(t.counts.duplicates, 1);
        assert_eq!(t.counts.torn, 1);
        assert_eq!(t.unique_below(0, 0, 2), 2);
        assert_eq!(t.unique_below(0, 0, 1), 1);
    }

    #[test]
    fn counts_markers_across_reads() {
        let mut t = Tally::new(false);
        t.feed(b"x request id=1 proc=0\nnotice\nx request");
        t.feed(b" id=2 proc=0\nreq");
        t.feed(b"uest id=3\n");
        t.end_stream();
        assert_eq!((t.counts.lines, t.counts.records), (4, 3));
    }
}
