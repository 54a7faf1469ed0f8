//! The run's phases — read → reconcile → aggregate → assess → commit —
//! and what each hands the next. [`run_phases`] reads as that list.

use chrono::Utc;
use sea_orm::DatabaseConnection;

use crate::aggregates::Aggregate as _;
use crate::audit::{self, FileSummary};
use crate::counts::Counts;
use crate::error::EtlError;
use crate::feed::FeedWriter;
use crate::load::stored::{self, Current};
use crate::load::{BindValue, LoadMode, Loader};
use crate::progress::Progress;
use crate::read::transactions::{self, Transactions};
use crate::read::{self, products, users};
use crate::rejects::Rejects;
use crate::state::DataState;
use crate::{aggregates, assess, reconcile, to_json, Audience, IngestOptions, Mode, RunStatus, RunSummary};

/// An append skips a file already ingested (same SHA-256) unless forced:
/// the run that ingested the file of this checksum, if any.
fn already_ingested(sha256: &str, current: &Current, options: &IngestOptions) -> Option<i64> {
    if options.mode != Mode::Append || options.force {
        return None;
    }
    current.ingested.get(sha256).copied()
}

/// The run: read → reconcile → aggregate → assess → commit.
pub(crate) async fn run_phases(
    db: &DatabaseConnection,
    options: &IngestOptions,
    run_id: i64,
    progress: &Progress,
) -> Result<RunSummary, EtlError> {
    let mut run = match read_phase(db, options, run_id, progress).await? {
        Opened::NothingNew(seen) => return seen.record(db, run_id, options).await,
        Opened::Reading(run) => *run,
    };
    let reconciled = reconcile_phase(db, &mut run, options, run_id, progress).await?;
    let aggregates = aggregate_phase(&mut run, &reconciled, options.mode, progress).await?;
    let users = run.users_file.get().await?;
    let rejects: [&Rejects; 3] = [&run.products_file.rejects, &reconciled.tx.rejects, &users.rejects];
    let verdict = assess::assess(assess::Counted {
        run_id,
        options,
        current: &run.current,
        files: file_summaries(&run.products_file, run.given, run.seen, &reconciled, users),
        products: &reconciled.product_changes,
        transactions: &reconciled.tx,
        users,
        customers: &reconciled.customers,
        aggregates: &aggregates,
        restated: reconciled.restated,
        rejects,
        now: Utc::now().naive_utc(),
    })?;
    log_verdict(run_id, &verdict);
    commit_phase(db, run.loader, run_id, &verdict, &rejects, options.audience, progress).await?;
    Ok(verdict.summary)
}

/// A run under way after its read phase: the load transaction, the data it
/// builds on, and the files (users.csv may still be being read).
struct Reading {
    loader: Loader,
    current: Current,
    given: read::Given,
    products_file: products::ProductsFile,
    /// products.csv reconciled and written, when it is loaded.
    products: Option<(reconcile::ProductChanges, read::products::Catalog)>,
    scan: transactions::Scan,
    users_file: read::UsersFile,
    /// For each file, the run that ingested the same bytes (an append skips it).
    seen: [Option<i64>; 3],
}

enum Opened {
    Reading(Box<Reading>),
    /// An append of nothing new: every file given was ingested before.
    NothingNew(Box<NothingNew>),
}

struct NothingNew {
    products_file: products::ProductsFile,
    scan: transactions::Scan,
    users_file: read::UsersFile,
    given: read::Given,
    seen: [Option<i64>; 3],
    current: Current,
}

impl NothingNew {
    async fn record(
        mut self,
        db: &DatabaseConnection,
        run_id: i64,
        options: &IngestOptions,
    ) -> Result<RunSummary, EtlError> {
        let users = self.users_file.get().await?;
        let files = (&self.products_file, &self.scan, &*users);
        record_skipped(db, run_id, options, files, self.given, self.seen, &self.current).await
    }
}

/// Read: the files are read while the load transaction starts (waiting
/// for any other ingest to finish) and the current data is looked at.
async fn read_phase(
    db: &DatabaseConnection,
    options: &IngestOptions,
    run_id: i64,
    progress: &Progress,
) -> Result<Opened, EtlError> {
    let append = options.mode == Mode::Append;
    let given = read::Given::find(&options.input, append)?;
    let reading = read::start(&options.input, given, run_id, options.limits, progress);
    let mut loader = Loader::begin(db, if append { LoadMode::Append } else { LoadMode::Replace }).await?;
    let current = stored::current(&mut loader, append).await?;
    let (mut products_file, scanning) = reading.products().await?;
    let seen_products = already_ingested(&products_file.sha256, &current, options);
    // A file absent (an append given some of the three) is skipped like one seen before.
    let skip_products = seen_products.is_some() || !given.products();
    // Loaded products are reconciled and written while pass 1 runs: its
    // end was the load's peak, with products.csv's rows held until then
    // (BENCHMARKS.md, "Load memory, sixth look").
    let products = match skip_products {
        true => None,
        false => Some(reconcile::products_written(&mut loader, &mut products_file, append).await?),
    };
    let (scan, mut users_file) = scanning.scan().await?;
    let seen_transactions = already_ingested(&scan.sha256, &current, options);
    let skip_transactions = seen_transactions.is_some() || !given.transactions();
    let mut seen_users = None;
    if skip_products && skip_transactions {
        let users = users_file.get().await?;
        seen_users = already_ingested(&users.sha256, &current, options);
        if seen_users.is_some() || !given.users() {
            loader.rollback().await?;
            let seen = [seen_products, seen_transactions, seen_users];
            return Ok(Opened::NothingNew(Box::new(NothingNew {
                products_file,
                scan,
                users_file,
                given,
                seen,
                current,
            })));
        }
    }
    if skip_products {
        products_file.skip();
    }
    let seen = [seen_products, seen_transactions, seen_users];
    Ok(Opened::Reading(Box::new(Reading {
        loader,
        current,
        given,
        products_file,
        products,
        scan,
        users_file,
        seen,
    })))
}

/// What the reconcile phase made of the files.
struct Reconciled {
    /// transactions.csv's checksum and size (its scan is consumed by pass 2).
    tx_sha256: String,
    tx_bytes: u64,
    product_changes: reconcile::ProductChanges,
    tx: Transactions,
    customers: reconcile::CustomerChanges,
    restated: reconcile::restate::RestatedCounts,
}

/// Reconcile the products, then read the transactions (pass 2) into the
/// load, attributed with the reconciled catalog; then reconcile the customers.
async fn reconcile_phase(
    db: &DatabaseConnection,
    run: &mut Reading,
    options: &IngestOptions,
    run_id: i64,
    progress: &Progress,
) -> Result<Reconciled, EtlError> {
    let append = options.mode == Mode::Append;
    let (mut product_changes, mut catalog) = match run.products.take() {
        Some(reconciled) => reconciled,
        None => reconcile::products_written(&mut run.loader, &mut run.products_file, append).await?,
    };
    // Read before pass 2 writes (staged, but the reads stay on stored rows).
    let stored_unknown = run
        .current
        .monthly
        .iter()
        .any(|r| r.unknown_subscription_transactions != 0);
    let reattributed = std::mem::take(&mut product_changes.reattributed);
    let restatement = reconcile::restate::prepare(&mut run.loader, reattributed, &mut catalog, stored_unknown).await?;
    // users.csv read (beside pass 1) before pass 2, so that its profiles
    // leave memory (`customers::Held`) before pass 2's tables grow, and pass
    // 2 keeps its customers' ids in users.csv's table from the start
    // (BENCHMARKS.md, "Load memory, fifth look").
    let users = run.users_file.get().await?;
    run.seen[2] = already_ingested(&users.sha256, &run.current, options);
    if run.seen[2].is_some() || !run.given.users() {
        users.skip();
    }
    let profiles = std::mem::take(&mut users.profiles);
    users.profiles = tokio::task::spawn_blocking(|| profiles.written_out())
        .await
        .map_err(crate::error::join_error)?;
    let users_ids = users.ids.clone();
    let (tx_sha256, tx_bytes) = (run.scan.sha256.clone(), run.scan.bytes);
    let skip_transactions = run.seen[1].is_some() || !run.given.transactions();
    let mut feed = FeedWriter::new(run_id);
    let mut tx = match skip_transactions {
        true => Transactions::empty(catalog),
        false => {
            let mut scan = std::mem::replace(&mut run.scan, transactions::Scan::absent(options.limits));
            scan.users_ids = users_ids;
            let loader = &mut run.loader;
            loader.writing_rows(true).await?;
            crate::facts::load_transactions(db, loader, options, scan, catalog, &mut feed, progress).await?
        }
    };
    feed.finish(&mut run.loader, &tx, !append).await?;
    run.loader.writing_rows(false).await?;
    restatement.apply(&mut tx)?;
    let users = run.users_file.get().await?;
    let stored = reconcile::Stored {
        monthly: &run.current.monthly,
        restated: &restatement.customers,
    };
    let customers = reconcile::customers(&mut run.loader, &tx, users, append, stored, progress).await?;
    Ok(Reconciled {
        tx_sha256,
        tx_bytes,
        product_changes,
        tx,
        customers,
        restated: restatement.counts,
    })
}

/// Build every registered aggregate's rows and write them.
async fn aggregate_phase(
    run: &mut Reading,
    reconciled: &Reconciled,
    mode: Mode,
    progress: &Progress,
) -> Result<aggregates::Aggregates, EtlError> {
    let _phase = progress.phase("build aggregates", None);
    let stored_monthly = match mode {
        Mode::Append => run.current.monthly.clone(),
        Mode::Replace => Vec::new(),
    };
    let tx = &reconciled.tx;
    let finished = aggregates::Finished {
        product_names: &tx.catalog.names,
        new_active: &reconciled.customers.new_active,
    };
    tx.aggregates.write(&finished, &mut run.loader).await?;
    let monthly_after = aggregates::monthly::after(stored_monthly, &tx.aggregates.monthly.rows(&finished)?)?;
    Ok(aggregates::Aggregates { monthly_after })
}

/// The audit of the files given: what each held and what became of it.
fn file_summaries(
    products_file: &products::ProductsFile,
    given: read::Given,
    seen: [Option<i64>; 3],
    reconciled: &Reconciled,
    users: &read::users::Users,
) -> Vec<FileSummary> {
    [
        FileSummary {
            file: products::FILE,
            sha256: products_file.sha256.clone(),
            bytes: products_file.bytes,
            counts: products_file.counts,
            same_as_run: seen[0],
        },
        FileSummary {
            file: transactions::FILE,
            sha256: reconciled.tx_sha256.clone(),
            bytes: reconciled.tx_bytes,
            counts: reconciled.tx.counts,
            same_as_run: seen[1],
        },
        FileSummary {
            file: users::FILE,
            sha256: users.sha256.clone(),
            bytes: users.bytes,
            counts: users.counts,
            same_as_run: seen[2],
        },
    ]
    .into_iter()
    .zip(given.0)
    .filter_map(|(file, given)| given.then_some(file))
    .collect()
}

fn log_verdict(run_id: i64, verdict: &assess::Verdict) {
    for a in &verdict.quality.alerts {
        tracing::warn!(run_id, dimension = %a.dimension, value = %a.value, threshold = %a.threshold, "quality below its threshold");
    }
    for r in &verdict.summary.refusals {
        match verdict.summary.status {
            RunStatus::Refused => tracing::error!(run_id, "refused: {r}"),
            _ => tracing::warn!(run_id, "guard rail overridden by --force: {r}"),
        }
    }
}

/// Commit the load, or keep only the run's record.
async fn commit_phase(
    db: &DatabaseConnection,
    mut loader: Loader,
    run_id: i64,
    verdict: &assess::Verdict,
    rejects: &[&Rejects; 3],
    audience: Audience,
    progress: &Progress,
) -> Result<(), EtlError> {
    let phase = progress.phase("commit", None);
    let summary = &verdict.summary;
    if summary.status == RunStatus::Succeeded {
        audit::record(&mut loader, run_id, &summary.files, rejects).await?;
        record_run(&mut loader, summary, audience, Some((&verdict.quality, &verdict.state))).await?;
        loader.commit(run_id).await?;
    } else {
        loader.rollback().await?;
        let mut audit_only = Loader::begin(db, LoadMode::Audit).await?;
        audit::record(&mut audit_only, run_id, &summary.files, rejects).await?;
        record_run(&mut audit_only, summary, audience, None).await?;
        audit_only.commit(run_id).await?;
    }
    drop(phase);
    for f in &summary.files {
        tracing::info!(
            file = f.file,
            read = f.counts.read,
            loaded = f.counts.loaded,
            already_loaded = f.counts.already_loaded,
            duplicates = f.counts.duplicates,
            rejected = f.counts.rejected,
            skipped = f.same_as_run.is_some(),
            "file ingested"
        );
    }
    Ok(())
}

/// Records the end of a run in `etl_run`; `data` (the run's quality figures
/// and the data's state) for a run that commits.
async fn record_run(
    loader: &mut Loader,
    summary: &RunSummary,
    audience: Audience,
    data: Option<(&api_types::QualityReport, &DataState)>,
) -> Result<(), EtlError> {
    let error = match summary.status {
        RunStatus::Refused => Some(
            summary
                .refusals
                .iter()
                .map(|r| r.message(audience))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        _ => summary.message.clone(),
    };
    let text = |v: Option<String>| v.map_or(BindValue::Null, BindValue::Text);
    loader
        .execute(
            "UPDATE etl_run SET status = $1, finished_at = $2, summary_json = $3, quality_json = $4,              state_json = $5, data_changed = $6, error = $7 WHERE id = $8",
            &[
                BindValue::Text(summary.status.as_str().to_owned()),
                BindValue::Ts(Utc::now().naive_utc()),
                BindValue::Text(to_json(summary)),
                text(data.map(|(q, _)| to_json(q))),
                text(data.map(|(_, s)| to_json(s))),
                BindValue::Bool(data.is_some() && summary.data_changed),
                text(error),
                BindValue::Int(summary.run_id),
            ],
        )
        .await
}

/// Every file was ingested before: the run records that and ends.
async fn record_skipped(
    db: &DatabaseConnection,
    run_id: i64,
    options: &IngestOptions,
    (products_file, scan, users): (&products::ProductsFile, &transactions::Scan, &users::Users),
    given: read::Given,
    seen: [Option<i64>; 3],
    current: &Current,
) -> Result<RunSummary, EtlError> {
    let mut runs: Vec<i64> = seen.iter().flatten().copied().collect();
    runs.sort_unstable();
    runs.dedup();
    let runs: Vec<String> = runs.iter().map(ToString::to_string).collect();
    let what = match given.0.iter().filter(|g| **g).count() {
        3 => "the three files were",
        1 => "the file was",
        _ => "the files were",
    };
    let message = format!(
        "nothing to do: {what} ingested before (run {}) and their rows are loaded; \
         --force reads them again (rows already loaded are counted, not loaded twice)",
        runs.join(", ")
    );
    tracing::info!(run_id, "{message}");
    let file = |file, sha256: &str, bytes, same_as_run| FileSummary {
        file,
        sha256: sha256.to_owned(),
        bytes,
        counts: Counts::default(),
        same_as_run,
    };
    let totals = audit::totals(&current.state, &current.monthly);
    let c = &current.state.customers;
    let summary = RunSummary {
        run_id,
        mode: options.mode,
        status: RunStatus::Skipped,
        files: [
            file(products::FILE, &products_file.sha256, products_file.bytes, seen[0]),
            file(transactions::FILE, &scan.sha256, scan.bytes, seen[1]),
            file(users::FILE, &users.sha256, users.bytes, seen[2]),
        ]
        .into_iter()
        .zip(given.0)
        .filter_map(|(file, given)| given.then_some(file))
        .collect(),
        reasons: Vec::new(),
        refusals: Vec::new(),
        message: Some(message),
        quality: None,
        quality_alerts: Vec::new(),
        data_changed: false,
        before: totals.clone(),
        after: totals,
        customers: c.customers as u64,
        customers_only_in_transactions: c.only_in_transactions as u64,
        customers_without_transactions: c.without_transactions as u64,
        multi_currency_customers: c.multi_currency as u64,
        multi_currency_examples: Vec::new(),
        customers_with_conflicting_names: c.conflicting_names as u64,
        customers_with_conflicting_emails: c.conflicting_emails as u64,
        products: current.state.products as u64,
        subscriptions: current.state.subscriptions as u64,
        restated: Default::default(),
    };
    let mut audit_only = Loader::begin(db, LoadMode::Audit).await?;
    audit::record(&mut audit_only, run_id, &summary.files, &[]).await?;
    record_run(&mut audit_only, &summary, options.audience, None).await?;
    audit_only.commit(run_id).await?;
    Ok(summary)
}
