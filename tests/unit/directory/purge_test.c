/* SPDX-License-Identifier: Apache-2.0 */
/*
 * purge_test.c - tests for src/directory/purge.c against a real SQLite
 * store: which users a purge erases (deleted before the cutoff, nothing
 * else), what it erases, that a dry run changes nothing, and batches.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "scim/json.h"

#include "../../support/scratch_directory.h"

static struct scratch_directory scratch;
static struct directory *dir = &scratch.dir;
static const struct actor by = { "test", NULL };

static void setup(void)
{
    struct scim_error err = { 0 };
    cr_assert_eq(scratch_directory_open(&scratch, "/tmp", &err), OK, "%s", err.detail);
}

static void teardown(void)
{
    scratch_directory_close(&scratch);
}

TestSuite(purge, .init = setup, .fini = teardown);

/* Create user n over SCIM; its id into id. */
static void create(int n, char id[STORE_ID_LEN])
{
    char text[512];
    snprintf(text, sizeof(text),
             "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":"
             "\"user%d@example.com\",\"externalId\":\"e%d\",\"emails\":[{\"value\":"
             "\"user%d@example.com\"}]}",
             n, n, n);
    json_t *body = NULL;
    struct scim_error err = { 0 };
    cr_assert_eq(scim_json_decode(text, strlen(text), &body, &err), OK, "%s", err.detail);
    struct scim_doc doc;
    cr_assert_eq(directory_scim_user_create(dir, &scratch.conn, body, &doc, &err), OK, "%s",
                 err.detail);
    str_copy(id, STORE_ID_LEN, doc.id);
    scim_doc_release(&doc);
    json_decref(body);
}

static void delete (const char *id)
{
    struct scim_error err = { 0 };
    cr_assert_eq(directory_scim_user_delete(dir, &scratch.conn, id, NULL, &err), OK, "%s",
                 err.detail);
}

static struct store_user user_get(const char *id)
{
    struct store_tx *tx = NULL;
    cr_assert_eq(store_begin(scratch.files.store, false, &tx), OK);
    struct store_user u;
    cr_assert_eq(store_user_get(tx, NULL, id, &u), OK);
    store_rollback(tx);
    return u;
}

static enum status count_target(void *ctx, const struct store_purge_target *t)
{
    (void)t;
    (*(int *)ctx)++;
    return OK;
}

Test(purge, erases_users_deleted_before_the_cutoff_only)
{
    enum { N = 450 }; /* more than two batches */
    static char ids[N][STORE_ID_LEN];
    for (int i = 0; i < N; i++)
        create(i, ids[i]);
    for (int i = 0; i < N - 1; i++) /* the last one stays live */
        delete (ids[i]);
    sleep(1); /* the cutoff of age 0 is the current whole second */

    struct directory_purge_result res;
    struct scim_error err = { 0 };
    int seen = 0;
    cr_assert_eq(directory_purge(dir, NULL, 86400, false, &by, count_target, &seen, &res, &err), OK,
                 "%s", err.detail);
    cr_assert_eq(res.erased.users, 0, "none was deleted a day ago");

    cr_assert_eq(directory_purge(dir, "scratch", 0, true, &by, count_target, &seen, &res, &err), OK,
                 "%s", err.detail);
    cr_assert_eq(seen, N - 1);
    cr_assert_eq(res.erased.users, N - 1);
    cr_assert_eq(res.erased.idp_rows, N - 1);
    cr_assert_eq(res.erased.emails, N - 1);
    struct store_user u = user_get(ids[0]);
    cr_assert_str_eq(u.status, "deleted", "a dry run changes nothing");
    cr_assert_not_null(u.username);
    store_user_release(&u);

    seen = 0;
    cr_assert_eq(directory_purge(dir, NULL, 0, false, &by, count_target, &seen, &res, &err), OK,
                 "%s", err.detail);
    cr_assert_eq(seen, N - 1);
    cr_assert_eq(res.erased.users, N - 1);
    u = user_get(ids[7]);
    cr_assert_str_eq(u.status, "erased");
    cr_assert_null(u.username);
    cr_assert_null(u.email);
    store_user_release(&u);
    u = user_get(ids[N - 1]);
    cr_assert_str_eq(u.status, "active");
    cr_assert_str_eq(u.username, "user449@example.com");
    store_user_release(&u);
    struct scim_doc doc;
    cr_assert_eq(directory_scim_user_get(dir, &scratch.conn, ids[7], &doc, &err), ERR_NOT_FOUND);

    cr_assert_eq(directory_purge(dir, NULL, 0, false, &by, NULL, NULL, &res, &err), OK);
    cr_assert_eq(res.erased.users, 0, "nothing twice");
    cr_assert_eq(directory_purge(dir, "no-such-tenant", 0, false, &by, NULL, NULL, &res, &err),
                 ERR_NOT_FOUND);
    cr_assert_eq(directory_purge(dir, NULL, -1, false, &by, NULL, NULL, &res, &err),
                 ERR_INVALID_VALUE);
}
