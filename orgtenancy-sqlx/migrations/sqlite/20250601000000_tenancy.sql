-- orgtenancy: the tenancy model (SQLite).
--
-- Ids are INTEGER PRIMARY KEY AUTOINCREMENT so a deleted row's id is never handed out again.
-- Timestamps are RFC 3339 text in UTC, written by the store with microsecond precision, so
-- text order is time order. Unique constraints carry names that the PostgreSQL schema shares;
-- SQLite reports a violation by `table.column`, which the store maps to a typed conflict.

CREATE TABLE organizations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    description TEXT             CHECK (description IS NULL OR length(description) <= 4096),
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    CONSTRAINT organizations_name_key UNIQUE (name)
);

CREATE TABLE users (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    username           TEXT    NOT NULL CHECK (length(username) BETWEEN 1 AND 255),
    email              TEXT    NOT NULL CHECK (length(email) BETWEEN 1 AND 255),
    password_hash      TEXT    NOT NULL,
    role               TEXT    NOT NULL CHECK (role IN ('user', 'admin', 'superuser')),
    is_active          BOOLEAN NOT NULL CHECK (is_active IN (0, 1)),
    -- RESTRICT: an organization with members cannot be deleted, whatever runs concurrently.
    organization_id    INTEGER REFERENCES organizations (id) ON DELETE RESTRICT,
    -- CapabilitySet::bits, an unsigned 32-bit mask.
    capabilities       INTEGER NOT NULL DEFAULT 0 CHECK (capabilities BETWEEN 0 AND 4294967295),
    tokens_valid_after TEXT    NOT NULL,
    created_at         TEXT    NOT NULL,
    updated_at         TEXT    NOT NULL,
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_email_key UNIQUE (email)
);

-- Members of an organization, one page at a time in id order.
CREATE INDEX users_organization_id_idx ON users (organization_id, id);

CREATE TABLE refresh_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT    NOT NULL,
    expires_at TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash)
);

CREATE INDEX refresh_tokens_user_id_idx ON refresh_tokens (user_id, expires_at);

CREATE TABLE revoked_access_tokens (
    jti        TEXT NOT NULL PRIMARY KEY,
    expires_at TEXT NOT NULL
);

CREATE INDEX revoked_access_tokens_expires_at_idx ON revoked_access_tokens (expires_at);

CREATE TABLE secrets (
    name       TEXT NOT NULL PRIMARY KEY,
    value      BLOB NOT NULL,
    created_at TEXT NOT NULL
);

-- The audit log. organization_id and user_id are deliberately not foreign keys: the trail of a
-- deleted organization or user stays, and ids are never reused, so it never attaches to a
-- newcomer.
CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at      TEXT    NOT NULL,
    action          TEXT    NOT NULL CHECK (length(action) >= 1),
    user_id         INTEGER,
    username        TEXT,
    organization_id INTEGER,
    resource_type   TEXT,
    resource_id     TEXT,
    detail          TEXT
);

CREATE INDEX audit_log_organization_id_idx ON audit_log (organization_id, id);
CREATE INDEX audit_log_created_at_idx ON audit_log (created_at, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
CREATE INDEX audit_log_user_id_idx ON audit_log (user_id, id);
CREATE INDEX audit_log_resource_idx ON audit_log (resource_type, resource_id, id);

-- Entries never change once written (deleting old entries for retention stays possible).
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
