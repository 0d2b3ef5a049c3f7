//! The resource tables (`PkiStore`): typed errors from the schema's RESTRICT references,
//! revocation, scoped lists over organization and creator, and cascading adoption, with the
//! audit entry of every change; every write re-checks the row it was decided on.

use chrono::Utc;
use orgtenancy_core::{OrgId, Resource, Scope, UserId};
use orgtenancy_sqlx::{
    AuditFilter, Certificate, CertificateAuthority, CertificateStatus, Conflict, Entity,
    NewCertificate, NewCertificateAuthority, Page, PkiStore, SqlStore, Store, StoreError,
};

use crate::support::{org, root};

on_both_backends!(
    restrict_and_typed_errors,
    scoped_lists_and_cascade,
    writes_recheck_the_row,
    a_move_is_audited_for_every_organization,
);

/// The engine's facts about a CA, as a caller decides on them.
fn ca_facts(ca: &CertificateAuthority) -> Resource {
    Resource::new(ca.organization_id, ca.created_by_user_id)
}

/// The engine's facts about a certificate.
fn cert_facts(cert: &Certificate) -> Resource {
    Resource::new(cert.organization_id, cert.created_by_user_id)
}

const PAGE: Page = Page {
    skip: 0,
    limit: 1000,
};

/// Every audit entry, as (action, organization).
async fn audit_log(store: &SqlStore) -> Vec<(String, Option<OrgId>)> {
    let entries = store
        .list_audit(Scope::All, AuditFilter::default(), PAGE)
        .await
        .expect("audit log");
    entries
        .into_iter()
        .map(|entry| (entry.action, entry.organization_id))
        .collect()
}

fn new_ca(
    name: &str,
    parent: Option<i64>,
    organization: Option<OrgId>,
    creator: Option<UserId>,
) -> NewCertificateAuthority {
    NewCertificateAuthority {
        name: name.to_owned(),
        description: None,
        subject_dn: format!("CN={name}"),
        key_type: "ec".to_owned(),
        key_size: 256,
        valid_days: 10,
        parent_ca_id: parent,
        path_length: None,
        allow_leaf_certs: true,
        serial_number: format!("serial-{name}"),
        certificate_pem: "pem".to_owned(),
        encrypted_private_key: vec![1, 2, 3],
        not_before: Utc::now(),
        not_after: Utc::now(),
        organization_id: organization,
        created_by_user_id: creator,
    }
}

fn new_cert(ca: i64, serial: &str, organization: Option<OrgId>) -> NewCertificate {
    NewCertificate {
        ca_id: ca,
        common_name: "host".to_owned(),
        subject_dn: "CN=host".to_owned(),
        certificate_type: "server".to_owned(),
        serial_number: serial.to_owned(),
        key_type: "ec".to_owned(),
        key_size: 256,
        valid_days: 10,
        not_before: Utc::now(),
        not_after: Utc::now(),
        san_dns_names: vec!["host".to_owned()],
        san_ip_addresses: vec![],
        certificate_pem: "pem".to_owned(),
        encrypted_private_key: vec![4, 5, 6],
        organization_id: organization,
        created_by_user_id: None,
    }
}

async fn restrict_and_typed_errors(store: &SqlStore) {
    let actor = root();
    let acme = org(store, "acme").await;
    let ca = store
        .create_ca(&actor, new_ca("root", None, Some(acme.id), None), None)
        .await
        .expect("create CA");
    // Serial numbers are unique per issuer.
    let duplicate = store
        .create_ca(&actor, new_ca("root", None, Some(acme.id), None), None)
        .await;
    assert_eq!(duplicate, Err(StoreError::Conflict(Conflict::Other)));
    let cert = store
        .create_certificate(&actor, new_cert(ca.id, "01", Some(acme.id)), ca_facts(&ca))
        .await
        .expect("create certificate");
    assert_eq!(
        store
            .create_certificate(&actor, new_cert(ca.id, "01", Some(acme.id)), ca_facts(&ca))
            .await,
        Err(StoreError::Conflict(Conflict::Other))
    );
    // An organization owning resources cannot be deleted; a CA with certificates neither.
    assert_eq!(
        store.delete_organization(&actor, acme.id).await,
        Err(StoreError::Conflict(Conflict::OrganizationNotEmpty))
    );
    assert_eq!(
        store.delete_ca(&actor, ca.id, ca_facts(&ca)).await,
        Err(StoreError::Conflict(Conflict::HasDependents))
    );
    let revoked = store
        .revoke_certificate(&actor, cert.id, cert_facts(&cert), Some("gone".to_owned()))
        .await
        .expect("revoke");
    assert_eq!(revoked.revocation_reason.as_deref(), Some("gone"));
    assert_eq!(
        store
            .revoke_certificate(&actor, cert.id, cert_facts(&cert), None)
            .await,
        Err(StoreError::Conflict(Conflict::AlreadyRevoked))
    );
    assert_eq!(
        store
            .revoke_certificate(&actor, 987_654, Resource::default(), None)
            .await,
        Err(StoreError::NotFound(Entity::Certificate))
    );
    assert_eq!(
        store.get_ca(987_654).await,
        Err(StoreError::NotFound(Entity::CertificateAuthority))
    );
    assert_eq!(
        store
            .assign_ca_organization(&actor, ca.id, OrgId(987_654), false)
            .await
            .map(|_| ()),
        Err(StoreError::Conflict(Conflict::MissingOrganization))
    );
    let (_, key) = store
        .export_ca_key(&actor, ca.id, ca_facts(&ca))
        .await
        .expect("export");
    assert_eq!(key, vec![1, 2, 3]);
    let spare = store
        .create_ca(&actor, new_ca("spare", None, Some(acme.id), None), None)
        .await
        .expect("create CA");
    store
        .delete_ca(&actor, spare.id, ca_facts(&spare))
        .await
        .expect("delete CA");
}

async fn scoped_lists_and_cascade(store: &SqlStore) {
    let actor = root();
    let acme = org(store, "acme").await;
    let globex = org(store, "globex").await;
    let r = store
        .create_ca(&actor, new_ca("r", None, None, Some(UserId(7))), None)
        .await
        .expect("r");
    let i = store
        .create_ca(
            &actor,
            new_ca("i", Some(r.id), None, None),
            Some(ca_facts(&r)),
        )
        .await
        .expect("i");
    let other = store
        .create_ca(&actor, new_ca("other", None, Some(globex.id), None), None)
        .await
        .expect("other");
    let cert_r = store
        .create_certificate(&actor, new_cert(r.id, "r1", None), ca_facts(&r))
        .await
        .expect("cert r");
    let cert_i = store
        .create_certificate(&actor, new_cert(i.id, "i1", None), ca_facts(&i))
        .await
        .expect("cert i");
    let page = Page {
        skip: 0,
        limit: 100,
    };
    let ids = |cas: Vec<orgtenancy_sqlx::CertificateAuthority>| -> Vec<i64> {
        cas.into_iter().map(|ca| ca.id).collect()
    };
    let creator = Scope::OrganizationOrCreator {
        organization: acme.id,
        creator: UserId(7),
    };
    assert_eq!(
        ids(store.list_cas(creator, page).await.expect("list")),
        vec![r.id]
    );
    assert_eq!(
        ids(store
            .list_cas(Scope::Organization(globex.id), page)
            .await
            .expect("list")),
        vec![other.id]
    );
    assert_eq!(
        ids(store.list_cas(Scope::All, page).await.expect("list")),
        vec![r.id, i.id, other.id]
    );
    assert!(
        store
            .list_cas(Scope::Nothing, page)
            .await
            .expect("list")
            .is_empty()
    );
    // Cascade: r, i and both certificates; `other` stays.
    let (moved, adoption) = store
        .assign_ca_organization(&actor, r.id, acme.id, true)
        .await
        .expect("adopt");
    assert_eq!(moved.organization_id, Some(acme.id));
    assert_eq!((adoption.cas, adoption.certificates), (2, 2));
    for id in [cert_r.id, cert_i.id] {
        let cert = store.get_certificate(id).await.expect("certificate");
        assert_eq!(cert.organization_id, Some(acme.id));
    }
    assert_eq!(
        store.get_ca(other.id).await.expect("other").organization_id,
        Some(globex.id)
    );
    let audit = store
        .list_audit(
            Scope::Organization(acme.id),
            orgtenancy_sqlx::AuditFilter {
                action: Some("ca_assign_org".to_owned()),
                ..Default::default()
            },
            page,
        )
        .await
        .expect("audit");
    assert_eq!(audit.len(), 1);
}

/// A write whose row no longer has the facts it was decided on (here: its tree moved from
/// acme to globex) is `Conflict::Changed` and writes nothing, not even an audit entry; with
/// the row's current facts it goes through.
async fn writes_recheck_the_row(store: &SqlStore) {
    let actor = root();
    let acme = org(store, "acme").await;
    let globex = org(store, "globex").await;
    let creator = Some(UserId(7));
    let ca = store
        .create_ca(&actor, new_ca("ca", None, Some(acme.id), creator), None)
        .await
        .expect("CA");
    let spare = store
        .create_ca(
            &actor,
            new_ca("spare", Some(ca.id), Some(acme.id), creator),
            Some(ca_facts(&ca)),
        )
        .await
        .expect("spare CA");
    let cert = store
        .create_certificate(&actor, new_cert(ca.id, "c1", Some(acme.id)), ca_facts(&ca))
        .await
        .expect("certificate");
    let (seen_ca, seen_spare, seen_cert) = (ca_facts(&ca), ca_facts(&spare), cert_facts(&cert));
    store
        .assign_ca_organization(&actor, ca.id, globex.id, true)
        .await
        .expect("move the tree");
    let before = audit_log(store).await;
    let changed = Some(StoreError::Conflict(Conflict::Changed));
    assert_eq!(
        store
            .revoke_certificate(&actor, cert.id, seen_cert, None)
            .await
            .err(),
        changed
    );
    assert_eq!(
        store
            .export_certificate_key(&actor, cert.id, seen_cert)
            .await
            .err(),
        changed
    );
    assert_eq!(
        store.export_ca_key(&actor, ca.id, seen_ca).await.err(),
        changed
    );
    assert_eq!(
        store.delete_ca(&actor, spare.id, seen_spare).await.err(),
        changed
    );
    assert_eq!(
        store
            .create_certificate(&actor, new_cert(ca.id, "c2", Some(acme.id)), seen_ca)
            .await
            .err(),
        changed
    );
    assert_eq!(
        store
            .create_ca(
                &actor,
                new_ca("late", Some(ca.id), Some(acme.id), creator),
                Some(seen_ca)
            )
            .await
            .err(),
        changed
    );
    // A parent without the facts decided on is refused outright.
    assert!(matches!(
        store
            .create_ca(
                &actor,
                new_ca("blind", Some(ca.id), Some(acme.id), creator),
                None
            )
            .await,
        Err(StoreError::Invalid {
            field: "parent_ca_id",
            ..
        })
    ));
    // Nothing was written.
    assert_eq!(
        audit_log(store).await,
        before,
        "a refused write left an audit entry"
    );
    let kept = store.get_certificate(cert.id).await.expect("certificate");
    assert_eq!(kept.status, CertificateStatus::Valid);
    store
        .get_ca(spare.id)
        .await
        .expect("the spare CA is still there");
    let cas = store.list_cas(Scope::All, PAGE).await.expect("CAs");
    assert_eq!(cas.len(), 2, "no CA was created");
    let certs = store
        .list_certificates(Scope::All, Default::default(), PAGE)
        .await
        .expect("certificates");
    assert_eq!(certs.len(), 1, "no certificate was issued");
    // With the facts as they are now, every write goes through.
    let moved_cert = store.get_certificate(cert.id).await.expect("certificate");
    let moved_ca = store.get_ca(ca.id).await.expect("CA");
    let moved_spare = store.get_ca(spare.id).await.expect("spare");
    let (_, key) = store
        .export_certificate_key(&actor, cert.id, cert_facts(&moved_cert))
        .await
        .expect("export the certificate key");
    assert_eq!(key, vec![4, 5, 6]);
    let (_, key) = store
        .export_ca_key(&actor, ca.id, ca_facts(&moved_ca))
        .await
        .expect("export the CA key");
    assert_eq!(key, vec![1, 2, 3]);
    store
        .revoke_certificate(&actor, cert.id, cert_facts(&moved_cert), None)
        .await
        .expect("revoke");
    store
        .delete_ca(&actor, spare.id, ca_facts(&moved_spare))
        .await
        .expect("delete");
    store
        .create_certificate(
            &actor,
            new_cert(ca.id, "c3", Some(globex.id)),
            ca_facts(&moved_ca),
        )
        .await
        .expect("issue");
    let actions: Vec<String> = audit_log(store).await[before.len()..]
        .iter()
        .map(|(action, _)| action.clone())
        .collect();
    assert_eq!(
        actions,
        [
            "cert_export_private_key",
            "ca_export_private_key",
            "cert_revoke",
            "ca_delete",
            "cert_create"
        ]
    );
}

/// Moving a tree writes one `ca_assign_org` entry for the target organization and one for each
/// organization a moved row belonged to, in the move's transaction; a move within one
/// organization writes one.
async fn a_move_is_audited_for_every_organization(store: &SqlStore) {
    let actor = root();
    let acme = org(store, "acme").await;
    let globex = org(store, "globex").await;
    let initech = org(store, "initech").await;
    let r = store
        .create_ca(&actor, new_ca("r", None, Some(acme.id), None), None)
        .await
        .expect("r");
    let i = store
        .create_ca(
            &actor,
            new_ca("i", Some(r.id), Some(acme.id), None),
            Some(ca_facts(&r)),
        )
        .await
        .expect("i");
    store
        .create_certificate(&actor, new_cert(i.id, "i1", Some(acme.id)), ca_facts(&i))
        .await
        .expect("certificate");
    // Without cascade, i alone leaves acme for initech.
    let start = audit_log(store).await.len();
    store
        .assign_ca_organization(&actor, i.id, initech.id, false)
        .await
        .expect("move i");
    // With cascade, r (acme), i (initech) and i's certificate (acme) go to globex.
    let (_, adoption) = store
        .assign_ca_organization(&actor, r.id, globex.id, true)
        .await
        .expect("move r");
    assert_eq!((adoption.cas, adoption.certificates), (2, 1));
    // Within globex: one entry.
    store
        .assign_ca_organization(&actor, r.id, globex.id, true)
        .await
        .expect("move r again");
    let entries = audit_log(store).await;
    let assign = |org: OrgId| ("ca_assign_org".to_owned(), Some(org));
    assert_eq!(
        entries[start..],
        [
            assign(initech.id),
            assign(acme.id),
            assign(globex.id),
            assign(acme.id),
            assign(initech.id),
            assign(globex.id),
        ]
    );
    for (org, count) in [(acme.id, 2), (globex.id, 2), (initech.id, 2)] {
        let seen = store
            .list_audit(
                Scope::Organization(org),
                AuditFilter {
                    action: Some("ca_assign_org".to_owned()),
                    ..Default::default()
                },
                PAGE,
            )
            .await
            .expect("audit");
        assert_eq!(seen.len(), count, "entries of organization {org}");
    }
}
