-- SPDX-License-Identifier: Apache-2.0
-- 002_groups.sql - SCIM Groups of each IdP connection and their members.
--
-- Members are rows, never an array inside the group document: adding or
-- removing one member is one index probe whatever the group's size.  doc is
-- the rendered group WITHOUT members; they are joined in when rendered.
-- A deleted group is gone (hard delete, members with it); a soft-deleted
-- user keeps its member rows so a revive brings its groups back.

CREATE TABLE groups (
    tenant_id TEXT NOT NULL,
    idp_id TEXT NOT NULL,
    id TEXT NOT NULL,
    external_id TEXT,
    display_name TEXT NOT NULL,
    display_name_lc TEXT NOT NULL,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, idp_id, id),
    FOREIGN KEY (tenant_id, idp_id) REFERENCES idps (tenant_id, id)
);
CREATE UNIQUE INDEX groups_external_id ON groups (tenant_id, idp_id, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX groups_display_name ON groups (tenant_id, idp_id, display_name_lc);
CREATE INDEX groups_updated ON groups (tenant_id, idp_id, updated_at);
CREATE INDEX groups_created ON groups (tenant_id, idp_id, created_at);

CREATE TABLE group_members (
    tenant_id TEXT NOT NULL,
    idp_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, idp_id, group_id, user_id),
    FOREIGN KEY (tenant_id, idp_id, group_id) REFERENCES groups (tenant_id, idp_id, id)
        ON DELETE CASCADE
) WITHOUT ROWID;
-- the groups of one user (Users' groups attribute, members.value filters);
-- covering, as a WITHOUT ROWID index carries the primary key
CREATE INDEX group_members_user ON group_members (tenant_id, idp_id, user_id);
