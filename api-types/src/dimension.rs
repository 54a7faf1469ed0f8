//! The data-quality dimensions, listed once: the score's fields and their
//! order, its mean, the thresholds' defaults, the API's names and the
//! dashboard's labels all derive from [`Dimension`].

use std::fmt;
use std::ops::{Index, IndexMut};
use std::str::FromStr;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use crate::Percent;

/// A data-quality dimension: a share of the rows or customers of a run that
/// pass one check. The overall score is the mean of every dimension.
///
/// Adding a dimension touches 4 files, and each step forgotten fails to
/// compile or fails a test:
/// 1. `api-types/src/dimension.rs` (this file): the variant, its place in [`Dimension::ALL`] (else the test
///    `all_lists_every_variant_in_order` fails) and its arms in `key`,
///    `label`, `meaning`, `description` and `default_minimum` (exhaustive
///    matches: a missing arm does not compile);
/// 2. `backend/etl/src/kpi.rs`: its value from the run's counts (`value`, an
///    exhaustive match), with the counts it needs;
/// 3. `frontend/src/charts/mod.rs`: its line colour in both themes
///    (`Theme::series` holds [`Dimension::COUNT`] colours: one missing does
///    not compile, one repeated fails `each_dimension_has_its_own_colour`);
/// 4. `README.md`: its definition, and its `--min-<key>` option (derived
///    from this enum, like the score's JSON field and the CSV column).
///
/// Then the hand-computed overall scores of `kpi.rs`'s tests and of
/// `backend/tests/api/quality_kpis.rs` fail, by design: the mean changed.
///
/// Runs stored before the new dimension have no value for it: the history
/// shows them as unreadable gaps (and logs each) unless a migration fills it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dimension {
    Completeness,
    Validity,
    Uniqueness,
    Consistency,
    Integrity,
    Timeliness,
}

impl Dimension {
    /// Every dimension, in the order of the API's fields, the CSV's columns
    /// and the dashboard's lists (the order of the variants).
    pub const ALL: [Dimension; 6] = [
        Dimension::Completeness,
        Dimension::Validity,
        Dimension::Uniqueness,
        Dimension::Consistency,
        Dimension::Integrity,
        Dimension::Timeliness,
    ];

    /// The number of dimensions (what the overall score divides by).
    pub const COUNT: usize = Self::ALL.len();

    /// Its place in [`Dimension::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The API's name: the score's JSON field, the alert's `dimension`, the
    /// CSV column and the `--min-<key>` option.
    pub const fn key(self) -> &'static str {
        match self {
            Dimension::Completeness => "completeness",
            Dimension::Validity => "validity",
            Dimension::Uniqueness => "uniqueness",
            Dimension::Consistency => "consistency",
            Dimension::Integrity => "integrity",
            Dimension::Timeliness => "timeliness",
        }
    }

    /// Its name for people.
    pub const fn label(self) -> &'static str {
        match self {
            Dimension::Completeness => "Completeness",
            Dimension::Validity => "Validity",
            Dimension::Uniqueness => "Uniqueness",
            Dimension::Consistency => "Consistency",
            Dimension::Integrity => "Integrity",
            Dimension::Timeliness => "Timeliness",
        }
    }

    /// What the percentage counts, in a few words (the dashboard, `--help`).
    pub const fn meaning(self) -> &'static str {
        match self {
            Dimension::Completeness => "customers with both a name and an e-mail",
            Dimension::Validity => "rows read and not rejected",
            Dimension::Uniqueness => "transaction rows not repeated",
            Dimension::Consistency => "customers without conflicting names or e-mails",
            Dimension::Integrity => "transactions with a known subscription and customer",
            Dimension::Timeliness => "freshness of the latest transaction",
        }
    }

    /// Its exact definition (the OpenAPI document; the README says the same).
    pub const fn description(self) -> &'static str {
        match self {
            Dimension::Completeness => "Customers with both a name and an e-mail, of all customers.",
            Dimension::Validity => "Rows not rejected, of the rows read in the three files.",
            Dimension::Uniqueness => {
                "Transaction rows neither exact duplicates nor sharing an id with\n\
                 different content, of the transaction rows read."
            }
            Dimension::Consistency => "Customers of the users files without conflicting names or e-mails.",
            Dimension::Integrity => {
                "Loaded transactions with a known subscription and a customer of the\n\
                 users files (referential integrity), of the loaded transactions."
            }
            Dimension::Timeliness => {
                "100 while the latest transaction is at most the freshness target old\n\
                 at the end of the run, falling to 0 at twice that."
            }
        }
    }

    /// The minimum below which a run raises an alert, unless configured.
    pub const fn default_minimum(self) -> Percent {
        Percent(match self {
            Dimension::Completeness => 9_000,
            Dimension::Validity => 9_500,
            Dimension::Uniqueness => 9_900,
            Dimension::Consistency => 9_500,
            Dimension::Integrity => 9_000,
            Dimension::Timeliness => 5_000,
        })
    }

    /// How many dimensions there are, in words ("six"), for sentences.
    pub fn count_in_words() -> String {
        const WORDS: [&str; 11] = [
            "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        ];
        WORDS
            .get(Self::COUNT)
            .map_or_else(|| Self::COUNT.to_string(), |w| (*w).to_owned())
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// A name that is not a dimension's (nor `overall`, for [`Measure`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownDimension(pub String);

impl fmt::Display for UnknownDimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown quality dimension {:?}", self.0)
    }
}

impl std::error::Error for UnknownDimension {}

impl FromStr for Dimension {
    type Err = UnknownDimension;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dimension::ALL
            .into_iter()
            .find(|d| d.key() == s)
            .ok_or_else(|| UnknownDimension(s.to_owned()))
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Dimension {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .enum_values(Some(Dimension::ALL.map(Dimension::key)))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Dimension {}

/// One value per dimension, indexed by [`Dimension`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PerDimension<T>([T; Dimension::COUNT]);

impl<T> PerDimension<T> {
    /// The value of each dimension, from `f`.
    pub fn from_fn(mut f: impl FnMut(Dimension) -> T) -> Self {
        PerDimension(Dimension::ALL.map(&mut f))
    }

    /// Each dimension with its value, in [`Dimension::ALL`]'s order.
    pub fn iter(&self) -> impl Iterator<Item = (Dimension, &T)> {
        Dimension::ALL.into_iter().zip(self.0.iter())
    }

    /// The values, mapped.
    pub fn map<U>(&self, mut f: impl FnMut(Dimension, &T) -> U) -> PerDimension<U> {
        PerDimension::from_fn(|d| f(d, &self[d]))
    }
}

impl<T> Index<Dimension> for PerDimension<T> {
    type Output = T;

    fn index(&self, d: Dimension) -> &T {
        // In bounds: the array has one element per variant.
        &self.0[d.index()]
    }
}

impl<T> IndexMut<Dimension> for PerDimension<T> {
    fn index_mut(&mut self, d: Dimension) -> &mut T {
        &mut self.0[d.index()]
    }
}

/// What a threshold and an alert are about: the overall score or one
/// dimension. Serialised as `overall` or the dimension's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Measure {
    Overall,
    Dimension(Dimension),
}

impl Measure {
    /// The overall score, then every dimension (the order of the score's
    /// fields and of the alerts).
    pub const ALL: [Measure; Dimension::COUNT + 1] = {
        let mut all = [Measure::Overall; Dimension::COUNT + 1];
        let mut i = 0;
        while i < Dimension::COUNT {
            all[i + 1] = Measure::Dimension(Dimension::ALL[i]);
            i += 1;
        }
        all
    };

    pub const fn key(self) -> &'static str {
        match self {
            Measure::Overall => "overall",
            Measure::Dimension(d) => d.key(),
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Measure::Overall => "Overall",
            Measure::Dimension(d) => d.label(),
        }
    }

    /// What the percentage counts, in a few words.
    pub fn meaning(self) -> String {
        match self {
            Measure::Overall => format!("the mean of the {} dimensions", Dimension::count_in_words()),
            Measure::Dimension(d) => d.meaning().to_owned(),
        }
    }

    /// Its exact definition (the OpenAPI document).
    pub fn description(self) -> String {
        match self {
            Measure::Overall => format!(
                "The mean of the {} dimensions (of their exact values, then rounded).",
                Dimension::count_in_words()
            ),
            Measure::Dimension(d) => d.description().to_owned(),
        }
    }

    /// The minimum below which a run raises an alert, unless configured.
    pub const fn default_minimum(self) -> Percent {
        match self {
            Measure::Overall => Percent(8_000),
            Measure::Dimension(d) => d.default_minimum(),
        }
    }

    /// The dimension, unless this is the overall score.
    pub const fn dimension(self) -> Option<Dimension> {
        match self {
            Measure::Overall => None,
            Measure::Dimension(d) => Some(d),
        }
    }
}

impl From<Dimension> for Measure {
    fn from(d: Dimension) -> Self {
        Measure::Dimension(d)
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl FromStr for Measure {
    type Err = UnknownDimension;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Measure::ALL
            .into_iter()
            .find(|m| m.key() == s)
            .ok_or_else(|| UnknownDimension(s.to_owned()))
    }
}

impl Serialize for Measure {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.key())
    }
}

impl<'de> Deserialize<'de> for Measure {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        raw.parse().map_err(de::Error::custom)
    }
}

/// In the OpenAPI document: a string naming the measure (the words are
/// derived from the enum, so a new dimension is listed by itself).
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Measure {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        let names: Vec<String> = Measure::ALL.iter().map(|m| format!("`{}`", m.key())).collect();
        let description = match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}.", rest.join(", ")),
            _ => format!("{}.", names.join("")),
        };
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .description(Some(wrap_like_doc_comments(&description)))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Measure {}

/// Breaks a sentence before the word that would pass the 70th column, as the
/// doc comments the document was first written from did (keeping the
/// document unchanged where the enum is).
#[cfg(feature = "openapi")]
fn wrap_like_doc_comments(text: &str) -> String {
    const WIDTH: usize = 70;
    let mut out = String::new();
    let mut line = 0;
    for word in text.split(' ') {
        if line > 0 && line + 1 + word.len() > WIDTH {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += word.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::Visitor;

    /// The variants as serde's derive lists them (every one, in declaration
    /// order): the one list of the variants that nobody writes by hand.
    fn declared_variants() -> &'static [&'static str] {
        struct Capture(Option<&'static [&'static str]>);
        #[derive(Debug)]
        struct Stop;
        impl fmt::Display for Stop {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("stop")
            }
        }
        impl std::error::Error for Stop {}
        impl de::Error for Stop {
            fn custom<T: fmt::Display>(_: T) -> Self {
                Stop
            }
        }
        impl<'de> Deserializer<'de> for &mut Capture {
            type Error = Stop;
            fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
                Err(Stop)
            }
            fn deserialize_enum<V: Visitor<'de>>(
                self,
                _: &'static str,
                variants: &'static [&'static str],
                _: V,
            ) -> Result<V::Value, Stop> {
                self.0 = Some(variants);
                Err(Stop)
            }
            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
                option unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier ignored_any
            }
        }
        let mut capture = Capture(None);
        let _ = Dimension::deserialize(&mut capture);
        capture.0.unwrap()
    }

    #[test]
    fn all_lists_every_variant_in_order() {
        let keys: Vec<&str> = Dimension::ALL.iter().map(|d| d.key()).collect();
        assert_eq!(
            keys,
            declared_variants(),
            "Dimension::ALL must list every variant, in order"
        );
        for (i, d) in Dimension::ALL.into_iter().enumerate() {
            assert_eq!(d.index(), i);
            assert_eq!(d.key().parse::<Dimension>(), Ok(d));
            assert_eq!(serde_json::to_string(&d).unwrap(), format!("\"{}\"", d.key()));
            assert_eq!(d.label().to_lowercase(), d.key());
        }
        assert_eq!(Measure::ALL[0], Measure::Overall);
        assert_eq!(Measure::ALL[1..], Dimension::ALL.map(Measure::Dimension));
    }
}
