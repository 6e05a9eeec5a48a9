-- SPDX-License-Identifier: Apache-2.0
-- 005_settings.sql - small named values every node of a deployment shares,
-- e.g. the key that signs pagination cursors.  A global table, like tenants:
-- a handful of rows, replicated to every shard of a distributed database.
CREATE TABLE settings (
    name TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL,
    created_at TEXT NOT NULL
);
