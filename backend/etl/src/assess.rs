//! The assessment: from what the phases counted to the run's verdict — the
//! data's state after the run, its quality, the guard rails it breaks and
//! its status. A pure function: it reads nothing and writes nothing (the
//! caller logs and records the verdict), so it is tested on small inputs.

use chrono::NaiveDateTime;

use crate::aggregates::Aggregates;
use crate::audit::{self, FileSummary};
use crate::error::EtlError;
use crate::guard::{self, Refusal};
use crate::kpi;
use crate::load::stored::Current;
use crate::read::transactions::{self, Transactions};
use crate::read::users::Users;
use crate::reconcile::restate::RestatedCounts;
use crate::reconcile::{CustomerChanges, ProductChanges};
use crate::rejects::Rejects;
use crate::state::DataState;
use crate::{IngestOptions, Mode, RunStatus, RunSummary};

/// What the phases produced that the verdict depends on.
pub(crate) struct Counted<'a> {
    pub run_id: i64,
    pub options: &'a IngestOptions,
    /// The data as it was before the run.
    pub current: &'a Current,
    /// The files given, with their counts.
    pub files: Vec<FileSummary>,
    pub products: &'a ProductChanges,
    pub transactions: &'a Transactions,
    pub users: &'a Users,
    pub customers: &'a CustomerChanges,
    pub aggregates: &'a Aggregates,
    /// The stored transactions the run restated.
    pub restated: RestatedCounts,
    pub rejects: [&'a Rejects; 3],
    /// The clock, for the data's age.
    pub now: NaiveDateTime,
}

/// The verdict: the summary (with its status), the quality checks and the
/// state to record when the run commits.
pub(crate) struct Verdict {
    pub summary: RunSummary,
    pub quality: api_types::QualityReport,
    pub state: DataState,
}

pub(crate) fn assess(c: Counted<'_>) -> Result<Verdict, EtlError> {
    let append = c.options.mode == Mode::Append;
    audit::check(&c.files)?;
    let mut state = state_after(&c, append)?;
    let kpis = kpi_counts(&c, &state);
    if let Some(rows) = state.rows.as_mut() {
        rows.add(&kpis.row_totals());
        // Counted unreferenced by the runs that loaded them; a count, and
        // never below zero unless the recorded state was edited.
        let referenced = c.customers.tx_restated + c.customers.tx_joined;
        rows.tx_unreferenced = rows.tx_unreferenced.saturating_sub(referenced);
    }
    let mut quality = audit::quality(&state, &c.aggregates.monthly_after);
    let score = kpi::score(&kpis);
    quality.data_score = state.rows.as_deref().map(|rows| kpi::score(&kpis.with_rows(rows)));
    quality.alerts = kpi::alerts(&score, &c.options.quality);
    quality.data_alerts = quality
        .data_score
        .map(|s| kpi::alerts(&s, &c.options.quality))
        .unwrap_or_default();
    quality.thresholds = Some(kpi::thresholds(&c.options.quality));
    quality.rows = Some(kpi::rows(&kpis));
    quality.score = Some(score);
    let before = audit::totals(&c.current.state, &c.current.monthly);
    let after = audit::totals(&state, &c.aggregates.monthly_after);
    // A replace is judged on every figure of the data it would leave; an
    // append only adds (see guard::check).
    let figures_before = guard::Figures::of(&c.current.state, &c.current.monthly);
    let figures_after = guard::Figures::of(&state, &c.aggregates.monthly_after);
    let mut refusals = guard::check(
        &c.files,
        (!append).then_some((&figures_before, &figures_after)),
        &c.options.guard,
    );
    if c.options.strict_quality {
        refusals.extend(quality.alerts.iter().map(|a| Refusal::QualityBelowThreshold {
            dimension: a.dimension,
            value: a.value.to_string(),
            threshold: a.threshold.to_string(),
        }));
    }
    let status = status(&refusals, c.options);
    let summary = RunSummary {
        run_id: c.run_id,
        mode: c.options.mode,
        status,
        reasons: audit::reasons(&c.rejects),
        refusals,
        message: None,
        quality: quality.score,
        quality_alerts: quality.alerts.clone(),
        data_changed: !append || c.files.iter().any(|f| f.counts.loaded > 0),
        before,
        after,
        customers: state.customers.customers as u64,
        customers_only_in_transactions: state.customers.only_in_transactions as u64,
        customers_without_transactions: state.customers.without_transactions as u64,
        multi_currency_customers: state.customers.multi_currency as u64,
        multi_currency_examples: c.customers.multi_currency_examples.clone(),
        customers_with_conflicting_names: state.customers.conflicting_names as u64,
        customers_with_conflicting_emails: state.customers.conflicting_emails as u64,
        products: state.products as u64,
        subscriptions: state.subscriptions as u64,
        restated: c.restated,
        files: c.files,
    };
    Ok(Verdict {
        summary,
        quality,
        state,
    })
}

/// A run that breaks a guard rail is refused unless forced; else it commits
/// (or, dry, only reports).
pub(crate) fn status(refusals: &[Refusal], options: &IngestOptions) -> RunStatus {
    if !refusals.is_empty() && !options.force {
        RunStatus::Refused
    } else if options.dry_run {
        RunStatus::DryRun
    } else {
        RunStatus::Succeeded
    }
}

/// The data's state after the run: the stored state plus the run (an
/// append), or the run alone (a replace).
fn state_after(c: &Counted<'_>, append: bool) -> Result<DataState, EtlError> {
    let mut state = if append {
        c.current.state.clone()
    } else {
        DataState::default()
    };
    // The row totals start again at a replace, and at an append onto nothing.
    if !append || c.current.state == DataState::default() {
        state.rows = Some(Box::default());
    }
    state.customers.add(&c.customers.totals);
    state.user_rows_without_name += c.users.rows_without_name as i64;
    state.user_rows_without_email += c.users.rows_without_email as i64;
    state.products += c.products.new_products;
    state.subscriptions += c.products.new_subscriptions;
    state.cover(c.transactions.first, c.transactions.last);
    for (&(currency, _), acc) in &c.transactions.aggregates.monthly.cells {
        state
            .add_gross(currency.as_str(), acc.gross_cents)
            .map_err(|e| EtlError::Overflow(format!("{}: {e}", transactions::FILE)))?;
    }
    Ok(state)
}

/// The counts the quality dimensions are computed from.
fn kpi_counts(c: &Counted<'_>, state: &DataState) -> kpi::KpiCounts {
    let tx = c.transactions;
    kpi::KpiCounts {
        rows_read: c.files.iter().map(|f| f.counts.read).sum(),
        rows_rejected: c.files.iter().map(|f| f.counts.rejected).sum(),
        tx_read: tx.counts.read,
        tx_duplicates: tx.counts.duplicates,
        tx_id_conflicts: tx.rejects.count_of(&["conflicting_duplicate", "conflicts_with_loaded"]),
        customers: state.customers.customers.max(0) as u64,
        customers_incomplete: state.customers.incomplete.max(0) as u64,
        users_customers: (state.customers.customers - state.customers.only_in_transactions).max(0) as u64,
        users_conflicting: state.customers.conflicting.max(0) as u64,
        tx_loaded: tx.counts.loaded,
        tx_unreferenced: c.customers.tx_unreferenced,
        age_seconds: state.latest_transaction_at.map(|t| (c.now - t).num_seconds()),
        sla_seconds: i64::from(c.options.freshness_sla_days) * 86_400,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal() -> Refusal {
        Refusal::QualityBelowThreshold {
            dimension: api_types::Measure::Dimension(api_types::Dimension::Validity),
            value: "40.00".to_owned(),
            threshold: "50.00".to_owned(),
        }
    }

    #[test]
    fn a_broken_guard_rail_refuses_unless_forced() {
        let mut options = IngestOptions::replace("input");
        assert_eq!(status(&[], &options), RunStatus::Succeeded);
        assert_eq!(status(&[refusal()], &options), RunStatus::Refused);
        options.force = true;
        assert_eq!(status(&[refusal()], &options), RunStatus::Succeeded);
        options.dry_run = true;
        assert_eq!(status(&[refusal()], &options), RunStatus::DryRun);
        options.force = false;
        assert_eq!(status(&[refusal()], &options), RunStatus::Refused);
        assert_eq!(status(&[], &options), RunStatus::DryRun);
    }
}
