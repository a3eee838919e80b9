//! Charts drawn on the server as SVG with plotters: no system fonts (text stays `<text>` for the
//! browser to render), no inline styles (the pages' CSP allows none), a text alternative beside.

use chrono::NaiveDate;
use plotters::prelude::*;

/// A line chart of a daily score (0–100). Empty series: no chart.
pub fn score_trend_svg(points: &[(NaiveDate, f64)], caption: &str) -> Option<String> {
    let (first, last) = (points.first()?.0, points.last()?.0);
    // One day of room on each side, so a single point still has an axis.
    let (from, to) = (first - chrono::Duration::days(1), last + chrono::Duration::days(1));
    let span = (to - from).num_days() as i32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 240)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(36)
            .build_cartesian_2d(0..span, 0f64..100f64)
            .ok()?;
        chart
            .configure_mesh()
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&|d| (from + chrono::Duration::days(i64::from(*d))).format("%m-%d").to_string())
            .y_label_formatter(&|v| format!("{v:.0}"))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .ok()?;
        let series: Vec<(i32, f64)> = points.iter().map(|(d, s)| ((*d - from).num_days() as i32, *s)).collect();
        let line = RGBColor(11, 95, 165);
        chart.draw_series(LineSeries::new(series.clone(), line.stroke_width(2))).ok()?;
        chart.draw_series(series.iter().map(|p| Circle::new(*p, 3, line.filled()))).ok()?;
        root.present().ok()?;
    }
    Some(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trend_is_an_svg_with_one_point_per_day_and_no_inline_style() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let svg = score_trend_svg(&[(d("2026-11-01"), 40.0), (d("2026-11-02"), 55.5)], "payments").unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(!svg.contains("style="), "the CSP allows no inline style");
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains("payments"), "{svg}");
        assert!(score_trend_svg(&[], "none").is_none());
    }
}
