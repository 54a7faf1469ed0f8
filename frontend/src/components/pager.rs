//! Previous/next paging over an offset-based API list.

use yew::prelude::*;

use crate::format::count;

/// Where a page of an API list stands.
pub struct Paging {
    pub offset: u64,
    /// Rows per page.
    pub limit: u32,
    /// Rows on this page.
    pub shown: usize,
    /// Rows in all.
    pub total: i64,
    /// What the rows are, for the range text ("runs").
    pub noun: &'static str,
}

/// `"Showing 21–40 of 45 runs"`.
pub fn page_range(offset: u64, shown: usize, total: i64, noun: &str) -> String {
    if shown == 0 {
        return format!("{} {noun}", count(total));
    }
    let first = offset + 1;
    let last = offset + shown as u64;
    format!(
        "Showing {}–{} of {} {noun}",
        count(first as i64),
        count(last as i64),
        count(total)
    )
}

/// The offsets of the previous and next pages, where there are such pages.
pub fn neighbours(offset: u64, limit: u32, total: i64) -> (Option<u64>, Option<u64>) {
    let limit = u64::from(limit.max(1));
    let total = u64::try_from(total).unwrap_or(0);
    let previous = (offset > 0).then(|| offset.saturating_sub(limit));
    let next = (offset + limit < total).then_some(offset + limit);
    (previous, next)
}

/// The range shown and previous/next buttons; `on_page` gets the offset to show.
pub fn pager(p: &Paging, on_page: Callback<u64>) -> Html {
    let (previous, next) = neighbours(p.offset, p.limit, p.total);
    let go = |target: Option<u64>| {
        let on_page = on_page.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(offset) = target {
                on_page.emit(offset);
            }
        })
    };
    html! {
        <nav class="pager" aria-label={format!("Pages of {}", p.noun)}>
            <span class="pager-range">{ page_range(p.offset, p.shown, p.total, p.noun) }</span>
            if previous.is_some() || next.is_some() {
                <span class="pager-buttons">
                    <button class="link" disabled={previous.is_none()} onclick={go(previous)}>{ "← Previous" }</button>
                    <button class="link" disabled={next.is_none()} onclick={go(next)}>{ "Next →" }</button>
                </span>
            }
        </nav>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_neighbours() {
        assert_eq!(page_range(0, 20, 45, "runs"), "Showing 1–20 of 45 runs");
        assert_eq!(page_range(40, 5, 45, "runs"), "Showing 41–45 of 45 runs");
        assert_eq!(page_range(0, 0, 0, "runs"), "0 runs");
        assert_eq!(neighbours(0, 20, 45), (None, Some(20)));
        assert_eq!(neighbours(20, 20, 45), (Some(0), Some(40)));
        assert_eq!(neighbours(40, 20, 45), (Some(20), None));
        assert_eq!(neighbours(0, 20, 20), (None, None));
        // An offset typed into the URL that is not a multiple of the page size.
        assert_eq!(neighbours(5, 20, 45), (Some(0), Some(25)));
    }
}
