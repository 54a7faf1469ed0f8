//! Times the computation on one thread and on the machine's cores,
//! alternately in one process (ratios within one run, medians), on an
//! export directory's invoices shared and sorted as the server keeps them:
//!
//! ```text
//! cargo run --release -p saas --example saas_threads -- DIR [ROUNDS]
//! ```

#[path = "support/export.rs"]
mod export;

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use saas::{Invoice, Parameters, ReadingOrder};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("saas_threads: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One allocation per distinct customer, subscription and currency, as the
/// server's read leaves them.
fn share(invoices: &mut [Invoice]) {
    let mut seen: HashMap<Arc<str>, Arc<str>> = HashMap::new();
    let mut shared = |v: &mut Arc<str>| *v = seen.entry(v.clone()).or_insert_with(|| v.clone()).clone();
    for i in invoices {
        shared(&mut i.customer_id);
        shared(&mut i.subscription_id);
        shared(&mut i.currency);
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("usage: saas_threads DIR [ROUNDS]")?;
    let rounds: usize = args
        .next()
        .map_or(Ok(5), |r| r.parse().map_err(|_| "ROUNDS: a number"))?;
    let (mut invoices, catalogue) = export::read_dir(std::path::Path::new(&dir))?;
    share(&mut invoices);
    let started = Instant::now();
    let invoices = ReadingOrder::new(invoices);
    println!(
        "{} invoices put in the reading order in {:?}",
        invoices.len(),
        started.elapsed()
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let params = Parameters::default();
    let (mut one, mut many) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        for (threads, times) in [(1, &mut one), (cores, &mut many)] {
            let started = Instant::now();
            invoices
                .compute_on(&catalogue, &params, threads)
                .map_err(|e| e.to_string())?;
            times.push(started.elapsed());
        }
    }
    let (one, many) = (median(one), median(many));
    println!(
        "compute, median of {rounds}: 1 thread {one:?}, {cores} threads {many:?} ({:.2}x)",
        one.as_secs_f64() / many.as_secs_f64()
    );
    Ok(())
}
