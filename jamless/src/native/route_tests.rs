//! Routing of Native records by their call site's target.

use super::*;
use crate::level::Level;
use crate::record::{encode_pending, Kind, Meta};

fn nothing(_: &mut Decoder<'_>, _: &mut String) -> std::fmt::Result {
    Ok(())
}

static SITE: site::CallSite = site::CallSite::new(
    Level::Info,
    "app::http",
    "app",
    "src/app.rs",
    3,
    "",
    nothing,
);

fn record(kind: Kind, target: &str, id: u32) -> Vec<u8> {
    let meta = Meta {
        kind,
        level: Level::Info,
        timestamp_ns: 1,
        thread_id: 1,
        thread_name: "main",
        target,
        module_path: "",
        file: "",
        line: None,
    };
    encode_pending(&meta, |enc| {
        enc.message_buf().extend_from_slice(&id.to_le_bytes());
    })
}

#[test]
fn a_native_record_routes_by_its_call_sites_target() {
    let mut sites = Sites::default();
    let native = record(Kind::Native, "stored nowhere", SITE.id());
    let view = RecordView::parse(&native).unwrap();
    assert_eq!(view.target, b"", "the head has no target");
    assert_eq!(route_target(&view, &mut sites), b"app::http");

    let unknown = record(Kind::Native, "", u32::MAX);
    let view = RecordView::parse(&unknown).unwrap();
    assert_eq!(route_target(&view, &mut sites), b"jamless");

    let event = record(Kind::Event, "db", 0);
    let view = RecordView::parse(&event).unwrap();
    assert_eq!(route_target(&view, &mut sites), b"db");
}
