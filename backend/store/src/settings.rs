//! Where the data lives: the database URL, resolved once.
//!
//! The database URL is a secret (it may carry a password): it is held as a
//! [`SecretString`] and only ever shown through [`redact_url`].

use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};

/// The variables read here, from the environment and never from the command
/// line: the URL may carry a password, and a command line is visible to
/// every user of the machine (`ps`). The migration binary reads the same
/// two. Listed for the check of the README's configuration table.
pub const ENVIRONMENT: [&str; 2] = ["DATABASE_URL", "DATABASE_URL_FILE"];

/// Path of the embedded SQLite database used when no URL is configured.
pub const DEFAULT_SQLITE_PATH: &str = migration::DEFAULT_SQLITE_PATH;

/// Where the data lives.
#[derive(Clone)]
pub struct DatabaseSettings {
    url: SecretString,
}

/// Why the database settings are unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read DATABASE_URL_FILE {path}: {source}")]
    UrlFile { path: PathBuf, source: std::io::Error },
    #[error("cannot create the directory {path} for the embedded database: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error("unsupported database URL {0}: use postgres://… or sqlite://…")]
    Scheme(String),
}

/// Which engine a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    Sqlite,
}

impl DatabaseSettings {
    /// `DATABASE_URL`, else the file named by `DATABASE_URL_FILE`, else the
    /// embedded SQLite file under `data/` (its directory created on demand).
    pub fn from_env() -> Result<Self, ConfigError> {
        let url = std::env::var("DATABASE_URL").ok().filter(|v| !v.trim().is_empty());
        let file = std::env::var_os("DATABASE_URL_FILE").filter(|v| !v.is_empty());
        Self::resolve(url, file.map(PathBuf::from))
    }

    fn resolve(url: Option<String>, file: Option<PathBuf>) -> Result<Self, ConfigError> {
        if let Some(url) = url {
            return Self::from_url(SecretString::from(url.trim().to_owned()));
        }
        if let Some(path) = file {
            let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::UrlFile { path, source })?;
            return Self::from_url(SecretString::from(text.trim().to_owned()));
        }
        Self::sqlite_file(Path::new(DEFAULT_SQLITE_PATH))
    }

    /// Settings for a SQLite file, creating its directory.
    pub fn sqlite_file(path: &Path) -> Result<Self, ConfigError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| ConfigError::DataDir {
                path: dir.to_owned(),
                source,
            })?;
        }
        Self::from_url(SecretString::from(format!("sqlite://{}?mode=rwc", path.display())))
    }

    /// Settings for an explicit URL. A SQLite file URL without a `mode` gets
    /// `mode=rwc`: the file is created on first use, as with the default
    /// database, instead of "unable to open database file".
    pub fn from_url(url: SecretString) -> Result<Self, ConfigError> {
        let settings = Self {
            url: SecretString::from(migration::with_create_mode(url.expose_secret())),
        };
        settings.engine()?;
        Ok(settings)
    }

    pub fn engine(&self) -> Result<Engine, ConfigError> {
        let url = self.url.expose_secret();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Engine::Postgres)
        } else if url.starts_with("sqlite:") {
            Ok(Engine::Sqlite)
        } else {
            Err(ConfigError::Scheme(redact_url(url)))
        }
    }

    /// The URL with its password (if any) replaced by `***`: safe for logs and errors.
    pub fn redacted(&self) -> String {
        redact_url(self.url.expose_secret())
    }

    /// The URL itself (a secret: never log it).
    pub fn url(&self) -> &SecretString {
        &self.url
    }
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &self.redacted())
            .finish()
    }
}

/// Replaces the password of a URL with `***`; text that does not parse as a URL
/// is hidden entirely rather than risk printing a secret.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() && parsed.set_password(Some("***")).is_err() {
                return "<database url hidden>".to_owned();
            }
            // Query parameters such as `password=` are also secrets.
            if parsed
                .query()
                .is_some_and(|q| q.to_ascii_lowercase().contains("password"))
            {
                parsed.set_query(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "<database url hidden>".to_owned(),
    }
}

/// Removes every occurrence of the URL's password from a message (driver errors
/// sometimes echo connection strings).
pub fn scrub(message: &str, settings: &DatabaseSettings) -> String {
    let raw = settings.url.expose_secret();
    let mut out = message.replace(raw, &settings.redacted());
    if let Ok(parsed) = url::Url::parse(raw) {
        if let Some(password) = parsed.password().filter(|p| p.len() >= 3) {
            out = out.replace(password, "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_files_are_created_unless_a_mode_says_otherwise() {
        let url = |u: &str| {
            DatabaseSettings::from_url(SecretString::from(u.to_owned()))
                .unwrap()
                .url()
                .expose_secret()
                .to_owned()
        };
        assert_eq!(url("sqlite:///tmp/a.db"), "sqlite:///tmp/a.db?mode=rwc");
        assert_eq!(url("sqlite://data/a.db"), "sqlite://data/a.db?mode=rwc");
        assert_eq!(url("sqlite:a.db?cache=shared"), "sqlite:a.db?cache=shared&mode=rwc");
        assert_eq!(url("sqlite:///tmp/a.db?mode=ro"), "sqlite:///tmp/a.db?mode=ro");
        assert_eq!(url("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(url("postgres://h/db"), "postgres://h/db");
    }

    #[test]
    fn redacts_password() {
        let r = redact_url("postgres://app:s3cr3t-pw@db.example:5432/revenue");
        assert_eq!(r, "postgres://app:***@db.example:5432/revenue");
        assert!(!r.contains("s3cr3t"));
        assert_eq!(
            redact_url("sqlite://data/revenue.db?mode=rwc"),
            "sqlite://data/revenue.db?mode=rwc"
        );
        assert!(!redact_url("postgres://h/db?password=hunter22").contains("hunter22"));
        assert_eq!(redact_url("not a url hunter22"), "<database url hidden>");
    }

    #[test]
    fn debug_does_not_leak() {
        let s = DatabaseSettings::from_url(SecretString::from("postgres://u:topsecret@h/d".to_owned())).unwrap();
        assert!(!format!("{s:?}").contains("topsecret"));
        assert!(!scrub("failed: topsecret", &s).contains("topsecret"));
    }

    #[test]
    fn url_file_is_read_and_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("url");
        std::fs::write(&path, "postgres://u:pw123@h/d\n").unwrap();
        let s = DatabaseSettings::resolve(None, Some(path)).unwrap();
        assert_eq!(s.engine().unwrap(), Engine::Postgres);
        assert_eq!(s.redacted(), "postgres://u:***@h/d");
        assert!(matches!(
            DatabaseSettings::resolve(None, Some(dir.path().join("missing"))),
            Err(ConfigError::UrlFile { .. })
        ));
        assert!(matches!(
            DatabaseSettings::resolve(Some("mysql://x".into()), None),
            Err(ConfigError::Scheme(_))
        ));
    }
}
