//! Horizontal bar chart: products ranked by total sales, largest on top.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{tick_step, Bar, Mapping, Theme, Tick, TickFormat};

/// How many labels the value axis has at most.
const X_LABELS: usize = 5;

pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    bars: &[Bar],
    theme: &Theme,
    scale: f64,
    x_format: &TickFormat,
) -> Result<Mapping, String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&theme.background).map_err(err)?;
    let px = |v: f64| (v * scale).round() as u32;
    let n = bars.len().max(1);
    let max = bars.iter().map(|b| b.value).fold(0.0f64, f64::max).max(1.0) * 1.05;
    let min = bars.iter().map(|b| b.value).fold(0.0f64, f64::min);
    let labels: Vec<String> = bars
        .iter()
        .map(|b| {
            if b.label.chars().count() > 28 {
                format!("{}…", b.label.chars().take(27).collect::<String>())
            } else {
                b.label.clone()
            }
        })
        .collect();
    let font = ("sans-serif", px(12.0)).into_font().color(&theme.text);
    // Row i is drawn at y = n - 1 - i so that rank 1 is on top.
    let step = tick_step((min, max), X_LABELS);
    let mut chart = ChartBuilder::on(root)
        .margin(px(8.0))
        .x_label_area_size(px(24.0))
        .y_label_area_size(px(190.0))
        .build_cartesian_2d(min..max, -0.5f64..(n as f64 - 0.5))
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
                let i = n as i64 - 1 - r as i64;
                usize::try_from(i)
                    .ok()
                    .and_then(|i| labels.get(i))
                    .cloned()
                    .unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_labels(X_LABELS)
        .x_label_formatter(&|x: &f64| x_format(Tick { value: *x, step }))
        .label_style(font)
        .draw()
        .map_err(err)?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            let y = (n - 1 - i) as f64;
            Rectangle::new([(0.0, y - 0.36), (b.value, y + 0.36)], b.color.filled())
        }))
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(Mapping::of_plot(chart.plotting_area(), bars.len(), true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::testing::Recorder;

    #[test]
    fn largest_on_top_and_lookup_by_row() {
        let rec = Recorder::new(700, 300);
        let data = vec![
            Bar {
                label: "Top".into(),
                value: 100.0,
                color: Theme::LIGHT.primary,
                partial: None,
            },
            Bar {
                label: "Second".into(),
                value: 50.0,
                color: Theme::LIGHT.growth,
                partial: None,
            },
        ];
        let m = draw(&rec.clone().into_drawing_area(), &data, &Theme::LIGHT, 1.0, &|t| {
            format!("{:.0}", t.value)
        })
        .unwrap();
        let row_height = (m.bottom - m.top) / 2;
        let top_row_y = m.top + row_height / 2;
        let second_row_y = m.top + row_height + row_height / 2;
        assert_eq!(m.index_at(m.left + 5, top_row_y), Some(0));
        assert_eq!(m.index_at(m.left + 5, second_row_y), Some(1));
        // The top row is the largest bar: it reaches further right.
        let reach = |y: i32, c| (m.left..=m.right).filter(|&x| rec.pixel(x, y) == c).count();
        assert!(reach(top_row_y, Theme::LIGHT.primary) > reach(second_row_y, Theme::LIGHT.growth) * 3 / 2);
        assert!(rec.texts().contains(&"Top".to_owned()));
    }
}
