//! Helpers for the rotation tests that run real processes against real
//! files: re-executing the test binary as a child, the sequence-numbered
//! record lines and their parser, reading every log file of a directory
//! (gzip included), and the per-process tally of what was found.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The marker in front of the one JSON line a child prints for its parent.
pub const REPORT_MARKER: &str = "JAMLESS-CHILD-REPORT ";

/// The parameters a child test finds in `var`, if it runs as a child.
pub fn child_params<T: for<'de> Deserialize<'de>>(var: &str) -> Option<T> {
    let text = std::env::var(var).ok()?;
    Some(serde_json::from_str(&text).expect("child parameters are valid JSON"))
}

/// Prints the child's report as one marked JSON line on stdout.
pub fn print_report<T: Serialize>(report: &T) {
    let line = serde_json::to_string(report).expect("report serialises");
    let mut out = std::io::stdout().lock();
    writeln!(out, "\n{REPORT_MARKER}{line}").unwrap();
    out.flush().unwrap();
}

/// A child test process: this test binary, re-executed to run one test.
pub struct ChildProc {
    pub name: String,
    pub child: Child,
    pub stdout_path: PathBuf,
    pub stderr_path: PathBuf,
}

/// Starts `exe` (this test binary or a copy of it), optionally behind a
/// `wrapper` such as `setpriv ...`, to run the test `test_name` alone with
/// `params` (as JSON) in the environment variable `var`. Standard output
/// and error go to files under `out_dir`, so a chatty child never blocks
/// on a full pipe.
pub fn spawn_child<T: Serialize>(
    exe: &Path,
    wrapper: &[String],
    test_name: &str,
    var: &str,
    params: &T,
    out_dir: &Path,
    label: &str,
) -> ChildProc {
    let stdout_path = out_dir.join(format!("{label}.stdout"));
    let stderr_path = out_dir.join(format!("{label}.stderr"));
    let mut cmd = match wrapper.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    cmd.args(["--exact", test_name, "--nocapture", "--test-threads=1"])
        .env(var, serde_json::to_string(params).unwrap())
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stdout(fs::File::create(&stdout_path).unwrap())
        .stderr(fs::File::create(&stderr_path).unwrap());
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start child {label}: {e}"));
    ChildProc {
        name: label.to_string(),
        child,
        stdout_path,
        stderr_path,
    }
}

/// How a child ended.
pub struct Finished {
    pub name: String,
    pub success: bool,
    pub hung: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// The child's report; fails the test with the child's output if the
    /// child failed, hung or printed no report.
    pub fn report<T: for<'de> Deserialize<'de>>(&self) -> T {
        assert!(
            !self.hung,
            "child {} hung and was killed\nstdout:\n{}\nstderr:\n{}",
            self.name,
            self.stdout,
            tail(&self.stderr)
        );
        assert!(
            self.success,
            "child {} failed\nstdout:\n{}\nstderr:\n{}",
            self.name,
            self.stdout,
            tail(&self.stderr)
        );
        let line = self
            .stdout
            .lines()
            .find_map(|l| l.split_once(REPORT_MARKER).map(|(_, r)| r))
            .unwrap_or_else(|| panic!("child {} printed no report:\n{}", self.name, self.stdout));
        serde_json::from_str(line).unwrap_or_else(|e| panic!("bad report {line:?}: {e}"))
    }
}

fn tail(s: &str) -> &str {
    let cut = s.len().saturating_sub(4000);
    let cut = (cut..s.len()).find(|&i| s.is_char_boundary(i)).unwrap_or(0);
    &s[cut..]
}

/// Waits for every child until `deadline`; children still running then
/// are killed (and reported as hung).
pub fn wait_all(children: Vec<ChildProc>, deadline: Instant) -> Vec<Finished> {
    let mut done = Vec::new();
    for mut c in children {
        let mut hung = false;
        let status = loop {
            match c.child.try_wait().expect("try_wait") {
                Some(status) => break Some(status),
                None if Instant::now() >= deadline => {
                    hung = true;
                    let _ = c.child.kill();
                    let _ = c.child.wait();
                    break None;
                }
                None => std::thread::sleep(Duration::from_millis(20)),
            }
        };
        done.push(Finished {
            name: c.name,
            success: status.is_some_and(|s| s.success()),
            hung,
            stdout: fs::read_to_string(&c.stdout_path).unwrap_or_default(),
            stderr: fs::read_to_string(&c.stderr_path).unwrap_or_default(),
        });
    }
    done
}

/// Kills a child that is still running when dropped (a failing parent must
/// not leave writers behind).
pub struct KillOnDrop(pub Option<ChildProc>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            if let Ok(None) = c.child.try_wait() {
                let _ = c.child.kill();
                let _ = c.child.wait();
            }
        }
    }
}

/// What a child reports: its logger's health (the fields the checks use),
/// how many records it offered, and which sequence numbers the logger
/// refused at the call.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChildReport {
    pub proc: u32,
    pub offered_by_test: u64,
    /// Sequence numbers whose log call returned something else than
    /// `Outcome::Accepted`.
    pub rejected_seqs: Vec<u64>,
    /// Error classes the error handler saw, with how often.
    pub error_classes: BTreeMap<String, u64>,
    /// Whether the final flush and shutdown completed.
    pub flush_complete: bool,
    pub health: serde_json::Value,
    /// Anything else a test wants to say.
    pub extra: serde_json::Value,
}

impl ChildReport {
    pub fn h(&self, key: &str) -> u64 {
        self.health[key]
            .as_u64()
            .unwrap_or_else(|| panic!("health has no {key}: {}", self.health))
    }

    pub fn drop_cause(&self, cause: &str) -> u64 {
        self.health["drops"][cause]
            .as_u64()
            .unwrap_or_else(|| panic!("health has no drops.{cause}: {}", self.health))
    }

    /// The accounting identities, with the queue drained.
    #[track_caller]
    pub fn assert_accounted(&self) {
        let h = &self.health;
        let (offered, accepted, rejected) =
            (self.h("offered"), self.h("accepted"), self.h("rejected"));
        let (written, dropped_after, queued) = (
            self.h("written"),
            self.h("dropped_after_accept"),
            self.h("queued"),
        );
        let p = self.proc;
        assert!(self.flush_complete, "proc {p}: final flush incomplete: {h}");
        assert_eq!(offered, self.offered_by_test, "proc {p}: offered: {h}");
        assert_eq!(offered, accepted + rejected, "proc {p}: offered: {h}");
        assert_eq!(queued, 0, "proc {p}: queue drained: {h}");
        assert_eq!(
            accepted,
            written + dropped_after + queued,
            "proc {p}: accepted = written + dropped_after_accept + queued: {h}"
        );
        assert_eq!(
            rejected,
            self.rejected_seqs.len() as u64,
            "proc {p}: rejected records are the refused calls: {h}"
        );
        let by_level: u64 = h["drops"]["by_level"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(
            by_level,
            rejected + dropped_after,
            "proc {p}: by level: {h}"
        );
    }
}

/// The line a record of process `proc` with sequence number `seq` renders
/// to (with the pattern `{message}`), without the newline. Its padding
/// depends on `seq`, so a line torn or merged anywhere does not parse.
pub fn record_line(proc: u32, seq: u64) -> String {
    let (len, c) = pad_of(seq);
    let pad: String = std::iter::repeat_n(c as char, len).collect();
    format!("proc={proc} seq={seq} pad={pad} end")
}

/// What one line of a log file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A complete record line.
    Record { proc: u32, seq: u64 },
    /// A drop notice (`jamless: N records dropped between T1 and T2`).
    Notice,
    /// A strict prefix of a drop notice: cut short by a failing write.
    NoticeFragment,
    /// An empty line (the writer starts with a newline after a line was cut
    /// short by a failing write).
    Empty,
    /// A strict prefix of a record line: a line cut short by a failing
    /// write (its record is counted as dropped). With its proc and seq
    /// when the prefix shows them.
    Fragment { proc: Option<u32>, seq: Option<u64> },
    /// Anything else: a torn, merged or corrupted line.
    Bad,
}

/// Classifies one line (without its newline).
pub fn parse_line(line: &str) -> Line {
    if line.is_empty() {
        return Line::Empty;
    }
    if let Some(rest) = line.strip_prefix("jamless: ") {
        return if is_whole_notice(rest) {
            Line::Notice
        } else {
            Line::NoticeFragment
        };
    }
    if "jamless: ".starts_with(line) {
        return Line::NoticeFragment;
    }
    if let Some((proc, seq)) = whole_record(line) {
        return Line::Record { proc, seq };
    }
    match fragment(line) {
        Some((proc, seq)) => Line::Fragment { proc, seq },
        None => Line::Bad,
    }
}

/// `N records dropped between <time> and <time>` (the text pattern
/// `{message}` renders no fields).
fn is_whole_notice(rest: &str) -> bool {
    let (n, rest) = digits(rest);
    let Some(span) = rest.strip_prefix(" records dropped between ") else {
        return false;
    };
    let times: Vec<&str> = span.split(" and ").collect();
    !n.is_empty()
        && times.len() == 2
        && times
            .iter()
            .all(|t| t.len() >= 20 && t.ends_with('Z') && !t.contains(' '))
}

/// Splits the leading ASCII digits off `s`.
fn digits(s: &str) -> (&str, &str) {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    s.split_at(n)
}

fn whole_record(line: &str) -> Option<(u32, u64)> {
    let (p, rest) = digits(line.strip_prefix("proc=")?);
    let (s, rest) = digits(rest.strip_prefix(" seq=")?);
    let (proc, seq) = (p.parse().ok()?, s.parse().ok()?);
    // The same check as `line == record_line(proc, seq)`, without
    // allocating: this runs for every line of every file.
    let (len, c) = pad_of(seq);
    let pad = rest.strip_prefix(" pad=")?.strip_suffix(" end")?;
    (pad.len() == len && pad.bytes().all(|b| b == c)).then_some((proc, seq))
}

/// The padding of record `seq`: its length and byte.
fn pad_of(seq: u64) -> (usize, u8) {
    (16 + (seq * 7 % 97) as usize, b'a' + (seq % 26) as u8)
}

/// `Some` if `line` is a strict prefix of some record line, with the proc
/// and seq when the prefix shows them whole.
fn fragment(line: &str) -> Option<(Option<u32>, Option<u64>)> {
    if "proc=".starts_with(line) {
        return Some((None, None));
    }
    let (p, rest) = digits(line.strip_prefix("proc=")?);
    if rest.is_empty() {
        return Some((None, None));
    }
    let proc: u32 = p.parse().ok()?;
    if " seq=".starts_with(rest) {
        return Some((Some(proc), None));
    }
    let (s, rest) = digits(rest.strip_prefix(" seq=")?);
    if rest.is_empty() {
        return Some((Some(proc), None));
    }
    let seq: u64 = s.parse().ok()?;
    let full = record_line(proc, seq);
    (full.len() > line.len() && full.starts_with(line)).then_some((Some(proc), Some(seq)))
}

/// One log file's content.
pub struct FileText {
    pub path: PathBuf,
    pub text: String,
    pub nul_bytes: usize,
    /// The file does not end with a newline (its last line was cut short).
    pub unterminated: bool,
}

/// Reads one file, decompressing `.gz`.
pub fn read_log_file(path: &Path) -> FileText {
    let raw = fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let bytes = if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap_or_else(|e| panic!("decompressing {}: {e}", path.display()));
        out
    } else {
        raw
    };
    let nul_bytes = bytes.iter().filter(|&&b| b == 0).count();
    let unterminated = bytes.last().is_some_and(|&b| b != b'\n');
    let text =
        String::from_utf8(bytes).unwrap_or_else(|e| panic!("{} is not UTF-8: {e}", path.display()));
    FileText {
        path: path.to_path_buf(),
        text,
        nul_bytes,
        unterminated,
    }
}

/// Every log file in `dir`: regular files, not hidden (the rotation side
/// lock), not a compression temporary (`.tmp`, abandoned by a process that
/// exited mid-compression; its original is still there). When both `x` and
/// `x.gz` exist (a compressor stopped between publishing and removing the
/// original), they must hold the same lines, and only `x.gz` is returned.
pub fn read_log_dir(dir: &Path) -> Vec<FileText> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            !name.starts_with('.') && !name.ends_with(".tmp") && p.is_file()
        })
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for p in &paths {
        let gz = PathBuf::from(format!("{}.gz", p.display()));
        if paths.contains(&gz) {
            let plain = read_log_file(p);
            let packed = read_log_file(&gz);
            assert_eq!(
                plain.text,
                packed.text,
                "{} and its .gz differ",
                p.display()
            );
            continue;
        }
        out.push(read_log_file(p));
    }
    out
}

/// What was found for all processes.
#[derive(Default, Debug)]
pub struct Tally {
    /// Per process: how often each sequence number was seen (indexed by
    /// sequence number).
    pub seen: BTreeMap<u32, Vec<u32>>,
    pub notices: u64,
    pub empty: u64,
    pub fragments: Vec<(PathBuf, String)>,
    pub notice_fragments: Vec<(PathBuf, String)>,
    pub bad: Vec<(PathBuf, String)>,
    pub nul_bytes: usize,
    pub files: usize,
    pub unterminated: Vec<PathBuf>,
}

impl Tally {
    pub fn add_text(&mut self, path: &Path, text: &str) {
        for line in text.lines() {
            match parse_line(line) {
                Line::Record { proc, seq } => {
                    let counts = self.seen.entry(proc).or_default();
                    let i = seq as usize;
                    if counts.len() <= i {
                        counts.resize(i + 1, 0);
                    }
                    counts[i] += 1;
                }
                Line::Notice => self.notices += 1,
                Line::NoticeFragment => self
                    .notice_fragments
                    .push((path.to_path_buf(), line.into())),
                Line::Empty => self.empty += 1,
                Line::Fragment { .. } => self.fragments.push((path.to_path_buf(), line.into())),
                Line::Bad => self.bad.push((path.to_path_buf(), line.into())),
            }
        }
    }

    pub fn add_file(&mut self, f: &FileText) {
        self.files += 1;
        self.nul_bytes += f.nul_bytes;
        if f.unterminated {
            self.unterminated.push(f.path.clone());
        }
        self.add_text(&f.path, &f.text);
    }

    pub fn of_dir(dir: &Path) -> Tally {
        let mut t = Tally::default();
        for f in read_log_dir(dir) {
            t.add_file(&f);
        }
        t
    }

    /// How often record `seq` of `proc` was found.
    pub fn count(&self, proc: u32, seq: u64) -> u32 {
        self.seen
            .get(&proc)
            .and_then(|c| c.get(seq as usize))
            .copied()
            .unwrap_or(0)
    }

    /// Records of `proc` found more than once.
    pub fn duplicates(&self, proc: u32) -> Vec<u64> {
        self.seen.get(&proc).map_or(Vec::new(), |c| {
            (0..c.len() as u64).filter(|&s| c[s as usize] > 1).collect()
        })
    }

    /// Sequence numbers below `offered` that `proc` never wrote anywhere.
    pub fn missing(&self, proc: u32, offered: u64) -> Vec<u64> {
        (0..offered).filter(|&s| self.count(proc, s) == 0).collect()
    }

    /// Distinct records of `proc` found.
    pub fn found(&self, proc: u32) -> u64 {
        self.seen
            .get(&proc)
            .map_or(0, |c| c.iter().filter(|&&n| n > 0).count() as u64)
    }

    /// Records whose sequence number is at or past `offered` (impossible).
    pub fn beyond(&self, proc: u32, offered: u64) -> Vec<u64> {
        self.seen.get(&proc).map_or(Vec::new(), |c| {
            (offered..c.len() as u64)
                .filter(|&s| c[s as usize] > 0)
                .collect()
        })
    }

    /// The fragments (lines cut short) of records, as (proc, seq) where
    /// the fragment shows both.
    pub fn fragment_records(&self) -> Vec<(u32, u64)> {
        self.fragments
            .iter()
            .filter_map(|(_, l)| match parse_line(l) {
                Line::Fragment {
                    proc: Some(p),
                    seq: Some(s),
                } => Some((p, s)),
                _ => None,
            })
            .collect()
    }
}

/// Checks one process's records against its report: no duplicates, no
/// record that was never offered, the records refused at the call are
/// exactly missing, and the other missing records are exactly those
/// counted as dropped after acceptance. Returns the missing count.
#[track_caller]
pub fn assert_process_complete(tally: &Tally, r: &ChildReport) -> u64 {
    let p = r.proc;
    let offered = r.offered_by_test;
    let dups = tally.duplicates(p);
    assert!(
        dups.is_empty(),
        "proc {p}: {} duplicated records, e.g. {:?}",
        dups.len(),
        &dups[..dups.len().min(10)]
    );
    let beyond = tally.beyond(p, offered);
    assert!(beyond.is_empty(), "proc {p}: never offered: {beyond:?}");
    let missing = tally.missing(p, offered);
    let rejected: std::collections::BTreeSet<u64> = r.rejected_seqs.iter().copied().collect();
    let found_rejected: Vec<u64> = rejected
        .iter()
        .copied()
        .filter(|&s| tally.count(p, s) > 0)
        .collect();
    assert!(
        found_rejected.is_empty(),
        "proc {p}: records refused at the call were written: {found_rejected:?}"
    );
    let lost_after_accept = missing.iter().filter(|s| !rejected.contains(s)).count() as u64;
    assert_eq!(
        lost_after_accept,
        r.h("dropped_after_accept"),
        "proc {p}: accepted records missing from the files ({lost_after_accept}, e.g. {:?}) \
         must be exactly those counted as dropped after acceptance: {}",
        &missing[..missing.len().min(10)],
        r.health
    );
    assert_eq!(
        tally.found(p),
        r.h("written") - r.h("written_fallback"),
        "proc {p}: records found in the files = records written: {}",
        r.health
    );
    missing.len() as u64
}

/// Sets permissions on a path.
pub fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}

/// Runs a command and fails the test with its output if it fails.
#[track_caller]
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Where a program is: on the `PATH`, or in `/usr/sbin` or `/sbin` (which
/// a non-login root shell may not have on its `PATH`).
pub fn program(name: &str) -> Option<PathBuf> {
    let on_path = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|p| p.starts_with('/'));
    on_path.map(PathBuf::from).or_else(|| {
        ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
            .iter()
            .map(|d| Path::new(d).join(name))
            .find(|p| p.is_file())
    })
}

/// Whether a program can be found (see [`program`]).
pub fn have(name: &str) -> bool {
    program(name).is_some()
}

/// Paces a loop at `rate` items per second from `start`: how many items
/// should be done by now.
pub fn due(start: Instant, rate: u64) -> u64 {
    (start.elapsed().as_secs_f64() * rate as f64) as u64
}
