//! The store API: everything the reference server needs, on either backend.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use orgtenancy_core::{OrgId, Principal, PrincipalSet, Scope, UserId};

use crate::{
    Actor, AuditChainReport, AuditEntry, AuditFilter, KeysetPage, Logout, NewAuditEntry,
    NewOrganization, NewUser, Organization, OrganizationPatch, Page, StoreResult, TokenHolder,
    User, UserPatch,
};

/// Storage of the tenancy model: organizations, membership, users, tokens, secrets and the
/// audit log. Implemented for SQLite and PostgreSQL; chosen at run time.
///
/// Nothing of an application's own resources is here: an application stores those in its own
/// tables with the public statement layer ([`crate::statement`], [`crate::AuditedTx`]), as
/// the reference server's PKI storage (the `orgtenancy-server-store` crate) does.
///
/// Every method that changes state writes its audit entry (§6) in the same transaction,
/// attributed to `actor`. No method decides permissions: callers ask `orgtenancy-core`
/// first and pass the resulting [`Scope`] to list methods.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // ---- organizations ------------------------------------------------------------------

    /// Creates an organization (`org_create`). Duplicate name: `Conflict::OrganizationName`.
    async fn create_organization(
        &self,
        actor: &Actor,
        new: NewOrganization,
    ) -> StoreResult<Organization>;

    /// One organization.
    async fn get_organization(&self, id: OrgId) -> StoreResult<Organization>;

    /// The organizations in `scope` (the organization column is the row's id), by id.
    async fn list_organizations(&self, scope: Scope, page: Page) -> StoreResult<Vec<Organization>>;

    /// The organizations in both `scope` and `within` (the organization column is the row's
    /// id), by id, a keyset page at a time: the resource search of SPEC §11 (the subject's
    /// scope, and the caller's own). A limit outside 1–1000: `Invalid` (field `limit`).
    async fn search_organizations(
        &self,
        scope: Scope,
        within: Scope,
        page: KeysetPage,
    ) -> StoreResult<Vec<Organization>>;

    /// Changes name and/or description (`org_update`).
    async fn update_organization(
        &self,
        actor: &Actor,
        id: OrgId,
        patch: OrganizationPatch,
    ) -> StoreResult<Organization>;

    /// Deletes an organization (`org_delete`); `Conflict::OrganizationNotEmpty` while it has
    /// members or owns resources, enforced by the schema (ON DELETE RESTRICT).
    async fn delete_organization(&self, actor: &Actor, id: OrgId) -> StoreResult<()>;

    // ---- membership ---------------------------------------------------------------------

    /// Puts `user` into `org` (`org_add_user`); returns the updated user. `NotFound(User)`
    /// when the user does not exist, else `Conflict::MissingOrganization` when the
    /// organization does not (enforced by the foreign key, also against a concurrent delete).
    async fn add_member(&self, actor: &Actor, org: OrgId, user: UserId) -> StoreResult<User>;

    /// [`add_member`](Store::add_member) of the user `seen.id`, only while that user still
    /// has the facts `seen` (role, organization, flags, active state) that the caller's
    /// decision was taken on; else `Conflict::Changed`, and the caller decides again. This
    /// is how a server keeps a concurrent move from slipping past its decision.
    async fn add_member_if(&self, actor: &Actor, org: OrgId, seen: &Principal)
    -> StoreResult<User>;

    /// Takes `user` out of `org` (`org_remove_user`); `NotFound(User)` when it is not a member.
    async fn remove_member(&self, actor: &Actor, org: OrgId, user: UserId) -> StoreResult<User>;

    /// [`remove_member`](Store::remove_member) of the user `seen.id`, only while that user
    /// still has the facts `seen` the caller decided on; else `Conflict::Changed`.
    async fn remove_member_if(
        &self,
        actor: &Actor,
        org: OrgId,
        seen: &Principal,
    ) -> StoreResult<User>;

    /// Members of `org`, by id.
    async fn list_members(&self, org: OrgId, page: Page) -> StoreResult<Vec<User>>;

    // ---- users --------------------------------------------------------------------------

    /// Whether no user exists yet (the bootstrap case).
    async fn has_no_users(&self) -> StoreResult<bool>;

    /// Creates a user (`user_create`). Duplicates: `Conflict::Username` / `Conflict::Email`.
    /// When `only_if_first` is true, the insert happens only if no user exists, atomically
    /// (two racing bootstrap requests cannot both succeed); the loser gets
    /// `Conflict::NotFirstUser`. An organization that does not exist:
    /// `Conflict::MissingOrganization`.
    async fn create_user(
        &self,
        actor: &Actor,
        new: NewUser,
        only_if_first: bool,
    ) -> StoreResult<User>;

    /// One user by id.
    async fn get_user(&self, id: UserId) -> StoreResult<User>;

    /// One user by username.
    async fn get_user_by_username(&self, username: &str) -> StoreResult<User>;

    /// All users, by id.
    async fn list_users(&self, page: Page) -> StoreResult<Vec<User>>;

    /// The users in `allowed` (the engine's
    /// [`Policy::principals_allowed`](orgtenancy_core::Policy::principals_allowed) for an
    /// action on a resource), by id, a keyset page at a time: the subject search of SPEC §11.
    /// A limit outside 1–1000: `Invalid` (field `limit`).
    async fn list_users_allowed(
        &self,
        allowed: PrincipalSet,
        page: KeysetPage,
    ) -> StoreResult<Vec<User>>;

    /// Changes fields of a user (`user_update`). Only fields that really change are written
    /// and named in the audit detail; a patch that changes nothing writes nothing (no entry,
    /// `updated_at` kept) and returns the user as it is. A new password hash or a
    /// deactivation also moves `tokens_valid_after` to now and deletes the refresh tokens.
    /// A move between organizations is audited once for each, so both admins see it.
    /// A duplicate email: `Conflict::Email`; an organization that does not exist:
    /// `Conflict::MissingOrganization`; demoting or deactivating the last active superuser:
    /// `Conflict::LastSuperuser`.
    async fn update_user(&self, actor: &Actor, id: UserId, patch: UserPatch) -> StoreResult<User>;

    /// Deletes a user and its refresh tokens (`user_delete`). `Conflict::HasDependents` when
    /// an application table still references the user with `ON DELETE RESTRICT`;
    /// `Conflict::LastSuperuser` for the last active superuser.
    async fn delete_user(&self, actor: &Actor, id: UserId) -> StoreResult<()>;

    /// [`delete_user`](Store::delete_user) of the user `seen.id`, only while that user still
    /// has the facts `seen` the caller decided on; else `Conflict::Changed`.
    async fn delete_user_if(&self, actor: &Actor, seen: &Principal) -> StoreResult<()>;

    /// Whether an active superuser other than `except` exists (the engine's
    /// [`Census`](orgtenancy_core::Census); writes re-check it in their transaction).
    async fn has_other_active_superuser(&self, except: UserId) -> StoreResult<bool>;

    /// Rejects every token of `user` issued before now (sign out everywhere) and deletes
    /// its refresh tokens, audited as `token_invalidate`. Returns the new cut-off
    /// (`updated_at` unchanged).
    async fn invalidate_tokens(&self, actor: &Actor, user: UserId) -> StoreResult<DateTime<Utc>>;

    /// Revokes an access token of `user` and, when given, one of its refresh tokens, audited
    /// as `logout`, in one transaction.
    async fn logout(&self, actor: &Actor, user: &User, logout: Logout<'_>) -> StoreResult<()>;

    // ---- tokens -------------------------------------------------------------------------

    /// Stores the hash of a new refresh token (and drops the user's expired ones).
    /// `NotFound(User)` when the user does not exist; a hash already stored: `Conflict::Other`.
    async fn insert_refresh_token(
        &self,
        user: UserId,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// Atomically consumes the unexpired refresh token `old_hash` and stores `new_hash` for the
    /// same user; returns that user. A token used twice: `NotFound(RefreshToken)`.
    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<UserId>;

    /// Deletes one refresh token of `user` (no error if it is already gone).
    async fn revoke_refresh_token(&self, user: UserId, token_hash: &str) -> StoreResult<()>;

    /// Records an access token id as revoked until it expires.
    async fn revoke_access_token(&self, jti: &str, expires_at: DateTime<Utc>) -> StoreResult<()>;

    /// Whether an access token id was revoked.
    async fn is_access_token_revoked(&self, jti: &str) -> StoreResult<bool>;

    /// The user `id` as stored now and whether the access token id `jti` is revoked: what
    /// authenticating a request needs, read together. `NotFound(User)` when no user has
    /// `id`. [`SqlStore`](crate::SqlStore) reads both in one statement (one round trip, one
    /// snapshot); this default makes the two reads above, for other implementations.
    async fn token_holder(&self, id: UserId, jti: &str) -> StoreResult<TokenHolder> {
        let token_revoked = self.is_access_token_revoked(jti).await?;
        let user = self.get_user(id).await?;
        Ok(TokenHolder::new(user, token_revoked))
    }

    /// The secret named `name` (e.g. the JWT signing key); if none is stored, stores
    /// `candidate` and returns it. Racing processes all get the same winner.
    async fn get_or_create_secret(&self, name: &str, candidate: Vec<u8>) -> StoreResult<Vec<u8>>;

    // ---- audit log ----------------------------------------------------------------------

    /// Appends an entry that has no other change (logins).
    async fn append_audit(&self, entry: NewAuditEntry) -> StoreResult<AuditEntry>;

    /// Entries in `scope` (over the entry's organization), narrowed by `filter`, by id.
    async fn list_audit(
        &self,
        scope: Scope,
        filter: AuditFilter,
        page: Page,
    ) -> StoreResult<Vec<AuditEntry>>;

    /// Walks the whole audit log in id order (a page at a time) and checks its tamper-evident
    /// chain: each entry's hash over its fields and its predecessor's hash, each link, and
    /// that the chain ends at the recorded head. Reports the first break. Whole-log access:
    /// callers allow it only to a principal whose audit scope is `Scope::All`.
    async fn verify_audit_chain(&self) -> StoreResult<AuditChainReport>;
}
