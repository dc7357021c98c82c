//! The native macros' path: deferred formatting.
//!
//! `jamless::info!("{} took {:.1} ms", path, ms)` expands (see the
//! `jamless-macros` crate) to a `static` [`CallSite`] and a call that copies
//! the site's id and the raw arguments into a [`Kind::Native`] record
//! ([`args`] has the encoding). The record then takes the facade's way:
//! the same filter, admission, queue, counters and writer. On the writer,
//! [`Resolver::resolve`] looks the id up, formats the message with the
//! site's generated render function (the format string's pieces and specs,
//! fixed at compile time, so it renders what `format!` renders), and hands
//! the renderers an ordinary event: a native call's line is byte for byte
//! the line of the same `log::info!` call.
//!
//! Files: [`site`] (call sites and their registry), [`args`] (argument
//! encoding), `call` (the caller's side: global logger, filter, submit) and
//! `macros` (the `macro_rules!` front-ends).
//!
//! [`Kind::Native`]: crate::record::Kind::Native

pub(crate) mod args;
#[cfg(feature = "log")]
pub(crate) mod call;
mod macros;
pub(crate) mod site;

use std::fmt::Write as _;

use crate::record::RecordView;

use args::Decoder;
pub use args::{NativeArg, NativeValue};
#[cfg(feature = "log")]
pub(crate) use call::set_global_max_level;
pub(crate) use site::Sites;

/// What a formatting failure leaves in the message, as the facade path
/// writes it.
const FORMAT_ERROR: &str = "<formatting error>";

/// Turns Native records into events on the writer thread.
#[derive(Debug, Default)]
pub(crate) struct Resolver {
    sites: Sites,
    message: String,
}

impl Resolver {
    /// Formats a Native record's message and calls `render` with the event
    /// it stands for.
    pub(crate) fn resolve(&mut self, rec: &RecordView<'_>, render: impl FnOnce(&RecordView<'_>)) {
        self.message.clear();
        let site = match rec.native_parts() {
            Ok((id, args)) => match self.sites.get(id) {
                Some(site) => {
                    let mut d = Decoder::new(args);
                    // A failure is a caller-formatted argument whose
                    // formatting failed (marked as the facade path marks
                    // it) or the end of a truncated record (the renderer
                    // marks that).
                    if site.render(&mut d, &mut self.message).is_err() && !rec.truncated() {
                        self.message.push_str(FORMAT_ERROR);
                    }
                    Some(site.site())
                }
                None => {
                    let _ = write!(self.message, "jamless: record from unknown call site {id}");
                    None
                }
            },
            Err(_) => {
                self.message.push_str("jamless: malformed native record");
                None
            }
        };
        let site = site.unwrap_or(crate::record::Site {
            target: UNKNOWN_SITE_TARGET,
            module_path: "",
            file: "",
            line: None,
        });
        render(&rec.resolved(site, self.message.as_bytes()));
    }
}

/// The target a record is routed by: its own, or, for a Native record
/// (whose head stores none), its call site's, cut as a head would cut it.
/// A record whose site is unknown or malformed routes by the target its
/// line will show (`jamless`, see [`Resolver::resolve`]).
pub(crate) fn route_target<'a>(rec: &RecordView<'a>, sites: &mut Sites) -> &'a [u8] {
    if rec.kind != crate::record::Kind::Native {
        return rec.target;
    }
    let target = match rec.native_parts().map(|(id, _)| sites.get(id)) {
        Ok(Some(site)) => site.target(),
        _ => UNKNOWN_SITE_TARGET,
    };
    crate::record::prefix_at_char(target, crate::record::MAX_META_STR)
}

/// The target of a Native record whose call site is unknown.
const UNKNOWN_SITE_TARGET: &str = "jamless";

/// What the macros' expansion uses. Not public API: may change in any
/// release.
#[doc(hidden)]
pub mod __private {
    pub use super::args::{Arg, ArgEncoder, Decoder, ViaFormat, ViaNative, Wrap};
    #[cfg(feature = "log")]
    pub use super::call::{explicit_enabled, global_enabled, submit};
    pub use super::site::CallSite;
    pub use jamless_macros::__native;
    #[cfg(feature = "log")]
    pub use log;
}

#[cfg(all(test, feature = "log"))]
#[path = "route_tests.rs"]
mod route_tests;
