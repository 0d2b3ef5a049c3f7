//! The reference server's resources: certificate authorities and certificates ([`PkiStore`]).
//!
//! Both tables carry the two facts the engine needs about a resource, `organization_id` and
//! `created_by_user_id`, and lists take the engine's [`Scope`] rendered by [`Sql::scope`]
//! over exactly those columns. Private keys arrive and leave **encrypted**: the server seals
//! them (AES-256-GCM) before calling the store, so neither the store nor a database dump ever
//! holds a plaintext key. Every change writes its §6 audit entry (`ca_create`, `ca_delete`,
//! `ca_export_private_key`, `ca_assign_org`, `cert_create`, `cert_revoke`,
//! `cert_export_private_key`) in the same transaction, attributed to the resource's
//! organization.
//!
//! **A write acts on the row its caller decided on.** The server reads a row, asks the engine,
//! and passes the facts it decided on (`expected`, the row's [`Resource`]) to the write. The
//! write locks the row in its transaction (PostgreSQL `FOR UPDATE`; SQLite writers are
//! serialized by `BEGIN IMMEDIATE`) and proceeds only while the row still has those facts;
//! else it writes nothing and fails with [`Conflict::Changed`], and the caller reads and
//! decides again. A key export reads the key in that same transaction, with its audit entry,
//! so the key returned is the key of the row decided on.
//!
//! Moving a CA tree ([`PkiStore::assign_ca_organization`]) writes one `ca_assign_org` entry
//! for the target organization and one for every other organization a moved row belonged to,
//! so each organization's admins can read that its resources left.

//!
//! Everything here is written with `orgtenancy-sqlx`'s public statement layer: reads on
//! [`SqlStore::read`](orgtenancy_sqlx::SqlStore::read), each write in one
//! [`AuditedTx`](orgtenancy_sqlx::AuditedTx) whose entry is its last statement.
//!
//! [`Sql::scope`]: orgtenancy_sqlx::statement::Sql::scope
//! [`Conflict::Changed`]: orgtenancy_sqlx::Conflict::Changed

mod cas;
mod certificates;
mod crls;
mod reads;
mod rows;
mod types;

use async_trait::async_trait;
use orgtenancy_core::{OrgId, Resource, Scope};
use orgtenancy_sqlx::{Actor, KeysetPage, Page, StoreResult};

pub use self::types::{
    Adoption, Certificate, CertificateAuthority, CertificateFilter, CertificateStatus, KeySource,
    NewCertificate, NewCertificateAuthority, NewCertificateKey, PublishedCrl, RevokedCertificate,
};

/// Storage of certificate authorities and certificates; implemented for
/// [`SqlStore`](orgtenancy_sqlx::SqlStore) once [`crate::migrate`] has created the tables, and
/// part of [`crate::ServerStore`].
///
/// No method decides a permission: the server asks `orgtenancy-core` with the row's
/// `organization_id` and `created_by_user_id`, and passes list methods the engine's [`Scope`].
#[async_trait]
pub trait PkiStore: Send + Sync + 'static {
    /// Stores a new CA (`ca_create`). An intermediate's parent is locked and must still have
    /// `parent_expected`, the facts the caller decided on (`Conflict::Changed` otherwise; a
    /// parent given without them is `Invalid`). An organization deleted meanwhile, or a serial
    /// number already used under the same issuer: `Conflict::Other`.
    async fn create_ca(
        &self,
        actor: &Actor,
        new: NewCertificateAuthority,
        parent_expected: Option<Resource>,
    ) -> StoreResult<CertificateAuthority>;

    /// One CA; `NotFound(`[`CERTIFICATE_AUTHORITY`](crate::CERTIFICATE_AUTHORITY)`)`.
    async fn get_ca(&self, id: i64) -> StoreResult<CertificateAuthority>;

    /// The CA's sealed private key, to sign with (not audited: nothing leaves the server).
    async fn ca_signing_key(&self, id: i64) -> StoreResult<Vec<u8>>;

    /// The CA and its sealed private key, for an export (`ca_export_private_key`, audited in
    /// the same transaction that locks the row, checks it still has `expected` and reads the
    /// key; `Conflict::Changed` otherwise, with nothing read and nothing audited).
    async fn export_ca_key(
        &self,
        actor: &Actor,
        id: i64,
        expected: Resource,
    ) -> StoreResult<(CertificateAuthority, Vec<u8>)>;

    /// The CAs in `scope` (over `organization_id` and `created_by_user_id`), by id.
    async fn list_cas(&self, scope: Scope, page: Page) -> StoreResult<Vec<CertificateAuthority>>;

    /// The CAs in both `scope` and `within`, by id, a keyset page at a time: the resource
    /// search of SPEC §11 (the subject's scope for an action, and the caller's read scope).
    /// A limit outside 1–1000: `Invalid` (field `limit`).
    async fn search_cas(
        &self,
        scope: Scope,
        within: Scope,
        page: KeysetPage,
    ) -> StoreResult<Vec<CertificateAuthority>>;

    /// The CAs named exactly `name` that are in `scope`, by id; at most two (enough to tell
    /// one from several).
    async fn find_cas_by_name(
        &self,
        name: &str,
        scope: Scope,
    ) -> StoreResult<Vec<CertificateAuthority>>;

    /// The CAs signed by `parent` that are in `scope`, by id (over the parent index).
    async fn list_child_cas(
        &self,
        parent: i64,
        scope: Scope,
        page: Page,
    ) -> StoreResult<Vec<CertificateAuthority>>;

    /// Deletes a CA (`ca_delete`) while it still has `expected` (`Conflict::Changed`
    /// otherwise). `Conflict::HasDependents` while child CAs or certificates reference it
    /// (ON DELETE RESTRICT, also against a concurrent issue).
    async fn delete_ca(&self, actor: &Actor, id: i64, expected: Resource) -> StoreResult<()>;

    /// Moves a CA into `organization`; with `cascade`, also every descendant CA and every
    /// certificate issued by the moved CAs, in one transaction. Audited `ca_assign_org` once
    /// for `organization` and once for every other organization a moved row belonged to. A
    /// missing organization: `Conflict::MissingOrganization`.
    async fn assign_ca_organization(
        &self,
        actor: &Actor,
        id: i64,
        organization: OrgId,
        cascade: bool,
    ) -> StoreResult<(CertificateAuthority, Adoption)>;

    /// Stores a new certificate (`cert_create`) while its issuing CA still has
    /// `issuer_expected` (`Conflict::Changed` otherwise; a deleted CA is `NotFound`). A serial
    /// already used by the CA: `Conflict::Other`.
    async fn create_certificate(
        &self,
        actor: &Actor,
        new: NewCertificate,
        issuer_expected: Resource,
    ) -> StoreResult<Certificate>;

    /// One certificate; `NotFound(`[`CERTIFICATE`](crate::CERTIFICATE)`)`.
    async fn get_certificate(&self, id: i64) -> StoreResult<Certificate>;

    /// The certificates in `scope`, narrowed by `filter`, by id.
    async fn list_certificates(
        &self,
        scope: Scope,
        filter: CertificateFilter,
        page: Page,
    ) -> StoreResult<Vec<Certificate>>;

    /// The certificates in both `scope` and `within`, by id, a keyset page at a time (see
    /// [`PkiStore::search_cas`]).
    async fn search_certificates(
        &self,
        scope: Scope,
        within: Scope,
        page: KeysetPage,
    ) -> StoreResult<Vec<Certificate>>;

    /// Revokes a certificate (`cert_revoke`) while it still has `expected`
    /// (`Conflict::Changed` otherwise); [`ALREADY_REVOKED`](crate::ALREADY_REVOKED) the second
    /// time.
    async fn revoke_certificate(
        &self,
        actor: &Actor,
        id: i64,
        expected: Resource,
        reason: Option<String>,
    ) -> StoreResult<Certificate>;

    /// The certificate and its sealed private key (`cert_export_private_key`, audited), read
    /// while it still has `expected` (as [`PkiStore::export_ca_key`]).
    async fn export_certificate_key(
        &self,
        actor: &Actor,
        id: i64,
        expected: Resource,
    ) -> StoreResult<(Certificate, Vec<u8>)>;

    /// How many certificates CA `ca_id` issued are revoked (whether its kept CRL is current:
    /// revocations are never undone, so the same count is the same list).
    async fn count_revoked(&self, ca_id: i64) -> StoreResult<i64>;

    /// Every certificate CA `ca_id` issued that is revoked, by id (for its CRL).
    async fn revoked_certificates(&self, ca_id: i64) -> StoreResult<Vec<RevokedCertificate>>;

    /// The CRL last published for CA `ca_id`, if any.
    async fn published_crl(&self, ca_id: i64) -> StoreResult<Option<PublishedCrl>>;

    /// Keeps `crl` as CA `ca_id`'s CRL when its number is greater than the kept one's (not
    /// audited: a CRL is derived from audited revocations); returns the CRL kept afterwards —
    /// `crl`, or a newer one another request published first. A missing CA is `NotFound`.
    async fn publish_crl(&self, ca_id: i64, crl: PublishedCrl) -> StoreResult<PublishedCrl>;
}
