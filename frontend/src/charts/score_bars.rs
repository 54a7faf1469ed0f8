//! Horizontal bars on a fixed 0–100% axis, one per quality dimension, each
//! labelled with its value and marked at its minimum.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{text_on, Mapping, Theme};

/// One bar: a percentage and its minimum.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreBar {
    pub label: String,
    /// 0–100, to place pixels only.
    pub value: f64,
    /// What the bar says, from the API's exact decimals (`"86.21% (min 95.00%)"`).
    pub text: String,
    /// Where the minimum is drawn, 0–100; `None` when it is not known.
    pub threshold: Option<f64>,
    pub color: RGBColor,
}

/// Draws `bars` top to bottom in order; `scale` is the device pixel ratio.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    bars: &[ScoreBar],
    theme: &Theme,
    scale: f64,
) -> Result<Mapping, String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&theme.background).map_err(err)?;
    let px = |v: f64| (v * scale).round() as u32;
    let n = bars.len().max(1);
    let font = ("sans-serif", px(12.0)).into_font().color(&theme.text);
    // Row i is drawn at y = n - 1 - i so that the first bar is on top.
    let row_y = |i: usize| (n - 1 - i) as f64;
    let mut chart = ChartBuilder::on(root)
        .margin(px(8.0))
        .margin_right(px(16.0))
        .x_label_area_size(px(24.0))
        .y_label_area_size(px(100.0))
        .build_cartesian_2d(0.0f64..100.0, -0.5f64..(n as f64 - 0.5))
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(theme.grid)
        .bold_line_style(theme.grid)
        .axis_style(theme.grid)
        .y_labels(n)
        .y_label_formatter(&|y: &f64| {
            let r = y.round();
            if (y - r).abs() < 1e-6 && r >= 0.0 {
                usize::try_from(n as i64 - 1 - r as i64)
                    .ok()
                    .and_then(|i| bars.get(i))
                    .map(|b| b.label.clone())
                    .unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_labels(6)
        .x_label_formatter(&|x: &f64| format!("{x:.0}%"))
        .label_style(font.clone())
        .draw()
        .map_err(err)?;
    // A zero still shows a sliver, so that every dimension has a visible bar in its colour.
    let (plot_w, _) = chart.plotting_area().dim_in_pixel();
    let min_width = 3.0 * scale * 100.0 / f64::from(plot_w.max(1));
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            let y = row_y(i);
            let end = b.value.clamp(0.0, 100.0).max(min_width);
            Rectangle::new([(0.0, y - 0.34), (end, y + 0.34)], b.color.filled())
        }))
        .map_err(err)?;
    chart
        .draw_series(bars.iter().enumerate().filter_map(|(i, b)| {
            let t = b.threshold?.clamp(0.0, 100.0);
            let y = row_y(i);
            Some(PathElement::new(
                vec![(t, y - 0.46), (t, y + 0.46)],
                theme.text.stroke_width(px(2.0)),
            ))
        }))
        .map_err(err)?;
    let pad = px(6.0) as i32;
    for (i, b) in bars.iter().enumerate() {
        let (x_end, y) = chart.backend_coord(&(b.value.clamp(0.0, 100.0), row_y(i)));
        let (x0, _) = chart.backend_coord(&(0.0, row_y(i)));
        let (w, h) = root.estimate_text_size(&b.text, &font).map_err(err)?;
        let (w, h) = (w as i32, h as i32);
        let anchor = Pos::new(HPos::Left, VPos::Center);
        if x_end - x0 >= w + 2 * pad {
            // Inside the bar's end, in a colour readable on the bar; before
            // the minimum's marker when the marker would cross it.
            let marker = b
                .threshold
                .map(|t| chart.backend_coord(&(t.clamp(0.0, 100.0), row_y(i))).0);
            let right = match marker {
                Some(m) if m < x_end && m > x_end - w - 2 * pad && m - x0 >= w + 2 * pad => m,
                _ => x_end,
            };
            let on_bar = text_on(b.color);
            let style = font.clone().color(&on_bar).pos(anchor);
            root.draw(&Text::new(b.text.clone(), (right - pad - w, y), style))
                .map_err(err)?;
        } else {
            // Beside the bar, on a patch of background so a minimum's marker
            // under the text does not cross it.
            let x = x_end.max(x0 + px(3.0) as i32) + pad;
            root.draw(&Rectangle::new(
                [(x - 2, y - h / 2 - 1), (x + w + 2, y + h / 2 + 1)],
                theme.background.filled(),
            ))
            .map_err(err)?;
            root.draw(&Text::new(b.text.clone(), (x, y), font.clone().pos(anchor)))
                .map_err(err)?;
        }
    }
    root.present().map_err(err)?;
    Ok(Mapping::of_plot(chart.plotting_area(), bars.len(), true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::testing::Recorder;

    fn bar(label: &str, value: f64, threshold: Option<f64>, color: RGBColor) -> ScoreBar {
        ScoreBar {
            label: label.into(),
            value,
            text: match threshold {
                Some(t) => format!("{value:.2}% (min {t:.2}%)"),
                None => format!("{value:.2}%"),
            },
            threshold,
            color,
        }
    }

    /// The pixels of `color` along the middle of row `i` of `m`.
    fn in_row(rec: &Recorder, m: &Mapping, i: i32, color: RGBColor) -> Vec<i32> {
        let rows = m.bars as i32;
        let y = m.top + (m.bottom - m.top) * (2 * i + 1) / (2 * rows);
        (m.left..=m.right).filter(|&x| rec.pixel(x, y) == color).collect()
    }

    #[test]
    fn bars_in_their_colours_in_rows_the_mapping_finds() {
        let t = Theme::LIGHT;
        let data = vec![
            bar("Completeness", 100.0, None, t.growth),
            bar("Integrity", 12.5, Some(90.0), t.decline),
            bar("Timeliness", 0.0, Some(50.0), t.decline),
        ];
        let rec = Recorder::new(600, 240);
        let m = draw(&rec.clone().into_drawing_area(), &data, &t, 1.0).unwrap();
        assert_eq!(m.bars, 3);
        let width = f64::from(m.right - m.left + 1);
        // A full bar spans the plot; 12.5% spans an eighth; zero is a sliver.
        let full = in_row(&rec, &m, 0, t.growth);
        assert!(full.len() as f64 > width * 0.9, "{} of {width}", full.len());
        let eighth = in_row(&rec, &m, 1, t.decline);
        assert!((eighth.len() as f64 - width / 8.0).abs() < 4.0, "{}", eighth.len());
        let sliver = in_row(&rec, &m, 2, t.decline);
        assert!((2..=5).contains(&sliver.len()), "{}", sliver.len());
        assert!(in_row(&rec, &m, 0, t.decline).is_empty() && in_row(&rec, &m, 1, t.growth).is_empty());
        for i in 0..3 {
            let y = m.top + (m.bottom - m.top) * (2 * i + 1) / 6;
            assert_eq!(m.index_at(m.left + 2, y), Some(i as usize));
        }
        // The minimum's marker: text-coloured pixels at 90% of the plot in the integrity row.
        let marker = in_row(&rec, &m, 1, t.text);
        let at = f64::from(m.left) + width * 0.9;
        assert!(
            marker.iter().any(|&x| (f64::from(x) - at).abs() <= 2.0),
            "{marker:?} near {at}"
        );
        // The label of a bar past its minimum ends before the marker, not across it.
        let mut met = bar("Completeness", 100.0, Some(90.0), t.growth);
        met.text = "100.00%".into();
        let one = Recorder::new(600, 240);
        let m = draw(&one.clone().into_drawing_area(), &[met], &t, 1.0).unwrap();
        let marker_x = f64::from(m.left) + f64::from(m.right - m.left + 1) * 0.9;
        let (x, _) = one.text_at("100.00%").unwrap();
        let text_end = f64::from(x + 7 * 7);
        assert!(
            text_end < marker_x - 2.0,
            "text ends at {text_end}, the marker is at {marker_x}"
        );
        let texts = rec.texts();
        for label in ["Completeness", "100.00%", "12.50% (min 90.00%)", "0.00% (min 50.00%)"] {
            assert!(texts.iter().any(|t| t == label), "{label} not in {texts:?}");
        }
    }
}
