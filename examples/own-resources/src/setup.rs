//! The store with the application's migration, and the tenants the example works with.

use orgtenancy_core::{CapabilitySet, OrgId, Role};
use orgtenancy_sqlx::{Actor, NewOrganization, NewUser, SqlStore, Store, User, password};

use crate::{Result, documents::CAN_WRITE};

/// The organizations and users of the example.
pub struct Tenants {
    pub acme: OrgId,
    pub globex: OrgId,
    /// Owns a document and has no members.
    pub archive: OrgId,
    /// Owns nothing and has no members.
    pub scratch: OrgId,
    pub root: User,
    /// acme's admin.
    pub alice: User,
    /// A plain user of acme who may write documents.
    pub bob: User,
    /// A plain user of acme who may not.
    pub carol: User,
    /// A plain user of globex who may write documents.
    pub dave: User,
}

impl Tenants {
    pub fn root_actor(&self) -> Actor {
        Actor::user(&self.root)
    }
}

/// An in-memory SQLite store (the file URL `sqlite://app.db` works the same) with the
/// application's migration applied.
pub async fn open() -> Result<SqlStore> {
    let store = SqlStore::connect("sqlite::memory:").await?;
    // The application's own migrations, next to the tenancy ones.
    store.migrate(sqlx::migrate!("./migrations")).await?;
    Ok(store)
}

/// Four organizations and five users, created through the store (and so audited).
pub async fn tenants(store: &SqlStore) -> Result<Tenants> {
    let root = user(
        store,
        &Actor::default(),
        "root",
        Role::Superuser,
        None,
        true,
    )
    .await?;
    let by = Actor::user(&root);
    let mut orgs = Vec::new();
    for name in ["acme", "globex", "archive", "scratch"] {
        let new = NewOrganization {
            name: name.to_owned(),
            description: None,
        };
        orgs.push(store.create_organization(&by, new).await?.id);
    }
    let [acme, globex, archive, scratch] = orgs[..] else {
        return Err("four organizations".into());
    };
    Ok(Tenants {
        alice: user(store, &by, "alice", Role::Admin, Some(acme), false).await?,
        bob: user(store, &by, "bob", Role::User, Some(acme), true).await?,
        carol: user(store, &by, "carol", Role::User, Some(acme), false).await?,
        dave: user(store, &by, "dave", Role::User, Some(globex), true).await?,
        root,
        acme,
        globex,
        archive,
        scratch,
    })
}

async fn user(
    store: &SqlStore,
    by: &Actor,
    name: &str,
    role: Role,
    organization: Option<OrgId>,
    may_write: bool,
) -> Result<User> {
    let capabilities = if may_write {
        CapabilitySet::EMPTY.with(CAN_WRITE)
    } else {
        CapabilitySet::EMPTY
    };
    let new = NewUser {
        username: name.to_owned(),
        email: format!("{name}@example.com"),
        password_hash: password::hash(&format!("{name}-password"))?,
        role,
        is_active: true,
        organization_id: organization,
        capabilities,
    };
    let first = by.user_id.is_none();
    Ok(store.create_user(by, new, first).await?)
}

/// `Ok` when `holds`, else an error naming what did not hold.
pub fn check(holds: bool, what: &str) -> Result<()> {
    if holds {
        Ok(())
    } else {
        Err(format!("check failed: {what}").into())
    }
}
