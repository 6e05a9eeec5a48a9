/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec_apps.c - this file contains the record operations of store.h for
 * downstream apps, their grants, the (app, user) links to remote accounts and
 * the fan-out jobs: their SQL, parameters and row decoding, written once for
 * every backend (stmt.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "store/stmt.h"
#include "store/store.h"

/* ---- apps --------------------------------------------------------------------------- */

#define APP_COLUMNS                                                                                \
    "tenant_id, id, name, scim_url, auth, basic_user, credential, ca_file, deprovision, "          \
    "push_groups, put_only, state, paused_until, last_success_at, last_error, position, "          \
    "created_at, updated_at, concurrency, pause_reason, quarantine_probes"
static const char SQL_APP_INSERT[] =
    "INSERT INTO apps (" APP_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
    "?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
static const char SQL_APP_GET[] = "SELECT " APP_COLUMNS " FROM apps WHERE id = ?";
static const char SQL_APP_GET_IN[] =
    "SELECT " APP_COLUMNS " FROM apps WHERE tenant_id = ? AND id = ?";
static const char SQL_APP_EACH[] = "SELECT " APP_COLUMNS " FROM apps ORDER BY created_at, id";
static const char SQL_APP_EACH_IN[] =
    "SELECT " APP_COLUMNS " FROM apps WHERE tenant_id = ? ORDER BY created_at, id";
static const char SQL_APP_UPDATE[] =
    "UPDATE apps SET state = ?, paused_until = ?, pause_reason = ?, quarantine_probes = ?, "
    "updated_at = ? WHERE tenant_id = ? AND id = ?";
static const char SQL_APP_PROGRESS[] =
    "UPDATE apps SET paused_until = ?, last_success_at = ?, last_error = ?, position = ?, "
    "pause_reason = ?, quarantine_probes = ? WHERE tenant_id = ? AND id = ? AND updated_at = ?";
/* In the order the fan-out engine's transactions lock rows (a pushed group's
 * link, its members, user links, jobs, the app row last): a delete racing a job waits for
 * it instead of deadlocking with it (PostgreSQL aborted one of the two). */
static const char *const SQL_APP_DELETE[] = {
    "DELETE FROM app_group_links WHERE tenant_id = ? AND app_id = ?",
    "DELETE FROM app_group_members WHERE tenant_id = ? AND app_id = ?",
    "DELETE FROM app_links WHERE tenant_id = ? AND app_id = ?",
    "DELETE FROM app_jobs WHERE tenant_id = ? AND app_id = ?",
    "DELETE FROM app_grants WHERE tenant_id = ? AND app_id = ?",
    "DELETE FROM app_leases WHERE tenant_id = ? AND app_id = ?",
    "DELETE FROM apps WHERE tenant_id = ? AND id = ?",
};
static const char SQL_EVENT_LAST_SEQ[] = "SELECT COALESCE(MAX(seq), 0) FROM events";

void store_app_release(struct store_app *a)
{
    if (a == NULL)
        return;
    free(a->credential);
    a->credential = NULL;
}

static void read_app_row(struct stmt *st, struct store_app *a)
{
    memset(a, 0, sizeof(*a));
    rec_col_copy(st, 0, a->tenant_id, sizeof(a->tenant_id));
    rec_col_copy(st, 1, a->id, sizeof(a->id));
    rec_col_copy(st, 2, a->name, sizeof(a->name));
    rec_col_copy(st, 3, a->scim_url, sizeof(a->scim_url));
    rec_col_copy(st, 4, a->auth, sizeof(a->auth));
    rec_col_copy(st, 5, a->basic_user, sizeof(a->basic_user));
    rec_col_copy(st, 7, a->ca_file, sizeof(a->ca_file));
    rec_col_copy(st, 8, a->deprovision, sizeof(a->deprovision));
    a->push_groups = stmt_col_int(st, 9) != 0;
    a->put_only = stmt_col_int(st, 10) != 0;
    rec_col_copy(st, 11, a->state, sizeof(a->state));
    rec_col_copy(st, 12, a->paused_until, sizeof(a->paused_until));
    rec_col_copy(st, 13, a->last_success_at, sizeof(a->last_success_at));
    rec_col_copy(st, 14, a->last_error, sizeof(a->last_error));
    a->position = stmt_col_int(st, 15);
    rec_col_copy(st, 16, a->created_at, sizeof(a->created_at));
    rec_col_copy(st, 17, a->updated_at, sizeof(a->updated_at));
    a->concurrency = stmt_col_int(st, 18);
    rec_col_copy(st, 19, a->pause_reason, sizeof(a->pause_reason));
    a->quarantine_probes = stmt_col_int(st, 20);
}

static enum status read_app(struct stmt *st, void *out)
{
    struct store_app *a = out;
    read_app_row(st, a);
    return rec_col_dup(st, 6, &a->credential) ? OK : ERR_NOMEM;
}

enum status store_app_insert(struct store_tx *tx, const struct store_app *a)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_APP_INSERT, 0, "insert app", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, a->tenant_id);
    stmt_text(st, a->id);
    stmt_text(st, a->name);
    stmt_text(st, a->scim_url);
    stmt_text(st, a->auth);
    stmt_opt(st, a->basic_user);
    stmt_text(st, a->credential);
    stmt_opt(st, a->ca_file);
    stmt_text(st, a->deprovision);
    stmt_int(st, a->push_groups);
    stmt_int(st, a->put_only);
    stmt_text(st, a->state);
    stmt_opt(st, a->paused_until);
    stmt_opt(st, a->last_success_at);
    stmt_opt(st, a->last_error);
    stmt_int(st, a->position);
    stmt_text(st, a->created_at);
    stmt_text(st, a->updated_at);
    stmt_int(st, a->concurrency > 0 ? a->concurrency : STORE_APP_CONCURRENCY_DEFAULT);
    stmt_opt(st, a->pause_reason);
    stmt_int(st, a->quarantine_probes);
    return rec_done_insert(st);
}

enum status store_app_get(struct store_tx *tx, const char *tenant_id, const char *id,
                          struct store_app *out)
{
    return rec_find_scoped(tx, SQL_APP_GET, SQL_APP_GET_IN, tenant_id, id, read_app, out,
                           "get app");
}

static enum status each_app(struct stmt *st, rec_any_fn fn, void *ctx)
{
    struct store_app a;
    read_app_row(st, &a);
    a.credential = NULL; /* never handed around in lists */
    return ((store_app_fn)fn)(ctx, &a);
}

enum status store_app_each(struct store_tx *tx, const char *tenant_id, store_app_fn fn, void *ctx)
{
    return rec_each_scoped(tx, SQL_APP_EACH, SQL_APP_EACH_IN, tenant_id, each_app, (rec_any_fn)fn,
                           ctx, "list apps");
}

enum status store_app_update(struct store_tx *tx, const struct store_app *a)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_APP_UPDATE, 0, "update app", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, a->state);
    stmt_opt(st, a->paused_until);
    stmt_opt(st, a->pause_reason);
    stmt_int(st, a->quarantine_probes);
    stmt_text(st, a->updated_at);
    stmt_text(st, a->tenant_id);
    stmt_text(st, a->id);
    return rec_done_one(st);
}

enum status store_app_progress(struct store_tx *tx, const struct store_app *a)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_APP_PROGRESS, 0, "app progress", &st);
    if (rc != OK)
        return rc;
    stmt_opt(st, a->paused_until);
    stmt_opt(st, a->last_success_at);
    stmt_opt(st, a->last_error);
    stmt_int(st, a->position);
    stmt_opt(st, a->pause_reason);
    stmt_int(st, a->quarantine_probes);
    stmt_text(st, a->tenant_id);
    stmt_text(st, a->id);
    stmt_text(st, a->updated_at);
    return rec_done(st);
}

enum status store_app_delete(struct store_tx *tx, const char *tenant_id, const char *id)
{
    const char *keys[] = { tenant_id, id };
    return rec_delete_with(tx, SQL_APP_DELETE, sizeof(SQL_APP_DELETE) / sizeof(SQL_APP_DELETE[0]),
                           keys, 2, "delete app");
}

static enum status read_int(struct stmt *st, void *out)
{
    *(int64_t *)out = stmt_col_int(st, 0);
    return OK;
}

enum status store_event_last_seq(struct store_tx *tx, int64_t *out)
{
    return rec_find(tx, SQL_EVENT_LAST_SEQ, NULL, 0, read_int, out, "last event");
}

/* ---- the events an app's dispatcher reads ---------------------------------------------- */

static const char SQL_APP_EVENTS[] =
    "SELECT seq, id, at, tenant_id, idp_id, type, actor, subject_id, summary, source "
    "FROM events WHERE tenant_id = ? AND seq > ? AND seq <= ? AND (type LIKE 'scim\\_user\\_%' ESCAPE '\\' "
    "OR type LIKE 'scim\\_group\\_%' ESCAPE '\\' OR type LIKE 'user\\_%' ESCAPE '\\' "
    "OR type LIKE 'app\\_grant\\_%' ESCAPE '\\' OR type = 'users_rederived') ORDER BY seq LIMIT ?";

static enum status each_app_event(struct stmt *st, rec_any_fn fn, void *ctx)
{
    struct store_event e;
    memset(&e, 0, sizeof(e));
    e.seq = stmt_col_int(st, 0);
    rec_col_copy(st, 1, e.id, sizeof(e.id));
    rec_col_copy(st, 2, e.at, sizeof(e.at));
    e.tenant_id = stmt_col_text(st, 3);
    e.idp_id = stmt_col_text(st, 4);
    e.type = stmt_col_text(st, 5);
    e.actor = stmt_col_text(st, 6);
    e.subject_id = stmt_col_text(st, 7);
    e.summary = stmt_col_text(st, 8);
    e.source = stmt_col_text(st, 9);
    return ((store_event_fn)fn)(ctx, &e);
}

enum status store_app_events_each(struct store_tx *tx, const char *tenant_id, int64_t after_seq,
                                  int64_t upto_seq, size_t limit, store_event_fn fn, void *ctx)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_APP_EVENTS, 0, "read app events", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, tenant_id);
    stmt_int(st, after_seq);
    stmt_int(st, upto_seq);
    stmt_int(st, (int64_t)limit);
    return rec_rows(st, each_app_event, (rec_any_fn)fn, ctx);
}

/* ---- grants ------------------------------------------------------------------------------ */

#define GRANT_COLUMNS "tenant_id, app_id, kind, idp_id, subject_id, created_at"
static const char SQL_GRANT_INSERT[] = "INSERT INTO app_grants (" GRANT_COLUMNS ") "
                                       "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
static const char SQL_GRANT_GET[] = "SELECT " GRANT_COLUMNS " FROM app_grants WHERE tenant_id = ? "
                                    "AND app_id = ? AND kind = ? AND subject_id = ?";
static const char SQL_GRANT_DELETE[] = "DELETE FROM app_grants WHERE tenant_id = ? AND app_id = ? "
                                       "AND kind = ? AND subject_id = ?";
static const char SQL_GRANT_EACH[] = "SELECT " GRANT_COLUMNS " FROM app_grants WHERE tenant_id = ? "
                                     "AND app_id = ? ORDER BY kind, subject_id";
static const char SQL_GRANTED[] =
    "SELECT 1 FROM app_grants WHERE tenant_id = ?1 AND app_id = ?2 AND kind = 'user' "
    "AND subject_id = ?3 UNION ALL "
    "SELECT 1 FROM app_grants g JOIN group_members m ON m.tenant_id = g.tenant_id "
    "AND m.idp_id = g.idp_id AND m.group_id = g.subject_id "
    "WHERE g.tenant_id = ?1 AND g.app_id = ?2 AND g.kind = 'group' AND m.user_id = ?3 LIMIT 1";
static const char SQL_GROUP_LOCATE[] = "SELECT tenant_id, idp_id FROM groups WHERE id = ? LIMIT 1";

static enum status read_grant(struct stmt *st, void *out)
{
    struct store_app_grant *g = out;
    memset(g, 0, sizeof(*g));
    rec_col_copy(st, 0, g->tenant_id, sizeof(g->tenant_id));
    rec_col_copy(st, 1, g->app_id, sizeof(g->app_id));
    rec_col_copy(st, 2, g->kind, sizeof(g->kind));
    rec_col_copy(st, 3, g->idp_id, sizeof(g->idp_id));
    rec_col_copy(st, 4, g->subject_id, sizeof(g->subject_id));
    rec_col_copy(st, 5, g->created_at, sizeof(g->created_at));
    return OK;
}

enum status store_app_grant_insert(struct store_tx *tx, const struct store_app_grant *g)
{
    char now[STORE_TIME_LEN];
    const char *values[] = { g->tenant_id,  g->app_id,
                             g->kind,       g->idp_id[0] ? g->idp_id : NULL,
                             g->subject_id, rec_time_or_now(g->created_at, now) };
    return rec_insert(tx, SQL_GRANT_INSERT, values, 6, "insert grant");
}

enum status store_app_grant_get(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                const char *kind, const char *subject_id,
                                struct store_app_grant *out)
{
    const char *keys[] = { tenant_id, app_id, kind, subject_id };
    return rec_find(tx, SQL_GRANT_GET, keys, 4, read_grant, out, "get grant");
}

enum status store_app_grant_delete(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                   const char *kind, const char *subject_id,
                                   struct store_app_grant *out)
{
    struct store_app_grant g;
    enum status rc = store_app_grant_get(tx, tenant_id, app_id, kind, subject_id, &g);
    if (rc != OK)
        return rc;
    const char *keys[] = { tenant_id, app_id, kind, subject_id };
    rc = rec_exec(tx, SQL_GRANT_DELETE, keys, 4, "delete grant");
    if (rc == OK && out)
        *out = g;
    return rc;
}

static enum status each_grant(struct stmt *st, rec_any_fn fn, void *ctx)
{
    struct store_app_grant g;
    read_grant(st, &g);
    return ((store_app_grant_fn)fn)(ctx, &g);
}

enum status store_app_grant_each(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                 store_app_grant_fn fn, void *ctx)
{
    const char *keys[] = { tenant_id, app_id };
    return rec_each(tx, SQL_GRANT_EACH, keys, 2, 0, each_grant, (rec_any_fn)fn, ctx, "list grants");
}

static enum status read_true(struct stmt *st, void *out)
{
    (void)st;
    *(bool *)out = true;
    return OK;
}

enum status store_app_user_granted(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                   const char *user_id, bool *out)
{
    const char *keys[] = { tenant_id, app_id, user_id };
    *out = false;
    enum status rc = rec_find(tx, SQL_GRANTED, keys, 3, read_true, out, "check grant");
    return rc == ERR_NOT_FOUND ? OK : rc;
}

struct located {
    char *tenant_id, *idp_id;
};

static enum status read_located(struct stmt *st, void *out)
{
    struct located *l = out;
    rec_col_copy(st, 0, l->tenant_id, STORE_ID_LEN);
    rec_col_copy(st, 1, l->idp_id, STORE_ID_LEN);
    return OK;
}

enum status store_group_locate(struct store_tx *tx, const char *group_id,
                               char tenant_id[STORE_ID_LEN], char idp_id[STORE_ID_LEN])
{
    struct located l = { tenant_id, idp_id };
    return rec_find(tx, SQL_GROUP_LOCATE, &group_id, 1, read_located, &l, "locate group");
}

/* ---- links ------------------------------------------------------------------------------- */

#define LINK_COLUMNS                                                                               \
    "tenant_id, app_id, user_id, remote_id, sent, hash, active, created_at, updated_at"
static const char SQL_LINK_GET[] = "SELECT " LINK_COLUMNS " FROM app_links WHERE tenant_id = ? "
                                   "AND app_id = ? AND user_id = ?";
static const char SQL_LINK_OF_REMOTE[] = "SELECT " LINK_COLUMNS " FROM app_links WHERE "
                                         "tenant_id = ? AND app_id = ? AND remote_id = ?";
static const char SQL_LINK_PUT[] =
    "INSERT INTO app_links (" LINK_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (tenant_id, app_id, user_id) DO UPDATE SET remote_id = excluded.remote_id, "
    "sent = excluded.sent, hash = excluded.hash, active = excluded.active, "
    "updated_at = excluded.updated_at";
static const char SQL_LINK_DELETE[] =
    "DELETE FROM app_links WHERE tenant_id = ? AND app_id = ? AND user_id = ?";
static const char SQL_LINK_USERS[] =
    "SELECT user_id FROM app_links WHERE tenant_id = ? AND app_id = ? ORDER BY user_id";

void store_app_link_release(struct store_app_link *l)
{
    if (l == NULL)
        return;
    free(l->sent);
    l->sent = NULL;
}

static enum status read_link(struct stmt *st, void *out)
{
    struct store_app_link *l = out;
    memset(l, 0, sizeof(*l));
    rec_col_copy(st, 0, l->tenant_id, sizeof(l->tenant_id));
    rec_col_copy(st, 1, l->app_id, sizeof(l->app_id));
    rec_col_copy(st, 2, l->user_id, sizeof(l->user_id));
    rec_col_copy(st, 3, l->remote_id, sizeof(l->remote_id));
    rec_col_copy(st, 5, l->hash, sizeof(l->hash));
    l->active = stmt_col_int(st, 6) != 0;
    rec_col_copy(st, 7, l->created_at, sizeof(l->created_at));
    rec_col_copy(st, 8, l->updated_at, sizeof(l->updated_at));
    return rec_col_dup(st, 4, &l->sent) ? OK : ERR_NOMEM;
}

enum status store_app_link_get(struct store_tx *tx, const char *tenant_id, const char *app_id,
                               const char *user_id, struct store_app_link *out)
{
    const char *keys[] = { tenant_id, app_id, user_id };
    return rec_find(tx, SQL_LINK_GET, keys, 3, read_link, out, "get link");
}

enum status store_app_link_of_remote(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                     const char *remote_id, struct store_app_link *out)
{
    const char *keys[] = { tenant_id, app_id, remote_id };
    return rec_find(tx, SQL_LINK_OF_REMOTE, keys, 3, read_link, out, "get link of remote account");
}

enum status store_app_link_put(struct store_tx *tx, const struct store_app_link *l)
{
    char now[STORE_TIME_LEN];
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_LINK_PUT, 0, "put link", &st);
    if (rc != OK)
        return rc;
    const char *created = rec_time_or_now(l->created_at, now);
    stmt_text(st, l->tenant_id);
    stmt_text(st, l->app_id);
    stmt_text(st, l->user_id);
    stmt_text(st, l->remote_id);
    stmt_text(st, l->sent ? l->sent : "{}");
    stmt_text(st, l->hash);
    stmt_int(st, l->active);
    stmt_text(st, created);
    stmt_text(st, l->updated_at[0] ? l->updated_at : created);
    return rec_done(st);
}

enum status store_app_link_delete(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                  const char *user_id)
{
    const char *keys[] = { tenant_id, app_id, user_id };
    return rec_exec(tx, SQL_LINK_DELETE, keys, 3, "delete link");
}

static enum status each_id(struct stmt *st, rec_any_fn fn, void *ctx)
{
    return ((store_id_fn)fn)(ctx, stmt_col_text(st, 0));
}

enum status store_app_link_users(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                 store_id_fn fn, void *ctx)
{
    const char *keys[] = { tenant_id, app_id };
    return rec_each(tx, SQL_LINK_USERS, keys, 2, STMT_SCAN, each_id, (rec_any_fn)fn, ctx,
                    "list linked users");
}

static const char SQL_LINKS_UNVERIFY[] =
    "UPDATE app_links SET hash = '' WHERE tenant_id = ? AND app_id = ?";

enum status store_app_links_unverify(struct store_tx *tx, const char *tenant_id, const char *app_id)
{
    const char *keys[] = { tenant_id, app_id };
    return rec_exec(tx, SQL_LINKS_UNVERIFY, keys, 2, "unverify links");
}

/* ---- jobs -------------------------------------------------------------------------------- */

#define JOB_COLUMNS "tenant_id, app_id, user_id, gen, attempts, next_at, last_error, dead, kind"
static const char SQL_JOB_ENQUEUE[] =
    "INSERT INTO app_jobs (tenant_id, app_id, user_id, gen, attempts, next_at, dead, created_at, "
    "kind) VALUES (?1, ?2, ?3, 1, 0, ?4, 0, ?4, ?5) ON CONFLICT (tenant_id, app_id, user_id) DO "
    "UPDATE SET gen = app_jobs.gen + 1, attempts = 0, dead = 0, next_at = excluded.next_at";
static const char SQL_JOB_DUE[] = "SELECT " JOB_COLUMNS " FROM app_jobs WHERE tenant_id = ? AND "
                                  "app_id = ? AND dead = 0 AND next_at <= ? ORDER BY next_at, "
                                  "user_id LIMIT ?";
static const char SQL_JOB_GET[] = "SELECT " JOB_COLUMNS " FROM app_jobs WHERE tenant_id = ? AND "
                                  "app_id = ? AND user_id = ? AND kind = 'user'";
static const char SQL_JOB_FAILING[] =
    "SELECT " JOB_COLUMNS " FROM app_jobs WHERE tenant_id = ? AND app_id = ? AND "
    "(attempts > 0 OR dead <> 0) ORDER BY dead DESC, next_at, user_id LIMIT ?";
static const char SQL_JOB_DONE[] = "DELETE FROM app_jobs WHERE tenant_id = ? AND app_id = ? AND "
                                   "user_id = ? AND gen = ?";
static const char SQL_JOB_UPDATE[] =
    "UPDATE app_jobs SET attempts = ?, next_at = ?, last_error = ?, dead = ? WHERE tenant_id = ? "
    "AND app_id = ? AND user_id = ? AND gen = ?";
static const char SQL_JOB_RETRY_ALL[] =
    "UPDATE app_jobs SET attempts = 0, dead = 0, gen = gen + 1, next_at = ?3 WHERE tenant_id = ?1 "
    "AND app_id = ?2 AND dead = 1";
static const char SQL_JOB_RETRY_ONE[] =
    "UPDATE app_jobs SET attempts = 0, dead = 0, gen = gen + 1, next_at = ?3 WHERE tenant_id = ?1 "
    "AND app_id = ?2 AND dead = 1 AND user_id = ?4";
static const char SQL_APP_COUNTS[] =
    "SELECT (SELECT COUNT(*) FROM app_links WHERE tenant_id = ?1 AND app_id = ?2), "
    "(SELECT COUNT(*) FROM app_jobs WHERE tenant_id = ?1 AND app_id = ?2 AND dead = 0), "
    "(SELECT COUNT(*) FROM app_jobs WHERE tenant_id = ?1 AND app_id = ?2 AND dead = 0 "
    "AND attempts > 0), "
    "(SELECT COUNT(*) FROM app_jobs WHERE tenant_id = ?1 AND app_id = ?2 AND dead = 1), "
    "(SELECT COUNT(*) FROM app_group_links WHERE tenant_id = ?1 AND app_id = ?2)";

enum status store_app_job_enqueue(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                  const char *user_id, const char *now)
{
    const char *values[] = { tenant_id, app_id, user_id, now, "user" };
    return rec_exec(tx, SQL_JOB_ENQUEUE, values, 5, "enqueue job");
}

enum status store_app_group_job_enqueue(struct store_tx *tx, const char *tenant_id,
                                        const char *app_id, const char *group_id,
                                        const char *next_at)
{
    const char *values[] = { tenant_id, app_id, group_id, next_at, "group" };
    return rec_exec(tx, SQL_JOB_ENQUEUE, values, 5, "enqueue group job");
}

static enum status each_job(struct stmt *st, rec_any_fn fn, void *ctx)
{
    struct store_app_job j;
    memset(&j, 0, sizeof(j));
    rec_col_copy(st, 0, j.tenant_id, sizeof(j.tenant_id));
    rec_col_copy(st, 1, j.app_id, sizeof(j.app_id));
    rec_col_copy(st, 2, j.user_id, sizeof(j.user_id));
    j.gen = stmt_col_int(st, 3);
    j.attempts = stmt_col_int(st, 4);
    rec_col_copy(st, 5, j.next_at, sizeof(j.next_at));
    rec_col_copy(st, 6, j.last_error, sizeof(j.last_error));
    j.dead = stmt_col_int(st, 7) != 0;
    rec_col_copy(st, 8, j.kind, sizeof(j.kind));
    return ((store_app_job_fn)fn)(ctx, &j);
}

static enum status copy_job(void *ctx, const struct store_app_job *j)
{
    *(struct store_app_job *)ctx = *j;
    return OK;
}

static enum status read_job(struct stmt *st, void *out)
{
    return each_job(st, (rec_any_fn)copy_job, out);
}

enum status store_app_job_get(struct store_tx *tx, const char *tenant_id, const char *app_id,
                              const char *user_id, struct store_app_job *out)
{
    const char *keys[] = { tenant_id, app_id, user_id };
    return rec_find(tx, SQL_JOB_GET, keys, 3, read_job, out, "get job");
}

enum status store_app_job_failing_each(struct store_tx *tx, const char *tenant_id,
                                       const char *app_id, size_t limit, store_app_job_fn fn,
                                       void *ctx)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_JOB_FAILING, 0, "failing jobs", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, tenant_id);
    stmt_text(st, app_id);
    stmt_int(st, (int64_t)limit);
    return rec_rows(st, each_job, (rec_any_fn)fn, ctx);
}

enum status store_app_job_due_each(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                   const char *now, size_t limit, store_app_job_fn fn, void *ctx)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_JOB_DUE, 0, "due jobs", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, tenant_id);
    stmt_text(st, app_id);
    stmt_text(st, now);
    stmt_int(st, (int64_t)limit);
    return rec_rows(st, each_job, (rec_any_fn)fn, ctx);
}

enum status store_app_job_done(struct store_tx *tx, const struct store_app_job *j)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_JOB_DONE, 0, "finish job", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, j->tenant_id);
    stmt_text(st, j->app_id);
    stmt_text(st, j->user_id);
    stmt_int(st, j->gen);
    return rec_done(st);
}

enum status store_app_job_update(struct store_tx *tx, const struct store_app_job *j)
{
    struct stmt *st;
    enum status rc = stmt_prepare(tx, SQL_JOB_UPDATE, 0, "update job", &st);
    if (rc != OK)
        return rc;
    stmt_int(st, j->attempts);
    stmt_text(st, j->next_at);
    stmt_opt(st, j->last_error);
    stmt_int(st, j->dead);
    stmt_text(st, j->tenant_id);
    stmt_text(st, j->app_id);
    stmt_text(st, j->user_id);
    stmt_int(st, j->gen);
    return rec_done(st);
}

enum status store_app_job_retry(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                const char *user_id, const char *now, int64_t *n_out)
{
    struct stmt *st;
    enum status rc =
        stmt_prepare(tx, user_id ? SQL_JOB_RETRY_ONE : SQL_JOB_RETRY_ALL, 0, "retry jobs", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, tenant_id);
    stmt_text(st, app_id);
    stmt_text(st, now);
    if (user_id)
        stmt_text(st, user_id);
    rc = stmt_exec(st);
    if (n_out)
        *n_out = rc == OK ? stmt_changes(st) : 0;
    stmt_finish(st);
    return rc;
}

static enum status read_counts(struct stmt *st, void *out)
{
    struct store_app_counts *c = out;
    c->linked = stmt_col_int(st, 0);
    c->pending = stmt_col_int(st, 1);
    c->failing = stmt_col_int(st, 2);
    c->dead = stmt_col_int(st, 3);
    c->groups = stmt_col_int(st, 4);
    return OK;
}

enum status store_app_counts_get(struct store_tx *tx, const char *tenant_id, const char *app_id,
                                 struct store_app_counts *out)
{
    const char *keys[] = { tenant_id, app_id };
    memset(out, 0, sizeof(*out));
    return rec_find(tx, SQL_APP_COUNTS, keys, 2, read_counts, out, "count app state");
}
