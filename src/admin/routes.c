/* SPDX-License-Identifier: Apache-2.0 */
/*
 * routes.c - the handlers of the admin API's routes: sign-in and sessions,
 * tenants, IdP connections, SCIM tokens, users and groups (the audit log:
 * events.c).
 * Objects of a tenant the caller may not see are answered 404, as if they
 * did not exist.  Changes go through the directory functions the CLI uses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "core/str.h"
#include "directory/feed.h"
#include "directory/mirroring.h"
#include "directory/token_expiry.h"

/* ---- sign-in ------------------------------------------------------------------------ */

static json_t *admin_json(const struct store_admin *a)
{
    return json_pack("{s:s,s:s,s:s,s:o}", "id", a->id, "email", a->email, "role", a->role,
                     "tenant_id", admin_str(a->tenant_id));
}

void admin_session_create(struct admin_req *r)
{
    if (!admin_check_origin(r))
        return;
    const char *email = admin_body_str(r, "email"), *password = admin_body_str(r, "password");
    if (email == NULL || password == NULL) {
        admin_fail(r, 400, "invalid_request", "email and password are required strings");
        return;
    }
    struct scim_error err;
    char id[DIRECTORY_SECRET_LEN], csrf[DIRECTORY_SECRET_LEN];
    if (directory_admin_login(r->dir, email, password, r->http->source, &r->auth, id, csrf, &err) !=
        OK) {
        admin_fail_with(r, &err);
        return;
    }
    admin_set_cookie(r, id);
    admin_reply(r, 201,
                json_pack("{s:o,s:s,s:i}", "admin", admin_json(&r->auth.admin), "csrf_token", csrf,
                          "expires_in", DIRECTORY_SESSION_MAX_S));
    memset(id, 0, sizeof(id));
    memset(csrf, 0, sizeof(csrf));
}

void admin_session_get(struct admin_req *r)
{
    admin_reply(r, 200,
                json_pack("{s:o,s:s}", "admin", admin_json(&r->auth.admin), "via",
                          r->auth.by_key ? "api_key" : "session"));
}

void admin_session_delete(struct admin_req *r)
{
    struct scim_error err;
    if (directory_admin_logout(r->dir, &r->auth, r->http->source, &err) != OK) {
        admin_fail_with(r, &err);
        return;
    }
    admin_set_cookie(r, NULL);
    admin_reply(r, 204, NULL);
}

void admin_setup(struct admin_req *r)
{
    if (!admin_check_origin(r))
        return;
    struct scim_error err;
    if (directory_admin_setup(r->dir, admin_body_str(r, "token"), admin_body_str(r, "password"),
                              r->http->source, &err) != OK) {
        admin_fail_with(r, &err);
        return;
    }
    admin_reply(r, 204, NULL);
}

/* ---- reading in one transaction ----------------------------------------------------- */

typedef admin_read_fn read_fn;

/* Run read in a read transaction; a store failure is answered.  ERR_TOO_MANY
 * (a full page) counts as success. */
static bool in_read_tx(struct admin_req *r, read_fn read, void *ctx)
{
    struct store_tx *tx = NULL;
    enum status rc = store_begin(r->dir->store, false, &tx);
    if (rc == OK) {
        rc = read(r, tx, ctx);
        store_rollback(tx);
    }
    if (rc == ERR_TOO_MANY)
        rc = OK;
    if (rc != OK && rc != ERR_NOT_FOUND)
        admin_fail_status(r, rc);
    else if (rc == ERR_NOT_FOUND)
        admin_fail(r, 404, "not_found", "no such object");
    return rc == OK;
}

/* ---- tenants ------------------------------------------------------------------------ */

static json_t *tenant_json(const struct store_tenant *t)
{
    return json_pack("{s:s,s:s,s:s,s:s}", "id", t->id, "name", t->name, "subdomain", t->subdomain,
                     "created_at", t->created_at);
}

static enum status add_tenant(void *ctx, const struct store_tenant *t)
{
    struct admin_listing *l = ctx;
    if (!admin_sees(l->r, t->id))
        return OK;
    char key[ADMIN_CURSOR_MAX];
    admin_page_key(key, t->created_at, t->id);
    return admin_page_add(&l->page, key, tenant_json(t));
}

static enum status read_tenants(struct admin_req *r, struct store_tx *tx, void *ctx)
{
    (void)r;
    return store_tenant_each(tx, add_tenant, ctx);
}

/* List with a page; answers. */
void admin_list_with(struct admin_req *r, admin_read_fn read)
{
    struct admin_listing l = { .r = r };
    if (!admin_page_init(r, &l.page))
        return;
    if (in_read_tx(r, read, &l))
        admin_page_reply(r, &l.page);
    json_decref(l.page.items);
}

void admin_tenants_list(struct admin_req *r)
{
    admin_list_with(r, read_tenants);
}

void admin_tenants_create(struct admin_req *r)
{
    struct scim_error err;
    struct store_tenant t;
    struct actor by = admin_actor(r);
    if (directory_tenant_create(r->dir, admin_body_str(r, "name"), admin_body_str(r, "subdomain"),
                                &by, &t, &err) != OK) {
        admin_fail_with(r, &err);
        return;
    }
    admin_reply(r, 201, tenant_json(&t));
}

/* ---- IdP connections ------------------------------------------------------------------ */

static json_t *idp_json(const struct admin_req *r, const struct store_idp *idp)
{
    char base[DIRECTORY_URL_MAX];
    directory_idp_base_url(r->dir, idp->id, base);
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "id", idp->id, "tenant_id", idp->tenant_id,
                     "name", idp->name, "vendor", idp->vendor, "created_at", idp->created_at,
                     "scim_base_url", base);
}

static enum status add_idp(void *ctx, const struct store_idp *idp)
{
    struct admin_listing *l = ctx;
    if (!admin_sees(l->r, idp->tenant_id))
        return OK;
    char key[ADMIN_CURSOR_MAX];
    admin_page_key(key, idp->created_at, idp->id);
    return admin_page_add(&l->page, key, idp_json(l->r, idp));
}

/* ?tenant= for a super admin (NULL: all), the caller's own tenant otherwise. */
static const char *tenant_scope(const struct admin_req *r)
{
    const char *tenant = http_query(r->http, "tenant");
    if (!admin_is_super(r))
        return r->auth.admin.tenant_id;
    return tenant && tenant[0] ? tenant : NULL;
}

static enum status read_idps(struct admin_req *r, struct store_tx *tx, void *ctx)
{
    return store_idp_each(tx, tenant_scope(r), add_idp, ctx);
}

void admin_idps_list(struct admin_req *r)
{
    admin_list_with(r, read_idps);
}

void admin_idps_create(struct admin_req *r)
{
    const char *tenant =
        admin_is_super(r) ? admin_body_str(r, "tenant_id") : r->auth.admin.tenant_id;
    if (tenant == NULL) {
        admin_fail(r, 400, "invalid_request", "tenant_id is required");
        return;
    }
    struct scim_error err;
    struct store_idp idp;
    struct actor by = admin_actor(r);
    if (directory_idp_create(r->dir, tenant, admin_body_str(r, "name"), admin_body_str(r, "vendor"),
                             &by, &idp, &err) != OK) {
        admin_fail_with(r, &err);
        return;
    }
    admin_reply(r, 201, idp_json(r, &idp));
}

/* The IdP of the route's first parameter, if the caller may see it. */
static enum status visible_idp(struct admin_req *r, struct store_tx *tx, struct store_idp *out)
{
    enum status rc = store_idp_get_fresh(tx, r->params[0], out); /* names change (rename) */
    if (rc == OK && !admin_sees(r, out->tenant_id))
        rc = ERR_NOT_FOUND;
    return rc;
}

static enum status read_idp(struct admin_req *r, struct store_tx *tx, void *ctx)
{
    return visible_idp(r, tx, ctx);
}

/* admin_idps_get: routes_config.c (with the connection's state and ETag) */

/* ---- SCIM tokens ---------------------------------------------------------------------- */

static json_t *token_json(const struct store_token *t)
{
    char now[STORE_TIME_LEN];
    clock_now_iso(now);
    enum token_expiry expiry = token_expiry_of(t, now); /* expires_soon: time to rotate */
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:b,s:b}", "id", t->id, "idp_id",
                     t->idp_id, "name", t->name, "prefix", t->prefix, "created_at", t->created_at,
                     "last_used_at", admin_str(t->last_used_at), "last_used_from",
                     admin_str(t->last_used_from), "revoked_at", admin_str(t->revoked_at),
                     "expires_at", admin_str(t->expires_at), "expired",
                     expiry == TOKEN_EXPIRY_EXPIRED, "expires_soon", expiry == TOKEN_EXPIRY_SOON);
}

static enum status add_token(void *ctx, const struct store_token *t)
{
    struct admin_listing *l = ctx;
    char key[ADMIN_CURSOR_MAX];
    admin_page_key(key, t->created_at, t->id);
    return admin_page_add(&l->page, key, token_json(t));
}

static enum status read_tokens(struct admin_req *r, struct store_tx *tx, void *ctx)
{
    struct store_idp idp;
    enum status rc = visible_idp(r, tx, &idp);
    return rc == OK ? store_token_each(tx, idp.id, add_token, ctx) : rc;
}

void admin_tokens_list(struct admin_req *r)
{
    admin_list_with(r, read_tokens);
}

void admin_tokens_create(struct admin_req *r)
{
    struct store_idp idp;
    if (!in_read_tx(r, read_idp, &idp))
        return;
    struct scim_error err;
    struct store_token t;
    char plaintext[CRYPTO_TOKEN_LEN];
    struct actor by = admin_actor(r);
    if (directory_token_create(r->dir, idp.id, admin_body_str(r, "name"), &by, &t, plaintext,
                               &err) != OK) {
        admin_fail_with(r, &err);
        return;
    }
    json_t *j = token_json(&t);
    json_object_set_new(j, "token", json_string(plaintext));
    memset(plaintext, 0, sizeof(plaintext));
    admin_reply(r, 201, j);
}

static enum status read_token(struct admin_req *r, struct store_tx *tx, void *ctx)
{
    struct store_token *t = ctx;
    enum status rc = store_token_get(tx, r->params[0], t);
    if (rc == OK && !admin_sees(r, t->tenant_id))
        rc = ERR_NOT_FOUND;
    return rc;
}

void admin_tokens_revoke(struct admin_req *r)
{
    struct store_token t;
    if (!in_read_tx(r, read_token, &t))
        return;
    struct scim_error err;
    struct actor by = admin_actor(r);
    if (directory_token_revoke(r->dir, t.id, &by, &err) != OK) {
        admin_fail_with(r, &err);
        return;
    }
    admin_reply(r, 204, NULL);
}

/* ---- users ---------------------------------------------------------------------------- */

static json_t *user_json(const struct store_user *u)
{
    return json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:s,s:o,s:b,s:s,s:s}", "id", u->id, "tenant_id",
                     u->tenant_id, "username", admin_str(u->username), "email", admin_str(u->email),
                     "given_name", admin_str(u->given_name), "family_name",
                     admin_str(u->family_name), "display_name", admin_str(u->display_name),
                     "status", u->status, "idp_id", admin_str(u->idp_id), "scim_managed",
                     u->scim_managed, "created_at", u->created_at, "updated_at", u->updated_at);
}

struct user_listing {
    struct admin_listing l;
    struct store_user_list q;
    char after_created_at[STORE_TIME_LEN];
    char after_id[STORE_ID_LEN];
};

static enum status add_user(void *ctx, const struct store_user *u)
{
    struct user_listing *ul = ctx;
    char key[ADMIN_CURSOR_MAX];
    admin_page_key(key, u->created_at, u->id);
    return admin_page_add(&ul->l.page, key, user_json(u));
}

static enum status read_users(struct admin_req *r, struct store_tx *tx, void *ctx)
{
    struct user_listing *ul = ctx;
    const char *tenant = tenant_scope(r);
    struct store_tenant t;
    enum status rc = store_tenant_find(tx, tenant, &t);
    if (rc == OK && !admin_sees(r, t.id))
        rc = ERR_NOT_FOUND;
    if (rc != OK)
        return rc;
    ul->q.tenant_id = t.id;
    return store_user_list(tx, &ul->q, add_user, ul);
}

/* The cursor of the users list: "<created_at>~<id>" of the last user shown. */
static bool users_cursor(struct user_listing *ul, const char *cursor)
{
    const char *tilde = strchr(cursor, '~');
    if (tilde == NULL || (size_t)(tilde - cursor) >= sizeof(ul->after_created_at) ||
        strlen(tilde + 1) >= sizeof(ul->after_id) || tilde[1] == '\0')
        return false;
    snprintf(ul->after_created_at, sizeof(ul->after_created_at), "%.*s", (int)(tilde - cursor),
             cursor);
    str_copy(ul->after_id, sizeof(ul->after_id), tilde + 1);
    ul->q.after_created_at = ul->after_created_at;
    ul->q.after_id = ul->after_id;
    return true;
}

void admin_users_list(struct admin_req *r)
{
    struct user_listing ul = { .l.r = r };
    if (tenant_scope(r) == NULL) {
        admin_fail(r, 400, "invalid_request", "tenant is required");
        return;
    }
    ul.q.q = http_query(r->http, "q");
    if (ul.q.q && ul.q.q[0] == '\0')
        ul.q.q = NULL;
    size_t q_len = ul.q.q ? strlen(ul.q.q) : 0;
    if (q_len > STORE_INDEXED_VALUE_MAX || (ul.q.q && !str_utf8_valid(ul.q.q, q_len))) {
        admin_fail(r, 400, "invalid_request", "q must be at most %d bytes of UTF-8",
                   STORE_INDEXED_VALUE_MAX);
        return;
    }
    ul.q.status = http_query(r->http, "status");
    ul.q.idp_id = http_query(r->http, "idp");
    if (ul.q.idp_id && ul.q.idp_id[0] == '\0')
        ul.q.idp_id = NULL;
    if (ul.q.status && strcmp(ul.q.status, "active") != 0 &&
        strcmp(ul.q.status, "deactivated") != 0 && strcmp(ul.q.status, "deleted") != 0) {
        admin_fail(r, 400, "invalid_request", "status is active, deactivated or deleted");
        return;
    }
    if (!admin_page_init(r, &ul.l.page))
        return;
    if (ul.l.page.after && !users_cursor(&ul, ul.l.page.after)) {
        admin_fail(r, 400, "invalid_cursor", "the cursor is not one this server issued");
        json_decref(ul.l.page.items);
        return;
    }
    ul.q.limit = ul.l.page.limit + 1; /* one more tells whether a next page exists */
    if (in_read_tx(r, read_users, &ul))
        admin_page_reply(r, &ul.l.page);
    json_decref(ul.l.page.items);
}

struct user_detail {
    struct store_user user;
    json_t *rows;
    json_t *groups;
    json_t *events;
    json_t *canonical; /* custom_fields and roles (directory_user_detail) */
    json_t *apps;      /* the user's accounts in the tenant's apps */
    struct store_tx *tx;
    const char *idp_id; /* of the row whose groups are being read */
};

static enum status add_group_of(void *ctx, const char *group_id, const char *display_name)
{
    struct user_detail *d = ctx;
    return json_array_append_new(
               d->groups, json_pack("{s:s,s:s,s:s}", "id", group_id, "display_name",
                                    display_name ? display_name : "", "idp_id", d->idp_id)) == 0
               ? OK
               : ERR_NOMEM;
}

static enum status add_row(void *ctx, const struct store_idp_user *row)
{
    struct user_detail *d = ctx;
    json_t *doc = row->doc ? json_loads(row->doc, 0, NULL) : NULL;
    json_t *j = json_pack("{s:s,s:o,s:b,s:b,s:I,s:o,s:s,s:s}", "idp_id", row->idp_id, "user_name",
                          admin_str(row->user_name), "active", row->active, "deleted", row->deleted,
                          "version", (json_int_t)row->version, "resource", doc ? doc : json_null(),
                          "created_at", row->created_at, "updated_at", row->updated_at);
    if (j == NULL || json_array_append_new(d->rows, j) != 0)
        return ERR_NOMEM;
    d->idp_id = row->idp_id;
    return store_groups_of_user_each(d->tx, d->user.tenant_id, row->idp_id, d->user.id,
                                     add_group_of, d);
}

static json_t *event_json(const struct store_event *e)
{
    return feed_event_json(e);
}

static enum status add_user_event(void *ctx, const struct store_event *e)
{
    struct user_detail *d = ctx;
    /* delivered oldest first; shown newest first */
    return json_array_insert_new(d->events, 0, event_json(e)) == 0 ? OK : ERR_NOMEM;
}

static enum status add_tenant_app(void *ctx, const struct store_app *a)
{
    return json_array_append_new(ctx, json_pack("{s:s,s:s,s:s}", "app_id", a->id, "name", a->name,
                                                "app_state", a->state)) == 0
               ? OK
               : ERR_NOMEM;
}

/* Each app of the tenant where the user has an account or a job: the account
 * (remote id, active) and the job (attempts, next try, last error, dead). */
static enum status read_user_apps(struct store_tx *tx, struct user_detail *d)
{
    json_t *apps = json_array();
    enum status rc = apps ? store_app_each(tx, d->user.tenant_id, add_tenant_app, apps) : ERR_NOMEM;
    size_t i;
    json_t *a;
    json_array_foreach(apps, i, a)
    {
        if (rc != OK)
            break;
        const char *app_id = json_string_value(json_object_get(a, "app_id"));
        struct store_app_link link;
        struct store_app_job job;
        enum status got_link = store_app_link_get(tx, d->user.tenant_id, app_id, d->user.id, &link);
        enum status got_job = store_app_job_get(tx, d->user.tenant_id, app_id, d->user.id, &job);
        if ((got_link != OK && got_link != ERR_NOT_FOUND) ||
            (got_job != OK && got_job != ERR_NOT_FOUND)) {
            rc = got_link != OK && got_link != ERR_NOT_FOUND ? got_link : got_job;
        } else if (got_link == OK || got_job == OK) {
            json_t *entry = json_deep_copy(a);
            json_object_set_new(entry, "account",
                                got_link == OK ? json_pack("{s:s,s:b,s:s}", "remote_id",
                                                           link.remote_id, "active", link.active,
                                                           "updated_at", link.updated_at)
                                               : json_null());
            json_object_set_new(
                entry, "job",
                got_job == OK ? json_pack("{s:I,s:s,s:o,s:b}", "attempts", (json_int_t)job.attempts,
                                          "next_at", job.next_at, "last_error",
                                          admin_str(job.last_error), "dead", job.dead)
                              : json_null());
            json_array_append_new(d->apps, entry);
        }
        if (got_link == OK)
            store_app_link_release(&link);
    }
    json_decref(apps);
    return rc;
}

static enum status read_user(struct admin_req *r, struct store_tx *tx, void *ctx)
{
    struct user_detail *d = ctx;
    enum status rc = store_user_get(tx, NULL, r->params[0], &d->user);
    if (rc == OK && !admin_sees(r, d->user.tenant_id))
        rc = ERR_NOT_FOUND;
    if (rc != OK)
        return rc;
    d->tx = tx;
    rc = directory_user_detail(tx, &d->user, d->canonical);
    if (rc == OK)
        rc = store_idp_user_each_of_user(tx, d->user.tenant_id, d->user.id, add_row, d);
    if (rc == OK) {
        struct store_event_query q = { .tenant_id = d->user.tenant_id,
                                       .subject_id = d->user.id,
                                       .limit = ADMIN_USER_EVENTS };
        rc = store_event_each(tx, &q, add_user_event, d);
    }
    if (rc == OK)
        rc = read_user_apps(tx, d);
    return rc;
}

void admin_users_get(struct admin_req *r)
{
    struct user_detail d = { .rows = json_array(),
                             .groups = json_array(),
                             .events = json_array(),
                             .canonical = json_object(),
                             .apps = json_array() };
    memset(&d.user, 0, sizeof(d.user));
    if (d.rows && d.groups && d.events && d.canonical && d.apps && in_read_tx(r, read_user, &d)) {
        json_t *j = user_json(&d.user);
        json_object_update(j, d.canonical);
        json_object_set(j, "idp_rows", d.rows);
        json_object_set(j, "groups", d.groups);
        json_object_set(j, "events", d.events);
        json_object_set(j, "apps", d.apps);
        admin_reply(r, 200, j);
    } else if (!(d.rows && d.groups && d.events && d.canonical && d.apps)) {
        admin_fail(r, 500, "internal", "out of memory");
    }
    json_decref(d.rows);
    json_decref(d.groups);
    json_decref(d.events);
    json_decref(d.canonical);
    json_decref(d.apps);
    store_user_release(&d.user);
}

/* ---- groups --------------------------------------------------------------------------- */

static json_t *group_json(const struct store_group *g)
{
    return json_pack("{s:s,s:s,s:s,s:o,s:I,s:s,s:s}", "id", g->id, "idp_id", g->idp_id,
                     "display_name", g->display_name ? g->display_name : "", "external_id",
                     admin_str(g->external_id), "version", (json_int_t)g->version, "created_at",
                     g->created_at, "updated_at", g->updated_at);
}

static enum status add_group(void *ctx, const struct store_group *g)
{
    struct admin_listing *l = ctx;
    return admin_page_add(&l->page, g->id, group_json(g));
}

struct group_detail {
    struct store_group group;
    json_t *grants; /* apps granted to the group */
    json_t *roles;  /* roles the group grants */
    json_t *tenant_roles;
    bool mapped; /* the role being read maps this group */
};

static enum status add_role_of_tenant(void *ctx, const struct store_role *role)
{
    return json_array_append_new(ctx, json_pack("{s:s,s:s}", "id", role->id, "name", role->name)) ==
                   0
               ? OK
               : ERR_NOMEM;
}

static enum status role_maps_group(void *ctx, const char *group_id, const char *display_name)
{
    (void)display_name;
    struct group_detail *d = ctx;
    d->mapped = d->mapped || strcmp(group_id, d->group.id) == 0;
    return OK;
}

/* The apps granted to the group, and the roles it grants (a tenant has few of
 * each: read all, keep the group's). */
static enum status read_group_uses(struct store_tx *tx, const char *tenant_id,
                                   struct group_detail *d)
{
    json_t *apps = json_array();
    enum status rc = apps ? store_app_each(tx, tenant_id, add_tenant_app, apps) : ERR_NOMEM;
    size_t i;
    json_t *a;
    json_array_foreach(apps, i, a)
    {
        if (rc != OK)
            break;
        struct store_app_grant g;
        enum status got =
            store_app_grant_get(tx, tenant_id, json_string_value(json_object_get(a, "app_id")),
                                "group", d->group.id, &g);
        if (got == OK)
            json_array_append(d->grants, a);
        else if (got != ERR_NOT_FOUND)
            rc = got;
    }
    json_decref(apps);
    if (rc == OK)
        rc = store_role_each(tx, tenant_id, add_role_of_tenant, d->tenant_roles);
    json_array_foreach(d->tenant_roles, i, a)
    {
        if (rc != OK)
            break;
        d->mapped = false;
        rc = store_role_groups_each(tx, tenant_id, json_string_value(json_object_get(a, "id")),
                                    role_maps_group, d);
        if (rc == OK && d->mapped)
            json_array_append(d->roles, a);
    }
    return rc;
}

static enum status read_group(struct admin_req *r, struct store_tx *tx, void *ctx)
{
    struct group_detail *d = ctx;
    struct store_idp idp;
    enum status rc = visible_idp(r, tx, &idp);
    if (rc == OK)
        rc = store_group_get(tx, idp.tenant_id, idp.id, r->params[1], &d->group);
    if (rc != OK)
        return rc;
    rc = read_group_uses(tx, idp.tenant_id, d);
    if (rc != OK)
        store_group_release(&d->group);
    return rc;
}

void admin_groups_get(struct admin_req *r)
{
    struct group_detail d = { .grants = json_array(),
                              .roles = json_array(),
                              .tenant_roles = json_array() };
    if (!d.grants || !d.roles || !d.tenant_roles) {
        admin_fail(r, 500, "internal", "out of memory");
    } else if (in_read_tx(r, read_group, &d)) {
        json_t *j = group_json(&d.group);
        json_object_set(j, "grants", d.grants);
        json_object_set(j, "roles", d.roles);
        admin_reply(r, 200, j);
        store_group_release(&d.group);
    }
    json_decref(d.grants);
    json_decref(d.roles);
    json_decref(d.tenant_roles);
}

static enum status read_groups(struct admin_req *r, struct store_tx *tx, void *ctx)
{
    struct admin_listing *l = ctx;
    struct store_idp idp;
    enum status rc = visible_idp(r, tx, &idp);
    if (rc != OK)
        return rc;
    struct store_search q = { .tenant_id = idp.tenant_id,
                              .idp_id = idp.id,
                              .sort = STORE_SORT_ID,
                              .limit = l->page.limit + 1,
                              .after_id = l->page.after,
                              .skip_count = true };
    struct store_search_result res;
    return store_group_search(tx, &q, add_group, l, &res);
}

void admin_groups_list(struct admin_req *r)
{
    admin_list_with(r, read_groups);
}

static enum status add_member(void *ctx, const char *id)
{
    struct admin_listing *l = ctx;
    return admin_page_add(&l->page, id, json_pack("{s:s}", "user_id", id));
}

static enum status read_members(struct admin_req *r, struct store_tx *tx, void *ctx)
{
    struct store_idp idp;
    struct store_group g;
    enum status rc = visible_idp(r, tx, &idp);
    if (rc == OK)
        rc = store_group_get(tx, idp.tenant_id, idp.id, r->params[1], &g);
    if (rc != OK)
        return rc;
    store_group_release(&g);
    struct admin_listing *l = ctx;
    rc = store_group_members_each(tx, idp.tenant_id, idp.id, r->params[1], true, add_member, l);
    /* Each member of the page as the user list shows it, read once the member
     * statement is done (one page, at most ?limit= reads). */
    size_t i;
    json_t *item;
    json_array_foreach(l->page.items, i, item)
    {
        if (rc != OK && rc != ERR_TOO_MANY) /* too many: the page is full, which is fine */
            break;
        struct store_user u;
        const char *id = json_string_value(json_object_get(item, "user_id"));
        enum status got = store_user_get(tx, idp.tenant_id, id, &u);
        if (got == OK) {
            json_object_set_new(item, "user", user_json(&u));
            store_user_release(&u);
        } else if (got != ERR_NOT_FOUND) {
            rc = got;
        }
    }
    return rc;
}

void admin_group_members(struct admin_req *r)
{
    admin_list_with(r, read_members);
}

/* ---- shared with the other route files -------------------------------------------------- */

bool admin_in_read_tx(struct admin_req *r, admin_read_fn read, void *ctx)
{
    return in_read_tx(r, read, ctx);
}

enum status admin_visible_idp(struct admin_req *r, struct store_tx *tx, struct store_idp *out)
{
    return visible_idp(r, tx, out);
}

json_t *admin_idp_json(const struct admin_req *r, const struct store_idp *idp)
{
    return idp_json(r, idp);
}

enum status admin_listing_add(struct admin_listing *l, const char *tenant_id,
                              const char *created_at, const char *id, json_t *item)
{
    if (!admin_sees(l->r, tenant_id)) {
        json_decref(item);
        return OK;
    }
    char key[ADMIN_CURSOR_MAX];
    admin_page_key(key, created_at, id);
    return admin_page_add(&l->page, key, item);
}

const char *admin_tenant_scope(const struct admin_req *r)
{
    return tenant_scope(r);
}

enum status admin_scope_tenant_id(struct admin_req *r, struct store_tx *tx, char out[STORE_ID_LEN])
{
    out[0] = '\0';
    const char *key = tenant_scope(r);
    if (key == NULL)
        return OK;
    struct store_tenant t;
    enum status rc = store_tenant_find(tx, key, &t);
    if (rc == OK && !admin_sees(r, t.id))
        rc = ERR_NOT_FOUND;
    if (rc == OK)
        str_copy(out, STORE_ID_LEN, t.id);
    return rc;
}

bool admin_body_state(struct admin_req *r, bool *enabled)
{
    const char *key;
    json_t *v;
    json_object_foreach(r->body, key, v)
    {
        if (strcmp(key, "state") != 0) {
            admin_fail(r, 400, "invalid_request", "only state may change (unknown '%.64s')", key);
            return false;
        }
    }
    const char *state = admin_body_str(r, "state");
    if (state == NULL || (strcmp(state, "enabled") != 0 && strcmp(state, "disabled") != 0)) {
        admin_fail(r, 400, "invalid_request", "state is enabled or disabled");
        return false;
    }
    *enabled = strcmp(state, "enabled") == 0;
    return true;
}

bool admin_body_strings(struct admin_req *r, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(r->body, names[i]);
        if (v != NULL && !json_is_string(v)) {
            admin_fail(r, 400, "invalid_request", "%s must be a string", names[i]);
            return false;
        }
    }
    return true;
}
