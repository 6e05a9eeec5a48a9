-- SPDX-License-Identifier: Apache-2.0
-- 001_init.sql - the PostgreSQL schema: tenants, IdP connections, tokens,
-- users, IdP user rows, groups and their members, events, settings (what
-- SQLite's 001..005 build, in one step).
--
-- Shaped for distribution: every table carries tenant_id and every primary
-- key and unique index starts with it, so a PostgreSQL-compatible distributed
-- engine can shard by tenant (distribute by tenant_id, co-located).  The
-- exceptions are global by nature and would be reference (replicated) tables:
-- tenants (its id is the tenant id), idps and tokens (an IdP is looked up by
-- the id in a URL and a token by the hash of a bearer before the tenant is
-- known: plain indexes on id and hash), settings and schema_migrations.
--
-- Text columns are COLLATE "C": comparisons and ORDER BY are bytewise, as in
-- SQLite, so sorting by id or userName and keyset pagination (id > $n) give
-- the same order on both backends.  Times are TEXT "YYYY-MM-DDTHH:MM:SS.mmmZ"
-- (they sort as strings); flags are INTEGER 0/1 because the store and the
-- filter compiler compare them as numbers (active = 1, deleted = 0).  *_lc
-- columns hold the ASCII-lowercased value, written by the store, so
-- case-insensitive lookups are index probes.

CREATE TABLE tenants (
    id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL,
    subdomain TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE idps (
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    id TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    vendor TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX idps_id ON idps (id);

CREATE TABLE tokens (
    tenant_id TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    idp_id TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    prefix TEXT COLLATE "C" NOT NULL,
    hash TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    last_used_at TEXT COLLATE "C",
    revoked_at TEXT COLLATE "C",
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, idp_id) REFERENCES idps (tenant_id, id)
);
CREATE INDEX tokens_hash ON tokens (hash);
CREATE INDEX tokens_id ON tokens (id);
CREATE INDEX tokens_idp ON tokens (tenant_id, idp_id);

CREATE TABLE users (
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    id TEXT COLLATE "C" NOT NULL,
    username TEXT COLLATE "C",
    username_lc TEXT COLLATE "C",
    email TEXT COLLATE "C",
    email_lc TEXT COLLATE "C",
    given_name TEXT COLLATE "C",
    family_name TEXT COLLATE "C",
    display_name TEXT COLLATE "C",
    status TEXT COLLATE "C" NOT NULL,
    idp_id TEXT COLLATE "C",
    scim_managed INTEGER NOT NULL DEFAULT 0,
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, idp_id) REFERENCES idps (tenant_id, id)
);
-- a user by id alone (the CLI)
CREATE INDEX users_id ON users (id);
CREATE INDEX users_email ON users (tenant_id, email_lc);
CREATE INDEX users_username ON users (tenant_id, username_lc);

CREATE TABLE idp_users (
    tenant_id TEXT COLLATE "C" NOT NULL,
    idp_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    external_id TEXT COLLATE "C",
    user_name TEXT COLLATE "C" NOT NULL,
    user_name_lc TEXT COLLATE "C" NOT NULL,
    active INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    version BIGINT NOT NULL,
    doc TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL,
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
-- Live rows of a connection in id order, without reading their documents:
-- COUNT(*) for totalResults and the default page order can be index-only.
CREATE INDEX idp_users_live ON idp_users (tenant_id, idp_id, user_id) WHERE deleted = 0;

-- emails[].value of each IdP user row, lowercased, for filters on emails.value.
CREATE TABLE idp_user_emails (
    tenant_id TEXT COLLATE "C" NOT NULL,
    idp_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    value_lc TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, idp_id, value_lc, user_id),
    FOREIGN KEY (tenant_id, idp_id, user_id) REFERENCES idp_users (tenant_id, idp_id, user_id)
        ON DELETE CASCADE
);
CREATE INDEX idp_user_emails_user ON idp_user_emails (tenant_id, idp_id, user_id);

-- SCIM Groups of each IdP connection.  Members are rows, never an array
-- inside the group document: adding or removing one member is one index
-- probe whatever the group's size.  doc is the rendered group WITHOUT
-- members.  A deleted group is gone (hard delete, members with it); a
-- soft-deleted user keeps its member rows so a revive brings its groups back.
CREATE TABLE groups (
    tenant_id TEXT COLLATE "C" NOT NULL,
    idp_id TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    external_id TEXT COLLATE "C",
    display_name TEXT COLLATE "C" NOT NULL,
    display_name_lc TEXT COLLATE "C" NOT NULL,
    version BIGINT NOT NULL,
    doc TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, idp_id, id),
    FOREIGN KEY (tenant_id, idp_id) REFERENCES idps (tenant_id, id)
);
CREATE UNIQUE INDEX groups_external_id ON groups (tenant_id, idp_id, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX groups_display_name ON groups (tenant_id, idp_id, display_name_lc);
CREATE INDEX groups_updated ON groups (tenant_id, idp_id, updated_at);
CREATE INDEX groups_created ON groups (tenant_id, idp_id, created_at);

CREATE TABLE group_members (
    tenant_id TEXT COLLATE "C" NOT NULL,
    idp_id TEXT COLLATE "C" NOT NULL,
    group_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, idp_id, group_id, user_id),
    FOREIGN KEY (tenant_id, idp_id, group_id) REFERENCES groups (tenant_id, idp_id, id)
        ON DELETE CASCADE
);
-- the groups of one user (Users' groups attribute, members.value filters);
-- group_id is included so that the index alone answers
CREATE INDEX group_members_user ON group_members (tenant_id, idp_id, user_id, group_id);

-- The audit log and outbox: append-only, seq orders everything (one
-- sequence for all tenants).  Events outside a tenant have tenant_id ''
-- (the store shows them as NULL), so the key can start with tenant_id.
CREATE TABLE events (
    tenant_id TEXT COLLATE "C" NOT NULL DEFAULT '',
    seq BIGINT GENERATED ALWAYS AS IDENTITY,
    id TEXT COLLATE "C" NOT NULL,
    at TEXT COLLATE "C" NOT NULL,
    type TEXT COLLATE "C" NOT NULL,
    idp_id TEXT COLLATE "C",
    actor TEXT COLLATE "C",
    subject_id TEXT COLLATE "C",
    summary TEXT COLLATE "C",
    source TEXT COLLATE "C",
    PRIMARY KEY (tenant_id, seq),
    UNIQUE (tenant_id, id)
);
-- the most recent events of every tenant (scimd audit without --tenant)
CREATE INDEX events_seq ON events (seq);
CREATE INDEX events_idp ON events (idp_id, seq);

-- Small named values every node of a deployment shares, e.g. the key that
-- signs pagination cursors.  A global (reference) table, like tenants.
CREATE TABLE settings (
    name TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    value TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL
);
