//! Stacked areas with the total as a line on top: per x position (a month),
//! each layer's value stacked on the ones below it (MRR split by the
//! evidence for its interval), and the sum as a bold line with dots, so
//! that a single month still shows.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{slot_chart, Mapping, Theme, TickFormat};

/// One band of the stack.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub name: String,
    pub color: RGBColor,
    /// One value (≥ 0) per x position.
    pub values: Vec<f64>,
}

/// The lower and upper edge of each layer at each x position.
pub fn stack(layers: &[Layer], n: usize) -> Vec<Vec<(f64, f64)>> {
    let mut base = vec![0.0; n];
    layers
        .iter()
        .map(|l| {
            (0..n)
                .map(|i| {
                    let lower = base[i];
                    base[i] += l.values.get(i).copied().unwrap_or(0.0).max(0.0);
                    (lower, base[i])
                })
                .collect()
        })
        .collect()
}

/// Draws `layers` stacked over the x positions of `x_labels` and their sum
/// as a line in `total`; `scale` is the device pixel ratio.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    x_labels: &[String],
    layers: &[Layer],
    total: RGBColor,
    theme: &Theme,
    scale: f64,
    y_format: &TickFormat,
) -> Result<Mapping, String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let px = |v: f64| (v * scale).round() as u32;
    let n = x_labels.len();
    let edges = stack(layers, n);
    let tops: Vec<f64> = (0..n).map(|i| edges.last().map_or(0.0, |l| l[i].1)).collect();
    let hi = tops.iter().copied().fold(0.0f64, f64::max).max(1.0) * 1.08;
    let mut chart = slot_chart(root, x_labels, (0.0, hi), theme, scale, 64.0, y_format)?;
    // A single month has no width to fill: its bands become a short bar.
    let xs = |i: usize| if n == 1 { [-0.3, 0.3] } else { [i as f64, i as f64] };
    for (layer, edge) in layers.iter().zip(&edges) {
        let upper = edge.iter().enumerate().flat_map(|(i, e)| xs(i).map(|x| (x, e.1)));
        let lower = edge
            .iter()
            .enumerate()
            .rev()
            .flat_map(|(i, e)| xs(i).map(|x| (x, e.0)).into_iter().rev());
        let outline: Vec<(f64, f64)> = upper.chain(lower).collect();
        chart
            .draw_series(std::iter::once(Polygon::new(outline, layer.color.filled())))
            .map_err(err)?;
    }
    let line: Vec<(f64, f64)> = tops.iter().enumerate().map(|(i, v)| (i as f64, *v)).collect();
    chart
        .draw_series(LineSeries::new(line.iter().copied(), total.stroke_width(px(3.0))))
        .map_err(err)?;
    chart
        .draw_series(line.iter().map(|p| Circle::new(*p, px(4.0), total.filled())))
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(Mapping::of_plot(chart.plotting_area(), n, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::testing::Recorder;

    fn layers(t: &Theme) -> Vec<Layer> {
        vec![
            Layer {
                name: "Observed".into(),
                color: t.series[2],
                values: vec![60.0, 60.0, 80.0],
            },
            Layer {
                name: "Assumed".into(),
                color: t.series[0],
                values: vec![20.0, 40.0, 0.0],
            },
        ]
    }

    #[test]
    fn layers_stack_on_each_other() {
        let edges = stack(&layers(&Theme::LIGHT), 3);
        assert_eq!(edges[0], [(0.0, 60.0), (0.0, 60.0), (0.0, 80.0)]);
        assert_eq!(edges[1], [(60.0, 80.0), (60.0, 100.0), (80.0, 80.0)]);
    }

    #[test]
    fn each_band_in_its_colour_between_its_edges_and_the_total_on_top() {
        let t = Theme::LIGHT;
        let rec = Recorder::new(600, 300);
        let labels: Vec<String> = ["Jan", "Feb", "Mar"].map(String::from).to_vec();
        let m = draw(
            &rec.clone().into_drawing_area(),
            &labels,
            &layers(&t),
            t.primary,
            &t,
            1.0,
            &|t| format!("{:.0}", t.value),
        )
        .unwrap();
        assert_eq!(m.bars, 3);
        let hi = 100.0 * 1.08;
        let y = |v: f64| (f64::from(m.bottom) - f64::from(m.bottom - m.top) * v / hi).round() as i32;
        let slot = f64::from(m.right - m.left + 1) / 3.0;
        // Half-way between Jan and Feb: observed up to 60, assumed from 60 to 90.
        let x = (f64::from(m.left) + slot).round() as i32;
        assert_eq!(rec.pixel(x, y(30.0)), t.series[2]);
        assert_eq!(rec.pixel(x, y(75.0)), t.series[0]);
        assert_ne!(rec.pixel(x, y(95.0)), t.series[0]);
        assert!(rec.count(t.primary) > 200, "the total's line");
        assert!(rec.texts().iter().any(|l| l == "Mar"));
    }

    #[test]
    fn a_single_month_is_a_short_bar() {
        let t = Theme::DARK;
        let rec = Recorder::new(400, 200);
        let one = vec![Layer {
            name: "Observed".into(),
            color: t.series[2],
            values: vec![10.0],
        }];
        draw(
            &rec.clone().into_drawing_area(),
            &["Jan".into()],
            &one,
            t.primary,
            &t,
            1.0,
            &|t| format!("{}", t.value),
        )
        .unwrap();
        assert!(rec.count(t.series[2]) > 500, "{}", rec.count(t.series[2]));
    }
}
