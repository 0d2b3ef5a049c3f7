//! [`PkiStore`] on [`SqlStore`]: the reads here, the writes in [`super::cas`] and
//! [`super::certificates`].

use async_trait::async_trait;
use orgtenancy_core::{OrgId, Resource, Scope};

use orgtenancy_sqlx::{
    Actor, KeysetPage, Page, SqlStore, StoreError, StoreResult, statement::Sql, validate,
};

use super::{
    Adoption, Certificate, CertificateAuthority, CertificateFilter, NewCertificate,
    NewCertificateAuthority, PkiStore, PublishedCrl, RevokedCertificate, cas, certificates, crls,
    rows::{CA_COLUMNS, CERT_COLUMNS, CaRow, CertRow, select_ca, select_cert},
};
use crate::{CERTIFICATE, CERTIFICATE_AUTHORITY};

#[async_trait]
impl PkiStore for SqlStore {
    async fn create_ca(
        &self,
        actor: &Actor,
        new: NewCertificateAuthority,
        parent_expected: Option<Resource>,
    ) -> StoreResult<CertificateAuthority> {
        cas::create(self, actor, new, parent_expected).await
    }

    async fn get_ca(&self, id: i64) -> StoreResult<CertificateAuthority> {
        let row: Option<CaRow> = self.read().await?.fetch_optional(select_ca(id)).await?;
        row.map(CertificateAuthority::from)
            .ok_or(StoreError::NotFound(CERTIFICATE_AUTHORITY))
    }

    async fn ca_signing_key(&self, id: i64) -> StoreResult<Vec<u8>> {
        let mut sql =
            Sql::new("SELECT encrypted_private_key FROM certificate_authorities WHERE id = ");
        sql.bind(id);
        let row: Option<(Vec<u8>,)> = self.read().await?.fetch_optional(sql).await?;
        row.map(|(key,)| key)
            .ok_or(StoreError::NotFound(CERTIFICATE_AUTHORITY))
    }

    async fn export_ca_key(
        &self,
        actor: &Actor,
        id: i64,
        expected: Resource,
    ) -> StoreResult<(CertificateAuthority, Vec<u8>)> {
        cas::export_key(self, actor, id, expected).await
    }

    async fn list_cas(&self, scope: Scope, page: Page) -> StoreResult<Vec<CertificateAuthority>> {
        let (limit, offset) = validate::page(page)?;
        let mut sql = Sql::new("SELECT ");
        sql.push(CA_COLUMNS)
            .push(" FROM certificate_authorities WHERE ")
            .scope(scope, "organization_id", Some("created_by_user_id"))
            .push(" ORDER BY id LIMIT ")
            .bind(limit)
            .push(" OFFSET ")
            .bind(offset);
        let rows: Vec<CaRow> = self.read().await?.fetch_all(sql).await?;
        Ok(rows.into_iter().map(CertificateAuthority::from).collect())
    }

    async fn search_cas(
        &self,
        scope: Scope,
        within: Scope,
        page: KeysetPage,
    ) -> StoreResult<Vec<CertificateAuthority>> {
        let page = validate::keyset_page(page)?;
        let mut sql = Sql::new("SELECT ");
        sql.push(CA_COLUMNS)
            .push(" FROM certificate_authorities WHERE ")
            .scoped_keyset(
                "certificate_authorities",
                (scope, within),
                "organization_id",
                Some("created_by_user_id"),
                page,
            );
        let rows: Vec<CaRow> = self.read().await?.fetch_all(sql).await?;
        Ok(rows.into_iter().map(CertificateAuthority::from).collect())
    }

    async fn find_cas_by_name(
        &self,
        name: &str,
        scope: Scope,
    ) -> StoreResult<Vec<CertificateAuthority>> {
        validate::text("ca_name", name)?;
        let mut sql = Sql::new("SELECT ");
        sql.push(CA_COLUMNS)
            .push(" FROM certificate_authorities WHERE name = ")
            .bind(name)
            .push(" AND ")
            .scope(scope, "organization_id", Some("created_by_user_id"))
            .push(" ORDER BY id LIMIT 2");
        let rows: Vec<CaRow> = self.read().await?.fetch_all(sql).await?;
        Ok(rows.into_iter().map(CertificateAuthority::from).collect())
    }

    async fn list_child_cas(
        &self,
        parent: i64,
        scope: Scope,
        page: Page,
    ) -> StoreResult<Vec<CertificateAuthority>> {
        let (limit, offset) = validate::page(page)?;
        let mut sql = Sql::new("SELECT ");
        sql.push(CA_COLUMNS)
            .push(" FROM certificate_authorities WHERE parent_ca_id = ")
            .bind(parent)
            .push(" AND ")
            .scope(scope, "organization_id", Some("created_by_user_id"))
            .push(" ORDER BY id LIMIT ")
            .bind(limit)
            .push(" OFFSET ")
            .bind(offset);
        let rows: Vec<CaRow> = self.read().await?.fetch_all(sql).await?;
        Ok(rows.into_iter().map(CertificateAuthority::from).collect())
    }

    async fn delete_ca(&self, actor: &Actor, id: i64, expected: Resource) -> StoreResult<()> {
        cas::delete(self, actor, id, expected).await
    }

    async fn assign_ca_organization(
        &self,
        actor: &Actor,
        id: i64,
        organization: OrgId,
        cascade: bool,
    ) -> StoreResult<(CertificateAuthority, Adoption)> {
        cas::assign_organization(self, actor, id, organization, cascade).await
    }

    async fn create_certificate(
        &self,
        actor: &Actor,
        new: NewCertificate,
        issuer_expected: Resource,
    ) -> StoreResult<Certificate> {
        certificates::create(self, actor, new, issuer_expected).await
    }

    async fn get_certificate(&self, id: i64) -> StoreResult<Certificate> {
        let row: Option<CertRow> = self.read().await?.fetch_optional(select_cert(id)).await?;
        row.ok_or(StoreError::NotFound(CERTIFICATE))?
            .into_certificate()
    }

    async fn list_certificates(
        &self,
        scope: Scope,
        filter: CertificateFilter,
        page: Page,
    ) -> StoreResult<Vec<Certificate>> {
        let (limit, offset) = validate::page(page)?;
        let mut sql = Sql::new("SELECT ");
        sql.push(CERT_COLUMNS)
            .push(" FROM certificates WHERE ")
            .scope(scope, "organization_id", Some("created_by_user_id"));
        if let Some(ca) = filter.ca_id {
            sql.push(" AND ca_id = ").bind(ca);
        }
        if let Some(status) = filter.status {
            sql.push(" AND status = ").bind(status.as_str());
        }
        sql.push(" ORDER BY id LIMIT ")
            .bind(limit)
            .push(" OFFSET ")
            .bind(offset);
        let rows: Vec<CertRow> = self.read().await?.fetch_all(sql).await?;
        rows.into_iter().map(CertRow::into_certificate).collect()
    }

    async fn search_certificates(
        &self,
        scope: Scope,
        within: Scope,
        page: KeysetPage,
    ) -> StoreResult<Vec<Certificate>> {
        let page = validate::keyset_page(page)?;
        let mut sql = Sql::new("SELECT ");
        sql.push(CERT_COLUMNS)
            .push(" FROM certificates WHERE ")
            .scoped_keyset(
                "certificates",
                (scope, within),
                "organization_id",
                Some("created_by_user_id"),
                page,
            );
        let rows: Vec<CertRow> = self.read().await?.fetch_all(sql).await?;
        rows.into_iter().map(CertRow::into_certificate).collect()
    }

    async fn revoke_certificate(
        &self,
        actor: &Actor,
        id: i64,
        expected: Resource,
        reason: Option<String>,
    ) -> StoreResult<Certificate> {
        certificates::revoke(self, actor, id, expected, reason).await
    }

    async fn export_certificate_key(
        &self,
        actor: &Actor,
        id: i64,
        expected: Resource,
    ) -> StoreResult<(Certificate, Vec<u8>)> {
        certificates::export_key(self, actor, id, expected).await
    }

    async fn count_revoked(&self, ca_id: i64) -> StoreResult<i64> {
        crls::count_revoked(self, ca_id).await
    }

    async fn revoked_certificates(&self, ca_id: i64) -> StoreResult<Vec<RevokedCertificate>> {
        crls::revoked(self, ca_id).await
    }

    async fn published_crl(&self, ca_id: i64) -> StoreResult<Option<PublishedCrl>> {
        crls::current(self, ca_id).await
    }

    async fn publish_crl(&self, ca_id: i64, crl: PublishedCrl) -> StoreResult<PublishedCrl> {
        crls::publish(self, ca_id, crl).await
    }
}
