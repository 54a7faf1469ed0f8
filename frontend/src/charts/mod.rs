//! Charts as pure drawing functions: each takes a plotters drawing area and its
//! data and returns a [`Mapping`] from pixels back to data (for tooltips).
//! Values are converted to `f64` only to place pixels; every number shown as
//! text comes from the API's exact decimal strings.

pub mod bars;
pub mod hbars;
#[cfg(test)]
pub mod testing;

use api_types::Percent;
use plotters::style::RGBColor;

/// Colours of the light or dark theme.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Theme {
    pub background: RGBColor,
    pub text: RGBColor,
    pub grid: RGBColor,
    pub primary: RGBColor,
    pub growth: RGBColor,
    pub decline: RGBColor,
}

impl Theme {
    pub const LIGHT: Theme = Theme {
        background: RGBColor(255, 255, 255),
        text: RGBColor(30, 35, 45),
        grid: RGBColor(225, 228, 235),
        primary: RGBColor(59, 106, 220),
        growth: RGBColor(22, 150, 80),
        decline: RGBColor(214, 40, 40),
    };
    pub const DARK: Theme = Theme {
        background: RGBColor(24, 27, 34),
        text: RGBColor(225, 228, 235),
        grid: RGBColor(55, 60, 72),
        primary: RGBColor(110, 150, 255),
        growth: RGBColor(60, 200, 120),
        decline: RGBColor(255, 90, 90),
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

/// Where the bars of a chart are, in backend pixels.
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
}

impl Mapping {
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
}

/// One bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub color: RGBColor,
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
    fn index_lookup() {
        let m = Mapping {
            left: 100,
            right: 399,
            top: 0,
            bottom: 200,
            bars: 3,
            horizontal: false,
        };
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
    }
}
