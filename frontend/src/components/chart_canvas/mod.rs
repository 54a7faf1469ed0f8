//! A canvas that draws a chart at the screen's pixel density, redraws on
//! resize, and shows a tooltip for the bar (or run) under the mouse, or for
//! the one selected with the keyboard ([`keys`]).

use api_types::SaasMovementKind;
use std::cell::RefCell;
use std::rc::Rc;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::RGBColor;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

use crate::charts::areas::{self, Layer};
use crate::charts::grouped_bars::{self, Group};
use crate::charts::lines::{self, Series};
use crate::charts::score_bars::{self, ScoreBar};
use crate::charts::{bars, hbars, movements, Bar, Mapping, Theme, Tick};
use crate::format;
use crate::recurring::layout::MovementLayout;
use selection::{aria_label, Drawn, Keys, Overlay, Selected};

pub mod keys;
mod selection;

/// A chart and its data: what [`ChartCanvas`] draws, with one of the `charts` modules.
#[derive(Clone, PartialEq)]
pub enum Chart {
    /// One vertical bar per month.
    Vertical { bars: Vec<Bar>, axis: Axis },
    /// Ranked horizontal bars, largest on top.
    Horizontal { bars: Vec<Bar>, axis: Axis },
    /// Percentages on a 0–100% axis, with their minimums.
    Scores(Vec<ScoreBar>),
    /// Percentages across runs.
    Lines { x_labels: Vec<String>, series: Vec<Series> },
    /// Several values per run side by side, series `k` in `colors[k]`.
    Grouped {
        groups: Vec<Group>,
        colors: Vec<RGBColor>,
        axis: Axis,
    },
    /// Lines on a value axis of their own range (months of rates).
    Trend {
        x_labels: Vec<String>,
        series: Vec<Series>,
        range: (f64, f64),
        axis: Axis,
    },
    /// Bands stacked per month with their sum as a line in `total`.
    Areas {
        x_labels: Vec<String>,
        layers: Vec<Layer>,
        total: RGBColor,
        axis: Axis,
    },
    /// The movements of MRR around a zero line, one of them outlined.
    Movements {
        x_labels: Vec<String>,
        layout: MovementLayout,
        selected: Option<(usize, SaasMovementKind)>,
        axis: Axis,
    },
}

impl Chart {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        theme: &Theme,
        scale: f64,
    ) -> Result<Mapping, String> {
        match self {
            Chart::Vertical { bars, axis } => bars::draw(root, bars, theme, scale, &|t| axis.format(t)),
            Chart::Horizontal { bars, axis } => hbars::draw(root, bars, theme, scale, &|t| axis.format(t)),
            Chart::Scores(bars) => score_bars::draw(root, bars, theme, scale),
            Chart::Lines { x_labels, series } => lines::draw(root, x_labels, series, theme, scale),
            Chart::Grouped { groups, colors, axis } => {
                grouped_bars::draw(root, groups, colors, theme, scale, &|t| axis.format(t))
            }
            Chart::Trend {
                x_labels,
                series,
                range,
                axis,
            } => lines::draw_in(root, x_labels, series, theme, scale, *range, &|t| axis.format(t)),
            Chart::Areas {
                x_labels,
                layers,
                total,
                axis,
            } => areas::draw(root, x_labels, layers, *total, theme, scale, &|t| axis.format(t)),
            Chart::Movements {
                x_labels,
                layout,
                selected,
                axis,
            } => movements::draw(root, x_labels, layout, *selected, theme, scale, &|t| axis.format(t)),
        }
    }
}

/// How the value axis is labelled.
#[derive(Clone, PartialEq)]
pub enum Axis {
    Money(api_types::Currency),
    Percent,
    /// Small percentages (churn rates): `"2.5%"`.
    PercentFine,
    /// A plain ratio (the quick ratio): `"1.5"`.
    Ratio,
    /// Counts of rows: `"800"`, `"12k"`, `"1.5M"`.
    Count,
}

impl Axis {
    /// The label of one tick, with the digits its step needs: two gridlines
    /// never read the same (`"$1.5k"`, not `"$2k"` twice).
    pub fn format(&self, t: Tick) -> String {
        match self {
            Axis::Percent | Axis::PercentFine => format!("{}%", format::plain_tick(t.value, t.step)),
            Axis::Ratio => format::plain_tick(t.value, t.step),
            Axis::Count => format::tick(t.value, t.step, ""),
            Axis::Money(currency) => format::money_tick(t.value, t.step, currency),
        }
    }
}

/// A click on a chart: the slot (bar, month) under the mouse and, on charts
/// whose mapping has a value axis, the value there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pick {
    pub index: usize,
    pub value: Option<f64>,
}

#[derive(Properties, PartialEq)]
pub struct ChartProps {
    pub chart: Chart,
    /// One tooltip text per bar (per run of a line or grouped chart).
    pub tooltips: Vec<String>,
    pub label: AttrValue,
    pub dark: bool,
    /// Changes when the window is resized.
    pub epoch: u32,
    #[prop_or(280)]
    pub height: u32,
    /// Called when a slot is clicked (the chart then shows a pointer).
    #[prop_or_default]
    pub onpick: Option<Callback<Pick>>,
}

fn device_pixel_ratio() -> f64 {
    web_sys::window().map_or(1.0, |w| w.device_pixel_ratio()).max(1.0)
}

/// Where the tooltip goes: beside the mouse (or the selected slot), on the
/// side with more room.
#[derive(Clone, Copy, PartialEq)]
struct Tip {
    x: f64,
    y: f64,
    width: f64,
    index: usize,
}

#[component]
pub fn ChartCanvas(props: &ChartProps) -> Html {
    let canvas_ref = use_node_ref();
    let mapping = use_mut_ref(Mapping::default);
    let drawn = use_state_eq(Drawn::default);
    let tooltip = use_state(|| None::<Tip>);
    // Read and written by the key handler itself: two keys pressed before
    // the next render must both count.
    let selection = use_mut_ref(|| None::<Selected>);
    let rerender = use_force_update();
    {
        let canvas_ref = canvas_ref.clone();
        let mapping = mapping.clone();
        let drawn = drawn.clone();
        let (chart, dark, epoch, height) = (props.chart.clone(), props.dark, props.epoch, props.height);
        use_effect_with((chart, dark, epoch), move |(chart, dark, _)| {
            if let Some(canvas) = canvas_ref.cast::<HtmlCanvasElement>() {
                if let Some(d) = draw_on(&canvas, chart, *dark, height) {
                    *mapping.borrow_mut() = d.mapping;
                    drawn.set(d);
                }
            }
            || ()
        });
    }
    let onmousemove = on_mouse_move(tooltip.clone(), mapping.clone(), canvas_ref.clone());
    let onclick = props.onpick.clone().map(|onpick| on_click(onpick, mapping.clone()));
    let onmouseleave = {
        let tooltip = tooltip.clone();
        Callback::from(move |_: MouseEvent| tooltip.set(None))
    };
    let keys = Keys {
        selection: selection.clone(),
        mapping,
        mouse: tooltip.clone(),
        rerender,
        onpick: props.onpick.clone(),
    };
    // A chart with nothing to show or open per slot stays a plain image.
    let interactive = !props.tooltips.is_empty() || props.onpick.is_some();
    let label = if interactive {
        aria_label(props, *drawn)
    } else {
        props.label.to_string()
    };
    let selected = *selection.borrow();
    let overlay = Overlay::of(selected, *drawn, &props.tooltips);
    // The mouse's tooltip when the mouse is over a slot, else the keyboard's.
    let tip = tooltip
        .and_then(|t| props.tooltips.get(t.index).map(|text| (t, text.clone())))
        .or(overlay.tip);
    html! {
        <div class="chart">
            <canvas ref={canvas_ref} role={if interactive { "application" } else { "img" }}
                tabindex={interactive.then_some("0")} aria-label={label}
                onkeydown={keys.onkeydown()} onblur={keys.onblur()} {onmousemove} {onmouseleave}
                class={classes!(onclick.is_some().then_some("pickable"))} {onclick}></canvas>
            { overlay.mark }
            if let Some((t, text)) = tip {
                <div class="tooltip" role="tooltip" style={tip_position(t)}>
                    { for text.lines().map(|l| html! { <div>{ l }</div> }) }
                </div>
            }
            if interactive {
                <div class="visually-hidden" aria-live="polite" aria-atomic="true">{ overlay.live }</div>
            }
        </div>
    }
}

/// Shows the tooltip of the slot under the mouse, beside it.
fn on_mouse_move(
    tooltip: UseStateHandle<Option<Tip>>,
    mapping: Rc<RefCell<Mapping>>,
    canvas_ref: NodeRef,
) -> Callback<MouseEvent> {
    Callback::from(move |e: MouseEvent| {
        let dpr = device_pixel_ratio();
        let (x, y) = (f64::from(e.offset_x()), f64::from(e.offset_y()));
        let width = canvas_ref
            .cast::<HtmlCanvasElement>()
            .map_or(0.0, |c| f64::from(c.client_width()));
        let hit = mapping.borrow().index_at((x * dpr) as i32, (y * dpr) as i32);
        tooltip.set(hit.map(|index| Tip { x, y, width, index }));
    })
}

/// Picks the slot under the mouse, with the value there.
fn on_click(onpick: Callback<Pick>, mapping: Rc<RefCell<Mapping>>) -> Callback<MouseEvent> {
    Callback::from(move |e: MouseEvent| {
        let dpr = device_pixel_ratio();
        let (x, y) = (
            (f64::from(e.offset_x()) * dpr) as i32,
            (f64::from(e.offset_y()) * dpr) as i32,
        );
        let m = *mapping.borrow();
        if let Some(index) = m.index_at(x, y) {
            onpick.emit(Pick {
                index,
                value: m.value_at(y),
            });
        }
    })
}

/// Draws `chart` on `canvas` at the screen's density, filling its parent's
/// width; `None` when it could not (the error is left in `data-error`).
fn draw_on(canvas: &HtmlCanvasElement, chart: &Chart, dark: bool, height: u32) -> Option<Drawn> {
    let dpr = device_pixel_ratio();
    let css_width = canvas
        .parent_element()
        .map_or(600.0, |p| p.get_bounding_client_rect().width())
        .max(200.0);
    // plotters-canvas draws in backing-store pixels: size the store for the
    // screen's density and keep the CSS size, so charts are sharp on HiDPI.
    canvas.set_width((css_width * dpr) as u32);
    canvas.set_height((f64::from(height) * dpr) as u32);
    let _ = canvas.set_attribute("style", &format!("width:{css_width}px;height:{height}px"));
    let theme = if dark { Theme::DARK } else { Theme::LIGHT };
    let backend = CanvasBackend::with_canvas_object(canvas.clone())?;
    match chart.draw(&backend.into_drawing_area(), &theme, dpr) {
        Ok(m) => {
            // The plot area in CSS pixels: where a test (or a
            // reader of the DOM) finds the bars and runs.
            let area = [m.left, m.top, m.right, m.bottom].map(|v| format!("{:.1}", f64::from(v) / dpr));
            let _ = canvas.set_attribute("data-plot-area", &area.join(" "));
            if let Some((lo, hi)) = m.y_range {
                let _ = canvas.set_attribute("data-y-range", &format!("{lo} {hi}"));
            }
            let _ = canvas.set_attribute("data-drawn", "true");
            Some(Drawn {
                mapping: m,
                dpr,
                width: css_width,
            })
        }
        Err(e) => {
            let _ = canvas.set_attribute("data-error", &e);
            None
        }
    }
}

/// Right of the mouse in the left half of the chart, left of it in the right
/// half, so that a wide tooltip never runs off a narrow screen.
fn tip_position(t: Tip) -> String {
    if t.width > 0.0 && t.x > t.width / 2.0 {
        format!("right:{}px;top:{}px", t.width - t.x + 12.0, t.y + 12.0)
    } else {
        format!("left:{}px;top:{}px", t.x + 12.0, t.y + 12.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(c: &str) -> api_types::Currency {
        c.parse().unwrap()
    }

    #[test]
    fn axis_labels() {
        let at = |value, step| Tick { value, step };
        assert_eq!(Axis::Count.format(at(800.0, 200.0)), "800");
        assert_eq!(Axis::Count.format(at(2_500.0, 500.0)), "2.5k");
        assert_eq!(Axis::Count.format(at(1_000.0, 1_000.0)), "1k");
        assert_eq!(Axis::Count.format(at(12_000.0, 2_000.0)), "12k");
        assert_eq!(Axis::Count.format(at(1_500_000.0, 500_000.0)), "1.5M");
        assert_eq!(Axis::Percent.format(at(40.0, 20.0)), "40%");
        assert_eq!(Axis::Percent.format(at(-2.5, 0.5)), "-2.5%");
        assert_eq!(Axis::Money(code("usd")).format(at(12_500.0, 2_500.0)), "$12.5k");
        assert_eq!(Axis::Money(code("usd")).format(at(1_500.0, 500.0)), "$1.5k");
        assert_eq!(Axis::Money(code("eur")).format(at(2_000.0, 500.0)), "€2k");
        assert_eq!(Axis::Money(code("jpy")).format(at(1_250_000.0, 250_000.0)), "¥1.25M");
        assert_eq!(Axis::PercentFine.format(at(2.5, 0.5)), "2.5%");
        assert_eq!(Axis::PercentFine.format(at(3.0, 1.0)), "3%");
        assert_eq!(Axis::Ratio.format(at(1.25, 0.25)), "1.25");
        assert_eq!(Axis::Ratio.format(at(2.0, 0.5)), "2");
    }

    #[test]
    fn tooltips_stay_on_the_side_with_room() {
        let at = |x| Tip {
            x,
            y: 10.0,
            width: 400.0,
            index: 0,
        };
        assert_eq!(tip_position(at(50.0)), "left:62px;top:22px");
        assert_eq!(tip_position(at(350.0)), "right:62px;top:22px");
    }
}
