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
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    id TEXT COLLATE "C" NOT NULL,
    url TEXT COLLATE "C",
    format TEXT COLLATE "C" NOT NULL,
    delivery TEXT COLLATE "C" NOT NULL,
    events TEXT COLLATE "C",
    audience TEXT COLLATE "C" NOT NULL,
    secret TEXT COLLATE "C",
    poll_token_hash TEXT COLLATE "C",
    state TEXT COLLATE "C" NOT NULL,
    disabled_reason TEXT COLLATE "C",
    failing_since TEXT COLLATE "C",
    paused_until TEXT COLLATE "C",
    last_success_at TEXT COLLATE "C",
    last_error TEXT COLLATE "C",
    position BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT COLLATE "C",
    lease_until TEXT COLLATE "C",
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX webhooks_id ON webhooks (id);

CREATE TABLE webhook_messages (
    tenant_id TEXT COLLATE "C" NOT NULL,
    webhook_id TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    event_id TEXT COLLATE "C" NOT NULL,
    subject TEXT COLLATE "C" NOT NULL,
    jti TEXT COLLATE "C" NOT NULL,
    state TEXT COLLATE "C" NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at TEXT COLLATE "C" NOT NULL,
    last_status INTEGER NOT NULL DEFAULT 0,
    last_error TEXT COLLATE "C",
    created_at TEXT COLLATE "C" NOT NULL,
    delivered_at TEXT COLLATE "C",
    PRIMARY KEY (tenant_id, webhook_id, seq)
);
CREATE INDEX webhook_messages_state ON webhook_messages (tenant_id, webhook_id, state, seq);
CREATE INDEX webhook_messages_jti ON webhook_messages (tenant_id, webhook_id, jti);

CREATE TABLE webhook_attempts (
    tenant_id TEXT COLLATE "C" NOT NULL,
    webhook_id TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    at TEXT COLLATE "C" NOT NULL,
    event_id TEXT COLLATE "C" NOT NULL,
    attempt INTEGER NOT NULL,
    status INTEGER NOT NULL,
    outcome TEXT COLLATE "C" NOT NULL,
    latency_ms INTEGER NOT NULL,
    error TEXT COLLATE "C",
    PRIMARY KEY (tenant_id, webhook_id, id)
);
