/* SPDX-License-Identifier: Apache-2.0 */
/*
 * routes_apps.c - the admin API's routes for downstream apps and their
 * grants: list, create (the credential taken from the request body, sealed
 * at once and never answered), show, disable / enable, delete, status with
 * counts, retry of dead letters, and grants to groups and users.  The same
 * directory functions as `scimd app` and `scimd grant` (src/cli/app.c).
 *
 * An app's configuration is read with an ETag; PATCH and DELETE honour
 * If-Match, checked inside the change's transaction (admin_if_match).  Its status (counts, last
 * error) is a separate object, as it changes with every fan-out step.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "admin/admin.h"
#include "admin/api.h"
#include "core/str.h"
#include "directory/apps.h"

/* The server's key for app credentials (serve --key-file), or NULL. */
static _Atomic(const struct secretbox *) app_box;

void admin_api_set_secretbox(const struct secretbox *box)
{
    atomic_store(&app_box, box);
}

const struct secretbox *admin_api_secretbox(void)
{
    return atomic_load(&app_box);
}

/* What an admin configured (updated_at: when an admin last changed it): nothing the
 * fan-out engine changes, never the credential. */
static json_t *app_json(const struct store_app *a)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:s,s:b,s:b,s:s,s:s,s:s}", "id", a->id,
                     "tenant_id", a->tenant_id, "name", a->name, "scim_url", a->scim_url, "auth",
                     a->auth, "basic_user", admin_str(a->basic_user), "ca_file",
                     admin_str(a->ca_file), "deprovision", a->deprovision, "put_only", a->put_only,
                     "push_groups", a->push_groups, "state", a->state, "created_at", a->created_at,
                     "updated_at", a->updated_at);
}

/* ---- finding an app the caller may see -------------------------------------------------- */

#define STATUS_FAILING_MAX 50 /* failing jobs a status lists */

struct app_read {
    struct store_app app;
    struct store_app_counts counts;
    bool with_counts;
    json_t *failing; /* with counts: the jobs that failed, dead letters first */
};

static enum status add_failing(void *ctx, const struct store_app_job *j)
{
    return json_array_append_new(
               ctx, json_pack("{s:s,s:s,s:I,s:s,s:o,s:b}", "subject_id", j->user_id, "kind",
                              j->kind, "attempts", (json_int_t)j->attempts, "next_at", j->next_at,
                              "last_error", admin_str(j->last_error), "dead", j->dead)) == 0
               ? OK
               : ERR_NOMEM;
}

static enum status read_app(struct admin_req *r, struct store_tx *tx, void *ctx)
{
    struct app_read *a = ctx;
    enum status rc = store_app_get(tx, NULL, r->params[0], &a->app);
    if (rc != OK)
        return rc;
    store_app_release(&a->app); /* the sealed credential is never needed here */
    if (!admin_sees(r, a->app.tenant_id))
        return ERR_NOT_FOUND;
    if (!a->with_counts)
        return OK;
    rc = store_app_counts_get(tx, a->app.tenant_id, a->app.id, &a->counts);
    if (rc == OK && (a->failing = json_array()) == NULL)
        rc = ERR_NOMEM;
    if (rc == OK)
        rc = store_app_job_failing_each(tx, a->app.tenant_id, a->app.id, STATUS_FAILING_MAX,
                                        add_failing, a->failing);
    return rc;
}

/* The app of the route's first parameter, or answered (404). */
static bool visible_app(struct admin_req *r, struct app_read *a)
{
    return admin_in_read_tx(r, read_app, a);
}

/* admin_show_fn: what GET shows of the app, read in the change's transaction. */
static enum status show_app(struct admin_req *r, struct store_tx *tx, void *ctx, json_t **out)
{
    (void)ctx;
    struct app_read a = { .with_counts = false };
    enum status rc = read_app(r, tx, &a);
    *out = rc == OK ? app_json(&a.app) : NULL;
    return rc;
}

/* ---- apps ------------------------------------------------------------------------------- */

static enum status add_app(void *ctx, const struct store_app *a)
{
    return admin_listing_add(ctx, a->tenant_id, a->created_at, a->id, app_json(a));
}

static enum status read_apps(struct admin_req *r, struct store_tx *tx, void *ctx)
{
    char tenant[STORE_ID_LEN];
    enum status rc = admin_scope_tenant_id(r, tx, tenant);
    return rc == OK ? store_app_each(tx, tenant[0] ? tenant : NULL, add_app, ctx) : rc;
}

void admin_apps_list(struct admin_req *r)
{
    admin_list_with(r, read_apps);
}

/* A boolean member of the body (absent: false); false (answered 400) when not boolean. */
static bool body_bool(struct admin_req *r, const char *name, bool *out)
{
    json_t *v = json_object_get(r->body, name);
    *out = json_is_true(v);
    if (v == NULL || json_is_boolean(v))
        return true;
    admin_fail(r, 400, "invalid_request", "%s must be true or false", name);
    return false;
}

void admin_apps_create(struct admin_req *r)
{
    static const char *const strings[] = { "tenant_id",  "name",     "scim_url",    "token",
                                           "basic_user", "password", "deprovision", "ca_file" };
    if (!admin_body_strings(r, strings, sizeof(strings) / sizeof(strings[0])))
        return;
    struct directory_app_new na = {
        .tenant_key = admin_is_super(r) ? admin_body_str(r, "tenant_id") : r->auth.admin.tenant_id,
        .name = admin_body_str(r, "name"),
        .scim_url = admin_body_str(r, "scim_url"),
        .token = admin_body_str(r, "token"),
        .basic_user = admin_body_str(r, "basic_user"),
        .password = admin_body_str(r, "password"),
        .deprovision = admin_body_str(r, "deprovision"),
        .ca_file = admin_body_str(r, "ca_file"),
    };
    if (!body_bool(r, "put_only", &na.put_only) || !body_bool(r, "push_groups", &na.push_groups))
        return;
    if (na.tenant_key == NULL) {
        admin_fail(r, 400, "invalid_request", "tenant_id is required");
        return;
    }
    /* a path on the server's own disk is an operator's choice, not a tenant admin's */
    if (na.ca_file != NULL && !admin_is_super(r)) {
        admin_fail(r, 403, "forbidden", "only a super admin may set ca_file");
        return;
    }
    const struct secretbox *box = atomic_load(&app_box);
    if (box == NULL) {
        /* an operator's setting, not an outage: 409 with a code of its own */
        admin_fail(r, 409, "no_key_file",
                   "the server has no key for app credentials: start it with --key-file");
        return;
    }
    struct scim_error err;
    struct store_app app;
    struct actor by = admin_actor(r);
    enum status rc = directory_app_create(r->dir, box, &na, &by, &app, &err);
    /* the secret leaves memory with the body (json_decref in api.c), and is never echoed */
    if (rc != OK) {
        admin_fail_with(r, &err);
        return;
    }
    admin_reply(r, 201, app_json(&app));
}

void admin_apps_get(struct admin_req *r)
{
    struct app_read a = { .with_counts = false };
    if (visible_app(r, &a))
        admin_reply_tagged(r, app_json(&a.app));
}

void admin_apps_patch(struct admin_req *r)
{
    bool enabled;
    if (!admin_body_state(r, &enabled))
        return;
    struct app_read a = { .with_counts = false };
    if (!visible_app(r, &a))
        return;
    struct scim_error err;
    struct actor by = admin_actor(r);
    struct admin_if_match m;
    const struct directory_guard *guard =
        admin_if_match(&m, r, show_app, NULL, "app", a.app.id, NULL);
    if (directory_app_set_enabled(r->dir, a.app.id, enabled, &by, guard, &err) != OK) {
        admin_fail_with(r, &err);
        return;
    }
    if (visible_app(r, &a))
        admin_reply_tagged(r, app_json(&a.app));
}

void admin_apps_delete(struct admin_req *r)
{
    struct app_read a = { .with_counts = false };
    if (!visible_app(r, &a))
        return;
    struct scim_error err;
    struct actor by = admin_actor(r);
    struct admin_if_match m;
    const struct directory_guard *guard =
        admin_if_match(&m, r, show_app, NULL, "app", a.app.id, NULL);
    if (directory_app_delete(r->dir, a.app.id, &by, guard, &err) != OK)
        admin_fail_with(r, &err);
    else
        admin_reply(r, 204, NULL);
}

void admin_apps_status(struct admin_req *r)
{
    struct app_read a = { .with_counts = true };
    if (!visible_app(r, &a)) {
        json_decref(a.failing);
        return;
    }
    const struct store_app *p = &a.app;
    admin_reply(r, 200,
                json_pack("{s:s,s:s,s:o,s:o,s:b,s:o,s:o,s:I,s:{s:I,s:I,s:I,s:I},s:o}", "id", p->id,
                          "state", p->state, "paused_until", admin_str(p->paused_until),
                          "pause_reason", admin_str(p->pause_reason), "held", directory_app_held(p),
                          "last_success_at", admin_str(p->last_success_at), "last_error",
                          admin_str(p->last_error), "position", (json_int_t)p->position, "counts",
                          "linked", (json_int_t)a.counts.linked, "pending",
                          (json_int_t)a.counts.pending, "failing", (json_int_t)a.counts.failing,
                          "dead", (json_int_t)a.counts.dead, "failing_jobs", a.failing));
}

void admin_apps_retry(struct admin_req *r)
{
    json_t *user = json_object_get(r->body, "user_id");
    if (user != NULL && !json_is_string(user)) {
        admin_fail(r, 400, "invalid_request", "user_id must be a string");
        return;
    }
    struct app_read a = { .with_counts = false };
    if (!visible_app(r, &a))
        return;
    struct scim_error err;
    struct actor by = admin_actor(r);
    int64_t n = 0;
    if (directory_app_retry(r->dir, a.app.id, json_string_value(user), &by, &n, &err) != OK)
        admin_fail_with(r, &err);
    else
        admin_reply(r, 200, json_pack("{s:I}", "retried", (json_int_t)n));
}

/* Let a held app's deprovisions go, as `scimd app allow-deprovisions`. */
void admin_apps_allow_deprovisions(struct admin_req *r)
{
    struct app_read a = { .with_counts = false };
    if (!visible_app(r, &a))
        return;
    struct scim_error err;
    struct actor by = admin_actor(r);
    if (directory_app_allow_deprovisions(r->dir, a.app.id, &by, &err) != OK)
        admin_fail_with(r, &err);
    else
        admin_reply(r, 200, json_pack("{s:s,s:b}", "id", a.app.id, "deprovisions_allowed", 1));
}

/* A full reconciliation, as `scimd app resync --no-wait`: the jobs are queued
 * and answered at once; GET .../status shows them drain. */
void admin_apps_resync(struct admin_req *r)
{
    struct app_read a = { .with_counts = false };
    if (!visible_app(r, &a))
        return;
    struct scim_error err;
    struct actor by = admin_actor(r);
    int64_t n = 0;
    if (directory_app_resync(r->dir, a.app.id, &by, &n, &err) != OK)
        admin_fail_with(r, &err);
    else
        admin_reply(r, 202, json_pack("{s:I}", "queued", (json_int_t)n));
}

/* ---- grants ----------------------------------------------------------------------------- */

static json_t *grant_json(const struct store_app_grant *g)
{
    return json_pack("{s:s,s:s,s:s,s:o,s:s}", "app_id", g->app_id, "kind", g->kind, "subject_id",
                     g->subject_id, "idp_id", admin_str(g->idp_id), "created_at", g->created_at);
}

struct grant_listing {
    struct app_read app;
    struct admin_page page;
};

static enum status add_grant(void *ctx, const struct store_app_grant *g)
{
    struct grant_listing *l = ctx;
    char key[ADMIN_CURSOR_MAX];
    snprintf(key, sizeof(key), "%s~%s", g->kind, g->subject_id);
    return admin_page_add(&l->page, key, grant_json(g));
}

static enum status read_grants(struct admin_req *r, struct store_tx *tx, void *ctx)
{
    struct grant_listing *l = ctx;
    enum status rc = read_app(r, tx, &l->app);
    return rc == OK ? store_app_grant_each(tx, l->app.app.tenant_id, l->app.app.id, add_grant, l)
                    : rc;
}

void admin_grants_list(struct admin_req *r)
{
    struct grant_listing l = { .app.with_counts = false };
    if (!admin_page_init(r, &l.page))
        return;
    if (admin_in_read_tx(r, read_grants, &l))
        admin_page_reply(r, &l.page);
    json_decref(l.page.items);
}

struct grant_read {
    struct app_read app;
    const char *kind, *subject;
    struct store_app_grant grant;
};

static enum status read_grant(struct admin_req *r, struct store_tx *tx, void *ctx)
{
    struct grant_read *g = ctx;
    enum status rc = read_app(r, tx, &g->app);
    return rc == OK ? store_app_grant_get(tx, g->app.app.tenant_id, g->app.app.id, g->kind,
                                          g->subject, &g->grant)
                    : rc;
}

void admin_grants_create(struct admin_req *r)
{
    const char *kind = admin_body_str(r, "kind"), *subject = admin_body_str(r, "subject_id");
    if (kind == NULL || subject == NULL) {
        admin_fail(r, 400, "invalid_request", "kind (group or user) and subject_id are required");
        return;
    }
    struct grant_read g = { .kind = kind, .subject = subject };
    if (!visible_app(r, &g.app))
        return;
    struct scim_error err;
    struct actor by = admin_actor(r);
    if (directory_grant_add(r->dir, g.app.app.id, kind, subject, &by, &err) != OK) {
        admin_fail_with(r, &err);
        return;
    }
    if (admin_in_read_tx(r, read_grant, &g))
        admin_reply(r, 201, grant_json(&g.grant));
}

void admin_grants_delete(struct admin_req *r)
{
    struct app_read a = { .with_counts = false };
    if (!visible_app(r, &a))
        return;
    struct scim_error err;
    struct actor by = admin_actor(r);
    if (directory_grant_remove(r->dir, a.app.id, r->params[1], r->params[2], &by, &err) != OK)
        admin_fail_with(r, &err);
    else
        admin_reply(r, 204, NULL);
}
