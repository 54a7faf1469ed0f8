//! The SeaORM entities match the schema the migrations create, on both engines.

use std::collections::BTreeMap;

use backend::entities::*;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityName, EntityTrait, IdenStatic, Iterable};

use crate::both;
use crate::helpers::{fixture, Engine, TestDb};

/// (column name, nullable) of an entity.
fn entity_columns<E: EntityTrait>() -> Vec<(String, bool)> {
    let mut cols: Vec<(String, bool)> = E::Column::iter()
        .map(|c| (c.as_str().to_owned(), c.def().is_null()))
        .collect();
    cols.sort();
    cols
}

async fn live_columns(t: &TestDb, table: &str) -> Vec<(String, bool)> {
    let rows = match t.engine {
        Engine::Postgres => {
            t.rows(&format!(
                "SELECT column_name::text AS name, (is_nullable = 'YES') AS nullable FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = '{table}'"
            ))
            .await
        }
        Engine::Sqlite => {
            t.rows(&format!(
                "SELECT name, (\"notnull\" = 0 AND pk = 0) AS nullable FROM pragma_table_info('{table}')"
            ))
            .await
        }
    };
    let mut cols: Vec<(String, bool)> = rows
        .iter()
        .map(|r| (r.try_get("", "name").unwrap(), r.try_get("", "nullable").unwrap()))
        .collect();
    cols.sort();
    cols
}

async fn entities_match_schema(engine: Engine) {
    let t = TestDb::new(engine).await;
    // Load something so that every entity also decodes real rows.
    let dir = fixture(
        &["s1\tBase\tAlpha\tmonth\t100\tactive"],
        &["1/1/24 7:00\tt1\tc1\ts1\t1.00\tusd", "1/2/24 7:00\tt2\tc2\t\tx\tusd"],
        &["c1\tAnn\tann@x.test"],
    );
    t.ingest(dir.path()).await.unwrap();
    // … then append, so that the record of appended transactions holds one.
    let more = fixture(
        &["s1\tBase\tAlpha\tmonth\t100\tactive"],
        &["2/1/24 7:00\tt3\tc1\ts1\t1.00\tusd"],
        &["c1\tAnn\tann@x.test"],
    );
    t.append(more.path()).await.unwrap();
    // … and the access-control tables: a token, the session key, a signed-out session.
    backend::auth::tokens::create(&t.db, "schema", backend::auth::Role::Reader)
        .await
        .unwrap();
    let key = backend::auth::session::SessionKey::load_or_create(&t.db).await.unwrap();
    let issued = key.issue(1, std::time::Duration::from_secs(60)).unwrap();
    backend::auth::session::revoke(&t.db, &issued.claims).await.unwrap();
    let mut mismatches = BTreeMap::new();
    let mut entities = Vec::new();
    macro_rules! check {
        ($($m:ident),+) => {$(
            let table = $m::Entity.table_name();
            entities.push(table.to_owned());
            let (want, got) = (entity_columns::<$m::Entity>(), live_columns(&t, table).await);
            if want != got {
                mismatches.insert(table, (want, got));
            }
            let rows = $m::Entity::find().all(&t.db).await.unwrap();
            assert!(!rows.is_empty(), "{table} is empty after an ingest");
        )+};
    }
    store::for_each_entity!(check);
    assert!(
        mismatches.is_empty(),
        "entities differ from the live schema: {mismatches:#?}"
    );
    // … and every table of the schema has its entity (listed in
    // `store::entities`), so none escapes the checks above.
    entities.sort();
    assert_eq!(
        live_tables(&t).await,
        entities,
        "tables without an entity, or entities without a table"
    );
}

/// The tables of the migrated schema (PostgreSQL: not the partitions of
/// the partitioned ones), but for the migrations' own: their bookkeeping and
/// the mark of migration 7 (`currency_minor_unit`), which no code reads.
async fn live_tables(t: &TestDb) -> Vec<String> {
    let sql = match t.engine {
        Engine::Postgres => {
            "SELECT c.relname::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition \
             AND c.relname NOT IN ('seaql_migrations', 'currency_minor_unit') ORDER BY 1"
        }
        Engine::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name NOT IN ('seaql_migrations', 'currency_minor_unit') ORDER BY 1"
        }
    };
    t.rows(sql)
        .await
        .iter()
        .map(|r| r.try_get::<String>("", "name").unwrap())
        .collect()
}
both!(entities, entities_match_schema);

/// Every constraint and index, by name and definition (PostgreSQL), or the
/// schema's SQL (SQLite).
pub(crate) async fn schema_objects(t: &TestDb) -> Vec<String> {
    let sql = match t.engine {
        Engine::Postgres => {
            "SELECT d FROM (\
               SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) \
                 || CASE WHEN convalidated THEN '' ELSE ' NOT VALID' END AS d \
               FROM pg_constraint WHERE connamespace = current_schema()::regnamespace \
               UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() \
               UNION ALL SELECT 'table ' || tablename FROM pg_tables WHERE schemaname = current_schema()) s \
             ORDER BY d"
        }
        Engine::Sqlite => "SELECT type || ' ' || name || ' ' || COALESCE(sql, '') AS d FROM sqlite_master ORDER BY d",
    };
    t.rows(sql)
        .await
        .iter()
        .map(|r| r.try_get::<String>("", "d").unwrap())
        .collect()
}

/// The ETL rebuilds tables (PostgreSQL swaps in new partitions): afterwards the
/// schema is exactly what the migrations made, keys and indexes under their
/// own names, every foreign key validated, nothing left behind (no load table).
async fn ingest_keeps_the_migrated_schema(engine: Engine) {
    use migration::MigratorTrait;
    let t = TestDb::new(engine).await;
    migration::Migrator::up(&t.db, None).await.unwrap();
    let migrated = schema_objects(&t).await;
    assert!(
        migrated
            .iter()
            .any(|d| d.contains("fct_transaction") && d.contains("REFERENCES") && d.contains("dim_user")),
        "{migrated:#?}"
    );
    let dir = fixture(
        &["s1\tBase\tAlpha\tmonth\t100\tactive"],
        &["1/1/24 7:00\tt1\tc1\ts1\t1.00\tusd", "2/1/24 7:00\tt2\tc2\t\t2.00\tusd"],
        &["c1\tAnn\tann@x.test"],
    );
    for _ in 0..2 {
        t.ingest(dir.path()).await.unwrap();
        assert_eq!(schema_objects(&t).await, migrated);
        if engine == Engine::Postgres {
            assert_loaded_frozen(&t).await;
        }
    }
    if engine == Engine::Sqlite {
        assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM pragma_foreign_key_check").await, 0);
    }
}
both!(schema_after_ingest, ingest_keeps_the_migrated_schema);

/// PostgreSQL: the tables an ingest replaces are loaded with `COPY … FREEZE`, so
/// every page is frozen and all-visible from the start (nothing for autovacuum
/// to rewrite after a load). Checked page by page with `pg_visibility`.
async fn assert_loaded_frozen(t: &TestDb) {
    t.db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_visibility")
        .await
        .expect("the pg_visibility extension (PostgreSQL contrib)");
    let tables = backend::entities::STAR
        .iter()
        .map(|star| format!("{}{}", star.name, migration::DATA_PARTITION_SUFFIX));
    for table in tables {
        let pages = t
            .scalar_i64(&format!("SELECT COUNT(*) FROM pg_visibility_map('{table}')"))
            .await;
        let not_frozen = t
            .scalar_i64(&format!(
                "SELECT COUNT(*) FROM pg_visibility_map('{table}') WHERE NOT (all_frozen AND all_visible)"
            ))
            .await;
        assert!(pages > 0, "{table} has no pages");
        assert_eq!(not_frozen, 0, "{table}: {not_frozen} of {pages} pages not frozen");
    }
}
