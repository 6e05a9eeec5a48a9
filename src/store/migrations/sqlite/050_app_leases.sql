-- SPDX-License-Identifier: Apache-2.0
-- 050_app_leases.sql - the fan-out engine at scale: how many requests an app
-- takes at once, why it is paused (a 429, or quarantine while its calls
-- mostly fail), and which node works it (leases, for several nodes on one
-- database).
--
-- apps.quarantine_probes is 0 when the app is healthy, else how many probes
-- have failed since it was quarantined (the next one waits longer).  A lease
-- row names the node (random per process) that works the app until
-- expires_at (ISO text, the node's clock); the holder renews it while it
-- works, another node takes it once it has expired.
ALTER TABLE apps ADD COLUMN concurrency INTEGER NOT NULL DEFAULT 4;
ALTER TABLE apps ADD COLUMN pause_reason TEXT;
ALTER TABLE apps ADD COLUMN quarantine_probes INTEGER NOT NULL DEFAULT 0;

CREATE TABLE app_leases (
    tenant_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    node TEXT NOT NULL,
    acquired_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, app_id)
);
