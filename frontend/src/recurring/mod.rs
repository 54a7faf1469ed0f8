//! The recurring-revenue page's logic, testable natively: its URL state, the
//! layout of the movements chart (which bar segment lies where, so a click
//! finds its movement), the heat-map scale of the cohort table, and the
//! caveats of spec §14 that apply to a report.

pub mod caveats;
pub mod layout;
pub mod query;

use api_types::SaasMovementKind;

/// A movement's name in a sentence: "new business", "churn".
pub fn kind_label(kind: SaasMovementKind) -> &'static str {
    match kind {
        SaasMovementKind::New => "New business",
        SaasMovementKind::Expansion => "Expansion",
        SaasMovementKind::Contraction => "Contraction",
        SaasMovementKind::Churn => "Churn",
        SaasMovementKind::Reactivation => "Reactivation",
    }
}

/// How strongly a cohort cell is shaded, in percent of the accent colour
/// mixed into the card's background: 0% retention is a faint 6%, 100% (or
/// more: MRR retention above 100% is expansion) the full 90%. Linear in
/// between, so equal steps of retention look like equal steps of colour.
pub fn heat_level(retention_hundredths: Option<i64>) -> u32 {
    match retention_hundredths {
        None => 0,
        Some(h) => {
            let clamped = h.clamp(0, 10_000) as u32;
            6 + (clamped * 84 + 5_000) / 10_000
        }
    }
}

/// A shade dark enough that the cell's text must switch to the card colour.
pub const HOT_LEVEL: u32 = 55;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heat_levels_rise_with_retention_and_stop_at_full() {
        assert_eq!(heat_level(None), 0);
        assert_eq!(heat_level(Some(0)), 6);
        assert_eq!(heat_level(Some(-500)), 6);
        assert_eq!(heat_level(Some(5_000)), 48);
        assert_eq!(heat_level(Some(10_000)), 90);
        assert_eq!(heat_level(Some(13_500)), 90);
        let levels: Vec<u32> = (0..=10).map(|i| heat_level(Some(i * 1_000))).collect();
        assert!(levels.windows(2).all(|w| w[0] < w[1]), "{levels:?}");
        assert!(heat_level(Some(6_000)) >= HOT_LEVEL && heat_level(Some(5_000)) < HOT_LEVEL);
    }
}
