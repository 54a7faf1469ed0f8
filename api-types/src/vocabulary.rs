//! The contract's small words: what a run did and how, who is calling, and
//! when. Each is a type here, serialised as the plain string the API has
//! always sent, so that the backend writes and the dashboard reads the same
//! values without either parsing strings of its own.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Defines a string enum: serde and OpenAPI through its snake_case names,
/// `as_str`, `ALL`, `Display` and `FromStr` (whose error lists the values).
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in the order of the declaration.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// As the API and the database write it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;

            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(UnknownValue {
                        what: $what,
                        value: other.to_owned(),
                        expected: &[$($text,)+],
                    }),
                }
            }
        }
    };
}

/// A string that is none of a vocabulary's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    /// What the value should have been, e.g. `run status`.
    pub what: &'static str,
    pub value: String,
    pub expected: &'static [&'static str],
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} {:?}: use {}",
            self.what,
            self.value,
            self.expected.join(", ")
        )
    }
}

impl std::error::Error for UnknownValue {}

string_enum!(
    /// What became of an ingest run. Only `succeeded` changes data.
    RunStatus, "run status" {
        /// Still going (or killed, until the next run finds it).
        Running = "running",
        /// Committed.
        Succeeded = "succeeded",
        /// An error stopped it; nothing changed.
        Failed = "failed",
        /// Stopped by a guard rail; nothing changed.
        Refused = "refused",
        /// Ran in full with `--dry-run`; nothing changed.
        DryRun = "dry_run",
        /// Every file had been ingested before; nothing to do.
        Skipped = "skipped",
        /// Killed while running (found by the next run); nothing changed.
        Abandoned = "abandoned",
    }
);

impl RunStatus {
    /// Whether the run committed its data (the only status that changes data).
    pub fn committed(self) -> bool {
        self == RunStatus::Succeeded
    }
}

string_enum!(
    /// How an ingest treats what is loaded.
    IngestMode, "mode" {
        /// The files replace everything (the default).
        Replace = "replace",
        /// The files are merged into what is loaded.
        Append = "append",
    }
);

string_enum!(
    /// What a caller may do; an admin may do everything a reader may.
    Role, "role" {
        /// Reads the reports, quality and run history.
        Reader = "reader",
        /// Also uploads exports.
        Admin = "admin",
    }
);

string_enum!(
    /// How a caller authenticated.
    Via, "authentication" {
        /// A bearer token in the `Authorization` header.
        Token = "token",
        /// The session cookie of a sign-in.
        Session = "session",
        /// Open mode: no token exists.
        Anonymous = "anonymous",
    }
);

/// An instant, in UTC. Every timestamp of the API is written the same way:
/// RFC 3339 with milliseconds and `Z` (`2024-11-02T09:15:03.120Z`), which
/// sorts as text and keeps what a run's start needs to be told from the
/// next one's. Any RFC 3339 form is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(chrono::DateTime<chrono::Utc>);

impl Timestamp {
    pub fn from_utc(t: chrono::DateTime<chrono::Utc>) -> Self {
        Self(t)
    }

    /// A time the databases store without a zone, which is UTC throughout.
    pub fn from_naive_utc(t: chrono::NaiveDateTime) -> Self {
        Self(t.and_utc())
    }

    pub fn utc(self) -> chrono::DateTime<chrono::Utc> {
        self.0
    }

    /// The API's form (also in CSV downloads).
    pub fn rfc3339(self) -> String {
        self.0.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.rfc3339())
    }
}

impl FromStr for Timestamp {
    type Err = chrono::ParseError;

    fn from_str(s: &str) -> Result<Self, chrono::ParseError> {
        chrono::DateTime::parse_from_rfc3339(s).map(|t| Self(t.to_utc()))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("RFC 3339 in UTC with milliseconds: 2024-11-02T09:15:03.120Z."))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Timestamp {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_are_written_as_before() {
        let json = serde_json::to_string(&(RunStatus::DryRun, IngestMode::Append, Role::Admin, Via::Session))
            .unwrap_or_default();
        assert_eq!(json, r#"["dry_run","append","admin","session"]"#);
        for status in RunStatus::ALL {
            assert_eq!(status.as_str().parse(), Ok(*status));
            assert_eq!(
                serde_json::to_string(status).unwrap_or_default(),
                format!("\"{status}\"")
            );
        }
        let err = "done".parse::<RunStatus>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(r#"unknown run status "done": use running, succeeded, failed, refused, dry_run, skipped, abandoned"#)
        );
    }

    #[test]
    fn a_timestamp_is_written_one_way_and_read_in_any() {
        for (given, written) in [
            ("2024-11-02T09:15:03Z", "2024-11-02T09:15:03.000Z"),
            ("2024-11-02T09:15:03.12Z", "2024-11-02T09:15:03.120Z"),
            ("2024-11-02T10:15:03.120456+01:00", "2024-11-02T09:15:03.120Z"),
        ] {
            let t: Result<Timestamp, _> = serde_json::from_str(&format!("\"{given}\""));
            let back = t.as_ref().map(|t| serde_json::to_string(t).unwrap_or_default());
            assert_eq!(back.ok(), Some(format!("\"{written}\"")), "{given}");
        }
        assert!(serde_json::from_str::<Timestamp>("\"2024-11-02 09:15\"").is_err());
    }
}
