/* SPDX-License-Identifier: Apache-2.0 */
/*
 * groups_test.c - unit tests for the group parts of the store: the Group
 * filter compiler and search statements of src/store/sqlgen.c (shapes, and
 * query plans that use the indexes), and the group and member-row functions
 * of src/store/sqlite.c against a fresh database file per test.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scim/filter.h"
#include "scim/schema.h"
#include "store/sqlgen.h"
#include "store/store.h"

#include "core/str.h"

#include "../../support/scratch_store.h"

#define MAX_IDS 16

static struct scratch_store scratch;
static struct store *store;

static void setup(void)
{
    struct scim_error err = { 0 };
    cr_assert_eq(scratch_store_open(&scratch, "/tmp", &err), OK, "open: %s", err.detail);
    store = scratch.store;
}

static void teardown(void)
{
    scratch_store_close(&scratch);
    store = NULL;
}

TestSuite(groups, .init = setup, .fini = teardown);

/* ---- helpers ------------------------------------------------------------------------ */

static struct scim_filter *group_filter(const char *text)
{
    struct scim_filter *f = NULL;
    struct scim_error err = { 0 };
    cr_assert_eq(scim_filter_parse(text, &f, &err), OK, "parse %s: %s", text, err.detail);
    cr_assert_eq(scim_filter_bind(f, &scim_resource_group, &err), OK, "bind %s: %s", text,
                 err.detail);
    return f;
}

static struct store_tx *begin(bool write)
{
    struct store_tx *tx = NULL;
    cr_assert_eq(store_begin(store, write, &tx), OK);
    return tx;
}

/* tenant t1 with IdPs i1 and i2; users u1..u4 on i1 (u4 deleted), u9 on i2. */
static void seed(void)
{
    struct store_tx *tx = begin(true);
    struct store_tenant t = { .id = "t1", .name = "T", .subdomain = "t" };
    cr_assert_eq(store_tenant_insert(tx, &t), OK);
    const char *idps[] = { "i1", "i2" };
    for (size_t i = 0; i < 2; i++) {
        struct store_idp idp = { .tenant_id = "t1", .vendor = "okta" };
        str_copy(idp.id, sizeof(idp.id), idps[i]);
        str_copy(idp.name, sizeof(idp.name), idps[i]);
        cr_assert_eq(store_idp_insert(tx, &idp), OK);
    }
    const struct {
        const char *id, *idp;
        bool deleted;
    } users[] = { { "u1", "i1", false },
                  { "u2", "i1", false },
                  { "u3", "i1", false },
                  { "u4", "i1", true },
                  { "u9", "i2", false } };
    for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
        struct store_user u = { .tenant_id = "t1", .status = "active" };
        str_copy(u.id, sizeof(u.id), users[i].id);
        u.username = (char *)users[i].id;
        cr_assert_eq(store_user_insert(tx, &u), OK);
        struct store_idp_user r = { .tenant_id = "t1", .active = true, .version = 1 };
        str_copy(r.idp_id, sizeof(r.idp_id), users[i].idp);
        str_copy(r.user_id, sizeof(r.user_id), users[i].id);
        r.user_name = (char *)users[i].id;
        r.deleted = users[i].deleted;
        r.doc = "{}";
        cr_assert_eq(store_idp_user_insert(tx, &r), OK);
    }
    cr_assert_eq(store_commit(tx), OK);
}

static enum status add_group(struct store_tx *tx, const char *idp, const char *id,
                             const char *display_name, const char *external_id)
{
    struct store_group g = { .tenant_id = "t1", .version = 1 };
    str_copy(g.idp_id, sizeof(g.idp_id), idp);
    str_copy(g.id, sizeof(g.id), id);
    g.display_name = (char *)display_name;
    g.external_id = (char *)external_id;
    g.doc = "{\"displayName\":\"x\"}";
    return store_group_insert(tx, &g);
}

struct ids {
    char v[MAX_IDS][STORE_ID_LEN];
    size_t n;
};

static enum status collect_id(void *ctx, const char *id)
{
    struct ids *l = ctx;
    cr_assert_lt(l->n, MAX_IDS);
    str_copy(l->v[l->n++], STORE_ID_LEN, id);
    return OK;
}

static enum status collect_group(void *ctx, const struct store_group *g)
{
    return collect_id(ctx, g->id);
}

static enum status collect_group_of(void *ctx, const char *group_id, const char *display_name)
{
    cr_assert_not_null(display_name);
    return collect_id(ctx, group_id);
}

static void expect_ids(const struct ids *l, const char *const *want, size_t n, const char *what)
{
    cr_expect_eq(l->n, n, "%s: %zu ids, want %zu", what, l->n, n);
    for (size_t i = 0; i < n && i < l->n; i++)
        cr_expect_str_eq(l->v[i], want[i], "%s: id %zu", what, i);
}

/* ---- filter shapes ------------------------------------------------------------------ */

#define MEMBERS_OPEN                                                                               \
    "id IN (SELECT m.group_id FROM group_members AS m JOIN idp_users AS u ON u.tenant_id = "       \
    "m.tenant_id AND u.idp_id = m.idp_id AND u.user_id = m.user_id AND u.deleted = 0 WHERE "       \
    "m.tenant_id = ? AND m.idp_id = ? AND ("

/* clang-format off */
static const struct {
    const char *filter;
    const char *sql; /* NULL: does not compile */
    bool exact;
    size_t n_params;
} shapes[] = {
    { "displayName eq \"Eng\"", "display_name_lc = ?", true, 1 },
    { "DISPLAYNAME eq \"Eng\"", "display_name_lc = ?", true, 1 },
    { "urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq \"Eng\"", "display_name_lc = ?", true, 1 },
    { "displayName sw \"En\"", "(display_name_lc >= ? AND display_name_lc < ?)", true, 2 },
    { "displayName co \"n\"", "display_name_lc LIKE ? ESCAPE '\\'", true, 1 },
    { "displayName ne \"x\"", "display_name_lc <> ?", true, 1 },
    { "externalId eq \"e\"", "(external_id IS NOT NULL AND external_id = ?)", true, 1 },
    { "id eq \"g1\"", "(id = ?)", true, 1 },
    { "meta.lastModified gt \"2024-01-01T00:00:00Z\"", "updated_at > ?", true, 1 },
    { "members.value eq \"u1\"", MEMBERS_OPEN "(m.user_id = ?)))", true, 3 },
    { "members[value eq \"u1\"]", MEMBERS_OPEN "(m.user_id = ?)))", true, 3 },
    { "members[value eq \"u1\" or value eq \"u2\"]", MEMBERS_OPEN "((m.user_id = ?) OR (m.user_id = ?))))", true, 4 },
    { "members pr", NULL, false, 0 },
    { "members[display eq \"x\"]", NULL, false, 0 },
    { "members.display eq \"x\"", NULL, false, 0 },
    { "members[not (value eq \"u1\")]", NULL, false, 0 },
    { "displayName eq \"a\" and members.display eq \"x\"", "display_name_lc = ?", false, 1 },
    { "displayName eq \"a\" or members.value eq \"u1\"", "(display_name_lc = ? OR " MEMBERS_OPEN "(m.user_id = ?))))", true, 4 },
    { "not (displayName eq \"a\")", "(NOT display_name_lc = ?)", true, 1 },
    { "displayName eq 1", NULL, false, 0 },
};
/* clang-format on */

Test(groups, filter_shapes)
{
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        struct scim_filter *f = group_filter(shapes[i].filter);
        struct sqlgen g;
        sqlgen_init(&g, &sqlgen_sqlite);
        bool exact = !shapes[i].exact;
        bool compiled = sqlgen_group_filter(&g, f, "t1", "i1", &exact);
        bool dry_exact = !exact;
        cr_expect_eq(sqlgen_group_filter(NULL, f, "t1", "i1", &dry_exact), compiled,
                     "%s: dry run agrees", shapes[i].filter);
        cr_assert_eq(sqlgen_status(&g), OK);
        if (shapes[i].sql == NULL) {
            cr_expect(!compiled, "%s compiled to %s", shapes[i].filter, g.sql.data);
            cr_expect_eq(g.n_params, 0);
        } else {
            cr_expect(compiled, "%s did not compile", shapes[i].filter);
            cr_expect_str_eq(g.sql.data, shapes[i].sql, "%s", shapes[i].filter);
            cr_expect_eq(exact, shapes[i].exact, "%s: exact", shapes[i].filter);
            cr_expect_eq(dry_exact, exact, "%s: dry run exactness", shapes[i].filter);
            cr_expect_eq(g.n_params, shapes[i].n_params, "%s: params", shapes[i].filter);
        }
        sqlgen_release(&g);
        scim_filter_free(f);
    }
}

Test(groups, user_filters_do_not_see_group_attributes)
{
    struct scim_filter *f = NULL;
    struct scim_error err = { 0 };
    cr_assert_eq(scim_filter_parse("displayName eq \"x\"", &f, &err), OK);
    cr_assert_eq(scim_filter_bind(f, &scim_resource_user, &err), OK);
    bool exact = true;
    cr_expect(!sqlgen_user_filter(NULL, f, "t", "i", &exact), "User displayName is not indexed");
    scim_filter_free(f);
}

Test(groups, search_statement)
{
    struct scim_filter *f = group_filter("displayName eq \"Eng\"");
    struct store_search q = { .tenant_id = "t1",
                              .idp_id = "i1",
                              .filter = f,
                              .sort = STORE_SORT_DISPLAY_NAME,
                              .descending = true,
                              .offset = 5,
                              .limit = 10 };
    struct sqlgen count, rows;
    sqlgen_init(&count, &sqlgen_sqlite);
    sqlgen_init(&rows, &sqlgen_sqlite);
    bool exact = false;
    cr_assert_eq(sqlgen_group_search(&q, &count, &rows, &exact), OK);
    cr_assert(exact);
    cr_expect_str_eq(count.sql.data, "SELECT COUNT(*) FROM groups WHERE tenant_id = ? AND "
                                     "idp_id = ? AND display_name_lc = ?");
    cr_expect_str_eq(rows.sql.data,
                     "SELECT " SQLGEN_GROUP_COLUMNS " FROM groups WHERE tenant_id = ? AND "
                     "idp_id = ? AND display_name_lc = ? ORDER BY display_name_lc DESC, id DESC "
                     "LIMIT ? OFFSET ?");
    cr_expect_eq(rows.n_params, 5);
    sqlgen_release(&count);
    sqlgen_release(&rows);
    scim_filter_free(f);
}

/* The query plan of a group search, all detail lines joined. */
static void plan_of(const char *filter, char *out, size_t size)
{
    struct scim_filter *f = group_filter(filter);
    struct store_search q = { .tenant_id = "t1",
                              .idp_id = "i1",
                              .filter = f,
                              .sort = STORE_SORT_NONE,
                              .descending = false,
                              .offset = 0,
                              .limit = 10 };
    struct sqlgen count, rows;
    sqlgen_init(&count, &sqlgen_sqlite);
    sqlgen_init(&rows, &sqlgen_sqlite);
    bool exact = false;
    cr_assert_eq(sqlgen_group_search(&q, &count, &rows, &exact), OK);
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open_v2(scratch.db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    char sql[4096];
    snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", count.sql.data);
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    for (size_t i = 0; i < count.n_params; i++) {
        if (count.params[i].kind == SQLGEN_PARAM_INT)
            sqlite3_bind_int64(st, (int)i + 1, count.params[i].num);
        else
            sqlite3_bind_text(st, (int)i + 1, count.params[i].text, -1, SQLITE_STATIC);
    }
    out[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW) {
        size_t len = strlen(out);
        snprintf(out + len, size - len, "%s\n", (const char *)sqlite3_column_text(st, 3));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    sqlgen_release(&count);
    sqlgen_release(&rows);
    scim_filter_free(f);
}

Test(groups, filters_use_indexes)
{
    char plan[4096];
    plan_of("displayName eq \"Eng\"", plan, sizeof(plan));
    cr_expect(strstr(plan, "groups_display_name") != NULL, "displayName eq: %s", plan);
    cr_expect(strstr(plan, "SCAN groups") == NULL, "displayName eq scans: %s", plan);

    plan_of("members.value eq \"u1\"", plan, sizeof(plan));
    cr_expect(strstr(plan, "group_members_user") != NULL, "members.value eq: %s", plan);
    cr_expect(strstr(plan, "SCAN m") == NULL, "members.value eq scans members: %s", plan);

    plan_of("members[value eq \"u1\"]", plan, sizeof(plan));
    cr_expect(strstr(plan, "group_members_user") != NULL, "members[value eq]: %s", plan);

    plan_of("externalId eq \"e\"", plan, sizeof(plan));
    cr_expect(strstr(plan, "groups_external_id") != NULL, "externalId eq: %s", plan);
}

/* ---- store ------------------------------------------------------------------------ */

Test(groups, insert_get_update_delete)
{
    seed();
    struct store_tx *tx = begin(true);
    cr_assert_eq(add_group(tx, "i1", "g1", "Eng", "e1"), OK);
    cr_expect_eq(add_group(tx, "i1", "g2", "Other", "e1"), ERR_UNIQUENESS, "externalId per idp");
    cr_expect_eq(add_group(tx, "i2", "g2", "Other", "e1"), OK, "another idp may reuse it");
    cr_expect_eq(add_group(tx, "i1", "g1", "Dup", NULL), ERR_UNIQUENESS, "same id");

    struct store_group g;
    cr_assert_eq(store_group_get(tx, "t1", "i1", "g1", &g), OK);
    cr_expect_str_eq(g.display_name, "Eng");
    cr_expect_str_eq(g.external_id, "e1");
    cr_expect_eq(g.version, 1);
    free(g.display_name);
    g.display_name = str_dup("Engineering");
    g.version = 2;
    cr_assert_eq(store_group_update(tx, &g), OK);
    store_group_release(&g);
    cr_assert_eq(store_group_by_external_id(tx, "t1", "i1", "e1", &g), OK);
    cr_expect_str_eq(g.display_name, "Engineering");
    cr_expect_eq(g.version, 2);
    store_group_release(&g);
    cr_expect_eq(store_group_get(tx, "t1", "i2", "g1", &g), ERR_NOT_FOUND, "other idp");

    const char *members[] = { "u1", "u2" };
    cr_assert_eq(store_group_members_add(tx, "t1", "i1", "g1", members, 2, NULL, NULL), OK);
    cr_assert_eq(store_group_delete(tx, "t1", "i1", "g1"), OK);
    cr_expect_eq(store_group_delete(tx, "t1", "i1", "g1"), ERR_NOT_FOUND);
    cr_expect_eq(store_group_get(tx, "t1", "i1", "g1", &g), ERR_NOT_FOUND);
    bool in = true;
    cr_assert_eq(store_user_in_groups(tx, "t1", "i1", "u1", &in), OK);
    cr_expect(!in, "member rows go with the group");
    cr_assert_eq(store_commit(tx), OK);
}

Test(groups, members_add_remove_each)
{
    seed();
    struct store_tx *tx = begin(true);
    cr_assert_eq(add_group(tx, "i1", "g1", "Eng", NULL), OK);
    cr_assert_eq(add_group(tx, "i1", "g2", "All", NULL), OK);

    struct ids added = { 0 };
    const char *first[] = { "u3", "u1", "u4", "u1" };
    cr_assert_eq(store_group_members_add(tx, "t1", "i1", "g1", first, 4, collect_id, &added), OK);
    const char *want_added[] = { "u3", "u1", "u4" };
    expect_ids(&added, want_added, 3, "added once each");

    struct ids all = { 0 }, live = { 0 };
    cr_assert_eq(store_group_members_each(tx, "t1", "i1", "g1", false, collect_id, &all), OK);
    const char *want_all[] = { "u1", "u3", "u4" };
    expect_ids(&all, want_all, 3, "all rows in user_id order");
    cr_assert_eq(store_group_members_each(tx, "t1", "i1", "g1", true, collect_id, &live), OK);
    const char *want_live[] = { "u1", "u3" };
    expect_ids(&live, want_live, 2, "deleted users are not live members");

    struct ids removed = { 0 };
    const char *gone[] = { "u3", "u2" };
    cr_assert_eq(store_group_members_remove(tx, "t1", "i1", "g1", gone, 2, collect_id, &removed),
                 OK);
    const char *want_removed[] = { "u3" };
    expect_ids(&removed, want_removed, 1, "only present members are removed");

    const char *g2[] = { "u1" };
    cr_assert_eq(store_group_members_add(tx, "t1", "i1", "g2", g2, 1, NULL, NULL), OK);
    struct ids of_user = { 0 };
    cr_assert_eq(store_groups_of_user_each(tx, "t1", "i1", "u1", collect_group_of, &of_user), OK);
    const char *want_of[] = { "g1", "g2" };
    expect_ids(&of_user, want_of, 2, "groups of u1");
    struct ids none = { 0 };
    cr_assert_eq(store_groups_of_user_each(tx, "t1", "i2", "u1", collect_group_of, &none), OK);
    cr_expect_eq(none.n, 0, "other connection");

    struct ids cleared = { 0 };
    cr_assert_eq(store_group_members_clear(tx, "t1", "i1", "g1", collect_id, &cleared), OK);
    const char *want_cleared[] = { "u1", "u4" };
    expect_ids(&cleared, want_cleared, 2, "clear reports every row");
    struct ids after = { 0 };
    cr_assert_eq(store_group_members_each(tx, "t1", "i1", "g1", false, collect_id, &after), OK);
    cr_expect_eq(after.n, 0);
    cr_assert_eq(store_commit(tx), OK);
}

Test(groups, users_missing_are_not_live_users_of_the_connection)
{
    seed();
    struct store_tx *tx = begin(false);
    struct ids missing = { 0 };
    const char *ids[] = { "u1", "u4", "u9", "nope", "u2" };
    cr_assert_eq(store_users_missing(tx, "t1", "i1", ids, 5, collect_id, &missing), OK);
    const char *want[] = { "u4", "u9", "nope" };
    expect_ids(&missing, want, 3, "deleted, other connection, unknown");
    store_rollback(tx);
}

Test(groups, search_by_filter)
{
    seed();
    struct store_tx *tx = begin(true);
    cr_assert_eq(add_group(tx, "i1", "g1", "Engineering", "e1"), OK);
    cr_assert_eq(add_group(tx, "i1", "g2", "Sales", NULL), OK);
    cr_assert_eq(add_group(tx, "i1", "g3", "Engines", NULL), OK);
    cr_assert_eq(add_group(tx, "i2", "g4", "Engineering", NULL), OK);
    const char *m1[] = { "u1", "u4" };
    cr_assert_eq(store_group_members_add(tx, "t1", "i1", "g1", m1, 2, NULL, NULL), OK);
    const char *m2[] = { "u2" };
    cr_assert_eq(store_group_members_add(tx, "t1", "i1", "g2", m2, 1, NULL, NULL), OK);
    cr_assert_eq(store_commit(tx), OK);

    /* clang-format off */
    static const struct {
        const char *filter;
        const char *want[4];
        size_t n;
    } cases[] = {
        { "displayName eq \"ENGINEERING\"",            { "g1" },             1 },
        { "displayName sw \"eng\"",                   { "g1", "g3" },       2 },
        { "externalId eq \"e1\"",                     { "g1" },             1 },
        { "members.value eq \"u1\"",                  { "g1" },             1 },
        { "members[value eq \"u2\"]",                 { "g2" },             1 },
        { "members[value eq \"u1\" or value eq \"u2\"]", { "g1", "g2" },    2 },
        { "members.value eq \"u4\"",                  { 0 },                0 },
        { "not (members.value eq \"u1\")",            { "g2", "g3" },       2 },
        { "id eq \"g4\"",                             { 0 },                0 },
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct scim_filter *f = group_filter(cases[i].filter);
        struct store_search q = { .tenant_id = "t1",
                                  .idp_id = "i1",
                                  .filter = f,
                                  .sort = STORE_SORT_ID,
                                  .descending = false,
                                  .offset = 0,
                                  .limit = 100 };
        struct store_search_result res = { 0 };
        struct ids got = { 0 };
        tx = begin(false);
        cr_assert_eq(store_group_search(tx, &q, collect_group, &got, &res), OK);
        store_rollback(tx);
        cr_expect(res.exact, "%s exact", cases[i].filter);
        cr_expect_eq(res.total, cases[i].n, "%s total", cases[i].filter);
        expect_ids(&got, cases[i].want, cases[i].n, cases[i].filter);
        scim_filter_free(f);
    }
}

/* ---- roles mapped from groups (rec_mirror.c) ------------------------------------------ */

static enum status collect_role(void *ctx, const struct store_role *r)
{
    return collect_id(ctx, r->name);
}

static struct ids roles_granted(const char *user_id)
{
    struct ids got = { 0 };
    struct store_tx *tx = begin(false);
    cr_assert_eq(store_user_roles_granted(tx, "t1", user_id, collect_role, &got), OK);
    store_rollback(tx);
    return got;
}

Test(groups, roles_granted_by_live_memberships)
{
    seed();
    struct store_tx *tx = begin(true);
    cr_assert_eq(add_group(tx, "i1", "g1", "Editors", NULL), OK);
    cr_assert_eq(add_group(tx, "i1", "g2", "Twins", NULL), OK);
    cr_assert_eq(add_group(tx, "i2", "g3", "twins", NULL), OK);
    const char *members[] = { "u1", "u4" };
    cr_assert_eq(store_group_members_add(tx, "t1", "i1", "g1", members, 2, NULL, NULL), OK);
    const char *members3[] = { "u9" };
    cr_assert_eq(store_group_members_add(tx, "t1", "i2", "g3", members3, 1, NULL, NULL), OK);
    struct store_role editor = { .tenant_id = "t1", .id = "r1", .name = "editor" };
    struct store_role admin = { .tenant_id = "t1", .id = "r2", .name = "Admin" };
    cr_assert_eq(store_role_insert(tx, &editor), OK);
    cr_assert_eq(store_role_insert(tx, &admin), OK);
    struct store_role dup = { .tenant_id = "t1", .id = "r3", .name = "EDITOR" };
    cr_expect_eq(store_role_insert(tx, &dup), ERR_UNIQUENESS);
    cr_assert_eq(store_role_group_add(tx, "t1", "r1", "i1", "g1"), OK);
    cr_assert_eq(store_role_group_add(tx, "t1", "r1", "i1", "g1"), OK); /* twice is fine */
    cr_assert_eq(store_role_group_add(tx, "t1", "r2", "i2", "g3"), OK);

    char idp[STORE_ID_LEN], group[STORE_ID_LEN];
    cr_expect_eq(store_group_find_in_tenant(tx, "t1", "g3", idp, group), OK);
    cr_expect_str_eq(idp, "i2");
    cr_expect_eq(store_group_find_in_tenant(tx, "t1", "EDITORS", idp, group), OK);
    cr_expect_str_eq(group, "g1");
    cr_expect_eq(store_group_find_in_tenant(tx, "t1", "twins", idp, group), ERR_UNIQUENESS);
    cr_expect_eq(store_group_find_in_tenant(tx, "t1", "nope", idp, group), ERR_NOT_FOUND);
    cr_expect_eq(store_group_find_in_tenant(tx, "t2", "g1", idp, group), ERR_NOT_FOUND);
    struct store_role found;
    cr_expect_eq(store_role_find(tx, "t1", "Editor", &found), OK);
    cr_expect_str_eq(found.id, "r1");
    cr_expect_eq(store_role_find(tx, NULL, "r2", &found), OK);
    cr_expect_eq(store_role_find(tx, "t2", "r2", &found), ERR_NOT_FOUND);
    cr_assert_eq(store_commit(tx), OK);

    struct ids got = roles_granted("u1");
    cr_expect_eq(got.n, 1);
    cr_expect_str_eq(got.v[0], "editor");
    cr_expect_eq(roles_granted("u4").n, 0, "a deleted user's memberships grant nothing");
    cr_expect_eq(roles_granted("u2").n, 0);
    got = roles_granted("u9");
    cr_expect_eq(got.n, 1);
    cr_expect_str_eq(got.v[0], "Admin");

    tx = begin(true);
    const char *ids[] = { "r1", "r2" };
    cr_assert_eq(store_user_roles_replace(tx, "t1", "u1", ids, 2), OK);
    struct ids recorded = { 0 };
    cr_assert_eq(store_user_roles_each(tx, "t1", "u1", collect_role, &recorded), OK);
    cr_expect_eq(recorded.n, 2);
    cr_expect_str_eq(recorded.v[0], "Admin"); /* name order */
    cr_assert_eq(store_user_roles_replace(tx, "t1", "u1", NULL, 0), OK);
    recorded.n = 0;
    cr_assert_eq(store_user_roles_each(tx, "t1", "u1", collect_role, &recorded), OK);
    cr_expect_eq(recorded.n, 0);
    cr_assert_eq(store_commit(tx), OK);
}
