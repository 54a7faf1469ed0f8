//! A run's quality score: the overall score and one value per [`Dimension`],
//! in JSON an object with `overall` then each dimension by its key.

use std::fmt;
use std::ops::{Index, IndexMut};

use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Dimension, Measure, PerDimension, Percent};

/// The quality dimensions of one run, each a percentage (exact ratio, rounded
/// half-up to two decimals; 100 when its denominator is zero), and their
/// mean. In JSON an object: `overall`, then each dimension by its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QualityScore {
    /// The mean of the dimensions (of their exact values, then rounded).
    pub overall: Percent,
    pub dimensions: PerDimension<Percent>,
}

impl QualityScore {
    /// The overall score or one dimension.
    pub fn get(&self, m: Measure) -> Percent {
        match m {
            Measure::Overall => self.overall,
            Measure::Dimension(d) => self.dimensions[d],
        }
    }

    /// The measures below their minimums (`thresholds` holds a minimum per
    /// measure), the overall score first.
    pub fn below(&self, thresholds: &QualityScore) -> Vec<QualityAlert> {
        Measure::ALL
            .into_iter()
            .filter(|&m| self.get(m) < thresholds.get(m))
            .map(|dimension| QualityAlert {
                dimension,
                value: self.get(dimension),
                threshold: thresholds.get(dimension),
            })
            .collect()
    }

    /// The overall score, then each dimension, with their values.
    pub fn iter(&self) -> impl Iterator<Item = (Measure, Percent)> + '_ {
        Measure::ALL.into_iter().map(|m| (m, self.get(m)))
    }
}

impl Index<Dimension> for QualityScore {
    type Output = Percent;

    fn index(&self, d: Dimension) -> &Percent {
        &self.dimensions[d]
    }
}

impl IndexMut<Dimension> for QualityScore {
    fn index_mut(&mut self, d: Dimension) -> &mut Percent {
        &mut self.dimensions[d]
    }
}

/// The score's field names: `overall`, then the dimensions' keys.
const SCORE_FIELDS: [&str; Dimension::COUNT + 1] = {
    let mut fields = [""; Dimension::COUNT + 1];
    let mut i = 0;
    while i < Measure::ALL.len() {
        fields[i] = Measure::ALL[i].key();
        i += 1;
    }
    fields
};

impl Serialize for QualityScore {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("QualityScore", SCORE_FIELDS.len())?;
        for (m, value) in self.iter() {
            s.serialize_field(m.key(), &value)?;
        }
        s.end()
    }
}

/// Strict, like the derive: every field is required (a stored score without
/// a dimension is an error, never a silent 0); unknown fields are ignored.
impl<'de> Deserialize<'de> for QualityScore {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScoreVisitor;

        impl<'de> Visitor<'de> for ScoreVisitor {
            type Value = QualityScore;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("struct QualityScore")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<QualityScore, A::Error> {
                let mut values: [Option<Percent>; Dimension::COUNT + 1] = [None; Dimension::COUNT + 1];
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match SCORE_FIELDS.iter().position(|f| *f == key) {
                        Some(i) if values[i].is_some() => return Err(de::Error::duplicate_field(SCORE_FIELDS[i])),
                        Some(i) => values[i] = Some(map.next_value()?),
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let value = |i: usize| values[i].ok_or_else(|| de::Error::missing_field(SCORE_FIELDS[i]));
                let overall = value(0)?;
                for d in Dimension::ALL {
                    value(d.index() + 1)?;
                }
                // Every value is present (checked just above).
                let dimensions = PerDimension::from_fn(|d| values[d.index() + 1].unwrap_or(Percent(0)));
                Ok(QualityScore { overall, dimensions })
            }
        }

        deserializer.deserialize_struct("QualityScore", &SCORE_FIELDS, ScoreVisitor)
    }
}

/// In the OpenAPI document: an object with `overall` and one property per
/// dimension, each described by the enum.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for QualityScore {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        use utoipa::openapi::Ref;
        use utoipa::ToSchema;
        let mut object = ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::Object))
            .description(Some(
                "The quality dimensions of one run, each a percentage (exact ratio, rounded\n\
             half-up to two decimals; 100 when its denominator is zero). See the README\n\
             for the exact definitions.",
            ));
        for m in Measure::ALL {
            let mut property = Ref::from_schema_name(Percent::name());
            property.description = m.description();
            object = object.property(m.key(), property).required(m.key());
        }
        object.into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for QualityScore {
    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        use utoipa::{PartialSchema, ToSchema};
        schemas.push((Percent::name().into_owned(), Percent::schema()));
        <Percent as ToSchema>::schemas(schemas);
    }
}

/// A dimension (or the overall score) below its threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QualityAlert {
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub dimension: Measure,
    pub value: Percent,
    pub threshold: Percent,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score() -> QualityScore {
        let mut s = QualityScore {
            overall: Percent(7_262),
            dimensions: PerDimension::from_fn(|_| Percent(10_000)),
        };
        s[Dimension::Validity] = Percent(8_571);
        s
    }

    /// The JSON of before the enum, byte for byte, up to its closing brace:
    /// a dimension added later (at the end of `Dimension::ALL`) follows it.
    const SCORE_JSON_BEFORE: &str = r#"{"overall":"72.62","completeness":"100.00","validity":"85.71","uniqueness":"100.00","consistency":"100.00","integrity":"100.00","timeliness":"100.00""#;

    #[test]
    fn the_score_serialises_as_before() {
        let json = serde_json::to_string(&score()).unwrap();
        assert!(json.starts_with(SCORE_JSON_BEFORE), "{json}");
        let back: QualityScore = serde_json::from_str(&json).unwrap();
        assert_eq!(back, score());
        assert_eq!(back.get(Measure::Dimension(Dimension::Validity)), Percent(8_571));
        assert_eq!(back.get(Measure::Overall), Percent(7_262));
        // Unknown fields are ignored, as by the derive before.
        let extra = json.replace("{\"overall\"", "{\"later\":1,\"overall\"");
        assert_eq!(serde_json::from_str::<QualityScore>(&extra).unwrap(), score());
    }

    #[test]
    fn a_score_without_a_dimension_does_not_decode() {
        let json = serde_json::to_string(&score()).unwrap();
        let without = json.replace(r#","timeliness":"100.00""#, "");
        let err = serde_json::from_str::<QualityScore>(&without).unwrap_err();
        assert!(err.to_string().contains("missing field `timeliness`"), "{err}");
        let twice = json.replace("{", r#"{"validity":"1.00","#);
        assert!(serde_json::from_str::<QualityScore>(&twice).is_err());
    }

    #[test]
    fn alerts_name_their_measure_as_before() {
        let a = QualityAlert {
            dimension: Measure::Dimension(Dimension::Integrity),
            value: Percent(5_000),
            threshold: Percent(9_000),
        };
        let json = r#"{"dimension":"integrity","value":"50.00","threshold":"90.00"}"#;
        assert_eq!(serde_json::to_string(&a).unwrap(), json);
        assert_eq!(serde_json::from_str::<QualityAlert>(json).unwrap(), a);
        assert_eq!(serde_json::to_string(&Measure::Overall).unwrap(), "\"overall\"");
        assert!(serde_json::from_str::<QualityAlert>(&json.replace("integrity", "Integrity")).is_err());
    }
}
