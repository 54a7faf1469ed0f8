//! Vertical bar chart: one bar per month (average amount, growth %).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{slot_label, tick_step, Bar, Mapping, Theme, Tick, TickFormat, Y_LABELS};

/// Draws `bars` with a value axis labelled by `y_format`; `scale` is the device
/// pixel ratio (fonts and margins grow with it).
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    bars: &[Bar],
    theme: &Theme,
    scale: f64,
    y_format: &TickFormat,
) -> Result<Mapping, String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&theme.background).map_err(err)?;
    let px = |v: f64| (v * scale).round() as u32;
    let n = bars.len().max(1);
    let (lo, hi) = value_range(bars);
    let font = ("sans-serif", px(12.0)).into_font().color(&theme.text);
    // On narrow charts show every k-th month label so they do not overlap.
    let (width, _) = root.dim_in_pixel();
    let step = ((n as f64 * 34.0 * scale) / f64::from(width.max(1)) * 1.25)
        .ceil()
        .max(1.0) as usize;
    let labels: Vec<String> = bars
        .iter()
        .enumerate()
        .map(|(i, b)| if i % step == 0 { b.label.clone() } else { String::new() })
        .collect();
    let step = tick_step((lo, hi), Y_LABELS);
    let mut chart = ChartBuilder::on(root)
        .margin(px(8.0))
        .x_label_area_size(px(26.0))
        .y_label_area_size(px(64.0))
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), lo..hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(theme.grid)
        .bold_line_style(theme.grid)
        .axis_style(theme.grid)
        .x_labels(n)
        .x_label_formatter(&|x: &f64| slot_label(&labels, *x))
        .y_labels(Y_LABELS)
        .y_label_formatter(&|y: &f64| y_format(Tick { value: *y, step }))
        .label_style(font)
        .draw()
        .map_err(err)?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            let x = i as f64;
            let end = b.value.clamp(lo, hi);
            Rectangle::new([(x - 0.38, 0.0), (x + 0.38, end)], b.color.filled())
        }))
        .map_err(err)?;
    // A bar cut at the axis's edge says its value where it is cut.
    let cut_font = ("sans-serif", px(11.0)).into_font();
    for (i, b) in bars.iter().enumerate() {
        let Some(text) = b.partial.as_ref().filter(|_| b.value < lo || b.value > hi) else {
            continue;
        };
        let (edge, pos) = if b.value < lo {
            (lo, Pos::new(HPos::Center, VPos::Bottom))
        } else {
            (hi, Pos::new(HPos::Center, VPos::Top))
        };
        let (x, y) = chart.backend_coord(&(i as f64, edge));
        let inset = if b.value < lo {
            -(px(4.0) as i32)
        } else {
            px(4.0) as i32
        };
        let style = cut_font.clone().color(&super::text_on(b.color)).pos(pos);
        root.draw(&Text::new(text.clone(), (x, y + inset), style))
            .map_err(err)?;
    }
    if lo < 0.0 {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(-0.5, 0.0), (n as f64 - 0.5, 0.0)],
                theme.text.stroke_width(px(1.0)),
            )))
            .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(Mapping::of_plot(chart.plotting_area(), bars.len(), false))
}

/// The value axis: from the smallest to the largest value (and zero) of the
/// bars that are not partial, with 8% of room; all bars when every one is.
fn value_range(bars: &[Bar]) -> (f64, f64) {
    let whole: Vec<&Bar> = bars.iter().filter(|b| b.partial.is_none()).collect();
    let scaled: Vec<&Bar> = if whole.is_empty() { bars.iter().collect() } else { whole };
    let (mut lo, mut hi) = scaled
        .iter()
        .fold((0.0f64, 0.0f64), |(lo, hi), b| (lo.min(b.value), hi.max(b.value)));
    if (hi - lo).abs() < f64::EPSILON {
        hi = lo + 1.0;
    }
    let pad = (hi - lo) * 0.08;
    if lo < 0.0 {
        lo -= pad;
    }
    (lo, hi + pad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::testing::Recorder;
    use plotters::style::RGBColor;

    fn bars(values: &[f64]) -> Vec<Bar> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Bar {
                label: format!("M{i}"),
                value: *v,
                color: if *v < 0.0 {
                    Theme::LIGHT.decline
                } else {
                    Theme::LIGHT.growth
                },
                partial: None,
            })
            .collect()
    }

    #[test]
    fn draws_bars_where_the_mapping_says() {
        let rec = Recorder::new(600, 300);
        let root = rec.clone().into_drawing_area();
        let data = bars(&[10.0, -5.0, 20.0]);
        let m = draw(&root, &data, &Theme::LIGHT, 1.0, &|t| format!("{:.0}", t.value)).unwrap();
        assert_eq!(m.bars, 3);
        assert!(m.left > 0 && m.right < 600 && m.top >= 0 && m.bottom < 300);
        // Each bar's colour appears in its own column of the plot area.
        for (i, bar) in data.iter().enumerate() {
            let slot = (m.right - m.left) / 3;
            let cx = m.left + slot * i as i32 + slot / 2;
            let column: Vec<RGBColor> = (m.top..=m.bottom).map(|y| rec.pixel(cx, y)).collect();
            assert!(column.contains(&bar.color), "bar {i} not drawn at x={cx}");
            assert_eq!(m.index_at(cx, (m.top + m.bottom) / 2), Some(i));
        }
        // The negative bar is red and lies below the positive bars' base.
        let red = rec.count(Theme::LIGHT.decline);
        let green = rec.count(Theme::LIGHT.growth);
        assert!(red > 100 && green > red, "red {red}, green {green}");
        assert!(rec.texts().iter().any(|t| t == "M1"), "x labels: {:?}", rec.texts());
    }

    #[test]
    fn empty_data_draws_an_empty_frame() {
        let rec = Recorder::new(200, 100);
        let m = draw(&rec.clone().into_drawing_area(), &[], &Theme::DARK, 1.0, &|t| {
            format!("{}", t.value)
        })
        .unwrap();
        assert_eq!(m.index_at(100, 50), None);
        assert!(rec.count(Theme::DARK.background) > 0);
    }

    #[test]
    fn a_partial_month_does_not_set_the_scale_and_is_cut_with_its_value() {
        let mut data = bars(&[5.0, -4.0, 3.0, -99.85]);
        data[3].partial = Some("-99.85%".into());
        let (lo, hi) = value_range(&data);
        assert!(lo > -5.0 && hi < 6.0, "{lo}..{hi}");
        let rec = Recorder::new(600, 300);
        let m = draw(&rec.clone().into_drawing_area(), &data, &Theme::LIGHT, 1.0, &|t| {
            format!("{:.0}", t.value)
        })
        .unwrap();
        assert_eq!(m.bars, 4);
        assert!(rec.texts().iter().any(|t| t == "-99.85%"), "{:?}", rec.texts());
        // The same month, within the scale, is drawn without its text.
        data[3].value = -2.0;
        let rec = Recorder::new(600, 300);
        draw(&rec.clone().into_drawing_area(), &data, &Theme::LIGHT, 1.0, &|t| {
            format!("{:.0}", t.value)
        })
        .unwrap();
        assert!(!rec.texts().iter().any(|t| t == "-99.85%"));
        // Only partial months: they set the scale themselves.
        let mut alone = bars(&[-99.85]);
        alone[0].partial = Some("-99.85%".into());
        assert!(value_range(&alone).0 < -99.0);
    }
}
