//! A canvas that draws a chart at the screen's pixel density, redraws on
//! resize, and shows a tooltip for the bar under the mouse.

use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

use crate::charts::{bars, hbars, Bar, Mapping, Theme};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    Vertical,
    Horizontal,
}

/// How the value axis is labelled.
#[derive(Clone, PartialEq)]
pub enum Axis {
    Money(String),
    Percent,
}

impl Axis {
    pub fn format(&self, v: f64) -> String {
        match self {
            Axis::Percent => format!("{v:.0}%"),
            Axis::Money(currency) => {
                let symbol = crate::format::currency_symbol(currency);
                let a = v.abs();
                let sign = if v < 0.0 { "-" } else { "" };
                if a >= 1e6 {
                    format!("{sign}{symbol}{:.1}M", a / 1e6)
                } else if a >= 1e3 {
                    format!("{sign}{symbol}{:.0}k", a / 1e3)
                } else {
                    format!("{sign}{symbol}{a:.0}")
                }
            }
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct ChartProps {
    pub kind: ChartKind,
    pub bars: Vec<Bar>,
    /// One tooltip text per bar.
    pub tooltips: Vec<String>,
    pub axis: Axis,
    pub label: AttrValue,
    pub dark: bool,
    /// Changes when the window is resized.
    pub epoch: u32,
    #[prop_or(280)]
    pub height: u32,
}

fn device_pixel_ratio() -> f64 {
    web_sys::window().map_or(1.0, |w| w.device_pixel_ratio()).max(1.0)
}

#[component]
pub fn ChartCanvas(props: &ChartProps) -> Html {
    let canvas_ref = use_node_ref();
    let mapping = use_mut_ref(Mapping::default);
    let tooltip = use_state(|| None::<(f64, f64, usize)>);
    {
        let canvas_ref = canvas_ref.clone();
        let mapping = mapping.clone();
        let (kind, bars, axis, dark, epoch, height) = (
            props.kind,
            props.bars.clone(),
            props.axis.clone(),
            props.dark,
            props.epoch,
            props.height,
        );
        use_effect_with((bars.clone(), dark, epoch, axis.clone()), move |_| {
            if let Some(canvas) = canvas_ref.cast::<HtmlCanvasElement>() {
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
                if let Some(backend) = CanvasBackend::with_canvas_object(canvas.clone()) {
                    let root = backend.into_drawing_area();
                    let fmt = move |v: f64| axis.format(v);
                    let drawn = match kind {
                        ChartKind::Vertical => bars::draw(&root, &bars, &theme, dpr, &fmt),
                        ChartKind::Horizontal => hbars::draw(&root, &bars, &theme, dpr, &fmt),
                    };
                    match drawn {
                        Ok(m) => {
                            *mapping.borrow_mut() = m;
                            let _ = canvas.set_attribute("data-drawn", "true");
                        }
                        Err(e) => {
                            let _ = canvas.set_attribute("data-error", &e);
                        }
                    }
                }
            }
            || ()
        });
    }
    let onmousemove = {
        let tooltip = tooltip.clone();
        let mapping = mapping.clone();
        Callback::from(move |e: MouseEvent| {
            let dpr = device_pixel_ratio();
            let (x, y) = (f64::from(e.offset_x()), f64::from(e.offset_y()));
            let hit = mapping.borrow().index_at((x * dpr) as i32, (y * dpr) as i32);
            tooltip.set(hit.map(|i| (x, y, i)));
        })
    };
    let onmouseleave = {
        let tooltip = tooltip.clone();
        Callback::from(move |_: MouseEvent| tooltip.set(None))
    };
    let tip = tooltip.and_then(|(x, y, i)| props.tooltips.get(i).map(|t| (x, y, t.clone())));
    html! {
        <div class="chart">
            <canvas ref={canvas_ref} role="img" aria-label={props.label.clone()} {onmousemove} {onmouseleave}></canvas>
            if let Some((x, y, text)) = tip {
                <div class="tooltip" role="tooltip" style={format!("left:{}px;top:{}px", x + 12.0, y + 12.0)}>
                    { for text.lines().map(|l| html! { <div>{ l }</div> }) }
                </div>
            }
        </div>
    }
}
