/*
 * sqlgen_fuzz.c - libFuzzer target for src/store/sqlgen.c: filter text ->
 * scim filter parser -> bound to User and to Group -> the search statements
 * of both SQL dialects.
 *
 * The first input byte picks the search shape (sort, order, offset, limit,
 * keyset, count or not); the rest is the filter.  Bugs are: any crash, leak
 * or sanitizer report; a statement that SQLite (with the real migrations
 * applied to an in-memory database) cannot prepare, bind or run; a
 * placeholder count that differs from the bound values; PostgreSQL
 * placeholders that are not exactly $1..$n; and any byte in the SQL text
 * that is not printable ASCII (values must never enter the SQL text).
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scim/filter.h"
#include "scim/schema.h"
#include "store/sqlgen.h"

#include "core/str.h"

struct migration {
    const char *name;
    const char *sql;
};
#include "migrations_sqlite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sqlite3 *db;

static void die(const char *what, const char *sql)
{
    fprintf(stderr, "sqlgen_fuzz: %s\n  sql: %s\n  sqlite: %s\n", what, sql ? sql : "(none)",
            db ? sqlite3_errmsg(db) : "");
    abort();
}

static void open_db(void)
{
    if (sqlite3_open(":memory:", &db) != SQLITE_OK)
        die("cannot open an in-memory database", NULL);
    for (size_t i = 0; i < sizeof(sqlite_migrations) / sizeof(sqlite_migrations[0]); i++) {
        if (sqlite3_exec(db, sqlite_migrations[i].sql, NULL, NULL, NULL) != SQLITE_OK)
            die(sqlite_migrations[i].name, NULL);
    }
}

static void check_text(const struct sqlgen *g)
{
    for (const char *p = g->sql.data; p && *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c < 0x20 && c != '\n') || c >= 0x7f)
            die("a byte that is not printable ASCII in the SQL text", g->sql.data);
    }
}

/* SQLite: prepare, check the parameter count, bind, run to completion. */
static void check_sqlite(const struct sqlgen *g)
{
    if (g->sql.len == 0)
        return;
    check_text(g);
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    if (sqlite3_prepare_v2(db, g->sql.data, (int)g->sql.len, &st, &tail) != SQLITE_OK)
        die("SQLite cannot prepare the statement", g->sql.data);
    if (tail != NULL && *tail != '\0')
        die("more than one statement", g->sql.data);
    if ((size_t)sqlite3_bind_parameter_count(st) != g->n_params)
        die("placeholders differ from bound values", g->sql.data);
    for (size_t i = 0; i < g->n_params; i++) {
        const struct sqlgen_param *p = &g->params[i];
        int rc = p->kind == SQLGEN_PARAM_INT
                     ? sqlite3_bind_int64(st, (int)i + 1, p->num)
                     : (p->text ? sqlite3_bind_text(st, (int)i + 1, p->text, -1, SQLITE_STATIC)
                                : sqlite3_bind_null(st, (int)i + 1));
        if (rc != SQLITE_OK)
            die("cannot bind a value", g->sql.data);
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    if (rc != SQLITE_DONE)
        die("the statement fails at run time", g->sql.data);
    sqlite3_finalize(st);
}

/* PostgreSQL: $1..$n, each used, none beyond n, no '?'. */
static void check_postgres(const struct sqlgen *g)
{
    if (g->sql.len == 0)
        return;
    check_text(g);
    size_t n = g->n_params;
    unsigned char *seen = calloc(n + 1, 1);
    if (seen == NULL)
        return;
    bool in_literal = false;
    for (const char *p = g->sql.data; *p; p++) {
        if (*p == '\'')
            in_literal = !in_literal;
        if (in_literal)
            continue;
        if (*p == '?')
            die("a '?' placeholder in PostgreSQL text", g->sql.data);
        if (*p != '$')
            continue;
        size_t k = 0;
        const char *d = p + 1;
        while (*d >= '0' && *d <= '9' && k <= n)
            k = k * 10 + (size_t)(*d++ - '0');
        if (d == p + 1 || k == 0 || k > n)
            die("a placeholder outside $1..$n", g->sql.data);
        seen[k] = 1;
        p = d - 1;
    }
    for (size_t k = 1; k <= n; k++) {
        if (!seen[k])
            die("a bound value no placeholder uses", g->sql.data);
    }
    free(seen);
}

static void run_search(sqlgen_search_fn search, const struct store_search *q)
{
    static const struct sqlgen_dialect *const dialects[] = { &sqlgen_sqlite, &sqlgen_postgres };
    for (size_t d = 0; d < 2; d++) {
        struct sqlgen count, rows;
        sqlgen_init(&count, dialects[d]);
        sqlgen_init(&rows, dialects[d]);
        bool exact = false;
        enum status rc = search(q, &count, &rows, &exact);
        if (rc != OK && rc != ERR_NOMEM)
            die("search failed with something other than ERR_NOMEM", NULL);
        if (rc == OK && (sqlgen_status(&count) != OK || sqlgen_status(&rows) != OK))
            die("OK with a failed statement", NULL);
        if (rc == OK) {
            if (d == 0) {
                check_sqlite(&count);
                check_sqlite(&rows);
            } else {
                check_postgres(&count);
                check_postgres(&rows);
            }
        }
        sqlgen_release(&count);
        sqlgen_release(&rows);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (db == NULL)
        open_db();
    if (size == 0)
        return 0;
    uint8_t shape = data[0];
    char *text = str_ndup((const char *)data + 1, size - 1);
    if (text == NULL)
        return 0;
    struct store_search q = {
        .tenant_id = "t-1",
        .idp_id = "idp-1",
        .sort = (enum store_sort)(shape % 7),
        .descending = (shape & 0x08) != 0,
        .offset = (shape & 0x10) ? 20 : 0,
        .limit = (shape & 0x20) ? 0 : (shape & 0x40) ? SIZE_MAX : 10,
        .after_id = (shape & 0x80) ? "0190f0a2-0000-7000-8000-000000000000" : NULL,
        .skip_count = (shape & 0x04) != 0,
    };
    struct scim_error err = { 0 };
    struct scim_filter *f = NULL;
    if (*text == '\0') {
        run_search(sqlgen_user_search, &q);
        run_search(sqlgen_group_search, &q);
    } else if (scim_filter_parse(text, &f, &err) == OK) {
        q.filter = f;
        if (scim_filter_bind(f, &scim_resource_user, &err) == OK)
            run_search(sqlgen_user_search, &q);
        scim_filter_free(f);
        f = NULL;
        if (scim_filter_parse(text, &f, &err) == OK &&
            scim_filter_bind(f, &scim_resource_group, &err) == OK) {
            q.filter = f;
            run_search(sqlgen_group_search, &q);
        }
        scim_filter_free(f);
    }
    free(text);
    return 0;
}
