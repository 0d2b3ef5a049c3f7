-- orgtenancy: FastPKI's PKI surface (SPEC §10) on the reference server's tables (PostgreSQL).
--
-- * certificate_authorities.crl_base_url: where the CA's CRL and certificate are published,
--   for the distribution-point and AIA URLs of what it issues (NULL: the server's public
--   base URL).
-- * certificates: the `ca` type; the key is optional (key_source `server`: sealed here;
--   `none`: the requester asked for none and none is kept; `csr`: the requester holds it);
--   email SANs; renewed_from_id (a renewal names its original).
-- * certificate_revocation_lists: the last CRL signed for each CA, its number (which only
--   grows) and the count of revoked certificates it covers (revocations are never undone,
--   so an equal count means the same list).

ALTER TABLE certificate_authorities ADD COLUMN crl_base_url TEXT
    CHECK (crl_base_url IS NULL OR char_length(crl_base_url) BETWEEN 1 AND 2048);

ALTER TABLE certificates
    DROP CONSTRAINT certificates_certificate_type_check,
    ADD CONSTRAINT certificates_certificate_type_check
        CHECK (certificate_type IN ('server', 'client', 'dual_purpose', 'ca')),
    ALTER COLUMN encrypted_private_key DROP NOT NULL,
    ADD COLUMN san_email_addresses TEXT NOT NULL DEFAULT '',
    ADD COLUMN key_source TEXT NOT NULL DEFAULT 'server'
        CHECK (key_source IN ('server', 'none', 'csr')),
    ADD COLUMN renewed_from_id BIGINT REFERENCES certificates (id) ON DELETE RESTRICT,
    ADD CONSTRAINT certificates_key_kept_check
        CHECK ((encrypted_private_key IS NOT NULL) = (key_source = 'server'));

-- A CRL lists the revoked certificates of one CA.
CREATE INDEX certificates_revoked_idx ON certificates (ca_id, id) WHERE status = 'revoked';

CREATE TABLE certificate_revocation_lists (
    ca_id          BIGINT      PRIMARY KEY REFERENCES certificate_authorities (id) ON DELETE CASCADE,
    crl_number     BIGINT      NOT NULL CHECK (crl_number >= 1),
    revoked_count  BIGINT      NOT NULL CHECK (revoked_count >= 0),
    this_update    TIMESTAMPTZ NOT NULL,
    next_update    TIMESTAMPTZ NOT NULL,
    crl_der        BYTEA       NOT NULL
);
