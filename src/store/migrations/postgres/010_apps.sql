-- 010_apps.sql - downstream apps (outbound SCIM targets), their grants, the
-- link of each (app, user) to its remote account, pending fan-out jobs.
--
-- apps.position is the app's durable place in the event log (the outbox):
-- the engine has turned every event up to it into jobs.  credential is
-- sealed by core/secretbox (never plaintext).  Times are ISO text; flags
-- INTEGER 0/1.  app_jobs.gen grows on every enqueue, so a worker that read
-- gen N deletes the job only if no newer change arrived meanwhile.

CREATE TABLE apps (
    tenant_id TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    id TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    scim_url TEXT COLLATE "C" NOT NULL,
    auth TEXT COLLATE "C" NOT NULL,
    basic_user TEXT COLLATE "C",
    credential TEXT COLLATE "C" NOT NULL,
    ca_file TEXT COLLATE "C",
    deprovision TEXT COLLATE "C" NOT NULL,
    push_groups INTEGER NOT NULL DEFAULT 0,
    put_only INTEGER NOT NULL DEFAULT 0,
    state TEXT COLLATE "C" NOT NULL,
    paused_until TEXT COLLATE "C",
    last_success_at TEXT COLLATE "C",
    last_error TEXT COLLATE "C",
    position BIGINT NOT NULL DEFAULT 0,
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX apps_id ON apps (id);
CREATE UNIQUE INDEX apps_name ON apps (tenant_id, name);

CREATE TABLE app_grants (
    tenant_id TEXT COLLATE "C" NOT NULL,
    app_id TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    idp_id TEXT COLLATE "C",
    subject_id TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, app_id, kind, subject_id)
);
CREATE INDEX app_grants_subject ON app_grants (tenant_id, subject_id);

CREATE TABLE app_links (
    tenant_id TEXT COLLATE "C" NOT NULL,
    app_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    remote_id TEXT COLLATE "C" NOT NULL,
    sent TEXT COLLATE "C" NOT NULL,
    hash TEXT COLLATE "C" NOT NULL,
    active INTEGER NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, app_id, user_id)
);

CREATE TABLE app_jobs (
    tenant_id TEXT COLLATE "C" NOT NULL,
    app_id TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    gen BIGINT NOT NULL DEFAULT 1,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at TEXT COLLATE "C" NOT NULL,
    last_error TEXT COLLATE "C",
    dead INTEGER NOT NULL DEFAULT 0,
    created_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant_id, app_id, user_id)
);
CREATE INDEX app_jobs_due ON app_jobs (tenant_id, app_id, dead, next_at);
