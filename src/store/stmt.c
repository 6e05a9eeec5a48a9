/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stmt.c - this file contains the statement calls of stmt.h, forwarded to
 * the transaction's backend, and the record helpers built on them that every
 * record file shares (run, find, iterate, search, column copies).
 */
#include <stdlib.h>
#include <string.h>

#include "store/stmt.h"

#include "core/clock.h"
#include "core/str.h"
#include "store/store_backend.h"

static const struct store_ops *ops_of(const void *head)
{
    return ((const struct store_head *)head)->ops;
}

/* ---- dispatch ----------------------------------------------------------------------- */

enum stmt_dialect stmt_dialect_of(const struct store_tx *tx)
{
    return ops_of(tx)->dialect;
}

const struct sqlgen_dialect *stmt_sqlgen_dialect(const struct store_tx *tx)
{
    return ops_of(tx)->sqlgen;
}

const char *stmt_sql(const struct store_tx *tx, const char *const per_dialect[STMT_DIALECTS])
{
    return per_dialect[ops_of(tx)->dialect];
}

enum status stmt_prepare(struct store_tx *tx, const char *sql, unsigned flags, const char *what,
                         struct stmt **out)
{
    return ops_of(tx)->prepare(tx, sql, true, flags, what, out);
}

enum status stmt_prepare_gen(struct store_tx *tx, const struct sqlgen *g, unsigned flags,
                             const char *what, struct stmt **out)
{
    *out = NULL;
    enum status rc = sqlgen_status(g);
    if (rc != OK)
        return rc;
    rc = ops_of(tx)->prepare(tx, g->sql.data, false, flags, what, out);
    for (size_t i = 0; rc == OK && i < g->n_params; i++) {
        const struct sqlgen_param *p = &g->params[i];
        if (p->kind == SQLGEN_PARAM_INT)
            stmt_int(*out, p->num);
        else
            stmt_text(*out, p->text);
    }
    return rc;
}

void stmt_text(struct stmt *st, const char *value)
{
    ops_of(st)->bind_text(st, value);
}

void stmt_opt(struct stmt *st, const char *value)
{
    stmt_text(st, value && *value ? value : NULL);
}

void stmt_int(struct stmt *st, int64_t value)
{
    ops_of(st)->bind_int(st, value);
}

enum status stmt_step(struct stmt *st)
{
    return ops_of(st)->step(st);
}

enum status stmt_run_together(struct stmt *a, struct stmt *b)
{
    const struct store_ops *ops = ops_of(a);
    return ops->run_together ? ops->run_together(a, b) : OK;
}

enum status stmt_exec(struct stmt *st)
{
    return ops_of(st)->exec(st);
}

int64_t stmt_changes(const struct stmt *st)
{
    return ops_of(st)->changes(st);
}

const char *stmt_col_text(struct stmt *st, int col)
{
    return ops_of(st)->col_text(st, col);
}

int64_t stmt_col_int(struct stmt *st, int col)
{
    return ops_of(st)->col_int(st, col);
}

void stmt_finish(struct stmt *st)
{
    if (st != NULL)
        ops_of(st)->finish(st);
}

/* ---- columns ------------------------------------------------------------------------ */

void rec_col_copy(struct stmt *st, int col, char *dst, size_t n)
{
    const char *s = stmt_col_text(st, col);
    str_copy(dst, n, s ? s : "");
}

bool rec_col_dup(struct stmt *st, int col, char **dst)
{
    const char *s = stmt_col_text(st, col);
    *dst = s ? str_dup(s) : NULL;
    return s == NULL || *dst != NULL;
}

char *rec_col_view(struct stmt *st, int col)
{
    return (char *)stmt_col_text(st, col);
}

/* ---- running ------------------------------------------------------------------------ */

enum status rec_done(struct stmt *st)
{
    enum status rc = stmt_exec(st);
    stmt_finish(st);
    return rc;
}

/* Finish st after running it: none when it changed no row. */
static enum status done_changing(struct stmt *st, enum status none)
{
    enum status rc = stmt_exec(st);
    if (rc == OK && stmt_changes(st) == 0)
        rc = none;
    stmt_finish(st);
    return rc;
}

enum status rec_done_insert(struct stmt *st)
{
    return done_changing(st, ERR_UNIQUENESS);
}

enum status rec_done_one(struct stmt *st)
{
    return done_changing(st, ERR_NOT_FOUND);
}

/* st for sql with the text parameters bound. */
static enum status prepare_texts(struct store_tx *tx, const char *sql, const char *const *texts,
                                 size_t n, unsigned flags, const char *what, struct stmt **st)
{
    enum status rc = stmt_prepare(tx, sql, flags, what, st);
    for (size_t i = 0; rc == OK && i < n; i++)
        stmt_text(*st, texts[i]);
    return rc;
}

enum status rec_exec(struct store_tx *tx, const char *sql, const char *const *texts, size_t n,
                     const char *what)
{
    struct stmt *st;
    enum status rc = prepare_texts(tx, sql, texts, n, 0, what, &st);
    return rc == OK ? rec_done(st) : rc;
}

enum status rec_delete_with(struct store_tx *tx, const char *const *sqls, size_t n_sqls,
                            const char *const *keys, size_t n_keys, const char *what)
{
    enum status rc = OK;
    for (size_t i = 0; rc == OK && i + 1 < n_sqls; i++)
        rc = rec_exec(tx, sqls[i], keys, n_keys, what);
    struct stmt *st;
    if (rc == OK)
        rc = prepare_texts(tx, sqls[n_sqls - 1], keys, n_keys, 0, what, &st);
    return rc == OK ? rec_done_one(st) : rc;
}

enum status rec_insert(struct store_tx *tx, const char *sql, const char *const *texts, size_t n,
                       const char *what)
{
    struct stmt *st;
    enum status rc = prepare_texts(tx, sql, texts, n, 0, what, &st);
    return rc == OK ? rec_done_insert(st) : rc;
}

enum status rec_find(struct store_tx *tx, const char *sql, const char *const *keys, size_t n,
                     rec_read_fn read, void *out, const char *what)
{
    struct stmt *st;
    enum status rc = prepare_texts(tx, sql, keys, n, 0, what, &st);
    if (rc != OK)
        return rc;
    rc = stmt_step(st);
    if (rc == OK)
        rc = read(st, out);
    stmt_finish(st);
    return rc;
}

enum status rec_rows(struct stmt *st, rec_row_fn each, rec_any_fn fn, void *ctx)
{
    enum status rc;
    while ((rc = stmt_step(st)) == OK) {
        rc = each(st, fn, ctx);
        if (rc != OK)
            break;
    }
    stmt_finish(st);
    return rc == ERR_NOT_FOUND ? OK : rc;
}

enum status rec_each(struct store_tx *tx, const char *sql, const char *const *keys, size_t n,
                     unsigned flags, rec_row_fn each, rec_any_fn fn, void *ctx, const char *what)
{
    struct stmt *st;
    enum status rc = prepare_texts(tx, sql, keys, n, flags, what, &st);
    return rc == OK ? rec_rows(st, each, fn, ctx) : rc;
}

enum status rec_find_scoped(struct store_tx *tx, const char *sql_any, const char *sql_in,
                            const char *tenant_id, const char *id, rec_read_fn read, void *out,
                            const char *what)
{
    const char *keys[] = { tenant_id, id };
    if (tenant_id == NULL)
        return rec_find(tx, sql_any, &id, 1, read, out, what);
    return rec_find(tx, sql_in, keys, 2, read, out, what);
}

enum status rec_each_scoped(struct store_tx *tx, const char *sql_any, const char *sql_in,
                            const char *tenant_id, rec_row_fn each, rec_any_fn fn, void *ctx,
                            const char *what)
{
    if (tenant_id == NULL)
        return rec_each(tx, sql_any, NULL, 0, 0, each, fn, ctx, what);
    return rec_each(tx, sql_in, &tenant_id, 1, 0, each, fn, ctx, what);
}

static enum status read_count(struct stmt *st, rec_any_fn fn, void *ctx)
{
    (void)fn;
    int64_t n = stmt_col_int(st, 0);
    *(size_t *)ctx = n > 0 ? (size_t)n : 0;
    return OK;
}

enum status rec_search(struct store_tx *tx, const struct store_search *q, sqlgen_search_fn build,
                       rec_row_fn each, rec_any_fn fn, void *ctx, struct store_search_result *res,
                       const char *what)
{
    struct sqlgen count, rows;
    sqlgen_init(&count, stmt_sqlgen_dialect(tx));
    sqlgen_init(&rows, stmt_sqlgen_dialect(tx));
    bool exact = false;
    enum status rc = build(q, &count, &rows, &exact);
    res->exact = exact;
    res->total = 0;
    bool want_count = exact && !q->skip_count, want_rows = !exact || q->limit > 0;
    /* a page is fetched whole; every candidate, or a page larger than a batch, streams */
    unsigned flags = !exact || q->limit > STMT_SCAN_ROWS ? STMT_SCAN : 0;
    struct stmt *count_st = NULL, *rows_st = NULL;
    if (rc == OK && want_count)
        rc = stmt_prepare_gen(tx, &count, 0, what, &count_st);
    if (rc == OK && want_rows)
        rc = stmt_prepare_gen(tx, &rows, flags, what, &rows_st);
    if (rc == OK && count_st != NULL && rows_st != NULL)
        rc = stmt_run_together(count_st, rows_st); /* one round trip for both */
    if (rc == OK && count_st != NULL)
        rc = rec_rows(count_st, read_count, NULL, &res->total);
    else
        stmt_finish(count_st);
    if (rc == OK && rows_st != NULL)
        rc = rec_rows(rows_st, each, fn, ctx);
    else
        stmt_finish(rows_st);
    sqlgen_release(&count);
    sqlgen_release(&rows);
    return rc;
}

/* ---- memory ------------------------------------------------------------------------- */

bool rec_tx_reads_only(const struct store_tx *tx)
{
    return !((const struct store_tx_common *)tx)->write;
}

struct rec_idp_cache *rec_idp_cache_of(struct store_tx *tx)
{
    return &((struct store_common *)((struct store_tx_common *)tx)->store)->idps;
}

void rec_memo_in_groups(struct stmt *st, const char *tenant_id, const char *idp_id,
                        const char *user_id, bool in_groups)
{
    struct store_tx_common *tx = (struct store_tx_common *)((struct stmt_common *)st)->tx;
    struct rec_memo *m = &tx->memo;
    m->set = !tx->write && strlen(tenant_id) < sizeof(m->tenant_id) &&
             strlen(idp_id) < sizeof(m->idp_id) && strlen(user_id) < sizeof(m->user_id);
    if (!m->set)
        return;
    m->in_groups = in_groups;
    str_copy(m->tenant_id, sizeof(m->tenant_id), tenant_id);
    str_copy(m->idp_id, sizeof(m->idp_id), idp_id);
    str_copy(m->user_id, sizeof(m->user_id), user_id);
}

bool rec_memo_lookup(struct store_tx *tx, const char *tenant_id, const char *idp_id,
                     const char *user_id, bool *in_groups)
{
    const struct rec_memo *m = &((struct store_tx_common *)tx)->memo;
    if (!m->set || strcmp(m->user_id, user_id) != 0 || strcmp(m->idp_id, idp_id) != 0 ||
        strcmp(m->tenant_id, tenant_id) != 0)
        return false;
    *in_groups = m->in_groups;
    return true;
}

/* ---- values ------------------------------------------------------------------------- */

const char *rec_time_or_now(const char *t, char now[STORE_TIME_LEN])
{
    if (t != NULL && *t != '\0')
        return t;
    clock_now_iso(now);
    return now;
}

char *rec_ids_json(const char *const *ids, size_t n)
{
    struct buf b;
    buf_init(&b, 0);
    buf_putc(&b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            buf_putc(&b, ',');
        if (ids[i] == NULL) {
            buf_puts(&b, "null");
            continue;
        }
        buf_putc(&b, '"');
        for (const unsigned char *s = (const unsigned char *)ids[i]; *s; s++) {
            if (*s == '"' || *s == '\\') {
                buf_putc(&b, '\\');
                buf_putc(&b, (char)*s);
            } else if (*s < 0x20) {
                buf_printf(&b, "\\u%04x", *s);
            } else {
                buf_putc(&b, (char)*s);
            }
        }
        buf_putc(&b, '"');
    }
    buf_putc(&b, ']');
    char *out = buf_take(&b);
    buf_release(&b);
    return out;
}
