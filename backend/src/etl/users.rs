//! users.csv → one record per customer: the last non-empty name and e-mail in file
//! order win; disagreements are counted, never silently merged.

use rustc_hash::FxHashMap as HashMap;
use std::path::Path;

use super::counts::Counts;
use super::error::EtlError;
use super::rows::RejectedRow;
use super::source::{for_each_row, Column, Digested, Source};

pub const FILE: &str = "users.csv";

const COLUMNS: &[Column] = &[
    Column {
        name: "Customer ID",
        aliases: &["customerid", "customer", "userid"],
    },
    Column {
        name: "Customer Name",
        aliases: &["customername", "name"],
    },
    Column {
        name: "Customer Email",
        aliases: &["customeremail", "email", "emailaddress"],
    },
];

#[derive(Debug, Default)]
pub struct Customer {
    pub name: String,
    pub email: String,
    pub conflicting_name: bool,
    pub conflicting_email: bool,
}

pub struct Users {
    pub customers: HashMap<String, Customer>,
    pub counts: Counts,
    pub rejects: Vec<RejectedRow>,
    pub rows_without_name: u64,
    pub rows_without_email: u64,
    pub sha256: String,
    pub bytes: u64,
}

pub fn read(dir: &Path, run_id: i64) -> Result<Users, EtlError> {
    let digest = Digested::default();
    let mut source = Source::open(&dir.join(FILE), COLUMNS, Some(digest.clone()))?;
    let p = source.positions.clone();
    let mut customers: HashMap<String, Customer> = HashMap::default();
    let mut counts = Counts::default();
    let mut rejects = Vec::new();
    let (mut rows_without_name, mut rows_without_email) = (0, 0);
    counts.read = for_each_row(&mut source, |row| {
        let parsed = (|| {
            let id = row.field(p[0], COLUMNS[0].name)?;
            let name = row.field(p[1], COLUMNS[1].name)?;
            let email = row.field(p[2], COLUMNS[2].name)?;
            if id.is_empty() {
                return Err("empty Customer ID".to_owned());
            }
            Ok((id, name, email))
        })();
        match parsed {
            Ok((id, name, email)) => {
                rows_without_name += u64::from(name.is_empty());
                rows_without_email += u64::from(email.is_empty());
                let (customer, new) = match customers.get_mut(id) {
                    Some(c) => (c, false),
                    None => (customers.entry(id.to_owned()).or_default(), true),
                };
                if new {
                    counts.loaded += 1;
                } else {
                    // Repeated rows of a customer are merged into one dim_user row.
                    counts.duplicates += 1;
                }
                if !name.is_empty() {
                    if !customer.name.is_empty() && customer.name != name {
                        customer.conflicting_name = true;
                    }
                    name.clone_into(&mut customer.name);
                }
                if !email.is_empty() {
                    if !customer.email.is_empty() && !customer.email.eq_ignore_ascii_case(email) {
                        customer.conflicting_email = true;
                    }
                    email.clone_into(&mut customer.email);
                }
            }
            Err(reason) => {
                counts.rejected += 1;
                rejects.push(RejectedRow {
                    run_id,
                    file: FILE,
                    line_number: row.line as i64,
                    reason,
                    raw_line: row.raw_line(),
                });
            }
        }
        Ok(())
    })?;
    let (sha256, bytes) = digest.finish();
    Ok(Users {
        customers,
        counts,
        rejects,
        rows_without_name,
        rows_without_email,
        sha256,
        bytes,
    })
}
