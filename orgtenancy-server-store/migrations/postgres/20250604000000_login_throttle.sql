-- orgtenancy: failed-login counting shared by every server process on the database
-- (PostgreSQL).
--
-- One row per thing a login attempt is counted against: a username (lowercased) or a client
-- address. `attempts` counts the attempts of the window that began at `window_start`; the
-- store bumps it with one atomic upsert (INSERT ... ON CONFLICT DO UPDATE), which starts a new
-- window once the old one is over, so concurrent attempts from several processes each get
-- their own count. Rows of finished windows are swept by the store in small batches.

CREATE TABLE login_throttle (
    kind         TEXT        NOT NULL CHECK (kind IN ('username', 'address')),
    subject      TEXT        NOT NULL CHECK (char_length(subject) <= 255),
    attempts     BIGINT      NOT NULL CHECK (attempts >= 0),
    window_start TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (kind, subject)
);

-- The sweep of finished windows.
CREATE INDEX login_throttle_window_start_idx ON login_throttle (window_start);
