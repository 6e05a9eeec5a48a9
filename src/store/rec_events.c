/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec_events.c - this file contains the record operations of store.h for
 * events (the audit log and outbox): their SQL, parameters and row
 * decoding, written once for every backend (stmt.h).  Events outside a
 * tenant are stored with the dialect's NO_TENANT and read back as NULL.
 */
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "store/sqlgen.h"
#include "store/stmt.h"
#include "store/store.h"

static const char SQL_EVENT_INSERT[] =
    "INSERT INTO events (tenant_id, id, at, type, idp_id, actor, subject_id, summary, source, "
    "request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq";
#define NO_TENANT(D) STMT_FRAGMENT(D, NO_TENANT)
static const char *const NO_TENANT_IN[STMT_DIALECTS] = STMT_PER_DIALECT(NO_TENANT);

enum status store_event_append(struct store_tx *tx, struct store_event *e)
{
    enum status rc = crypto_uuid(e->id);
    if (rc != OK)
        return rc;
    clock_now_iso(e->at);
    struct stmt *st;
    rc = stmt_prepare(tx, SQL_EVENT_INSERT, 0, "append event", &st);
    if (rc != OK)
        return rc;
    stmt_text(st, e->tenant_id ? e->tenant_id : stmt_sql(tx, NO_TENANT_IN));
    stmt_text(st, e->id);
    stmt_text(st, e->at);
    stmt_text(st, e->type);
    stmt_text(st, e->idp_id);
    stmt_text(st, e->actor);
    stmt_text(st, e->subject_id);
    stmt_text(st, e->summary);
    stmt_text(st, e->source);
    stmt_text(st, e->request_id);
    rc = stmt_step(st);
    if (rc == OK)
        e->seq = stmt_col_int(st, 0);
    else if (rc == ERR_NOT_FOUND)
        rc = ERR_STORE; /* no row came back: nothing was appended */
    stmt_finish(st);
    return rc;
}

/* One row of SQLGEN_EVENT_COLUMNS to a store_event_fn (stmt.h). */
enum status rec_event_row(struct stmt *st, rec_any_fn fn, void *ctx)
{
    struct store_event e;
    memset(&e, 0, sizeof(e));
    e.seq = stmt_col_int(st, 0);
    rec_col_copy(st, 1, e.id, sizeof(e.id));
    rec_col_copy(st, 2, e.at, sizeof(e.at));
    e.tenant_id = stmt_col_text(st, 3);
    if (e.tenant_id != NULL && e.tenant_id[0] == '\0')
        e.tenant_id = NULL;
    e.idp_id = stmt_col_text(st, 4);
    e.type = stmt_col_text(st, 5);
    e.actor = stmt_col_text(st, 6);
    e.subject_id = stmt_col_text(st, 7);
    e.summary = stmt_col_text(st, 8);
    e.source = stmt_col_text(st, 9);
    e.request_id = stmt_col_text(st, 10);
    return ((store_event_fn)fn)(ctx, &e);
}

enum status store_event_each(struct store_tx *tx, const struct store_event_query *q,
                             store_event_fn fn, void *ctx)
{
    struct sqlgen g;
    sqlgen_init(&g, stmt_sqlgen_dialect(tx));
    enum status rc = sqlgen_event_query(q, &g);
    struct stmt *st = NULL;
    if (rc == OK)
        rc = stmt_prepare_gen(tx, &g, 0, "list events", &st);
    if (rc == OK)
        rc = rec_rows(st, rec_event_row, (rec_any_fn)fn, ctx);
    sqlgen_release(&g);
    return rc;
}

static const char SQL_EVENT_HORIZON[] = "SELECT scimd_event_horizon()"; /* migration 095 */

static enum status read_seq(struct stmt *st, void *out)
{
    *(int64_t *)out = stmt_col_int(st, 0);
    return OK;
}

enum status store_event_horizon(struct store_tx *tx, int64_t *out)
{
    /* SQLite: one write transaction at a time, so a seq is never visible
     * before a lower one.  PostgreSQL: nextval() is not transactional, so
     * the database tracks the seqs of transactions in flight. */
    *out = INT64_MAX;
    if (stmt_dialect_of(tx) == STMT_SQLITE)
        return OK;
    return rec_find(tx, SQL_EVENT_HORIZON, NULL, 0, read_seq, out, "event horizon");
}
