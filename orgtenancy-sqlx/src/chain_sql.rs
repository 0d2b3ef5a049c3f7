//! The audit chain in the database: appending a hashed entry inside the change's transaction,
//! and verifying the stored chain page by page.
//!
//! **One chain under concurrency.** An append reads the chain head, takes the entry's id, and
//! writes the entry and the new head, all in the caller's write transaction and as its last
//! statements. On SQLite that transaction already holds the database's write lock (`BEGIN
//! IMMEDIATE`). On PostgreSQL the head row is read `FOR UPDATE`, so concurrent appenders queue
//! on it until the holder commits and then read the head it wrote: appends never fork, and
//! because each takes its id while holding the lock, chain order is id order. The lock is taken
//! after the change's own statements, so it is held only for the append and the commit.
//!
//! **The id is known before the insert**, because the hash covers it and the append-only
//! trigger forbids updating the row afterwards: `nextval` of the identity sequence on
//! PostgreSQL, and on SQLite the number `AUTOINCREMENT` would pick (one past the larger of
//! `sqlite_sequence` and the largest id). Ids still come from the database and are never
//! reused; a rolled-back append leaves a gap, which the chain does not mind.

use orgtenancy_core::OrgId;

use crate::{
    Actor, AuditEntry, NewAuditEntry, StoreError, StoreResult,
    chain::{AuditChainReport, ChainedFields, Head, Link, Walk, entry_hash},
    db::{Backend, Conn, Sql},
    error::db,
    rows::{AUDIT_COLUMNS, AuditRow},
    sql_store::{SqlStore, now},
};

/// Entries read per page while verifying, so memory stays bounded whatever the log's size.
const VERIFY_PAGE: i64 = 500;

type HeadRow = (Option<i64>, Option<i64>, Vec<u8>);

fn head_of((first_id, last_id, last_hash): HeadRow) -> Head {
    Head {
        first_id,
        last_id,
        last_hash,
    }
}

/// The chain head, locked until the transaction ends.
async fn lock_head(conn: &mut Conn<'_>) -> StoreResult<Head> {
    let mut sql =
        Sql::new("SELECT first_id, last_id, last_hash FROM audit_chain_head WHERE singleton = 1");
    sql.for_update();
    let row: Option<HeadRow> = conn.fetch_optional(sql).await.map_err(db)?;
    row.map(head_of).ok_or_else(|| {
        tracing::error!("the audit chain head row is missing: no entry can be appended");
        StoreError::Internal
    })
}

/// The id the next entry gets (the caller holds the chain head).
async fn next_id(conn: &mut Conn<'_>) -> StoreResult<i64> {
    let sql = match conn.backend() {
        Backend::Postgres => Sql::new("SELECT nextval(pg_get_serial_sequence('audit_log', 'id'))"),
        Backend::Sqlite => Sql::new(
            "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'), 0), \
             COALESCE((SELECT MAX(id) FROM audit_log), 0)) + 1",
        ),
    };
    let (id,): (i64,) = conn.fetch_one(sql).await.map_err(db)?;
    Ok(id)
}

/// Appends `entry` to the chain on `conn`, inside the transaction of the change it records.
/// `INSERT INTO audit_log … RETURNING <audit columns>` of the entry with its id and hashes.
fn insert_sql(
    backend: Backend,
    id: i64,
    created_at: chrono::DateTime<chrono::Utc>,
    entry: NewAuditEntry,
    prev_hash: Vec<u8>,
    hash: &[u8],
) -> Sql {
    let mut sql = Sql::new(
        "INSERT INTO audit_log (id, created_at, action, user_id, username, organization_id, \
         resource_type, resource_id, detail, prev_hash, hash) ",
    );
    if backend == Backend::Postgres {
        // The id column is GENERATED ALWAYS; this id did come from its sequence.
        sql.push("OVERRIDING SYSTEM VALUE ");
    }
    sql.push("VALUES (")
        .bind(id)
        .push(", ")
        .bind(created_at)
        .push(", ")
        .bind(entry.action)
        .push(", ")
        .bind(entry.actor.user_id.map(|user| user.0))
        .push(", ")
        .bind(entry.actor.username)
        .push(", ")
        .bind(entry.organization_id.map(|org| org.0))
        .push(", ")
        .bind(entry.resource_type)
        .push(", ")
        .bind(entry.resource_id)
        .push(", ")
        .bind(entry.detail)
        .push(", ")
        .bind(prev_hash)
        .push(", ")
        .bind(hash.to_vec())
        .push(") RETURNING ")
        .push(AUDIT_COLUMNS);
    sql
}

pub(crate) async fn append(conn: &mut Conn<'_>, entry: NewAuditEntry) -> StoreResult<AuditEntry> {
    let head = lock_head(conn).await?;
    let id = next_id(conn).await?;
    let created_at = now();
    let hash = entry_hash(
        &head.last_hash,
        &ChainedFields {
            id,
            created_at,
            action: &entry.action,
            user_id: entry.actor.user_id.map(|user| user.0),
            username: entry.actor.username.as_deref(),
            organization_id: entry.organization_id.map(|org| org.0),
            resource_type: entry.resource_type.as_deref(),
            resource_id: entry.resource_id.as_deref(),
            detail: entry.detail.as_deref(),
        },
    );
    let sql = insert_sql(conn.backend(), id, created_at, entry, head.last_hash, &hash);
    let row: AuditRow = conn.fetch_one(sql).await.map_err(db)?;
    let mut sql = Sql::new("UPDATE audit_chain_head SET first_id = COALESCE(first_id, ");
    sql.bind(id)
        .push("), last_id = ")
        .bind(id)
        .push(", last_hash = ")
        .bind(hash.to_vec())
        .push(" WHERE singleton = 1");
    conn.execute(sql).await.map_err(db)?;
    Ok(row.into())
}

/// The chain head (all NULL when its row is missing) and the largest entry id.
#[derive(Debug, sqlx::FromRow)]
struct SnapshotRow {
    first_id: Option<i64>,
    last_id: Option<i64>,
    last_hash: Option<Vec<u8>>,
    max_id: Option<i64>,
}

/// An entry with its chain columns.
#[derive(Debug, sqlx::FromRow)]
struct ChainRow {
    #[sqlx(flatten)]
    entry: AuditRow,
    prev_hash: Option<Vec<u8>>,
    hash: Option<Vec<u8>>,
}

impl ChainRow {
    fn link(&self) -> Link<'_> {
        let entry = &self.entry;
        Link {
            fields: ChainedFields {
                id: entry.id,
                created_at: entry.created_at,
                action: &entry.action,
                user_id: entry.user_id,
                username: entry.username.as_deref(),
                organization_id: entry.organization_id,
                resource_type: entry.resource_type.as_deref(),
                resource_id: entry.resource_id.as_deref(),
                detail: entry.detail.as_deref(),
            },
            prev_hash: self.prev_hash.as_deref(),
            hash: self.hash.as_deref(),
        }
    }
}

impl SqlStore {
    /// The head and the largest entry id, read in one statement so they agree: entries
    /// appended while the walk runs are beyond that id and are left for the next run.
    async fn chain_snapshot(&self) -> StoreResult<(Option<Head>, Option<i64>)> {
        let sql = Sql::new(
            "SELECT h.first_id, h.last_id, h.last_hash, m.max_id \
             FROM (SELECT MAX(id) AS max_id FROM audit_log) m \
             LEFT JOIN audit_chain_head h ON h.singleton = 1",
        );
        let row: Option<SnapshotRow> = self.read_optional(sql).await?;
        let Some(row) = row else {
            return Ok((None, None));
        };
        let head = row
            .last_hash
            .map(|last_hash| head_of((row.first_id, row.last_id, last_hash)));
        Ok((head, row.max_id))
    }

    /// Walks the log in id order, one page at a time, up to the snapshot's largest id.
    pub(crate) async fn verify_chain(&self) -> StoreResult<AuditChainReport> {
        let (head, max_id) = self.chain_snapshot().await?;
        let mut walk = Walk::new(head.as_ref());
        let mut after = i64::MIN;
        let Some(max_id) = max_id else {
            return Ok(walk.finish(head.as_ref(), None));
        };
        loop {
            let mut sql = Sql::new("SELECT ");
            sql.push(AUDIT_COLUMNS)
                .push(", prev_hash, hash FROM audit_log WHERE id > ")
                .bind(after)
                .push(" AND id <= ")
                .bind(max_id)
                .push(" ORDER BY id LIMIT ")
                .bind(VERIFY_PAGE);
            let rows: Vec<ChainRow> = self.read_all(sql).await?;
            for row in &rows {
                if let Err(broken) = walk.step(&row.link()) {
                    return Ok(walk.finish(head.as_ref(), Some(broken)));
                }
                after = row.entry.id;
            }
            if i64::try_from(rows.len()).unwrap_or(i64::MAX) < VERIFY_PAGE {
                return Ok(walk.finish(head.as_ref(), None));
            }
        }
    }
}

/// An audit entry written by the store itself, inside the change's transaction.
pub(crate) struct Audit<'a> {
    pub(crate) action: &'static str,
    pub(crate) actor: &'a Actor,
    pub(crate) organization_id: Option<OrgId>,
    pub(crate) resource_type: &'static str,
    pub(crate) resource_id: String,
    pub(crate) detail: Option<String>,
}

/// Writes a change's audit entry. Call it last, right before the commit: on PostgreSQL it locks
/// the audit chain's head until the transaction ends, so every statement after it would
/// lengthen the time all other writers wait (and one that waits for a row lock could deadlock).
pub(crate) async fn audit(conn: &mut Conn<'_>, audit: Audit<'_>) -> StoreResult<()> {
    append(
        conn,
        NewAuditEntry {
            action: audit.action.to_owned(),
            actor: audit.actor.clone(),
            organization_id: audit.organization_id,
            resource_type: Some(audit.resource_type.to_owned()),
            resource_id: Some(audit.resource_id),
            detail: audit.detail,
        },
    )
    .await
    .map(drop)
}
