-- SPDX-License-Identifier: Apache-2.0
-- 085_rederive_jobs.sql - re-derivation of a tenant's users after a mirroring
-- change, as a durable background job (issue #12).
--
-- One row per job; seq orders a tenant's jobs (the newest is the one to show).
-- state: running, done or superseded (a newer mapping change started a new job).
-- after_id is the durable cursor: users are re-derived in id order and every
-- batch moves it in the transaction that writes them, so a restart resumes.
-- owner / lease_until: the worker (server node or CLI) that works the job; a
-- lease that ran out may be claimed by another.  actor / source: who changed
-- the mapping, for the users_rederived event written when the job is done.

CREATE TABLE rederive_jobs (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    state TEXT NOT NULL,
    total INTEGER NOT NULL,
    done INTEGER NOT NULL,
    changed INTEGER NOT NULL,
    after_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    source TEXT NOT NULL,
    owner TEXT NOT NULL,
    lease_until TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX rederive_jobs_seq ON rederive_jobs (tenant_id, seq);
CREATE INDEX rederive_jobs_state ON rederive_jobs (state, started_at);
