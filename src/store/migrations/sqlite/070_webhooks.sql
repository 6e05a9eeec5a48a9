-- SPDX-License-Identifier: Apache-2.0
-- 070_webhooks.sql - event subscriptions of a tenant (webhooks: Standard
-- Webhooks `json` or RFC 8417 SETs pushed per RFC 8935 or polled per RFC
-- 8936), the messages waiting for each, and a short log of delivery attempts.
--
-- webhooks.position is the subscription's durable place in the event log
-- (the outbox): every event up to it has its message row.  secret is sealed
-- by core/secretbox (never plaintext); poll_token_hash is the SHA-256 of the
-- poll bearer.  lease_owner / lease_until: the node that delivers it now.
-- A message row lives until delivered (or acknowledged) and the position has
-- passed it; its jti stays the same across retries.

CREATE TABLE webhooks (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    url TEXT,
    format TEXT NOT NULL,
    delivery TEXT NOT NULL,
    events TEXT,
    audience TEXT NOT NULL,
    secret TEXT,
    poll_token_hash TEXT,
    state TEXT NOT NULL,
    disabled_reason TEXT,
    failing_since TEXT,
    paused_until TEXT,
    last_success_at TEXT,
    last_error TEXT,
    position INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX webhooks_id ON webhooks (id);

CREATE TABLE webhook_messages (
    tenant_id TEXT NOT NULL,
    webhook_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    jti TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at TEXT NOT NULL,
    last_status INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TEXT NOT NULL,
    delivered_at TEXT,
    PRIMARY KEY (tenant_id, webhook_id, seq)
);
CREATE INDEX webhook_messages_state ON webhook_messages (tenant_id, webhook_id, state, seq);
CREATE INDEX webhook_messages_jti ON webhook_messages (tenant_id, webhook_id, jti);

CREATE TABLE webhook_attempts (
    tenant_id TEXT NOT NULL,
    webhook_id TEXT NOT NULL,
    id TEXT NOT NULL,
    at TEXT NOT NULL,
    event_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    status INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    latency_ms INTEGER NOT NULL,
    error TEXT,
    PRIMARY KEY (tenant_id, webhook_id, id)
);
