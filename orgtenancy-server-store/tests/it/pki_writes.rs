//! Every PKI write re-checks the row it was decided on (issue 11 item 3): a write whose row no
//! longer has the facts the caller decided on is `Conflict::Changed` and writes nothing; and a
//! CA move is audited for every organization it takes rows from (item 4).

use orgtenancy_core::{OrgId, Scope, UserId};
use orgtenancy_server_store::{CertificateStatus, PkiStore};
use orgtenancy_sqlx::{AuditFilter, Conflict, SqlStore, Store, StoreError};

use crate::{
    pki::{PAGE, audit_log, ca_facts, cert_facts, new_ca, new_cert},
    support::{org, root},
};

on_both_backends!(
    writes_recheck_the_row,
    a_move_is_audited_for_every_organization
);

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
