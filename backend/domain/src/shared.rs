//! One allocation per distinct text: exports repeat the same ids and names
//! on millions of rows (a customer's id on each of its transactions, 60
//! plan names on 1.45 million product rows at 50M transactions), and a
//! table keeping them stores each once.

use std::collections::HashSet;
use std::sync::Arc;

use rustc_hash::FxBuildHasher;

/// The distinct texts seen so far, each shared by every holder.
#[derive(Debug, Default)]
pub struct SharedTexts(HashSet<Arc<str>, FxBuildHasher>);

impl SharedTexts {
    /// `value`'s shared allocation (made on its first sight).
    pub fn get(&mut self, value: &str) -> Arc<str> {
        if let Some(shared) = self.0.get(value) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(value);
        self.0.insert(shared.clone());
        shared
    }

    /// How many distinct texts were seen.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_share_one_allocation() {
        let mut texts = SharedTexts::default();
        let a = texts.get("price_1P8WDTI9Qa85Sr7CVWDyFhns");
        let b = texts.get(&String::from("price_1P8WDTI9Qa85Sr7CVWDyFhns"));
        let c = texts.get("price_other");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!((&*a, &*c), ("price_1P8WDTI9Qa85Sr7CVWDyFhns", "price_other"));
        assert_eq!(texts.len(), 2);
    }
}
