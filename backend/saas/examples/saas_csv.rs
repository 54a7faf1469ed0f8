//! Prints the SaaS figures of an export directory as JSON, for comparing with
//! `scripts/saas_reference.py`:
//!
//! ```text
//! cargo run -p saas --example saas_csv -- DIR [--grace-days 7] [--annual-threshold 3000.00] [--customer-mrr]
//! ```
//!
//! Output: `{"window", "parameters", "currencies": {code: {"mrr", "cohorts",
//! "movements": {month: {kind: [customer ids]}}, "customer_mrr"?}}}`.

#[path = "support/export.rs"]
mod export;

use std::process::ExitCode;

use api_types::{Money, SaasMovementKind};
use saas::{compute, Parameters};
use serde_json::{json, Map, Value};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("saas_csv: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let mut params = Parameters::default();
    let mut customer_mrr = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--grace-days" => {
                params.grace_days = args.next().and_then(|v| v.parse().ok()).ok_or("--grace-days N")?;
            }
            "--annual-threshold" => {
                params.annual_threshold = args
                    .next()
                    .and_then(|v| v.parse::<Money>().ok())
                    .ok_or("--annual-threshold DECIMAL")?;
            }
            "--customer-mrr" => customer_mrr = true,
            _ if dir.is_none() => dir = Some(std::path::PathBuf::from(arg)),
            _ => return Err(format!("unexpected argument {arg}")),
        }
    }
    let dir = dir.ok_or("usage: saas_csv DIR [--grace-days N] [--annual-threshold X] [--customer-mrr]")?;
    let (invoices, catalogue) = export::read_dir(&dir)?;
    let started = std::time::Instant::now();
    let figures = compute(&invoices, &catalogue, &params).map_err(|e| e.to_string())?;
    eprintln!("{} invoices computed in {:?}", invoices.len(), started.elapsed());
    let mut currencies = Map::new();
    for c in figures.currencies() {
        let mrr = c.mrr();
        let mut movements = Map::new();
        for month in mrr.months.iter().skip(1) {
            let mut kinds = Map::new();
            for kind in SaasMovementKind::ALL {
                let list = c
                    .movements(month.month, kind)
                    .ok_or("a reported month without movements")?;
                let mut ids: Vec<&str> = list.rows().iter().map(|r| r.customer_id.as_str()).collect();
                ids.sort_unstable();
                kinds.insert(kind.to_string(), json!(ids));
            }
            movements.insert(month.month.to_string(), Value::Object(kinds));
        }
        let mut out = json!({"mrr": mrr, "cohorts": c.cohorts(), "movements": movements});
        if customer_mrr {
            let mut rows = Map::new();
            for id in c.movement_customer_ids() {
                if let Some(row) = c.customer_mrr(id) {
                    let row: Vec<String> = row.iter().map(|&v| Money::new(v, c.exponent()).to_string()).collect();
                    rows.insert(id.to_owned(), json!(row));
                }
            }
            out["customer_mrr"] = Value::Object(rows);
        }
        currencies.insert(c.currency().to_owned(), out);
    }
    let out = json!({"window": figures.window(), "parameters": figures.parameters(), "currencies": currencies});
    println!("{}", serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?);
    Ok(())
}
