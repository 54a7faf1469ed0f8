//! OpenSSL's trusted roots, read only where a certificate is verified.
//!
//! Why: sqlx builds a new `native-tls` connector for every TLS connection,
//! and each one makes OpenSSL read the system's bundle of trusted roots
//! twice (`SslConnector::builder` loads the default verify paths, then
//! native-tls loads the file it probed), whether or not the certificate
//! will be verified. OpenSSL 3.0 decodes the bundle's ~140 certificates
//! slowly: about 100 ms of CPU per connection on the benchmark machine,
//! where a command opens two connections and a load five (at 1M
//! transactions the load's whole work on its side is about 2 s of CPU).
//! libpq reads no roots under `sslmode=prefer` or `require`, and neither
//! needs them: they encrypt without verifying. So when no URL of the
//! process verifies, OpenSSL's default file is pointed at an empty one.

use std::str::FromStr;

use secrecy::ExposeSecret;
use sqlx::postgres::{PgConnectOptions, PgSslMode};

use crate::settings::DatabaseSettings;

/// OpenSSL's variable for its default file of trusted roots.
const CERT_FILE: &str = "SSL_CERT_FILE";

/// Whether a connection to `url` verifies the server's certificate
/// (`sslmode=verify-ca` or `verify-full`, in the URL or in `PGSSLMODE`),
/// so that OpenSSL needs the trusted roots. A URL sqlx cannot read is
/// taken to verify: its roots are left as they are.
pub fn verifies_certificate(url: &str) -> bool {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return false;
    }
    PgConnectOptions::from_str(url).map_or(true, |o| {
        matches!(o.get_ssl_mode(), PgSslMode::VerifyCa | PgSslMode::VerifyFull)
    })
}

/// Points OpenSSL's default file of trusted roots at an empty one when
/// neither the database nor the replica the reports may be read from
/// verifies a certificate: then no connection of the process reads it
/// (sqlx is its only TLS client), whatever file the environment chose.
/// Call it before the process starts other threads (it sets a variable of
/// the process's environment).
pub fn skip_unread_trust_roots(database: &DatabaseSettings, replica: Option<&str>) {
    let urls = [Some(database.url().expose_secret()), replica];
    // Only OpenSSL reads the variable: macOS and Windows use their own TLS.
    if cfg!(all(unix, not(target_vendor = "apple"))) && !urls.into_iter().flatten().any(verifies_certificate) {
        std::env::set_var(CERT_FILE, "/dev/null");
    }
}

#[cfg(test)]
mod tests {
    use super::verifies_certificate;

    #[test]
    fn only_the_verifying_modes_need_the_roots() {
        for (url, verifies) in [
            ("postgres://u:p@db.example/app", false),
            ("postgres://u@db.example/app?sslmode=prefer", false),
            ("postgresql://u@db.example/app?sslmode=require", false),
            ("postgres://u@db.example/app?sslmode=disable", false),
            ("postgres://u@db.example/app?sslmode=verify-ca", true),
            (
                "postgres://u@db.example/app?sslmode=verify-full&sslrootcert=/ca.pem",
                true,
            ),
            ("postgres://u@db.example/app?sslmode=nonsense", true),
            ("sqlite://data/revenue.db?mode=rwc", false),
        ] {
            assert_eq!(verifies_certificate(url), verifies, "{url}");
        }
    }
}
