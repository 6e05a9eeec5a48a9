-- 020_admins.sql - administrators: accounts, sign-in sessions, API keys and
-- the sign-in throttle.
--
-- Global tables, like tenants and tokens: an administrator is found by email
-- (sign-in), a session by the hash of its cookie and a key by the hash of its
-- bearer before any tenant is known.  tenant_id is NULL for a super admin.
-- Secrets are never stored: passwords as Argon2id strings (libsodium),
-- setup links, session ids, CSRF tokens and API keys as SHA-256 hex.
CREATE TABLE admins (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT REFERENCES tenants (id),
    email TEXT NOT NULL,
    email_lc TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT,
    setup_hash TEXT,
    setup_expires_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX admins_setup ON admins (setup_hash);
CREATE INDEX admins_tenant ON admins (tenant_id);

CREATE TABLE admin_sessions (
    id_hash TEXT NOT NULL PRIMARY KEY,
    admin_id TEXT NOT NULL REFERENCES admins (id),
    csrf_hash TEXT NOT NULL,
    source TEXT,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ended_at TEXT
);
CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id);

CREATE TABLE admin_keys (
    id TEXT NOT NULL PRIMARY KEY,
    admin_id TEXT NOT NULL REFERENCES admins (id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE INDEX admin_keys_admin ON admin_keys (admin_id);

-- Failed sign-ins per key ("email:<folded email>", "source:<address>"):
-- failures since window_start, and a lock until locked_until.
CREATE TABLE admin_throttle (
    key TEXT NOT NULL PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_start TEXT NOT NULL,
    locked_until TEXT
);

-- A user's events on the admin API's user detail (subject filter, newest first).
CREATE INDEX events_subject ON events (tenant_id, subject_id, seq);
