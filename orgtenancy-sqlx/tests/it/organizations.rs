//! Organizations and membership: CRUD, scoped lists, pagination, typed errors.

use orgtenancy_core::{OrgId, Role, Scope, UserId};
use orgtenancy_sqlx::{
    AuditFilter, Conflict, Entity, NewOrganization, OrganizationPatch, Page, SqlStore, Store,
    StoreError,
};

use crate::support::{new_user, org, root, user};

on_both_backends!(
    organization_lifecycle,
    organization_validation,
    organization_name_conflicts,
    missing_organization,
    delete_refuses_members,
    membership,
    member_pages,
    page_validation,
    scoped_organization_lists,
    ids_are_never_reused,
);

fn invalid(field: &'static str) -> impl Fn(&StoreError) -> bool {
    move |error| matches!(error, StoreError::Invalid { field: f, .. } if *f == field)
}

async fn audit_actions(store: &SqlStore, org: OrgId) -> Vec<String> {
    store
        .list_audit(
            Scope::Organization(org),
            AuditFilter::default(),
            Page {
                skip: 0,
                limit: 1000,
            },
        )
        .await
        .expect("list audit")
        .into_iter()
        .map(|entry| entry.action)
        .collect()
}

async fn organization_lifecycle(store: &SqlStore) {
    let created = store
        .create_organization(
            &root(),
            NewOrganization {
                name: "  Acme  ".into(),
                description: Some("rockets".into()),
            },
        )
        .await
        .expect("create");
    assert_eq!(created.name, "Acme", "the name is stored trimmed");
    assert_eq!(created.description.as_deref(), Some("rockets"));
    assert_eq!(created.created_at, created.updated_at);
    assert_eq!(
        store.get_organization(created.id).await.expect("get"),
        created
    );

    let renamed = store
        .update_organization(
            &root(),
            created.id,
            OrganizationPatch {
                name: Some("Acme Corp".into()),
                description: None,
            },
        )
        .await
        .expect("rename");
    assert_eq!(renamed.name, "Acme Corp");
    assert_eq!(
        renamed.description.as_deref(),
        Some("rockets"),
        "absent field unchanged"
    );
    assert!(renamed.updated_at >= created.updated_at);
    assert_eq!(renamed.created_at, created.created_at);

    let cleared = store
        .update_organization(
            &root(),
            created.id,
            OrganizationPatch {
                name: None,
                description: Some(None),
            },
        )
        .await
        .expect("clear description");
    assert_eq!(cleared.description, None);
    assert_eq!(cleared.name, "Acme Corp");
    assert_eq!(
        store.get_organization(created.id).await.expect("get"),
        cleared
    );

    let all = store
        .list_organizations(Scope::All, Page::default())
        .await
        .expect("list");
    assert_eq!(all, vec![cleared.clone()]);

    store
        .delete_organization(&root(), created.id)
        .await
        .expect("delete");
    assert_eq!(
        store.get_organization(created.id).await,
        Err(StoreError::NotFound(Entity::Organization))
    );
    assert_eq!(
        audit_actions(store, created.id).await,
        ["org_create", "org_update", "org_update", "org_delete"]
    );
    let entries = store
        .list_audit(Scope::All, AuditFilter::default(), Page::default())
        .await
        .expect("audit");
    let first = entries.first().expect("an entry");
    assert_eq!(first.username.as_deref(), Some("root"));
    assert_eq!(first.resource_type.as_deref(), Some("organization"));
    assert_eq!(first.resource_id, Some(created.id.to_string()));
    assert_eq!(first.organization_id, Some(created.id));
    assert_eq!(first.detail.as_deref(), Some("Acme"));
}

async fn organization_validation(store: &SqlStore) {
    let actor = root();
    let create = |name: String, description: Option<String>| {
        store.create_organization(&actor, NewOrganization { name, description })
    };
    for name in ["", "   ", "\t\n"] {
        let error = create(name.into(), None).await.expect_err("blank name");
        assert!(invalid("name")(&error), "{error:?}");
    }
    let error = create("n".repeat(256), None).await.expect_err("long name");
    assert!(invalid("name")(&error), "{error:?}");
    // 255 characters of a multi-byte letter: characters count, not bytes.
    let longest = create("é".repeat(255), None).await.expect("255 characters");
    assert_eq!(longest.name.chars().count(), 255);
    let error = create("d".into(), Some("x".repeat(4097)))
        .await
        .expect_err("long description");
    assert!(invalid("description")(&error), "{error:?}");
    create("d".into(), Some("x".repeat(4096)))
        .await
        .expect("4096 characters");

    let error = store
        .update_organization(
            &root(),
            longest.id,
            OrganizationPatch {
                name: Some(" ".into()),
                description: None,
            },
        )
        .await
        .expect_err("blank rename");
    assert!(invalid("name")(&error), "{error:?}");
    let error = store
        .update_organization(
            &root(),
            longest.id,
            OrganizationPatch {
                name: None,
                description: Some(Some("y".repeat(4097))),
            },
        )
        .await
        .expect_err("long description");
    assert!(invalid("description")(&error), "{error:?}");
    // Nothing invalid was written or audited.
    assert_eq!(audit_actions(store, longest.id).await, ["org_create"]);
}

async fn organization_name_conflicts(store: &SqlStore) {
    let acme = org(store, "acme").await;
    let globex = org(store, "globex").await;
    let duplicate = NewOrganization {
        name: " acme ".into(),
        description: None,
    };
    assert_eq!(
        store.create_organization(&root(), duplicate).await,
        Err(StoreError::Conflict(Conflict::OrganizationName))
    );
    assert_eq!(
        store
            .update_organization(
                &root(),
                globex.id,
                OrganizationPatch {
                    name: Some("acme".into()),
                    description: None
                },
            )
            .await,
        Err(StoreError::Conflict(Conflict::OrganizationName))
    );
    // Renaming to its own name is not a conflict.
    store
        .update_organization(
            &root(),
            acme.id,
            OrganizationPatch {
                name: Some("acme".into()),
                description: None,
            },
        )
        .await
        .expect("same name");
    // Names are compared exactly.
    org(store, "ACME").await;
    assert_eq!(audit_actions(store, globex.id).await, ["org_create"]);
}

async fn missing_organization(store: &SqlStore) {
    let missing = OrgId(4242);
    let not_found = Err(StoreError::NotFound(Entity::Organization));
    assert_eq!(store.get_organization(missing).await, not_found);
    assert_eq!(
        store
            .update_organization(&root(), missing, OrganizationPatch::default())
            .await,
        not_found
    );
    assert_eq!(
        store.delete_organization(&root(), missing).await,
        Err(StoreError::NotFound(Entity::Organization))
    );
    assert_eq!(
        store.list_members(missing, Page::default()).await,
        Ok(vec![])
    );
    let bob = user(store, "bob", None).await;
    assert_eq!(
        store.add_member(&root(), missing, bob.id).await,
        Err(StoreError::Conflict(Conflict::MissingOrganization))
    );
    assert_eq!(
        store.remove_member(&root(), missing, bob.id).await,
        Err(StoreError::NotFound(Entity::User))
    );
    let entries = store
        .list_audit(Scope::All, AuditFilter::default(), Page::default())
        .await
        .expect("audit");
    assert_eq!(
        entries.len(),
        1,
        "only the user's creation is audited: {entries:?}"
    );
}

async fn delete_refuses_members(store: &SqlStore) {
    let acme = org(store, "acme").await;
    let bob = user(store, "bob", Some(acme.id)).await;
    assert_eq!(
        store.delete_organization(&root(), acme.id).await,
        Err(StoreError::Conflict(Conflict::OrganizationNotEmpty))
    );
    assert_eq!(
        store.get_organization(acme.id).await.expect("still there"),
        acme
    );
    store
        .remove_member(&root(), acme.id, bob.id)
        .await
        .expect("remove");
    store
        .delete_organization(&root(), acme.id)
        .await
        .expect("delete once empty");
    assert_eq!(
        audit_actions(store, acme.id).await,
        ["org_create", "user_create", "org_remove_user", "org_delete"]
    );
}

async fn membership(store: &SqlStore) {
    let acme = org(store, "acme").await;
    let globex = org(store, "globex").await;
    let bob = user(store, "bob", None).await;

    let added = store
        .add_member(&root(), acme.id, bob.id)
        .await
        .expect("add");
    assert_eq!(added.organization_id, Some(acme.id));
    assert!(added.updated_at >= bob.updated_at);
    assert_eq!(store.get_user(bob.id).await.expect("get"), added);
    assert_eq!(
        store.list_members(acme.id, Page::default()).await,
        Ok(vec![added.clone()])
    );

    // Adding moves a user between organizations (who may do that is the engine's business).
    let moved = store
        .add_member(&root(), globex.id, bob.id)
        .await
        .expect("move");
    assert_eq!(moved.organization_id, Some(globex.id));
    assert_eq!(
        store.list_members(acme.id, Page::default()).await,
        Ok(vec![])
    );

    assert_eq!(
        store.remove_member(&root(), acme.id, bob.id).await,
        Err(StoreError::NotFound(Entity::User)),
        "not a member of acme"
    );
    let removed = store
        .remove_member(&root(), globex.id, bob.id)
        .await
        .expect("remove");
    assert_eq!(removed.organization_id, None);
    assert_eq!(
        store.add_member(&root(), acme.id, UserId(999)).await,
        Err(StoreError::NotFound(Entity::User))
    );
    assert_eq!(
        store.remove_member(&root(), acme.id, UserId(999)).await,
        Err(StoreError::NotFound(Entity::User))
    );

    // Each organization's admins see the entries about it.
    assert_eq!(
        audit_actions(store, acme.id).await,
        ["org_create", "org_add_user"]
    );
    assert_eq!(
        audit_actions(store, globex.id).await,
        ["org_create", "org_add_user", "org_remove_user"]
    );
    let entry = store
        .list_audit(
            Scope::Organization(globex.id),
            AuditFilter {
                action: Some("org_remove_user".into()),
                ..AuditFilter::default()
            },
            Page::default(),
        )
        .await
        .expect("audit");
    let entry = entry.first().expect("one entry");
    assert_eq!(entry.resource_type.as_deref(), Some("user"));
    assert_eq!(entry.resource_id, Some(bob.id.to_string()));
    assert_eq!(entry.detail.as_deref(), Some("bob"));
}

async fn member_pages(store: &SqlStore) {
    let acme = org(store, "acme").await;
    let other = org(store, "other").await;
    let mut members = Vec::new();
    for i in 0..7 {
        members.push(user(store, &format!("m{i}"), Some(acme.id)).await);
        user(store, &format!("o{i}"), Some(other.id)).await;
    }
    user(store, "loner", None).await;
    let mut seen = Vec::new();
    for skip in (0..8).step_by(3) {
        let page = store
            .list_members(acme.id, Page { skip, limit: 3 })
            .await
            .expect("page");
        assert!(page.len() <= 3);
        seen.extend(page);
    }
    assert_eq!(seen, members, "pages in id order, each member once");
    assert_eq!(
        store
            .list_members(acme.id, Page { skip: 7, limit: 3 })
            .await,
        Ok(vec![])
    );
    let all = store
        .list_users(Page {
            skip: 0,
            limit: 1000,
        })
        .await
        .expect("all users");
    assert_eq!(all.len(), 15);
    assert!(
        all.windows(2).all(|w| w[0].id < w[1].id),
        "users in id order"
    );
    let second = store
        .list_users(Page { skip: 1, limit: 2 })
        .await
        .expect("page");
    assert_eq!(second, all[1..3].to_vec());
}

async fn page_validation(store: &SqlStore) {
    let acme = org(store, "acme").await;
    for (page, field) in [
        (Page { skip: 0, limit: 0 }, "limit"),
        (
            Page {
                skip: 0,
                limit: 1001,
            },
            "limit",
        ),
        (
            Page {
                skip: u64::MAX,
                limit: 10,
            },
            "skip",
        ),
    ] {
        let is = invalid(field);
        assert!(is(&store
            .list_organizations(Scope::All, page)
            .await
            .expect_err("orgs")));
        assert!(is(&store
            .list_members(acme.id, page)
            .await
            .expect_err("members")));
        assert!(is(&store.list_users(page).await.expect_err("users")));
        assert!(is(&store
            .list_audit(Scope::All, AuditFilter::default(), page)
            .await
            .expect_err("audit")));
    }
    for limit in [1, 1000] {
        store
            .list_users(Page { skip: 0, limit })
            .await
            .expect("limit in range");
    }
    assert_eq!(
        store
            .list_organizations(
                Scope::All,
                Page {
                    skip: i64::MAX as u64,
                    limit: 1
                }
            )
            .await,
        Ok(vec![])
    );
}

async fn scoped_organization_lists(store: &SqlStore) {
    let a = org(store, "a").await;
    let b = org(store, "b").await;
    let c = org(store, "c").await;
    let list = async |scope| {
        store
            .list_organizations(scope, Page::default())
            .await
            .expect("list")
    };
    assert_eq!(
        list(Scope::All).await,
        vec![a.clone(), b.clone(), c.clone()]
    );
    assert_eq!(list(Scope::Organization(b.id)).await, vec![b.clone()]);
    // The organizations table has no creator column: the creator part matches nothing.
    assert_eq!(
        list(Scope::OrganizationOrCreator {
            organization: c.id,
            creator: UserId(a.id.0)
        })
        .await,
        vec![c.clone()]
    );
    assert_eq!(list(Scope::Creator(UserId(a.id.0))).await, vec![]);
    assert_eq!(list(Scope::Nothing).await, vec![]);
    assert_eq!(list(Scope::Organization(OrgId(999))).await, vec![]);
    let page = store
        .list_organizations(Scope::All, Page { skip: 1, limit: 1 })
        .await;
    assert_eq!(page, Ok(vec![b]));
}

async fn ids_are_never_reused(store: &SqlStore) {
    let first = org(store, "first").await;
    let bob = user(store, "bob", None).await;
    store
        .delete_organization(&root(), first.id)
        .await
        .expect("delete org");
    store
        .delete_user(&root(), bob.id)
        .await
        .expect("delete user");
    let second = org(store, "second").await;
    let carol = store
        .create_user(&root(), new_user("carol", Role::User, None), false)
        .await
        .expect("create");
    assert!(
        second.id > first.id,
        "organization id reused: {second:?} after {first:?}"
    );
    assert!(carol.id > bob.id, "user id reused: {carol:?} after {bob:?}");
}
