-- SPDX-License-Identifier: Apache-2.0
-- 090_event_request_id.sql - the X-Request-Id of the HTTP request that wrote
-- an event, so an audit row leads to the request's log lines (NULL for
-- events no request wrote: the CLI, fan-out, housekeeping).
ALTER TABLE events ADD COLUMN request_id TEXT;
