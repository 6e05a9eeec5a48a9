-- SPDX-License-Identifier: Apache-2.0
-- 065_fanout_indexes.sql - indexes that keep the fan-out engine's reads
-- proportional to the work at hand, not to the size of the tables.
--
-- events_fanout: each app's dispatcher reads the events after its place
-- whose type can change who the app reaches (store_app_events_each, with this
-- very type condition).  Without it the read walks every later event of the
-- tenant, the engine's own app_* steps included, on every pass: a grant of
-- 100k users slowed to ~50 users/s.  Partial: only those types are indexed.
--
-- app_jobs_due: due jobs are taken in (next_at, user_id) order; with user_id
-- in the index that order comes from it, without sorting every job due at
-- the same instant (all of a group grant's jobs) for each batch.
CREATE INDEX events_fanout ON events (tenant_id, seq)
    WHERE type LIKE 'scim\_user\_%' ESCAPE '\' OR type LIKE 'scim\_group\_%' ESCAPE '\'
       OR type LIKE 'user\_%' ESCAPE '\' OR type LIKE 'app\_grant\_%' ESCAPE '\'
       OR type = 'users_rederived';
DROP INDEX app_jobs_due;
CREATE INDEX app_jobs_due ON app_jobs (tenant_id, app_id, dead, next_at, user_id);
