-- 010_apps.sql - downstream apps (outbound SCIM targets), their grants, the
-- link of each (app, user) to its remote account, pending fan-out jobs.
--
-- apps.position is the app's durable place in the event log (the outbox):
-- the engine has turned every event up to it into jobs.  credential is
-- sealed by core/secretbox (never plaintext).  Times are ISO text; flags
-- INTEGER 0/1.  app_jobs.gen grows on every enqueue, so a worker that read
-- gen N deletes the job only if no newer change arrived meanwhile.

CREATE TABLE apps (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    scim_url TEXT NOT NULL,
    auth TEXT NOT NULL,
    basic_user TEXT,
    credential TEXT NOT NULL,
    ca_file TEXT,
    deprovision TEXT NOT NULL,
    push_groups INTEGER NOT NULL DEFAULT 0,
    put_only INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    paused_until TEXT,
    last_success_at TEXT,
    last_error TEXT,
    position INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX apps_id ON apps (id);
CREATE UNIQUE INDEX apps_name ON apps (tenant_id, name);

CREATE TABLE app_grants (
    tenant_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    idp_id TEXT,
    subject_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, app_id, kind, subject_id)
);
CREATE INDEX app_grants_subject ON app_grants (tenant_id, subject_id);

CREATE TABLE app_links (
    tenant_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    sent TEXT NOT NULL,
    hash TEXT NOT NULL,
    active INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, app_id, user_id)
);

CREATE TABLE app_jobs (
    tenant_id TEXT NOT NULL,
    app_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    gen INTEGER NOT NULL DEFAULT 1,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at TEXT NOT NULL,
    last_error TEXT,
    dead INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, app_id, user_id)
);
CREATE INDEX app_jobs_due ON app_jobs (tenant_id, app_id, dead, next_at);
