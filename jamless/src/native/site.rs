//! Call sites: the `static` descriptor each native macro call expands to,
//! and the process-wide registry that gives each one a `u32` id.
//!
//! A record carries its call site's id, not a pointer to it: decoding a
//! pointer out of ring bytes would need `unsafe` outside the queue and turn
//! a malformed record into a memory-safety bug. A site registers itself on
//! its first enabled call (a mutex, once per site and process) and keeps
//! its id in an atomic; every later call loads the id and takes no lock.
//! The writer keeps its own copy of the registry's list and takes the lock
//! only when it meets an id it has not seen yet.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use crate::level::Level;
use crate::record::Site;

use super::args::Decoder;

/// The generated function that formats a call's message from its slots.
pub(crate) type RenderFn = fn(&mut Decoder<'_>, &mut String) -> fmt::Result;

/// A native macro call site: everything about a call that is known at
/// compile time. Built by the macro as a `static`; not for direct use.
pub struct CallSite {
    level: Level,
    target: &'static str,
    module_path: &'static str,
    file: &'static str,
    line: u32,
    format: &'static str,
    render: RenderFn,
    /// 0 until registered; then the index in the registry plus one.
    #[cfg_attr(not(feature = "log"), allow(dead_code))] // The caller side needs `log`.
    id: AtomicU32,
}

impl fmt::Debug for CallSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallSite")
            .field("level", &self.level)
            .field("target", &self.target)
            .field("file", &self.file)
            .field("line", &self.line)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

/// Every registered call site, in id order (id = index + 1).
static REGISTRY: Mutex<Vec<&'static CallSite>> = Mutex::new(Vec::new());

impl CallSite {
    /// A call site, for the macro's `static`.
    #[allow(clippy::too_many_arguments)]
    pub const fn new(
        level: Level,
        target: &'static str,
        module_path: &'static str,
        file: &'static str,
        line: u32,
        format: &'static str,
        render: RenderFn,
    ) -> CallSite {
        CallSite {
            level,
            target,
            module_path,
            file,
            line,
            format,
            render,
            id: AtomicU32::new(0),
        }
    }

    /// The call's level.
    #[inline]
    pub fn level(&self) -> Level {
        self.level
    }

    /// The call's target (its module path unless `target:` says otherwise).
    #[inline]
    pub fn target(&self) -> &'static str {
        self.target
    }

    /// Where the call is, as a record's metadata.
    pub(crate) fn site(&self) -> Site<'static> {
        Site {
            target: self.target,
            module_path: self.module_path,
            file: self.file,
            line: Some(self.line),
        }
    }

    /// Formats the message from a record's encoded arguments.
    pub(crate) fn render(&self, d: &mut Decoder<'_>, out: &mut String) -> fmt::Result {
        (self.render)(d, out)
    }

    /// The site's id, registering it on first use.
    #[cfg_attr(not(feature = "log"), allow(dead_code))] // The caller side needs `log`.
    #[inline]
    pub(crate) fn id(&'static self) -> u32 {
        // Acquire pairs with the Release in `register`: a thread that sees
        // the id also sees the registry entry, and so does the writer that
        // reads the id from this thread's record.
        match self.id.load(Ordering::Acquire) {
            0 => self.register(),
            id => id,
        }
    }

    #[cfg_attr(not(feature = "log"), allow(dead_code))] // The caller side needs `log`.
    #[cold]
    #[inline(never)]
    fn register(&'static self) -> u32 {
        let mut sites = REGISTRY.lock().unwrap_or_else(|p| p.into_inner());
        // Another thread may have registered it while this one waited.
        let id = self.id.load(Ordering::Acquire);
        if id != 0 {
            return id;
        }
        sites.push(self);
        // A process has far fewer call sites than u32::MAX (each is a
        // static in the binary).
        let id = u32::try_from(sites.len()).unwrap_or(u32::MAX);
        self.id.store(id, Ordering::Release);
        id
    }
}

/// The writer's copy of the registry.
#[derive(Debug, Default)]
pub(crate) struct Sites {
    known: Vec<&'static CallSite>,
}

impl Sites {
    /// The call site with this id, if it is registered.
    pub(crate) fn get(&mut self, id: u32) -> Option<&'static CallSite> {
        let index = (id as usize).checked_sub(1)?;
        if index >= self.known.len() {
            let sites = REGISTRY.lock().unwrap_or_else(|p| p.into_inner());
            let have = self.known.len();
            self.known
                .extend_from_slice(sites.get(have..).unwrap_or(&[]));
        }
        self.known.get(index).copied()
    }
}
