//! Access control: API tokens, the key that signs dashboard sessions, the
//! sessions signed out before they expired, and who asked for each ingest.
//!
//! - `api_token`: only the SHA-256 of a token is stored, never the token. A
//!   revoked token keeps its row (the history names it); its name may be given
//!   to a new token, hence a unique name among the tokens not revoked only.
//! - `api_signing_key`: one row, created by the first server that needs it, so
//!   that every server of one database accepts the others' session cookies.
//! - `api_session_revoked`: the sessions signed out, until they would have
//!   expired anyway (a session cookie is signed, not stored).
//! - `etl_run.requested_by`: `cli`, or the token (by name) that uploaded the files.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Token::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(Token::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Token::Name).text().not_null())
                    // reader | admin
                    .col(ColumnDef::new(Token::Role).text().not_null())
                    // Lowercase hex SHA-256 of the whole token.
                    .col(ColumnDef::new(Token::TokenHash).text().not_null().unique_key())
                    // The token's last four characters, to tell tokens apart in a list.
                    .col(ColumnDef::new(Token::Hint).text().not_null())
                    .col(ColumnDef::new(Token::CreatedAt).timestamp().not_null())
                    .col(ColumnDef::new(Token::LastUsedAt).timestamp().null())
                    .col(ColumnDef::new(Token::RevokedAt).timestamp().null())
                    .to_owned(),
            )
            .await?;
        // A partial index: the same SQL on both engines.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX IF NOT EXISTS api_token_active_name ON api_token (name) \
                 WHERE revoked_at IS NULL",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SigningKey::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(SigningKey::Id).integer().not_null().primary_key())
                    // 32 random bytes, lowercase hex.
                    .col(ColumnDef::new(SigningKey::KeyHex).text().not_null())
                    .col(ColumnDef::new(SigningKey::CreatedAt).timestamp().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SessionRevoked::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(SessionRevoked::SessionId)
                            .text()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(SessionRevoked::ExpiresAt).timestamp().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Run::Table)
                    .add_column(ColumnDef::new(Run::RequestedBy).text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Run::Table)
                    .drop_column(Run::RequestedBy)
                    .to_owned(),
            )
            .await?;
        for table in [
            SessionRevoked::Table.into_iden(),
            SigningKey::Table.into_iden(),
            Token::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
#[allow(clippy::enum_variant_names)]
enum Token {
    #[sea_orm(iden = "api_token")]
    Table,
    Id,
    Name,
    Role,
    TokenHash,
    Hint,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum SigningKey {
    #[sea_orm(iden = "api_signing_key")]
    Table,
    Id,
    KeyHex,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SessionRevoked {
    #[sea_orm(iden = "api_session_revoked")]
    Table,
    SessionId,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Run {
    #[sea_orm(iden = "etl_run")]
    Table,
    RequestedBy,
}
