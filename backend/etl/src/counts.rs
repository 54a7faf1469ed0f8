//! Row accounting: every row read is loaded, already loaded, counted as a
//! duplicate, or rejected.

use serde::Serialize;

use super::error::EtlError;

/// Counts for one input file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub read: u64,
    /// Rows that added or changed data.
    pub loaded: u64,
    /// Rows whose data was loaded before, unchanged (an append).
    pub already_loaded: u64,
    /// Repeats within the file: identical transactions, further rows of a
    /// customer or of a (subscription, plan).
    pub duplicates: u64,
    pub rejected: u64,
}

impl Counts {
    /// The accounting identity, checked at the end of every run.
    pub fn check(&self, file: &'static str) -> Result<(), EtlError> {
        if self.read == self.loaded + self.already_loaded + self.duplicates + self.rejected {
            Ok(())
        } else {
            Err(EtlError::Accounting {
                file,
                read: self.read,
                loaded: self.loaded,
                already_loaded: self.already_loaded,
                duplicates: self.duplicates,
                rejected: self.rejected,
            })
        }
    }
}
