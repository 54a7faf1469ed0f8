//! ISO 4217 currency codes, stored lowercase as in the export (`usd`, `eur`).

use std::fmt;

/// Active ISO 4217 codes; anything else in the input is a rejected row.
const ISO_4217: &[&str] = &[
    "aed", "afn", "all", "amd", "ang", "aoa", "ars", "aud", "awg", "azn", "bam", "bbd", "bdt", "bgn", "bhd", "bif",
    "bmd", "bnd", "bob", "brl", "bsd", "btn", "bwp", "byn", "bzd", "cad", "cdf", "chf", "clp", "cny", "cop", "crc",
    "cup", "cve", "czk", "djf", "dkk", "dop", "dzd", "egp", "ern", "etb", "eur", "fjd", "fkp", "gbp", "gel", "ghs",
    "gip", "gmd", "gnf", "gtq", "gyd", "hkd", "hnl", "htg", "huf", "idr", "ils", "inr", "iqd", "irr", "isk", "jmd",
    "jod", "jpy", "kes", "kgs", "khr", "kmf", "kpw", "krw", "kwd", "kyd", "kzt", "lak", "lbp", "lkr", "lrd", "lsl",
    "lyd", "mad", "mdl", "mga", "mkd", "mmk", "mnt", "mop", "mru", "mur", "mvr", "mwk", "mxn", "myr", "mzn", "nad",
    "ngn", "nio", "nok", "npr", "nzd", "omr", "pab", "pen", "pgk", "php", "pkr", "pln", "pyg", "qar", "ron", "rsd",
    "rub", "rwf", "sar", "sbd", "scr", "sdg", "sek", "sgd", "shp", "sle", "sos", "srd", "ssp", "stn", "svc", "syp",
    "szl", "thb", "tjs", "tmt", "tnd", "top", "try", "ttd", "twd", "tzs", "uah", "ugx", "usd", "uyu", "uzs", "ves",
    "vnd", "vuv", "wst", "xaf", "xcd", "xof", "xpf", "yer", "zar", "zmw", "zwl",
];

/// A known ISO 4217 currency, lowercase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(&'static str);

impl Currency {
    /// Accepts any case and surrounding spaces: `"USD"`, `" eur"`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        // The common case (already lowercase) needs no allocation.
        let lower;
        let code = if trimmed.bytes().any(|b| b.is_ascii_uppercase()) {
            lower = trimmed.to_ascii_lowercase();
            lower.as_str()
        } else {
            trimmed
        };
        ISO_4217
            .binary_search(&code)
            .ok()
            .map(|i| Currency(ISO_4217[i]))
            .ok_or_else(|| format!("unknown currency code {raw:?} (expected an ISO 4217 code such as usd or eur)"))
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_codes_only() {
        assert_eq!(Currency::parse("usd").unwrap().as_str(), "usd");
        assert_eq!(Currency::parse(" EUR ").unwrap().as_str(), "eur");
        assert!(Currency::parse("xyz").unwrap_err().contains("\"xyz\""));
        assert!(Currency::parse("").is_err());
        assert!(ISO_4217.windows(2).all(|w| w[0] < w[1]), "list sorted, no repeats");
    }
}
