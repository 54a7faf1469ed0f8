//! The months in which a customer paid in one currency, stored with the
//! customer's spending (`agg_customer_spending.active_months`). An append
//! counts a month's active customer only when the month is new for that
//! customer, so the monthly active counts stay exact without reading any
//! transaction again.
//!
//! Stored form: the first month as 4 little-endian bytes (`year * 12 + month - 1`),
//! then a bitmap, bit `i` of byte `j` standing for the month `8j + i` after it;
//! trailing zero bytes are dropped. A customer active in every month of 30 years
//! costs 49 bytes.

use domain::Month;

/// A set of months.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActiveMonths {
    base: Option<Month>,
    bits: Vec<u8>,
}

/// Stored bytes that are not an [`ActiveMonths`].
#[derive(Debug, thiserror::Error)]
#[error("corrupt active_months value ({0} bytes)")]
pub struct Corrupt(pub usize);

impl ActiveMonths {
    #[cfg(test)]
    pub fn contains(&self, month: Month) -> bool {
        let Some(base) = self.base else { return false };
        match usize::try_from(base.months_until(month)) {
            Ok(k) => self.bits.get(k / 8).is_some_and(|b| b & (1 << (k % 8)) != 0),
            Err(_) => false,
        }
    }

    /// Adds `month`; true if it was not there.
    pub fn insert(&mut self, month: Month) -> bool {
        let base = *self.base.get_or_insert(month);
        if month < base {
            // Shift everything up to start at `month`, a whole byte at a time
            // when possible.
            let old: Vec<Month> = self.iter().collect();
            self.base = Some(month);
            self.bits.clear();
            for m in old {
                self.insert(m);
            }
            return self.insert(month);
        }
        let k = base.months_until(month) as usize;
        if self.bits.len() <= k / 8 {
            self.bits.resize(k / 8 + 1, 0);
        }
        let new = self.bits[k / 8] & (1 << (k % 8)) == 0;
        self.bits[k / 8] |= 1 << (k % 8);
        new
    }

    pub fn iter(&self) -> impl Iterator<Item = Month> + '_ {
        let base = self.base;
        self.bits.iter().enumerate().flat_map(move |(j, &byte)| {
            (0..8)
                .filter(move |i| byte & (1 << i) != 0)
                .filter_map(move |i| base.map(|b| b.plus((8 * j + i) as i32)))
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let Some(base) = self.base else { return Vec::new() };
        let used = self.bits.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        let mut out = Vec::with_capacity(4 + used);
        out.extend_from_slice(&base.index().to_le_bytes());
        out.extend_from_slice(&self.bits[..used]);
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, Corrupt> {
        if bytes.is_empty() {
            return Ok(Self::default());
        }
        let (head, bits) = bytes.split_first_chunk::<4>().ok_or(Corrupt(bytes.len()))?;
        Ok(Self {
            base: Some(Month::from_index(i32::from_le_bytes(*head))),
            bits: bits.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Month {
        Month::parse(s).unwrap()
    }

    #[test]
    fn insert_reports_new_months_and_round_trips() {
        let mut a = ActiveMonths::default();
        assert!(a.encode().is_empty());
        assert!(a.insert(m("2024-03")));
        assert!(!a.insert(m("2024-03")));
        assert!(a.insert(m("2024-12")));
        // Earlier than the first month: the set is rebased.
        assert!(a.insert(m("2019-01")));
        assert!(a.insert(m("2054-06")));
        let months: Vec<String> = a.iter().map(|x| x.to_string()).collect();
        assert_eq!(months, ["2019-01", "2024-03", "2024-12", "2054-06"]);
        let b = ActiveMonths::decode(&a.encode()).unwrap();
        assert_eq!(b.iter().collect::<Vec<_>>(), a.iter().collect::<Vec<_>>());
        assert!(b.contains(m("2024-12")) && !b.contains(m("2024-11")) && !b.contains(m("2018-12")));
        assert!(ActiveMonths::decode(&[1, 2]).is_err());
    }

    #[test]
    fn encoding_is_compact() {
        let mut a = ActiveMonths::default();
        for k in 0..360 {
            a.insert(m("2000-01").plus(k));
        }
        assert_eq!(a.encode().len(), 4 + 45);
        let mut one = ActiveMonths::default();
        one.insert(m("2024-05"));
        assert_eq!(
            one.encode(),
            [(2024 * 12 + 4i32).to_le_bytes().as_slice(), &[1]].concat()
        );
    }
}
