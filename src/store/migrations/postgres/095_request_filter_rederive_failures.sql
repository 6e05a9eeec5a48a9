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

-- The events' horizon (late commits).  An event takes its seq at insert, so
-- a transaction may commit a lower seq after a higher one is visible; a
-- reader must not move past a seq still in flight.  Each transaction that
-- writes events holds, from before its first seq until it ends, a shared
-- advisory lock whose key is its floor: a value below every seq it takes
-- (the sequence's last value, read before the lock).  The statement trigger
-- runs before the statement takes any seq (statement-level BEFORE triggers
-- fire before the statement does anything), once per transaction (a
-- transaction-local setting remembers it).  Keys are pairs of int4 (objsubid
-- 2 in pg_locks), apart from store_lock's bigint keys: 1545404416 +
-- floor / 2^31, floor mod 2^31.
CREATE FUNCTION scimd_event_floor_lock() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    floor bigint;
BEGIN
    IF current_setting('scimd.event_floor', true) IS DISTINCT FROM 'held' THEN
        SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END
          INTO floor FROM events_seq_seq;
        PERFORM pg_advisory_xact_lock_shared(1545404416 + (floor >> 31)::integer,
                                             (floor & 2147483647)::integer);
        PERFORM set_config('scimd.event_floor', 'held', true);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER events_floor BEFORE INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION scimd_event_floor_lock();

-- The horizon: every event with seq <= it has committed or never will, for
-- any snapshot taken after this returns.  First the highest seq taken so far,
-- then the lowest floor still held (in that order: a transaction that took
-- its seq after the first read has a higher one; one that took it before
-- held its lock before the second read, until it ended).
CREATE FUNCTION scimd_event_horizon() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    taken bigint;
    held bigint;
BEGIN
    SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END
      INTO taken FROM events_seq_seq;
    SELECT min(((l.classid::bigint - 1545404416) << 31) + l.objid::bigint) INTO held
      FROM pg_locks l
     WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.classid::bigint >= 1545404416
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database());
    RETURN least(taken, held);
END
$$;
