//! The keyboard of a chart: which slot (bar, month, run) a key selects, as
//! pure functions of the key and the selection, so that the canvas component
//! only turns their answer into a tooltip, a mark and a pick.

/// What a key does on a focused chart; other keys are left to the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKey {
    Move(Move),
    /// Enter or Space: open the selected slot, as a click on it does.
    Open,
    /// Escape: hide the selected slot's tooltip.
    Dismiss,
}

/// A move of the selection among a chart's slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Previous,
    Next,
    First,
    Last,
}

impl ChartKey {
    /// The action of a `KeyboardEvent.key`. Both arrow pairs step through the
    /// slots on every chart: a horizontal bar chart lists its slots top down,
    /// a vertical one left to right, and a reader should not have to know which.
    pub fn of(key: &str) -> Option<ChartKey> {
        Some(match key {
            "ArrowLeft" | "ArrowUp" => ChartKey::Move(Move::Previous),
            "ArrowRight" | "ArrowDown" => ChartKey::Move(Move::Next),
            "Home" => ChartKey::Move(Move::First),
            "End" => ChartKey::Move(Move::Last),
            "Enter" | " " => ChartKey::Open,
            "Escape" => ChartKey::Dismiss,
            _ => return None,
        })
    }
}

impl Move {
    /// The slot selected after this move from `selected` among `slots` slots;
    /// `None` on a chart without slots. With nothing selected yet, a step
    /// forward starts at the first slot and a step back at the last (the
    /// newest month, usually what a reader wants first). Moves stop at the
    /// ends rather than wrap: a wrap from the newest month to the oldest is
    /// easy to miss when the chart is heard rather than seen. A selection
    /// past the end (the chart was redrawn with fewer slots) counts as the last.
    pub fn from(self, selected: Option<usize>, slots: usize) -> Option<usize> {
        let last = slots.checked_sub(1)?;
        let current = selected.map(|i| i.min(last));
        Some(match (self, current) {
            (Move::First, _) | (Move::Next, None) => 0,
            (Move::Last, _) | (Move::Previous, None) => last,
            (Move::Previous, Some(i)) => i.saturating_sub(1),
            (Move::Next, Some(i)) => (i + 1).min(last),
        })
    }
}

/// A tooltip's lines as one sentence for the live region: a screen reader
/// reads line breaks in hidden text as nothing, running the figures together.
pub fn announcement(tooltip: &str) -> String {
    tooltip
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the chart's accessible name adds to its label: the keys, and Enter
/// only where a key can open a slot.
pub fn keys_hint(can_open: bool) -> &'static str {
    if can_open {
        "Arrow keys select a bar and read its figures, Home and End the first and last, \
         Enter or Space opens the selected one, Escape hides its figures."
    } else {
        "Arrow keys select a bar and read its figures, Home and End the first and last, \
         Escape hides its figures."
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(keys: &[&str], slots: usize) -> Option<usize> {
        keys.iter().fold(None, |selected, key| match ChartKey::of(key) {
            Some(ChartKey::Move(m)) => m.from(selected, slots),
            _ => selected,
        })
    }

    #[test]
    fn arrows_step_and_stop_at_the_ends() {
        assert_eq!(press(&["ArrowRight"], 5), Some(0));
        assert_eq!(press(&["ArrowRight", "ArrowRight", "ArrowRight"], 5), Some(2));
        assert_eq!(press(&["ArrowRight", "ArrowRight", "ArrowLeft"], 5), Some(0));
        assert_eq!(press(&["ArrowDown", "ArrowDown", "ArrowUp"], 5), Some(0));
        assert_eq!(press(&["ArrowRight"; 9], 5), Some(4));
        assert_eq!(press(&["ArrowRight", "ArrowLeft", "ArrowLeft"], 5), Some(0));
    }

    #[test]
    fn nothing_selected_yet() {
        assert_eq!(Move::Next.from(None, 5), Some(0));
        assert_eq!(Move::Previous.from(None, 5), Some(4));
        assert_eq!(Move::First.from(None, 5), Some(0));
        assert_eq!(Move::Last.from(None, 5), Some(4));
        for m in [Move::Previous, Move::Next, Move::First, Move::Last] {
            assert_eq!(m.from(None, 0), None, "{m:?} on a chart without slots");
            assert_eq!(m.from(Some(3), 0), None, "{m:?} after the chart lost its slots");
            assert_eq!(m.from(None, 1), Some(0));
        }
    }

    #[test]
    fn home_and_end() {
        assert_eq!(press(&["ArrowRight", "ArrowRight", "End"], 5), Some(4));
        assert_eq!(press(&["End", "Home"], 5), Some(0));
        assert_eq!(press(&["End", "ArrowLeft"], 5), Some(3));
        assert_eq!(press(&["Home", "ArrowLeft"], 5), Some(0));
    }

    #[test]
    fn a_selection_past_the_end_counts_as_the_last() {
        assert_eq!(Move::Next.from(Some(7), 3), Some(2));
        assert_eq!(Move::Previous.from(Some(7), 3), Some(1));
        assert_eq!(Move::First.from(Some(7), 3), Some(0));
    }

    #[test]
    fn keys_the_chart_takes_and_leaves() {
        assert_eq!(ChartKey::of("Enter"), Some(ChartKey::Open));
        assert_eq!(ChartKey::of(" "), Some(ChartKey::Open));
        assert_eq!(ChartKey::of("Escape"), Some(ChartKey::Dismiss));
        assert_eq!(ChartKey::of("Home"), Some(ChartKey::Move(Move::First)));
        for key in ["Tab", "a", "PageDown", "Shift", ""] {
            assert_eq!(ChartKey::of(key), None, "{key:?} is the browser's");
        }
        // Keys that do not move leave the selection as it was.
        assert_eq!(
            press(&["ArrowRight", "ArrowRight", "Escape", "Enter", "Tab"], 5),
            Some(1)
        );
    }

    #[test]
    fn the_announcement_is_the_tooltip_in_one_line() {
        assert_eq!(
            announcement("May 2024 (in progress)\nAverage: $12.50\n\n  Transactions: 4 "),
            "May 2024 (in progress), Average: $12.50, Transactions: 4"
        );
        assert_eq!(announcement(""), "");
        assert!(keys_hint(true).contains("Enter"));
        assert!(!keys_hint(false).contains("Enter"));
    }
}
