-- SPDX-License-Identifier: Apache-2.0
-- 001_init.sql - tenants, IdP connections, tokens, users, IdP user rows, events.
--
-- Every table carries tenant_id and every primary key and unique index starts
-- with it, except the lookups that must work before the tenant is known:
-- an IdP or user by its id (from a URL) and a token by its hash (a bearer
-- carries no tenant).  *_lc columns hold the ASCII-lowercased value, written
-- by the store, so case-insensitive lookups are index probes.

CREATE TABLE tenants (
    id TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    subdomain TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE idps (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    vendor TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX idps_id ON idps (id);

CREATE TABLE tokens (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    idp_id TEXT NOT NULL,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, idp_id) REFERENCES idps (tenant_id, id)
);
CREATE UNIQUE INDEX tokens_hash ON tokens (hash);
CREATE INDEX tokens_id ON tokens (id);
CREATE INDEX tokens_idp ON tokens (tenant_id, idp_id);

CREATE TABLE users (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    username TEXT,
    username_lc TEXT,
    email TEXT,
    email_lc TEXT,
    given_name TEXT,
    family_name TEXT,
    display_name TEXT,
    status TEXT NOT NULL,
    idp_id TEXT,
    scim_managed INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, idp_id) REFERENCES idps (tenant_id, id)
);
CREATE INDEX users_id ON users (id);
CREATE INDEX users_email ON users (tenant_id, email_lc);
CREATE INDEX users_username ON users (tenant_id, username_lc);

CREATE TABLE idp_users (
    tenant_id TEXT NOT NULL,
    idp_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    external_id TEXT,
    user_name TEXT NOT NULL,
    user_name_lc TEXT NOT NULL,
    active INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, idp_id, user_id),
    FOREIGN KEY (tenant_id, idp_id) REFERENCES idps (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id)
);
-- externalId is the merge key: unique per connection, deleted rows included.
CREATE UNIQUE INDEX idp_users_external_id ON idp_users (tenant_id, idp_id, external_id)
    WHERE external_id IS NOT NULL;
-- userName is unique per connection among live rows, case-insensitively.
CREATE UNIQUE INDEX idp_users_user_name ON idp_users (tenant_id, idp_id, user_name_lc)
    WHERE deleted = 0;
CREATE INDEX idp_users_updated ON idp_users (tenant_id, idp_id, updated_at);
CREATE INDEX idp_users_created ON idp_users (tenant_id, idp_id, created_at);
CREATE INDEX idp_users_user ON idp_users (tenant_id, user_id);

-- emails[].value of each IdP user row, lowercased, for filters on emails.value.
CREATE TABLE idp_user_emails (
    tenant_id TEXT NOT NULL,
    idp_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    value_lc TEXT NOT NULL,
    PRIMARY KEY (tenant_id, idp_id, value_lc, user_id),
    FOREIGN KEY (tenant_id, idp_id, user_id) REFERENCES idp_users (tenant_id, idp_id, user_id)
        ON DELETE CASCADE
);
CREATE INDEX idp_user_emails_user ON idp_user_emails (tenant_id, idp_id, user_id);

-- The audit log and outbox: append-only, seq orders everything.
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT,
    id TEXT NOT NULL UNIQUE,
    at TEXT NOT NULL,
    type TEXT NOT NULL,
    idp_id TEXT,
    actor TEXT,
    subject_id TEXT,
    summary TEXT,
    source TEXT
);
CREATE INDEX events_tenant ON events (tenant_id, seq);
CREATE INDEX events_idp ON events (idp_id, seq);
