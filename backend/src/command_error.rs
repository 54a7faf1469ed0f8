//! Why a command failed: one variant per kind of failure, each keeping its
//! cause. Printed as one line (the cause's own message), with any database
//! password scrubbed (see `main`).

/// A command's failure.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// `DATABASE_URL` / `DATABASE_URL_FILE` are unusable.
    #[error(transparent)]
    Config(#[from] store::settings::ConfigError),
    /// The database could not be reached.
    #[error(transparent)]
    Connect(#[from] store::db::ConnectError),
    /// The ingest failed (a refused run is not a failure: it exits 3).
    #[error(transparent)]
    Ingest(#[from] etl::EtlError),
    /// The server did not start.
    #[error(transparent)]
    Start(#[from] server::startup::StartError),
    /// The server stopped on an I/O error.
    #[error(transparent)]
    Serve(#[from] std::io::Error),
    /// Applying the migrations or reading the tokens failed.
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
    /// Creating or revoking a token failed.
    #[error(transparent)]
    Token(#[from] server::auth::tokens::TokenError),
    /// A setting given on the command line or in the environment is invalid.
    #[error("{0}")]
    Settings(String),
    /// The run history could not be read.
    #[error("{0}")]
    History(String),
}
