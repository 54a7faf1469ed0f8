//! Line chart: one line per series across the x positions (runs or months,
//! in time order), a dot at every point so that a single run, or a series
//! hidden under another, still shows. A position without a value breaks the
//! lines: a gap, not a line drawn across it. [`draw`] is the fixed 0–100%
//! axis of the quality scores; [`draw_in`] takes any range.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{slot_chart, Mapping, Theme, TickFormat};

/// One line.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub color: RGBColor,
    /// One value (0–100) per x position; `None`: a gap.
    pub values: Vec<Option<f64>>,
    /// Drawn thicker and last (on top): the headline series.
    pub bold: bool,
}

/// Draws `series` over the x positions named by `x_labels` on a 0–100% axis;
/// `scale` is the device pixel ratio. The mapping has one slot per x position.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    x_labels: &[String],
    series: &[Series],
    theme: &Theme,
    scale: f64,
) -> Result<Mapping, String> {
    draw_in(root, x_labels, series, theme, scale, (0.0, 100.0), &|t| {
        format!("{:.0}%", t.value)
    })
}

/// As [`draw`], on the value axis `range` (values outside it are drawn at
/// its edge) labelled by `y_format`.
pub fn draw_in<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    x_labels: &[String],
    series: &[Series],
    theme: &Theme,
    scale: f64,
    (lo, hi): (f64, f64),
    y_format: &TickFormat,
) -> Result<Mapping, String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let px = |v: f64| (v * scale).round() as u32;
    let mut chart = slot_chart(root, x_labels, (lo, hi), theme, scale, 48.0, y_format)?;
    let mut order: Vec<&Series> = series.iter().collect();
    order.sort_by_key(|s| s.bold);
    for s in order {
        let (line, dot) = if s.bold { (3.0, 4.0) } else { (2.0, 3.0) };
        let segments = segments(&s.values, lo, hi);
        for segment in segments.iter().filter(|points| points.len() > 1) {
            chart
                .draw_series(LineSeries::new(segment.iter().copied(), s.color.stroke_width(px(line))))
                .map_err(err)?;
        }
        chart
            .draw_series(
                segments
                    .iter()
                    .flatten()
                    .map(|p| Circle::new(*p, px(dot), s.color.filled())),
            )
            .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(Mapping::of_plot(chart.plotting_area(), x_labels.len(), false))
}

/// A value axis for `series`: their smallest and largest values and every
/// value of `include` (a reference line such as 0 or 100%), with 10% of room
/// beyond each end; `(0, 1)` without values.
pub fn padded_range(series: &[Series], include: &[f64]) -> (f64, f64) {
    let values = series.iter().flat_map(|s| s.values.iter().flatten().copied());
    let (lo, hi) = values
        .chain(include.iter().copied())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    let span = if (hi - lo).abs() < f64::EPSILON {
        hi.abs().max(1.0)
    } else {
        hi - lo
    };
    let pad = span * 0.1;
    // An axis of values that are never negative does not dip below zero.
    let bottom = if lo >= 0.0 { (lo - pad).max(0.0) } else { lo - pad };
    (bottom, hi + pad)
}

/// The runs of consecutive values, as points (x position, value clamped to `lo`–`hi`).
fn segments(values: &[Option<f64>], lo: f64, hi: f64) -> Vec<Vec<(f64, f64)>> {
    let mut segments: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for (i, v) in values.iter().enumerate() {
        match (v, segments.last_mut()) {
            (Some(v), Some(segment)) => segment.push((i as f64, v.clamp(lo, hi))),
            _ => segments.push(Vec::new()),
        }
    }
    segments.retain(|s| !s.is_empty());
    segments
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::testing::Recorder;

    fn series(name: &str, color: RGBColor, values: &[f64], bold: bool) -> Series {
        Series {
            name: name.into(),
            color,
            values: values.iter().copied().map(Some).collect(),
            bold,
        }
    }

    fn labels(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("#{i}")).collect()
    }

    /// The x of slot `i` of `n`, and the y of `value`, in backend pixels.
    fn at(m: &Mapping, i: usize, n: usize, value: f64) -> (i32, i32) {
        let slot = f64::from(m.right - m.left + 1) / n as f64;
        let x = f64::from(m.left) + slot * (i as f64 + 0.5);
        let y = f64::from(m.bottom) - (f64::from(m.bottom - m.top) * value / 100.0);
        (x.round() as i32, y.round() as i32)
    }

    fn near(rec: &Recorder, (x, y): (i32, i32), color: RGBColor) -> bool {
        (-2..=2).any(|dx| (-2..=2).any(|dy| rec.pixel(x + dx, y + dy) == color))
    }

    #[test]
    fn every_series_in_its_colour_through_its_points() {
        let t = Theme::LIGHT;
        let data = vec![
            series("Overall", t.primary, &[60.0, 80.0, 70.0], true),
            series("Integrity", t.series[4], &[10.0, 100.0, 66.0], false),
        ];
        let rec = Recorder::new(600, 300);
        let m = draw(&rec.clone().into_drawing_area(), &labels(3), &data, &t, 1.0).unwrap();
        assert_eq!(m.bars, 3);
        for s in &data {
            assert!(rec.count(s.color) > 100, "{} drawn: {} px", s.name, rec.count(s.color));
            for (i, v) in s.values.iter().enumerate() {
                assert!(near(&rec, at(&m, i, 3, v.unwrap()), s.color), "{} point {i}", s.name);
            }
        }
        // Between two points the line passes through their midpoint.
        let (x0, y0) = at(&m, 0, 3, 10.0);
        let (x1, y1) = at(&m, 1, 3, 100.0);
        assert!(near(&rec, ((x0 + x1) / 2, (y0 + y1) / 2), t.series[4]));
        // The nearest run of a mouse position.
        assert_eq!(m.index_at(at(&m, 2, 3, 0.0).0 - 10, m.top + 5), Some(2));
        assert_eq!(m.index_at(m.left, m.top), Some(0));
        assert!(rec.texts().iter().any(|l| l == "#3") && rec.texts().iter().any(|l| l == "100%"));
    }

    #[test]
    fn a_run_without_a_value_breaks_the_line() {
        assert_eq!(
            segments(&[Some(10.0), None, Some(20.0), Some(130.0)], 0.0, 100.0),
            [vec![(0.0, 10.0)], vec![(2.0, 20.0), (3.0, 100.0)]]
        );
        let t = Theme::LIGHT;
        let mut overall = series("Overall", t.primary, &[10.0, 0.0, 100.0], true);
        overall.values[1] = None;
        let rec = Recorder::new(600, 300);
        let m = draw(&rec.clone().into_drawing_area(), &labels(3), &[overall], &t, 1.0).unwrap();
        let (x0, y0) = at(&m, 0, 3, 10.0);
        let (x2, y2) = at(&m, 2, 3, 100.0);
        assert!(near(&rec, (x0, y0), t.primary) && near(&rec, (x2, y2), t.primary));
        // No line across the gap.
        assert!(!near(&rec, ((x0 + x2) / 2, (y0 + y2) / 2), t.primary));
    }

    #[test]
    fn ranges_hold_every_value_and_the_reference_lines() {
        let t = Theme::LIGHT;
        let mut nrr = series("NRR", t.primary, &[98.0, 103.0], false);
        nrr.values.push(None);
        let close = |(lo, hi): (f64, f64), (a, b): (f64, f64)| (lo - a).abs() < 1e-9 && (hi - b).abs() < 1e-9;
        assert!(close(padded_range(&[nrr], &[100.0]), (97.5, 103.5)));
        let churn = series("Churn", t.primary, &[2.0, 4.0], false);
        assert!(close(padded_range(&[churn], &[0.0]), (0.0, 4.4)), "never below zero");
        assert!(close(padded_range(&[], &[]), (0.0, 1.0)));
        let flat = series("Quick ratio", t.primary, &[2.0], false);
        assert!(close(padded_range(&[flat], &[]), (1.8, 2.2)));
    }

    #[test]
    fn a_single_run_draws_a_point_per_series() {
        let t = Theme::DARK;
        let data = vec![
            series("Overall", t.primary, &[78.57], true),
            series("Timeliness", t.series[5], &[0.0], false),
        ];
        let rec = Recorder::new(400, 260);
        let m = draw(&rec.clone().into_drawing_area(), &labels(1), &data, &t, 1.0).unwrap();
        assert_eq!(m.bars, 1);
        for s in &data {
            let p = at(&m, 0, 1, s.values[0].unwrap());
            assert!(near(&rec, p, s.color), "{} at {p:?}", s.name);
            // A dot, not a line across the chart.
            let drawn = rec.count(s.color);
            assert!((10..200).contains(&drawn), "{}: {drawn} px", s.name);
        }
        assert_eq!(m.index_at(m.right, m.bottom), Some(0));
    }

    #[test]
    fn crowded_runs_name_the_newest_and_skip_some() {
        for (width, runs) in [(300, 40), (900, 100), (390, 99)] {
            let rec = Recorder::new(width, 200);
            let series = vec![series("Overall", Theme::LIGHT.primary, &vec![50.0; runs], true)];
            draw(
                &rec.clone().into_drawing_area(),
                &labels(runs),
                &series,
                &Theme::LIGHT,
                1.0,
            )
            .unwrap();
            let shown: Vec<String> = rec.texts().into_iter().filter(|t| t.starts_with('#')).collect();
            assert!(shown.contains(&format!("#{runs}")), "{shown:?}");
            // Labels of up to 4 characters (28 px here) with room between them.
            assert!(
                shown.len() > 1 && shown.len() <= width as usize / 28,
                "{width}: {shown:?}"
            );
        }
    }
}
