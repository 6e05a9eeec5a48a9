-- SPDX-License-Identifier: Apache-2.0
-- 060_app_group_links.sql - groups pushed to downstream apps (apps with
-- push_groups): the link of each (app, group) to its remote group with the
-- displayName last sent, the members scimd put in it (rows, never one array:
-- user and the remote id it was added under), and the kind of each fan-out
-- job ("user": user_id is a user; "group": user_id is a group id), so group
-- jobs share the user jobs' retries, backoff and dead letters.

CREATE TABLE app_group_links (
    tenant_id TEXT COLLATE "C" NOT NULL,
    app_id TEXT COLLATE "C" NOT NULL,
    group_id TEXT COLLATE "C" NOT NULL,
    remote_id TEXT COLLATE "C" NOT NULL,
    display_name TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, app_id, group_id)
);

CREATE TABLE app_group_members (
    tenant_id TEXT COLLATE "C" NOT NULL,
    app_id TEXT COLLATE "C" NOT NULL,
    group_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    remote_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, app_id, group_id, user_id)
);
-- the pushed groups a user is in (re-pushed when the user's account changes)
CREATE INDEX app_group_members_user ON app_group_members (tenant_id, app_id, user_id);

ALTER TABLE app_jobs ADD COLUMN kind TEXT COLLATE "C" NOT NULL DEFAULT 'user';
