-- orgtenancy: the reference server's resources, certificate authorities and certificates
-- (PostgreSQL). Both reference organizations with ON DELETE RESTRICT, so an organization that owns
-- resources cannot be deleted (foreign_key_violation, mapped to a typed conflict). created_by_user_id is deliberately not a foreign key, like
-- the audit log's user_id: users can be deleted, their resources stay, and ids are never reused,
-- so the creator rule never attaches a resource to a newcomer. Private keys are stored only
-- encrypted (AES-256-GCM by the server); the store never sees a plaintext key.

CREATE TABLE certificate_authorities (
    id                    BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                  TEXT    NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
    description           TEXT             CHECK (description IS NULL OR char_length(description) <= 4096),
    subject_dn            TEXT    NOT NULL,
    key_type              TEXT    NOT NULL CHECK (key_type IN ('rsa', 'ec')),
    key_size              BIGINT  NOT NULL,
    valid_days            BIGINT  NOT NULL,
    is_root               BOOLEAN NOT NULL,
    parent_ca_id          BIGINT  REFERENCES certificate_authorities (id) ON DELETE RESTRICT,
    path_length           BIGINT,
    allow_leaf_certs      BOOLEAN NOT NULL,
    serial_number         TEXT    NOT NULL,
    certificate_pem       TEXT    NOT NULL,
    encrypted_private_key BYTEA   NOT NULL,
    not_before            TIMESTAMPTZ NOT NULL,
    not_after             TIMESTAMPTZ NOT NULL,
    organization_id       BIGINT  REFERENCES organizations (id) ON DELETE RESTRICT,
    created_by_user_id    BIGINT,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL,
    CHECK ((parent_ca_id IS NULL) = is_root)
);

-- Serial numbers are unique per issuer (roots are their own issuers; they share key 0).
CREATE UNIQUE INDEX certificate_authorities_issuer_serial_key
    ON certificate_authorities (coalesce(parent_ca_id, 0), serial_number);
CREATE INDEX certificate_authorities_organization_id_idx ON certificate_authorities (organization_id, id);
CREATE INDEX certificate_authorities_created_by_idx ON certificate_authorities (created_by_user_id, id);
CREATE INDEX certificate_authorities_parent_idx ON certificate_authorities (parent_ca_id, id);

CREATE TABLE certificates (
    id                    BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ca_id                 BIGINT  NOT NULL REFERENCES certificate_authorities (id) ON DELETE RESTRICT,
    common_name           TEXT    NOT NULL,
    subject_dn            TEXT    NOT NULL,
    certificate_type      TEXT    NOT NULL CHECK (certificate_type IN ('server', 'client', 'dual_purpose')),
    status                TEXT    NOT NULL CHECK (status IN ('valid', 'revoked')),
    serial_number         TEXT    NOT NULL,
    key_type              TEXT    NOT NULL CHECK (key_type IN ('rsa', 'ec')),
    key_size              BIGINT  NOT NULL,
    valid_days            BIGINT  NOT NULL,
    not_before            TIMESTAMPTZ NOT NULL,
    not_after             TIMESTAMPTZ NOT NULL,
    revoked_at            TIMESTAMPTZ,
    revocation_reason     TEXT,
    -- One name or address per line.
    san_dns_names         TEXT    NOT NULL,
    san_ip_addresses      TEXT    NOT NULL,
    certificate_pem       TEXT    NOT NULL,
    encrypted_private_key BYTEA    NOT NULL,
    organization_id       BIGINT  REFERENCES organizations (id) ON DELETE RESTRICT,
    created_by_user_id    BIGINT,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL,
    CONSTRAINT certificates_ca_serial_key UNIQUE (ca_id, serial_number)
);

CREATE INDEX certificates_organization_id_idx ON certificates (organization_id, id);
CREATE INDEX certificates_created_by_idx ON certificates (created_by_user_id, id);
CREATE INDEX certificates_ca_id_idx ON certificates (ca_id, id);
CREATE INDEX certificates_status_idx ON certificates (status, id);
