/* SPDX-License-Identifier: Apache-2.0 */
/*
 * group_push.c - this file contains the pushing of granted groups to a
 * downstream app: the events that concern them, the group job (link or
 * create, rename, member batches, release on grant removal) and the rows it
 * records as it goes.  See group_push.h.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/str.h"
#include "directory/apps.h"
#include "outbound/group_push.h"
#include "scim/outbound.h"

/* ---- which groups ---------------------------------------------------------------------- */

enum status group_push_event_groups(struct store_tx *tx, const struct store_app *app,
                                    const struct store_event *ev, store_id_fn fn, void *ctx)
{
    const char *type = ev->type ? ev->type : "";
    if (ev->subject_id == NULL || ev->subject_id[0] == '\0')
        return OK;
    if (strncmp(type, "scim_group_", 11) == 0) {
        struct store_app_grant g;
        enum status rc =
            store_app_grant_get(tx, app->tenant_id, app->id, "group", ev->subject_id, &g);
        bool concerned = rc == OK;
        if (rc == ERR_NOT_FOUND) /* not granted (any more): pushed before? */
            rc = store_app_group_linked(tx, app->tenant_id, app->id, ev->subject_id, &concerned);
        if (rc != OK)
            return rc;
        return concerned ? fn(ctx, ev->subject_id) : OK;
    }
    if (strncmp(type, "app_grant_", 10) == 0) {
        json_t *summary = ev->summary ? json_loads(ev->summary, 0, NULL) : NULL;
        const char *a = json_string_value(json_object_get(summary, "app"));
        const char *kind = json_string_value(json_object_get(summary, "kind"));
        bool concerned = a && kind && strcmp(a, app->id) == 0 && strcmp(kind, "group") == 0;
        json_decref(summary);
        return concerned ? fn(ctx, ev->subject_id) : OK;
    }
    return OK;
}

enum status group_push_enqueue(struct store_tx *tx, const struct store_app *app,
                               const char *group_id)
{
    char due[CLOCK_ISO_LEN];
    clock_iso_from_ms(clock_now_ms() + GROUP_PUSH_DELAY_MS, due);
    return store_app_group_job_enqueue(tx, app->tenant_id, app->id, group_id, due);
}

struct enqueue_ctx {
    struct store_tx *tx;
    const struct store_app *app;
};

static enum status enqueue_one(void *ctx, const char *group_id)
{
    struct enqueue_ctx *c = ctx;
    return group_push_enqueue(c->tx, c->app, group_id);
}

enum status group_push_user_changed(struct store_tx *tx, const struct store_app *app,
                                    const char *user_id)
{
    struct enqueue_ctx c = { tx, app };
    return store_app_groups_of_user_each(tx, app->tenant_id, app->id, user_id, enqueue_one, &c);
}

/* ---- the group job ---------------------------------------------------------------------- */

struct member {
    char *user_id;
    char *remote_id;
    bool exists; /* the user's account in the app is (still) remote_id */
};

struct members {
    struct member *v;
    size_t n, alloc;
};

static void members_release(struct members *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].user_id);
        free(l->v[i].remote_id);
    }
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static enum status members_add(void *ctx, const struct store_app_group_member *m)
{
    struct members *l = ctx;
    if (l->n == l->alloc) {
        size_t alloc = l->alloc ? l->alloc * 2 : 64;
        struct member *p = realloc(l->v, alloc * sizeof(*p));
        if (p == NULL)
            return ERR_NOMEM;
        l->v = p;
        l->alloc = alloc;
    }
    struct member *e = &l->v[l->n];
    e->user_id = str_dup(m->user_id ? m->user_id : "");
    e->remote_id = str_dup(m->remote_id ? m->remote_id : "");
    e->exists = m->account_exists;
    if (e->user_id == NULL || e->remote_id == NULL) {
        free(e->user_id);
        free(e->remote_id);
        return ERR_NOMEM;
    }
    l->n++;
    return OK;
}

/* One group job: what was read, and what it did. */
struct push {
    struct store *store;
    const struct store_app *app;
    struct scim_client *client;
    const char *group_id;
    struct scim_client_result *res;
    const char **failed_at;
    bool granted, exists, linked;
    char idp_id[STORE_ID_LEN];
    struct store_group group;
    struct store_app_group_link link;
    struct members pushed; /* rows of what scimd put in the remote group */
    struct members wanted; /* what it should hold */
};

static enum status push_read(struct push *p)
{
    struct store_tx *tx = NULL;
    enum status rc = store_begin(p->store, false, &tx);
    if (rc != OK)
        return rc;
    const char *tenant = p->app->tenant_id;
    struct store_app_grant g;
    rc = store_app_grant_get(tx, tenant, p->app->id, "group", p->group_id, &g);
    p->granted = rc == OK;
    if (rc == ERR_NOT_FOUND)
        rc = OK;
    if (rc == OK && p->granted) {
        str_copy(p->idp_id, sizeof(p->idp_id), g.idp_id);
        rc = store_group_get(tx, tenant, g.idp_id, p->group_id, &p->group);
        p->exists = rc == OK;
        if (rc == ERR_NOT_FOUND)
            rc = OK;
    }
    if (rc == OK) {
        rc = store_app_group_link_get(tx, tenant, p->app->id, p->group_id, &p->link);
        p->linked = rc == OK;
        if (rc == ERR_NOT_FOUND)
            rc = OK;
    }
    if (rc == OK)
        rc = store_app_group_pushed_each(tx, tenant, p->app->id, p->group_id, members_add,
                                         &p->pushed);
    if (rc == OK && p->granted && p->exists)
        rc = store_app_group_wanted_each(tx, tenant, p->app->id, p->idp_id, p->group_id,
                                         members_add, &p->wanted);
    store_rollback(tx);
    return rc;
}

/* What one step changed, to be recorded in one transaction. */
struct record {
    const char *const *add_users, *const *add_remotes;
    size_t n_add;
    const char *const *forget_users;
    size_t n_forget;
    bool write_link, drop_link;
    json_t *event; /* app_group_pushed summary (taken), or NULL */
};

static enum status push_record(struct push *p, struct record *r)
{
    struct store_tx *tx = NULL;
    enum status rc = directory_app_write_begin(p->store, p->app->tenant_id, p->app->id, &tx);
    if (rc != OK) { /* ERR_NOT_FOUND: the app was deleted meanwhile */
        json_decref(r->event);
        return rc;
    }
    const char *tenant = p->app->tenant_id, *app = p->app->id;
    if (r->drop_link) {
        rc = store_app_group_link_delete(tx, tenant, app, p->group_id);
    } else {
        if (r->write_link) {
            clock_now_iso(p->link.updated_at);
            rc = store_app_group_link_put(tx, &p->link);
        }
        if (rc == OK)
            rc = store_app_group_pushed_remove(tx, tenant, app, p->group_id, r->forget_users,
                                               r->n_forget);
        if (rc == OK)
            rc = store_app_group_pushed_add(tx, tenant, app, p->group_id, r->add_users,
                                            r->add_remotes, r->n_add);
    }
    if (rc == OK && r->event) {
        json_object_set_new(r->event, "app", json_string(app));
        char *text = json_dumps(r->event, JSON_COMPACT);
        char actor[8 + STORE_ID_LEN];
        snprintf(actor, sizeof(actor), "app:%s", app);
        struct store_event ev = {
            .tenant_id = tenant,
            .type = "app_group_pushed",
            .actor = actor,
            .subject_id = p->group_id,
            .summary = text,
        };
        rc = text ? store_event_append(tx, &ev) : ERR_NOMEM;
        free(text);
    }
    json_decref(r->event);
    r->event = NULL;
    return rc == OK ? store_commit(tx) : (store_rollback(tx), rc);
}

static enum scim_client_outcome failed(struct push *p, const char *what, enum scim_client_outcome o)
{
    *p->failed_at = what;
    return o;
}

/* A local problem (the store, memory): retried like a transient failure. */
static enum scim_client_outcome local(struct push *p, const char *what, enum status rc)
{
    scim_client_result_release(p->res);
    p->res->outcome = SCIM_CLIENT_TRANSIENT;
    snprintf(p->res->detail, sizeof(p->res->detail), "%s: %s", what, status_name(rc));
    return failed(p, what, SCIM_CLIENT_TRANSIENT);
}

/* Forget the link (the remote group is gone or no longer ours). */
static enum status drop_link(struct push *p, json_t *event)
{
    struct record r = { .drop_link = true, .event = event };
    enum status rc = push_record(p, &r);
    members_release(&p->pushed);
    store_app_group_link_release(&p->link);
    p->linked = false;
    return rc;
}

/* Find the group downstream by displayName, else create it empty; link it. */
static enum scim_client_outcome link_or_create(struct push *p)
{
    const char *name = p->group.display_name ? p->group.display_name : "";
    const char *action = "linked";
    enum scim_client_outcome o =
        scim_client_find(p->client, SCIM_CLIENT_GROUPS, "displayName", name, p->res);
    if (o != SCIM_CLIENT_OK)
        return failed(p, "find group", o);
    if (p->res->total == 0) {
        char *body = scim_outbound_group_body(p->group_id, name, NULL, 0);
        if (body == NULL)
            return local(p, "build group", ERR_NOMEM);
        o = scim_client_create(p->client, SCIM_CLIENT_GROUPS, body, p->res);
        free(body);
        action = "created";
        if (o == SCIM_CLIENT_CONFLICT) { /* it exists after all (a lost answer, a race) */
            o = scim_client_find(p->client, SCIM_CLIENT_GROUPS, "displayName", name, p->res);
            if (o != SCIM_CLIENT_OK)
                return failed(p, "find group", o);
            if (p->res->total == 0)
                return failed(p, "create group", SCIM_CLIENT_TRANSIENT);
            action = "linked";
        } else if (o != SCIM_CLIENT_OK) {
            return failed(p, "create group", o);
        }
    }
    memset(&p->link, 0, sizeof(p->link));
    str_copy(p->link.tenant_id, sizeof(p->link.tenant_id), p->app->tenant_id);
    str_copy(p->link.app_id, sizeof(p->link.app_id), p->app->id);
    str_copy(p->link.group_id, sizeof(p->link.group_id), p->group_id);
    str_copy(p->link.remote_id, sizeof(p->link.remote_id), p->res->id);
    p->link.display_name = str_dup(name);
    if (p->link.display_name == NULL)
        return local(p, "link group", ERR_NOMEM);
    p->linked = true;
    struct record r = {
        .write_link = true,
        .event = json_pack("{s:s,s:s,s:s}", "action", action, "remote_id", p->link.remote_id,
                           "displayName", name),
    };
    enum status rc = push_record(p, &r);
    return rc == OK ? SCIM_CLIENT_OK : local(p, "record group link", rc);
}

static bool no_target(const struct scim_client_result *res)
{
    return res->outcome == SCIM_CLIENT_PERMANENT && strcmp(res->scim_type, "noTarget") == 0;
}

/* PATCH the members in batches; *add_done / *rm_done say what was applied.  A
 * remove answered "noTarget" (someone was gone already, RFC 7644 §3.5.2) is
 * retried one member at a time, a gone member counting as removed. */
static enum scim_client_outcome send_members(struct push *p, const char *const *add, size_t n_add,
                                             const char *const *rm, size_t n_rm, size_t *add_done,
                                             size_t *rm_done)
{
    const char *remote = p->link.remote_id;
    enum scim_client_outcome o =
        scim_client_patch_members(p->client, remote, add, n_add, rm, n_rm, p->res);
    size_t done = p->res->members_done;
    *add_done = done < n_add ? done : n_add;
    *rm_done = done > n_add ? done - n_add : 0;
    if (no_target(p->res)) {
        if (*add_done < n_add) {
            o = scim_client_patch_members(p->client, remote, add + *add_done, n_add - *add_done,
                                          NULL, 0, p->res);
            *add_done += p->res->members_done;
        }
        while (o != SCIM_CLIENT_OK || *rm_done < n_rm) {
            if (o != SCIM_CLIENT_OK && !no_target(p->res))
                break;
            if (*rm_done == n_rm) {
                o = SCIM_CLIENT_OK;
                break;
            }
            o = scim_client_patch_members(p->client, remote, NULL, 0, rm + *rm_done, 1, p->res);
            if (o == SCIM_CLIENT_OK || no_target(p->res)) {
                (*rm_done)++;
                o = SCIM_CLIENT_OK;
            }
        }
    }
    return o == SCIM_CLIENT_OK ? o : failed(p, "patch group members", o);
}

/* Take scimd's members (remote ids remotes[0..n)) out of the remote group:
 * member PATCHes, or for a PUT-only app a PUT of the group without members.
 * NOT_FOUND (the group is gone downstream) is for the caller to take as done. */
static enum scim_client_outcome take_members_out(struct push *p, const char *const *remotes,
                                                 size_t n, size_t *rm_done)
{
    *rm_done = 0;
    enum scim_client_outcome o;
    if (!p->app->put_only) {
        size_t add_done = 0;
        o = send_members(p, NULL, 0, remotes, n, &add_done, rm_done);
    } else {
        char *body = scim_outbound_group_body(p->group_id, p->link.display_name, NULL, 0);
        if (body == NULL)
            return local(p, "put group", ERR_NOMEM);
        o = scim_client_put(p->client, SCIM_CLIENT_GROUPS, p->link.remote_id, body, p->res);
        free(body);
        *rm_done = o == SCIM_CLIENT_OK ? n : 0;
    }
    if (o == SCIM_CLIENT_NOT_FOUND)
        *p->failed_at = NULL;
    else if (o != SCIM_CLIENT_OK && *p->failed_at == NULL)
        *p->failed_at = p->app->put_only ? "put group" : "patch group members";
    return o;
}

/* The grant is gone, or the group: take scimd's members out and let go of the
 * group, or DELETE it when the app deletes on deprovision. */
static enum scim_client_outcome release(struct push *p)
{
    if (!p->linked) {
        if (p->pushed.n == 0)
            return SCIM_CLIENT_OK;
        enum status rc = drop_link(p, NULL);
        return rc == OK ? SCIM_CLIENT_OK : local(p, "forget pushed members", rc);
    }
    json_t *event = NULL;
    enum scim_client_outcome o;
    if (strcmp(p->app->deprovision, "delete") == 0) {
        o = scim_client_delete(p->client, SCIM_CLIENT_GROUPS, p->link.remote_id, p->res);
        if (o != SCIM_CLIENT_OK && o != SCIM_CLIENT_NOT_FOUND)
            return failed(p, "delete group", o);
        event = json_pack("{s:s,s:s}", "action", "deleted", "remote_id", p->link.remote_id);
    } else {
        const char **users = calloc(p->pushed.n + 1, sizeof(*users));
        const char **remotes = calloc(p->pushed.n + 1, sizeof(*remotes));
        size_t n = 0;
        for (size_t i = 0; users && remotes && i < p->pushed.n; i++) {
            if (p->pushed.v[i].exists) {
                users[n] = p->pushed.v[i].user_id;
                remotes[n++] = p->pushed.v[i].remote_id;
            }
        }
        if (users == NULL || remotes == NULL) {
            free(users);
            free(remotes);
            return local(p, "release group", ERR_NOMEM);
        }
        size_t rm_done = 0;
        o = take_members_out(p, remotes, n, &rm_done);
        if (o != SCIM_CLIENT_OK && o != SCIM_CLIENT_NOT_FOUND) {
            struct record r = { .forget_users = users, .n_forget = rm_done };
            enum status rc = push_record(p, &r); /* what went through stays done */
            free(users);
            free(remotes);
            return rc == OK ? o : local(p, "record pushed members", rc);
        }
        free(users);
        free(remotes);
        event = json_pack("{s:s,s:s,s:I}", "action", "released", "remote_id", p->link.remote_id,
                          "removed", (json_int_t)n);
    }
    enum status rc = drop_link(p, event);
    return rc == OK ? SCIM_CLIENT_OK : local(p, "drop group link", rc);
}

/* The changes that take the remote group from pushed to wanted (both sorted
 * by user id): adds, removes (accounts that exist), forgets (rows whose
 * account is gone: nothing to send). */
struct plan {
    const char **add_users, **add_remotes, **rm_users, **rm_remotes, **forget;
    size_t n_add, n_rm, n_forget;
};

static void plan_release(struct plan *pl)
{
    free(pl->add_users);
    free(pl->add_remotes);
    free(pl->rm_users);
    free(pl->rm_remotes);
    free(pl->forget);
}

static enum status plan_make(const struct members *pushed, const struct members *wanted,
                             struct plan *pl)
{
    memset(pl, 0, sizeof(*pl));
    size_t np = pushed->n + 1, nw = wanted->n + 1;
    pl->add_users = calloc(nw, sizeof(char *));
    pl->add_remotes = calloc(nw, sizeof(char *));
    pl->rm_users = calloc(np, sizeof(char *));
    pl->rm_remotes = calloc(np, sizeof(char *));
    pl->forget = calloc(np, sizeof(char *));
    if (!pl->add_users || !pl->add_remotes || !pl->rm_users || !pl->rm_remotes || !pl->forget) {
        plan_release(pl);
        return ERR_NOMEM;
    }
    size_t i = 0, j = 0;
    while (i < pushed->n || j < wanted->n) {
        const struct member *p = i < pushed->n ? &pushed->v[i] : NULL;
        const struct member *w = j < wanted->n ? &wanted->v[j] : NULL;
        int cmp = p == NULL ? 1 : w == NULL ? -1 : strcmp(p->user_id, w->user_id);
        if (cmp < 0) { /* pushed, not wanted */
            if (p->exists) {
                pl->rm_users[pl->n_rm] = p->user_id;
                pl->rm_remotes[pl->n_rm++] = p->remote_id;
            } else {
                pl->forget[pl->n_forget++] = p->user_id;
            }
            i++;
        } else if (cmp > 0 || !p->exists || strcmp(p->remote_id, w->remote_id) != 0) {
            /* wanted, not there (or there under an account that is gone) */
            pl->add_users[pl->n_add] = w->user_id;
            pl->add_remotes[pl->n_add++] = w->remote_id;
            i += cmp == 0;
            j++;
        } else {
            i++;
            j++;
        }
    }
    return OK;
}

/* PUT-only apps: the whole group in one PUT (its members within the cap). */
static enum scim_client_outcome put_group(struct push *p)
{
    if (p->wanted.n > SCIM_CLIENT_MEMBER_BATCH) {
        scim_client_result_release(p->res);
        p->res->outcome = SCIM_CLIENT_PERMANENT;
        snprintf(p->res->detail, sizeof(p->res->detail),
                 "the group has %zu members; an app without PATCH takes at most %d in one PUT",
                 p->wanted.n, SCIM_CLIENT_MEMBER_BATCH);
        return failed(p, "put group", SCIM_CLIENT_PERMANENT);
    }
    const char **remotes = calloc(p->wanted.n + 1, sizeof(*remotes));
    if (remotes == NULL)
        return local(p, "put group", ERR_NOMEM);
    for (size_t i = 0; i < p->wanted.n; i++)
        remotes[i] = p->wanted.v[i].remote_id;
    char *body = scim_outbound_group_body(p->group_id, p->group.display_name, remotes, p->wanted.n);
    free(remotes);
    if (body == NULL)
        return local(p, "put group", ERR_NOMEM);
    enum scim_client_outcome o =
        scim_client_put(p->client, SCIM_CLIENT_GROUPS, p->link.remote_id, body, p->res);
    free(body);
    if (o == SCIM_CLIENT_OK) {
        free(p->link.display_name);
        p->link.display_name = str_dup(p->group.display_name);
    }
    return o == SCIM_CLIENT_OK || o == SCIM_CLIENT_NOT_FOUND ? o : failed(p, "put group", o);
}

/* Rename (PATCH displayName) and send the member changes of the plan. */
static enum scim_client_outcome patch_group(struct push *p, const struct plan *pl, bool rename,
                                            size_t *add_done, size_t *rm_done)
{
    *add_done = *rm_done = 0;
    if (rename) {
        char *body = scim_outbound_group_rename(p->group.display_name);
        if (body == NULL)
            return local(p, "rename group", ERR_NOMEM);
        enum scim_client_outcome o =
            scim_client_patch(p->client, SCIM_CLIENT_GROUPS, p->link.remote_id, body, p->res);
        free(body);
        if (o != SCIM_CLIENT_OK)
            return o == SCIM_CLIENT_NOT_FOUND ? o : failed(p, "rename group", o);
        free(p->link.display_name);
        p->link.display_name = str_dup(p->group.display_name);
    }
    enum scim_client_outcome o =
        send_members(p, pl->add_remotes, pl->n_add, pl->rm_remotes, pl->n_rm, add_done, rm_done);
    if (o == SCIM_CLIENT_NOT_FOUND && *add_done == 0 && *rm_done == 0)
        *p->failed_at = NULL;
    return o;
}

/* Linked, named, and holding the wanted members. */
static enum scim_client_outcome push_active(struct push *p)
{
    for (int round = 0; round < 2; round++) {
        enum scim_client_outcome o = SCIM_CLIENT_OK;
        if (!p->linked && (o = link_or_create(p)) != SCIM_CLIENT_OK)
            return o;
        struct plan pl;
        enum status rc = plan_make(&p->pushed, &p->wanted, &pl);
        if (rc != OK)
            return local(p, "plan group members", rc);
        const char *name = p->group.display_name ? p->group.display_name : "";
        bool rename = strcmp(p->link.display_name ? p->link.display_name : "", name) != 0;
        size_t add_done = 0, rm_done = 0;
        if (rename || pl.n_add > 0 || pl.n_rm > 0) {
            if (p->app->put_only) {
                o = put_group(p);
                if (o == SCIM_CLIENT_OK) {
                    add_done = pl.n_add;
                    rm_done = pl.n_rm;
                }
            } else {
                o = patch_group(p, &pl, rename, &add_done, &rm_done);
            }
        }
        if (o == SCIM_CLIENT_NOT_FOUND && add_done == 0 && rm_done == 0) {
            /* the group was removed downstream: drop the link and push it again */
            plan_release(&pl);
            if ((rc = drop_link(p, NULL)) != OK)
                return local(p, "drop group link", rc);
            continue;
        }
        /* record what went through, whatever the outcome */
        const char **forget = pl.forget;
        size_t n_forget = pl.n_forget;
        for (size_t i = 0; i < rm_done; i++)
            forget[n_forget++] = pl.rm_users[i];
        bool renamed =
            rename && strcmp(p->link.display_name ? p->link.display_name : "", name) == 0;
        json_t *event = NULL;
        if (o == SCIM_CLIENT_OK && (renamed || add_done > 0 || rm_done > 0))
            event = json_pack("{s:s,s:s,s:s,s:I,s:I,s:b,s:s}", "action", "updated", "remote_id",
                              p->link.remote_id, "displayName", name, "added", (json_int_t)add_done,
                              "removed", (json_int_t)rm_done, "renamed", renamed, "mode",
                              p->app->put_only ? "put" : "patch");
        struct record r = {
            .add_users = pl.add_users,
            .add_remotes = pl.add_remotes,
            .n_add = add_done,
            .forget_users = forget,
            .n_forget = n_forget,
            .write_link = renamed,
            .event = event,
        };
        rc = push_record(p, &r);
        plan_release(&pl);
        if (rc != OK)
            return local(p, "record pushed members", rc);
        return o;
    }
    return failed(p, "push group", SCIM_CLIENT_TRANSIENT);
}

enum scim_client_outcome group_push_converge(struct store *store, const struct store_app *app,
                                             struct scim_client *client, const char *group_id,
                                             struct scim_client_result *res, const char **failed_at)
{
    struct push p = {
        .store = store,
        .app = app,
        .client = client,
        .group_id = group_id,
        .res = res,
        .failed_at = failed_at,
    };
    *failed_at = NULL;
    enum scim_client_outcome o;
    enum status rc = push_read(&p);
    if (rc != OK)
        o = local(&p, "read group", rc);
    else if (p.granted && p.exists)
        o = push_active(&p);
    else
        o = release(&p);
    members_release(&p.pushed);
    members_release(&p.wanted);
    store_app_group_link_release(&p.link);
    store_group_release(&p.group);
    return o;
}
