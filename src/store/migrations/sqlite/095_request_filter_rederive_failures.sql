-- SPDX-License-Identifier: Apache-2.0
-- 095_request_filter_rederive_failures.sql - two small additions.
--
-- events_request: `scimd audit --request-id` and /events?request_id= find the
-- events of one request by its X-Request-Id without walking the log.
-- Partial: events no request wrote (CLI, fan-out) have none.
--
-- rederive_jobs.failed / attempts: a user whose re-derive fails again and
-- again is skipped after a bounded number of attempts, so the job ends;
-- failed counts the users skipped, attempts the failures so far of the user
-- right after the cursor (0 once it passes).
CREATE INDEX events_request ON events (request_id, seq) WHERE request_id IS NOT NULL;
ALTER TABLE rederive_jobs ADD COLUMN failed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rederive_jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
