//! `seed`: creates the world of [`crate::world`] in a fresh database through the store's own
//! API (`orgtenancy_sqlx::Store`: the same validation, constraints and audit entries as the
//! HTTP API), before the server starts.
//!
//! One shortcut, on purpose: every user gets the same argon2id hash, computed once. Through
//! the HTTP API each of the 13,201 users would cost the server one deliberately slow argon2
//! hash (minutes on two cores), which is not what the load test measures. Logins still
//! verify that hash the ordinary way.

use std::{sync::Arc, time::Instant};

use orgtenancy_core::{CapabilitySet, OrgId, Role};
use orgtenancy_sqlx::{Actor, NewOrganization, NewUser, Store, StoreError};

use crate::world::{self, ORGANIZATIONS, SPARES_PER_CLIENT, USERS_PER_ORGANIZATION};

/// Seeds the database at `url` for `clients` clients; prints what it made.
pub fn seed(url: &str, clients: usize) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start a runtime: {error}"))?;
    let started = Instant::now();
    let users = runtime
        .block_on(seed_store(url, clients))
        .map_err(|error| format!("seeding failed: {error}"))?;
    println!(
        "seeded {ORGANIZATIONS} organizations, {users} users in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn seed_store(url: &str, clients: usize) -> Result<usize, StoreError> {
    let store = orgtenancy_sqlx::connect(url).await?;
    let seeder = Seeder {
        hash: orgtenancy_sqlx::password::hash(world::PASSWORD)?,
        store,
    };
    let root = seeder
        .user(&Actor::default(), world::ROOT, Role::Superuser, None)
        .await?;
    let actor = Actor::user(&root);
    let mut users = 1;
    for o in 0..ORGANIZATIONS {
        let new = NewOrganization {
            name: world::organization(o),
            description: Some("seeded by orgtenancy-load".to_owned()),
        };
        let org = seeder.store.create_organization(&actor, new).await?;
        seeder
            .user(&actor, &world::admin(o), Role::Admin, Some(org.id))
            .await?;
        for u in 1..USERS_PER_ORGANIZATION {
            seeder
                .user(&actor, &world::member(o, u), Role::User, Some(org.id))
                .await?;
        }
        users += USERS_PER_ORGANIZATION;
    }
    for c in 0..clients {
        for i in 0..SPARES_PER_CLIENT {
            seeder
                .user(&actor, &world::spare(c, i), Role::User, None)
                .await?;
        }
        users += SPARES_PER_CLIENT;
    }
    Ok(users)
}

struct Seeder {
    store: Arc<dyn Store>,
    hash: String,
}

impl Seeder {
    async fn user(
        &self,
        actor: &Actor,
        username: &str,
        role: Role,
        organization: Option<OrgId>,
    ) -> Result<orgtenancy_sqlx::User, StoreError> {
        let new = NewUser {
            username: username.to_owned(),
            email: format!("{username}@load.test"),
            password_hash: self.hash.clone(),
            role,
            is_active: true,
            organization_id: organization,
            capabilities: CapabilitySet::EMPTY,
        };
        // The first user is the bootstrap superuser.
        let first = role == Role::Superuser;
        self.store.create_user(actor, new, first).await
    }
}
