//! Certificates whose key the server does not keep, email SANs, renewals (audited
//! `cert_renew`, naming their original) and CAs found by name inside a scope.

use orgtenancy_core::{Scope, UserId};
use orgtenancy_server_store::{
    KeySource, NO_PRIVATE_KEY, NewCertificate, NewCertificateKey, PkiStore,
};
use orgtenancy_sqlx::{SqlStore, StoreError};

use crate::{
    pki::{audit_log, ca_facts, cert_facts, new_ca, new_cert},
    support::{org, root},
};

on_both_backends!(
    keys_are_kept_only_when_sealed,
    renewals_name_their_original,
    cas_by_name_in_scope
);

fn keyless(ca: i64, serial: &str, key: NewCertificateKey) -> NewCertificate {
    NewCertificate {
        key,
        san_email_addresses: vec!["ops@example.com".to_owned(), "a@example.org".to_owned()],
        ..new_cert(ca, serial, None)
    }
}

async fn keys_are_kept_only_when_sealed(store: &SqlStore) {
    let actor = root();
    let ca = store
        .create_ca(&actor, new_ca("root", None, None, None), None)
        .await
        .expect("CA");
    let facts = ca_facts(&ca);
    for (serial, key, source) in [
        ("01", NewCertificateKey::Sealed(vec![9]), KeySource::Server),
        ("02", NewCertificateKey::NotKept, KeySource::NotKept),
        (
            "03",
            NewCertificateKey::HeldByRequester,
            KeySource::Requester,
        ),
    ] {
        let cert = store
            .create_certificate(&actor, keyless(ca.id, serial, key), facts)
            .await
            .expect("certificate");
        assert_eq!(cert.key_source, source);
        assert_eq!(
            cert.san_email_addresses,
            ["ops@example.com", "a@example.org"]
        );
        assert_eq!(store.get_certificate(cert.id).await, Ok(cert.clone()));
        let export = store
            .export_certificate_key(&actor, cert.id, cert_facts(&cert))
            .await;
        match source {
            KeySource::Server => assert_eq!(export.map(|(_, key)| key), Ok(vec![9])),
            _ => assert_eq!(export, Err(StoreError::Conflict(NO_PRIVATE_KEY))),
        }
    }
    // Only the one export that returned a key is in the log.
    let exports = audit_log(store).await;
    let count = exports
        .iter()
        .filter(|(action, _)| action == "cert_export_private_key")
        .count();
    assert_eq!(count, 1);
}

async fn renewals_name_their_original(store: &SqlStore) {
    let actor = root();
    let ca = store
        .create_ca(&actor, new_ca("root", None, None, None), None)
        .await
        .expect("CA");
    let original = store
        .create_certificate(&actor, new_cert(ca.id, "01", None), ca_facts(&ca))
        .await
        .expect("original");
    let renewal = NewCertificate {
        renewed_from_id: Some(original.id),
        ..new_cert(ca.id, "02", None)
    };
    let renewed = store
        .create_certificate(&actor, renewal, ca_facts(&ca))
        .await
        .expect("renewal");
    assert_eq!(renewed.renewed_from_id, Some(original.id));
    assert_eq!(original.renewed_from_id, None);
    let actions: Vec<String> = audit_log(store).await.into_iter().map(|(a, _)| a).collect();
    assert_eq!(actions, ["ca_create", "cert_create", "cert_renew"]);
}

async fn cas_by_name_in_scope(store: &SqlStore) {
    let actor = root();
    let acme = org(store, "acme").await;
    let globex = org(store, "globex").await;
    let mut made = Vec::new();
    for (name, organization, creator) in [
        ("Issuing", Some(acme.id), None),
        ("Issuing", Some(globex.id), Some(UserId(7))),
        ("Other", Some(acme.id), None),
        ("Issuing", Some(acme.id), None),
    ] {
        let mut new = new_ca(name, None, organization, creator);
        new.serial_number = format!("serial-{}", made.len());
        made.push(store.create_ca(&actor, new, None).await.expect("CA").id);
    }
    let ids = |cas: Vec<orgtenancy_server_store::CertificateAuthority>| {
        cas.into_iter().map(|ca| ca.id).collect::<Vec<_>>()
    };
    let found = |name: &'static str, scope: Scope| async move {
        ids(store.find_cas_by_name(name, scope).await.expect("find"))
    };
    assert_eq!(
        found("Issuing", Scope::Organization(globex.id)).await,
        [made[1]]
    );
    assert_eq!(
        found("Issuing", Scope::Organization(acme.id)).await,
        [made[0], made[3]]
    );
    assert_eq!(found("Issuing", Scope::Creator(UserId(7))).await, [made[1]]);
    // At most two: enough to tell one from several.
    assert_eq!(found("Issuing", Scope::All).await, [made[0], made[1]]);
    assert!(
        found("issuing", Scope::All).await.is_empty(),
        "names match exactly"
    );
    assert!(found("Other", Scope::Nothing).await.is_empty());
    assert!(matches!(
        store.find_cas_by_name("a\0b", Scope::All).await,
        Err(StoreError::Invalid {
            field: "ca_name",
            ..
        })
    ));
}
