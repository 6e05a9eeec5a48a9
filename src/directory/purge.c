/* SPDX-License-Identifier: Apache-2.0 */
/*
 * purge.c - this file contains retention: erasing the personal data of
 * users soft-deleted before a cutoff (directory_purge, see directory.h).
 *
 * What goes: each user's IdP rows (the SCIM documents, externalId and
 * userName), their emails.value index, the user's group memberships, and
 * the canonical user's username, email and names.  What stays: the user's
 * id with status "erased", and every event.  Events were already free of
 * personal values (directory/audit.h: ids, types, attribute names,
 * statuses, the IdP's client address), so the audit trail stays whole and
 * pseudonymous: it still says which id was created, changed and deleted
 * when, and by which connection.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/array.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"
#include "directory/audit.h"
#include "directory/directory.h"

#define PURGE_BATCH 200     /* users erased per write transaction */
#define PURGE_LOCK  "purge" /* store_lock key of a purge batch */

struct targets {
    struct store_purge_target *v;
    size_t n, alloc;
};

static enum status collect(void *ctx, const struct store_purge_target *t)
{
    struct targets *ts = ctx;
    struct store_purge_target *v = array_room(ts->v, ts->n, &ts->alloc, sizeof(*v), 64);
    if (v == NULL)
        return ERR_NOMEM;
    ts->v = v;
    ts->v[ts->n++] = *t;
    return OK;
}

/* One users_purged event for targets [from, to) of one tenant. */
static enum status record(struct store_tx *tx, const struct targets *ts, size_t from, size_t to,
                          const struct store_erased *erased, const char *cutoff,
                          const struct actor *by)
{
    json_t *ids = json_array();
    for (size_t i = from; ids && i < to; i++)
        json_array_append_new(ids, json_string(ts->v[i].id));
    json_t *summary =
        ids ? json_pack("{s:I,s:I,s:I,s:I,s:I,s:s,s:o}", "users", (json_int_t)erased->users,
                        "idp_rows", (json_int_t)erased->idp_rows, "group_memberships",
                        (json_int_t)erased->memberships, "email_index_entries",
                        (json_int_t)erased->emails, "custom_fields_and_roles",
                        (json_int_t)erased->fields, "deleted_before", cutoff, "user_ids", ids)
            : NULL;
    struct audit_ctx ctx = { ts->v[from].tenant_id, NULL, by && by->name ? by->name : "cli",
                             by ? by->source : NULL };
    enum status rc = summary ? audit_append(tx, &ctx, "users_purged", NULL, summary) : ERR_NOMEM;
    json_decref(summary);
    return rc;
}

static void add_counts(struct store_erased *sum, const struct store_erased *part)
{
    sum->users += part->users;
    sum->idp_rows += part->idp_rows;
    sum->emails += part->emails;
    sum->memberships += part->memberships;
    sum->fields += part->fields;
}

/* Erase one batch (dry run: every target, then roll back); *found: targets seen. */
static enum status purge_batch(struct directory *dir, const char *tenant_id, const char *cutoff,
                               bool dry_run, const struct actor *by, directory_purge_fn fn,
                               void *ctx, struct store_erased *total, size_t *found)
{
    struct targets ts = { 0 };
    struct store_tx *tx = NULL;
    enum status rc = store_begin(dir->store, true, &tx);
    if (rc != OK)
        return rc;
    rc = store_lock(tx, PURGE_LOCK); /* one purge at a time, on every node */
    if (rc == OK)
        rc =
            store_user_deleted_each(tx, tenant_id, cutoff, dry_run ? 0 : PURGE_BATCH, collect, &ts);
    char now[STORE_TIME_LEN];
    clock_now_iso(now);
    struct store_erased batch = { 0 };
    for (size_t from = 0, i = 0; rc == OK && i < ts.n; from = i) {
        struct store_erased tenant = { 0 };
        for (; rc == OK && i < ts.n && strcmp(ts.v[i].tenant_id, ts.v[from].tenant_id) == 0; i++) {
            rc = store_user_erase(tx, ts.v[i].tenant_id, ts.v[i].id, now, &tenant);
            if (rc == ERR_NOT_FOUND) /* revived or erased since it was read */
                rc = OK;
            else if (rc == OK && fn)
                rc = fn(ctx, &ts.v[i]);
        }
        if (rc == OK && !dry_run)
            rc = record(tx, &ts, from, i, &tenant, cutoff, by);
        add_counts(&batch, &tenant);
    }
    *found = ts.n;
    free(ts.v);
    if (rc != OK || dry_run) {
        store_rollback(tx);
        if (rc == OK)
            add_counts(total, &batch);
        return rc;
    }
    rc = store_commit(tx);
    if (rc == OK)
        add_counts(total, &batch);
    return rc;
}

enum status directory_purge(struct directory *dir, const char *tenant_key, int64_t deleted_before_s,
                            bool dry_run, const struct actor *by, directory_purge_fn fn, void *ctx,
                            struct directory_purge_result *out, struct scim_error *err)
{
    scim_error_clear(err);
    memset(out, 0, sizeof(*out));
    if (deleted_before_s < 0 || deleted_before_s > CLOCK_DURATION_MAX_S)
        return scim_error_set(err, ERR_INVALID_VALUE, "the age must be 0 s to 100 years");
    clock_iso_from_ms((clock_now_s() - deleted_before_s) * 1000, out->cutoff);
    const char *tenant_id = NULL;
    if (tenant_key) {
        struct store_tx *tx = NULL;
        enum status rc = store_begin(dir->store, false, &tx);
        if (rc != OK)
            return scim_error_set(err, rc, "database unavailable");
        rc = directory_tenant_find(tx, tenant_key, &out->tenant, err);
        store_rollback(tx);
        if (rc == ERR_NOT_FOUND)
            return rc;
        if (rc != OK)
            return scim_error_set(err, rc, "database unavailable");
        tenant_id = out->tenant.id;
    }
    size_t found;
    enum status rc;
    do {
        rc = purge_batch(dir, tenant_id, out->cutoff, dry_run, by, fn, ctx, &out->erased, &found);
    } while (rc == OK && !dry_run && found == PURGE_BATCH);
    if (rc != OK)
        return scim_error_set(err, rc, "could not purge: %s", status_name(rc));
    return OK;
}

/* ---- the daily purge of `serve --purge-after` ---------------------------------------- */

struct directory_purger {
    struct directory *dir;
    int64_t deleted_before_s;
    int64_t every_s;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

static void purge_once(struct directory_purger *p)
{
    struct directory_purge_result res;
    struct scim_error err;
    struct actor by = { "purge-after", NULL };
    if (directory_purge(p->dir, NULL, p->deleted_before_s, false, &by, NULL, NULL, &res, &err) !=
        OK) {
        log_warn("purge: %s (tried again in %lld s)", err.detail, (long long)p->every_s);
        return;
    }
    if (res.erased.users > 0)
        log_info("purge: erased %lld users deleted before %s", (long long)res.erased.users,
                 res.cutoff);
}

static void *purger_main(void *arg)
{
    struct directory_purger *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stop) {
        pthread_mutex_unlock(&p->mu);
        purge_once(p);
        pthread_mutex_lock(&p->mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t)p->every_s;
        while (!p->stop && pthread_cond_timedwait(&p->cv, &p->mu, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

enum status directory_purger_start(struct directory *dir, int64_t deleted_before_s, int64_t every_s,
                                   struct directory_purger **out)
{
    *out = NULL;
    struct directory_purger *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return ERR_NOMEM;
    p->dir = dir;
    p->deleted_before_s = deleted_before_s;
    p->every_s = every_s > 0 ? every_s : 1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (pthread_create(&p->thread, NULL, purger_main, p) != 0) {
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
        free(p);
        return ERR_NOMEM;
    }
    *out = p;
    return OK;
}

void directory_purger_stop(struct directory_purger *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
