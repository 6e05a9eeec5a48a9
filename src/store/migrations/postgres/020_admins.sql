-- 020_admins.sql (PostgreSQL) - administrators: accounts, sign-in sessions, API keys and
-- the sign-in throttle.
--
-- Global tables, like tenants and tokens: an administrator is found by email
-- (sign-in), a session by the hash of its cookie and a key by the hash of its
-- bearer before any tenant is known.  tenant_id is NULL for a super admin.
-- Secrets are never stored: passwords as Argon2id strings (libsodium),
-- setup links, session ids, CSRF tokens and API keys as SHA-256 hex.
CREATE TABLE admins (
    id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    tenant_id TEXT COLLATE "C" REFERENCES tenants (id),
    email TEXT COLLATE "C" NOT NULL,
    email_lc TEXT COLLATE "C" NOT NULL UNIQUE,
    role TEXT COLLATE "C" NOT NULL,
    password_hash TEXT COLLATE "C",
    setup_hash TEXT COLLATE "C",
    setup_expires_at TEXT COLLATE "C",
    created_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX admins_setup ON admins (setup_hash);
CREATE INDEX admins_tenant ON admins (tenant_id);

CREATE TABLE admin_sessions (
    id_hash TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    admin_id TEXT COLLATE "C" NOT NULL REFERENCES admins (id),
    csrf_hash TEXT COLLATE "C" NOT NULL,
    source TEXT COLLATE "C",
    created_at TEXT COLLATE "C" NOT NULL,
    last_seen_at TEXT COLLATE "C" NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL,
    ended_at TEXT COLLATE "C"
);
CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id);

CREATE TABLE admin_keys (
    id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    admin_id TEXT COLLATE "C" NOT NULL REFERENCES admins (id),
    name TEXT COLLATE "C" NOT NULL,
    prefix TEXT COLLATE "C" NOT NULL,
    hash TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at TEXT COLLATE "C" NOT NULL,
    last_used_at TEXT COLLATE "C",
    revoked_at TEXT COLLATE "C"
);
CREATE INDEX admin_keys_admin ON admin_keys (admin_id);

-- Failed sign-ins per key ("email:<folded email>", "source:<address>"):
-- failures since window_start, and a lock until locked_until.
CREATE TABLE admin_throttle (
    key TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_start TEXT COLLATE "C" NOT NULL,
    locked_until TEXT COLLATE "C"
);

-- A user's events on the admin API's user detail (subject filter, newest first).
CREATE INDEX events_subject ON events (tenant_id, subject_id, seq);
