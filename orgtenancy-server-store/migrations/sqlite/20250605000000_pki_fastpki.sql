-- orgtenancy: FastPKI's PKI surface (SPEC §10) on the reference server's tables (SQLite).
--
-- * certificate_authorities.crl_base_url: where the CA's CRL and certificate are published,
--   for the distribution-point and AIA URLs of what it issues (NULL: the server's public
--   base URL).
-- * certificates: the `ca` type; the key is optional (key_source `server`: sealed here;
--   `none`: the requester asked for none and none is kept; `csr`: the requester holds it);
--   email SANs; renewed_from_id (a renewal names its original). SQLite cannot change a
--   column's constraints in place, so the table is rebuilt (the recommended procedure:
--   create, copy, drop, rename), keeping every id and the AUTOINCREMENT counter.
-- * certificate_revocation_lists: the last CRL signed for each CA, its number (which only
--   grows) and the count of revoked certificates it covers (revocations are never undone,
--   so an equal count means the same list).

ALTER TABLE certificate_authorities ADD COLUMN crl_base_url TEXT
    CHECK (crl_base_url IS NULL OR length(crl_base_url) BETWEEN 1 AND 2048);

CREATE TABLE certificates_rebuilt (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    ca_id                 INTEGER NOT NULL REFERENCES certificate_authorities (id) ON DELETE RESTRICT,
    common_name           TEXT    NOT NULL,
    subject_dn            TEXT    NOT NULL,
    certificate_type      TEXT    NOT NULL CHECK (certificate_type IN ('server', 'client', 'dual_purpose', 'ca')),
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
    encrypted_private_key BLOB,
    organization_id       INTEGER REFERENCES organizations (id) ON DELETE RESTRICT,
    created_by_user_id    INTEGER,
    created_at            TEXT    NOT NULL,
    updated_at            TEXT    NOT NULL,
    san_email_addresses   TEXT    NOT NULL DEFAULT '',
    key_source            TEXT    NOT NULL DEFAULT 'server' CHECK (key_source IN ('server', 'none', 'csr')),
    renewed_from_id       INTEGER REFERENCES certificates (id) ON DELETE RESTRICT,
    CONSTRAINT certificates_ca_serial_key UNIQUE (ca_id, serial_number),
    CONSTRAINT certificates_key_kept_check
        CHECK ((encrypted_private_key IS NOT NULL) = (key_source = 'server'))
);

INSERT INTO certificates_rebuilt (id, ca_id, common_name, subject_dn, certificate_type, status,
    serial_number, key_type, key_size, valid_days, not_before, not_after, revoked_at,
    revocation_reason, san_dns_names, san_ip_addresses, certificate_pem, encrypted_private_key,
    organization_id, created_by_user_id, created_at, updated_at)
SELECT id, ca_id, common_name, subject_dn, certificate_type, status, serial_number, key_type,
    key_size, valid_days, not_before, not_after, revoked_at, revocation_reason, san_dns_names,
    san_ip_addresses, certificate_pem, encrypted_private_key, organization_id,
    created_by_user_id, created_at, updated_at
FROM certificates;

-- Ids are never reused, also across the rebuild: the new table's AUTOINCREMENT counter
-- starts where the old one stood (RENAME carries the counter along).
INSERT INTO sqlite_sequence (name, seq)
SELECT 'certificates_rebuilt', 0
WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'certificates_rebuilt');
UPDATE sqlite_sequence
SET seq = (SELECT max(seq) FROM sqlite_sequence WHERE name IN ('certificates', 'certificates_rebuilt'))
WHERE name = 'certificates_rebuilt';

DROP TABLE certificates;
ALTER TABLE certificates_rebuilt RENAME TO certificates;

CREATE INDEX certificates_organization_id_idx ON certificates (organization_id, id);
CREATE INDEX certificates_created_by_idx ON certificates (created_by_user_id, id);
CREATE INDEX certificates_ca_id_idx ON certificates (ca_id, id);
CREATE INDEX certificates_status_idx ON certificates (status, id);
-- A CRL lists the revoked certificates of one CA.
CREATE INDEX certificates_revoked_idx ON certificates (ca_id, id) WHERE status = 'revoked';

CREATE TABLE certificate_revocation_lists (
    ca_id          INTEGER PRIMARY KEY REFERENCES certificate_authorities (id) ON DELETE CASCADE,
    crl_number     INTEGER NOT NULL CHECK (crl_number >= 1),
    revoked_count  INTEGER NOT NULL CHECK (revoked_count >= 0),
    this_update    TEXT    NOT NULL,
    next_update    TEXT    NOT NULL,
    crl_der        BLOB    NOT NULL
);
