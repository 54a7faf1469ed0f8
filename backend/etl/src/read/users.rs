//! users.csv → one record per customer: the last non-empty name and e-mail in file
//! order win; disagreements are counted, never silently merged. (How a record
//! merges with a customer already stored is `reconcile`'s business; until then
//! `counts.loaded` holds the distinct customers of the file.)

use std::path::Path;
use std::sync::Arc;

use crate::counts::Counts;
use crate::customers::{Change, Held, Profiles};
use crate::error::EtlError;
use crate::interner::Interner;
use crate::read::source::{for_each_row, Column, Digested, Limits, RawRow, Source};
use crate::rejects::Rejects;
use crate::rows::{Reject, RejectedRow};

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

/// The cleaned rows of users.csv (default: an append given no users.csv).
#[derive(Default)]
pub struct Users {
    /// Customer ids; index `i` is `profiles`' customer `i`. Shared with
    /// pass 2 once read ([`crate::read::customer_ids`]).
    pub ids: Arc<Interner>,
    /// Their names and e-mails, once read (out of memory: [`Held`]).
    pub profiles: Held,
    pub counts: Counts,
    pub rejects: Rejects,
    pub rows_without_name: u64,
    pub rows_without_email: u64,
    pub sha256: String,
    pub bytes: u64,
}

impl Users {
    /// Drops the file's content (it was ingested before): nothing of it is loaded.
    pub fn skip(&mut self) {
        self.ids = Arc::default();
        self.profiles = Held::default();
        self.counts = Counts::default();
        self.rejects = Rejects::default();
        self.rows_without_name = 0;
        self.rows_without_email = 0;
    }
}

/// users.csv while it is read: the file's figures, and its customers'
/// profiles in memory.
#[derive(Default)]
struct Reading {
    users: Users,
    profiles: Profiles,
}

impl Reading {
    /// The valid rows staged, in file order: their customers numbered
    /// together (the lookups overlap: [`crate::interner`]), then each row
    /// added to its customer's record.
    fn add_staged(&mut self, staged: &mut Staged, path: &Path) -> Result<(), EtlError> {
        let rows: Vec<StagedRow<'_>> = staged.rows().collect();
        let ids: Vec<&str> = rows.iter().map(|r| r.id).collect();
        let mut numbers = Vec::with_capacity(ids.len());
        // Shared only once the file is read.
        let Some(table) = Arc::get_mut(&mut self.users.ids) else {
            return Err(EtlError::Internal("users.csv's ids shared while being read".to_owned()));
        };
        let numbered = table.intern_all(&ids, &mut numbers);
        self.prefetch(&numbers);
        let error = |line, message| EtlError::Read {
            path: path.to_owned(),
            line,
            message,
        };
        for (row, &i) in rows.iter().zip(&numbers) {
            self.add(i, row.name, row.email).map_err(|m| error(row.line, m))?;
        }
        // Numbered up to the row that did not fit: its line is the error's.
        if let Err(full) = numbered {
            return Err(error(rows[numbers.len()].line, full.to_string()));
        }
        staged.clear();
        Ok(())
    }

    /// Asks for where the records of the customers numbered are, then for
    /// the records, ahead of adding their rows (each a miss beyond the caches).
    fn prefetch(&self, numbers: &[u32]) {
        for &i in numbers {
            self.profiles.prefetch_start(i);
        }
        for &i in numbers {
            self.profiles.prefetch(i);
        }
    }

    /// One valid row, its customer numbered `i`: a new customer, or a
    /// repeat merged into its record. Errs (with the reason) only when the
    /// file exceeds what the run can hold.
    fn add(&mut self, i: u32, name: &str, email: &str) -> Result<(), String> {
        let users = &mut self.users;
        users.rows_without_name += u64::from(name.is_empty());
        users.rows_without_email += u64::from(email.is_empty());
        // Numbers are given in first-seen order: a new customer's is the next.
        let new = i as usize == self.profiles.len();
        if new {
            users.counts.loaded += 1;
        } else {
            // Repeated rows of a customer are merged into one dim_user row.
            users.counts.duplicates += 1;
        }
        let old = self.profiles.raw(i);
        let name_changes = !name.is_empty() && old.name != name.as_bytes();
        let email_changes = !email.is_empty() && old.email != email.as_bytes();
        if !(new || name_changes || email_changes) {
            return Ok(());
        }
        let change = Change {
            name: name_changes.then_some(name),
            email: email_changes.then_some(email),
            conflicting_name: old.conflicting_name || (name_changes && !old.name.is_empty()),
            // E-mail addresses differing only in case are one address.
            conflicting_email: old.conflicting_email
                || (email_changes && !old.email.is_empty() && !old.email.eq_ignore_ascii_case(email.as_bytes())),
        };
        self.profiles.set(i, change).map_err(|full| full.to_string())
    }

    fn reject(&mut self, run_id: i64, row: &RawRow<'_>, reject: Reject) {
        self.users.counts.rejected += 1;
        self.users.rejects.push(RejectedRow {
            run_id,
            file: FILE,
            line_number: row.line as i64,
            reason_code: reject.code,
            reason: reject.message,
            raw_line: row.raw_line(),
        });
    }
}

/// A row's id, name and e-mail, the id checked.
fn parse<'r>(row: &'r RawRow<'_>, p: &[usize]) -> Result<(&'r str, &'r str, &'r str), Reject> {
    let id = row.field(p[0], COLUMNS[0].name)?;
    let name = row.field(p[1], COLUMNS[1].name)?;
    let email = row.field(p[2], COLUMNS[2].name)?;
    if id.is_empty() {
        return Err(Reject::new("empty_customer_id", "empty Customer ID"));
    }
    domain::check_id(id, COLUMNS[0].name).map_err(|e| Reject::new("id_too_long", e))?;
    Ok((id, name, email))
}

pub fn read(dir: &Path, run_id: i64, limits: Limits) -> Result<Users, EtlError> {
    let digest = Digested::default();
    let mut source = Source::open(&dir.join(FILE), COLUMNS, Some(digest.clone()), limits)?;
    let p = source.positions.clone();
    let path = source.path.clone();
    let mut reading = Reading::default();
    let mut staged = Staged::default();
    let read = for_each_row(&mut source, |row| {
        match parse(&row, &p) {
            Ok((id, name, email)) => {
                staged.push(row.line, id, name, email);
                if staged.len() >= STAGED_ROWS {
                    reading.add_staged(&mut staged, &path)?;
                }
            }
            Err(reject) => reading.reject(run_id, &row, reject),
        }
        Ok(())
    })?;
    reading.add_staged(&mut staged, &path)?;
    let Reading {
        mut users,
        mut profiles,
    } = reading;
    // Every customer is in: the room kept for growth is given back. The
    // profiles are written out once the run knows it loads them.
    profiles.shrink_to_fit();
    let profiles_mb = profiles.heap_bytes() >> 20;
    users.profiles = Held::Memory(profiles);
    users.counts.read = read;
    (users.sha256, users.bytes) = digest.finish();
    tracing::debug!(
        customers = users.profiles.len(),
        profiles_mb,
        rss_mb = crate::resident_mb(),
        "users read"
    );
    Ok(users)
}

/// Valid rows waiting to be added (their texts in one buffer).
#[derive(Default)]
struct Staged {
    text: String,
    /// Each row's line, and where its id, name and e-mail end in `text`.
    rows: Vec<(u64, [usize; 3])>,
}

/// Rows staged before they are added: enough for the lookups to overlap,
/// few enough to stay in the CPU's caches.
const STAGED_ROWS: usize = 1024;

struct StagedRow<'a> {
    line: u64,
    id: &'a str,
    name: &'a str,
    email: &'a str,
}

impl Staged {
    fn push(&mut self, line: u64, id: &str, name: &str, email: &str) {
        let mut end = |text: &str| {
            self.text.push_str(text);
            self.text.len()
        };
        let ends = [end(id), end(name), end(email)];
        self.rows.push((line, ends));
    }

    fn len(&self) -> usize {
        self.rows.len()
    }

    fn clear(&mut self) {
        self.text.clear();
        self.rows.clear();
    }

    fn rows(&self) -> impl Iterator<Item = StagedRow<'_>> {
        let mut start = 0;
        self.rows.iter().map(move |&(line, [id, name, email])| {
            let row = StagedRow {
                line,
                id: &self.text[start..id],
                name: &self.text[id..name],
                email: &self.text[name..email],
            };
            start = email;
            row
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::io::Write as _;

    /// A customer as the rules say: the last non-empty name and e-mail in
    /// file order, a disagreement once set stays set (e-mail addresses
    /// differing only in case agree).
    #[derive(Debug, Default, Clone, PartialEq)]
    struct Expected {
        name: String,
        email: String,
        conflicting_name: bool,
        conflicting_email: bool,
    }

    impl Expected {
        fn add(&mut self, name: &str, email: &str) {
            if !name.is_empty() && name != self.name {
                self.conflicting_name |= !self.name.is_empty();
                self.name = name.to_owned();
            }
            if !email.is_empty() && email != self.email {
                self.conflicting_email |= !self.email.is_empty() && !self.email.eq_ignore_ascii_case(email);
                self.email = email.to_owned();
            }
        }
    }

    /// Random files of repeated customers whose names and e-mails grow,
    /// shrink, empty and change case: every customer's stored profile is
    /// the rules' (the records rewritten in place or moved to the end).
    #[test]
    fn profiles_follow_the_rules_whatever_the_order_of_rows() {
        let names = ["", "Ann", "Anne Long-Name", "ann", "Zoë", "Bob"];
        let long = "x".repeat(200);
        let emails = ["", "a@x.test", "A@X.test", "b@x.test", long.as_str()];
        let mut rng = fastrand::Rng::with_seed(11);
        for customers in [1, 5, 40, 3000] {
            let dir = tempfile::tempdir().unwrap();
            let mut file = std::fs::File::create(dir.path().join(FILE)).unwrap();
            write!(file, "Customer ID,Customer Name,Customer Email").unwrap();
            let mut expected: HashMap<String, Expected> = HashMap::new();
            for _ in 0..(customers * 8).max(200) {
                let id = format!("c{}", rng.u32(0..customers));
                let (name, email) = (rng.choice(names).unwrap(), rng.choice(emails).unwrap());
                write!(file, "\n{id},{name},{email}").unwrap();
                expected.entry(id).or_default().add(name, email);
            }
            drop(file);
            let users = read(dir.path(), 1, Limits::default()).unwrap();
            let mut users = users;
            users.profiles = std::mem::take(&mut users.profiles).written_out();
            assert!(matches!(users.profiles, Held::File { .. }));
            assert_eq!(users.profiles.len(), expected.len());
            let mut stored = Vec::new();
            let mut in_order = users.profiles.in_order().unwrap();
            while let Some(got) = in_order.next_profile().unwrap() {
                stored.push(Expected {
                    name: got.name.to_owned(),
                    email: got.email.to_owned(),
                    conflicting_name: got.conflicting_name,
                    conflicting_email: got.conflicting_email,
                });
            }
            assert_eq!(stored.len(), expected.len());
            for (id, want) in &expected {
                let i = users.ids.find(id).unwrap();
                assert_eq!(&stored[i as usize], want, "{id} of {customers}");
            }
        }
    }
}
