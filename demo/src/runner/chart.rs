//! The SVG chart: one column per phase; on top latency p50/p99 per second
//! (log scale), below timeouts per second; grey vertical lines at the
//! rotation instants, a red one where the naive consumer died or where the
//! collector was stopped (network phase), yellow bands where the runner
//! itself did not run (an overloaded machine).
//!
//! plotters' `ab_glyph` text layout needs a font registered from bytes, so
//! the binary embeds DejaVu Sans Mono (`demo/assets/`, Bitstream Vera
//! licence alongside) and registers it as `monospace` and `sans-serif`.
//! The SVG itself only names the family; viewers draw it with their own
//! font of that family, whose metrics a monospace layout matches closely.

use std::path::Path;
use std::sync::Once;

use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::report::PhaseReport;

static FONT: &[u8] = include_bytes!("../../assets/DejaVuSansMono.ttf");
const FAMILY: &str = "monospace";
const POD_COLORS: [[RGBColor; 2]; 2] = [
    [RGBColor(120, 170, 220), RGBColor(20, 80, 160)],
    [RGBColor(240, 170, 90), RGBColor(200, 90, 0)],
];

/// The rotation phase's chart title.
pub const ROTATION_TITLE: &str =
    "GET /v1/healthCheck: two services sharing one log file name, rotating together";
/// The network phase's chart title.
pub const NETWORK_TITLE: &str =
    "GET /v1/healthCheck: two services logging to one rsyslogd, stopped (SIGSTOP) mid-run";

/// Writes the chart of `phases` to `path`.
pub fn write(path: &Path, title: &str, phases: &[PhaseReport], timeout_ms: u64) -> Result<()> {
    register_fonts()?;
    let width = 60 + 640 * phases.len().max(1) as u32;
    let root = SVGBackend::new(path, (width, 820)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let root = root.titled(title, (FAMILY, 20)).map_err(err)?;
    let columns = root.split_evenly((1, phases.len().max(1)));
    for (area, phase) in columns.iter().zip(phases) {
        let (top, bottom) = area.split_vertically(520);
        latency_panel(&top, phase, timeout_ms)?;
        timeout_panel(&bottom, phase, timeout_ms)?;
    }
    root.present()
        .map_err(|e| anyhow!("writing {}: {e}", path.display()))?;
    Ok(())
}

fn latency_panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    p: &PhaseReport,
    timeout_ms: u64,
) -> Result<()> {
    let xmax = x_max(p);
    let worst = p
        .instances
        .iter()
        .flat_map(|i| i.per_second.iter().filter_map(|b| b.p99_ms))
        .fold(timeout_ms as f64, f64::max);
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("{}: latency of answered requests", p.logger),
            (FAMILY, 16),
        )
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..xmax, (0.05f64..worst * 2.0).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("seconds since the services started")
        .y_desc("ms (log)")
        .light_line_style(TRANSPARENT)
        .label_style((FAMILY, 12))
        .axis_desc_style((FAMILY, 12))
        .draw()
        .map_err(err)?;
    let (lo, hi) = (0.05, worst * 2.0);
    markers(&mut chart, p, lo, hi)?;
    for (i, inst) in p.instances.iter().enumerate() {
        let colors = POD_COLORS[i % POD_COLORS.len()];
        for (q, color) in [(50, colors[0]), (99, colors[1])] {
            let points: Vec<Option<(f64, f64)>> = inst
                .per_second
                .iter()
                .enumerate()
                .map(|(s, b)| {
                    let v = if q == 50 { b.p50_ms } else { b.p99_ms };
                    v.map(|v| (s as f64 + 0.5, v.max(lo)))
                })
                .collect();
            let label = format!("{} p{q}", inst.name);
            draw_runs(&mut chart, &points, color, &label)?;
        }
    }
    chart
        .configure_series_labels()
        .label_font((FAMILY, 12))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(err)?;
    Ok(())
}

fn timeout_panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    p: &PhaseReport,
    timeout_ms: u64,
) -> Result<()> {
    let xmax = x_max(p);
    let most = p
        .instances
        .iter()
        .flat_map(|i| i.per_second.iter().map(|b| b.counts.timed_out))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!(
                "{}: requests timed out ({timeout_ms} ms), by second sent",
                p.logger
            ),
            (FAMILY, 16),
        )
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..xmax, 0f64..most * 1.7)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("seconds since the services started")
        .y_desc("timeouts / s")
        .light_line_style(TRANSPARENT)
        .label_style((FAMILY, 12))
        .axis_desc_style((FAMILY, 12))
        .draw()
        .map_err(err)?;
    markers(&mut chart, p, 0.0, most * 1.7)?;
    // Side-by-side bars, one per service, in each second.
    let n = p.instances.len().max(1) as f64;
    let width = 0.8 / n;
    for (i, inst) in p.instances.iter().enumerate() {
        let color = POD_COLORS[i % POD_COLORS.len()][1];
        let bars = inst
            .per_second
            .iter()
            .enumerate()
            .filter(|(_, b)| b.counts.timed_out > 0)
            .map(|(s, b)| {
                let x0 = s as f64 + 0.1 + width * i as f64;
                let y = b.counts.timed_out as f64;
                Rectangle::new([(x0, 0.0), (x0 + width, y)], color.filled())
            });
        chart
            .draw_series(bars)
            .map_err(err)?
            .label(inst.name.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 12, y + 4)], color.filled()));
    }
    chart
        .configure_series_labels()
        .label_font((FAMILY, 12))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(err)?;
    Ok(())
}

type Chart<'a, Y> =
    ChartContext<'a, SVGBackend<'a>, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>;

/// Rotation instants (grey), the consumer's death or the collector's stop
/// (red).
fn markers<Y>(chart: &mut Chart<'_, Y>, p: &PhaseReport, lo: f64, hi: f64) -> Result<()>
where
    Y: Ranged<ValueType = f64>,
{
    let grey = RGBColor(120, 120, 120).mix(0.6);
    let lines = p
        .rotations_at
        .iter()
        .map(|&t| PathElement::new([(t, lo), (t, hi)], grey.stroke_width(1)));
    chart
        .draw_series(lines)
        .map_err(err)?
        .label("rotation")
        .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], grey.stroke_width(1)));
    if !p.runner_stalls.is_empty() {
        let yellow = RGBColor(230, 190, 0).mix(0.25);
        let bands = p
            .runner_stalls
            .iter()
            .map(|&(at, len)| Rectangle::new([(at, lo), (at + len, hi)], yellow.filled()));
        chart
            .draw_series(bands)
            .map_err(err)?
            .label("runner stalled (machine overloaded)")
            .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 12, y + 4)], yellow.filled()));
    }
    if let Some((who, f)) = &p.consumer_died {
        let t = f.at_secs;
        chart
            .draw_series([PathElement::new([(t, lo), (t, hi)], RED.stroke_width(2))])
            .map_err(err)?
            .label(format!("{who}: consumer died"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], RED.stroke_width(2)));
    }
    if let Some(t) = p.collector_stopped_at {
        chart
            .draw_series([PathElement::new([(t, lo), (t, hi)], RED.stroke_width(2))])
            .map_err(err)?
            .label("rsyslogd stopped (SIGSTOP)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], RED.stroke_width(2)));
    }
    Ok(())
}

/// Draws the contiguous runs of `points` as lines (gaps stay gaps), with
/// one legend entry.
fn draw_runs<Y>(
    chart: &mut Chart<'_, Y>,
    points: &[Option<(f64, f64)>],
    color: RGBColor,
    label: &str,
) -> Result<()>
where
    Y: Ranged<ValueType = f64>,
{
    let mut labelled = false;
    for run in points.split(Option::is_none) {
        let run: Vec<(f64, f64)> = run.iter().flatten().copied().collect();
        if run.is_empty() {
            continue;
        }
        let series = chart
            .draw_series(LineSeries::new(run, color.stroke_width(2)).point_size(1))
            .map_err(err)?;
        if !labelled {
            labelled = true;
            series.label(label).legend(move |(x, y)| {
                PathElement::new([(x, y), (x + 16, y)], color.stroke_width(2))
            });
        }
    }
    Ok(())
}

fn x_max(p: &PhaseReport) -> f64 {
    let secs = p
        .instances
        .iter()
        .map(|i| i.per_second.len())
        .max()
        .unwrap_or(1);
    (secs as f64).max(1.0)
}

fn register_fonts() -> Result<()> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        for family in [FAMILY, "sans-serif"] {
            if plotters::style::register_font(family, FontStyle::Normal, FONT).is_err() {
                result = Err(anyhow!("the embedded chart font is invalid"));
            }
        }
    });
    result
}

fn err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("drawing the chart: {e}")
}
