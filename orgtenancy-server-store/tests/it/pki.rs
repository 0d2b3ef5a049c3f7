//! The resource tables (`PkiStore`): typed errors from the schema's RESTRICT references,
//! revocation, scoped lists over organization and creator, and cascading adoption, with the
//! audit entry of every change (the re-check of a decided-on row: `pki_writes`).

use chrono::Utc;
use orgtenancy_core::{OrgId, Resource, Scope, UserId};
use orgtenancy_server_store::{
    ALREADY_REVOKED, CERTIFICATE, CERTIFICATE_AUTHORITY, Certificate, CertificateAuthority,
    NewCertificate, NewCertificateAuthority, NewCertificateKey, PkiStore,
};
use orgtenancy_sqlx::{AuditFilter, Conflict, KeysetPage, Page, SqlStore, Store, StoreError};

use crate::support::{org, root};

on_both_backends!(
    restrict_and_typed_errors,
    scoped_lists_and_cascade,
    keyset_searches
);

/// The engine's facts about a CA, as a caller decides on them.
pub(crate) fn ca_facts(ca: &CertificateAuthority) -> Resource {
    Resource::new(ca.organization_id, ca.created_by_user_id)
}

/// The engine's facts about a certificate.
pub(crate) fn cert_facts(cert: &Certificate) -> Resource {
    Resource::new(cert.organization_id, cert.created_by_user_id)
}

pub(crate) const PAGE: Page = Page {
    skip: 0,
    limit: 1000,
};

/// Every audit entry, as (action, organization).
pub(crate) async fn audit_log(store: &SqlStore) -> Vec<(String, Option<OrgId>)> {
    let entries = store
        .list_audit(Scope::All, AuditFilter::default(), PAGE)
        .await
        .expect("audit log");
    entries
        .into_iter()
        .map(|entry| (entry.action, entry.organization_id))
        .collect()
}

pub(crate) fn new_ca(
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
        crl_base_url: None,
    }
}

pub(crate) fn new_cert(ca: i64, serial: &str, organization: Option<OrgId>) -> NewCertificate {
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
        san_email_addresses: vec![],
        certificate_pem: "pem".to_owned(),
        key: NewCertificateKey::Sealed(vec![4, 5, 6]),
        organization_id: organization,
        created_by_user_id: None,
        renewed_from_id: None,
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
        Err(StoreError::Conflict(ALREADY_REVOKED))
    );
    assert_eq!(
        store
            .revoke_certificate(&actor, 987_654, Resource::default(), None)
            .await,
        Err(StoreError::NotFound(CERTIFICATE))
    );
    assert_eq!(
        store.get_ca(987_654).await,
        Err(StoreError::NotFound(CERTIFICATE_AUTHORITY))
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
    let ids =
        |cas: Vec<CertificateAuthority>| -> Vec<i64> { cas.into_iter().map(|ca| ca.id).collect() };
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

/// `search_cas` and `search_certificates` (SPEC §11), followed page by page with limits 1–3,
/// return exactly the rows in both scopes, in id order — for every kind of scope, including
/// an organization-or-creator scope, which the store reads as a union of two keyset pages.
async fn keyset_searches(store: &SqlStore) {
    let actor = root();
    let acme = org(store, "acme").await;
    let globex = org(store, "globex").await;
    let orgs = [None, Some(acme.id), Some(globex.id)];
    let creators = [None, Some(UserId(7)), Some(UserId(8))];
    let mut cas = Vec::new();
    let mut certs = Vec::new();
    for n in 0..18 {
        let organization = orgs[n % 3];
        let creator = creators[(n / 3) % 3];
        let name = format!("ca{n}");
        let ca = store
            .create_ca(&actor, new_ca(&name, None, organization, creator), None)
            .await
            .expect("CA");
        let new = NewCertificate {
            created_by_user_id: creator,
            ..new_cert(ca.id, &name, organization)
        };
        let cert = store
            .create_certificate(&actor, new, ca_facts(&ca))
            .await
            .expect("certificate");
        cas.push((ca.id, ca_facts(&ca)));
        certs.push((cert.id, cert_facts(&cert)));
    }
    let scopes = [
        Scope::All,
        Scope::Nothing,
        Scope::Organization(acme.id),
        Scope::Creator(UserId(7)),
        Scope::OrganizationOrCreator {
            organization: acme.id,
            creator: UserId(7),
        },
        Scope::OrganizationOrCreator {
            organization: globex.id,
            creator: UserId(8),
        },
        Scope::CreatorInOrganization {
            organization: acme.id,
            creator: UserId(8),
        },
    ];
    for scope in scopes {
        for within in [Scope::All, scopes[4], Scope::Organization(globex.id)] {
            let expect = |rows: &[(i64, Resource)]| -> Vec<i64> {
                rows.iter()
                    .filter(|(_, facts)| scope.contains(facts) && within.contains(facts))
                    .map(|(id, _)| *id)
                    .collect()
            };
            for limit in 1..=3 {
                let mut found: (Vec<i64>, Vec<i64>) = (Vec::new(), Vec::new());
                let mut page = KeysetPage { after: None, limit };
                loop {
                    let ids: Vec<i64> = store
                        .search_cas(scope, within, page)
                        .await
                        .expect("search CAs")
                        .iter()
                        .map(|ca| ca.id)
                        .collect();
                    assert!(ids.len() <= limit as usize);
                    found.0.extend(&ids);
                    match ids.last() {
                        Some(last) if ids.len() == limit as usize => page.after = Some(*last),
                        _ => break,
                    }
                }
                let mut page = KeysetPage { after: None, limit };
                loop {
                    let ids: Vec<i64> = store
                        .search_certificates(scope, within, page)
                        .await
                        .expect("search certificates")
                        .iter()
                        .map(|cert| cert.id)
                        .collect();
                    found.1.extend(&ids);
                    match ids.last() {
                        Some(last) if ids.len() == limit as usize => page.after = Some(*last),
                        _ => break,
                    }
                }
                assert_eq!(found.0, expect(&cas), "CAs in {scope:?} within {within:?}");
                assert_eq!(
                    found.1,
                    expect(&certs),
                    "certificates in {scope:?} within {within:?}"
                );
            }
        }
    }
}
