//! The revoked certificates of a CA, and the CRL kept for it: a newer number replaces the
//! kept one, an older or equal one does not, and the CRL goes with its CA.

use chrono::{Duration, Utc};
use orgtenancy_server_store::{CERTIFICATE_AUTHORITY, PkiStore, PublishedCrl};
use orgtenancy_sqlx::{SqlStore, StoreError};

use crate::{
    pki::{ca_facts, cert_facts, new_ca, new_cert},
    support::root,
};

on_both_backends!(revoked_by_ca, numbers_only_grow);

async fn revoked_by_ca(store: &SqlStore) {
    let actor = root();
    let one = store
        .create_ca(&actor, new_ca("one", None, None, None), None)
        .await
        .expect("CA");
    let two = store
        .create_ca(&actor, new_ca("two", None, None, None), None)
        .await
        .expect("CA");
    let mut certs = Vec::new();
    for (ca, serial) in [(&one, "0a"), (&one, "0b"), (&two, "0c"), (&one, "0d")] {
        let cert = store
            .create_certificate(&actor, new_cert(ca.id, serial, None), ca_facts(ca))
            .await
            .expect("certificate");
        certs.push(cert);
    }
    for (index, reason) in [
        (0, Some("keyCompromise")),
        (2, None),
        (3, Some("superseded")),
    ] {
        let cert = &certs[index];
        store
            .revoke_certificate(&actor, cert.id, cert_facts(cert), reason.map(str::to_owned))
            .await
            .expect("revoke");
    }
    let revoked = store.revoked_certificates(one.id).await.expect("revoked");
    let listed: Vec<(&str, Option<&str>)> = revoked
        .iter()
        .map(|entry| (entry.serial_number.as_str(), entry.reason.as_deref()))
        .collect();
    assert_eq!(
        listed,
        [("0a", Some("keyCompromise")), ("0d", Some("superseded"))]
    );
    let stored = store.get_certificate(certs[0].id).await.expect("cert");
    assert_eq!(Some(revoked[0].revoked_at), stored.revoked_at);
    assert_eq!(
        store.revoked_certificates(two.id).await.expect("two").len(),
        1
    );
    assert_eq!(store.count_revoked(one.id).await, Ok(2));
    assert_eq!(store.count_revoked(two.id).await, Ok(1));
    assert_eq!(store.count_revoked(one.id + 100).await, Ok(0));
}

fn crl(number: i64, der: u8) -> PublishedCrl {
    let now = Utc::now();
    PublishedCrl {
        number,
        revoked_count: number * 2,
        this_update: now,
        next_update: now + Duration::days(7),
        der: vec![der; 3],
    }
}

async fn numbers_only_grow(store: &SqlStore) {
    let actor = root();
    let ca = store
        .create_ca(&actor, new_ca("root", None, None, None), None)
        .await
        .expect("CA");
    assert_eq!(store.published_crl(ca.id).await, Ok(None));
    let first = store.publish_crl(ca.id, crl(1, 1)).await.expect("first");
    assert_eq!(first.der, [1, 1, 1]);
    // Another request signed number 1 too, or an older one: the kept CRL wins.
    assert_eq!(
        store.publish_crl(ca.id, crl(1, 2)).await.map(|c| c.der),
        Ok(vec![1; 3])
    );
    let second = store.publish_crl(ca.id, crl(2, 3)).await.expect("second");
    assert_eq!(store.published_crl(ca.id).await, Ok(Some(second.clone())));
    let kept = store
        .published_crl(ca.id)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!((kept.number, kept.revoked_count), (2, 4));
    assert!((kept.this_update - second.this_update).num_seconds().abs() < 1);
    assert_eq!(
        store.publish_crl(ca.id + 100, crl(1, 1)).await,
        Err(StoreError::NotFound(CERTIFICATE_AUTHORITY))
    );
    // The CRL goes with its CA (no certificates, so the CA may go).
    store
        .delete_ca(&actor, ca.id, ca_facts(&ca))
        .await
        .expect("delete");
    assert_eq!(store.published_crl(ca.id).await, Ok(None));
}
