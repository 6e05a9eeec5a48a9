/*
 * sqlgen_test.c - unit tests for src/store/sqlgen.c: the statement builder,
 * placeholder styles, time normalisation and the shape of compiled filters.
 * (Whether compiled filters select the right rows is tested against SQLite in
 * sqlite_test.c.)
 */
#include <criterion/criterion.h>
#include <string.h>

#include "scim/filter.h"
#include "store/sqlgen.h"

#include "core/str.h"

/* clang-format off */
static const struct {
    const char *in;
    const char *want; /* NULL: rejected */
} times[] = {
    { "2024-01-02T03:04:05Z",          "2024-01-02T03:04:05.000Z" },
    { "2024-01-02T03:04:05.1Z",        "2024-01-02T03:04:05.100Z" },
    { "2024-01-02T03:04:05.12Z",       "2024-01-02T03:04:05.120Z" },
    { "2024-01-02T03:04:05.123Z",      "2024-01-02T03:04:05.123Z" },
    { "2024-01-02T03:04:05+00:00",     "2024-01-02T03:04:05.000Z" },
    { "2024-01-02T03:04:05.5+00:00",   "2024-01-02T03:04:05.500Z" },
    { "2024-02-29T23:59:59Z",          "2024-02-29T23:59:59.000Z" },
    { "2000-02-29T00:00:00Z",          "2000-02-29T00:00:00.000Z" },
    { "2024-01-02T03:04:05.1234Z",     NULL },
    { "2024-01-02T03:04:05.Z",         NULL },
    { "2024-01-02T03:04:05",           NULL },
    { "2024-01-02T03:04:05+01:00",     NULL },
    { "2024-01-02T03:04:05-00:00",     NULL },
    { "2024-01-02T03:04:05z",          NULL },
    { "2024-01-02t03:04:05Z",          NULL },
    { "2024-01-02 03:04:05Z",          NULL },
    { "2024-01-02",                    NULL },
    { "2023-02-29T00:00:00Z",          NULL },
    { "1900-02-29T00:00:00Z",          NULL },
    { "2024-13-01T00:00:00Z",          NULL },
    { "2024-00-01T00:00:00Z",          NULL },
    { "2024-04-31T00:00:00Z",          NULL },
    { "2024-01-00T00:00:00Z",          NULL },
    { "2024-01-01T24:00:00Z",          NULL },
    { "2024-01-01T00:60:00Z",          NULL },
    { "2024-01-01T00:00:60Z",          NULL },
    { "2024-1-01T00:00:00Z",           NULL },
    { "+024-01-01T00:00:00Z",          NULL },
    { "2024-01-01T00:00:00Z ",         NULL },
    { "2024-01-01T00:00:00ZZ",         NULL },
    { "2024-01-01T00:00:00.12aZ",      NULL },
    { "",                              NULL },
};
/* clang-format on */

Test(sqlgen, time_normalise)
{
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        char out[STORE_TIME_LEN] = "";
        bool ok = sqlgen_time_normalise(times[i].in, out);
        if (times[i].want == NULL) {
            cr_expect(!ok, "'%s' accepted as '%s'", times[i].in, out);
        } else {
            cr_expect(ok, "'%s' rejected", times[i].in);
            cr_expect_str_eq(out, times[i].want, "'%s'", times[i].in);
        }
    }
    char out[STORE_TIME_LEN];
    cr_expect(!sqlgen_time_normalise(NULL, out));
}

Test(sqlgen, builder_placeholders_and_params)
{
    struct sqlgen g;
    sqlgen_init(&g, &sqlgen_sqlite);
    sqlgen_sql(&g, "SELECT 1 WHERE a = ");
    sqlgen_text(&g, "x");
    sqlgen_sql(&g, " AND b = ");
    sqlgen_int(&g, 42);
    sqlgen_sql(&g, " AND c IS ");
    sqlgen_text(&g, NULL);
    cr_assert_eq(sqlgen_status(&g), OK);
    cr_assert_str_eq(g.sql.data, "SELECT 1 WHERE a = ? AND b = ? AND c IS ?");
    cr_assert_eq(g.n_params, 3);
    cr_assert_eq(g.params[0].kind, SQLGEN_PARAM_TEXT);
    cr_assert_str_eq(g.params[0].text, "x");
    cr_assert_eq(g.params[1].kind, SQLGEN_PARAM_INT);
    cr_assert_eq(g.params[1].num, 42);
    cr_assert_null(g.params[2].text);
    sqlgen_release(&g);

    sqlgen_init(&g, &sqlgen_postgres);
    for (int i = 0; i < 12; i++) {
        sqlgen_sql(&g, i ? ", " : "VALUES (");
        sqlgen_int(&g, i);
    }
    sqlgen_sql(&g, ")");
    cr_assert_eq(sqlgen_status(&g), OK);
    cr_assert_str_eq(g.sql.data, "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)");
    sqlgen_release(&g);
}

Test(sqlgen, key_dup)
{
    /* Unicode NFC + case folding: \xc3\x8b (Ë) folds to \xc3\xab (ë) */
    char *s = sqlgen_key_dup("MiXeD@Example.COM \xc3\x8b");
    cr_assert_str_eq(s, "mixed@example.com \xc3\xab");
    free(s);
    cr_assert_null(sqlgen_key_dup(NULL));
}

static struct scim_filter *filter_of(const char *text)
{
    struct scim_filter *f = NULL;
    struct scim_error err = { 0 };
    cr_assert_eq(scim_filter_parse(text, &f, &err), OK, "parse %s: %s", text, err.detail);
    cr_assert_eq(scim_filter_bind(f, &scim_resource_user, &err), OK, "bind %s: %s", text,
                 err.detail);
    return f;
}

/* clang-format off */
static const struct {
    const char *filter;
    const struct sqlgen_dialect *dialect;
    const char *sql;      /* NULL: does not compile */
    bool exact;
    const char *params[6]; /* text params, or "#n" for an integer */
} shapes[] = {
    { "userName eq \"Alice\"", &sqlgen_sqlite, "user_name_lc = ?", true, { "alice" } },
    { "userName eq \"Alice\"", &sqlgen_postgres, "user_name_lc COLLATE \"C\" = $1", true, { "alice" } },
    { "userName co \"a%b_c\\\\d\"", &sqlgen_sqlite, "user_name_lc LIKE ? ESCAPE '\\'", true, { "%a\\%b\\_c\\\\d%" } },
    { "userName ew \"X\"", &sqlgen_sqlite, "user_name_lc LIKE ? ESCAPE '\\'", true, { "%x" } },
    { "userName sw \"Ab\"", &sqlgen_sqlite, "(user_name_lc >= ? AND user_name_lc < ?)", true, { "ab", "ac" } },
    { "userName sw \"a~\"", &sqlgen_sqlite, "user_name_lc LIKE ? ESCAPE '\\'", true, { "a~%" } },
    { "userName pr", &sqlgen_sqlite, "TRUE", true, { NULL } },
    { "externalId eq \"X\"", &sqlgen_sqlite, "(external_id IS NOT NULL AND external_id = ?)", true, { "X" } },
    { "externalId ne \"X\"", &sqlgen_sqlite, "(external_id IS NULL OR external_id <> ?)", true, { "X" } },
    { "externalId co \"X\"", &sqlgen_postgres, "(external_id IS NOT NULL AND strpos(external_id, $1) > 0)", true, { "X" } },
    { "externalId sw \"\xc3\xa9t\xc3\xa9\"", &sqlgen_sqlite, "(external_id IS NOT NULL AND substr(external_id, 1, ?) = ?)", true, { "#3", "\xc3\xa9t\xc3\xa9" } },
    { "externalId ew \"ab\"", &sqlgen_sqlite, "(external_id IS NOT NULL AND length(external_id) >= ? AND substr(external_id, length(external_id) - ? + 1) = ?)", true, { "#2", "#2", "ab" } },
    { "externalId pr", &sqlgen_sqlite, "(external_id IS NOT NULL AND external_id <> '')", true, { NULL } },
    { "id gt \"u\"", &sqlgen_sqlite, "(user_id > ?)", true, { "u" } },
    { "active eq \"TRUE\"", &sqlgen_sqlite, "active = ?", true, { "#1" } },
    { "active ne false", &sqlgen_sqlite, "active <> ?", true, { "#0" } },
    { "meta.created ge \"2024-01-01T00:00:00Z\"", &sqlgen_sqlite, "created_at >= ?", true, { "2024-01-01T00:00:00.000Z" } },
    { "emails.value eq \"A@B\"", &sqlgen_sqlite, "user_id IN (SELECT user_id FROM idp_user_emails WHERE tenant_id = ? AND idp_id = ? AND (value_lc = ?))", true, { "t", "i", "a@b" } },
    { "emails[value pr]", &sqlgen_sqlite, "user_id IN (SELECT user_id FROM idp_user_emails WHERE tenant_id = ? AND idp_id = ? AND (value_lc <> ''))", true, { "t", "i" } },
    { "emails[type eq \"work\" and value eq \"x\"]", &sqlgen_sqlite, "user_id IN (SELECT user_id FROM idp_user_emails WHERE tenant_id = ? AND idp_id = ? AND (value_lc = ?))", false, { "t", "i", "x" } },
    { "userName eq \"a\" and title eq \"b\"", &sqlgen_sqlite, "user_name_lc = ?", false, { "a" } },
    { "title eq \"b\" and userName eq \"a\"", &sqlgen_sqlite, "user_name_lc = ?", false, { "a" } },
    { "userName eq \"a\" or active eq true", &sqlgen_postgres, "(user_name_lc COLLATE \"C\" = $1 OR active = $2)", true, { "a", "#1" } },
    { "not (userName eq \"a\")", &sqlgen_sqlite, "(NOT user_name_lc = ?)", true, { "a" } },
    { "userName eq \"a\" or title eq \"b\"", &sqlgen_sqlite, NULL, false, { NULL } },
    { "not (userName eq \"a\" and title eq \"b\")", &sqlgen_sqlite, NULL, false, { NULL } },
    { "emails[not (value eq \"x\")]", &sqlgen_sqlite, NULL, false, { NULL } },
    { "emails[type eq \"work\"]", &sqlgen_sqlite, NULL, false, { NULL } },
    { "phoneNumbers[value eq \"1\"]", &sqlgen_sqlite, NULL, false, { NULL } },
    { "meta[created gt \"2024-01-01T00:00:00Z\"]", &sqlgen_sqlite, NULL, false, { NULL } },
    { "userName eq 1", &sqlgen_sqlite, NULL, false, { NULL } },
    { "userName eq true", &sqlgen_sqlite, NULL, false, { NULL } },
    { "externalId eq null", &sqlgen_sqlite, NULL, false, { NULL } },
    { "active eq \"yes\"", &sqlgen_sqlite, NULL, false, { NULL } },
    { "emails.value lt \"x\"", &sqlgen_sqlite, NULL, false, { NULL } },
    { "meta.created eq \"yesterday\"", &sqlgen_sqlite, NULL, false, { NULL } },
    { "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"x\"", &sqlgen_sqlite, NULL, false, { NULL } },
};
/* clang-format on */

Test(sqlgen, filter_shapes)
{
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        struct scim_filter *f = filter_of(shapes[i].filter);
        struct sqlgen g;
        sqlgen_init(&g, shapes[i].dialect);
        bool exact = true;
        bool compiled = sqlgen_user_filter(&g, f, "t", "i", &exact);
        bool asked_exact = !exact;
        cr_expect_eq(sqlgen_user_filter(NULL, f, "t", "i", &asked_exact), compiled,
                     "%s: dry run agrees", shapes[i].filter);
        cr_expect_eq(asked_exact, exact, "%s: dry run exactness", shapes[i].filter);
        cr_assert_eq(sqlgen_status(&g), OK);
        if (shapes[i].sql == NULL) {
            cr_expect(!compiled, "%s compiled to %s", shapes[i].filter, g.sql.data);
            cr_expect_eq(g.sql.len, 0);
            cr_expect_eq(g.n_params, 0);
        } else {
            cr_expect(compiled, "%s did not compile", shapes[i].filter);
            cr_expect_str_eq(g.sql.data, shapes[i].sql, "%s", shapes[i].filter);
            cr_expect_eq(exact, shapes[i].exact, "%s: exact", shapes[i].filter);
            size_t n = 0;
            while (n < 6 && shapes[i].params[n])
                n++;
            cr_expect_eq(g.n_params, n, "%s: %zu params", shapes[i].filter, g.n_params);
            for (size_t k = 0; k < n && k < g.n_params; k++) {
                const char *want = shapes[i].params[k];
                if (want[0] == '#') {
                    cr_expect_eq(g.params[k].kind, SQLGEN_PARAM_INT, "%s: param %zu",
                                 shapes[i].filter, k);
                    cr_expect_eq(g.params[k].num, strtol(want + 1, NULL, 10), "%s: param %zu",
                                 shapes[i].filter, k);
                } else {
                    cr_expect_eq(g.params[k].kind, SQLGEN_PARAM_TEXT);
                    cr_expect_str_eq(g.params[k].text, want, "%s: param %zu", shapes[i].filter, k);
                }
            }
        }
        sqlgen_release(&g);
        scim_filter_free(f);
    }
}

Test(sqlgen, search_statements)
{
    struct scim_filter *f = filter_of("userName eq \"A\" and name.givenName eq \"x\"");
    struct store_search q = { .tenant_id = "t",
                              .idp_id = "i",
                              .filter = f,
                              .sort = STORE_SORT_EXTERNAL_ID,
                              .descending = true,
                              .offset = 5,
                              .limit = 10 };
    struct sqlgen count, rows;
    sqlgen_init(&count, &sqlgen_postgres);
    sqlgen_init(&rows, &sqlgen_postgres);
    bool exact = true;
    cr_assert_eq(sqlgen_user_search(&q, &count, &rows, &exact), OK);
    cr_assert(!exact);
    cr_assert_str_eq(count.sql.data,
                     "SELECT COUNT(*) FROM idp_users WHERE tenant_id = $1 AND "
                     "idp_id = $2 AND deleted = 0 AND user_name_lc COLLATE \"C\" = $3");
    cr_assert_str_eq(rows.sql.data,
                     "SELECT " SQLGEN_IDP_USER_COLUMNS " FROM idp_users WHERE tenant_id = $1 AND "
                     "idp_id = $2 AND deleted = 0 AND user_name_lc COLLATE \"C\" = $3 ORDER BY "
                     "(external_id IS NULL) ASC, external_id COLLATE \"C\" DESC, user_id "
                     "COLLATE \"C\" DESC",
                     "inexact: no LIMIT");
    sqlgen_release(&count);
    sqlgen_release(&rows);
    scim_filter_free(f);

    q = (struct store_search){
        .tenant_id = "t", .idp_id = "i", .sort = STORE_SORT_NONE, .offset = 5, .limit = 10
    };
    sqlgen_init(&count, &sqlgen_sqlite);
    sqlgen_init(&rows, &sqlgen_sqlite);
    cr_assert_eq(sqlgen_user_search(&q, &count, &rows, &exact), OK);
    cr_assert(exact);
    cr_assert_str_eq(rows.sql.data,
                     "SELECT " SQLGEN_IDP_USER_COLUMNS " FROM idp_users WHERE tenant_id = ? AND "
                     "idp_id = ? AND deleted = 0 ORDER BY user_id ASC LIMIT ? OFFSET ?");
    cr_assert_eq(rows.n_params, 4);
    cr_assert_eq(rows.params[2].num, 10);
    cr_assert_eq(rows.params[3].num, 5);
    sqlgen_release(&count);
    sqlgen_release(&rows);
}

Test(sqlgen, event_query)
{
    struct store_event_query q = { .tenant_id = "t", .type = "x", .after_seq = 7 };
    struct sqlgen g;
    sqlgen_init(&g, &sqlgen_postgres);
    cr_assert_eq(sqlgen_event_query(&q, &g), OK);
    cr_assert_str_eq(g.sql.data,
                     "SELECT " SQLGEN_EVENT_COLUMNS " FROM (SELECT " SQLGEN_EVENT_COLUMNS
                     " FROM events WHERE seq > $1 AND tenant_id = $2 AND type = $3 "
                     "ORDER BY seq DESC LIMIT $4) AS recent ORDER BY seq ASC");
    cr_assert_eq(g.n_params, 4);
    cr_assert_eq(g.params[0].num, 7);
    cr_assert_eq(g.params[3].num, SQLGEN_EVENT_DEFAULT_LIMIT);
    sqlgen_release(&g);
}

Test(sqlgen, event_query_by_subject_before_seq)
{
    struct store_event_query q = { .subject_id = "s", .before_seq = 9, .limit = 3 };
    struct sqlgen g;
    sqlgen_init(&g, &sqlgen_postgres);
    cr_assert_eq(sqlgen_event_query(&q, &g), OK);
    cr_assert_str_eq(g.sql.data,
                     "SELECT " SQLGEN_EVENT_COLUMNS " FROM (SELECT " SQLGEN_EVENT_COLUMNS
                     " FROM events WHERE seq > $1 AND subject_id = $2 AND seq < $3 "
                     "ORDER BY seq DESC LIMIT $4) AS recent ORDER BY seq ASC");
    cr_assert_eq(g.params[2].num, 9);
    cr_assert_eq(g.params[3].num, 3);
    sqlgen_release(&g);
}

Test(sqlgen, deep_filters_compile_in_bounded_time)
{
    /* 14 nested ANDs of a compilable and an uncompilable side. */
    char text[SCIM_FILTER_MAX_LEN];
    size_t n = 0;
    for (int i = 0; i < 14; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "(userName eq \"a\" and (title pr or ");
    n += (size_t)snprintf(text + n, sizeof(text) - n, "title pr");
    for (int i = 0; i < 14; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "))");
    struct scim_filter *f = NULL;
    struct scim_error err = { 0 };
    if (scim_filter_parse(text, &f, &err) != OK)
        cr_assert_fail("parse: %s", err.detail);
    cr_assert_eq(scim_filter_bind(f, &scim_resource_user, &err), OK);
    struct sqlgen g;
    sqlgen_init(&g, &sqlgen_sqlite);
    bool exact = true;
    cr_assert(sqlgen_user_filter(&g, f, "t", "i", &exact));
    cr_assert(!exact);
    cr_assert_str_eq(g.sql.data, "user_name_lc = ?");
    sqlgen_release(&g);
    scim_filter_free(f);
}
