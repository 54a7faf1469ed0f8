//! The run's customers as pass 2 numbers them: dense numbers in the order
//! transactions.csv first shows them (the subscription feed's and the
//! customer facts' numbering), each number's id kept once for the whole
//! run.
//!
//! Nearly every customer is in both files, and two tables of the same ids
//! were 288 MB each at 50M transactions (7.8 million customers), at the
//! load's peak. So pass 2 starts with users.csv's table (read by then, see
//! the reconcile phase) and keeps only a number for each customer found
//! there (4 bytes), and its own table of the ids users.csv lacks. Which
//! id each number has is worked out only when the ids are read out (after
//! the load's peak, at the end of pass 2): kept all along, it was another
//! 4 bytes a customer there.

use std::sync::Arc;

use crate::interner::{prefetch, Interner, InternerFull};

/// Ids looked up in users.csv's table at a time ([`CustomerIds::by_user`];
/// a few under test).
const CHUNK: usize = if cfg!(test) { 3 } else { 4096 };
/// A number with no customer yet.
const NONE: u32 = u32::MAX;
/// Marks a [`CustomerIds::sources`] entry kept in [`CustomerIds::rest`].
const REST: u32 = 1 << 31;

/// users.csv's customers and transactions.csv's, side by side
/// ([`CustomerIds::by_user`]).
pub struct ByUser {
    /// By users.csv's index: that customer's number, or [`NONE`].
    numbers: Vec<u32>,
    /// By number: whether users.csv has that customer.
    in_users: Vec<bool>,
}

impl ByUser {
    /// users.csv's customer `u`'s number, if it has transactions.
    pub fn number(&self, u: u32) -> Option<u32> {
        self.numbers.get(u as usize).copied().filter(|&n| n != NONE)
    }

    /// Whether number `n`'s customer is in users.csv.
    pub fn in_users(&self, n: u32) -> bool {
        self.in_users.get(n as usize).copied().unwrap_or(false)
    }
}

/// The customers of transactions.csv, numbered.
#[derive(Default)]
pub struct CustomerIds {
    /// users.csv's ids (empty: none, or too many to number beside `rest`).
    users: Arc<Interner>,
    /// By users.csv's index: that customer's number, or [`NONE`].
    of_user: Vec<u32>,
    /// The ids not in `users`.
    rest: Interner,
    /// By `rest`'s index: that customer's number.
    rest_number: Vec<u32>,
    /// Customers numbered.
    count: u32,
}

impl CustomerIds {
    /// Numbers customers, keeping those of `users` (users.csv's ids) as
    /// their index there.
    pub fn new(users: Arc<Interner>) -> Self {
        // Indexes of `users` must leave the REST bit free.
        if users.len() >= REST as usize {
            return Self::default();
        }
        Self {
            of_user: vec![NONE; users.len()],
            users,
            ..Self::default()
        }
    }

    /// Customers numbered.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Bytes held on the heap besides users.csv's table, for the memory log.
    pub fn heap_bytes(&self) -> usize {
        self.rest.heap_bytes() + 4 * (self.of_user.capacity() + self.rest_number.capacity())
    }

    /// The number of `id`, if numbered.
    pub fn find(&self, id: &str) -> Option<u32> {
        match self.users.find(id) {
            Some(u) => Some(self.of_user[u as usize]).filter(|&n| n != NONE),
            None => self.rest.find(id).map(|r| self.rest_number[r as usize]),
        }
    }

    /// Numbers `ids` in order, appending each one's number to `out`: a new
    /// customer is the next number, as one lookup per row would give.
    pub fn number_all(&mut self, ids: &[&str], out: &mut Vec<u32>) -> Result<(), InternerFull> {
        out.reserve(ids.len());
        let mut rs = Vec::with_capacity(ids.len());
        if self.users.is_empty() {
            self.rest.intern_all(ids, &mut rs)?;
            for r in rs {
                out.push(self.rest_number_of(r)?);
            }
            return Ok(());
        }
        let mut found = Vec::with_capacity(ids.len());
        self.users.find_all(ids, &mut found);
        for u in found.iter().flatten() {
            prefetch(self.of_user.as_ptr().wrapping_add(*u as usize));
        }
        // The ids absent from users.csv are looked up together; numbered
        // below, in row order with the others.
        let missing: Vec<&str> = ids
            .iter()
            .zip(&found)
            .filter(|(_, f)| f.is_none())
            .map(|(id, _)| *id)
            .collect();
        self.rest.intern_all(&missing, &mut rs)?;
        let mut rs = rs.into_iter();
        for f in found {
            let n = match f {
                Some(u) => match self.of_user[u as usize] {
                    NONE => {
                        let n = self.next()?;
                        self.of_user[u as usize] = n;
                        n
                    }
                    n => n,
                },
                // As many as the ids absent: one each.
                None => match rs.next() {
                    Some(r) => self.rest_number_of(r)?,
                    None => return Err(InternerFull),
                },
            };
            out.push(n);
        }
        Ok(())
    }

    /// The number of `rest`'s id `r`; the next number if `r` is new (`rest`
    /// gives new ids the next index, and they are numbered in that order).
    fn rest_number_of(&mut self, r: u32) -> Result<u32, InternerFull> {
        if let Some(&n) = self.rest_number.get(r as usize) {
            return Ok(n);
        }
        if r >= REST {
            return Err(InternerFull);
        }
        let n = self.next()?;
        self.rest_number.push(n);
        Ok(n)
    }

    /// The next number.
    fn next(&mut self) -> Result<u32, InternerFull> {
        let n = self.count;
        if n == NONE {
            return Err(InternerFull);
        }
        self.count += 1;
        Ok(n)
    }

    /// By number: where the id is, a `users` index or [`REST`] | a `rest`
    /// index (every number is given once, by `of_user` or `rest_number`).
    fn sources(&self) -> Vec<u32> {
        let mut sources = vec![NONE; self.len()];
        let of_user = self.of_user.iter().enumerate().filter(|(_, &n)| n != NONE);
        for (u, &n) in of_user {
            sources[n as usize] = u as u32;
        }
        for (r, &n) in self.rest_number.iter().enumerate() {
            sources[n as usize] = REST | r as u32;
        }
        sources
    }

    /// How `users` (users.csv's ids) and these customers meet: each of
    /// `users`' customers' number here, and whether each number is in `users`.
    pub fn by_user(&self, users: &Arc<Interner>) -> ByUser {
        let mut by = ByUser {
            numbers: vec![NONE; users.len()],
            in_users: vec![false; self.len()],
        };
        let mut mark = |n: usize, u: u32| {
            by.numbers[u as usize] = n as u32;
            by.in_users[n] = true;
        };
        if Arc::ptr_eq(&self.users, users) {
            // Every id of `users` is kept as its index there.
            let of_user = self.of_user.iter().enumerate().filter(|(_, &n)| n != NONE);
            for (u, &n) in of_user {
                mark(n as usize, u as u32);
            }
            return by;
        }
        let (mut ids, mut found) = (Vec::with_capacity(CHUNK), Vec::with_capacity(CHUNK));
        let mut texts = self.iter();
        let mut n = 0;
        loop {
            ids.clear();
            ids.extend(texts.by_ref().take(CHUNK));
            if ids.is_empty() {
                return by;
            }
            found.clear();
            users.find_all(&ids, &mut found);
            for f in &found {
                if let Some(u) = *f {
                    mark(n, u);
                }
                n += 1;
            }
        }
    }

    /// Every id, by number.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        // Texts read out of their tables' order: where each starts.
        let user_starts = self.users.starts();
        let rest_starts = self.rest.starts();
        self.sources().into_iter().map(move |s| match s & REST {
            0 => self.users.text_at(user_starts[s as usize]),
            _ => self.rest.text_at(rest_starts[(s & !REST) as usize]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Given users.csv's ids or not, the numbers are those of one table
        /// of every id, each number gives back its id, and the two files
        /// meet alike whether the table is pass 2's own or a copy of it.
        #[test]
        fn numbers_do_not_depend_on_where_ids_are_kept(
            users in prop::collection::vec("[a-e]{1,2}", 0..40),
            batches in prop::collection::vec(prop::collection::vec("[a-f]{1,2}", 0..20), 0..8),
            given in any::<bool>(),
        ) {
            let mut expected = Interner::default();
            let mut user_ids = Interner::default();
            let mut copy = Interner::default();
            for u in &users {
                user_ids.intern(u).unwrap();
                copy.intern(u).unwrap();
            }
            let users_table = Arc::new(user_ids);
            let mut ids = CustomerIds::new(if given { users_table.clone() } else { Arc::default() });
            for batch in &batches {
                let keys: Vec<&str> = batch.iter().map(String::as_str).collect();
                let (mut want, mut got) = (Vec::new(), Vec::new());
                expected.intern_all(&keys, &mut want).unwrap();
                ids.number_all(&keys, &mut got).unwrap();
                prop_assert_eq!(got, want);
            }
            prop_assert_eq!(ids.len(), expected.len());
            prop_assert_eq!(ids.iter().collect::<Vec<_>>(), expected.iter().collect::<Vec<_>>());
            for id in ["a", "b", "ab", "f", "ff", "zz"] {
                prop_assert_eq!(ids.find(id), expected.find(id));
            }
            for table in [&users_table, &Arc::new(copy)] {
                let by_user = ids.by_user(table);
                for (u, id) in table.iter().enumerate() {
                    prop_assert_eq!(by_user.number(u as u32), expected.find(id), "{}", id);
                }
                for (n, id) in expected.iter().enumerate() {
                    prop_assert_eq!(by_user.in_users(n as u32), table.find(id).is_some(), "{}", id);
                }
            }
        }
    }
}
