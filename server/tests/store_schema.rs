//! The hand-written sea-orm entities (`store::entities`) against the schema the migrations
//! really create, on SQLite and on PostgreSQL: every entity has its table, column for column,
//! with compatible types, the same nullability and the same primary key; every table has an
//! entity or a stated reason not to; and every file of `store/entities` is in the entity list.
//!
//! Types are compared as each database reports them. SQLite declares every integer column
//! `integer` whatever its width (sea-query writes `BigInteger` so, and SQLite stores 64 bits
//! anyway), so integer widths are told apart on PostgreSQL only. Text lengths are compared
//! where the entity states one: sea-orm derives an unbounded `String` for every `String` field.

use std::collections::{BTreeMap, BTreeSet};

use keepsake::store::entities::{self, EntityVisitor};
use sea_orm::sea_query::StringLen;
use sea_orm::{
    ColumnDef, ColumnTrait, ColumnType, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, IdenStatic,
    Iterable, PrimaryKeyToColumn, PrimaryKeyTrait, Statement,
};

use crate::support::Db;

/// Tables the migrations create that no entity maps, each with the reason.
const WITHOUT_ENTITY: &[(&str, &str)] = &[(
    "seaql_migrations",
    "sea-orm-migration's record of the migrations applied; only the migrator uses it",
)];

on_both_databases!(entities_match_the_migrated_schema);

async fn entities_match_the_migrated_schema(db: Db) {
    // The SQLite file lives here; PostgreSQL gets a fresh database of its own.
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = match db {
        Db::Sqlite => format!("sqlite://{}?mode=rwc", dir.path().join("keepsake.db").display()),
        Db::Postgres(url) => url,
    };
    let conn = keepsake::store::connect(&url).await.expect("the database opens");
    keepsake::store::migrate(&conn).await.expect("the migrations apply");
    let backend = conn.get_database_backend();
    let tables = match backend {
        DbBackend::Sqlite => sqlite_tables(&conn).await,
        DbBackend::Postgres => postgres_tables(&conn).await,
        other => panic!("no schema reader for {other:?}"),
    };
    let findings = differences(&entity_tables(), &tables, backend);
    assert!(
        findings.is_empty(),
        "the entities in store::entities do not match the schema the migrations create on {backend:?}:\n  {}",
        findings.join("\n  ")
    );
}

/// `entities::visit_all` is the list the schema test checks, so a file of `store/entities`
/// missing from it would go unchecked. Files are named after their tables.
#[test]
fn every_entity_file_is_in_the_entity_list() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/store/entities");
    let files: BTreeSet<String> = std::fs::read_dir(dir)
        .expect("store/entities can be read")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|stem| stem != "mod")
        .collect();
    let listed: Vec<&str> = entity_tables().iter().map(|entity| entity.table).collect();
    let mut findings = Vec::new();
    let mut seen = BTreeSet::new();
    for table in &listed {
        if !seen.insert(*table) {
            findings.push(format!("entities::visit_all lists the entity of `{table}` twice"));
        }
        if !files.contains(*table) {
            findings.push(format!(
                "entities::visit_all lists the entity of `{table}`, but no store/entities/{table}.rs is named after it"
            ));
        }
    }
    for file in files.iter().filter(|file| !seen.contains(file.as_str())) {
        findings.push(format!(
            "store/entities/{file}.rs: its entity is not in entities::visit_all, so the schema test does not check it"
        ));
    }
    assert!(findings.is_empty(), "{}", findings.join("\n"));
}

/// An entity as sea-orm sees it.
struct EntityTable {
    table: &'static str,
    columns: Vec<(&'static str, ColumnDef)>,
    primary_key: Vec<&'static str>,
    auto_increment: bool,
}

/// Every entity, from `entities::visit_all`.
fn entity_tables() -> Vec<EntityTable> {
    struct Collect(Vec<EntityTable>);

    impl EntityVisitor for Collect {
        fn visit<E: EntityTrait>(&mut self) {
            self.0.push(EntityTable {
                table: E::default().table_name(),
                columns: E::Column::iter()
                    .map(|column| (column.as_str(), column.def()))
                    .collect(),
                primary_key: E::PrimaryKey::iter().map(|key| key.into_column().as_str()).collect(),
                auto_increment: <E::PrimaryKey as PrimaryKeyTrait>::auto_increment(),
            });
        }
    }

    let mut collect = Collect(Vec::new());
    entities::visit_all(&mut collect);
    collect.0
}

/// A table as the database reports it.
#[derive(Default)]
struct Table {
    columns: Vec<TableColumn>,
    primary_key: Vec<String>,
}

struct TableColumn {
    name: String,
    /// The type as the database spells it: `varchar(254)` on SQLite, `character varying(254)`
    /// on PostgreSQL.
    declared: String,
    nullable: bool,
    /// Whether the database fills it in on insert (PostgreSQL identity or serial, SQLite
    /// `AUTOINCREMENT`).
    generated: bool,
}

async fn rows(conn: &DatabaseConnection, sql: &str) -> Vec<sea_orm::QueryResult> {
    conn.query_all_raw(Statement::from_string(conn.get_database_backend(), sql.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn get<T: sea_orm::TryGetable>(row: &sea_orm::QueryResult, column: &str) -> T {
    row.try_get("", column)
        .unwrap_or_else(|e| panic!("reading {column}: {e}"))
}

/// Every table but SQLite's own (`sqlite_sequence` and the like), by name.
async fn sqlite_tables(conn: &DatabaseConnection) -> BTreeMap<String, Table> {
    let sql = r#"SELECT t.name AS table_name, t.sql AS table_sql, c.name AS column_name,
                        c.type AS declared, c."notnull" AS not_null, c.pk AS pk
                   FROM sqlite_master t JOIN pragma_table_info(t.name) c
                  WHERE t.type = 'table' AND t.name NOT LIKE 'sqlite\_%' ESCAPE '\'
                  ORDER BY t.name, c.cid"#;
    let mut tables = BTreeMap::<String, Table>::new();
    for row in rows(conn, sql).await {
        let table = tables.entry(get(&row, "table_name")).or_default();
        let name: String = get(&row, "column_name");
        let in_key = get::<i64>(&row, "pk") > 0;
        if in_key {
            table.primary_key.push(name.clone());
        }
        // AUTOINCREMENT can only follow the one `INTEGER PRIMARY KEY` column of a table.
        let autoincrement = get::<String>(&row, "table_sql")
            .to_uppercase()
            .contains("AUTOINCREMENT");
        table.columns.push(TableColumn {
            name,
            declared: get::<String>(&row, "declared").to_lowercase(),
            nullable: get::<i64>(&row, "not_null") == 0,
            generated: in_key && autoincrement,
        });
    }
    tables
}

/// Every base table of the current schema, by name.
async fn postgres_tables(conn: &DatabaseConnection) -> BTreeMap<String, Table> {
    let columns = "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name,
                          c.data_type::text AS data_type, c.character_maximum_length::int4 AS max_length,
                          c.is_nullable::text = 'YES' AS nullable,
                          c.is_identity::text = 'YES' OR coalesce(c.column_default::text, '') LIKE 'nextval(%'
                              AS generated
                     FROM information_schema.columns c
                     JOIN information_schema.tables t
                          ON t.table_schema = c.table_schema AND t.table_name = c.table_name
                    WHERE t.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
                    ORDER BY c.table_name, c.ordinal_position";
    let mut tables = BTreeMap::<String, Table>::new();
    for row in rows(conn, columns).await {
        let data_type: String = get(&row, "data_type");
        let declared = match get::<Option<i32>>(&row, "max_length") {
            Some(length) => format!("{data_type}({length})"),
            None => data_type,
        };
        tables
            .entry(get(&row, "table_name"))
            .or_default()
            .columns
            .push(TableColumn {
                name: get(&row, "column_name"),
                declared,
                nullable: get(&row, "nullable"),
                generated: get(&row, "generated"),
            });
    }
    let keys = "SELECT k.table_name::text AS table_name, k.column_name::text AS column_name
                  FROM information_schema.table_constraints c
                  JOIN information_schema.key_column_usage k
                       ON k.constraint_schema = c.constraint_schema AND k.constraint_name = c.constraint_name
                 WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = current_schema()
                 ORDER BY k.table_name, k.ordinal_position";
    for row in rows(conn, keys).await {
        if let Some(table) = tables.get_mut(&get::<String>(&row, "table_name")) {
            table.primary_key.push(get(&row, "column_name"));
        }
    }
    tables
}

/// A column type as far as the entities care.
#[derive(Debug, PartialEq)]
enum Kind {
    /// An integer of one of these widths in bits.
    Integer(&'static [u32]),
    /// Text of at most this many characters, or unbounded.
    Text(Option<u32>),
    Bytes,
    Boolean,
    TimestampWithTimeZone,
    Timestamp,
    Date,
    Unknown,
}

/// What the database's spelling of a type means.
fn kind(backend: DbBackend, declared: &str) -> Kind {
    let (name, length) = match declared.split_once('(') {
        Some((name, rest)) => (name, rest.trim_end_matches(')').parse().ok()),
        None => (declared, None),
    };
    match (backend, name) {
        (_, "smallint") => Kind::Integer(&[16]),
        (DbBackend::Sqlite, "integer") => Kind::Integer(&[32, 64]),
        (_, "integer") => Kind::Integer(&[32]),
        (_, "bigint") => Kind::Integer(&[64]),
        (_, "text") => Kind::Text(None),
        (DbBackend::Sqlite, "varchar") | (DbBackend::Postgres, "character varying") => Kind::Text(length),
        (DbBackend::Sqlite, "blob" | "varbinary_blob") | (DbBackend::Postgres, "bytea") => Kind::Bytes,
        (_, "boolean") => Kind::Boolean,
        (DbBackend::Sqlite, "timestamp_with_timezone_text") | (DbBackend::Postgres, "timestamp with time zone") => {
            Kind::TimestampWithTimeZone
        }
        (DbBackend::Sqlite, "datetime_text" | "timestamp_text")
        | (DbBackend::Postgres, "timestamp without time zone") => Kind::Timestamp,
        (DbBackend::Sqlite, "date_text") | (DbBackend::Postgres, "date") => Kind::Date,
        _ => Kind::Unknown,
    }
}

/// Whether a column of the entity's type can live in a column of the database's, or `None`
/// for an entity type this test has no rule for yet.
fn fits(entity: &ColumnType, db: &Kind) -> Option<bool> {
    let integer = |bits: u32| matches!(db, Kind::Integer(widths) if widths.contains(&bits));
    Some(match entity {
        ColumnType::SmallInteger => integer(16),
        ColumnType::Integer => integer(32),
        ColumnType::BigInteger => integer(64),
        ColumnType::String(StringLen::N(length)) => *db == Kind::Text(Some(*length)),
        ColumnType::String(_) => matches!(db, Kind::Text(_)),
        ColumnType::Text => *db == Kind::Text(None),
        ColumnType::Binary(_) | ColumnType::VarBinary(_) | ColumnType::Blob => *db == Kind::Bytes,
        ColumnType::Boolean => *db == Kind::Boolean,
        ColumnType::TimestampWithTimeZone => *db == Kind::TimestampWithTimeZone,
        ColumnType::DateTime | ColumnType::Timestamp => *db == Kind::Timestamp,
        ColumnType::Date => *db == Kind::Date,
        _ => return None,
    })
}

/// Everything in which the entities and the tables disagree, one line each, naming the table
/// and the column.
fn differences(entities: &[EntityTable], tables: &BTreeMap<String, Table>, backend: DbBackend) -> Vec<String> {
    let mut findings = Vec::new();
    for entity in entities {
        let name = entity.table;
        let Some(table) = tables.get(name) else {
            findings.push(format!("{name}: the entity's table is not in the database"));
            continue;
        };
        for (column, def) in &entity.columns {
            let Some(found) = table.columns.iter().find(|found| found.name == *column) else {
                findings.push(format!("{name}.{column}: in the entity, not in the table"));
                continue;
            };
            let entity_type = def.get_column_type();
            match fits(entity_type, &kind(backend, &found.declared)) {
                Some(true) => {}
                Some(false) => findings.push(format!(
                    "{name}.{column}: type: the entity has {entity_type:?}, the table `{}`",
                    found.declared
                )),
                None => findings.push(format!(
                    "{name}.{column}: type: this test has no rule for the entity's {entity_type:?} (the table has `{}`); add one to `fits`",
                    found.declared
                )),
            }
            if def.is_null() != found.nullable {
                let says = |nullable: bool| if nullable { "NULL" } else { "NOT NULL" };
                findings.push(format!(
                    "{name}.{column}: nullability: the entity has {}, the table {}",
                    says(def.is_null()),
                    says(found.nullable)
                ));
            }
        }
        for found in &table.columns {
            if !entity.columns.iter().any(|(column, _)| *column == found.name) {
                findings.push(format!("{name}.{}: in the table, not in the entity", found.name));
            }
        }
        // The same columns; sea-orm names them, so their order does not matter.
        let entity_key: BTreeSet<&str> = entity.primary_key.iter().copied().collect();
        let table_key: BTreeSet<&str> = table.primary_key.iter().map(String::as_str).collect();
        if entity_key != table_key {
            findings.push(format!(
                "{name}: primary key: the entity has ({}), the table ({})",
                entity.primary_key.join(", "),
                table.primary_key.join(", ")
            ));
        }
        let generated = table
            .columns
            .iter()
            .any(|column| column.generated && table.primary_key.contains(&column.name));
        if entity.auto_increment != generated {
            findings.push(format!(
                "{name}: primary key: the entity says auto_increment = {}, but the table {} its values",
                entity.auto_increment,
                if generated { "generates" } else { "does not generate" }
            ));
        }
    }
    let mapped: BTreeSet<&str> = entities.iter().map(|entity| entity.table).collect();
    for (name, reason) in WITHOUT_ENTITY {
        if mapped.contains(name) {
            findings.push(format!(
                "{name}: listed in WITHOUT_ENTITY ({reason}), yet an entity maps it"
            ));
        }
        if !tables.contains_key(*name) {
            findings.push(format!(
                "{name}: listed in WITHOUT_ENTITY, but the migrations create no such table"
            ));
        }
    }
    for name in tables.keys() {
        let excused = WITHOUT_ENTITY.iter().any(|(table, _)| table == name);
        if !mapped.contains(name.as_str()) && !excused {
            findings.push(format!(
                "{name}: no entity maps this table (add one to store::entities and entities::visit_all, or list the table in WITHOUT_ENTITY with the reason)"
            ));
        }
    }
    findings
}
