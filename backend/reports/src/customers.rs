//! One customer (`/customers/{id}`) and the search for customers
//! (`/customers?q=`), read from the star tables. Names only: e-mail
//! addresses are personal data and never leave the database.

use std::collections::{BTreeMap, BTreeSet};

use api_types::Currency;
use api_types::{
    CustomerFlag, CustomerMatch, CustomerMonth, CustomerPlan, CustomerReport, CustomerSearch, CustomerSubscription,
    CustomerTotal, Money,
};
use chrono::NaiveDateTime;
use domain::{exponent_of, Month};
use futures_util::TryStreamExt;
use sea_orm::sea_query::{Expr, Func, LikeExpr};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use store::entities::{dim_product, dim_user, fct_transaction};

use super::params::{given, parse_int};
use super::ReportError;

/// Largest page of `/customers`.
pub const MAX_SEARCH_LIMIT: u32 = 100;
/// Longest accepted `q`.
pub const MAX_QUERY_CHARS: usize = 100;

/// Query parameters of `GET /customers`.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerSearchParams {
    /// The start of a customer id, or of a word of a name (ASCII letters in
    /// any case; others as written), up to 100 characters. Absent: every customer.
    #[param(example = "ann")]
    pub q: Option<String>,
    /// Customers per page, 1–100 (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// Customers to skip, by id (default 0).
    #[param(value_type = Option<u32>, minimum = 0, maximum = 2147483647)]
    pub offset: Option<String>,
}

/// Query parameters of `GET /customers/{id}`.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerParams {
    /// `json` (default) or `csv` (the months).
    #[param(value_type = Option<super::params::Format>, inline)]
    pub format: Option<String>,
}

/// `GET /customers?q=`: one page of the customers whose id or a word of
/// whose name starts with `q`, by id.
pub async fn search_customers(
    db: &DatabaseConnection,
    params: &CustomerSearchParams,
) -> Result<CustomerSearch, ReportError> {
    use dim_user::Column as C;
    let limit = parse_int(params.limit.as_deref(), "limit", 20, 1, MAX_SEARCH_LIMIT)?;
    let offset = parse_int(params.offset.as_deref(), "offset", 0, 0, i32::MAX as u32)?;
    let q = given(params.q.as_deref(), "q")?;
    if q.is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS || q.contains('\0')) {
        return Err(ReportError::BadParameter {
            parameter: "q",
            message: format!("parameter `q` must be at most {MAX_QUERY_CHARS} characters, without NUL"),
        });
    }
    let mut find = dim_user::Entity::find().select_only().columns([
        C::CustomerId,
        C::CustomerName,
        C::Currency,
        C::TotalSpendingCents,
        C::Transactions,
    ]);
    if let Some(q) = q {
        find = find.filter(matching(q));
    }
    let rows: Vec<(String, String, Option<String>, i64, i64)> = find
        .order_by_asc(C::CustomerId)
        .offset(u64::from(offset))
        .limit(u64::from(limit) + 1)
        .into_tuple()
        .all(db)
        .await?;
    let more = rows.len() > limit as usize;
    let customers = rows
        .into_iter()
        .take(limit as usize)
        .map(|(customer_id, customer_name, currency, cents, transactions)| {
            let currency = currency.as_deref().map(Currency::from_code).transpose()?;
            Ok(CustomerMatch {
                total_spending: currency.map(|c| Money::new(cents, exponent_of(c.as_str()))),
                customer_id,
                customer_name,
                currency,
                transactions,
            })
        })
        .collect::<Result<_, ReportError>>()?;
    Ok(CustomerSearch {
        q: q.map(str::to_owned),
        offset,
        limit,
        customers,
        more,
    })
}

/// An id or a word of a name starting with `q`: as written, or in lower
/// case (both engines lower ASCII letters; PostgreSQL the others too).
fn matching(q: &str) -> Condition {
    use dim_user::Column as C;
    let escaped: String = q
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let lower = escaped.to_lowercase();
    let like = |pattern: String| LikeExpr::new(pattern).escape('\\');
    let lowered = |column: C| Expr::expr(Func::lower(Expr::col(column)));
    Condition::any()
        .add(Expr::col(C::CustomerId).like(like(format!("{escaped}%"))))
        .add(lowered(C::CustomerId).like(like(format!("{lower}%"))))
        .add(Expr::col(C::CustomerName).like(like(format!("{escaped}%"))))
        .add(Expr::col(C::CustomerName).like(like(format!("% {escaped}%"))))
        .add(lowered(C::CustomerName).like(like(format!("{lower}%"))))
        .add(lowered(C::CustomerName).like(like(format!("% {lower}%"))))
}

/// Sums of one group of a customer's transactions.
#[derive(Default, Clone, Copy)]
struct Sums {
    cents: i64,
    transactions: i64,
    first: Option<Month>,
    latest: Option<Month>,
}

impl Sums {
    fn add(&mut self, cents: i64, month: Month, what: &dyn Fn() -> String) -> Result<(), ReportError> {
        self.cents = self
            .cents
            .checked_add(cents)
            .ok_or_else(|| ReportError::Overflow(what()))?;
        self.transactions += 1;
        self.first = Some(self.first.map_or(month, |f| f.min(month)));
        self.latest = Some(self.latest.map_or(month, |l| l.max(month)));
        Ok(())
    }

    /// The first and latest month (a group holds at least one transaction).
    fn months(&self) -> (Month, Month) {
        let first = self.first.unwrap_or_else(|| Month::from_index(0));
        (first, self.latest.unwrap_or(first))
    }
}

/// A customer's transactions, summed per (month, currency), per
/// (subscription, currency) and per currency.
#[derive(Default)]
struct Spending {
    months: BTreeMap<(Month, Currency), Sums>,
    subscriptions: BTreeMap<(Option<String>, Currency), Sums>,
    currencies: BTreeMap<Currency, Sums>,
}

/// Reads the customer's transactions as a stream (memory bounded by the
/// number of groups, not of transactions).
async fn spending(db: &DatabaseConnection, customer_id: &str) -> Result<Spending, ReportError> {
    use fct_transaction::Column as C;
    let mut rows = fct_transaction::Entity::find()
        .select_only()
        .columns([C::DateUtc, C::SubscriptionId, C::TotalCents, C::Currency])
        .filter(C::CustomerId.eq(customer_id))
        .into_tuple::<(NaiveDateTime, Option<String>, i64, String)>()
        .stream(db)
        .await?;
    let mut out = Spending::default();
    while let Some((date, subscription, cents, currency)) = rows.try_next().await? {
        let month = Month::of(&date);
        let currency = Currency::from_code(&currency)?;
        let what = || format!("the spending of customer {customer_id} in {currency}");
        out.months
            .entry((month, currency))
            .or_default()
            .add(cents, month, &what)?;
        out.subscriptions
            .entry((subscription, currency))
            .or_default()
            .add(cents, month, &what)?;
        out.currencies.entry(currency).or_default().add(cents, month, &what)?;
    }
    Ok(out)
}

/// `GET /customers/{id}`: 404 for a customer the data do not hold.
pub async fn customer(db: &DatabaseConnection, customer_id: &str) -> Result<CustomerReport, ReportError> {
    use dim_user::Column as C;
    let unknown = || ReportError::NotFound(format!("no customer {customer_id:?} in the data"));
    // PostgreSQL text holds no NUL: such an id is no customer's (not a database error).
    if customer_id.contains('\0') {
        return Err(unknown());
    }
    let user: Option<(String, bool, bool, bool, bool, bool)> = dim_user::Entity::find()
        .select_only()
        .columns([
            C::CustomerName,
            C::InUsersFile,
            C::ConflictingName,
            C::ConflictingEmail,
            C::NullSubscription,
            C::UnknownSubscription,
        ])
        .filter(C::CustomerId.eq(customer_id))
        .into_tuple()
        .one(db)
        .await?;
    let Some((name, in_users_file, conflicting_name, conflicting_email, null_sub, unknown_sub)) = user else {
        return Err(ReportError::NotFound(format!(
            "no customer {customer_id:?} in the data"
        )));
    };
    let spending = spending(db, customer_id).await?;
    let flags = [
        (!in_users_file, CustomerFlag::OnlyInTransactions),
        (conflicting_name, CustomerFlag::ConflictingName),
        (conflicting_email, CustomerFlag::ConflictingEmail),
        (null_sub, CustomerFlag::NullSubscription),
        (unknown_sub, CustomerFlag::UnknownSubscription),
        (spending.currencies.len() > 1, CustomerFlag::SeveralCurrencies),
    ]
    .into_iter()
    .filter_map(|(on, flag)| on.then_some(flag))
    .collect();
    let (subscriptions, products) = subscriptions(db, &spending).await?;
    Ok(CustomerReport {
        customer_id: customer_id.to_owned(),
        customer_name: name,
        in_users_file,
        flags,
        totals: totals(&spending),
        months: spending
            .months
            .iter()
            .map(|((month, currency), s)| CustomerMonth {
                month: *month,
                currency: *currency,
                spending: Money::new(s.cents, exponent_of(currency.as_str())),
                transactions: s.transactions,
            })
            .collect(),
        subscriptions,
        products,
    })
}

/// Per currency, most transactions first (then by code).
fn totals(spending: &Spending) -> Vec<CustomerTotal> {
    let mut totals: Vec<CustomerTotal> = spending
        .currencies
        .iter()
        .map(|(currency, s)| {
            let (first_month, latest_month) = s.months();
            CustomerTotal {
                currency: *currency,
                total_spending: Money::new(s.cents, exponent_of(currency.as_str())),
                transactions: s.transactions,
                first_month,
                latest_month,
            }
        })
        .collect();
    totals.sort_by(|a, b| b.transactions.cmp(&a.transactions).then(a.currency.cmp(&b.currency)));
    totals
}

/// The customer's subscriptions with their plans (most spending first),
/// and the distinct products of the known ones.
async fn subscriptions(
    db: &DatabaseConnection,
    spending: &Spending,
) -> Result<(Vec<CustomerSubscription>, Vec<String>), ReportError> {
    let ids: BTreeSet<&String> = spending.subscriptions.keys().filter_map(|(s, _)| s.as_ref()).collect();
    let plans = dim_product::Entity::find()
        .filter(dim_product::Column::SubscriptionId.is_in(ids.into_iter().cloned()))
        .order_by_asc(dim_product::Column::SubscriptionId)
        .order_by_asc(dim_product::Column::Plan)
        .all(db)
        .await?;
    let products: BTreeSet<String> = plans.iter().map(|p| p.product.clone()).collect();
    let mut out: Vec<CustomerSubscription> = spending
        .subscriptions
        .iter()
        .map(|((id, currency), s)| {
            let plans: Vec<CustomerPlan> = plans
                .iter()
                .filter(|p| Some(&p.subscription_id) == id.as_ref())
                .map(|p| CustomerPlan {
                    plan: p.plan.clone(),
                    product: p.product.clone(),
                    interval: p.interval.clone(),
                    status: p.status.clone(),
                })
                .collect();
            let (first_month, latest_month) = s.months();
            CustomerSubscription {
                subscription_id: id.clone(),
                known: !plans.is_empty(),
                currency: *currency,
                spending: Money::new(s.cents, exponent_of(currency.as_str())),
                transactions: s.transactions,
                first_month,
                latest_month,
                plans,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.spending
            .minor()
            .cmp(&a.spending.minor())
            .then_with(|| a.subscription_id.cmp(&b.subscription_id))
            .then_with(|| a.currency.cmp(&b.currency))
    });
    Ok((out, products.into_iter().collect()))
}
