-- SPDX-License-Identifier: Apache-2.0
-- 096_app_links_remote.sql - one remote account is linked to one user at most.
--
-- Two users of a tenant with one userName (two IdP connections, two people)
-- made the fan-out engine link both to the account its `userName eq` lookup
-- found: each one's changes overwrote the other's, and one losing access
-- switched off the account the other still had.  The engine now refuses such
-- a link (the job fails with the reason); this index makes it hold whatever
-- the timing.  Links that already share an account keep the oldest; the
-- others are dropped, so those users' next job finds the account taken and
-- says so (app show, app_request_failed) instead of sharing it.
DELETE FROM app_links a USING app_links b
    WHERE a.tenant_id = b.tenant_id AND a.app_id = b.app_id AND a.remote_id = b.remote_id
      AND (a.created_at, a.user_id) > (b.created_at, b.user_id);
CREATE UNIQUE INDEX app_links_remote ON app_links (tenant_id, app_id, remote_id);
