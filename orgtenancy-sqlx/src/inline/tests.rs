//! The inline path answers exactly as sqlx does, or not at all.

use chrono::{Duration, Utc};
use orgtenancy_core::{CapabilitySet, OrgId, Role, UserId};

use super::InlineReaders;
use crate::{
    Actor, NewOrganization, NewUser, SqlStore, Store,
    db::{Row, Sql},
    rows::{ORG_COLUMNS, OrgRow, USER_COLUMNS, UserRow},
};

fn root() -> Actor {
    Actor {
        user_id: None,
        username: Some("root".into()),
    }
}

async fn file_store(dir: &tempfile::TempDir) -> SqlStore {
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("inline.db").display()
    );
    SqlStore::connect(&url).await.expect("a store on a file")
}

fn inline(store: &SqlStore) -> &InlineReaders {
    store.pool.inline().expect("a file store reads inline")
}

/// The same statement through both paths, as the rows' `Debug` text (every field).
async fn both<R: Row + super::InlineRow + std::fmt::Debug + Clone + Sync + 'static>(
    store: &SqlStore,
    sql: impl Fn() -> Sql,
) -> (Option<String>, String) {
    let inline = inline(store)
        .fetch_all::<R>(&sql())
        .map(|rows| format!("{rows:?}"));
    let sqlx: Vec<R> = store.read_all(sql()).await.expect("read through sqlx");
    (inline, format!("{sqlx:?}"))
}

fn org_by_id(id: OrgId) -> impl Fn() -> Sql {
    move || {
        let mut sql = Sql::new("SELECT ");
        sql.push(ORG_COLUMNS)
            .push(" FROM organizations WHERE id = ")
            .bind(id.0);
        sql
    }
}

fn members(id: OrgId) -> impl Fn() -> Sql {
    move || {
        let mut sql = Sql::new("SELECT ");
        sql.push(USER_COLUMNS)
            .push(" FROM users WHERE organization_id = ")
            .bind(Some(id.0))
            .push(" AND is_active = ")
            .bind(true)
            .push(" AND created_at <= ")
            .bind(Utc::now() + Duration::days(1))
            .push(" ORDER BY id");
        sql
    }
}

fn new_user(name: &str, role: Role, org: Option<OrgId>, flags: CapabilitySet) -> NewUser {
    NewUser {
        username: name.into(),
        email: format!("{name}@example.com"),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$fake${name}"),
        role,
        is_active: true,
        organization_id: org,
        capabilities: flags,
    }
}

#[tokio::test]
async fn rows_read_inline_are_the_rows_sqlx_reads() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = file_store(&dir).await;
    let new = NewOrganization {
        name: "Ünïcode — org".into(),
        description: Some("with a description".into()),
    };
    let org = store.create_organization(&root(), new).await.expect("org");
    let flags = CapabilitySet::from_bits(0b10101);
    for (name, role, flags) in [
        ("alice", Role::Admin, CapabilitySet::EMPTY),
        ("bob", Role::User, flags),
        ("carol", Role::User, CapabilitySet::EMPTY),
    ] {
        let made = new_user(name, role, Some(org.id), flags);
        store.create_user(&root(), made, false).await.expect("user");
    }
    let (inline, sqlx) = both::<OrgRow>(&store, org_by_id(org.id)).await;
    assert_eq!(inline.as_deref(), Some(sqlx.as_str()));
    assert!(sqlx.contains("Ünïcode"), "{sqlx}");
    let (inline, sqlx) = both::<UserRow>(&store, members(org.id)).await;
    assert_eq!(inline.as_deref(), Some(sqlx.as_str()));
    assert_eq!(sqlx.matches("UserRow").count(), 3, "{sqlx}");
    // No row, and the token holder with and without a revocation.
    let (inline, sqlx) = both::<OrgRow>(&store, org_by_id(OrgId(i64::MAX))).await;
    assert_eq!((inline.as_deref(), sqlx.as_str()), (Some("[]"), "[]"));
    let bob = store.get_user_by_username("bob").await.expect("bob");
    let expires = Utc::now() + Duration::minutes(5);
    store
        .revoke_access_token("revoked", expires)
        .await
        .expect("revoke");
    for jti in ["revoked", "live"] {
        let holder = store.token_holder(bob.id, jti).await.expect("holder");
        assert_eq!(holder.token_revoked, jti == "revoked");
        assert_eq!(holder.user, bob);
    }
}

/// A time in a form the inline path does not decode, or a value of another type: it does
/// not answer, and the store's read (which then asks sqlx) still gives sqlx's answer.
#[tokio::test]
async fn what_the_inline_path_cannot_decode_is_left_to_sqlx() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = file_store(&dir).await;
    let new = NewOrganization {
        name: "acme".into(),
        description: None,
    };
    let org = store.create_organization(&root(), new).await.expect("org");
    let mut tx = store.begin_unaudited().await.expect("a transaction");
    let mut sql = Sql::new("UPDATE organizations SET updated_at = '2026-01-02T03:04' WHERE id = ");
    sql.bind(org.id.0);
    tx.execute(sql).await.expect("a time without seconds");
    tx.commit().await.expect("commit");
    let (inline, sqlx) = both::<OrgRow>(&store, org_by_id(org.id)).await;
    assert_eq!(
        inline, None,
        "a time without seconds is left to sqlx: {sqlx}"
    );
    let read = store.get_organization(org.id).await.expect("read");
    assert_eq!(read.updated_at.to_rfc3339(), "2026-01-02T03:04:00+00:00");
    // SQLite's own CURRENT_TIMESTAMP text is decoded, as sqlx decodes it.
    let mut tx = store.begin_unaudited().await.expect("a transaction");
    let mut sql =
        Sql::new("UPDATE organizations SET updated_at = '2026-01-02 03:04:05' WHERE id = ");
    sql.bind(org.id.0);
    tx.execute(sql).await.expect("a text time");
    tx.commit().await.expect("commit");
    let (inline, sqlx) = both::<OrgRow>(&store, org_by_id(org.id)).await;
    assert_eq!(inline.as_deref(), Some(sqlx.as_str()));
}

#[tokio::test]
async fn inline_connections_refuse_writes_and_memory_stores_have_none() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = file_store(&dir).await;
    let mut sql = Sql::new("INSERT INTO organizations (name, created_at, updated_at) VALUES (");
    sql.bind("sneaky")
        .push(", ")
        .bind(Utc::now())
        .push(", ")
        .bind(Utc::now())
        .push(") RETURNING ")
        .push(ORG_COLUMNS);
    assert!(inline(&store).fetch_optional::<OrgRow>(&sql).is_none());
    let listed = store
        .list_organizations(
            orgtenancy_core::Scope::All,
            crate::Page {
                skip: 0,
                limit: 100,
            },
        )
        .await
        .expect("list");
    assert!(listed.is_empty(), "nothing was written: {listed:?}");
    let memory = SqlStore::connect("sqlite::memory:").await.expect("memory");
    assert!(memory.pool.inline().is_none());
    assert!(store.get_user(UserId(1)).await.is_err());
}
