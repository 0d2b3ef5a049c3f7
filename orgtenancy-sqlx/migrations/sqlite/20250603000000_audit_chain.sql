-- The tamper-evident audit chain (SQLite).
--
-- Each entry written from now on stores the SHA-256 `hash` of its own fields (id included)
-- and of `prev_hash`, the hash of the entry before it in the chain; the store computes both in
-- Rust, in the transaction that appends the entry. Entries written before this migration keep
-- NULL hashes: they predate the chain, which starts at the first entry appended after it.
--
-- `audit_chain_head` (one row) names the first and the newest chained entry and the newest's
-- hash. Appenders read and rewrite it in their transaction (which already holds the database's
-- write lock), so appends form one chain, and verification can tell when the newest entries
-- were deleted, which the links between entries alone cannot show.

ALTER TABLE audit_log ADD COLUMN prev_hash BLOB;
ALTER TABLE audit_log ADD COLUMN hash BLOB;

CREATE TABLE audit_chain_head (
    singleton INTEGER NOT NULL PRIMARY KEY CHECK (singleton = 1),
    -- The first and the newest chained entry; NULL until the first is appended.
    first_id  INTEGER,
    last_id   INTEGER,
    -- The hash of entry `last_id`; 32 zero bytes (the chain's start) before it.
    last_hash BLOB    NOT NULL
);

INSERT INTO audit_chain_head (singleton, first_id, last_id, last_hash)
VALUES (1, NULL, NULL, zeroblob(32));
