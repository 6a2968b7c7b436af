//! The size-versus-speed chart: one labelled point per verified row, bits on a linear
//! vertical axis (lower is smaller), compression speed on a logarithmic horizontal axis
//! (compressors span five orders of magnitude). Plain SVG written by hand, so the chart
//! costs no dependency and opens in any browser.

use std::fmt::Write;

use super::report::Report;
use super::{Status, Variant};

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 600.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 260.0;
const TOP: f64 = 60.0;
const BOTTOM: f64 = 70.0;

/// One point: compression MB/s, bits per byte, label, variant.
struct Point {
    speed: f64,
    bits: f64,
    label: String,
    variant: Variant,
}

/// The chart of a report as an SVG document.
pub fn svg(report: &Report) -> String {
    let points: Vec<Point> = report
        .rows
        .iter()
        .filter(|r| r.status == Status::Verified)
        .filter_map(|r| {
            Some(Point {
                speed: r.compress_mb_s.filter(|s| *s > 0.0)?,
                bits: r.bits_per_byte()?,
                label: r.compressor.clone(),
                variant: r.variant,
            })
        })
        .collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let title = format!("{} ({})", report.input, report.machine.cpu);
    let _ = writeln!(
        out,
        r#"<text x="{LEFT}" y="28" font-size="15" font-weight="bold">{}</text>"#,
        escape(&title)
    );
    if points.is_empty() {
        let _ = writeln!(
            out,
            r#"<text x="{LEFT}" y="{}">no verified results to plot</text>"#,
            HEIGHT / 2.0
        );
    } else {
        draw(&mut out, &points, &report.unit);
    }
    out.push_str("</svg>\n");
    out
}

/// Axes, grid, legend and points.
fn draw(out: &mut String, points: &[Point], unit: &str) {
    let lo = points
        .iter()
        .map(|p| p.speed.log10().floor())
        .fold(f64::INFINITY, f64::min);
    let hi = points
        .iter()
        .map(|p| p.speed.log10().ceil())
        .fold(f64::NEG_INFINITY, f64::max);
    let hi = if hi > lo { hi } else { lo + 1.0 };
    let top_bits = points.iter().map(|p| p.bits).fold(0.0, f64::max).max(1e-3) * 1.1;
    let step = tick_step(top_bits);
    let y_max = (top_bits / step).ceil() * step;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |speed: f64| LEFT + (speed.log10() - lo) / (hi - lo) * plot_w;
    let y = |bits: f64| TOP + plot_h - bits / y_max * plot_h;
    let bottom = TOP + plot_h;
    let right = LEFT + plot_w;
    for decade in lo as i32..=hi as i32 {
        let px = x(10f64.powi(decade));
        let _ = writeln!(
            out,
            r##"<line x1="{px:.1}" y1="{TOP}" x2="{px:.1}" y2="{bottom}" stroke="#ddd"/><text x="{px:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            bottom + 18.0,
            decade_label(decade)
        );
    }
    let ticks = (y_max / step).round() as usize;
    for i in 0..=ticks {
        let bits = i as f64 * step;
        let py = y(bits);
        let _ = writeln!(
            out,
            r##"<line x1="{LEFT}" y1="{py:.1}" x2="{right}" y2="{py:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{bits:.2}</text>"##,
            LEFT - 6.0,
            py + 4.0
        );
    }
    let _ = writeln!(
        out,
        r##"<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>"##
    );
    let _ = writeln!(
        out,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">compression speed, MB/s (log scale)</text>"#,
        LEFT + plot_w / 2.0,
        HEIGHT - 24.0
    );
    let _ = writeln!(
        out,
        r#"<text transform="translate(22 {:.1}) rotate(-90)" text-anchor="middle">{} (lower is smaller)</text>"#,
        TOP + plot_h / 2.0,
        escape(unit)
    );
    legend(out, right + 16.0);
    let anchors: Vec<(f64, f64)> = points.iter().map(|p| (x(p.speed), y(p.bits))).collect();
    let labels = place_labels(points, &anchors);
    for ((p, &(px, py)), &ly) in points.iter().zip(&anchors).zip(&labels) {
        let _ = writeln!(out, "{}", marker(p.variant, px, py));
        if (ly - py).abs() > 1.0 {
            let _ = writeln!(
                out,
                r##"<line x1="{px:.1}" y1="{py:.1}" x2="{:.1}" y2="{:.1}" stroke="#999"/>"##,
                px + 6.0,
                ly - 4.0
            );
        }
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{ly:.1}">{}</text>"#,
            px + 7.0,
            escape(&p.label)
        );
    }
}

/// Baselines for the labels: next to each point, moved down past any label already placed
/// that it would overlap, so that close points stay readable.
fn place_labels(points: &[Point], anchors: &[(f64, f64)]) -> Vec<f64> {
    const LINE: f64 = 13.0;
    const CHAR: f64 = 6.5;
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| anchors[a].1.total_cmp(&anchors[b].1));
    let mut placed: Vec<(f64, f64, f64)> = Vec::new();
    let mut baselines = vec![0.0; points.len()];
    for i in order {
        let (px, py) = anchors[i];
        let (x0, x1) = (
            px + 7.0,
            px + 7.0 + CHAR * points[i].label.chars().count() as f64,
        );
        let mut ly = py + 4.0;
        while let Some(&(_, _, other)) = placed
            .iter()
            .find(|&&(a, b, other)| a < x1 && x0 < b && (ly - other).abs() < LINE)
        {
            ly = other + LINE;
        }
        placed.push((x0, x1, ly));
        baselines[i] = ly;
    }
    baselines
}

fn legend(out: &mut String, left: f64) {
    for (i, (variant, text)) in [
        (Variant::WholeSet, "whole set"),
        (Variant::PerRecord, "per record"),
    ]
    .into_iter()
    .enumerate()
    {
        let py = TOP + 10.0 + 20.0 * i as f64;
        let _ = writeln!(out, "{}", marker(variant, left, py));
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}">{text}</text>"#,
            left + 10.0,
            py + 4.0
        );
    }
}

/// Whole-set points are blue circles, per-record points orange squares.
fn marker(variant: Variant, x: f64, y: f64) -> String {
    match variant {
        Variant::WholeSet => {
            format!(r##"<circle cx="{x:.1}" cy="{y:.1}" r="5" fill="#1f77b4"/>"##)
        }
        Variant::PerRecord => format!(
            r##"<rect x="{:.1}" y="{:.1}" width="9" height="9" fill="#ff7f0e"/>"##,
            x - 4.5,
            y - 4.5
        ),
    }
}

/// A 1-2-5 step giving at most ten horizontal grid lines.
fn tick_step(max: f64) -> f64 {
    let mut step = 10f64.powf((max / 10.0).log10().floor());
    for factor in [1.0, 2.0, 5.0, 10.0] {
        if max / (step * factor) <= 10.0 {
            step *= factor;
            break;
        }
    }
    step
}

fn decade_label(decade: i32) -> String {
    if decade >= 0 {
        format!("{}", 10u64.pow(decade.unsigned_abs()))
    } else {
        format!("{}", 10f64.powi(decade))
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_labels_are_moved_apart() {
        let point = |label: &str| Point {
            speed: 1.0,
            bits: 1.0,
            label: label.to_string(),
            variant: Variant::WholeSet,
        };
        let points = [point("zstd -19"), point("zstd -22"), point("far away")];
        let anchors = [(100.0, 200.0), (102.0, 201.0), (600.0, 200.0)];
        let baselines = place_labels(&points, &anchors);
        assert_eq!(baselines[0], 204.0);
        assert_eq!(baselines[1], 217.0, "pushed one line below the first");
        assert_eq!(baselines[2], 204.0, "no overlap, stays beside its point");
    }

    #[test]
    fn ticks_and_labels() {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(tick_step(2.2), 0.5));
        assert!(close(tick_step(9.0), 1.0));
        assert!(close(tick_step(0.33), 0.05));
        assert_eq!(decade_label(3), "1000");
        assert_eq!(decade_label(-2), "0.01");
        assert_eq!(escape("a<b & c>"), "a&lt;b &amp; c&gt;");
    }
}
