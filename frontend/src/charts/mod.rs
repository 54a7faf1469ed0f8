//! Charts as pure drawing functions: each takes a plotters drawing area and its
//! data and returns a [`Mapping`] from pixels back to data (for tooltips).
//! Values are converted to `f64` only to place pixels; every number shown as
//! text comes from the API's exact decimal strings.

pub mod areas;
pub mod bars;
pub mod grouped_bars;
pub mod hbars;
pub mod lines;
pub mod movements;
pub mod score_bars;
#[cfg(test)]
pub mod testing;

use api_types::Dimension;
use api_types::Percent;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::{Cartesian2d, ChartBuilder, ChartContext, DrawingArea, DrawingAreaErrorKind, DrawingBackend};
use plotters::style::{IntoFont, RGBColor, TextStyle};

/// Colours of the light or dark theme.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Theme {
    pub background: RGBColor,
    pub text: RGBColor,
    pub grid: RGBColor,
    pub primary: RGBColor,
    pub growth: RGBColor,
    pub decline: RGBColor,
    /// The line of each quality dimension, none of them red or green (those
    /// mean "below" and "at or above its minimum" elsewhere on the page).
    /// Sized by the enum: a new dimension does not compile until it has its
    /// colour here, in both themes.
    pub series: [RGBColor; Dimension::COUNT],
}

impl Theme {
    /// The dark theme when `dark` (the system's preference), else the light one.
    pub fn of(dark: bool) -> Theme {
        if dark {
            Theme::DARK
        } else {
            Theme::LIGHT
        }
    }

    pub const LIGHT: Theme = Theme {
        background: RGBColor(255, 255, 255),
        text: RGBColor(30, 35, 45),
        grid: RGBColor(225, 228, 235),
        primary: RGBColor(59, 106, 220),
        growth: RGBColor(22, 150, 80),
        decline: RGBColor(214, 40, 40),
        series: [
            RGBColor(230, 126, 34),
            RGBColor(142, 68, 173),
            RGBColor(23, 150, 160),
            RGBColor(214, 51, 132),
            RGBColor(140, 100, 60),
            RGBColor(170, 150, 20),
        ],
    };
    pub const DARK: Theme = Theme {
        background: RGBColor(24, 27, 34),
        text: RGBColor(225, 228, 235),
        grid: RGBColor(55, 60, 72),
        primary: RGBColor(110, 150, 255),
        growth: RGBColor(60, 200, 120),
        decline: RGBColor(255, 90, 90),
        series: [
            RGBColor(255, 160, 70),
            RGBColor(190, 130, 240),
            RGBColor(60, 205, 215),
            RGBColor(255, 110, 180),
            RGBColor(180, 190, 205),
            RGBColor(225, 200, 60),
        ],
    };
}

/// Mixes `color` halfway with the background: how an incomplete month is drawn.
pub fn faded(color: RGBColor, theme: &Theme) -> RGBColor {
    let mix = |a: u8, b: u8| ((u16::from(a) + u16::from(b)) / 2) as u8;
    RGBColor(
        mix(color.0, theme.background.0),
        mix(color.1, theme.background.1),
        mix(color.2, theme.background.2),
    )
}

/// Declines in red, growth (and no change) in green; lighter for an incomplete month;
/// grey when there is no growth figure.
pub fn growth_color(growth: Option<Percent>, complete: bool, theme: &Theme) -> RGBColor {
    let base = match growth {
        Some(p) if p.is_negative() => theme.decline,
        Some(_) => theme.growth,
        None => theme.grid,
    };
    if complete {
        base
    } else {
        faded(base, theme)
    }
}

/// A colour for text drawn on `fill`: near-black or white, whichever contrasts more (WCAG).
pub fn text_on(fill: RGBColor) -> RGBColor {
    const DARK: RGBColor = RGBColor(20, 22, 28);
    const WHITE: RGBColor = RGBColor(255, 255, 255);
    let lum = |c: RGBColor| {
        let lin = |v: u8| {
            let v = f64::from(v) / 255.0;
            if v <= 0.04045 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * lin(c.0) + 0.7152 * lin(c.1) + 0.0722 * lin(c.2)
    };
    let l = lum(fill);
    if (lum(WHITE) + 0.05) / (l + 0.05) >= (l + 0.05) / (lum(DARK) + 0.05) {
        WHITE
    } else {
        DARK
    }
}

/// `#rrggbb`, for HTML legends that must match the canvas.
pub fn css(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// A quality dimension's bar: green at or above its minimum, red below it (it has an alert).
pub fn threshold_color(below_minimum: bool, theme: &Theme) -> RGBColor {
    if below_minimum {
        theme.decline
    } else {
        theme.growth
    }
}

/// Where the bars of a chart are, in backend pixels. Line and grouped charts
/// use it too: one slot per x position (a run), so the slot under the mouse
/// is the nearest point.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Mapping {
    /// Plot area: x from `left` to `right`, y from `top` to `bottom`.
    pub left: i32,
    pub right: i32,
    pub top: i32,
    pub bottom: i32,
    pub bars: usize,
    /// Bars laid out along the vertical axis (horizontal bar chart).
    pub horizontal: bool,
    /// The values at the top and the bottom of the plot area, for charts
    /// where the value under the mouse matters (which segment of a stacked
    /// bar was clicked).
    pub y_range: Option<(f64, f64)>,
}

impl Mapping {
    /// The slots of a chart's plot area (`chart.plotting_area()`).
    pub fn of_plot<DB: DrawingBackend, CT: CoordTranslate>(
        plot: &DrawingArea<DB, CT>,
        bars: usize,
        horizontal: bool,
    ) -> Mapping {
        let (xr, yr) = plot.get_pixel_range();
        Mapping {
            left: xr.start,
            right: xr.end - 1,
            top: yr.start,
            bottom: yr.end - 1,
            bars,
            horizontal,
            y_range: None,
        }
    }

    /// The value at the backend pixel row `y`, on charts that say their range.
    pub fn value_at(&self, y: i32) -> Option<f64> {
        let (lo, hi) = self.y_range?;
        let height = f64::from(self.bottom - self.top);
        (height > 0.0).then(|| hi - (f64::from(y - self.top) / height) * (hi - lo))
    }

    /// The bar under the pixel `(x, y)`, if any.
    pub fn index_at(&self, x: i32, y: i32) -> Option<usize> {
        if self.bars == 0 || x < self.left || x > self.right || y < self.top || y > self.bottom {
            return None;
        }
        let (pos, start, len) = if self.horizontal {
            (y, self.top, self.bottom - self.top)
        } else {
            (x, self.left, self.right - self.left)
        };
        if len <= 0 {
            return None;
        }
        let i = ((pos - start) as i64 * self.bars as i64 / (len as i64 + 1)) as usize;
        Some(i.min(self.bars - 1))
    }

    /// Where slot `index` lies along the slots' axis (x, or y when
    /// horizontal), in backend pixels from its first to past its last: the
    /// pixels [`Mapping::index_at`] maps to it. What the keyboard's
    /// selection marks and anchors its tooltip at.
    pub fn slot_span(&self, index: usize) -> Option<(f64, f64)> {
        let (start, len) = if self.horizontal {
            (self.top, self.bottom - self.top)
        } else {
            (self.left, self.right - self.left)
        };
        if index >= self.bars || len <= 0 {
            return None;
        }
        let width = f64::from(len + 1) / self.bars as f64;
        let from = f64::from(start) + index as f64 * width;
        Some((from, from + width))
    }
}

/// The labels of slots side by side, thinned so that they do not overlap:
/// every k-th is kept, counted from the last (the newest run is always
/// named), the others are empty.
pub fn sparse_labels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    labels: &[String],
    font: &TextStyle,
    scale: f64,
) -> Vec<String> {
    let (width, _) = root.dim_in_pixel();
    let widest = labels
        .iter()
        .map(|l| root.estimate_text_size(l, font).map_or(0, |(w, _)| w))
        .max()
        .unwrap_or(0);
    let step = ((labels.len() as f64 * (f64::from(widest) + 12.0 * scale)) / f64::from(width.max(1)) * 1.25)
        .ceil()
        .max(1.0) as usize;
    let mut shown: Vec<String> = labels
        .iter()
        .rev()
        .enumerate()
        .map(|(k, l)| if k % step == 0 { l.clone() } else { String::new() })
        .collect();
    shown.reverse();
    shown
}

/// A chart of slots side by side (months, runs) over the value axis
/// `lo`–`hi`: the background filled, the slots' labels thinned to fit, the
/// grid and the value labels (`y_format`) drawn in a margin of `y_area` CSS
/// pixels. Slot `i` is centred on `x = i`.
pub fn slot_chart<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    x_labels: &[String],
    (lo, hi): (f64, f64),
    theme: &Theme,
    scale: f64,
    y_area: f64,
    y_format: &TickFormat,
) -> Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>, String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&theme.background).map_err(err)?;
    let px = |v: f64| (v * scale).round() as u32;
    let n = x_labels.len().max(1);
    let font = ("sans-serif", px(12.0)).into_font().color(&theme.text);
    let shown = sparse_labels(root, x_labels, &font, scale);
    let step = tick_step((lo, hi), Y_LABELS);
    let mut chart = ChartBuilder::on(root)
        .margin(px(8.0))
        .margin_right(px(16.0))
        .x_label_area_size(px(26.0))
        .y_label_area_size(px(y_area))
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), lo..hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(theme.grid)
        .bold_line_style(theme.grid)
        .axis_style(theme.grid)
        .x_labels(n)
        .x_label_formatter(&|x: &f64| slot_label(&shown, *x))
        .y_labels(Y_LABELS)
        .y_label_formatter(&|y: &f64| y_format(Tick { value: *y, step }))
        .label_style(font)
        .draw()
        .map_err(err)?;
    Ok(chart)
}

/// How many labels a vertical value axis has at most.
pub const Y_LABELS: usize = 6;

/// The label at mesh position `x`: a slot's label at whole positions, nothing between them.
pub fn slot_label(labels: &[String], x: f64) -> String {
    let i = x.round();
    if (x - i).abs() < 1e-6 && i >= 0.0 {
        labels.get(i as usize).cloned().unwrap_or_default()
    } else {
        String::new()
    }
}

/// A value-axis label to write: its value and the step between the axis's
/// labels, so that the label shows as many digits as the step needs
/// (`$1.5k` on a step of 500, never two gridlines reading `$2k`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tick {
    pub value: f64,
    pub step: f64,
}

/// How a chart's value axis writes its labels.
pub type TickFormat<'a> = dyn Fn(Tick) -> String + 'a;

/// The step between the `labels` labels plotters puts on the axis `lo`–`hi`
/// (it asks the same coordinate for its key points as the mesh does); the
/// whole range when there is at most one label.
pub fn tick_step((lo, hi): (f64, f64), labels: usize) -> f64 {
    use plotters::coord::ranged1d::Ranged;
    let points = RangedCoordf64::from(lo..hi).key_points(labels);
    points
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .filter(|d| *d > 0.0)
        .fold(None, |min: Option<f64>, d| Some(min.map_or(d, |m| m.min(d))))
        .unwrap_or_else(|| (hi - lo).abs().max(1.0))
}

/// One bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub color: RGBColor,
    /// A month the data do not cover whole, with its value as text: it does
    /// not set the value axis (a partial month's -99% would flatten every
    /// other month); beyond the axis it is cut at the edge, this text at the cut.
    pub partial: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decline_colours() {
        let t = Theme::LIGHT;
        assert_eq!(growth_color(Some(Percent(-1)), true, &t), t.decline);
        assert_eq!(growth_color(Some(Percent(250)), true, &t), t.growth);
        assert_eq!(growth_color(Some(Percent(0)), true, &t), t.growth);
        assert_eq!(growth_color(None, true, &t), t.grid);
        assert_eq!(growth_color(Some(Percent(-1)), false, &t), faded(t.decline, &t));
        assert_ne!(faded(t.decline, &t), t.decline);
    }

    #[test]
    fn quality_colours() {
        for t in [Theme::LIGHT, Theme::DARK] {
            assert_eq!(threshold_color(true, &t), t.decline);
            assert_eq!(threshold_color(false, &t), t.growth);
            // The trend's lines never look like "below" or "at or above".
            assert!(!t.series.contains(&t.decline) && !t.series.contains(&t.growth) && !t.series.contains(&t.primary));
        }
        assert_eq!(text_on(Theme::LIGHT.decline), RGBColor(255, 255, 255));
        assert_eq!(text_on(Theme::DARK.growth), RGBColor(20, 22, 28));
        assert_eq!(css(RGBColor(59, 106, 220)), "#3b6adc");
    }

    #[test]
    fn tick_steps_are_the_meshes() {
        assert_eq!(tick_step((0.0, 3200.0), 6), 1000.0);
        assert_eq!(tick_step((0.0, 2600.0), 6), 500.0);
        assert_eq!(tick_step((-120.0, 40.0), 6), 50.0);
        assert_eq!(tick_step((0.0, 1.0), 1), 1.0);
    }

    #[test]
    fn labels_of_slots() {
        let labels: Vec<String> = ["Jan", "Feb"].map(String::from).to_vec();
        assert_eq!(slot_label(&labels, 1.0), "Feb");
        assert_eq!(slot_label(&labels, 0.5), "");
        assert_eq!(slot_label(&labels, -1.0), "");
        assert_eq!(slot_label(&labels, 2.0), "");
    }

    #[test]
    fn index_lookup() {
        let m = Mapping {
            left: 100,
            right: 399,
            top: 0,
            bottom: 200,
            bars: 3,
            horizontal: false,
            y_range: None,
        };
        assert_eq!(m.value_at(100), None);
        let valued = Mapping {
            y_range: Some((-50.0, 150.0)),
            ..m
        };
        assert_eq!(valued.value_at(0), Some(150.0));
        assert_eq!(valued.value_at(200), Some(-50.0));
        assert_eq!(valued.value_at(50), Some(100.0));
        assert_eq!(m.index_at(100, 10), Some(0));
        assert_eq!(m.index_at(199, 10), Some(0));
        assert_eq!(m.index_at(200, 10), Some(1));
        assert_eq!(m.index_at(399, 10), Some(2));
        assert_eq!(m.index_at(99, 10), None);
        assert_eq!(m.index_at(150, 201), None);
        let h = Mapping {
            horizontal: true,
            bars: 2,
            ..m
        };
        assert_eq!(h.index_at(150, 0), Some(0));
        assert_eq!(h.index_at(150, 150), Some(1));
        // Every pixel of a slot's span maps back to that slot, and no other does.
        for m in [m, h] {
            for i in 0..m.bars {
                let (from, to) = m.slot_span(i).unwrap();
                let at = |p: f64| {
                    let p = p as i32;
                    if m.horizontal {
                        m.index_at(m.left, p)
                    } else {
                        m.index_at(p, m.top)
                    }
                };
                assert_eq!(at(from.ceil()), Some(i), "first pixel of slot {i}");
                assert_eq!(at(to.ceil() - 1.0), Some(i), "last pixel of slot {i}");
            }
            assert_eq!(m.slot_span(m.bars), None);
        }
        assert_eq!(m.slot_span(0), Some((100.0, 200.0)));
        assert_eq!(Mapping::default().slot_span(0), None);
    }
}
