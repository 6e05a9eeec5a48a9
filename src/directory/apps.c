/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apps.c - this file contains downstream apps, grants, the access rule and the
 * admin deactivate/activate of a user: each change and its event in one store
 * transaction, so the fan-out engine finds it in the event log (the outbox).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/clock.h"
#include "core/str.h"
#include "directory/apps.h"
#include "directory/audit.h"
#include "directory/locks.h"

static const char *const deprovision_modes[] = { "deactivate", "delete", NULL };

static enum status end_tx(struct store_tx *tx, enum status rc, struct scim_error *err)
{
    return directory_end_change(tx, rc, "the directory could not complete the request", err);
}

/* Append one event of an admin action on app (subject may be NULL: the app). */
static enum status app_event(struct store_tx *tx, const struct actor *by, const char *tenant_id,
                             const char *idp_id, const char *type, const char *subject_id,
                             json_t *summary)
{
    struct audit_ctx ctx = {
        .tenant_id = tenant_id,
        .idp_id = idp_id,
        .actor = by && by->name ? by->name : "cli",
        .source = by ? by->source : NULL,
    };
    enum status rc = audit_append(tx, &ctx, type, subject_id, summary);
    json_decref(summary);
    return rc;
}

static enum status check_text(const char *what, const char *s, size_t max, bool required,
                              struct scim_error *err)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0)
        return required ? scim_error_set(err, ERR_INVALID_VALUE, "%s must not be empty", what) : OK;
    if (n >= max)
        return scim_error_set(err, ERR_INVALID_VALUE, "%s is longer than %zu bytes", what, max - 1);
    if (!str_utf8_valid(s, n))
        return scim_error_set(err, ERR_INVALID_VALUE, "%s is not valid UTF-8", what);
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return scim_error_set(err, ERR_INVALID_VALUE, "%s contains a control character", what);
    }
    return OK;
}

static enum status check_url(const char *url, struct scim_error *err)
{
    enum status rc = check_text("scim url", url, STORE_URL_MAX, true, err);
    if (rc != OK)
        return rc;
    const char *rest = str_istarts(url, "https://")  ? url + 8
                       : str_istarts(url, "http://") ? url + 7
                                                     : NULL;
    if (rest == NULL || *rest == '\0' || *rest == '/')
        return scim_error_set(err, ERR_INVALID_VALUE, "scim url must be http(s)://host/...");
    const char *end = rest + strcspn(rest, "/?#");
    if (memchr(rest, '@', (size_t)(end - rest)) != NULL)
        return scim_error_set(err, ERR_INVALID_VALUE,
                              "scim url must not carry credentials; use a token file");
    if (strpbrk(url, "?# ") != NULL)
        return scim_error_set(err, ERR_INVALID_VALUE,
                              "scim url must not have a query, fragment or space");
    return OK;
}

static enum status check_new_app(const struct directory_app_new *na, const char **mode,
                                 struct scim_error *err)
{
    enum status rc = check_text("app name", na->name, STORE_NAME_MAX, true, err);
    if (rc == OK)
        rc = check_url(na->scim_url, err);
    if (rc == OK)
        rc = check_text("ca file", na->ca_file, STORE_PATH_MAX, false, err);
    if (rc != OK)
        return rc;
    *mode = NULL;
    for (size_t i = 0; deprovision_modes[i]; i++) {
        if (na->deprovision == NULL || strcmp(na->deprovision, deprovision_modes[i]) == 0) {
            *mode = deprovision_modes[i];
            break;
        }
    }
    if (*mode == NULL)
        return scim_error_set(err, ERR_INVALID_VALUE, "deprovision must be deactivate or delete");
    if (na->concurrency < 0 || na->concurrency > STORE_APP_CONCURRENCY_MAX)
        return scim_error_set(err, ERR_INVALID_VALUE, "concurrency must be from 1 to %d",
                              STORE_APP_CONCURRENCY_MAX);
    bool bearer = na->token && na->token[0];
    bool basic = na->basic_user && na->basic_user[0];
    if (bearer == basic)
        return scim_error_set(err, ERR_INVALID_VALUE,
                              "give either a bearer token or a basic user and password");
    if (basic && (rc = check_text("basic user", na->basic_user, STORE_NAME_MAX, true, err)) != OK)
        return rc;
    const char *secret = bearer ? na->token : na->password;
    if (secret == NULL || secret[0] == '\0')
        return scim_error_set(err, ERR_INVALID_VALUE, "the app's secret must not be empty");
    if (strlen(secret) > SECRETBOX_PLAIN_MAX)
        return scim_error_set(err, ERR_INVALID_VALUE, "the app's secret is longer than %d bytes",
                              SECRETBOX_PLAIN_MAX);
    return OK;
}

enum status directory_app_create(struct directory *dir, const struct secretbox *box,
                                 const struct directory_app_new *na, const struct actor *by,
                                 struct store_app *out, struct scim_error *err)
{
    scim_error_clear(err);
    memset(out, 0, sizeof(*out));
    const char *mode;
    enum status rc = check_new_app(na, &mode, err);
    if (rc != OK)
        return rc;
    if ((rc = crypto_uuid(out->id)) != OK)
        return scim_error_set(err, rc, "no randomness available");
    bool bearer = na->token && na->token[0];
    char owner[64];
    snprintf(owner, sizeof(owner), DIRECTORY_APP_CREDENTIAL_OWNER, out->id);
    if ((rc = secretbox_seal(box, owner, bearer ? na->token : na->password, &out->credential)) !=
        OK)
        return scim_error_set(err, rc, "could not seal the app's credential");
    str_copy(out->name, sizeof(out->name), na->name);
    str_copy(out->scim_url, sizeof(out->scim_url), na->scim_url);
    str_copy(out->auth, sizeof(out->auth), bearer ? "bearer" : "basic");
    if (!bearer)
        str_copy(out->basic_user, sizeof(out->basic_user), na->basic_user);
    if (na->ca_file)
        str_copy(out->ca_file, sizeof(out->ca_file), na->ca_file);
    str_copy(out->deprovision, sizeof(out->deprovision), mode);
    out->put_only = na->put_only;
    out->push_groups = na->push_groups;
    out->concurrency = na->concurrency > 0 ? na->concurrency : STORE_APP_CONCURRENCY_DEFAULT;
    str_copy(out->state, sizeof(out->state), "enabled");
    clock_now_iso(out->created_at);
    str_copy(out->updated_at, sizeof(out->updated_at), out->created_at);

    struct store_tx *tx = NULL;
    if ((rc = store_begin(dir->store, true, &tx)) != OK) {
        store_app_release(out);
        return scim_error_set(err, rc, "database unavailable");
    }
    struct store_tenant tenant;
    rc = directory_tenant_find(tx, na->tenant_key, &tenant, err);
    if (rc == OK) {
        str_copy(out->tenant_id, sizeof(out->tenant_id), tenant.id);
        /* the app starts at the end of the log: what it must reach comes from grants */
        rc = store_event_last_seq(tx, &out->position);
    }
    if (rc == OK) {
        rc = store_app_insert(tx, out);
        if (rc == ERR_UNIQUENESS)
            scim_error_set(err, rc, "tenant already has an app named '%s'", out->name);
    }
    if (rc == OK)
        rc = app_event(tx, by, out->tenant_id, NULL, "app_created", out->id,
                       json_pack("{s:s,s:s,s:s,s:b}", "name", out->name, "auth", out->auth,
                                 "deprovision", out->deprovision, "put_only", out->put_only));
    rc = end_tx(tx, rc, err);
    free(out->credential); /* sealed, but callers have no use for it */
    out->credential = NULL;
    return rc;
}

/* The app by id inside tx, with a "no app" error. */
static enum status find_app(struct store_tx *tx, const char *app_id, struct store_app *out,
                            struct scim_error *err)
{
    memset(out, 0, sizeof(*out));
    enum status rc = store_app_get(tx, NULL, app_id ? app_id : "", out);
    if (rc == ERR_NOT_FOUND)
        scim_error_set(err, rc, "no app '%.64s'", app_id ? app_id : "");
    return rc;
}

/* Begin a write transaction, run guard and read the app in it.  On failure the
 * transaction is ended and err says why; on success the caller ends it
 * (end_tx) and releases app. */
static enum status lock_app(struct store_tx *tx, const char *app_id)
{
    char key[8 + STORE_ID_LEN];
    snprintf(key, sizeof(key), "app:%.*s", STORE_ID_LEN - 1, app_id ? app_id : "");
    return store_lock(tx, key);
}

enum status directory_app_write_begin(struct store *store, const char *tenant_id,
                                      const char *app_id, struct store_tx **tx)
{
    enum status rc = store_begin(store, true, tx);
    if (rc == OK)
        rc = lock_app(*tx, app_id);
    struct store_app app;
    if (rc == OK && (rc = store_app_get(*tx, tenant_id, app_id, &app)) == OK)
        store_app_release(&app);
    if (rc != OK && *tx != NULL) {
        store_rollback(*tx);
        *tx = NULL;
    }
    return rc;
}

static enum status begin_app_change(struct directory *dir, const char *app_id,
                                    const struct directory_guard *guard, struct store_tx **tx,
                                    struct store_app *app, struct scim_error *err)
{
    scim_error_clear(err);
    memset(app, 0, sizeof(*app));
    enum status rc = directory_begin_change(dir, guard, tx, err);
    if (rc != OK)
        return rc;
    rc = lock_app(*tx, app_id); /* the engine's writes of the app take turns with this */
    if (rc == OK)
        rc = find_app(*tx, app_id, app, err);
    return rc == OK ? OK : end_tx(*tx, rc, err);
}

enum status directory_app_get(struct directory *dir, const char *app_id, struct store_app *out,
                              struct scim_error *err)
{
    scim_error_clear(err);
    struct store_tx *tx = NULL;
    enum status rc = store_begin(dir->store, false, &tx);
    if (rc != OK)
        return scim_error_set(err, rc, "database unavailable");
    rc = find_app(tx, app_id, out, err);
    store_rollback(tx);
    if (rc != OK && err->status == OK)
        scim_error_set(err, rc, "could not read the app: %s", status_name(rc));
    return rc;
}

enum status directory_app_set_enabled(struct directory *dir, const char *app_id, bool enabled,
                                      const struct actor *by, const struct directory_guard *guard,
                                      struct scim_error *err)
{
    struct store_tx *tx;
    struct store_app app;
    enum status rc = begin_app_change(dir, app_id, guard, &tx, &app, err);
    if (rc != OK)
        return rc;
    str_copy(app.state, sizeof(app.state), enabled ? "enabled" : "disabled");
    if (enabled) { /* an admin's enable starts afresh: no pause, no quarantine */
        app.paused_until[0] = '\0';
        app.pause_reason[0] = '\0';
        app.quarantine_probes = 0;
    }
    clock_now_iso(app.updated_at);
    rc = store_app_update(tx, &app);
    if (rc == OK)
        rc = app_event(tx, by, app.tenant_id, NULL, enabled ? "app_enabled" : "app_disabled",
                       app.id, NULL);
    store_app_release(&app);
    return end_tx(tx, rc, err);
}

bool directory_app_held(const struct store_app *app)
{
    return strcmp(app->paused_until, DIRECTORY_APP_HELD_UNTIL) == 0;
}

enum status directory_app_allow_deprovisions(struct directory *dir, const char *app_id,
                                             const struct actor *by, struct scim_error *err)
{
    struct store_tx *tx;
    struct store_app app;
    enum status rc = begin_app_change(dir, app_id, NULL, &tx, &app, err);
    if (rc != OK)
        return rc;
    if (!directory_app_held(&app)) {
        rc = scim_error_set(err, ERR_CONFLICT, "app '%.64s' holds no deprovisions", app.id);
    } else {
        json_t *summary = json_pack("{s:s}", "reason", app.pause_reason);
        app.paused_until[0] = '\0';
        app.pause_reason[0] = '\0';
        clock_now_iso(app.updated_at);
        rc = store_app_update(tx, &app);
        if (rc == OK)
            rc =
                app_event(tx, by, app.tenant_id, NULL, "app_deprovisions_allowed", app.id, summary);
        else
            json_decref(summary);
    }
    store_app_release(&app);
    return end_tx(tx, rc, err);
}

enum status directory_app_delete(struct directory *dir, const char *app_id, const struct actor *by,
                                 const struct directory_guard *guard, struct scim_error *err)
{
    struct store_tx *tx;
    struct store_app app;
    enum status rc = begin_app_change(dir, app_id, guard, &tx, &app, err);
    if (rc != OK)
        return rc;
    store_app_release(&app);
    rc = store_app_delete(tx, app.tenant_id, app.id);
    if (rc == OK)
        rc = app_event(tx, by, app.tenant_id, NULL, "app_deleted", app.id,
                       json_pack("{s:s}", "name", app.name));
    return end_tx(tx, rc, err);
}

enum status directory_app_retry(struct directory *dir, const char *app_id, const char *user_id,
                                const struct actor *by, int64_t *n_out, struct scim_error *err)
{
    *n_out = 0;
    struct store_tx *tx;
    struct store_app app;
    enum status rc = begin_app_change(dir, app_id, NULL, &tx, &app, err);
    if (rc != OK)
        return rc;
    store_app_release(&app);
    char now[STORE_TIME_LEN];
    clock_now_iso(now);
    rc = store_app_job_retry(tx, app.tenant_id, app.id, user_id, now, n_out);
    if (rc == OK)
        rc = app_event(tx, by, app.tenant_id, NULL, "app_retry", app.id,
                       json_pack("{s:o,s:I}", "user", user_id ? json_string(user_id) : json_null(),
                                 "jobs", (json_int_t)*n_out));
    return end_tx(tx, rc, err);
}

/* ---- reconciliation ---------------------------------------------------------------------- */

struct id_list {
    char (*v)[STORE_ID_LEN];
    size_t n, alloc;
};

static enum status id_list_add(void *ctx, const char *id)
{
    struct id_list *l = ctx;
    if (id == NULL || strlen(id) >= STORE_ID_LEN)
        return OK;
    char(*v)[STORE_ID_LEN] = array_room(l->v, l->n, &l->alloc, sizeof(*v), 256);
    if (v == NULL)
        return ERR_NOMEM;
    l->v = v;
    str_copy(l->v[l->n++], STORE_ID_LEN, id);
    return OK;
}

static int id_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Sort and drop duplicates (a user in two granted groups, granted and linked). */
static void id_list_unique(struct id_list *l)
{
    if (l->n == 0)
        return;
    qsort(l->v, l->n, sizeof(*l->v), id_cmp);
    size_t kept = 1;
    for (size_t i = 1; i < l->n; i++) {
        if (strcmp(l->v[i], l->v[kept - 1]) != 0)
            memmove(l->v[kept++], l->v[i], STORE_ID_LEN);
    }
    l->n = kept;
}

struct grant_list {
    struct store_app_grant *v;
    size_t n, alloc;
};

static enum status grant_list_add(void *ctx, const struct store_app_grant *g)
{
    struct grant_list *l = ctx;
    struct store_app_grant *v = array_room(l->v, l->n, &l->alloc, sizeof(*v), 16);
    if (v == NULL)
        return ERR_NOMEM;
    l->v = v;
    l->v[l->n++] = *g;
    return OK;
}

enum status directory_app_reach(struct store_tx *tx, const struct store_app *app, store_id_fn fn,
                                void *ctx)
{
    struct grant_list grants = { 0 }; /* read whole first: members are read per grant */
    enum status rc = store_app_grant_each(tx, app->tenant_id, app->id, grant_list_add, &grants);
    for (size_t i = 0; rc == OK && i < grants.n; i++) {
        const struct store_app_grant *g = &grants.v[i];
        if (strcmp(g->kind, "group") == 0)
            rc = store_group_members_each(tx, app->tenant_id, g->idp_id, g->subject_id, false, fn,
                                          ctx);
        else
            rc = fn(ctx, g->subject_id);
    }
    free(grants.v);
    if (rc == OK)
        rc = store_app_link_users(tx, app->tenant_id, app->id, fn, ctx);
    return rc;
}

/* Every user the app's grants reach, and every linked user, each once. */
static enum status resync_users(struct store_tx *tx, const struct store_app *app,
                                struct id_list *users)
{
    enum status rc = directory_app_reach(tx, app, id_list_add, users);
    if (rc == OK)
        id_list_unique(users);
    return rc;
}

/* Enqueue the reconciliation of app in tx and record it. */
static enum status resync_in_tx(struct store_tx *tx, const struct store_app *app,
                                const struct actor *by, const char *reason, int64_t *n_out)
{
    struct id_list users = { 0 };
    enum status rc = resync_users(tx, app, &users);
    char now[STORE_TIME_LEN];
    clock_now_iso(now);
    /* links before jobs, jobs in id order: the order the engine's own
     * transactions lock them in, so a resync never deadlocks with a worker */
    if (rc == OK)
        rc = store_app_links_unverify(tx, app->tenant_id, app->id);
    for (size_t i = 0; rc == OK && i < users.n; i++)
        rc = store_app_job_enqueue(tx, app->tenant_id, app->id, users.v[i], now);
    if (rc == OK)
        rc = app_event(tx, by, app->tenant_id, NULL, "app_resync_started", app->id,
                       json_pack("{s:s,s:s,s:I}", "app", app->id, "reason", reason, "users",
                                 (json_int_t)users.n));
    *n_out = rc == OK ? (int64_t)users.n : 0;
    free(users.v);
    return rc;
}

enum status directory_app_resync(struct directory *dir, const char *app_id, const struct actor *by,
                                 int64_t *n_out, struct scim_error *err)
{
    *n_out = 0;
    struct store_tx *tx;
    struct store_app app;
    enum status rc = begin_app_change(dir, app_id, NULL, &tx, &app, err);
    if (rc != OK)
        return rc;
    store_app_release(&app);
    if (strcmp(app.state, "enabled") != 0)
        rc = scim_error_set(err, ERR_CONFLICT, "app '%s' is disabled; enable it first", app.id);
    else
        rc = resync_in_tx(tx, &app, by, "admin", n_out);
    return end_tx(tx, rc, err);
}

struct last_resync {
    int64_t at_ms;
};

static enum status note_resync(void *ctx, const struct store_event *e)
{
    struct last_resync *l = ctx;
    int64_t ms;
    if (clock_parse_iso(e->at, &ms) && ms > l->at_ms)
        l->at_ms = ms;
    return OK;
}

enum status directory_app_resync_if_due(struct directory *dir, const char *app_id,
                                        int64_t interval_s, int64_t *next_ms)
{
    struct scim_error err;
    struct store_tx *tx;
    struct store_app app;
    enum status rc = begin_app_change(dir, app_id, NULL, &tx, &app, &err);
    if (rc != OK)
        return rc;
    store_app_release(&app);
    /* the last one began when its event was written; never: count from the app's creation */
    struct last_resync last = { 0 };
    struct store_event_query q = {
        .tenant_id = app.tenant_id,
        .type = "app_resync_started",
        .subject_id = app.id,
        .limit = 1,
    };
    rc = store_event_each(tx, &q, note_resync, &last);
    if (rc == OK && last.at_ms == 0 && !clock_parse_iso(app.created_at, &last.at_ms))
        last.at_ms = 0;
    int64_t now_ms = clock_now_s() * 1000;
    int64_t due_ms = last.at_ms + interval_s * 1000;
    if (rc == OK && due_ms > now_ms) {
        *next_ms = due_ms;
        store_rollback(tx);
        return OK;
    }
    char actor[8 + STORE_ID_LEN];
    snprintf(actor, sizeof(actor), "app:%s", app.id);
    struct actor by = { actor, NULL };
    int64_t n = 0;
    if (rc == OK && strcmp(app.state, "enabled") == 0)
        rc = resync_in_tx(tx, &app, &by, "scheduled", &n);
    *next_ms = now_ms + interval_s * 1000;
    scim_error_clear(&err);
    return end_tx(tx, rc, &err);
}

/* ---- grants ------------------------------------------------------------------------------ */

/* Check that subject_id (a group or user) belongs to the app's tenant; the
 * group's connection into idp_id. */
static enum status check_subject(struct store_tx *tx, const struct store_app *app, const char *kind,
                                 const char *subject_id, char idp_id[STORE_ID_LEN],
                                 struct scim_error *err)
{
    idp_id[0] = '\0';
    enum status rc;
    if (strcmp(kind, "group") == 0) {
        char tenant_id[STORE_ID_LEN];
        rc = store_group_locate(tx, subject_id, tenant_id, idp_id);
        if (rc == OK && strcmp(tenant_id, app->tenant_id) != 0)
            rc = ERR_NOT_FOUND; /* another tenant's group: as if it did not exist */
        if (rc == ERR_NOT_FOUND)
            scim_error_set(err, rc, "no group '%.64s' in the app's tenant", subject_id);
        return rc;
    }
    if (strcmp(kind, "user") != 0)
        return scim_error_set(err, ERR_INVALID_VALUE, "grant kind must be group or user");
    struct store_user u;
    rc = store_user_get(tx, app->tenant_id, subject_id, &u);
    if (rc == OK)
        store_user_release(&u);
    if (rc == ERR_NOT_FOUND)
        scim_error_set(err, rc, "no user '%.64s' in the app's tenant", subject_id);
    return rc;
}

static enum status grant_change(struct directory *dir, const char *app_id, const char *kind,
                                const char *subject_id, bool add, const struct actor *by,
                                struct scim_error *err)
{
    scim_error_clear(err);
    enum status rc = check_text("grant subject", subject_id, STORE_ID_LEN, true, err);
    if (rc != OK)
        return rc;
    struct store_tx *tx;
    struct store_app app;
    if ((rc = begin_app_change(dir, app_id, NULL, &tx, &app, err)) != OK)
        return rc;
    store_app_release(&app);
    struct store_app_grant g = { 0 };
    if (add) {
        rc = check_subject(tx, &app, kind, subject_id, g.idp_id, err);
        if (rc == OK) {
            str_copy(g.tenant_id, sizeof(g.tenant_id), app.tenant_id);
            str_copy(g.app_id, sizeof(g.app_id), app.id);
            str_copy(g.kind, sizeof(g.kind), kind);
            str_copy(g.subject_id, sizeof(g.subject_id), subject_id);
            rc = store_app_grant_insert(tx, &g);
            if (rc == ERR_UNIQUENESS)
                scim_error_set(err, ERR_CONFLICT, "%s '%s' is already granted to the app", kind,
                               subject_id);
        }
    } else {
        rc = store_app_grant_delete(tx, app.tenant_id, app.id, kind, subject_id, &g);
        if (rc == ERR_NOT_FOUND)
            scim_error_set(err, rc, "%s '%.64s' is not granted to the app", kind, subject_id);
    }
    if (rc == OK)
        rc = app_event(tx, by, app.tenant_id, g.idp_id[0] ? g.idp_id : NULL,
                       add ? "app_grant_added" : "app_grant_removed", subject_id,
                       json_pack("{s:s,s:s}", "app", app.id, "kind", kind));
    return end_tx(tx, rc, err);
}

enum status directory_grant_add(struct directory *dir, const char *app_id, const char *kind,
                                const char *subject_id, const struct actor *by,
                                struct scim_error *err)
{
    return grant_change(dir, app_id, kind, subject_id, true, by, err);
}

enum status directory_grant_remove(struct directory *dir, const char *app_id, const char *kind,
                                   const char *subject_id, const struct actor *by,
                                   struct scim_error *err)
{
    return grant_change(dir, app_id, kind, subject_id, false, by, err);
}

enum status directory_app_access(struct store_tx *tx, const struct store_app *app,
                                 const char *user_id, bool *out)
{
    *out = false;
    struct store_user u;
    enum status rc = store_user_get(tx, app->tenant_id, user_id, &u);
    if (rc == ERR_NOT_FOUND)
        return OK;
    if (rc != OK)
        return rc;
    bool active = strcmp(u.status, "active") == 0;
    store_user_release(&u);
    if (!active)
        return OK;
    return store_app_user_granted(tx, app->tenant_id, app->id, user_id, out);
}

/* ---- admin lifecycle of a user ------------------------------------------------------------ */

enum status directory_user_set_active(struct directory *dir, const char *user_id, bool active,
                                      const struct actor *by, struct scim_error *err)
{
    scim_error_clear(err);
    struct store_tx *tx = NULL;
    enum status rc = store_begin(dir->store, true, &tx);
    if (rc != OK)
        return scim_error_set(err, rc, "database unavailable");
    struct store_user u;
    rc = store_user_get(tx, NULL, user_id ? user_id : "", &u);
    if (rc == ERR_NOT_FOUND) {
        scim_error_set(err, rc, "no user '%.64s'", user_id ? user_id : "");
        return end_tx(tx, rc, err);
    }
    if (rc != OK)
        return end_tx(tx, rc, err);
    /* the same lock key the SCIM path takes for this user */
    struct scim_conn conn = { 0 };
    str_copy(conn.tenant_id, sizeof(conn.tenant_id), u.tenant_id);
    str_copy(conn.idp_id, sizeof(conn.idp_id), u.idp_id);
    char id[STORE_ID_LEN];
    str_copy(id, sizeof(id), u.id);
    store_user_release(&u);
    rc = lock_user(tx, &conn, id);
    if (rc == OK)
        rc = store_user_get(tx, conn.tenant_id, id, &u); /* what the lock protects */
    if (rc != OK)
        return end_tx(tx, rc, err);
    const char *want = active ? "active" : "deactivated";
    if (strcmp(u.status, "deleted") == 0) {
        rc = scim_error_set(err, ERR_CONFLICT, "user '%s' is deleted", u.id);
    } else if (strcmp(u.status, want) != 0) {
        str_copy(u.status, sizeof(u.status), want);
        clock_now_iso(u.updated_at);
        rc = store_user_update(tx, &u);
        if (rc == OK)
            rc = app_event(tx, by, u.tenant_id, NULL,
                           active ? "user_activated" : "user_deactivated", u.id, NULL);
    }
    store_user_release(&u);
    return end_tx(tx, rc, err);
}
