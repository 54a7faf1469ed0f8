//! The movements of MRR per month as bars around a zero line: new business,
//! expansion and reactivation upwards, contraction and churn downwards (see
//! [`crate::recurring::layout`]), the net change as a marker across the bar.
//! The mapping carries the value axis so that a click finds its segment.

use api_types::SaasMovementKind;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{faded, slot_chart, Mapping, Theme, TickFormat};
use crate::recurring::layout::MovementLayout;

/// A movement's colour: greens and blue upwards, orange and red downwards.
pub fn color(kind: SaasMovementKind, theme: &Theme) -> RGBColor {
    match kind {
        SaasMovementKind::New => theme.growth,
        SaasMovementKind::Expansion => faded(theme.growth, theme),
        SaasMovementKind::Reactivation => theme.primary,
        SaasMovementKind::Contraction => theme.series[0],
        SaasMovementKind::Churn => theme.decline,
    }
}

/// Draws `layout`, one slot per label of `x_labels`, outlining the segment
/// `selected` (month index, movement: the one whose customers are listed);
/// `scale` is the device pixel ratio.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    x_labels: &[String],
    layout: &MovementLayout,
    selected: Option<(usize, SaasMovementKind)>,
    theme: &Theme,
    scale: f64,
    y_format: &TickFormat,
) -> Result<Mapping, String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let px = |v: f64| (v * scale).round() as u32;
    let n = x_labels.len().max(1);
    let mut chart = slot_chart(root, x_labels, (layout.lo, layout.hi), theme, scale, 64.0, y_format)?;
    chart
        .draw_series(layout.columns.iter().enumerate().flat_map(|(i, c)| {
            let x = i as f64;
            c.segments
                .iter()
                .map(move |s| Rectangle::new([(x - 0.34, s.from), (x + 0.34, s.to)], color(s.kind, theme).filled()))
        }))
        .map_err(err)?;
    let outlined = selected.and_then(|(i, kind)| {
        let s = layout.columns.get(i)?.segments.iter().find(|s| s.kind == kind)?;
        Some(Rectangle::new(
            [(i as f64 - 0.34, s.from), (i as f64 + 0.34, s.to)],
            theme.text.stroke_width(px(2.0)),
        ))
    });
    chart.draw_series(outlined).map_err(err)?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(-0.5, 0.0), (n as f64 - 0.5, 0.0)],
            theme.text.stroke_width(px(1.0)),
        )))
        .map_err(err)?;
    // The net change: a bar across the slot, wider than the bars, in the text colour.
    let marks = layout
        .columns
        .iter()
        .enumerate()
        .filter_map(|(i, c)| Some((i as f64, c.net_new?)));
    chart
        .draw_series(
            marks.map(|(x, v)| PathElement::new(vec![(x - 0.42, v), (x + 0.42, v)], theme.text.stroke_width(px(3.0)))),
        )
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(Mapping {
        y_range: Some((layout.lo, layout.hi)),
        ..Mapping::of_plot(chart.plotting_area(), x_labels.len(), false)
    })
}

#[cfg(test)]
mod tests {
    use api_types::SaasMonth;

    use super::*;
    use crate::charts::testing::Recorder;
    use crate::recurring::caveats::tests::month;
    use crate::recurring::layout::{layout, tests::movements};

    #[test]
    fn each_movement_where_the_layout_says_and_a_click_finds_it() {
        let t = Theme::LIGHT;
        let months: Vec<SaasMonth> = [None, Some(movements(10_000, 2_000, 1_000, 3_000, 1_500))]
            .into_iter()
            .enumerate()
            .map(|(i, mv)| SaasMonth {
                movements: mv,
                ..month(&format!("2024-0{}", i + 1), 100_000)
            })
            .collect();
        let l = layout(&months);
        let rec = Recorder::new(600, 300);
        let labels: Vec<String> = ["Jan", "Feb"].map(String::from).to_vec();
        let selected = Some((1, SaasMovementKind::Churn));
        let m = draw(&rec.clone().into_drawing_area(), &labels, &l, selected, &t, 1.0, &|t| {
            format!("{:.0}", t.value)
        })
        .unwrap();
        assert_eq!(m.y_range, Some((l.lo, l.hi)));
        let slot = f64::from(m.right - m.left + 1) / 2.0;
        // Feb's bar, a little left of its centre (the net-new marker crosses the centre).
        let x = (f64::from(m.left) + slot * 1.5 - slot * 0.2).round() as i32;
        let y = |v: f64| (f64::from(m.top) + (l.hi - v) / (l.hi - l.lo) * f64::from(m.bottom - m.top)).round() as i32;
        for (value, kind) in [
            (50.0, SaasMovementKind::New),
            (110.0, SaasMovementKind::Expansion),
            (127.0, SaasMovementKind::Reactivation),
            (-5.0, SaasMovementKind::Contraction),
            (-30.0, SaasMovementKind::Churn),
        ] {
            assert_eq!(rec.pixel(x, y(value)), color(kind, &t), "{kind} at {value}");
            let clicked = m.value_at(y(value)).unwrap();
            assert_eq!(
                l.kind_at(m.index_at(x, y(value)).unwrap(), clicked),
                Some(kind),
                "{kind}"
            );
        }
        // Jan, the opening month, has no bar; the net change (+95) is marked.
        let jan = (f64::from(m.left) + slot * 0.5).round() as i32;
        assert_eq!(rec.pixel(jan, y(50.0)), t.background);
        assert_eq!(rec.pixel(x, y(95.0)), t.text);
        // The churn listed below the chart is outlined; the other segments are not.
        let edge = (f64::from(m.left) + slot * 1.5 - slot * 0.34).round() as i32;
        let outlined = |v: f64| (-2..=2).any(|dx| rec.pixel(edge + dx, y(v)) == t.text);
        assert!(outlined(-30.0) && !outlined(50.0) && !outlined(-5.0));
    }
}
