//! One module per peer; [`init`] picks one by name.

use crate::peer::{Peer, PeerInfo, Setup};

/// Every peer, in table order.
pub fn all() -> Vec<PeerInfo> {
    vec![]
}

/// Installs the named peer for `setup`.
pub fn init(name: &str, setup: &Setup) -> Result<Box<dyn Peer>, String> {
    let _ = setup;
    Err(format!("unknown peer {name}"))
}
