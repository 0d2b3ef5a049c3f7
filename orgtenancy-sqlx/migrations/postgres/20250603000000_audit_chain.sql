-- The tamper-evident audit chain (PostgreSQL).
--
-- Each entry written from now on stores the SHA-256 `hash` of its own fields (id included)
-- and of `prev_hash`, the hash of the entry before it in the chain; the store computes both in
-- Rust, in the transaction that appends the entry. Entries written before this migration keep
-- NULL hashes: they predate the chain, which starts at the first entry appended after it.
--
-- `audit_chain_head` (one row) names the first and the newest chained entry and the newest's
-- hash. Appenders lock it (`SELECT ... FOR UPDATE`) as the last step of their transaction, so
-- concurrent appends queue and form one chain instead of forking, and verification can tell
-- when the newest entries were deleted, which the links between entries alone cannot show.

ALTER TABLE audit_log ADD COLUMN prev_hash BYTEA;
ALTER TABLE audit_log ADD COLUMN hash BYTEA;

CREATE TABLE audit_chain_head (
    singleton SMALLINT NOT NULL PRIMARY KEY CHECK (singleton = 1),
    -- The first and the newest chained entry; NULL until the first is appended.
    first_id  BIGINT,
    last_id   BIGINT,
    -- The hash of entry `last_id`; 32 zero bytes (the chain's start) before it.
    last_hash BYTEA    NOT NULL
);

INSERT INTO audit_chain_head (singleton, first_id, last_id, last_hash)
VALUES (1, NULL, NULL, decode(repeat('00', 32), 'hex'));
