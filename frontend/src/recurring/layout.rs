//! Where the movements chart puts each movement: per month, new business,
//! expansion and reactivation stacked upwards from zero, contraction and
//! churn downwards, and the net change as a marker. The chart draws this
//! layout and a click is resolved against it, so what is drawn is what is hit.

use api_types::{Money, SaasMonth, SaasMovementKind, SaasMovements};

/// Upward movements, from the zero line up.
pub const UP: [SaasMovementKind; 3] = [
    SaasMovementKind::New,
    SaasMovementKind::Expansion,
    SaasMovementKind::Reactivation,
];
/// Downward movements, from the zero line down.
pub const DOWN: [SaasMovementKind; 2] = [SaasMovementKind::Contraction, SaasMovementKind::Churn];

/// A movement's amount in a month (every amount is ≥ 0; the direction is the kind's).
pub fn amount(m: &SaasMovements, kind: SaasMovementKind) -> Money {
    match kind {
        SaasMovementKind::New => m.new,
        SaasMovementKind::Expansion => m.expansion,
        SaasMovementKind::Contraction => m.contraction,
        SaasMovementKind::Churn => m.churn,
        SaasMovementKind::Reactivation => m.reactivation,
    }
}

/// One movement's part of a month's bar, in currency units (`from` < `to`).
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub kind: SaasMovementKind,
    pub from: f64,
    pub to: f64,
}

/// One month of the chart; the opening month has no segments and no marker.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Column {
    pub segments: Vec<Segment>,
    pub net_new: Option<f64>,
}

/// Every month's bar and the value axis that holds them all.
#[derive(Debug, Clone, PartialEq)]
pub struct MovementLayout {
    pub columns: Vec<Column>,
    pub lo: f64,
    pub hi: f64,
}

fn column(m: &SaasMonth) -> Column {
    let Some(mv) = &m.movements else {
        return Column::default();
    };
    let mut segments = Vec::new();
    let mut stack = |kinds: &[SaasMovementKind], sign: f64| {
        let mut edge = 0.0;
        for &kind in kinds {
            let v = amount(mv, kind).to_f64();
            if v > 0.0 {
                let next = edge + sign * v;
                segments.push(Segment {
                    kind,
                    from: edge.min(next),
                    to: edge.max(next),
                });
                edge = next;
            }
        }
    };
    stack(&UP, 1.0);
    stack(&DOWN, -1.0);
    Column {
        segments,
        net_new: Some(mv.net_new.to_f64()),
    }
}

/// The layout of `months`: the axis spans every segment and marker, with 8%
/// of room beyond the extremes, and always includes zero.
pub fn layout(months: &[SaasMonth]) -> MovementLayout {
    let columns: Vec<Column> = months.iter().map(column).collect();
    let values = columns
        .iter()
        .flat_map(|c| c.segments.iter().flat_map(|s| [s.from, s.to]).chain(c.net_new));
    let (mut lo, mut hi) = values.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if (hi - lo).abs() < f64::EPSILON {
        hi = 1.0;
    }
    let pad = (hi - lo) * 0.08;
    if lo < 0.0 {
        lo -= pad;
    }
    if hi > 0.0 {
        hi += pad;
    }
    MovementLayout { columns, lo, hi }
}

impl MovementLayout {
    /// The movement drawn at `value` in month `index`: the segment holding
    /// it, else the nearest within 2% of the axis (a small movement is a
    /// thin bar, hard to hit exactly).
    pub fn kind_at(&self, index: usize, value: f64) -> Option<SaasMovementKind> {
        let column = self.columns.get(index)?;
        let tolerance = (self.hi - self.lo) * 0.02;
        let distance = |s: &Segment| {
            if value < s.from {
                s.from - value
            } else if value > s.to {
                value - s.to
            } else {
                0.0
            }
        };
        column
            .segments
            .iter()
            .map(|s| (distance(s), s.kind))
            .filter(|(d, _)| *d <= tolerance)
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, kind)| kind)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use api_types::SaasMovements;

    use super::*;

    pub fn movements(new: i64, expansion: i64, contraction: i64, churn: i64, reactivation: i64) -> SaasMovements {
        let m = |c| Money::new(c, 2);
        SaasMovements {
            new: m(new),
            expansion: m(expansion),
            contraction: m(contraction),
            churn: m(churn),
            reactivation: m(reactivation),
            net_new: m(new + expansion + reactivation - contraction - churn),
            new_left_censored: m(0),
        }
    }

    fn layout_of(moves: Vec<Option<SaasMovements>>) -> MovementLayout {
        let months: Vec<SaasMonth> = moves
            .into_iter()
            .enumerate()
            .map(|(i, mv)| SaasMonth {
                movements: mv,
                ..crate::recurring::caveats::tests::month(&format!("2024-{:02}", i + 1), 100_000)
            })
            .collect();
        layout(&months)
    }

    #[test]
    fn up_from_zero_then_down_from_zero() {
        let l = layout_of(vec![None, Some(movements(10_000, 2_000, 500, 3_000, 1_000))]);
        assert_eq!(l.columns[0], Column::default());
        let c = &l.columns[1];
        let spans: Vec<(SaasMovementKind, f64, f64)> = c.segments.iter().map(|s| (s.kind, s.from, s.to)).collect();
        assert_eq!(
            spans,
            [
                (SaasMovementKind::New, 0.0, 100.0),
                (SaasMovementKind::Expansion, 100.0, 120.0),
                (SaasMovementKind::Reactivation, 120.0, 130.0),
                (SaasMovementKind::Contraction, -5.0, 0.0),
                (SaasMovementKind::Churn, -35.0, -5.0),
            ]
        );
        assert_eq!(c.net_new, Some(95.0));
        assert!((l.hi - (130.0 + 165.0 * 0.08)).abs() < 1e-9, "{}", l.hi);
        assert!((l.lo - (-35.0 - 165.0 * 0.08)).abs() < 1e-9, "{}", l.lo);
    }

    #[test]
    fn zero_movements_have_no_segment_and_an_empty_chart_an_axis() {
        let l = layout_of(vec![Some(movements(0, 0, 0, 4_000, 0))]);
        assert_eq!(l.columns[0].segments.len(), 1);
        assert_eq!(l.hi, 0.0);
        let empty = layout_of(vec![None]);
        assert!(empty.lo == 0.0 && empty.hi > 0.0, "{} {}", empty.lo, empty.hi);
    }

    #[test]
    fn a_click_finds_the_segment_or_the_nearest_thin_one() {
        let l = layout_of(vec![None, Some(movements(10_000, 200, 500, 3_000, 0))]);
        assert_eq!(l.kind_at(1, 50.0), Some(SaasMovementKind::New));
        assert_eq!(l.kind_at(1, 101.0), Some(SaasMovementKind::Expansion));
        assert_eq!(l.kind_at(1, -2.0), Some(SaasMovementKind::Contraction));
        assert_eq!(l.kind_at(1, -20.0), Some(SaasMovementKind::Churn));
        // Just above the top of the bar: the top segment, within 2% of the axis.
        assert_eq!(l.kind_at(1, 103.0), Some(SaasMovementKind::Expansion));
        assert_eq!(l.kind_at(1, 125.0), None);
        // The opening month, and no month at all.
        assert_eq!(l.kind_at(0, 1.0), None);
        assert_eq!(l.kind_at(5, 1.0), None);
    }
}
