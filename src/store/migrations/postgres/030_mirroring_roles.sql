-- SPDX-License-Identifier: Apache-2.0
-- 030_mirroring_roles.sql - per-tenant attribute mirroring, custom fields,
-- tenant extension schemas, roles mapped from groups (issue #12).
--
-- custom_fields: canonical user fields a tenant declares beside the built-in
-- ones.  mirror_rules: which SCIM path feeds which canonical field, for the
-- whole tenant (idp_id '') or one connection (overrides the tenant's).
-- user_fields: the derived values of custom fields (value is JSON text).
-- tenant_schemas: a tenant's own User extension (attrs "name:type,...").
-- roles / role_groups: roles and the groups that grant them; user_roles is
-- the derived set, kept to tell what changed.

CREATE TABLE custom_fields (
    tenant_id TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    type TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE mirror_rules (
    tenant_id TEXT COLLATE "C" NOT NULL,
    idp_id TEXT COLLATE "C" NOT NULL,
    field TEXT COLLATE "C" NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, idp_id, field)
);

CREATE TABLE user_fields (
    tenant_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    value TEXT COLLATE "C" NOT NULL,
    idp_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, user_id, name)
);

CREATE TABLE tenant_schemas (
    tenant_id TEXT COLLATE "C" NOT NULL,
    urn TEXT COLLATE "C" NOT NULL,
    urn_lc TEXT COLLATE "C" NOT NULL,
    attrs TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, urn_lc)
);

CREATE TABLE roles (
    tenant_id TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    name_lc TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX roles_name ON roles (tenant_id, name_lc);

CREATE TABLE role_groups (
    tenant_id TEXT COLLATE "C" NOT NULL,
    role_id TEXT COLLATE "C" NOT NULL,
    idp_id TEXT COLLATE "C" NOT NULL,
    group_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, role_id, idp_id, group_id)
);
CREATE INDEX role_groups_group ON role_groups (tenant_id, idp_id, group_id);

CREATE TABLE user_roles (
    tenant_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    role_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, user_id, role_id)
);
