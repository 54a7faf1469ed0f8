//! Row accounting: every row read is loaded, counted as a duplicate, or rejected.

use serde::Serialize;

use super::error::EtlError;

/// Counts for one input file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub read: u64,
    pub loaded: u64,
    pub duplicates: u64,
    pub rejected: u64,
}

impl Counts {
    /// The accounting identity, checked at the end of every run.
    pub fn check(&self, file: &'static str) -> Result<(), EtlError> {
        if self.read == self.loaded + self.duplicates + self.rejected {
            Ok(())
        } else {
            Err(EtlError::Accounting {
                file,
                read: self.read,
                loaded: self.loaded,
                duplicates: self.duplicates,
                rejected: self.rejected,
            })
        }
    }
}
