/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store.c - picks the backend named by a store URL and forwards the
 * transaction calls to it; also the record helpers that do not depend on a
 * backend.  The record operations live in rec_*.c, written once over stmt.h.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

#include "core/log.h"
#include "core/str.h"
#include "store/store_backend.h"

static const struct store_ops *ops_of(const void *store_or_tx)
{
    return ((const struct store_head *)store_or_tx)->ops;
}

enum status store_open(const char *url, unsigned pool_size, struct store **out,
                       struct scim_error *err)
{
    if (url != NULL && (str_istarts(url, "postgres://") || str_istarts(url, "postgresql://")))
        return postgres_store_open(url, pool_size, out, err);
    return sqlite_store_open(url, pool_size, out, err);
}

void store_close(struct store *store)
{
    if (store != NULL)
        ops_of(store)->close(store);
}

enum status store_begin(struct store *store, bool write, struct store_tx **out)
{
    return ops_of(store)->begin(store, write, out);
}

enum status store_lock(struct store_tx *tx, const char *key)
{
    return ops_of(tx)->lock(tx, key);
}

enum status store_commit(struct store_tx *tx)
{
    return ops_of(tx)->commit(tx);
}

void store_rollback(struct store_tx *tx)
{
    if (tx != NULL)
        ops_of(tx)->rollback(tx);
}

/* ---- what the backends share ---------------------------------------------------------- */

void store_pool_init(struct store_pool *p, unsigned size)
{
    p->size = size;
    p->n_conns = 0;
    p->idle = NULL;
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &attr);
    pthread_condattr_destroy(&attr);
}

void store_pool_release(struct store_pool *p, void (*close_conn)(struct store_pool_conn *c))
{
    pthread_mutex_lock(&p->mu);
    struct store_pool_conn *c = p->idle;
    p->idle = NULL;
    pthread_mutex_unlock(&p->mu);
    while (c != NULL) {
        struct store_pool_conn *next = c->next;
        close_conn(c);
        p->n_conns--;
        c = next;
    }
    if (p->n_conns != 0)
        log_error("store: closed with %u transactions still open", p->n_conns);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
}

void store_pool_put(struct store_pool *p, struct store_pool_conn *c, bool reuse)
{
    pthread_mutex_lock(&p->mu);
    if (reuse) {
        c->next = p->idle;
        p->idle = c;
    } else {
        p->n_conns--;
    }
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void store_pool_slot_free(struct store_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->n_conns--;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void *store_tx_new(size_t size, const struct store_ops *ops, struct store *s, bool write)
{
    struct store_tx_common *tx = calloc(1, size);
    if (tx != NULL) {
        tx->head.ops = ops;
        tx->store = s;
        tx->write = write;
    }
    return tx;
}

/* ---- records --------------------------------------------------------------------- */

void store_user_release(struct store_user *u)
{
    if (u == NULL)
        return;
    free(u->username);
    free(u->email);
    free(u->given_name);
    free(u->family_name);
    free(u->display_name);
    u->username = u->email = u->given_name = u->family_name = u->display_name = NULL;
}

void store_idp_user_release(struct store_idp_user *r)
{
    if (r == NULL)
        return;
    /* emails belong to the caller (store.h): never freed here. */
    free(r->external_id);
    free(r->user_name);
    free(r->doc);
    r->external_id = r->user_name = r->doc = NULL;
}

void store_group_release(struct store_group *g)
{
    if (g == NULL)
        return;
    free(g->external_id);
    free(g->display_name);
    free(g->doc);
    g->external_id = g->display_name = g->doc = NULL;
}
