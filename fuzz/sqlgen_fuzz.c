/* SPDX-License-Identifier: Apache-2.0 */
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
 *
 * Differentially, the database holds a few users and groups (plus a deleted
 * user and rows of another connection that must never come back), and the
 * rows a search returns are compared with what the in-memory evaluator
 * (scim_filter_match) says of the same documents: an exact answer must be
 * exactly the matches (and the count their number), an inexact one a
 * superset.  The fixture's *_lc key columns hold the ASCII-lowercased value,
 * which is what the Unicode folding of core/fold.h gives for its ASCII data;
 * filters with non-ASCII bytes skip this comparison.  If the fixture no longer
 * fits the schema (a migration changed the tables), the comparison is off and
 * says so once at start.
 */
#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
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
static bool differential; /* the fixture loaded */

#define TENANT "t-1"
#define IDP    "idp-1"

/* clang-format off */
struct fixture_user {
    const char *id, *idp, *user_name, *external_id;
    int active, deleted;
    const char *created, *updated;
    const char *emails[3];
    const char *doc;
};
static const struct fixture_user fixture_users[] = {
    { "u-01", IDP, "Bjensen@Example.com", "Ext-Bjensen", 1, 0, "2010-01-23T04:56:22.000Z", "2011-05-13T04:42:34.000Z",
      { "bjensen@example.com", "babs@jensen.org" },
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"id\":\"u-01\",\"externalId\":\"Ext-Bjensen\","
      "\"userName\":\"Bjensen@Example.com\",\"active\":true,\"title\":\"Tour Guide\","
      "\"name\":{\"givenName\":\"Barbara\",\"familyName\":\"Jensen\"},"
      "\"emails\":[{\"value\":\"bjensen@example.com\",\"type\":\"work\",\"primary\":true},"
      "{\"value\":\"babs@jensen.org\",\"type\":\"home\"}],"
      "\"meta\":{\"resourceType\":\"User\",\"created\":\"2010-01-23T04:56:22.000Z\","
      "\"lastModified\":\"2011-05-13T04:42:34.000Z\"}}" },
    { "u-02", IDP, "mandy_p", NULL, 0, 0, "2020-02-29T23:59:59.999Z", "2020-03-01T00:00:00.000Z", { NULL },
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"id\":\"u-02\",\"userName\":\"mandy_p\","
      "\"active\":false,\"meta\":{\"resourceType\":\"User\",\"created\":\"2020-02-29T23:59:59.999Z\","
      "\"lastModified\":\"2020-03-01T00:00:00.000Z\"}}" },
    { "u-03", IDP, "ZED", "ext-Zed", 1, 0, "2021-06-01T12:00:00.000Z", "2021-06-01T12:00:00.000Z",
      { "zed@example.com" },
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"id\":\"u-03\",\"externalId\":\"ext-Zed\","
      "\"userName\":\"ZED\",\"active\":true,\"emails\":[{\"value\":\"ZED@EXAMPLE.COM\",\"type\":\"work\"}],"
      "\"meta\":{\"resourceType\":\"User\",\"created\":\"2021-06-01T12:00:00.000Z\","
      "\"lastModified\":\"2021-06-01T12:00:00.000Z\"}}" },
    { "u-04", IDP, "a_b[c]%", "50%_off", 1, 0, "2021-06-01T12:00:00.001Z", "2022-01-01T00:00:00.000Z",
      { "x_y@z.org" },
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"id\":\"u-04\",\"externalId\":\"50%_off\","
      "\"userName\":\"a_b[c]%\",\"active\":true,\"emails\":[{\"value\":\"x_y@z.org\"},{\"type\":\"home\"}],"
      "\"meta\":{\"resourceType\":\"User\",\"created\":\"2021-06-01T12:00:00.001Z\","
      "\"lastModified\":\"2022-01-01T00:00:00.000Z\"}}" },
    { "u-05", IDP, "o'brien\\x", "'; DROP", 1, 0, "1999-12-31T23:59:59.000Z", "1999-12-31T23:59:59.000Z", { NULL },
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"id\":\"u-05\",\"externalId\":\"'; DROP\","
      "\"userName\":\"o'brien\\\\x\",\"active\":true,"
      "\"meta\":{\"resourceType\":\"User\",\"created\":\"1999-12-31T23:59:59.000Z\","
      "\"lastModified\":\"1999-12-31T23:59:59.000Z\"}}" },
    /* never returned: deleted, and another connection's row */
    { "u-06", IDP, "deleted@example.com", "ext-del", 1, 1, "2010-01-23T04:56:22.000Z", "2011-05-13T04:42:34.000Z",
      { "deleted@example.com" },
      "{\"id\":\"u-06\",\"userName\":\"deleted@example.com\",\"active\":true}" },
    { "u-07", "idp-2", "bjensen@example.com", "Ext-Bjensen", 1, 0, "2010-01-23T04:56:22.000Z", "2011-05-13T04:42:34.000Z",
      { "bjensen@example.com" },
      "{\"id\":\"u-07\",\"userName\":\"bjensen@example.com\",\"active\":true}" },
};
struct fixture_group {
    const char *id, *idp, *display_name, *external_id;
    const char *created, *updated;
    const char *members[3];
    const char *doc; /* with members rendered, as the directory matches it */
};
static const struct fixture_group fixture_groups[] = {
    { "g-01", IDP, "Tour Guides", NULL, "2015-01-01T00:00:00.000Z", "2016-01-01T00:00:00.000Z", { "u-01", "u-03" },
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"id\":\"g-01\",\"displayName\":\"Tour Guides\","
      "\"members\":[{\"value\":\"u-01\",\"type\":\"User\"},{\"value\":\"u-03\",\"type\":\"User\"}],"
      "\"meta\":{\"resourceType\":\"Group\",\"created\":\"2015-01-01T00:00:00.000Z\","
      "\"lastModified\":\"2016-01-01T00:00:00.000Z\"}}" },
    { "g-02", IDP, "Admins", "okta-1", "2015-01-01T00:00:00.000Z", "2015-01-01T00:00:00.000Z", { NULL },
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"id\":\"g-02\",\"displayName\":\"Admins\","
      "\"externalId\":\"okta-1\",\"meta\":{\"resourceType\":\"Group\",\"created\":\"2015-01-01T00:00:00.000Z\","
      "\"lastModified\":\"2015-01-01T00:00:00.000Z\"}}" },
    { "g-03", IDP, "tour guides_%", NULL, "2017-01-01T00:00:00.000Z", "2017-01-01T00:00:00.000Z", { "u-02" },
      "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"id\":\"g-03\",\"displayName\":\"tour guides_%\","
      "\"members\":[{\"value\":\"u-02\",\"type\":\"User\"}],"
      "\"meta\":{\"resourceType\":\"Group\",\"created\":\"2017-01-01T00:00:00.000Z\","
      "\"lastModified\":\"2017-01-01T00:00:00.000Z\"}}" },
    { "g-04", "idp-2", "Tour Guides", NULL, "2015-01-01T00:00:00.000Z", "2016-01-01T00:00:00.000Z", { "u-07" },
      "{\"id\":\"g-04\",\"displayName\":\"Tour Guides\"}" },
};
/* clang-format on */
#define N_USERS  (sizeof(fixture_users) / sizeof(fixture_users[0]))
#define N_GROUPS (sizeof(fixture_groups) / sizeof(fixture_groups[0]))
static json_t *user_docs[N_USERS];
static json_t *group_docs[N_GROUPS];

static void die(const char *what, const char *sql)
{
    fprintf(stderr, "sqlgen_fuzz: %s\n  sql: %s\n  sqlite: %s\n", what, sql ? sql : "(none)",
            db ? sqlite3_errmsg(db) : "");
    abort();
}

static bool load_fixture(void);

static void open_db(void)
{
    if (sqlite3_open(":memory:", &db) != SQLITE_OK)
        die("cannot open an in-memory database", NULL);
    for (size_t i = 0; i < sizeof(sqlite_migrations) / sizeof(sqlite_migrations[0]); i++) {
        if (sqlite3_exec(db, sqlite_migrations[i].sql, NULL, NULL, NULL) != SQLITE_OK)
            die(sqlite_migrations[i].name, NULL);
    }
    differential = load_fixture();
}

static char *lower_dup(const char *s)
{
    char *out = str_dup(s);
    str_lower(out);
    return out;
}

/* Run one statement with text parameters (NULL binds NULL); false on any failure. */
static bool exec_row(const char *sql, const char *const *params, size_t n)
{
    sqlite3_stmt *st = NULL;
    bool ok = sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK;
    for (size_t i = 0; ok && i < n; i++)
        ok = (params[i] ? sqlite3_bind_text(st, (int)i + 1, params[i], -1, SQLITE_TRANSIENT)
                        : sqlite3_bind_null(st, (int)i + 1)) == SQLITE_OK;
    ok = ok && sqlite3_step(st) == SQLITE_DONE;
    if (!ok)
        fprintf(stderr, "sqlgen_fuzz: fixture: %s (%s)\n", sqlite3_errmsg(db), sql);
    sqlite3_finalize(st);
    return ok;
}

static bool load_fixture(void)
{
    bool ok = true;
    for (size_t i = 0; ok && i < N_USERS; i++) {
        const struct fixture_user *u = &fixture_users[i];
        char *lc = lower_dup(u->user_name);
        const char *p[] = { TENANT,
                            u->idp,
                            u->id,
                            u->external_id,
                            u->user_name,
                            lc,
                            u->active ? "1" : "0",
                            u->deleted ? "1" : "0",
                            u->doc,
                            u->created,
                            u->updated };
        ok = exec_row(
            "INSERT INTO idp_users (tenant_id, idp_id, user_id, external_id, user_name, "
            "user_name_lc, active, deleted, version, doc, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, CAST(? AS INTEGER), CAST(? AS INTEGER), 1, ?, ?, ?)",
            p, 11);
        free(lc);
        for (size_t k = 0; ok && k < 3 && u->emails[k]; k++) {
            char *value_lc = lower_dup(u->emails[k]);
            const char *e[] = { TENANT, u->idp, u->id, value_lc };
            ok = exec_row("INSERT INTO idp_user_emails (tenant_id, idp_id, user_id, value_lc) "
                          "VALUES (?, ?, ?, ?)",
                          e, 4);
            free(value_lc);
        }
        user_docs[i] = json_loads(u->doc, 0, NULL);
        ok = ok && user_docs[i] != NULL;
    }
    for (size_t i = 0; ok && i < N_GROUPS; i++) {
        const struct fixture_group *g = &fixture_groups[i];
        char *lc = lower_dup(g->display_name);
        const char *p[] = { TENANT, g->idp, g->id,      g->external_id, g->display_name,
                            lc,     g->doc, g->created, g->updated };
        ok = exec_row("INSERT INTO groups (tenant_id, idp_id, id, external_id, display_name, "
                      "display_name_lc, version, doc, created_at, updated_at) "
                      "VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
                      p, 9);
        free(lc);
        for (size_t k = 0; ok && k < 3 && g->members[k]; k++) {
            const char *m[] = { TENANT, g->idp, g->id, g->members[k] };
            ok = exec_row("INSERT INTO group_members (tenant_id, idp_id, group_id, user_id) "
                          "VALUES (?, ?, ?, ?)",
                          m, 4);
        }
        group_docs[i] = json_loads(g->doc, 0, NULL);
        ok = ok && group_docs[i] != NULL;
    }
    if (!ok)
        fprintf(stderr, "sqlgen_fuzz: the fixture does not fit the schema; the differential "
                        "comparison is OFF\n");
    return ok;
}

static void check_text(const struct sqlgen *g)
{
    for (const char *p = g->sql.data; p && *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c < 0x20 && c != '\n') || c >= 0x7f)
            die("a byte that is not printable ASCII in the SQL text", g->sql.data);
    }
}

/* What a statement returned: the ids in column id_col (or the count in column 0). */
struct result {
    int id_col; /* -1: collect nothing */
    char ids[16][16];
    size_t n;
    long long count;
};

/* SQLite: prepare, check the parameter count, bind, run to completion. */
static void check_sqlite(const struct sqlgen *g, struct result *r)
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
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (r == NULL)
            continue;
        r->count = sqlite3_column_int64(st, 0);
        const unsigned char *id = r->id_col >= 0 ? sqlite3_column_text(st, r->id_col) : NULL;
        if (id != NULL && r->n < 16)
            str_copy(r->ids[r->n++], sizeof(r->ids[0]), (const char *)id);
    }
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
                check_sqlite(&count, NULL);
                check_sqlite(&rows, NULL);
            } else {
                check_postgres(&count);
                check_postgres(&rows);
            }
        }
        sqlgen_release(&count);
        sqlgen_release(&rows);
    }
}

static bool in_result(const struct result *r, const char *id)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->ids[i], id) == 0)
            return true;
    return false;
}

/* The SQLite answer of search for f against what the evaluator says of each fixture row. */
static void compare(sqlgen_search_fn search, const struct scim_filter *f, bool users)
{
    struct store_search q = { .tenant_id = TENANT, .idp_id = IDP, .filter = f, .limit = 1000 };
    struct sqlgen count, rows;
    sqlgen_init(&count, &sqlgen_sqlite);
    sqlgen_init(&rows, &sqlgen_sqlite);
    bool exact = false;
    if (search(&q, &count, &rows, &exact) != OK)
        goto done;
    struct result got = { .id_col = users ? SQLGEN_IU_USER_ID : SQLGEN_G_ID };
    struct result counted = { .id_col = -1, .count = -1 };
    check_sqlite(&rows, &got);
    if (exact)
        check_sqlite(&count, &counted);
    size_t n = users ? N_USERS : N_GROUPS, matched = 0;
    for (size_t i = 0; i < n; i++) {
        const char *id = users ? fixture_users[i].id : fixture_groups[i].id;
        const char *idp = users ? fixture_users[i].idp : fixture_groups[i].idp;
        bool live = strcmp(idp, IDP) == 0 && !(users && fixture_users[i].deleted);
        bool want = live && scim_filter_match(f, users ? user_docs[i] : group_docs[i]);
        bool have = in_result(&got, id);
        matched += want;
        if (have && !live)
            die("a deleted row or another connection's row came back", rows.sql.data);
        if (want && !have) {
            fprintf(stderr, "row %s matches but SQL did not return it\n", id);
            die("the SQL misses a match", rows.sql.data);
        }
        if (exact && have && !want) {
            fprintf(stderr, "row %s returned but does not match\n", id);
            die("an exact answer returned a row that does not match", rows.sql.data);
        }
    }
    if (exact && counted.count != (long long)matched)
        die("an exact count differs from the matches", count.sql.data);
done:
    sqlgen_release(&count);
    sqlgen_release(&rows);
}

static bool ascii_only(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
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
        .limit = (shape & 0x20)   ? 0
                 : (shape & 0x40) ? SIZE_MAX
                                  : 10,
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
        if (scim_filter_bind(f, &scim_resource_user, &err) == OK) {
            run_search(sqlgen_user_search, &q);
            if (differential && ascii_only(text))
                compare(sqlgen_user_search, f, true);
        }
        scim_filter_free(f);
        f = NULL;
        if (scim_filter_parse(text, &f, &err) == OK &&
            scim_filter_bind(f, &scim_resource_group, &err) == OK) {
            q.filter = f;
            run_search(sqlgen_group_search, &q);
            if (differential && ascii_only(text))
                compare(sqlgen_group_search, f, false);
        }
        scim_filter_free(f);
    }
    free(text);
    return 0;
}
