//! Charts drawn on the server as SVG with plotters: no system fonts (text stays `<text>` for the
//! browser to render), no inline styles (the pages' CSP allows none), a text alternative beside.

use crate::domain::dates::{add_days, days_between};
use chrono::NaiveDate;
use plotters::prelude::*;

/// A line chart of a daily score (0–100). Empty series: no chart.
pub fn score_trend_svg(points: &[(NaiveDate, f64)], caption: &str) -> Option<String> {
    let (first, last) = (points.first()?.0, points.last()?.0);
    // One day of room on each side, so a single point still has an axis.
    let (from, to) = (add_days(first, -1), add_days(last, 1));
    let span = i32::try_from(days_between(from, to)).ok()?;
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
            .x_label_formatter(&|d| add_days(from, i64::from(*d)).format("%m-%d").to_string())
            .y_label_formatter(&|v| format!("{v:.0}"))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .ok()?;
        let series: Vec<(i32, f64)> = points.iter().map(|(d, s)| (days_between(from, *d) as i32, *s)).collect();
        let line = RGBColor(11, 95, 165);
        chart.draw_series(LineSeries::new(series.clone(), line.stroke_width(2))).ok()?;
        chart.draw_series(series.iter().map(|p| Circle::new(*p, 3, line.filled()))).ok()?;
        root.present().ok()?;
    }
    Some(svg)
}

/// A small line of a daily score (0–100) for a card or a headline: no axes, the 50 and 90 marks
/// as faint lines, the last day as a dot. Empty series: no chart.
pub fn sparkline_svg(points: &[(NaiveDate, f64)]) -> Option<String> {
    let first = points.first()?.0;
    let span = i32::try_from(days_between(first, points.last()?.0)).ok()?.max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (200, 48)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root).margin(4).build_cartesian_2d(0..span, 0f64..100f64).ok()?;
        let faint = RGBColor(220, 220, 220);
        for mark in [50.0, 90.0] {
            chart.draw_series(LineSeries::new([(0, mark), (span, mark)], faint.stroke_width(1))).ok()?;
        }
        let series: Vec<(i32, f64)> = points.iter().map(|(d, s)| (days_between(first, *d) as i32, *s)).collect();
        let line = RGBColor(11, 95, 165);
        chart.draw_series(LineSeries::new(series.clone(), line.stroke_width(2))).ok()?;
        chart.draw_series(series.last().map(|p| Circle::new(*p, 3, line.filled()))).ok()?;
        root.present().ok()?;
    }
    Some(svg)
}

/// A campaign's burndown: items not yet done per day, and (with a deadline) the straight line
/// from the first day's count to none on the deadline. Empty series: no chart.
pub fn burndown_svg(points: &[(NaiveDate, i64)], deadline: Option<NaiveDate>, caption: &str) -> Option<String> {
    let first = points.first()?.0;
    let last = points.last()?.0.max(deadline.unwrap_or(first));
    let (from, to) = (add_days(first, -1), add_days(last, 1));
    let span = i32::try_from(days_between(from, to)).ok()?;
    // Whole items on the y axis: from none to one above the most.
    let top = points.iter().map(|(_, n)| *n).max().unwrap_or(0) + 1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 240)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(44)
            .build_cartesian_2d(0..span, 0i64..top)
            .ok()?;
        chart
            .configure_mesh()
            .x_labels(6)
            .y_labels((top as usize + 1).min(6))
            .x_label_formatter(&|d| add_days(from, i64::from(*d)).format("%m-%d").to_string())
            .y_label_formatter(&|v| v.to_string())
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .ok()?;
        let x = |d: NaiveDate| days_between(from, d).clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
        if let (Some(deadline), Some((d0, n0))) = (deadline, points.first()) {
            let ideal = RGBColor(150, 150, 150);
            chart.draw_series(LineSeries::new(vec![(x(*d0), *n0), (x(deadline), 0)], ideal.stroke_width(1))).ok()?;
        }
        let series: Vec<(i32, i64)> = points.iter().map(|(d, n)| (x(*d), *n)).collect();
        let line = RGBColor(180, 60, 20);
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

    #[test]
    fn a_sparkline_is_a_small_svg_ending_in_a_dot_and_none_without_points() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let svg = sparkline_svg(&[(d("2026-11-01"), 40.0), (d("2026-11-02"), 55.5), (d("2026-11-03"), 70.0)]).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains(r#"width="200""#), "{svg}");
        assert_eq!(svg.matches("<circle").count(), 1, "only the last day is a dot");
        assert!(!svg.contains("style="), "no inline style");
        assert!(sparkline_svg(&[(d("2026-11-01"), 40.0)]).is_some(), "one day still draws");
        assert!(sparkline_svg(&[]).is_none());
    }

    #[test]
    fn a_burndown_has_a_point_per_day_and_the_ideal_line() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let svg = burndown_svg(&[(d("2026-12-01"), 3), (d("2026-12-02"), 2), (d("2026-12-03"), 0)], Some(d("2026-12-10")), "bash").unwrap();
        assert!(!svg.contains("style="));
        assert_eq!(svg.matches("<circle").count(), 3);
        let lines = |colour: &str| svg.split("<polyline").skip(1).filter(|l| l.split('>').next().unwrap_or("").contains(colour)).count();
        assert_eq!(lines("#B43C14"), 1, "the burndown: {svg}");
        assert_eq!(lines("#969696"), 1, "the ideal line: {svg}");
        assert!(burndown_svg(&[], None, "none").is_none());
    }
}
