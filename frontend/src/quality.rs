//! The quality page's logic, testable natively: the dimensions and their
//! names, which of them are below their minimum, the overall score's change
//! since the run before, and the alerts as sentences.

pub use api_types::{Dimension, Measure};
use api_types::{Percent, QualityAlert, QualityHistoryRun, QualityReport, QualityScore};

/// What the page reads of a [`Measure`] (the overall score or a dimension;
/// the enum and its names come from the API's types).
pub trait Scored: Copy {
    /// Its value in a score.
    fn of(self, s: &QualityScore) -> Percent;
    /// Its alert among a run's alerts: it was below its minimum.
    fn alert(self, alerts: &[QualityAlert]) -> Option<&QualityAlert>;
    /// Its value in `q`'s score `s` against its minimum: `/quality`'s
    /// `thresholds`, else the one its alert names.
    fn standing(self, s: &QualityScore, q: &QualityReport) -> Standing;
}

impl Scored for Measure {
    fn of(self, s: &QualityScore) -> Percent {
        s.get(self)
    }

    fn alert(self, alerts: &[QualityAlert]) -> Option<&QualityAlert> {
        alerts.iter().find(|a| a.dimension == self)
    }

    fn standing(self, s: &QualityScore, q: &QualityReport) -> Standing {
        let value = self.of(s);
        let alert = self.alert(&q.alerts);
        // Against the minimums when they are known: the alerts are the
        // latest run's, and `s` may be the data's score.
        let (minimum, below) = match q.thresholds.as_ref().map(|t| self.of(t)) {
            Some(m) => (Some(m), value.hundredths() < m.hundredths()),
            None => (alert.map(|a| a.threshold), alert.is_some()),
        };
        Standing { value, minimum, below }
    }
}

/// A dimension of a run against its minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub value: Percent,
    /// The minimum the run checked it against; unknown for data loaded by a
    /// server that did not report its thresholds, unless an alert names it.
    pub minimum: Option<Percent>,
    pub below: bool,
}

impl Standing {
    /// What a dimension's bar says: its value, and the minimum it misses.
    pub fn bar_text(self) -> String {
        match self.minimum {
            Some(m) if self.below => format!("{}% (min {m}%)", self.value),
            _ => format!("{}%", self.value),
        }
    }

    /// The minimum column of the dimensions table: `"95.00%, met"`.
    pub fn minimum_text(self) -> String {
        match (self.minimum, self.below) {
            (Some(m), true) => format!("{m}%, not met"),
            (Some(m), false) => format!("{m}%, met"),
            (None, true) => "not met".to_owned(),
            (None, false) => "–".to_owned(),
        }
    }

    /// The last line of a bar's tooltip.
    pub fn tooltip_line(self) -> String {
        match (self.minimum, self.below) {
            (Some(m), true) => format!("Below its minimum of {m}%"),
            (Some(m), false) => format!("At or above its minimum of {m}%"),
            (None, true) => "Below its minimum".to_owned(),
            (None, false) => "No minimum reported".to_owned(),
        }
    }
}

/// The score the page shows: the data's as loaded (every run since the
/// last replace), else — data loaded by an older version — the latest run's.
pub fn shown_score(q: &QualityReport) -> Option<&QualityScore> {
    q.data_score.as_ref().or(q.score.as_ref())
}

/// The latest run's own score, when it differs from the data's (an append).
pub fn run_score(q: &QualityReport) -> Option<&QualityScore> {
    q.score.as_ref().filter(|s| q.data_score.is_some_and(|d| d != **s))
}

/// A percentage as a number, to place pixels (never to show).
pub fn pct_f64(p: Percent) -> f64 {
    p.hundredths() as f64 / 100.0
}

/// The overall score against the run before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreChange {
    /// No earlier run in the history.
    FirstRun,
    /// `delta` percentage points since run `since`.
    Since { delta: Percent, since: i64 },
}

/// How the overall score `overall` of run `run_id` differs from the latest
/// run before it in `history` that has a score (the data's, else the run's) (a run whose figures cannot
/// be read is skipped). `/quality` describes the last run that changed
/// the data, which need not be the newest in the history (a run with nothing
/// new to load is listed too), so the run before is looked up by id rather
/// than taken as the history's second-to-last.
pub fn score_change(run_id: i64, overall: Percent, history: &[QualityHistoryRun]) -> ScoreChange {
    history
        .iter()
        .filter(|r| r.run_id < run_id)
        .filter_map(|r| Some((r.run_id, r.data_score.as_ref().or(r.score.as_ref())?.overall)))
        .max_by_key(|(id, _)| *id)
        .map_or(ScoreChange::FirstRun, |(since, before)| ScoreChange::Since {
            delta: Percent(overall.hundredths() - before.hundredths()),
            since,
        })
}

impl ScoreChange {
    /// `"+13.17 points since run 1"`, `"first run"`.
    pub fn describe(self) -> String {
        match self {
            ScoreChange::FirstRun => "first run".to_owned(),
            ScoreChange::Since { delta, since } => {
                format!("{} points since run {since}", crate::format::signed_points(delta))
            }
        }
    }

    /// Whether the score fell.
    pub fn fell(self) -> bool {
        matches!(self, ScoreChange::Since { delta, .. } if delta.is_negative())
    }

    /// Whether the score rose.
    pub fn rose(self) -> bool {
        matches!(self, ScoreChange::Since { delta, .. } if delta.hundredths() > 0)
    }
}

/// `"integrity 12.50% is below its minimum of 90.00%"`.
pub fn alert_sentence(a: &QualityAlert) -> String {
    let what = match a.dimension {
        Measure::Overall => "the overall score",
        Measure::Dimension(d) => d.key(),
    };
    format!("{what} {}% is below its minimum of {}%", a.value, a.threshold)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::quality::fixtures::{alert, report, score, thresholds};

    fn run(run_id: i64, overall: i64) -> QualityHistoryRun {
        crate::components::quality::fixtures::run(run_id, overall, 0)
    }

    #[test]
    fn change_since_the_run_before() {
        let history = [run(1, 6_540), run(3, 7_857)];
        assert_eq!(
            score_change(3, Percent(7_857), &history),
            ScoreChange::Since {
                delta: Percent(1_317),
                since: 1
            }
        );
        assert_eq!(
            score_change(3, Percent(7_857), &history).describe(),
            "+13.17 points since run 1"
        );
        assert_eq!(score_change(1, Percent(6_540), &history), ScoreChange::FirstRun);
        assert_eq!(score_change(1, Percent(6_540), &history).describe(), "first run");
        assert_eq!(score_change(1, Percent(6_540), &[]), ScoreChange::FirstRun);
    }

    #[test]
    fn a_later_run_that_loaded_nothing_is_not_the_one_before() {
        // Run 4 changed no data: /quality still describes run 3.
        let history = [run(1, 7_000), run(3, 6_900), run(4, 6_800)];
        let change = score_change(3, Percent(6_900), &history);
        assert_eq!(
            change,
            ScoreChange::Since {
                delta: Percent(-100),
                since: 1
            }
        );
        assert!(change.fell());
        assert_eq!(change.describe(), "-1.00 points since run 1");
        let same = score_change(4, Percent(6_900), &history);
        assert_eq!(same.describe(), "±0.00 points since run 3");
        assert!(!same.fell() && !same.rose());
        assert!(score_change(3, Percent(7_100), &history).rose());
    }

    #[test]
    fn dimensions_read_their_score_and_their_alert() {
        let s = score(7_857, 1_250);
        assert_eq!(Measure::Overall.of(&s), Percent(7_857));
        assert_eq!(Measure::Dimension(Dimension::Integrity).of(&s), Percent(1_250));
        let alerts = [alert("overall", 7_857, 8_000), alert("integrity", 1_250, 9_000)];
        assert!(Measure::Dimension(Dimension::Integrity).alert(&alerts).is_some());
        assert!(Measure::Overall.alert(&alerts).is_some());
        assert!(Measure::Dimension(Dimension::Validity).alert(&alerts).is_none());
        assert_eq!(pct_f64(Percent(8_621)), 86.21);
    }

    #[test]
    fn a_run_without_figures_is_not_the_one_before() {
        let mut gap = run(2, 0);
        gap.score = None;
        let history = [run(1, 7_000), gap];
        assert_eq!(
            score_change(3, Percent(7_100), &history),
            ScoreChange::Since {
                delta: Percent(100),
                since: 1
            }
        );
    }

    #[test]
    fn alerts_in_words() {
        assert_eq!(
            alert_sentence(&alert("integrity", 1_250, 9_000)),
            "integrity 12.50% is below its minimum of 90.00%"
        );
        assert_eq!(
            alert_sentence(&alert("overall", 7_857, 8_000)),
            "the overall score 78.57% is below its minimum of 80.00%"
        );
    }

    #[test]
    fn every_dimension_has_its_minimum_from_the_thresholds() {
        let q = report();
        let s = score(7_857, 1_250);
        let integrity = Measure::Dimension(Dimension::Integrity).standing(&s, &q);
        assert_eq!(
            integrity,
            Standing {
                value: Percent(1_250),
                minimum: Some(Percent(9_000)),
                below: true
            }
        );
        assert_eq!(integrity.bar_text(), "12.50% (min 90.00%)");
        assert_eq!(integrity.minimum_text(), "90.00%, not met");
        assert_eq!(integrity.tooltip_line(), "Below its minimum of 90.00%");
        // Not alerted, yet its minimum is known: from the thresholds.
        let validity = Measure::Dimension(Dimension::Validity).standing(&s, &q);
        assert_eq!(validity.minimum, Some(Percent(8_000)));
        assert!(!validity.below);
        assert_eq!(validity.bar_text(), "86.21%");
        assert_eq!(validity.minimum_text(), "80.00%, met");
        assert_eq!(validity.tooltip_line(), "At or above its minimum of 80.00%");
        // A value under its threshold is below it even without an alert.
        let stricter = QualityReport {
            thresholds: Some({
                let mut t = thresholds();
                t[Dimension::Validity] = Percent(9_500);
                t
            }),
            ..report()
        };
        assert!(Measure::Dimension(Dimension::Validity).standing(&s, &stricter).below);
    }

    #[test]
    fn without_thresholds_only_the_alerts_name_a_minimum() {
        let q = QualityReport {
            thresholds: None,
            ..report()
        };
        let s = score(7_857, 1_250);
        assert_eq!(
            Measure::Dimension(Dimension::Integrity).standing(&s, &q).minimum,
            Some(Percent(9_000))
        );
        let validity = Measure::Dimension(Dimension::Validity).standing(&s, &q);
        assert_eq!((validity.minimum, validity.below), (None, false));
        assert_eq!(validity.minimum_text(), "–");
        assert_eq!(validity.tooltip_line(), "No minimum reported");
    }
}
