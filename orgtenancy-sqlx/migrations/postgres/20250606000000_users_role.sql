-- orgtenancy: the users of a role, one keyset page at a time in id order — the superusers' part
-- of a subject search (SPEC §11, `Store::list_users_allowed`). Without it the database scans
-- the whole users table for the few superusers, on every page.
CREATE INDEX users_role_idx ON users (role, id);
