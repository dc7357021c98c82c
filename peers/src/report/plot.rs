//! SVG plots (plotters' SVG backend; text laid out with the DejaVu Sans
//! font shipped in `peers/assets/`, so no system fonts are needed).

use std::path::Path;
use std::sync::OnceLock;

use anyhow::anyhow;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::stats::latency_summary;
use crate::results::Results;

static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

fn font() -> anyhow::Result<()> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(anyhow!("cannot load the bundled font"))
    }
}

/// A colour per peer, stable across plots (by table position).
fn colour(i: usize) -> RGBColor {
    const C: [RGBColor; 11] = [
        RGBColor(120, 120, 120),
        RGBColor(214, 39, 40),
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
        RGBColor(0, 0, 0),
    ];
    C[i % C.len()]
}

fn nines_label(x: &f64) -> String {
    match x.round() as i64 {
        0 => "p0".into(),
        1 => "p90".into(),
        2 => "p99".into(),
        n => format!("p99.{}", "9".repeat((n - 2) as usize)),
    }
}

/// Latency percentile curves of the median run of every peer at `threads`
/// threads: x = number of nines of the percentile, y = ns (log).
pub fn latency(r: &Results, threads: usize, path: &Path) -> anyhow::Result<()> {
    font()?;
    let mut series = Vec::new();
    for (i, p) in r.peers.iter().enumerate() {
        let s = latency_summary(r, &p.name, threads);
        let Some(res) = s.median.and_then(|m| m.child.result.as_ref()) else {
            continue;
        };
        let n = res.latency.count.max(1) as f64;
        let pts: Vec<(f64, f64)> = res
            .curve
            .iter()
            .map(|c| {
                let x = if c.q >= 1.0 {
                    n.log10()
                } else {
                    -(1.0 - c.q).log10()
                };
                (x, c.ns.max(1) as f64)
            })
            .collect();
        series.push((i, p.name.clone(), pts));
    }
    if series.is_empty() {
        return Ok(());
    }
    let xmax = series
        .iter()
        .flat_map(|s| s.2.iter().map(|p| p.0))
        .fold(1.0f64, f64::max)
        .ceil();
    let ymax = series
        .iter()
        .flat_map(|s| s.2.iter().map(|p| p.1))
        .fold(10.0f64, f64::max)
        * 2.0;
    let root = SVGBackend::new(path, (1000, 620)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Caller latency by percentile, {threads} thread(s) (median run)"),
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..xmax, (5f64..ymax).log_scale())
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_labels(xmax as usize + 1)
        .x_label_formatter(&nines_label)
        .y_label_formatter(&|v| super::fmt::dur_ns(*v as u64))
        .x_desc("percentile (the rightmost point of each curve is its maximum)")
        .y_desc("ns per call (log)")
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    for (i, name, pts) in series {
        let c = colour(i);
        let style = if name == "jamless" {
            c.stroke_width(3)
        } else {
            c.stroke_width(2)
        };
        chart
            .draw_series(LineSeries::new(pts, style))
            .map_err(|e| anyhow!("{e}"))?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

/// Horizontal bars per peer: missing, duplicated, torn and unaccounted
/// records in the rotation scenario (log scale; the exact numbers are
/// written next to the bars).
pub fn rotation_losses(r: &Results, path: &Path) -> anyhow::Result<()> {
    font()?;
    if r.rotation.is_empty() {
        return Ok(());
    }
    let kinds = ["missing", "duplicated", "torn", "unaccounted"];
    let rows: Vec<(String, [u64; 4], usize)> = r
        .rotation
        .iter()
        .map(|rot| {
            let unacc = rot.missing() as i64 - rot.reported_dropped().unwrap_or(0) as i64;
            (
                rot.peer.clone(),
                [
                    rot.missing(),
                    rot.scan.counts.duplicates,
                    rot.scan.counts.torn,
                    unacc.max(0) as u64,
                ],
                rot.hung(),
            )
        })
        .collect();
    let n = rows.len() as i32;
    let per = kinds.len() as i32 + 1;
    let max = rows
        .iter()
        .flat_map(|r| r.1.iter().copied())
        .max()
        .unwrap_or(1)
        .max(10) as f64;
    let root = SVGBackend::new(path, (1000, (80 + 22 * per * n) as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let names: Vec<String> = rows
        .iter()
        .map(|r| {
            if r.2 > 0 {
                format!("{} ({} hung)", r.0, r.2)
            } else {
                r.0.clone()
            }
        })
        .collect();
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Rotation scenario: records lost or damaged per peer (log scale; 0 = no bar)",
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(35)
        .y_label_area_size(170)
        .build_cartesian_2d((0.8f64..max * 60.0).log_scale(), 0i32..per * n)
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .y_labels((per * n) as usize)
        .y_label_formatter(&|v| {
            let (row, k) = ((n * per - 1 - *v) / per, (n * per - 1 - *v) % per);
            if k == 1 {
                names.get(row as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .disable_y_mesh()
        .x_label_formatter(&|v| super::fmt::int(v.round() as u64))
        .x_desc("records")
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    for (k, kind) in kinds.iter().enumerate() {
        let c = colour(k + 1);
        let bars: Vec<_> = rows
            .iter()
            .enumerate()
            .map(|(row, r)| {
                // Top to bottom in table order.
                let y = n * per - 1 - (row as i32 * per + k as i32);
                let v = r.1[k] as f64;
                Rectangle::new([(0.8, y), (v.max(0.8), y + 1)], c.filled())
            })
            .collect();
        chart
            .draw_series(bars)
            .map_err(|e| anyhow!("{e}"))?
            .label(*kind)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], c.filled()));
        let labels: Vec<_> = rows
            .iter()
            .enumerate()
            .map(|(row, r)| {
                let y = n * per - 1 - (row as i32 * per + k as i32);
                let v = r.1[k];
                Text::new(
                    super::fmt::int(v),
                    ((v as f64).max(0.8) * 1.1, y + 1),
                    ("sans-serif", 12).into_font(),
                )
            })
            .collect();
        chart.draw_series(labels).map_err(|e| anyhow!("{e}"))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow!("{e}"))?;
    Ok(())
}
