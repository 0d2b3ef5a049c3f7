//! The application's own resource: tenant-scoped documents in its own table.
//!
//! Every decision is the engine's; every write commits together with its audit entry, which
//! joins the store's hash chain; every list is filtered in SQL by the engine's scope.

use orgtenancy_core::{Action, Capability, Decision, OrgId, Policy, Resource, UserId};
use orgtenancy_sqlx::{
    Actor, AuditedTx, NewAuditEntry, SqlStore, StoreError, User, push_scope,
    sqlx::{QueryBuilder, Sqlite, SqliteConnection},
};

/// The application's one capability: a plain user may write documents only with it.
pub const CAN_WRITE: Capability = Capability::of::<0>();

/// One row of `documents`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Document {
    pub id: i64,
    pub organization_id: i64,
    pub created_by: Option<i64>,
    pub title: String,
}

impl Document {
    /// What the engine needs to know of a document.
    pub fn resource(&self) -> Resource {
        Resource::new(
            Some(OrgId(self.organization_id)),
            self.created_by.map(UserId),
        )
    }
}

/// A write's outcome: done, or refused by the engine (with the rule that refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    Created(Document),
    Refused(Decision),
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Creates a document in `organization` for `author`, if the engine allows it: the row and
/// its `document_create` audit entry in one transaction.
pub async fn create(
    store: &SqlStore,
    policy: Policy,
    author: &User,
    organization: OrgId,
    title: &str,
) -> Result<Written> {
    // The document does not exist yet: ask about a resource of that organization with no
    // creator, so the creator rule cannot allow it.
    let target = Resource::new(Some(organization), None);
    let decision = policy.authorize(&author.principal(), Action::Write(CAN_WRITE), &target);
    if decision.is_denied() {
        return Ok(Written::Refused(decision));
    }
    let mut tx = store.begin().await?;
    let document = insert(sqlite(&mut tx)?, organization, author.id, title).await?;
    tx.audit(created_entry(author, &document)).await?;
    tx.commit().await?;
    Ok(Written::Created(document))
}

/// Inserts a row and its audit entry, then drops the transaction instead of committing it.
pub async fn create_and_roll_back(
    store: &SqlStore,
    author: &User,
    organization: OrgId,
) -> Result<()> {
    let mut tx = store.begin().await?;
    let document = insert(sqlite(&mut tx)?, organization, author.id, "draft").await?;
    tx.audit(created_entry(author, &document)).await?;
    drop(tx);
    Ok(())
}

/// Inserts into an organization that does not exist: the foreign key refuses it, and the
/// store maps the driver's error to a typed one.
pub async fn insert_into(
    store: &SqlStore,
    author: &User,
    organization: OrgId,
) -> Result<StoreError> {
    let mut tx = store.begin().await?;
    match insert(sqlite(&mut tx)?, organization, author.id, "orphan").await {
        Ok(document) => Err(format!("a document in a missing organization: {document:?}").into()),
        Err(error) => Ok(error),
    }
}

/// The documents the caller may read, one page, filtered by the database.
pub async fn visible(store: &SqlStore, policy: Policy, reader: &User) -> Result<Vec<Document>> {
    let pool = store.sqlite_pool().ok_or("the store is on SQLite")?;
    let mut query = QueryBuilder::<Sqlite>::new(
        "SELECT id, organization_id, created_by, title FROM documents WHERE ",
    );
    push_scope(
        &mut query,
        policy.scope(&reader.principal()),
        "organization_id",
        Some("created_by"),
    );
    query.push(" ORDER BY id LIMIT ").push_bind(100_i64);
    let rows = query.build_query_as::<Document>().fetch_all(pool).await;
    Ok(rows.map_err(StoreError::from_sqlx)?)
}

/// Every document (for checking the scoped lists against the engine, row by row).
pub async fn all(store: &SqlStore) -> Result<Vec<Document>> {
    let pool = store.sqlite_pool().ok_or("the store is on SQLite")?;
    let rows = sqlx::query_as::<_, Document>(
        "SELECT id, organization_id, created_by, title FROM documents ORDER BY id",
    )
    .fetch_all(pool)
    .await;
    Ok(rows.map_err(StoreError::from_sqlx)?)
}

fn sqlite(tx: &mut AuditedTx) -> Result<&mut SqliteConnection> {
    Ok(tx.sqlite().ok_or("the store is on SQLite")?)
}

async fn insert(
    conn: &mut SqliteConnection,
    organization: OrgId,
    author: UserId,
    title: &str,
) -> std::result::Result<Document, StoreError> {
    sqlx::query_as::<_, Document>(
        "INSERT INTO documents (organization_id, created_by, title) VALUES (?, ?, ?) \
         RETURNING id, organization_id, created_by, title",
    )
    .bind(organization.0)
    .bind(author.0)
    .bind(title)
    .fetch_one(conn)
    .await
    .map_err(StoreError::from_sqlx)
}

fn created_entry(author: &User, document: &Document) -> NewAuditEntry {
    NewAuditEntry {
        action: "document_create".to_owned(),
        actor: Actor::user(author),
        organization_id: Some(OrgId(document.organization_id)),
        resource_type: Some("document".to_owned()),
        resource_id: Some(document.id.to_string()),
        detail: Some(format!("title={}", document.title)),
    }
}
