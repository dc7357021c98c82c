//! Memory figures from `/proc/<pid>/status`.

/// A `kB` field of `/proc/<pid>/status` (`VmHWM`, `VmRSS`, ...), for this
/// process when `pid` is `None`. `None` where unavailable.
pub fn status_kb(pid: Option<u32>, field: &str) -> Option<u64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/status"),
        None => "/proc/self/status".to_string(),
    };
    let text = std::fs::read_to_string(path).ok()?;
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(field)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// Peak resident set size of this process so far, in KiB.
pub fn vm_hwm_kb() -> u64 {
    status_kb(None, "VmHWM").unwrap_or(0)
}

/// Resident set size of this process now, in KiB.
pub fn vm_rss_kb() -> u64 {
    status_kb(None, "VmRSS").unwrap_or(0)
}
