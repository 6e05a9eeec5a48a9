/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bulk_test.c - tests for src/directory/bulk.c against a real SQLite store
 * in a temporary directory: references in paths and data replaced by the
 * created ids, and what a request does when its time budget is spent or the
 * server is stopping (every operation not started answers 503, nothing of
 * it is applied, and the same request runs in full afterwards).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "directory/bulk.h"
#include "scim/json.h"

#include "../../support/scratch_directory.h"

static struct scratch_directory scratch;
static struct directory *dir = &scratch.dir;
static const struct scim_conn *conn = &scratch.conn;

static const struct directory_bulk_limits normal = {
    .plan = { .max_operations = DIRECTORY_BULK_MAX_OPERATIONS,
              .max_references = DIRECTORY_BULK_MAX_REFERENCES },
    .budget_ms = DIRECTORY_BULK_BUDGET_MS,
};

static void setup(void)
{
    struct scim_error err = { 0 };
    cr_assert_eq(scratch_directory_open(&scratch, "/tmp", &err), OK, "%s", err.detail);
}

static void teardown(void)
{
    scratch_directory_close(&scratch);
}

TestSuite(bulk, .init = setup, .fini = teardown);

/* Run text as a BulkRequest; the BulkResponse's Operations (owned by *response). */
static json_t *run(const char *text, const struct directory_bulk_limits *limits, json_t **response)
{
    json_t *body = NULL;
    struct scim_error err = { 0 };
    cr_assert_eq(scim_json_decode(text, strlen(text), &body, &err), OK, "%s", err.detail);
    char *out = NULL;
    cr_assert_eq(directory_scim_bulk_limited(dir, conn, body, limits, &out, &err), OK, "%s",
                 err.detail);
    json_decref(body);
    *response = json_loads(out, 0, NULL);
    free(out);
    cr_assert_not_null(*response);
    json_t *ops = json_object_get(*response, "Operations");
    cr_assert(json_is_array(ops));
    return ops;
}

static const char *status_of(json_t *ops, size_t i)
{
    return json_string_value(json_object_get(json_array_get(ops, i), "status"));
}

/* The id at the end of operation i's location. */
static const char *id_of(json_t *ops, size_t i)
{
    const char *loc = json_string_value(json_object_get(json_array_get(ops, i), "location"));
    cr_assert_not_null(loc, "operation %zu has no location", i);
    return strrchr(loc, '/') + 1;
}

#define CHAIN                                                                                      \
    "{\"Operations\":["                                                                            \
    "{\"method\":\"PATCH\",\"path\":\"/Users/bulkId:b\",\"data\":{\"schemas\":"                    \
    "[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":[{\"op\":\"replace\","     \
    "\"path\":\"displayName\",\"value\":\"patched\"}]}},"                                          \
    "{\"method\":\"POST\",\"path\":\"/Groups\",\"bulkId\":\"g\",\"data\":{\"displayName\":"        \
    "\"G\",\"members\":[{\"value\":\"bulkId:a\"},{\"value\":\"bulkId:b\"}]}},"                     \
    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"a\",\"data\":{\"userName\":\"a@x\"}},"  \
    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"b\",\"data\":{\"userName\":\"b@x\"}}"   \
    "]}"

Test(bulk, references_become_ids)
{
    json_t *response;
    json_t *ops = run(CHAIN, &normal, &response);
    cr_assert_eq(json_array_size(ops), 4);
    const char *want[] = { "200", "201", "201", "201" };
    for (size_t i = 0; i < 4; i++)
        cr_assert_str_eq(status_of(ops, i), want[i], "op %zu", i);
    cr_assert_str_eq(id_of(ops, 0), id_of(ops, 3), "the PATCH went to the user POSTed as b");
    struct scim_doc doc = { 0 };
    struct scim_error err = { 0 };
    cr_assert_eq(directory_scim_group_get(dir, conn, id_of(ops, 1), NULL, NULL, &doc, &err), OK);
    cr_assert(strstr(doc.text, id_of(ops, 2)) && strstr(doc.text, id_of(ops, 3)), "%s", doc.text);
    scim_doc_release(&doc);
    json_decref(response);
}

static void assert_nothing_ran(const struct directory_bulk_limits *limits, const char *why)
{
    json_t *response;
    json_t *ops = run(CHAIN, limits, &response);
    cr_assert_eq(json_array_size(ops), 4);
    for (size_t i = 0; i < 4; i++) {
        json_t *o = json_array_get(ops, i);
        cr_assert_str_eq(status_of(ops, i), "503");
        const char *detail =
            json_string_value(json_object_get(json_object_get(o, "response"), "detail"));
        cr_assert(detail && strstr(detail, why), "%s", detail);
        cr_assert_null(json_object_get(o, "location"));
    }
    json_decref(response);
    /* nothing was applied: the same request runs in full now */
    atomic_store(&dir->stopping, false);
    ops = run(CHAIN, &normal, &response);
    for (size_t i = 1; i < 4; i++)
        cr_assert_str_eq(status_of(ops, i), "201", "op %zu", i);
    json_decref(response);
}

Test(bulk, spent_budget_answers_503_per_operation)
{
    struct directory_bulk_limits spent = normal;
    spent.budget_ms = 0;
    assert_nothing_ran(&spent, "bulk time budget exceeded");
}

Test(bulk, stopping_server_answers_503_per_operation)
{
    atomic_store(&dir->stopping, true);
    assert_nothing_ran(&normal, "the server is stopping");
}

Test(bulk, fail_on_errors_counts_in_run_order)
{
    json_t *response;
    json_t *ops = run("{\"failOnErrors\":1,\"Operations\":["
                      "{\"method\":\"POST\",\"path\":\"/Users\",\"data\":{\"userName\":\"c@x\","
                      "\"x\":\"bulkId:late\"}},"
                      "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"late\",\"data\":{}},"
                      "{\"method\":\"POST\",\"path\":\"/Users\",\"data\":{\"userName\":\"d@x\"}}]}",
                      &normal, &response);
    /* late (no userName) fails first, then failOnErrors stops: nothing else is answered */
    cr_assert_eq(json_array_size(ops), 1);
    cr_assert_str_eq(status_of(ops, 0), "400");
    json_decref(response);
}
