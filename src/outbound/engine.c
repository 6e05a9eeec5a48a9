/* SPDX-License-Identifier: Apache-2.0 */
/*
 * engine.c - this file contains the fan-out engine's thread: the dispatcher
 * (events after each app's position -> (app, user) jobs) and the convergence
 * of one job (the user's current state and access -> the remote account), with
 * retries, 429 pauses, dead letters and the audit events of every step.
 * See engine.h for what it does and does not do.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/str.h"
#include "directory/apps.h"
#include "outbound/engine.h"
#include "outbound/group_push.h"
#include "outbound/health.h"
#include "outbound/lease.h"
#include "outbound/reconcile.h"
#include "outbound/scim_client.h"
#include "outbound/user_payload.h"
#include "scim/outbound.h"

#define SEEN_MAX 100000 /* unsettled events remembered per app */

/* ---- small lists -------------------------------------------------------------------------- */

struct id_set {
    char (*ids)[STORE_ID_LEN];
    size_t n, alloc;
    bool failed;
};

static void ids_add(struct id_set *s, const char *id)
{
    if (id == NULL || id[0] == '\0' || strlen(id) >= STORE_ID_LEN || s->failed)
        return;
    for (size_t i = s->n; i > 0 && i + 64 > s->n; i--) { /* recent duplicates are common */
        if (strcmp(s->ids[i - 1], id) == 0)
            return;
    }
    if (s->n == s->alloc) {
        size_t alloc = s->alloc ? s->alloc * 2 : 64;
        void *p = realloc(s->ids, alloc * sizeof(*s->ids));
        if (p == NULL) {
            s->failed = true;
            return;
        }
        s->ids = p;
        s->alloc = alloc;
    }
    str_copy(s->ids[s->n++], STORE_ID_LEN, id);
}

static enum status ids_add_fn(void *ctx, const char *id)
{
    ids_add(ctx, id);
    return OK;
}

static int id_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void ids_sort(struct id_set *s)
{
    if (s->n > 1)
        qsort(s->ids, s->n, sizeof(*s->ids), id_cmp);
}

static void ids_release(struct id_set *s)
{
    free(s->ids);
    memset(s, 0, sizeof(*s));
}

/* Sorted event seqs processed beyond the durable position. */
struct seq_set {
    int64_t *v;
    size_t n, alloc;
};

static size_t seq_lower(const struct seq_set *s, int64_t x)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool seq_has(const struct seq_set *s, int64_t x)
{
    size_t i = seq_lower(s, x);
    return i < s->n && s->v[i] == x;
}

static bool seq_add(struct seq_set *s, int64_t x)
{
    if (s->n == s->alloc) {
        size_t alloc = s->alloc ? s->alloc * 2 : 256;
        int64_t *p = realloc(s->v, alloc * sizeof(*p));
        if (p == NULL)
            return false;
        s->v = p;
        s->alloc = alloc;
    }
    size_t i = seq_lower(s, x);
    memmove(s->v + i + 1, s->v + i, (s->n - i) * sizeof(*s->v));
    s->v[i] = x;
    s->n++;
    return true;
}

/* Forget seqs at or below x. */
static void seq_drop_upto(struct seq_set *s, int64_t x)
{
    if (s->n == 0)
        return;
    size_t i = seq_lower(s, x + 1);
    memmove(s->v, s->v + i, (s->n - i) * sizeof(*s->v));
    s->n -= i;
}

/* ---- the engine ---------------------------------------------------------------------------- */

/* What the engine keeps in memory about one app between passes. */
struct app_rt {
    char tenant_id[STORE_ID_LEN];
    char id[STORE_ID_LEN];
    char updated_at[STORE_TIME_LEN]; /* of the app the clients were set up for */
    struct scim_client *clients[STORE_APP_CONCURRENCY_MAX]; /* one per worker, NULL until needed */
    struct health health;                                   /* its last calls (quarantine) */
    int64_t lease_until_ms;  /* this node works the app until then (wall clock); 0: not */
    int64_t lease_retry_ms;  /* another node holds it: ask again from then (monotonic) */
    int64_t high;            /* highest event seq processed */
    int64_t position;        /* how far this node has dispatched (maybe not written yet) */
    int64_t saved_at_ms;     /* when the position was last written (monotonic) */
    int64_t losing;          /* users who lost access since losing_since_ms */
    int64_t losing_since_ms; /* (monotonic) */
    bool held;               /* this node held the app's deprovisions */
    struct seq_set seen;     /* processed seqs above the durable position */
    int64_t window_at_ms;    /* when the unsettled window was last read (monotonic) */
    int64_t reconcile_at_ms; /* when its next reconciliation is due (epoch ms; 0: unknown) */
    bool present;
    /* its batch thread (see start_batch); the two flags under engine->mu */
    pthread_t batch;
    bool batch_running; /* the thread works the app: the engine leaves it alone */
    bool batch_ended;   /* ... and has ended, to be joined */
};

struct engine {
    struct directory *dir;
    const struct secretbox *box;
    struct engine_config cfg;
    struct lease_node node;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
    bool kicked;          /* a batch ended: pass again without waiting */
    int64_t horizon;      /* this pass's events horizon (store_event_horizon) */
    struct app_rt **apps; /* each on its own, so a batch thread's pointer stays put */
    size_t n_apps, alloc_apps;
    /* requests in flight per app, for /metrics (read from HTTP threads) */
    pthread_mutex_t gauge_mu;
    struct inflight {
        char tenant_id[STORE_ID_LEN];
        char app_id[STORE_ID_LEN];
        long n;
    } * inflight;
    size_t n_inflight, alloc_inflight;
};

/* Count a request to app starting (+1) or ending (-1). */
static void inflight_add(struct engine *e, const struct store_app *app, long delta)
{
    pthread_mutex_lock(&e->gauge_mu);
    struct inflight *g = NULL;
    for (size_t i = 0; i < e->n_inflight && g == NULL; i++) {
        if (strcmp(e->inflight[i].app_id, app->id) == 0)
            g = &e->inflight[i];
    }
    if (g == NULL && e->n_inflight == e->alloc_inflight) {
        size_t alloc = e->alloc_inflight ? e->alloc_inflight * 2 : 8;
        void *p = realloc(e->inflight, alloc * sizeof(*e->inflight));
        if (p != NULL) {
            e->inflight = p;
            e->alloc_inflight = alloc;
        }
    }
    if (g == NULL && e->n_inflight < e->alloc_inflight) {
        g = &e->inflight[e->n_inflight++];
        str_copy(g->tenant_id, sizeof(g->tenant_id), app->tenant_id);
        str_copy(g->app_id, sizeof(g->app_id), app->id);
        g->n = 0;
    }
    if (g != NULL)
        g->n += delta;
    pthread_mutex_unlock(&e->gauge_mu);
}

void engine_render_metrics(void *ctx, struct buf *out)
{
    struct engine *e = ctx;
    buf_puts(out, "# HELP scimd_app_requests_in_flight Requests to the app this node has in flight "
                  "now (at most its concurrency).\n# TYPE scimd_app_requests_in_flight gauge\n");
    pthread_mutex_lock(&e->gauge_mu);
    for (size_t i = 0; i < e->n_inflight; i++)
        buf_printf(out, "scimd_app_requests_in_flight{tenant=\"%s\",app=\"%s\"} %ld\n",
                   e->inflight[i].tenant_id, e->inflight[i].app_id, e->inflight[i].n);
    pthread_mutex_unlock(&e->gauge_mu);
}

/* Join the app's batch thread once it has ended (or, with wait, until it has). */
static void rt_join(struct engine *e, struct app_rt *rt, bool wait)
{
    pthread_mutex_lock(&e->mu);
    bool running = rt->batch_running, ended = rt->batch_ended;
    rt->batch_ended = false;
    pthread_mutex_unlock(&e->mu);
    if (ended || (running && wait)) {
        pthread_join(rt->batch, NULL);
        pthread_mutex_lock(&e->mu);
        rt->batch_running = false;
        rt->batch_ended = false;
        pthread_mutex_unlock(&e->mu);
    }
}

static bool rt_busy(struct engine *e, const struct app_rt *rt)
{
    pthread_mutex_lock(&e->mu);
    bool busy = rt->batch_running && !rt->batch_ended;
    pthread_mutex_unlock(&e->mu);
    return busy;
}

static void rt_release(struct engine *e, struct app_rt *rt)
{
    rt_join(e, rt, true);
    for (size_t i = 0; i < STORE_APP_CONCURRENCY_MAX; i++)
        scim_client_free(rt->clients[i]);
    free(rt->seen.v);
    free(rt);
}

static struct app_rt *rt_of(struct engine *e, const struct store_app *a)
{
    for (size_t i = 0; i < e->n_apps; i++) {
        if (strcmp(e->apps[i]->id, a->id) == 0)
            return e->apps[i];
    }
    if (e->n_apps == e->alloc_apps) {
        size_t alloc = e->alloc_apps ? e->alloc_apps * 2 : 8;
        struct app_rt **p = realloc(e->apps, alloc * sizeof(*p));
        if (p == NULL)
            return NULL;
        e->apps = p;
        e->alloc_apps = alloc;
    }
    struct app_rt *rt = calloc(1, sizeof(*rt));
    if (rt == NULL)
        return NULL;
    e->apps[e->n_apps++] = rt;
    str_copy(rt->tenant_id, sizeof(rt->tenant_id), a->tenant_id);
    str_copy(rt->id, sizeof(rt->id), a->id);
    rt->high = a->position;
    rt->position = a->position;
    return rt;
}

/* Append an engine event about app (subject: a user, or NULL). summary is taken. */
static enum status engine_event(struct store_tx *tx, const struct store_app *app, const char *type,
                                const char *subject_id, json_t *summary)
{
    if (summary == NULL)
        return ERR_NOMEM;
    json_object_set_new(summary, "app", json_string(app->id));
    char *text = json_dumps(summary, JSON_COMPACT);
    json_decref(summary);
    if (text == NULL)
        return ERR_NOMEM;
    char actor[8 + STORE_ID_LEN];
    snprintf(actor, sizeof(actor), "app:%s", app->id);
    struct store_event ev = {
        .tenant_id = app->tenant_id,
        .type = type,
        .actor = actor,
        .subject_id = subject_id,
        .summary = text,
    };
    enum status rc = store_event_append(tx, &ev);
    free(text);
    return rc;
}

/* ---- dispatch: events -> jobs ---------------------------------------------------------------- */

struct dispatch {
    struct store_app *app;
    struct app_rt *rt;
    struct store_tx *tx;  /* the read transaction the events come from */
    struct id_set users;  /* users to look at */
    struct id_set groups; /* groups to push (apps with push_groups) */
    struct seq_set done;  /* seqs processed this pass, remembered once committed */
    int64_t horizon;      /* events up to it have committed or never will */
    int64_t settled;      /* highest seq of the settled prefix of what was read */
    bool unsettled_seen;  /* an unsettled event came before: the prefix ended */
    int64_t last_seq;     /* highest seq read */
    size_t rows;
};

/* Members (all, soft-deleted too) of the group, when it is granted to the app. */
static enum status granted_group_members(struct store_tx *tx, struct dispatch *d,
                                         const char *group_id, bool *granted)
{
    struct store_app_grant g;
    enum status rc = store_app_grant_get(tx, d->app->tenant_id, d->app->id, "group", group_id, &g);
    *granted = rc == OK;
    if (rc != OK)
        return rc == ERR_NOT_FOUND ? OK : rc;
    return store_group_members_each(tx, g.tenant_id, g.idp_id, group_id, false, ids_add_fn,
                                    &d->users);
}

static void add_json_ids(struct id_set *s, const json_t *arr)
{
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v) ids_add(s, json_string_value(v));
}

/* The users one event asks the app to look at. */
static enum status event_users(struct store_tx *tx, struct dispatch *d,
                               const struct store_event *ev)
{
    const char *type = ev->type ? ev->type : "";
    if (d->app->push_groups) {
        enum status rc = group_push_event_groups(tx, d->app, ev, ids_add_fn, &d->groups);
        if (rc != OK)
            return rc;
    }
    if (strcmp(type, "scim_user_received") == 0)
        return OK;
    if (strncmp(type, "scim_user_", 10) == 0 || strncmp(type, "user_", 5) == 0) {
        ids_add(&d->users, ev->subject_id);
        return OK;
    }
    json_t *summary = ev->summary ? json_loads(ev->summary, 0, NULL) : NULL;
    enum status rc = OK;
    bool granted = false;
    if (strcmp(type, "scim_group_members_changed") == 0 && ev->subject_id) {
        struct store_app_grant g;
        rc = store_app_grant_get(tx, d->app->tenant_id, d->app->id, "group", ev->subject_id, &g);
        if (rc == OK) {
            const json_t *added = json_object_get(summary, "added");
            const json_t *removed = json_object_get(summary, "removed");
            add_json_ids(&d->users, added);
            add_json_ids(&d->users, removed);
            bool capped = json_integer_value(json_object_get(summary, "added_count")) >
                              (json_int_t)json_array_size(added) ||
                          json_integer_value(json_object_get(summary, "removed_count")) >
                              (json_int_t)json_array_size(removed);
            if (capped) /* the event names only some: look at everyone it may concern */
                rc = granted_group_members(tx, d, ev->subject_id, &granted);
            if (rc == OK && capped)
                rc = store_app_link_users(tx, d->app->tenant_id, d->app->id, ids_add_fn, &d->users);
        } else if (rc == ERR_NOT_FOUND) {
            rc = OK;
        }
    } else if (strcmp(type, "scim_group_deleted") == 0 && ev->subject_id) {
        struct store_app_grant g;
        rc = store_app_grant_get(tx, d->app->tenant_id, d->app->id, "group", ev->subject_id, &g);
        if (rc == OK) /* its members are gone with it: every linked user may have lost access */
            rc = store_app_link_users(tx, d->app->tenant_id, d->app->id, ids_add_fn, &d->users);
        else if (rc == ERR_NOT_FOUND)
            rc = OK;
    } else if (strncmp(type, "app_grant_", 10) == 0 && ev->subject_id) {
        const char *app = json_string_value(json_object_get(summary, "app"));
        const char *kind = json_string_value(json_object_get(summary, "kind"));
        if (app && strcmp(app, d->app->id) == 0 && kind) {
            if (strcmp(kind, "user") == 0)
                ids_add(&d->users, ev->subject_id);
            else if (ev->idp_id) /* every member, granted now or not any more */
                rc = store_group_members_each(tx, d->app->tenant_id, ev->idp_id, ev->subject_id,
                                              false, ids_add_fn, &d->users);
            /* members who left the group between the removal and this read
             * are linked users still: look at them too */
            if (rc == OK && strcmp(type, "app_grant_removed") == 0)
                rc = store_app_link_users(tx, d->app->tenant_id, d->app->id, ids_add_fn, &d->users);
        }
    } else if (strcmp(type, "users_rederived") == 0) {
        /* a mirroring change rewrote canonical fields: everyone the app reaches */
        rc = directory_app_reach(tx, d->app, ids_add_fn, &d->users);
    }
    json_decref(summary);
    return rc;
}

static enum status dispatch_event(void *ctx, const struct store_event *ev)
{
    struct dispatch *d = ctx;
    d->rows++;
    if (ev->seq > d->last_seq)
        d->last_seq = ev->seq;
    bool settled = ev->seq <= d->horizon;
    if (!settled)
        d->unsettled_seen = true;
    else if (!d->unsettled_seen)
        d->settled = ev->seq;
    if (ev->seq <= d->rt->high && seq_has(&d->rt->seen, ev->seq))
        return OK;
    /* not seen: new, or committed late behind newer ones */
    if (!seq_add(&d->done, ev->seq))
        return ERR_NOMEM;
    return event_users(d->tx, d, ev);
}

/* Keep only the users the app is concerned with: those with a job of it
 * (maybe in flight now, about to create an account), an account in it, or
 * access to it.  Most users of a tenant are in no granted group; a job each (a
 * write to queue it, a read and a write to find it moot) would tax every write
 * at the front door.  Whoever gains access later does so by a change with an
 * event of its own, read after this one.  The job is looked at before the
 * link: a job's end deletes it and writes the link in one transaction.
 * *losing: how many of them have an active account and no access any more
 * (their jobs will deprovision). */
static enum status keep_concerned(struct store_tx *tx, const struct store_app *app,
                                  struct id_set *users, int64_t *losing)
{
    size_t kept = 0;
    *losing = 0;
    for (size_t i = 0; i < users->n; i++) {
        const char *id = users->ids[i];
        bool concerned = true;
        struct store_app_job job;
        struct store_app_link link;
        enum status rc = store_app_job_get(tx, app->tenant_id, app->id, id, &job);
        if (rc == ERR_NOT_FOUND) {
            rc = store_app_link_get(tx, app->tenant_id, app->id, id, &link);
            bool active = rc == OK && link.active;
            if (rc == OK)
                store_app_link_release(&link);
            bool access = true;
            if (active)
                rc = directory_app_access(tx, app, id, &access);
            *losing += active && !access;
        }
        if (rc == ERR_NOT_FOUND)
            rc = directory_app_access(tx, app, id, &concerned);
        if (rc != OK)
            return rc;
        if (concerned && kept != i)
            memcpy(users->ids[kept], id, STORE_ID_LEN);
        kept += concerned;
    }
    users->n = kept;
    return OK;
}

/*
 * Accidental mass deprovisioning (a grant removed by mistake, an IdP that
 * deactivates everyone): when more users than the limit lose access to an
 * app within ENGINE_LOSING_WINDOW_S, the app holds (paused until an admin
 * looks: DIRECTORY_APP_HELD_UNTIL, the reason in `app show`) before any of
 * their accounts is switched off; `scimd app allow-deprovisions` lets them
 * go, and undoing the mistake makes their jobs find access again.  Counted at
 * dispatch, from the users each pass queues, so nothing was sent yet.  Returns
 * whether this pass starts a hold (app changed, to be written with the jobs).
 */
#define ENGINE_LOSING_WINDOW_S 3600
static bool deprovisions_hold(struct engine *e, struct store_app *app, struct app_rt *rt,
                              int64_t losing)
{
    int64_t limit = e->cfg.deprovision_limit;
    if (limit <= 0)
        return false;
    int64_t now = clock_mono_ms();
    if (rt->held && !directory_app_held(app)) { /* an admin let them go */
        rt->held = false;
        rt->losing = 0;
    }
    if (now - rt->losing_since_ms > ENGINE_LOSING_WINDOW_S * 1000) {
        rt->losing = 0;
        rt->losing_since_ms = now;
    }
    rt->losing += losing;
    if (rt->losing <= limit || directory_app_held(app))
        return false;
    rt->held = true;
    str_copy(app->paused_until, sizeof(app->paused_until), DIRECTORY_APP_HELD_UNTIL);
    snprintf(app->pause_reason, sizeof(app->pause_reason),
             "held: %lld users lost access within an hour (over the limit of %lld): their "
             "accounts stay as they are until an admin runs `scimd app allow-deprovisions %s` "
             "or undoes the change",
             (long long)rt->losing, (long long)limit, app->id);
    log_warn("app %s: %s", app->id, app->pause_reason);
    return true;
}

/*
 * Turn the app's new events into jobs.  Every ENGINE_WINDOW_MS the window
 * between the durable position and the newest event seen is read again for
 * events that committed late, and the position moves over the settled prefix.
 * Returns how many events were processed (0: nothing new).
 */
#define ENGINE_WINDOW_MS 1000
/* a position moved over events that queued nothing is written this often */
#define ENGINE_SAVE_MS 1000
static size_t dispatch_app(struct engine *e, struct store_app *app, struct app_rt *rt)
{
    int64_t stored = app->position;
    if (rt->position > app->position) /* this node's progress, not written yet */
        app->position = rt->position;
    struct dispatch d = { .app = app, .rt = rt, .horizon = e->horizon };
    d.settled = app->position;
    bool window = clock_mono_ms() - rt->window_at_ms >= ENGINE_WINDOW_MS;
    struct store_tx *tx = NULL;
    enum status rc = store_begin(e->dir->store, false, &tx); /* after the pass read the horizon */
    d.tx = tx;
    if (rc == OK && window && rt->high > app->position) {
        rc = store_app_events_each(tx, app->tenant_id, app->position, rt->high, SEEN_MAX,
                                   dispatch_event, &d);
        if (rc == OK && d.rows >= SEEN_MAX) { /* a window this big: settle what was read */
            log_warn("app %s: %zu unsettled events; moving its position on", app->id, d.rows);
            d.settled = d.last_seq;
        }
    } else if (!window) {
        d.unsettled_seen = true; /* no window read: the position stays */
    }
    if (rc == OK)
        rc = store_app_events_each(tx, app->tenant_id, rt->high, INT64_MAX, ENGINE_EVENT_BATCH,
                                   dispatch_event, &d);
    int64_t losing = 0;
    if (rc == OK && !d.users.failed)
        rc = keep_concerned(tx, app, &d.users, &losing);
    store_rollback(tx);
    if (rc == OK && (d.users.failed || d.groups.failed))
        rc = ERR_NOMEM;
    int64_t position = d.settled > app->position ? d.settled : app->position;
    /* Events that queue nothing (most users are in no granted group) move the
     * position without a write each pass: at most one a second, so they do
     * not take the store's writer from the front door.  A restart re-reads
     * what was not written, which queues nothing again. */
    bool queue = d.users.n > 0 || d.groups.n > 0;
    bool hold = rc == OK && losing > 0 && deprovisions_hold(e, app, rt, losing);
    bool save =
        queue || (position != stored && clock_mono_ms() - rt->saved_at_ms >= ENGINE_SAVE_MS);
    if (rc == OK && save) {
        char now[STORE_TIME_LEN];
        clock_now_iso(now);
        rc = directory_app_write_begin(e->dir->store, app->tenant_id, app->id, &tx);
        ids_sort(&d.users); /* jobs locked in id order, as a resync locks them */
        for (size_t i = 0; rc == OK && i < d.users.n; i++)
            rc = store_app_job_enqueue(tx, app->tenant_id, app->id, d.users.ids[i], now);
        for (size_t i = 0; rc == OK && i < d.groups.n; i++)
            rc = group_push_enqueue(tx, app, d.groups.ids[i]);
        if (rc == OK) {
            struct store_app progress = *app;
            progress.credential = NULL;
            progress.position = position;
            rc = store_app_progress(tx, &progress);
        }
        if (rc == OK && hold)
            rc =
                engine_event(tx, app, "app_paused", NULL,
                             json_pack("{s:s,s:s,s:I,s:I}", "reason", "deprovision_limit", "detail",
                                       app->pause_reason, "users", (json_int_t)rt->losing, "limit",
                                       (json_int_t)e->cfg.deprovision_limit));
        rc = rc == OK ? store_commit(tx) : (store_rollback(tx), rc);
        if (rc == OK)
            rt->saved_at_ms = clock_mono_ms();
    }
    size_t processed = 0;
    if (rc == OK) {
        processed = d.done.n;
        for (size_t i = 0; i < d.done.n; i++)
            seq_add(&rt->seen, d.done.v[i]);
        if (d.last_seq > rt->high)
            rt->high = d.last_seq;
        seq_drop_upto(&rt->seen, position);
        if (window)
            rt->window_at_ms = clock_mono_ms();
        app->position = position;
        rt->position = position;
    } else if (rc != ERR_NOT_FOUND) { /* not found: deleted meanwhile, nothing to do */
        log_warn("app %s: could not dispatch its events: %s", app->id, status_name(rc));
    }
    ids_release(&d.users);
    ids_release(&d.groups);
    free(d.done.v);
    return processed;
}

/* ---- convergence of one job ---------------------------------------------------------------- */

enum converge_step {
    STEP_NONE,
    STEP_LINKED,
    STEP_PROVISIONED,
    STEP_UPDATED,
    STEP_DEPROVISIONED,
    STEP_REACTIVATED,
    STEP_DELETED
};

static const char *const step_events[] = {
    [STEP_NONE] = NULL,
    [STEP_LINKED] = "app_user_linked",
    [STEP_PROVISIONED] = "app_user_provisioned",
    [STEP_UPDATED] = "app_user_updated",
    [STEP_DEPROVISIONED] = "app_user_deprovisioned",
    [STEP_REACTIVATED] = "app_user_reactivated",
    [STEP_DELETED] = "app_user_deprovisioned",
};

struct job_run {
    struct store *store;
    const struct store_app *app;
    struct scim_client *client;
    const struct store_app_job *job;
    /* read from the store */
    bool user_found, access;
    struct store_user user;
    bool linked;
    struct store_app_link link;
    char *want; /* payload */
    /* outcome */
    bool linked_now;         /* a link was found (userName / externalId / 409) */
    enum converge_step step; /* what the last write did */
    bool drop_link;          /* remote account gone (DELETE) */
    bool link_changed;       /* link must be written */
    struct scim_client_result res;
    const char *failed_at; /* which request failed, or NULL */
    /* settled (job_settle), waiting to be recorded (job_record) */
    enum scim_client_outcome outcome;
    struct store_app_job next; /* the job's next state */
    bool quarantined;          /* failed while the app is quarantined: no attempt spent */
    bool paused_now;           /* its 429 paused the app */
    long wait_s;               /* ... for this long */
    bool quarantined_now;      /* its failure put the app in quarantine */
    char paused_until[STORE_TIME_LEN];
    char pause_reason[STORE_ERROR_MAX];
    bool settled;
};

static enum status job_read(struct engine *e, struct job_run *r)
{
    struct store_tx *tx = NULL;
    enum status rc = store_begin(e->dir->store, false, &tx);
    if (rc != OK)
        return rc;
    rc = store_user_get(tx, r->app->tenant_id, r->job->user_id, &r->user);
    r->user_found = rc == OK;
    if (rc == ERR_NOT_FOUND)
        rc = OK;
    if (rc == OK)
        rc = directory_app_access(tx, r->app, r->job->user_id, &r->access);
    if (rc == OK) {
        rc = store_app_link_get(tx, r->app->tenant_id, r->app->id, r->job->user_id, &r->link);
        r->linked = rc == OK;
        if (rc == ERR_NOT_FOUND)
            rc = OK;
    }
    if (rc == OK && r->user_found)
        rc = outbound_user_payload(tx, r->app, &r->user, r->access, &r->want);
    store_rollback(tx);
    return rc;
}

/* Look the user up downstream: userName, then externalId (scimd's id). */
static enum scim_client_outcome find_remote(struct job_run *r, char id[STORE_REMOTE_ID_MAX])
{
    id[0] = '\0';
    enum scim_client_outcome o = SCIM_CLIENT_OK;
    if (r->user.username && r->user.username[0]) {
        o = scim_client_find(r->client, SCIM_CLIENT_USERS, "userName", r->user.username, &r->res);
        if (o == SCIM_CLIENT_OK && r->res.total > 0)
            str_copy(id, STORE_REMOTE_ID_MAX, r->res.id);
    }
    if (o == SCIM_CLIENT_OK && id[0] == '\0') {
        o = scim_client_find(r->client, SCIM_CLIENT_USERS, "externalId", r->user.id, &r->res);
        if (o == SCIM_CLIENT_OK && r->res.total > 0)
            str_copy(id, STORE_REMOTE_ID_MAX, r->res.id);
    }
    if (o != SCIM_CLIENT_OK)
        r->failed_at = "find user";
    return o;
}

static void link_to(struct job_run *r, const char *remote_id, const char *sent, bool active)
{
    str_copy(r->link.remote_id, sizeof(r->link.remote_id), remote_id);
    free(r->link.sent);
    r->link.sent = str_dup(sent);
    r->link.active = active;
    r->linked = true;
    r->link_changed = true;
    r->drop_link = false;
}

/* May this user be linked to the remote account id?  Not when another user
 * is: two users of the tenant with one userName (two IdP connections, two
 * people) would each overwrite the other's account, and one losing access
 * would switch off the other's.  The job fails with the reason instead. */
static enum scim_client_outcome claim_remote(struct job_run *r, const char *id)
{
    struct store_tx *tx = NULL;
    struct store_app_link other;
    enum status rc = store_begin(r->store, false, &tx);
    if (rc == OK)
        rc = store_app_link_of_remote(tx, r->app->tenant_id, r->app->id, id, &other);
    store_rollback(tx);
    if (rc == ERR_NOT_FOUND)
        return SCIM_CLIENT_OK;
    r->failed_at = "link user";
    if (rc != OK) {
        snprintf(r->res.detail, sizeof(r->res.detail), "cannot read links: %s", status_name(rc));
        return SCIM_CLIENT_TRANSIENT;
    }
    bool mine = strcmp(other.user_id, r->job->user_id) == 0;
    if (!mine)
        snprintf(r->res.detail, sizeof(r->res.detail),
                 "the app's account %s (found by userName or externalId) is linked to another "
                 "user, %s",
                 id, other.user_id);
    store_app_link_release(&other);
    if (mine)
        r->failed_at = NULL;
    return mine ? SCIM_CLIENT_OK : SCIM_CLIENT_PERMANENT;
}

/* Link or create the remote account (no link yet, user has access). */
static enum scim_client_outcome link_or_create(struct job_run *r)
{
    char id[STORE_REMOTE_ID_MAX];
    enum scim_client_outcome o = find_remote(r, id);
    if (o == SCIM_CLIENT_OK && id[0])
        o = claim_remote(r, id);
    if (o != SCIM_CLIENT_OK)
        return o;
    if (id[0]) {
        link_to(r, id, "{}", false); /* sent nothing yet: the update sends everything */
        r->linked_now = true;
        return SCIM_CLIENT_OK;
    }
    o = scim_client_create(r->client, SCIM_CLIENT_USERS, r->want, &r->res);
    if (o == SCIM_CLIENT_OK) {
        str_copy(id, sizeof(id), r->res.id);
        link_to(r, id, r->want, r->access);
        r->step = STEP_PROVISIONED;
        return o;
    }
    if (o == SCIM_CLIENT_CONFLICT) { /* it exists after all (a lost answer, a race) */
        o = find_remote(r, id);
        if (o == SCIM_CLIENT_OK && id[0])
            o = claim_remote(r, id);
        if (o == SCIM_CLIENT_OK && id[0]) {
            link_to(r, id, "{}", false);
            r->linked_now = true;
            return o;
        }
        if (o == SCIM_CLIENT_OK) {
            r->failed_at = "create user";
            return SCIM_CLIENT_TRANSIENT; /* 409 yet not found: try again later */
        }
        return o;
    }
    r->failed_at = "create user";
    return o;
}

/* Make the linked remote account match r->want. */
static enum scim_client_outcome update_remote(struct job_run *r)
{
    enum scim_client_outcome o;
    if (r->app->put_only) {
        o = scim_client_put(r->client, SCIM_CLIENT_USERS, r->link.remote_id, r->want, &r->res);
    } else {
        char *patch = NULL;
        enum status rc = scim_outbound_user_patch(r->link.sent, r->want, &patch);
        if (rc == OK && patch == NULL) { /* nothing differs */
            link_to(r, r->link.remote_id, r->want, r->access);
            return SCIM_CLIENT_OK;
        }
        if (rc != OK)
            return SCIM_CLIENT_TRANSIENT;
        o = scim_client_patch(r->client, SCIM_CLIENT_USERS, r->link.remote_id, patch, &r->res);
        free(patch);
    }
    if (o != SCIM_CLIENT_OK) {
        r->failed_at = "update user";
        return o;
    }
    bool was_active = r->link.active;
    r->step = was_active && !r->access   ? STEP_DEPROVISIONED
              : !was_active && r->access ? (r->linked_now ? STEP_UPDATED : STEP_REACTIVATED)
                                         : STEP_UPDATED;
    link_to(r, r->link.remote_id, r->want, r->access);
    return o;
}

/* Make the remote account match the user's current state and access. */
static enum scim_client_outcome converge(struct job_run *r)
{
    if (!r->user_found && !r->linked)
        return SCIM_CLIENT_OK; /* nobody to look at */
    if (!r->user_found) {
        /* gone from the directory altogether: switch the account off */
        const char *off = SCIM_OUTBOUND_DEACTIVATE;
        enum scim_client_outcome o =
            scim_client_patch(r->client, SCIM_CLIENT_USERS, r->link.remote_id, off, &r->res);
        if (o == SCIM_CLIENT_OK || o == SCIM_CLIENT_NOT_FOUND) {
            r->drop_link = true;
            r->step = STEP_DEPROVISIONED;
            return SCIM_CLIENT_OK;
        }
        r->failed_at = "deactivate user";
        return o;
    }
    if (r->linked && r->link.hash[0] == '\0') { /* a reconciliation: look at the remote first */
        enum scim_client_outcome o = reconcile_verify(r->client, &r->link, r->want, &r->res);
        if (o != SCIM_CLIENT_OK) {
            r->failed_at = "read user";
            return o;
        }
        r->linked = r->link.remote_id[0] != '\0';
        r->link_changed = r->linked;
        r->drop_link = !r->linked; /* gone downstream: unless created again below */
    }
    if (!r->linked && !r->access)
        return SCIM_CLIENT_OK; /* no account, none wanted */
    if (r->linked && !r->access && strcmp(r->app->deprovision, "delete") == 0) {
        enum scim_client_outcome o =
            scim_client_delete(r->client, SCIM_CLIENT_USERS, r->link.remote_id, &r->res);
        if (o == SCIM_CLIENT_OK || o == SCIM_CLIENT_NOT_FOUND) {
            r->drop_link = true;
            r->step = STEP_DELETED;
            return SCIM_CLIENT_OK;
        }
        r->failed_at = "delete user";
        return o;
    }
    char hash[CRYPTO_SHA256_HEX_LEN];
    crypto_sha256_hex(r->want, strlen(r->want), hash);
    if (r->linked && strcmp(hash, r->link.hash) == 0)
        return SCIM_CLIENT_OK; /* the remote holds this already */
    for (int round = 0; round < 2; round++) {
        enum scim_client_outcome o = SCIM_CLIENT_OK;
        if (!r->linked)
            o = link_or_create(r);
        if (o != SCIM_CLIENT_OK || r->step == STEP_PROVISIONED)
            return o;
        o = update_remote(r);
        if (o != SCIM_CLIENT_NOT_FOUND)
            return o;
        /* 404: the account was removed downstream; drop the link and create again */
        r->linked = false;
        r->linked_now = false;
        r->failed_at = NULL;
        if (!r->access) {
            r->drop_link = true;
            return SCIM_CLIENT_OK;
        }
    }
    return SCIM_CLIENT_TRANSIENT;
}

/* Backoff before attempt n+1: base * 2^(n-1), capped, +-20% jitter. */
static int64_t backoff_ms(int64_t attempts, long base_ms)
{
    int64_t ms = base_ms > 0 ? base_ms : ENGINE_BACKOFF_BASE_MS;
    for (int64_t i = 1; i < attempts && ms < ENGINE_BACKOFF_MAX_S * 1000; i++)
        ms *= 2;
    if (ms > ENGINE_BACKOFF_MAX_S * 1000)
        ms = ENGINE_BACKOFF_MAX_S * 1000;
    uint32_t r = 0;
    if (crypto_random_bytes(&r, sizeof(r)) != OK)
        r = 0;
    return ms * 8 / 10 + (int64_t)(r % (uint32_t)(ms * 4 / 10 + 1));
}

/* The app is paused until `seconds` from now, for reason (unless it already is
 * for longer).  Caller holds the pool's lock when workers run. */
static void pause_app(struct store_app *app, long seconds, const char *reason)
{
    char until[STORE_TIME_LEN];
    clock_iso_from_ms(clock_now_ms() + (int64_t)seconds * 1000, until);
    if (strcmp(until, app->paused_until) <= 0)
        return;
    str_copy(app->paused_until, sizeof(app->paused_until), until);
    str_copy(app->pause_reason, sizeof(app->pause_reason), reason);
}

/* Settle the job's result in memory: its next state (r->next) and what it
 * tells of the app (last success or error, a pause).  Nothing is written:
 * job_record does that, for many jobs in one transaction.  Caller holds the
 * pool's lock (app is shared).  quarantined_now: this job's failure put the
 * app in quarantine. */
static void job_settle(struct engine *e, struct job_run *r, enum scim_client_outcome o,
                       struct store_app *app, bool quarantined_now)
{
    char now[STORE_TIME_LEN];
    clock_now_iso(now);
    r->settled = true;
    r->outcome = o;
    r->next = *r->job;
    r->quarantined = app->quarantine_probes > 0 && o == SCIM_CLIENT_TRANSIENT;
    r->quarantined_now = quarantined_now;
    if (o == SCIM_CLIENT_OK) {
        if (r->step != STEP_NONE || r->linked_now)
            str_copy(app->last_success_at, sizeof(app->last_success_at), now);
    } else if (o == SCIM_CLIENT_RATE_LIMITED) {
        /* not a failure: attempts stay.  http_status 0: held back by the
         * app's pause (another request's 429, quarantine, a stop) unsent */
        r->paused_now = r->res.http_status != 0;
        r->wait_s = r->res.retry_after_s > 0 ? r->res.retry_after_s : 1;
        if (r->paused_now) {
            char reason[STORE_ERROR_MAX];
            snprintf(reason, sizeof(reason), "rate limited: HTTP %ld, Retry-After %ld s",
                     r->res.http_status, r->wait_s);
            pause_app(app, r->wait_s, reason);
        }
        str_copy(r->next.next_at, sizeof(r->next.next_at),
                 app->paused_until[0] ? app->paused_until : now);
    } else {
        struct store_app_job *job = &r->next;
        if (!r->quarantined) /* an outage of the whole app is not this job's failure */
            job->attempts++;
        snprintf(job->last_error, sizeof(job->last_error), "%s: %s (HTTP %ld)%s%s",
                 r->failed_at ? r->failed_at : "request", scim_client_outcome_name(o),
                 r->res.http_status, r->res.detail[0] ? ": " : "", r->res.detail);
        str_copy(app->last_error, sizeof(app->last_error), job->last_error);
        job->dead = job->attempts >= ENGINE_MAX_ATTEMPTS;
        if (r->quarantined)
            str_copy(job->next_at, sizeof(job->next_at), app->paused_until);
        else
            clock_iso_from_ms(clock_now_ms() + backoff_ms(job->attempts, e->cfg.backoff_base_ms),
                              job->next_at);
    }
    str_copy(r->paused_until, sizeof(r->paused_until), app->paused_until);
    str_copy(r->pause_reason, sizeof(r->pause_reason), app->pause_reason);
}

/* Write a settled job's end (its link, its job row, the events of its steps). */
static enum status job_record(struct store_tx *tx, const struct store_app *app, struct job_run *r)
{
    char now[STORE_TIME_LEN];
    clock_now_iso(now);
    const char *user_id = r->job->user_id;
    enum status rc = OK;
    if (r->drop_link)
        rc = store_app_link_delete(tx, app->tenant_id, app->id, user_id);
    else if (r->link_changed) {
        str_copy(r->link.tenant_id, sizeof(r->link.tenant_id), app->tenant_id);
        str_copy(r->link.app_id, sizeof(r->link.app_id), app->id);
        str_copy(r->link.user_id, sizeof(r->link.user_id), user_id);
        const char *sent = r->link.sent ? r->link.sent : "{}";
        crypto_sha256_hex(sent, strlen(sent), r->link.hash);
        str_copy(r->link.updated_at, sizeof(r->link.updated_at), now);
        rc = store_app_link_put(tx, &r->link);
    }
    if (rc == OK && r->linked_now)
        rc = engine_event(tx, app, "app_user_linked", user_id,
                          json_pack("{s:s}", "remote_id", r->link.remote_id));
    if (rc == OK && app->push_groups &&
        (r->linked_now || r->drop_link || (r->step != STEP_NONE && r->step != STEP_UPDATED)))
        rc = group_push_user_changed(tx, app, user_id); /* its groups' members changed */
    if (rc == OK && step_events[r->step])
        rc = engine_event(tx, app, step_events[r->step], user_id,
                          json_pack("{s:s,s:s}", "remote_id", r->link.remote_id, "mode",
                                    r->step == STEP_DELETED       ? "delete"
                                    : r->step == STEP_PROVISIONED ? "post"
                                    : app->put_only               ? "put"
                                                                  : "patch"));
    enum scim_client_outcome o = r->outcome;
    const struct store_app_job *job = &r->next;
    if (rc == OK && o == SCIM_CLIENT_OK) {
        rc = store_app_job_done(tx, job);
    } else if (rc == OK && o == SCIM_CLIENT_RATE_LIMITED) {
        rc = store_app_job_update(tx, job);
        if (rc == OK && r->paused_now)
            rc = engine_event(tx, app, "app_paused", user_id,
                              json_pack("{s:s,s:i,s:s,s:I}", "reason", "rate_limited", "status",
                                        (int)r->res.http_status, "until", r->paused_until,
                                        "retry_after_s", (json_int_t)r->wait_s));
    } else if (rc == OK) {
        rc = store_app_job_update(tx, job);
        if (rc == OK)
            rc = engine_event(tx, app, "app_request_failed", user_id,
                              json_pack("{s:s,s:s,s:i,s:s,s:s,s:I,s:b}", "request",
                                        r->failed_at ? r->failed_at : "request", "outcome",
                                        scim_client_outcome_name(o), "status",
                                        (int)r->res.http_status, "scimType", r->res.scim_type,
                                        "detail", r->res.detail, "attempt",
                                        (json_int_t)job->attempts, "quarantined", r->quarantined));
        if (rc == OK && job->dead)
            rc = engine_event(tx, app, "app_dead_letter", user_id,
                              json_pack("{s:I,s:s}", "attempts", (json_int_t)job->attempts,
                                        "last_error", job->last_error));
    }
    if (rc == OK && r->quarantined_now)
        rc = engine_event(tx, app, "app_paused", NULL,
                          json_pack("{s:s,s:s,s:s,s:i,s:i}", "reason", "quarantine", "detail",
                                    r->pause_reason, "until", r->paused_until, "failed",
                                    (int)HEALTH_FAILED_PERCENT, "window", (int)HEALTH_WINDOW));
    return rc;
}

static void job_run_release(struct job_run *r)
{
    store_user_release(&r->user);
    store_app_link_release(&r->link);
    scim_client_result_release(&r->res);
    free(r->want);
    memset(r, 0, sizeof(*r));
}

/* Record settled jobs and the app's progress in one transaction: one commit
 * (one fsync on SQLite) for many jobs.  Should one of them fail to record,
 * each is tried alone, so the others are not lost with it; a job left
 * unrecorded runs again later, which converges to the same state. */
static enum status record_tx(struct engine *e, const struct store_app *app, struct job_run **runs,
                             size_t n)
{
    struct store_tx *tx = NULL;
    enum status rc = directory_app_write_begin(e->dir->store, app->tenant_id, app->id, &tx);
    if (rc == ERR_NOT_FOUND)
        return OK; /* deleted while its batch ran: keep nothing of it */
    if (rc != OK)
        return rc;
    for (size_t i = 0; rc == OK && i < n; i++)
        rc = job_record(tx, app, runs[i]);
    if (rc == OK)
        rc = store_app_progress(tx, app);
    return rc == OK ? store_commit(tx) : (store_rollback(tx), rc);
}

static void record_jobs(struct engine *e, const struct store_app *app, struct job_run **runs,
                        size_t n)
{
    if (n == 0)
        return;
    enum status rc = record_tx(e, app, runs, n);
    for (size_t i = 0; rc != OK && n > 1 && i < n; i++) {
        enum status one = record_tx(e, app, &runs[i], 1);
        if (one != OK)
            log_warn("app %s: could not record the job of user %s: %s", app->id,
                     runs[i]->job->user_id, status_name(one));
    }
    if (rc != OK && n == 1)
        log_warn("app %s: could not record the job of user %s: %s", app->id, runs[0]->job->user_id,
                 status_name(rc));
    for (size_t i = 0; i < n; i++)
        job_run_release(runs[i]);
}

/* ---- work: due jobs of one app ----------------------------------------------------------------
 */

/* Drop the app's clients when its settings changed since they were set up. */
static void clients_refresh(struct app_rt *rt, const struct store_app *app)
{
    if (strcmp(rt->updated_at, app->updated_at) == 0)
        return;
    for (size_t i = 0; i < STORE_APP_CONCURRENCY_MAX; i++) {
        scim_client_free(rt->clients[i]);
        rt->clients[i] = NULL;
    }
    str_copy(rt->updated_at, sizeof(rt->updated_at), app->updated_at);
}

/* Client number slot of app, set up on first use (the credential opened only here). */
static struct scim_client *client_of(struct engine *e, struct app_rt *rt, size_t slot,
                                     const struct store_app *app, struct scim_error *err)
{
    clients_refresh(rt, app);
    if (rt->clients[slot])
        return rt->clients[slot];
    if (e->box == NULL) {
        scim_error_set(err, ERR_FORBIDDEN, "no key to open app credentials (see --key-file)");
        return NULL;
    }
    char owner[64];
    snprintf(owner, sizeof(owner), DIRECTORY_APP_CREDENTIAL_OWNER, app->id);
    char *secret = NULL;
    enum status rc = secretbox_open(e->box, owner, app->credential ? app->credential : "", &secret);
    if (rc != OK) {
        scim_error_set(err, rc, "the app's credential does not open with this key");
        return NULL;
    }
    bool bearer = strcmp(app->auth, "bearer") == 0;
    struct scim_app_profile profile = {
        .base_url = app->scim_url,
        .auth = bearer ? SCIM_CLIENT_AUTH_BEARER : SCIM_CLIENT_AUTH_BASIC,
        .token = bearer ? secret : NULL,
        .basic_user = bearer ? NULL : app->basic_user,
        .basic_password = bearer ? NULL : secret,
        .ca_file = app->ca_file[0] ? app->ca_file : NULL,
        .put_only = app->put_only,
        .timeout_ms = ENGINE_REQUEST_TIMEOUT_MS,
        .allow_private = e->cfg.allow_private,
    };
    rc = scim_client_new(&profile, &rt->clients[slot], err);
    secretbox_plain_free(secret);
    return rc == OK ? rt->clients[slot] : NULL;
}

struct due {
    struct store_app_job *jobs;
    size_t n;
};

static enum status collect_job(void *ctx, const struct store_app_job *j)
{
    struct due *d = ctx;
    if (d->n < ENGINE_JOB_BATCH)
        d->jobs[d->n++] = *j;
    return OK;
}

static bool stopping(struct engine *e)
{
    pthread_mutex_lock(&e->mu);
    bool s = e->stopping;
    pthread_mutex_unlock(&e->mu);
    return s;
}

/* Does this node work the app (taking or renewing its lease as due)?  A lease
 * taken afresh starts the app's dispatch over from its durable position: the
 * node that held it before may have moved it on. */
static bool keep_lease(struct engine *e, const struct store_app *app, struct app_rt *rt)
{
    int64_t now = clock_now_ms();
    if (rt->lease_until_ms > now && !lease_renewal_due(&e->node, rt->lease_until_ms, now))
        return true;
    if (rt->lease_until_ms == 0 && clock_mono_ms() < rt->lease_retry_ms)
        return false; /* held elsewhere a moment ago: spare the database */
    bool held = false;
    int64_t until = 0;
    enum status rc = lease_hold(&e->node, e->dir->store, app->tenant_id, app->id, &held, &until);
    if (rc != OK)
        log_warn("app %s: could not take or renew its lease: %s", app->id, status_name(rc));
    bool had = rt->lease_until_ms > now;
    if (held && !had) {
        log_info("app %s: this node (%s) works it now", app->id, e->node.id);
        rt->high = app->position;
        rt->position = app->position;
        rt->seen.n = 0;
        rt->window_at_ms = 0;
        health_reset(&rt->health);
    } else if (!held && had) {
        log_warn("app %s: lease lost; another node works it", app->id);
    }
    rt->lease_until_ms = held ? until : 0;
    rt->lease_retry_ms = held ? 0 : clock_mono_ms() + ENGINE_LEASE_RETRY_MS;
    return held;
}

/* The workers of one app's batch: they take due jobs in turn, run them
 * against their own client (so up to app->concurrency requests are in flight)
 * and settle each result under the lock, which also guards app and health.
 * The thread that started them records the settled jobs in batches
 * (record_jobs) while it watches the lease, so the workers only talk HTTP. */
#define POOL_WAIT_MS      200 /* settled jobs wait at most about this long */
#define POOL_RECORD_BATCH 16  /* ... or until this many are settled */
struct pool {
    struct engine *e;
    struct store_app *app;
    struct app_rt *rt;
    struct store_app_job *jobs;
    struct job_run *runs;   /* one per job */
    struct job_run **ready; /* settled, not yet recorded */
    size_t n, next, ran, running, n_ready;
    struct scim_error client_err; /* why a worker has no client */
    atomic_bool paused;           /* the gate of every client: take no job, send nothing */
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

struct worker {
    struct pool *pool;
    struct scim_client *client; /* NULL: the client could not be set up */
    pthread_t thread;
};

/* Run one job and settle its result; the lock is held only to settle. */
static void run_job(struct pool *p, struct scim_client *client, size_t i)
{
    struct engine *e = p->e;
    struct store_app *app = p->app;
    struct job_run *r = &p->runs[i];
    const struct store_app_job *j = &p->jobs[i];
    *r = (struct job_run){ .store = e->dir->store, .client = client, .job = j };
    enum scim_client_outcome o;
    enum status rc;
    pthread_mutex_lock(&p->mu);
    struct store_app snapshot = *app; /* read while others may write it */
    pthread_mutex_unlock(&p->mu);
    r->app = &snapshot;
    if (client == NULL) {
        o = SCIM_CLIENT_PERMANENT;
        r->failed_at = "set up client";
        str_copy(r->res.detail, sizeof(r->res.detail), p->client_err.detail);
    } else if (strcmp(j->kind, "group") == 0) {
        inflight_add(e, &snapshot, 1);
        o = group_push_converge(e->dir->store, &snapshot, client, j->user_id, &r->res,
                                &r->failed_at);
        inflight_add(e, &snapshot, -1);
    } else if ((rc = job_read(e, r)) != OK) {
        log_warn("app %s: could not read user %s: %s", app->id, j->user_id, status_name(rc));
        job_run_release(r);
        return;
    } else {
        inflight_add(e, &snapshot, 1);
        o = converge(r);
        inflight_add(e, &snapshot, -1);
    }
    if (o == SCIM_CLIENT_RATE_LIMITED && r->res.http_status != 0)
        atomic_store(&p->paused, true); /* no request of this app until the pause ends */
    pthread_mutex_lock(&p->mu);
    if (client != NULL && o == SCIM_CLIENT_TRANSIENT)
        health_record(&p->rt->health, true);
    else if (client != NULL && o != SCIM_CLIENT_RATE_LIMITED)
        health_record(&p->rt->health, false);
    bool quarantined_now = app->quarantine_probes == 0 && health_failing(&p->rt->health);
    if (quarantined_now) {
        atomic_store(&p->paused, true);
        app->quarantine_probes = 1;
        app->paused_until[0] = '\0';
        char reason[STORE_ERROR_MAX];
        snprintf(reason, sizeof(reason),
                 "quarantined: %zu of the last %d calls failed (last: %s%s%s)",
                 p->rt->health.failures, HEALTH_WINDOW, scim_client_outcome_name(o),
                 r->res.detail[0] ? ", " : "", r->res.detail);
        pause_app(app, (long)(health_probe_delay_ms(1) / 1000), reason);
        log_warn("app %s quarantined: %zu of the last %d calls failed; probing from %s", app->id,
                 p->rt->health.failures, HEALTH_WINDOW, app->paused_until);
    }
    p->ran++;
    job_settle(e, r, o, app, quarantined_now);
    r->app = NULL; /* the snapshot ends here; job_record is given the app */
    p->ready[p->n_ready++] = r;
    if (p->n_ready >= POOL_RECORD_BATCH)
        pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct pool *p = w->pool;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t i = p->n;
        if (!atomic_load(&p->paused) && p->next < p->n)
            i = p->next++;
        pthread_mutex_unlock(&p->mu);
        if (i == p->n)
            break;
        run_job(p, w->client, i);
    }
    pthread_mutex_lock(&p->mu);
    p->running--;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Record what is settled.  Caller holds the pool's lock, which is let go
 * while the jobs are written, so workers go on meanwhile. */
static void pool_record(struct pool *p)
{
    size_t n = p->n_ready;
    if (n == 0)
        return;
    struct job_run *batch[ENGINE_JOB_BATCH];
    memcpy(batch, p->ready, n * sizeof(*batch));
    p->n_ready = 0;
    struct store_app snapshot = *p->app; /* the app's progress as settled so far */
    pthread_mutex_unlock(&p->mu);
    record_jobs(p->e, &snapshot, batch, n);
    pthread_mutex_lock(&p->mu);
}

/* Wait for the workers, recording their settled jobs and renewing the app's
 * lease meanwhile; a lost lease or a stop closes the gate, so the workers end
 * after their request in flight. */
static void pool_wait(struct pool *p)
{
    pthread_mutex_lock(&p->mu);
    while (p->running > 0) {
        if (p->n_ready < POOL_RECORD_BATCH) {
            struct timespec until = clock_deadline_in_ms(POOL_WAIT_MS);
            pthread_cond_timedwait(&p->cv, &p->mu, &until);
        }
        pool_record(p);
        if (p->running == 0)
            break;
        /* under the lock: a lease lost and taken again resets the health
         * window, which the workers write */
        if (stopping(p->e) || !keep_lease(p->e, p->app, p->rt))
            atomic_store(&p->paused, true);
    }
    pool_record(p);
    pthread_mutex_unlock(&p->mu);
}

/* Probe a quarantined app whose wait is over: one harmless lookup.  An answer
 * (anything but a 5xx, a timeout or a connection failure) ends the quarantine
 * (app_resumed); otherwise the next probe waits longer. */
static size_t probe_app(struct engine *e, struct store_app *app, struct app_rt *rt)
{
    struct scim_error err;
    scim_error_clear(&err);
    struct scim_client *client = client_of(e, rt, 0, app, &err);
    if (client == NULL)
        return 0;
    scim_client_set_pause(client, NULL);
    char value[16 + STORE_ID_LEN] = "scimd-probe-";
    if (crypto_uuid(value + strlen(value)) != OK)
        return 0;
    struct scim_client_result res = { 0 };
    enum scim_client_outcome o =
        scim_client_find(client, SCIM_CLIENT_USERS, "userName", value, &res);
    bool alive = o != SCIM_CLIENT_TRANSIENT;
    int64_t probes = app->quarantine_probes;
    if (alive) {
        log_info("app %s: probe answered (HTTP %ld); quarantine over", app->id, res.http_status);
        app->quarantine_probes = 0;
        app->paused_until[0] = '\0';
        app->pause_reason[0] = '\0';
        health_reset(&rt->health);
        if (o == SCIM_CLIENT_RATE_LIMITED)
            pause_app(app, res.retry_after_s > 0 ? res.retry_after_s : 1,
                      "rate limited: HTTP 429 to a probe");
    } else {
        app->quarantine_probes++;
        app->paused_until[0] = '\0';
        pause_app(app, (long)(health_probe_delay_ms(app->quarantine_probes) / 1000),
                  app->pause_reason);
        log_info("app %s: probe failed (%s, HTTP %ld); next one at %s", app->id,
                 scim_client_outcome_name(o), res.http_status, app->paused_until);
    }
    scim_client_result_release(&res);
    struct store_tx *tx = NULL;
    enum status rc = directory_app_write_begin(e->dir->store, app->tenant_id, app->id, &tx);
    if (rc == OK && alive)
        rc = engine_event(
            tx, app, "app_resumed", NULL,
            json_pack("{s:s,s:I}", "reason", "probe answered", "probes", (json_int_t)probes));
    if (rc == OK)
        rc = store_app_progress(tx, app);
    rc = rc == OK ? store_commit(tx) : (store_rollback(tx), rc);
    if (rc != OK)
        log_warn("app %s: could not record its probe: %s", app->id, status_name(rc));
    return 1;
}

/* The app cannot be contacted at all (no key, a credential that does not
 * open, a bad CA file): a fault of the app's setup, not of any job, so no job
 * spends an attempt; the app waits ENGINE_SETUP_RETRY_S and tries again (a
 * restart with the right key waits at most that long), the reason shown by
 * `app show`. */
#define ENGINE_SETUP_RETRY_S 15
static void pause_for_setup(struct engine *e, struct store_app *app, const struct scim_error *err)
{
    char reason[STORE_ERROR_MAX];
    snprintf(reason, sizeof(reason), "cannot set up the app: %s", err->detail);
    bool first = strcmp(app->last_error, reason) != 0;
    str_copy(app->last_error, sizeof(app->last_error), reason);
    pause_app(app, ENGINE_SETUP_RETRY_S, reason);
    if (first)
        log_warn("app %s: %s; its changes wait", app->id, reason);
    struct store_tx *tx = NULL;
    enum status rc = directory_app_write_begin(e->dir->store, app->tenant_id, app->id, &tx);
    if (rc == OK)
        rc = store_app_progress(tx, app);
    rc = rc == OK ? store_commit(tx) : (store_rollback(tx), rc);
    if (rc != OK)
        log_warn("app %s: could not record its pause: %s", app->id, status_name(rc));
}

/* One batch of an app's work, run in a thread of its own so that a slow or
 * unreachable app delays nobody else: a probe of a quarantined app, or up to
 * ENGINE_JOB_BATCH due jobs.  It owns its copy of the app (credential
 * included); the engine leaves the app alone (no dispatch, no other batch)
 * until the batch has ended. */
struct batch {
    struct engine *e;
    struct app_rt *rt;
    struct store_app app;
    bool probe;
    struct store_app_job jobs[ENGINE_JOB_BATCH];
    size_t n;
    struct job_run runs[ENGINE_JOB_BATCH];   /* one per job */
    struct job_run *ready[ENGINE_JOB_BATCH]; /* settled, not yet recorded */
};

/* Work the batch's jobs, up to app->concurrency at once. */
static void work_jobs(struct batch *b)
{
    struct engine *e = b->e;
    struct store_app *app = &b->app;
    struct app_rt *rt = b->rt;
    size_t n_jobs = b->n;
    struct pool p = { .e = e,
                      .app = app,
                      .rt = rt,
                      .jobs = b->jobs,
                      .runs = b->runs,
                      .ready = b->ready,
                      .n = n_jobs };
    atomic_init(&p.paused, false);
    scim_error_clear(&p.client_err);
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    size_t n_workers = app->concurrency > 0 ? (size_t)app->concurrency : 1;
    if (n_workers > STORE_APP_CONCURRENCY_MAX)
        n_workers = STORE_APP_CONCURRENCY_MAX;
    if (n_workers > n_jobs)
        n_workers = n_jobs;
    struct worker workers[STORE_APP_CONCURRENCY_MAX];
    size_t started = 0;
    for (size_t i = 0; i < n_workers; i++) {
        workers[i] =
            (struct worker){ .pool = &p, .client = client_of(e, rt, i, app, &p.client_err) };
        if (workers[i].client)
            scim_client_set_pause(workers[i].client, &p.paused);
    }
    if (workers[0].client == NULL) {
        pause_for_setup(e, app, &p.client_err);
        pthread_cond_destroy(&p.cv);
        pthread_mutex_destroy(&p.mu);
        return;
    }
    pthread_mutex_lock(&p.mu); /* workers count themselves out under it */
    for (size_t i = 0; i < n_workers; i++) {
        if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0)
            break;
        started++;
        p.running++;
    }
    pthread_mutex_unlock(&p.mu);
    if (started == 0) { /* no thread to be had: work here, one job at a time */
        p.running = 1;
        worker_main(&workers[0]);
        pthread_mutex_lock(&p.mu);
        pool_record(&p);
        pthread_mutex_unlock(&p.mu);
    } else { /* this thread watches the lease while the workers work */
        pool_wait(&p);
        for (size_t i = 0; i < started; i++)
            pthread_join(workers[i].thread, NULL);
    }
    for (size_t i = 0; i < n_workers; i++) {
        if (workers[i].client)
            scim_client_set_pause(workers[i].client, NULL);
    }
    pthread_cond_destroy(&p.cv);
    pthread_mutex_destroy(&p.mu);
}

static void *batch_main(void *arg)
{
    struct batch *b = arg;
    struct engine *e = b->e;
    struct app_rt *rt = b->rt;
    if (b->probe)
        probe_app(e, &b->app, rt);
    else
        work_jobs(b);
    store_app_release(&b->app);
    free(b);
    pthread_mutex_lock(&e->mu);
    rt->batch_ended = true;
    e->kicked = true; /* the engine passes again at once */
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

/* Start the app's next batch, if it has work due: the probe of a quarantine
 * whose wait is over, or due jobs.  Returns 1 when a
 * batch started (or ran here, when no thread could be had). */
static size_t start_batch(struct engine *e, struct store_app *app, struct app_rt *rt)
{
    char now[STORE_TIME_LEN];
    clock_now_iso(now);
    bool waiting = app->paused_until[0] && strcmp(app->paused_until, now) > 0;
    if (waiting)
        return 0;
    struct batch *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return 0;
    b->probe = app->quarantine_probes > 0;
    struct due due = { b->jobs, 0 };
    struct store_tx *tx = NULL;
    enum status rc = store_begin(e->dir->store, false, &tx);
    if (rc == OK && !b->probe)
        rc = store_app_job_due_each(tx, app->tenant_id, app->id, now, ENGINE_JOB_BATCH, collect_job,
                                    &due);
    b->n = due.n;
    if (rc == OK && (b->probe || due.n > 0)) /* lists leave the credential out */
        rc = store_app_get(tx, app->tenant_id, app->id, &b->app);
    store_rollback(tx);
    if (rc != OK || (!b->probe && due.n == 0)) {
        free(b);
        return 0;
    }
    char *credential = b->app.credential; /* the rest as the pass has it (position) */
    b->app = *app;
    b->app.credential = credential;
    b->e = e;
    b->rt = rt;
    if (pthread_create(&rt->batch, NULL, batch_main, b) == 0) {
        pthread_mutex_lock(&e->mu);
        rt->batch_running = true;
        pthread_mutex_unlock(&e->mu);
    } else {
        batch_main(b); /* no thread to be had: work here */
        pthread_mutex_lock(&e->mu);
        rt->batch_ended = false; /* nothing to join */
        pthread_mutex_unlock(&e->mu);
    }
    return 1;
}

/* ---- the thread ---------------------------------------------------------------------------- */

struct app_list {
    struct store_app *v;
    size_t n, alloc;
    bool failed;
};

static enum status collect_app(void *ctx, const struct store_app *a)
{
    struct app_list *l = ctx;
    if (l->n == l->alloc) {
        size_t alloc = l->alloc ? l->alloc * 2 : 8;
        struct store_app *p = realloc(l->v, alloc * sizeof(*p));
        if (p == NULL)
            return ERR_NOMEM;
        l->v = p;
        l->alloc = alloc;
    }
    l->v[l->n++] = *a;
    return OK;
}

/* One pass over every app; returns how much work was done. */
static size_t engine_pass(struct engine *e)
{
    struct app_list l = { 0 };
    struct store_tx *tx = NULL;
    /* the horizon first, in a transaction of its own: each app's dispatch then
     * reads its events in a later one, which sees every event up to it */
    enum status rc = store_begin(e->dir->store, false, &tx);
    if (rc == OK)
        rc = store_event_horizon(tx, &e->horizon);
    store_rollback(tx);
    if (rc != OK) {
        log_warn("fan-out: could not read the events horizon: %s", status_name(rc));
        e->horizon = 0; /* no position moves this pass */
    }
    rc = store_begin(e->dir->store, false, &tx);
    if (rc == OK)
        rc = store_app_each(tx, NULL, collect_app, &l);
    store_rollback(tx);
    size_t work = 0;
    for (size_t i = 0; i < e->n_apps; i++)
        e->apps[i]->present = false;
    for (size_t i = 0; rc == OK && i < l.n && !stopping(e); i++) {
        struct store_app *app = &l.v[i];
        struct app_rt *rt = rt_of(e, app);
        if (rt == NULL)
            break;
        rt->present = true;
        if (rt_busy(e, rt)) /* its batch thread works it (and renews its lease) */
            continue;
        rt_join(e, rt, false);
        if (strcmp(app->state, "enabled") != 0 || !keep_lease(e, app, rt))
            continue;
        work += dispatch_app(e, app, rt);
        reconcile_tick(e->dir, app, e->cfg.reconcile_s, &rt->reconcile_at_ms);
        work += start_batch(e, app, rt);
    }
    if (rc == OK) { /* forget apps that were deleted */
        size_t kept = 0;
        for (size_t i = 0; i < e->n_apps; i++) {
            if (e->apps[i]->present || rt_busy(e, e->apps[i])) /* its batch ends first */
                e->apps[kept++] = e->apps[i];
            else
                rt_release(e, e->apps[i]);
        }
        e->n_apps = kept;
    } else {
        log_warn("fan-out: could not list apps: %s", status_name(rc));
    }
    for (size_t i = 0; i < l.n; i++)
        store_app_release(&l.v[i]);
    free(l.v);
    return work;
}

static void *engine_main(void *arg)
{
    struct engine *e = arg;
    unsigned poll_ms = e->cfg.poll_ms ? e->cfg.poll_ms : ENGINE_POLL_MS;
    while (!stopping(e)) {
        int64_t started = clock_mono_ms();
        size_t work = engine_pass(e);
        /* busy: pass again, yet not more often than ENGINE_PASS_MIN_MS, so a
         * stream of events is read in batches; idle: wait for poll_ms or
         * until a batch ends */
        int64_t wait_ms = work > 0 ? ENGINE_PASS_MIN_MS - (clock_mono_ms() - started) : poll_ms;
        if (wait_ms <= 0)
            continue;
        pthread_mutex_lock(&e->mu);
        if (!e->stopping && !e->kicked) {
            struct timespec until = clock_deadline_in_ms(wait_ms);
            pthread_cond_timedwait(&e->cv, &e->mu, &until);
        }
        e->kicked = false;
        pthread_mutex_unlock(&e->mu);
    }
    return NULL;
}

enum status engine_start(struct directory *dir, const struct secretbox *box,
                         const struct engine_config *cfg, struct engine **out,
                         struct scim_error *err)
{
    *out = NULL;
    struct engine *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    e->dir = dir;
    e->box = box;
    e->cfg = *cfg;
    if (lease_node_init(&e->node, cfg->lease_s, cfg->node) != OK) {
        free(e);
        return scim_error_set(err, ERR_IO, "no randomness for the node id");
    }
    log_info("fan-out: node %s (leases of %u s)", e->node.id, e->node.ttl_s);
    pthread_mutex_init(&e->mu, NULL);
    pthread_mutex_init(&e->gauge_mu, NULL);
    pthread_cond_init(&e->cv, NULL);
    if (pthread_create(&e->thread, NULL, engine_main, e) != 0) {
        pthread_cond_destroy(&e->cv);
        pthread_mutex_destroy(&e->mu);
        pthread_mutex_destroy(&e->gauge_mu);
        free(e);
        return scim_error_set(err, ERR_IO, "cannot start the fan-out thread");
    }
    *out = e;
    return OK;
}

void engine_stop(struct engine *e)
{
    if (e == NULL)
        return;
    pthread_mutex_lock(&e->mu);
    e->stopping = true;
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
    pthread_join(e->thread, NULL);
    for (size_t i = 0; i < e->n_apps; i++)
        rt_release(e, e->apps[i]);              /* a batch ends after its requests in flight */
    lease_release_all(&e->node, e->dir->store); /* another node takes over at once */
    free(e->apps);
    free(e->inflight);
    pthread_cond_destroy(&e->cv);
    pthread_mutex_destroy(&e->mu);
    pthread_mutex_destroy(&e->gauge_mu);
    free(e);
}
