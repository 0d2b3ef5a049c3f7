-- orgtenancy: the reference server's resources, certificate authorities and certificates
-- (SQLite). Both reference organizations with ON DELETE RESTRICT, so an organization that owns
-- resources cannot be deleted (SQLite reports it as SQLITE_CONSTRAINT_TRIGGER, which the store
-- maps like a foreign-key violation). created_by_user_id is deliberately not a foreign key, like
-- the audit log's user_id: users can be deleted, their resources stay, and ids are never reused,
-- so the creator rule never attaches a resource to a newcomer. Private keys are stored only
-- encrypted (AES-256-GCM by the server); the store never sees a plaintext key.

CREATE TABLE certificate_authorities (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    name                  TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    description           TEXT             CHECK (description IS NULL OR length(description) <= 4096),
    subject_dn            TEXT    NOT NULL,
    key_type              TEXT    NOT NULL CHECK (key_type IN ('rsa', 'ec')),
    key_size              INTEGER NOT NULL,
    valid_days            INTEGER NOT NULL,
    is_root               BOOLEAN NOT NULL CHECK (is_root IN (0, 1)),
    parent_ca_id          INTEGER REFERENCES certificate_authorities (id) ON DELETE RESTRICT,
    path_length           INTEGER,
    allow_leaf_certs      BOOLEAN NOT NULL CHECK (allow_leaf_certs IN (0, 1)),
    serial_number         TEXT    NOT NULL,
    certificate_pem       TEXT    NOT NULL,
    encrypted_private_key BLOB    NOT NULL,
    not_before            TEXT    NOT NULL,
    not_after             TEXT    NOT NULL,
    organization_id       INTEGER REFERENCES organizations (id) ON DELETE RESTRICT,
    created_by_user_id    INTEGER,
    created_at            TEXT    NOT NULL,
    updated_at            TEXT    NOT NULL,
    CHECK ((parent_ca_id IS NULL) = (is_root = 1))
);

-- Serial numbers are unique per issuer (roots are their own issuers; they share key 0).
CREATE UNIQUE INDEX certificate_authorities_issuer_serial_key
    ON certificate_authorities (coalesce(parent_ca_id, 0), serial_number);
CREATE INDEX certificate_authorities_organization_id_idx ON certificate_authorities (organization_id, id);
CREATE INDEX certificate_authorities_created_by_idx ON certificate_authorities (created_by_user_id, id);
CREATE INDEX certificate_authorities_parent_idx ON certificate_authorities (parent_ca_id, id);

CREATE TABLE certificates (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    ca_id                 INTEGER NOT NULL REFERENCES certificate_authorities (id) ON DELETE RESTRICT,
    common_name           TEXT    NOT NULL,
    subject_dn            TEXT    NOT NULL,
    certificate_type      TEXT    NOT NULL CHECK (certificate_type IN ('server', 'client', 'dual_purpose')),
    status                TEXT    NOT NULL CHECK (status IN ('valid', 'revoked')),
    serial_number         TEXT    NOT NULL,
    key_type              TEXT    NOT NULL CHECK (key_type IN ('rsa', 'ec')),
    key_size              INTEGER NOT NULL,
    valid_days            INTEGER NOT NULL,
    not_before            TEXT    NOT NULL,
    not_after             TEXT    NOT NULL,
    revoked_at            TEXT,
    revocation_reason     TEXT,
    -- One name or address per line.
    san_dns_names         TEXT    NOT NULL,
    san_ip_addresses      TEXT    NOT NULL,
    certificate_pem       TEXT    NOT NULL,
    encrypted_private_key BLOB    NOT NULL,
    organization_id       INTEGER REFERENCES organizations (id) ON DELETE RESTRICT,
    created_by_user_id    INTEGER,
    created_at            TEXT    NOT NULL,
    updated_at            TEXT    NOT NULL,
    CONSTRAINT certificates_ca_serial_key UNIQUE (ca_id, serial_number)
);

CREATE INDEX certificates_organization_id_idx ON certificates (organization_id, id);
CREATE INDEX certificates_created_by_idx ON certificates (created_by_user_id, id);
CREATE INDEX certificates_ca_id_idx ON certificates (ca_id, id);
CREATE INDEX certificates_status_idx ON certificates (status, id);
