//! The same rows as the JSON reports, as CSV.

use api_types::{
    CustomerReport, Measure, MonthFigures, MonthReport, MonthlyTransactionsReport, QualityHistory, RejectionList,
    RevenueGrowthReport, TopProductsReport, TopUsersReport,
};

/// A report that has a tabular CSV form.
pub trait ToCsv {
    fn header(&self) -> Vec<&'static str>;
    fn records(&self) -> Vec<Vec<String>>;

    fn to_csv(&self) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        // Writing to a Vec cannot fail.
        let _ = w.write_record(self.header());
        for r in self.records() {
            let _ = w.write_record(r.iter().map(|cell| neutralise(cell).into_owned()));
        }
        w.into_inner().unwrap_or_default()
    }
}

/// A cell a spreadsheet would run as a formula (OWASP's CSV injection rule:
/// starting with `=`, `+`, `-`, `@`, tab or CR) gets a leading `'`; numbers,
/// negative amounts included, are left as they are.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let number = cell.strip_prefix(['-', '+']).is_some_and(|rest| {
        !rest.is_empty()
            && rest.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && rest.bytes().filter(|&b| b == b'.').count() <= 1
    });
    if risky && !number {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// A run whose stored figures cannot be read keeps its row, with its
/// figures' cells empty.
impl ToCsv for QualityHistory {
    fn header(&self) -> Vec<&'static str> {
        let mut header = vec![
            "run_id",
            "finished_at",
            "mode",
            "rows_processed",
            "rows_succeeded",
            "rows_failed",
        ];
        header.extend(Measure::ALL.map(Measure::key));
        header.push("alerts");
        // The data's score after the run (everything loaded since the last
        // replace) beside the run's own; last, so earlier columns keep their
        // places.
        header.extend(data_keys().iter().map(String::as_str));
        header
    }
    fn records(&self) -> Vec<Vec<String>> {
        self.runs
            .iter()
            .map(|r| {
                let rows = r.rows.as_ref();
                let mut record = vec![
                    r.run_id.to_string(),
                    r.finished_at.to_string(),
                    r.mode.to_string(),
                    opt(&rows.map(|x| x.processed)),
                    opt(&rows.map(|x| x.succeeded)),
                    opt(&rows.map(|x| x.failed)),
                ];
                record.extend(Measure::ALL.map(|m| opt(&r.score.map(|s| s.get(m)))));
                record.push(r.alerts.iter().map(|a| a.dimension.key()).collect::<Vec<_>>().join(" "));
                record.extend(Measure::ALL.map(|m| opt(&r.data_score.map(|s| s.get(m)))));
                record
            })
            .collect()
    }
}

impl ToCsv for RejectionList {
    fn header(&self) -> Vec<&'static str> {
        vec!["run_id", "file", "line", "reason", "message", "raw_line"]
    }
    fn records(&self) -> Vec<Vec<String>> {
        self.rejections
            .iter()
            .map(|r| {
                vec![
                    self.run_id.to_string(),
                    r.file.clone(),
                    r.line.to_string(),
                    r.reason.clone(),
                    r.message.clone(),
                    r.raw_line.clone(),
                ]
            })
            .collect()
    }
}

/// `data_overall`, `data_<dimension>`…: one per measure, made once.
fn data_keys() -> &'static [String] {
    static KEYS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| Measure::ALL.iter().map(|m| format!("data_{}", m.key())).collect())
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

impl ToCsv for MonthlyTransactionsReport {
    fn header(&self) -> Vec<&'static str> {
        vec![
            "currency",
            "month",
            "transactions",
            "active_customers",
            "revenue",
            "avg_transaction_amount",
            "avg_amount_per_customer",
            "complete",
        ]
    }
    fn records(&self) -> Vec<Vec<String>> {
        self.months
            .iter()
            .map(|m| {
                vec![
                    self.currency.to_string(),
                    m.month.to_string(),
                    m.transactions.to_string(),
                    m.active_customers.to_string(),
                    m.revenue.to_string(),
                    m.avg_transaction_amount.to_string(),
                    m.avg_amount_per_customer.to_string(),
                    m.complete.to_string(),
                ]
            })
            .collect()
    }
}

impl ToCsv for RevenueGrowthReport {
    fn header(&self) -> Vec<&'static str> {
        vec![
            "currency",
            "month",
            "revenue",
            "previous_revenue",
            "growth_pct",
            "declined",
            "complete",
        ]
    }
    fn records(&self) -> Vec<Vec<String>> {
        self.months
            .iter()
            .map(|m| {
                vec![
                    self.currency.to_string(),
                    m.month.to_string(),
                    m.revenue.to_string(),
                    opt(&m.previous_revenue),
                    opt(&m.growth_pct),
                    m.declined.to_string(),
                    m.complete.to_string(),
                ]
            })
            .collect()
    }
}

impl ToCsv for TopProductsReport {
    fn header(&self) -> Vec<&'static str> {
        vec![
            "currency",
            "rank",
            "product",
            "total_sales",
            "transactions",
            "share_pct",
        ]
    }
    fn records(&self) -> Vec<Vec<String>> {
        self.products
            .iter()
            .map(|p| {
                vec![
                    self.currency.to_string(),
                    p.rank.to_string(),
                    p.product.clone(),
                    p.total_sales.to_string(),
                    p.transactions.to_string(),
                    opt(&p.share_pct),
                ]
            })
            .collect()
    }
}

impl ToCsv for TopUsersReport {
    fn header(&self) -> Vec<&'static str> {
        vec![
            "currency",
            "rank",
            "customer_id",
            "customer_name",
            "total_spending",
            "transactions",
        ]
    }
    fn records(&self) -> Vec<Vec<String>> {
        self.users
            .iter()
            .map(|u| {
                vec![
                    self.currency.to_string(),
                    u.rank.to_string(),
                    u.customer_id.clone(),
                    u.customer_name.clone(),
                    u.total_spending.to_string(),
                    u.transactions.to_string(),
                ]
            })
            .collect()
    }
}

/// One table for the month: its figures, the month before and the change,
/// then its customers and products, told apart by `row`.
impl ToCsv for MonthReport {
    fn header(&self) -> Vec<&'static str> {
        vec![
            "currency",
            "month",
            "row",
            "rank",
            "id",
            "name",
            "amount",
            "transactions",
            "active_customers",
            "share_pct",
        ]
    }
    fn records(&self) -> Vec<Vec<String>> {
        let month = self.current.month.to_string();
        let line = |row: &str,
                    rank: String,
                    id: String,
                    name: String,
                    amount: String,
                    n: String,
                    active: String,
                    share: String| {
            vec![
                self.currency.to_string(),
                month.clone(),
                row.to_owned(),
                rank,
                id,
                name,
                amount,
                n,
                active,
                share,
            ]
        };
        let figures = |row: &str, f: &MonthFigures| {
            let (n, a) = (f.transactions.to_string(), f.active_customers.to_string());
            line(
                row,
                String::new(),
                f.month.to_string(),
                String::new(),
                f.revenue.to_string(),
                n,
                a,
                String::new(),
            )
        };
        let mut out = vec![figures("month", &self.current)];
        out.extend(self.previous.iter().map(|p| figures("previous_month", p)));
        out.extend(self.change.iter().map(|c| {
            let (n, a) = (c.transactions.to_string(), c.active_customers.to_string());
            line(
                "change",
                String::new(),
                String::new(),
                String::new(),
                c.revenue.to_string(),
                n,
                a,
                opt(&c.revenue_pct),
            )
        }));
        out.extend(self.top_customers.iter().map(|u| {
            let (rank, n) = (u.rank.to_string(), u.transactions.to_string());
            line(
                "customer",
                rank,
                u.customer_id.clone(),
                u.customer_name.clone(),
                u.total_spending.to_string(),
                n,
                String::new(),
                String::new(),
            )
        }));
        out.extend(self.top_products.iter().map(|p| {
            let (rank, n) = (p.rank.to_string(), p.transactions.to_string());
            line(
                "product",
                rank,
                String::new(),
                p.product.clone(),
                p.total_sales.to_string(),
                n,
                String::new(),
                opt(&p.share_pct),
            )
        }));
        out
    }
}

/// The customer's transactions by month and currency.
impl ToCsv for CustomerReport {
    fn header(&self) -> Vec<&'static str> {
        vec![
            "customer_id",
            "customer_name",
            "currency",
            "month",
            "spending",
            "transactions",
        ]
    }
    fn records(&self) -> Vec<Vec<String>> {
        self.months
            .iter()
            .map(|m| {
                vec![
                    self.customer_id.clone(),
                    self.customer_name.clone(),
                    m.currency.to_string(),
                    m.month.to_string(),
                    m.spending.to_string(),
                    m.transactions.to_string(),
                ]
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::neutralise;

    #[test]
    fn formulas_are_neutralised_numbers_are_not() {
        for (cell, out) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1+2", "'+1+2"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("-12.50", "-12.50"),
            ("+3", "+3"),
            ("Ann", "Ann"),
            ("-", "'-"),
            ("", ""),
        ] {
            assert_eq!(neutralise(cell), out, "{cell:?}");
        }
    }
}
