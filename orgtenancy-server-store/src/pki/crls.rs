//! Revocation lists: the revoked certificates of a CA, and the CRL last signed for it.
//!
//! A CRL is derived data (the revocations it lists are audited when they happen), so it is
//! kept through an [`UnauditedTx`](orgtenancy_sqlx::statement::UnauditedTx), like a cache.
//! Its number only grows: a CRL is kept only when its number is greater than the kept one's,
//! so two requests that sign at once keep one of them and both serve the one kept.

use chrono::{DateTime, Utc};
use orgtenancy_sqlx::{SqlStore, StoreError, StoreResult, statement::Sql};

use super::{PublishedCrl, RevokedCertificate};
use crate::CERTIFICATE_AUTHORITY;

const CRL_COLUMNS: &str = "crl_number, revoked_count, this_update, next_update, crl_der";

type CrlRow = (i64, i64, DateTime<Utc>, DateTime<Utc>, Vec<u8>);

fn published((number, revoked_count, this_update, next_update, der): CrlRow) -> PublishedCrl {
    PublishedCrl {
        number,
        revoked_count,
        this_update,
        next_update,
        der,
    }
}

fn select_crl(ca_id: i64) -> Sql {
    let mut sql = Sql::new("SELECT ");
    sql.push(CRL_COLUMNS)
        .push(" FROM certificate_revocation_lists WHERE ca_id = ")
        .bind(ca_id);
    sql
}

pub(super) async fn count_revoked(store: &SqlStore, ca_id: i64) -> StoreResult<i64> {
    // Over the partial index of revoked certificates by CA, as `revoked`.
    let mut sql =
        Sql::new("SELECT count(*) FROM certificates WHERE status = 'revoked' AND ca_id = ");
    sql.bind(ca_id);
    let (count,): (i64,) = store.read().await?.fetch_one(sql).await?;
    Ok(count)
}

pub(super) async fn revoked(store: &SqlStore, ca_id: i64) -> StoreResult<Vec<RevokedCertificate>> {
    // Over the partial index of revoked certificates by CA.
    let mut sql = Sql::new(
        "SELECT serial_number, revoked_at, revocation_reason FROM certificates \
         WHERE status = 'revoked' AND ca_id = ",
    );
    sql.bind(ca_id).push(" ORDER BY id");
    let rows: Vec<(String, Option<DateTime<Utc>>, Option<String>)> =
        store.read().await?.fetch_all(sql).await?;
    rows.into_iter()
        .map(|(serial_number, revoked_at, reason)| {
            let Some(revoked_at) = revoked_at else {
                tracing::error!(ca_id, "corrupt row: revoked without a time");
                return Err(StoreError::Internal);
            };
            Ok(RevokedCertificate {
                serial_number,
                revoked_at,
                reason,
            })
        })
        .collect()
}

pub(super) async fn current(store: &SqlStore, ca_id: i64) -> StoreResult<Option<PublishedCrl>> {
    let row: Option<CrlRow> = store
        .read()
        .await?
        .fetch_optional(select_crl(ca_id))
        .await?;
    Ok(row.map(published))
}

pub(super) async fn publish(
    store: &SqlStore,
    ca_id: i64,
    crl: PublishedCrl,
) -> StoreResult<PublishedCrl> {
    let mut tx = store.begin_unaudited().await?;
    let mut lock = Sql::new("SELECT id FROM certificate_authorities WHERE id = ");
    lock.bind(ca_id).for_update();
    let ca: Option<(i64,)> = tx.fetch_optional(lock).await?;
    if ca.is_none() {
        return Err(StoreError::NotFound(CERTIFICATE_AUTHORITY));
    }
    let kept: Option<CrlRow> = tx.fetch_optional(select_crl(ca_id)).await?;
    if let Some(kept) = kept.map(published)
        && kept.number >= crl.number
    {
        tx.rollback().await?;
        return Ok(kept);
    }
    let mut upsert = Sql::new("DELETE FROM certificate_revocation_lists WHERE ca_id = ");
    upsert.bind(ca_id);
    tx.execute(upsert).await?;
    let mut insert = Sql::new("INSERT INTO certificate_revocation_lists (ca_id, ");
    insert
        .push(CRL_COLUMNS)
        .push(") VALUES (")
        .bind(ca_id)
        .push(", ")
        .bind(crl.number)
        .push(", ");
    insert
        .bind(crl.revoked_count)
        .push(", ")
        .bind(crl.this_update)
        .push(", ");
    insert
        .bind(crl.next_update)
        .push(", ")
        .bind(crl.der)
        .push(")");
    tx.execute(insert).await?;
    // As stored (PostgreSQL keeps microseconds).
    let kept: CrlRow = tx.fetch_one(select_crl(ca_id)).await?;
    tx.commit().await?;
    Ok(published(kept))
}
