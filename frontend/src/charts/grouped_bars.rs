//! Grouped vertical bars on a logarithmic axis: per x position (a run), one
//! bar per series side by side (rows processed, succeeded, failed). A full
//! load and a small append differ by orders of magnitude: on a linear axis
//! every append would be a flat line.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{slot_label, sparse_labels, Mapping, Theme, Tick, TickFormat};

/// The widest a bar gets, in CSS pixels.
const MAX_BAR_WIDTH: f64 = 44.0;

/// The bars of one x position, one value per series.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub label: String,
    pub values: Vec<f64>,
}

/// Draws `groups`, series `k` in `colors[k]`, with a value axis labelled by
/// `y_format`; `scale` is the device pixel ratio. The mapping has one slot per group.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    groups: &[Group],
    colors: &[RGBColor],
    theme: &Theme,
    scale: f64,
    y_format: &TickFormat,
) -> Result<Mapping, String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&theme.background).map_err(err)?;
    let px = |v: f64| (v * scale).round() as u32;
    let n = groups.len().max(1);
    let k = colors.len().max(1);
    // The axis holds log10 of the values, from 1 (a bar of one row has no
    // height; zero has no bar) to twice the largest: plotters' own log scale
    // would compile its chart code a second time into the wasm.
    let hi = (groups
        .iter()
        .flat_map(|g| g.values.iter().copied())
        .fold(0.0f64, f64::max)
        .max(5.0)
        * 2.0)
        .log10();
    let font = ("sans-serif", px(12.0)).into_font().color(&theme.text);
    let labels: Vec<String> = groups.iter().map(|g| g.label.clone()).collect();
    let shown = sparse_labels(root, &labels, &font, scale);
    let mut chart = ChartBuilder::on(root)
        .margin(px(8.0))
        .x_label_area_size(px(26.0))
        .y_label_area_size(px(56.0))
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0.0..hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(theme.grid)
        .bold_line_style(theme.grid)
        .axis_style(theme.grid)
        .x_labels(n)
        .x_label_formatter(&|x: &f64| slot_label(&shown, *x))
        .y_labels(12)
        .y_label_formatter(&|y: &f64| {
            // Powers of ten only.
            if (y - y.round()).abs() < 1e-6 {
                // Each label a power of ten: its own step, shown exactly.
                let value = 10f64.powf(y.round());
                y_format(Tick { value, step: value })
            } else {
                String::new()
            }
        })
        .label_style(font)
        .draw()
        .map_err(err)?;
    // A single row would be no bar at all: any non-zero value gets at least two pixels.
    let (_, plot_h) = chart.plotting_area().dim_in_pixel();
    let min_height = 2.0 * scale * hi / f64::from(plot_h.max(1));
    // Bars share 80% of their slot, but stay narrow when there are few runs.
    let (plot_w, _) = chart.plotting_area().dim_in_pixel();
    let slot_px = f64::from(plot_w.max(1)) / n as f64;
    let width = (0.8 / k as f64).min(MAX_BAR_WIDTH * scale / slot_px);
    let first = -width * k as f64 / 2.0;
    chart
        .draw_series(groups.iter().enumerate().flat_map(|(i, g)| {
            g.values
                .iter()
                .zip(colors)
                .enumerate()
                .filter(|(_, (v, _))| **v > 0.0)
                .map(move |(j, (v, c))| {
                    let x0 = i as f64 + first + width * j as f64;
                    Rectangle::new([(x0, 0.0), (x0 + width * 0.92, v.log10().max(min_height))], c.filled())
                })
        }))
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(Mapping::of_plot(chart.plotting_area(), groups.len(), false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::testing::Recorder;

    #[test]
    fn each_series_in_its_place_within_the_slot_of_its_group() {
        let t = Theme::LIGHT;
        let colors = [t.primary, t.growth, t.decline];
        let groups = vec![
            Group {
                label: "#1".into(),
                values: vec![10_075.0, 10_075.0, 0.0],
            },
            Group {
                label: "#3".into(),
                values: vec![29.0, 25.0, 4.0],
            },
        ];
        let rec = Recorder::new(600, 300);
        let m = draw(&rec.clone().into_drawing_area(), &groups, &colors, &t, 1.0, &|t| {
            format!("{:.0}", t.value)
        })
        .unwrap();
        assert_eq!(m.bars, 2);
        let slot = f64::from(m.right - m.left + 1) / 2.0;
        // Bar j of group i is centred at the slot's centre + (j - 1) bar widths.
        let bar = (slot * 0.8 / 3.0).min(MAX_BAR_WIDTH);
        let centre = |i: usize, j: usize| {
            (f64::from(m.left) + slot * (i as f64 + 0.5) + bar * (j as f64 - 1.0) - bar * 0.04).round() as i32
        };
        let column = |x: i32, c: RGBColor| (m.top..=m.bottom).filter(|&y| rec.pixel(x, y) == c).count() as f64;
        // Heights in proportion to the logarithm of the value, from 1 to twice the largest.
        let plot = f64::from(m.bottom - m.top + 1);
        let height = |v: f64| plot * v.ln() / (10_075.0f64 * 2.0).ln();
        for (i, j, c, v) in [
            (0, 0, t.primary, 10_075.0),
            (0, 1, t.growth, 10_075.0),
            (1, 0, t.primary, 29.0),
            (1, 1, t.growth, 25.0),
            (1, 2, t.decline, 4.0),
        ] {
            let h = column(centre(i, j), c);
            assert!(
                (h - height(v)).abs() <= 2.0,
                "run {i} series {j}: {h} px for {v}, expected {}",
                height(v)
            );
        }
        // Few runs: bars keep a bar's width rather than filling their slot.
        let red_width = (m.left..=m.right)
            .filter(|&x| rec.pixel(x, m.bottom - 1) == t.decline)
            .count() as f64;
        assert!(
            (MAX_BAR_WIDTH * 0.85..=MAX_BAR_WIDTH).contains(&red_width),
            "{red_width}"
        );
        // No failed rows: no red bar.
        assert_eq!(column(centre(0, 2), t.decline), 0.0);
        assert_eq!(m.index_at(centre(1, 2), m.bottom - 1), Some(1));
        assert_eq!(m.index_at(centre(0, 0), m.bottom - 1), Some(0));
        let texts = rec.texts();
        assert!(texts.contains(&"#3".to_owned()));
        // The value axis names powers of ten only.
        assert!(
            ["1", "10", "100", "1000", "10000"]
                .iter()
                .all(|l| texts.contains(&l.to_string())),
            "{texts:?}"
        );
        assert!(
            !texts.contains(&"5000".to_owned()) && !texts.contains(&"3".to_owned()),
            "{texts:?}"
        );
    }
}
