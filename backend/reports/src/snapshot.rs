//! The snapshot every report reads: the aggregates, the best customers and
//! the stored quality checks, loaded once per ingest.

/// Largest accepted `limit`; the cache keeps this many customers per currency.
pub const MAX_TOP_USERS: u32 = agg_top_customer::KEPT;

use std::collections::HashMap;

use api_types::{Currency, FileCounts, LastIngest, Money, QualityReport, UserRow};
use domain::{exponent_of, Month};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use store::entities::{agg_monthly, agg_product_month, agg_top_customer, etl_run, etl_run_file};

use super::answers::Answers;
use super::params::{given, parse_int, parse_month, parse_range, Window, WindowParams, MAX_MONTHS};
use super::subscriptions::SaasReports;
use super::ReportError;

/// Everything the reports read, loaded once per ingest: the monthly aggregates
/// (one row per currency and month), the product aggregates, the best
/// customers per currency and the stored quality checks — all small, whatever
/// the number of transactions.
pub struct ReportContext {
    /// The ingest run whose data this is (`None`: nothing loaded yet).
    pub run: Option<i64>,
    pub rows: Vec<agg_monthly::Model>,
    /// Revenue per currency, month and product (a few rows per product and month).
    pub product_rows: Vec<agg_product_month::Model>,
    /// Currencies by transactions, most first.
    pub currencies: Vec<(Currency, i64, i64)>,
    pub first_month: Option<Month>,
    pub latest_month: Option<Month>,
    /// The best customers of each currency, best first.
    pub top_users: HashMap<Currency, Vec<UserRow>>,
    /// The checks of the latest successful run; `None` before the first.
    pub quality: Option<QualityReport>,
    /// The subscription metrics of this run.
    pub saas: SaasReports,
    /// The answers made from this run, as they went out (bounded).
    pub answers: Answers,
    /// The run whose stored checks cannot be read: `/quality` answers an
    /// error naming it rather than pretending nothing was loaded.
    pub quality_unreadable: Option<i64>,
}

impl ReportContext {
    /// Everything the reports read, as of one moment: the id of the run whose
    /// data it is, and the data. The reads share one snapshot, so a load that
    /// commits meanwhile shows in all of them or in none — on PostgreSQL the
    /// tables are also locked (shared) first: a replace's new partitions are
    /// written frozen, visible even to older snapshots, so the swap must not
    /// happen between two reads (the snapshot is taken after the locks).
    pub async fn load(db: &DatabaseConnection) -> Result<(Option<i64>, Self), ReportError> {
        let txn = super::cache::begin(db).await?;
        let run = super::cache::latest_run(&txn).await?;
        let mut ctx = Self::read(&txn).await?;
        ctx.run = run;
        ctx.saas = SaasReports::new(run, ctx.currencies.iter().map(|(c, _, _)| *c).collect());
        txn.commit().await?;
        Ok((run, ctx))
    }

    async fn read<C: ConnectionTrait>(db: &C) -> Result<Self, ReportError> {
        let rows = agg_monthly::Entity::find()
            .order_by_asc(agg_monthly::Column::Currency)
            .order_by_asc(agg_monthly::Column::Month)
            .all(db)
            .await?;
        let mut currencies: Vec<(Currency, i64, i64)> = Vec::new();
        let (mut first, mut latest): (Option<Month>, Option<Month>) = (None, None);
        for row in &rows {
            match currencies.iter_mut().find(|c| c.0 == row.currency.as_str()) {
                Some(c) => {
                    c.1 += row.transactions;
                    c.2 += row.revenue_cents;
                }
                None => currencies.push((row.currency.parse()?, row.transactions, row.revenue_cents)),
            }
            if let Some(m) = Month::parse(&row.month) {
                first = Some(first.map_or(m, |f| f.min(m)));
                latest = Some(latest.map_or(m, |l| l.max(m)));
            }
        }
        currencies.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let product_rows = agg_product_month::Entity::find().all(db).await?;
        let (quality, quality_unreadable) = match load_quality(db).await? {
            Stored::Checks(report) => (Some(*report), None),
            Stored::Absent => (None, None),
            Stored::Unreadable { run_id } => (None, Some(run_id)),
        };
        let mut top_users = HashMap::with_capacity(currencies.len());
        for (currency, _, _) in &currencies {
            top_users.insert(*currency, load_top_users(db, currency.as_str()).await?);
        }
        Ok(Self {
            run: None,
            rows,
            product_rows,
            currencies,
            first_month: first,
            latest_month: latest,
            top_users,
            quality,
            quality_unreadable,
            saas: SaasReports::empty(),
            answers: Answers::default(),
        })
    }

    /// The requested currency (any case), or the one with the most transactions.
    pub fn currency(&self, raw: Option<&str>) -> Result<Currency, ReportError> {
        let available = || self.currencies.iter().map(|c| c.0.to_string()).collect::<Vec<_>>();
        match given(raw, "currency")? {
            None => self.currencies.first().map(|c| c.0).ok_or(ReportError::NoData),
            Some(given) => {
                let lower = given.to_ascii_lowercase();
                if let Some(c) = self.currencies.iter().find(|c| c.0 == lower.as_str()) {
                    Ok(c.0)
                } else if self.currencies.is_empty() {
                    Err(ReportError::NoData)
                } else {
                    Err(ReportError::UnknownCurrency {
                        given: given.to_owned(),
                        available: available(),
                    })
                }
            }
        }
    }

    /// Resolves `months` and `as_of`, or `from` and `to`, into (first
    /// month, last month); the two styles mixed are a 400.
    pub fn window(&self, params: &WindowParams) -> Result<Window, ReportError> {
        let range = [("from", &params.from), ("to", &params.to)];
        let count = [("months", &params.months), ("as_of", &params.as_of)];
        let named = |ps: &[(&'static str, &Option<String>)]| ps.iter().find(|p| p.1.is_some()).map(|p| p.0);
        match (named(&range), named(&count)) {
            (Some(r), Some(c)) => {
                return Err(ReportError::BadParameter {
                    parameter: r,
                    message: format!(
                        "parameters `{r}` and `{c}` cannot be mixed: choose the window either with \
                         `from`/`to` (a range of months) or with `months`/`as_of` (months ending at a month)"
                    ),
                })
            }
            (Some(_), None) => {
                return parse_range(
                    params.from.as_deref(),
                    params.to.as_deref(),
                    self.first_month,
                    self.latest_month,
                )
            }
            _ => {}
        }
        let months = parse_int(params.months.as_deref(), "months", 6, 1, MAX_MONTHS)?;
        let as_of = match parse_month(params.as_of.as_deref(), "as_of")? {
            Some(m) => m,
            None => self.latest_month.ok_or(ReportError::NoData)?,
        };
        let from = as_of.plus(1 - months as i32);
        // A month is written YYYY-MM: a window cannot reach before year 0000.
        if from.year() < 0 {
            return Err(ReportError::BadParameter {
                parameter: "as_of",
                message: format!(
                    "parameter `as_of`: a window of {months} months ending at {as_of} would start before 0000-01"
                ),
            });
        }
        Ok(Window {
            from,
            to: as_of,
            months,
        })
    }

    /// A month is complete when it lies strictly before the latest transaction's month.
    pub fn complete(&self, month: Month) -> bool {
        self.latest_month.is_some_and(|l| month < l)
    }

    /// The latest transaction in the data, as the run that loaded them recorded it.
    pub fn latest_transaction_at(&self) -> Option<api_types::Timestamp> {
        self.quality.as_ref()?.freshness.latest_transaction_at
    }

    /// The month the data stop in: the latest transaction's, else the
    /// latest month of the aggregates.
    pub fn data_stop_month(&self) -> Option<Month> {
        self.latest_transaction_at()
            .map(|t| Month::of(&t.utc().naive_utc()))
            .or(self.latest_month)
    }

    /// The aggregate rows of one currency, by month.
    pub fn of_currency(&self, currency: Currency) -> impl Iterator<Item = (Month, &agg_monthly::Model)> + '_ {
        self.rows
            .iter()
            .filter(move |r| currency == r.currency.as_str())
            .filter_map(|r| Month::parse(&r.month).map(|m| (m, r)))
    }
}

/// The [`MAX_TOP_USERS`] best customers of one currency, best first; read once
/// per ingest by the report cache from the ranking the run wrote (a table
/// local to the coordinator on Citus, like everything the cache reads).
async fn load_top_users<C: ConnectionTrait>(db: &C, currency: &str) -> Result<Vec<UserRow>, ReportError> {
    let top = agg_top_customer::Entity::find()
        .filter(agg_top_customer::Column::Currency.eq(currency))
        .order_by_asc(agg_top_customer::Column::Rank)
        .all(db)
        .await?;
    let exponent = exponent_of(currency);
    Ok(top
        .into_iter()
        .map(|row| UserRow {
            // 1 to 100 as ranked (row_number); another value only in an edited table.
            rank: u32::try_from(row.rank).unwrap_or(u32::MAX),
            customer_name: row.customer_name,
            customer_id: row.customer_id,
            total_spending: Money::new(row.total_spending_cents, exponent),
            transactions: row.transactions,
        })
        .collect())
}

/// What the latest successful run that changed the data stored as its checks.
enum Stored {
    Checks(Box<QualityReport>),
    /// No such run yet, or a run of a version that stored no checks.
    Absent,
    /// Checks that cannot be decoded (logged as an error with the cause).
    Unreadable {
        run_id: i64,
    },
}

/// The stored checks of the latest successful run that changed the data;
/// read once per ingest by the report cache.
async fn load_quality<C: ConnectionTrait>(db: &C) -> Result<Stored, ReportError> {
    let Some(run) = etl_run::Entity::find()
        .filter(etl_run::Column::Status.eq("succeeded"))
        .filter(etl_run::Column::DataChanged.eq(true))
        .order_by_desc(etl_run::Column::Id)
        .one(db)
        .await?
    else {
        return Ok(Stored::Absent);
    };
    let Some(json) = run.quality_json.as_deref() else {
        tracing::warn!(
            run_id = run.id,
            "etl_run.quality_json is missing: /quality has no checks to serve"
        );
        return Ok(Stored::Absent);
    };
    // Unreadable checks (written by another version, or edited by hand) cost
    // `/quality` alone, not every report; never silently.
    let mut report = match serde_json::from_str::<QualityReport>(json) {
        Ok(report) => report,
        Err(error) => {
            tracing::error!(
                run_id = run.id,
                %error,
                "etl_run.quality_json cannot be decoded: /quality answers an error until the next ingest"
            );
            return Ok(Stored::Unreadable { run_id: run.id });
        }
    };
    // A run of an earlier version stored two decimals for every currency.
    report.rescale_money(&domain::exponent_of);
    let files = etl_run_file::Entity::find()
        .filter(etl_run_file::Column::RunId.eq(run.id))
        .order_by_asc(etl_run_file::Column::File)
        .all(db)
        .await?
        .into_iter()
        .map(|f| FileCounts {
            file: f.file,
            sha256: f.sha256,
            read: f.rows_read,
            loaded: f.rows_loaded,
            already_loaded: f.rows_already_loaded,
            duplicates: f.rows_duplicate,
            rejected: f.rows_rejected,
        })
        .collect();
    report.last_ingest = Some(LastIngest {
        run_id: run.id,
        // A succeeded run always records when it finished.
        finished_at: api_types::Timestamp::from_naive_utc(run.finished_at.unwrap_or(run.started_at)),
        files,
    });
    Ok(Stored::Checks(Box::new(report)))
}
