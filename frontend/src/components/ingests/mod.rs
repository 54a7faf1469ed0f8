//! The ingest pages' pieces: the run list, a run's summary, files, changes and
//! rejection reasons as views of data already fetched (plain functions: a
//! component per table would only add code to the wasm), the rejected-rows
//! section, a component that fetches its own pages, and the upload form.

pub mod changes;
pub mod files;
pub mod force;
pub mod reasons;
pub mod rejected_rows;
pub mod runs_table;
pub mod status_badge;
pub mod summary;
pub mod upload;

#[cfg(test)]
mod tests {
    use api_types::{Currency, DataTotals, IngestFile, IngestList, IngestMode, IngestRun, Money};

    use super::changes::changes;
    use super::runs_table::runs_table;
    use crate::components::ssr::render;

    fn run(id: i64, status: &str, rejected: i64, error: Option<&str>) -> IngestRun {
        IngestRun {
            id,
            mode: IngestMode::Append,
            status: status.parse().unwrap(),
            data_changed: status == "succeeded",
            forced: false,
            started_at: "2024-11-02T09:15:03.120Z".parse().unwrap(),
            finished_at: Some("2024-11-02T09:15:05.570Z".parse().unwrap()),
            duration_ms: Some(2450),
            files: vec![IngestFile {
                file: "transactions.csv".into(),
                read: 21,
                loaded: 21 - rejected,
                rejected,
                ..IngestFile::default()
            }],
            error: error.map(str::to_owned),
            requested_by: None,
            progress: None,
        }
    }

    #[tokio::test]
    async fn runs_link_to_their_page_with_a_coloured_status() {
        let list = IngestList {
            runs: vec![
                run(3, "succeeded", 3, None),
                run(2, "refused", 3, Some("transactions.csv: 3 of 21 rows rejected")),
                run(1, "dry_run", 0, None),
            ],
            total: 3,
            limit: 20,
            offset: 0,
        };
        let html = render(move || runs_table(&list)).await;
        assert!(html.contains(r#"href="/runs/3""#), "{html}");
        assert!(html.contains(r#"href="/runs/1""#));
        assert!(html.contains(r#"class="badge good">succeeded<"#), "{html}");
        assert!(html.contains(r#"class="badge bad">refused<"#));
        assert!(html.contains(r#"class="badge neutral">dry run<"#));
        assert!(
            html.contains(r#"21 read</span> · <span>18 loaded</span> · <span class="warn">3 rejected</span>"#),
            "{html}"
        );
        assert!(html.contains("transactions.csv: 3 of 21 rows rejected"));
        assert!(html.contains("2.4 s"));
    }

    #[tokio::test]
    async fn changes_keep_currencies_apart() {
        let before = DataTotals {
            transactions: 5000,
            revenue: [(Currency::from_code("usd").unwrap(), Money::new(100_000, 2))].into(),
            ..DataTotals::default()
        };
        let after = DataTotals {
            transactions: 5018,
            revenue: [
                (Currency::from_code("eur").unwrap(), Money::new(2_000, 2)),
                (Currency::from_code("usd").unwrap(), Money::new(151_300, 2)),
            ]
            .into(),
            ..DataTotals::default()
        };
        let html = render(move || changes(&before, &after)).await;
        assert!(
            html.contains("Revenue (EUR)") && html.contains("Revenue (USD)"),
            "{html}"
        );
        assert!(html.contains("+€20.00") && html.contains("+$513.00"), "{html}");
        assert!(html.contains("+18"));
        // A sum over currencies (€20 + $1,513, in any symbol) is never shown.
        assert!(!html.contains("1,533.00"));
    }
}
