//! TEMPORARY stand-in renderer until the real one lands.
#![allow(dead_code, missing_docs)]
use crate::level::Level;
use crate::record::{RecordView, Value};
#[derive(Debug, Clone)]
pub struct Format;
impl Format { pub fn text() -> Format { Format } pub fn json() -> Format { Format } }
#[derive(Debug, Clone)]
pub enum TimeZoneChoice { Utc }
pub(crate) struct Renderer;
impl Renderer {
    pub(crate) fn new(_f: &Format) -> Result<Renderer, crate::Error> { Ok(Renderer) }
    pub(crate) fn render(&mut self, rec: &RecordView<'_>, out: &mut Vec<u8>) { out.extend_from_slice(rec.level.as_str().as_bytes()); out.push(b' '); out.extend_from_slice(rec.message()); for it in rec.items().flatten() { if let crate::record::Item::Field(k, v) = it { out.push(b' '); out.extend_from_slice(k); out.extend_from_slice(format!("={v:?}").as_bytes()); } } out.push(b'\n'); }
    pub(crate) fn render_notice(&mut self, level: Level, _ts: u64, message: &str, fields: &[(&str, Value<'_>)], out: &mut Vec<u8>) { out.extend_from_slice(level.as_str().as_bytes()); out.push(b' '); out.extend_from_slice(message.as_bytes()); for (k, v) in fields { out.extend_from_slice(format!(" {k}={v:?}").as_bytes()); } out.push(b'\n'); }
}
