//! The keyboard's side of a chart: the slot it selects, the handlers that
//! move and pick it ([`keys`](super::keys) says which key does what), and
//! what the selection draws over the canvas.

use std::cell::RefCell;
use std::rc::Rc;

use yew::prelude::*;

use super::keys::{announcement, keys_hint, ChartKey};
use super::{ChartProps, Pick, Tip};
use crate::charts::Mapping;

/// The slot selected with the keyboard, and whether its tooltip shows
/// (Escape hides it and keeps the selection).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Selected {
    index: usize,
    tip: bool,
}

/// What the last drawing left for the keyboard's overlay: where the slots
/// are, the pixel ratio they were drawn at, and the canvas's CSS width.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(super) struct Drawn {
    pub(super) mapping: Mapping,
    pub(super) dpr: f64,
    pub(super) width: f64,
}

/// The chart's label and its keys. `role="application"`, not `img`: an image
/// is static and a screen reader in browse mode keeps the arrow keys for
/// itself, so they would never reach the chart; an application hands them
/// over, which is what WAI-ARIA reserves it for (a widget with keys of its
/// own that no other role describes). Its label must then say the keys.
pub(super) fn aria_label(props: &ChartProps, drawn: Drawn) -> String {
    format!(
        "{}. {}",
        props.label,
        keys_hint(can_open(props.onpick.as_ref(), drawn.mapping))
    )
}

/// Whether a key can open a slot: on a chart that picks, unless its pick
/// needs the value under the mouse (a segment of a stacked bar), which a
/// key does not give.
fn can_open(onpick: Option<&Callback<Pick>>, m: Mapping) -> bool {
    onpick.is_some() && m.y_range.is_none()
}

/// What the keyboard changes, shared by its handlers.
pub(super) struct Keys {
    pub(super) selection: Rc<RefCell<Option<Selected>>>,
    pub(super) mapping: Rc<RefCell<Mapping>>,
    /// The mouse's tooltip, which gives way when a key selects a slot.
    pub(super) mouse: UseStateHandle<Option<Tip>>,
    pub(super) rerender: UseForceUpdateHandle,
    pub(super) onpick: Option<Callback<Pick>>,
}

impl Keys {
    /// Arrows, Home and End select a slot and show its tooltip, Enter and
    /// Space pick it as a click does, Escape hides its tooltip. Keys with a
    /// modifier stay the browser's, and so does a key that does nothing here
    /// (Space with nothing selected still scrolls the page).
    pub(super) fn onkeydown(&self) -> Callback<KeyboardEvent> {
        let (selection, mapping, mouse) = (self.selection.clone(), self.mapping.clone(), self.mouse.clone());
        let (rerender, onpick) = (self.rerender.clone(), self.onpick.clone());
        Callback::from(move |e: KeyboardEvent| {
            if e.ctrl_key() || e.alt_key() || e.meta_key() {
                return;
            }
            let Some(key) = ChartKey::of(&e.key()) else { return };
            let m = *mapping.borrow();
            let current = *selection.borrow();
            match (key, current) {
                (ChartKey::Move(step), _) => {
                    if let Some(index) = step.from(current.map(|s| s.index), m.bars) {
                        *selection.borrow_mut() = Some(Selected { index, tip: true });
                        mouse.set(None);
                    }
                }
                (ChartKey::Open, Some(s)) if can_open(onpick.as_ref(), m) => {
                    if let Some(onpick) = &onpick {
                        onpick.emit(Pick {
                            index: s.index,
                            value: None,
                        });
                    }
                }
                (ChartKey::Dismiss, Some(s)) if s.tip => {
                    *selection.borrow_mut() = Some(Selected { tip: false, ..s });
                }
                _ => return,
            }
            e.prevent_default();
            rerender.force_update();
        })
    }

    /// Leaving the chart drops the selection: its mark and tooltip would
    /// otherwise stay on a chart the keyboard is no longer on.
    pub(super) fn onblur(&self) -> Callback<FocusEvent> {
        let (selection, rerender) = (self.selection.clone(), self.rerender.clone());
        Callback::from(move |_: FocusEvent| {
            if selection.borrow_mut().take().is_some() {
                rerender.force_update();
            }
        })
    }
}

/// The keyboard's selection over the canvas: its slot marked, its tooltip
/// anchored at the slot, and its figures for the live region.
pub(super) struct Overlay {
    pub(super) mark: Html,
    pub(super) tip: Option<(Tip, String)>,
    pub(super) live: String,
}

impl Overlay {
    pub(super) fn of(selected: Option<Selected>, drawn: Drawn, tooltips: &[String]) -> Overlay {
        let none = Overlay {
            mark: Html::default(),
            tip: None,
            live: String::new(),
        };
        let Some(s) = selected else { return none };
        let Some(b) = slot_box(drawn, s.index) else { return none };
        let mark = html! {
            <div class="slot-mark" aria-hidden="true"
                style={format!("left:{:.1}px;top:{:.1}px;width:{:.1}px;height:{:.1}px", b.left, b.top, b.width, b.height)}></div>
        };
        let text = tooltips.get(s.index).filter(|_| s.tip);
        // Beside the slot: level with the plot's top above a month, halfway
        // down a horizontal bar.
        let anchor = if drawn.mapping.horizontal {
            (b.left, b.top + b.height / 2.0)
        } else {
            (b.left + b.width / 2.0, b.top)
        };
        let tip = Tip {
            x: anchor.0,
            y: anchor.1,
            width: drawn.width,
            index: s.index,
        };
        Overlay {
            mark,
            tip: text.map(|t| (tip, t.clone())),
            live: text.map_or_else(String::new, |t| announcement(t)),
        }
    }
}

/// A slot's band over the plot area, in CSS pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct SlotBox {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
}

fn slot_box(drawn: Drawn, index: usize) -> Option<SlotBox> {
    let m = drawn.mapping;
    if drawn.dpr <= 0.0 {
        return None;
    }
    let (from, to) = m.slot_span(index)?;
    let css = |v: f64| v / drawn.dpr;
    let across = |a: i32, b: i32| (css(f64::from(a)), css(f64::from(b - a + 1)));
    Some(if m.horizontal {
        let (left, width) = across(m.left, m.right);
        SlotBox {
            left,
            top: css(from),
            width,
            height: css(to - from),
        }
    } else {
        let (top, height) = across(m.top, m.bottom);
        SlotBox {
            left: css(from),
            top,
            width: css(to - from),
            height,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::Bar;
    use crate::components::chart_canvas::{Axis, Chart, ChartCanvas};
    use crate::components::ssr::render;

    /// Three months over backend pixels 100–399 drawn at a ratio of 2.
    fn drawn(horizontal: bool) -> Drawn {
        Drawn {
            mapping: Mapping {
                left: 100,
                right: 399,
                top: 20,
                bottom: 219,
                bars: 3,
                horizontal,
                y_range: None,
            },
            dpr: 2.0,
            width: 250.0,
        }
    }

    #[test]
    fn the_selected_slot_is_marked_and_its_tooltip_anchored_at_it() {
        let tips = ["Jan 2024\nRevenue: $1.00", "Feb 2024\nRevenue: $2.00", "Mar 2024"].map(String::from);
        let o = Overlay::of(Some(Selected { index: 1, tip: true }), drawn(false), &tips);
        let (tip, text) = o.tip.unwrap();
        // Slot 1 spans backend x 200–300: CSS 100–150, the plot's full height.
        assert_eq!(
            slot_box(drawn(false), 1),
            Some(SlotBox {
                left: 100.0,
                top: 10.0,
                width: 50.0,
                height: 100.0
            })
        );
        assert_eq!((tip.x, tip.y, tip.width, tip.index), (125.0, 10.0, 250.0, 1));
        assert_eq!(text, tips[1]);
        assert_eq!(o.live, "Feb 2024, Revenue: $2.00");
        assert_ne!(o.mark, Html::default());
    }

    #[test]
    fn escape_keeps_the_mark_and_drops_the_tooltip_and_the_announcement() {
        let tips = ["a", "b", "c"].map(String::from);
        let o = Overlay::of(Some(Selected { index: 2, tip: false }), drawn(false), &tips);
        assert!(o.tip.is_none() && o.live.is_empty());
        assert_ne!(o.mark, Html::default());
        let none = Overlay::of(None, drawn(false), &tips);
        assert!(none.tip.is_none() && none.live.is_empty() && none.mark == Html::default());
        // Not drawn yet: nothing to anchor at.
        let undrawn = Overlay::of(Some(Selected { index: 0, tip: true }), Drawn::default(), &tips);
        assert!(undrawn.tip.is_none() && undrawn.live.is_empty());
    }

    #[test]
    fn a_horizontal_chart_marks_a_row() {
        let b = slot_box(drawn(true), 0).unwrap();
        assert_eq!((b.left, b.width), (50.0, 150.0));
        assert!(
            (b.top - 10.0).abs() < 1e-9 && (b.height - 100.0 / 3.0).abs() < 1e-9,
            "{b:?}"
        );
        assert_eq!(slot_box(drawn(true), 3), None);
    }

    #[test]
    fn a_key_opens_a_slot_only_where_a_click_needs_no_value() {
        let pick = Some(Callback::from(|_: Pick| ()));
        let m = drawn(false).mapping;
        assert!(can_open(pick.as_ref(), m));
        assert!(!can_open(None, m));
        let stacked = Mapping {
            y_range: Some((-10.0, 10.0)),
            ..m
        };
        assert!(!can_open(pick.as_ref(), stacked));
    }

    fn chart() -> Chart {
        let bar = |label: &str| Bar {
            label: label.into(),
            value: 1.0,
            color: crate::charts::Theme::LIGHT.primary,
            partial: None,
        };
        Chart::Vertical {
            bars: vec![bar("Jan"), bar("Feb")],
            axis: Axis::Count,
        }
    }

    #[tokio::test]
    async fn a_chart_with_tooltips_takes_the_keyboard_and_says_its_keys() {
        let html = render(|| {
            let onpick = Some(Callback::from(|_: Pick| ()));
            html! { <ChartCanvas chart={chart()} tooltips={vec!["Jan".to_owned(), "Feb".to_owned()]}
            label="Months" dark=false epoch=0 {onpick} /> }
        })
        .await;
        assert!(
            html.contains(r#"role="application""#) && html.contains(r#"tabindex="0""#),
            "{html}"
        );
        assert!(
            html.contains(r#"aria-label="Months. Arrow keys select a bar"#),
            "{html}"
        );
        assert!(html.contains("Enter or Space opens"), "{html}");
        assert!(html.contains(r#"aria-live="polite""#), "{html}");

        let html = render(|| html! { <ChartCanvas chart={chart()} tooltips={vec!["Jan".to_owned()]} label="Months" dark=false epoch=0 /> }).await;
        assert!(html.contains(r#"tabindex="0""#) && !html.contains("Enter"), "{html}");

        let html = render(
            || html! { <ChartCanvas chart={chart()} tooltips={Vec::new()} label="Months" dark=false epoch=0 /> },
        )
        .await;
        assert!(
            html.contains(r#"role="img""#) && html.contains(r#"aria-label="Months""#),
            "{html}"
        );
        assert!(!html.contains("tabindex") && !html.contains("aria-live"), "{html}");
    }
}
