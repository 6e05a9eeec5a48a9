/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bulk_test.c - tests for src/scim/bulk.c, the BulkRequest planner: the run
 * order (request order, except that an operation waits for a later POST it
 * refers to), references tied to their POSTs in paths and data, cycles left
 * waiting, unknown and repeated bulkIds, the reference and operation caps,
 * and a 1,000-operation chain planned in one pass.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "scim/bulk.h"
#include "scim/json.h"

static const struct scim_bulk_limits limits = { .max_operations = 1000, .max_references = 20000 };

static json_t *decode(const char *text)
{
    json_t *body = NULL;
    struct scim_error err = { 0 };
    cr_assert_eq(scim_json_decode(text, strlen(text), &body, &err), OK, "%s", err.detail);
    return body;
}

/* The run order as a string of operation numbers ("2 0 1"), every one marked done in turn. */
static void run_order(struct scim_bulk_plan *p, char *out, size_t size)
{
    size_t i, used = 0;
    out[0] = '\0';
    while (scim_bulk_plan_next(p, &i)) {
        used += (size_t)snprintf(out + used, size - used, "%s%zu", used ? " " : "", i);
        cr_assert_lt(used, size);
        scim_bulk_plan_done(p, i);
    }
}

#define REQ(ops) "{\"schemas\":[\"" SCIM_SCHEMA_BULK_REQUEST "\"],\"Operations\":[" ops "]}"
#define USER(bid, extra)                                                                           \
    "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":\"" bid                                   \
    "\",\"data\":{\"userName\":\"" bid "\"" extra "}}"

Test(bulk, forward_references_wait_and_the_rest_keeps_request_order)
{
    json_t *body = decode(REQ(
        "{\"method\":\"POST\",\"path\":\"/Groups\",\"bulkId\":\"g\",\"data\":{\"members\":"
        "[{\"value\":\"bulkId:b\"},{\"value\":\"bulkId:a\"}]}}," USER("a", "") "," USER(
            "b",
            "") ","
                "{\"method\":\"patch\",\"path\":\"/Groups/bulkId:g\",\"data\":{\"Operations\":[]}}"));
    struct scim_bulk_plan p;
    struct scim_error err = { 0 };
    cr_assert_eq(scim_bulk_plan_init(&p, body, &limits, &err), OK, "%s", err.detail);
    cr_assert_eq(p.n, 4);
    cr_assert_eq(p.nrefs, 3);
    cr_assert_eq(p.ops[0].nrefs, 2);
    cr_assert_eq(p.refs[p.ops[0].first_ref].target, 2);
    cr_assert_eq(p.refs[p.ops[0].first_ref + 1].target, 1);
    cr_assert(p.ops[3].path_ref);
    cr_assert_null(p.refs[p.ops[3].first_ref].node, "a path reference has no node");
    cr_assert_eq(p.refs[p.ops[3].first_ref].target, 0);
    cr_assert_eq(p.ops[3].method, SCIM_BULK_PATCH);
    cr_assert(p.ops[3].group);
    char order[64];
    run_order(&p, order, sizeof(order));
    cr_assert_str_eq(order, "1 2 0 3");
    scim_bulk_plan_release(&p);
    json_decref(body);
}

Test(bulk, cycles_are_left_waiting)
{
    json_t *body =
        decode(REQ(USER("a", ",\"x\":\"bulkId:b\"") "," USER("b", ",\"x\":[\"bulkId:a\"]") "," USER(
            "self",
            ",\"x\":{\"y\":\"bulkId:self\"}") "," USER("c", "") "," USER("d",
                                                                         ",\"x\":\"bulkId:a\"")));
    struct scim_bulk_plan p;
    struct scim_error err = { 0 };
    cr_assert_eq(scim_bulk_plan_init(&p, body, &limits, &err), OK, "%s", err.detail);
    char order[64];
    run_order(&p, order, sizeof(order));
    cr_assert_str_eq(order, "3", "only the operation outside every cycle runs");
    for (size_t i = 0; i < 5; i++)
        cr_assert_eq(p.ops[i].waits, i == 3 ? 0 : 1, "op %zu", i);
    scim_bulk_plan_release(&p);
    json_decref(body);
}

Test(bulk, bad_operations_are_marked_one_by_one)
{
    json_t *body =
        decode(REQ("\"text\"," USER("a", ",\"m\":\"bulkId:nobody\"") "," USER("dup", "") "," USER(
            "dup", "") ","
                       "{\"method\":\"GET\",\"path\":\"/Users/x\"},"
                       "{\"method\":\"POST\",\"path\":\"/Users\",\"bulkId\":7,\"data\":{}},"
                       "{\"method\":\"PUT\",\"path\":\"/Users\",\"data\":{}},"
                       "{\"method\":\"DELETE\",\"path\":\"/Users/bulkId:dup\"},"
                       "{\"method\":\"DELETE\",\"path\":\"/Users/bulkId:\"}"));
    struct scim_bulk_plan p;
    struct scim_error err = { 0 };
    cr_assert_eq(scim_bulk_plan_init(&p, body, &limits, &err), OK, "%s", err.detail);
    cr_assert_eq(p.n, 9);
    const bool bad[] = { true, true, false, true, true, true, true, false, true };
    for (size_t i = 0; i < p.n; i++)
        cr_assert_eq(p.ops[i].invalid, bad[i], "op %zu: %s", i, p.ops[i].error.detail);
    cr_assert_eq(p.ops[0].error.status, ERR_INVALID_SYNTAX);
    cr_assert(strstr(p.ops[1].error.detail, "'nobody'"), "%s", p.ops[1].error.detail);
    cr_assert(strstr(p.ops[3].error.detail, "already used by operation 3"), "%s",
              p.ops[3].error.detail);
    cr_assert(strstr(p.ops[5].error.detail, "bulkId must be"), "%s", p.ops[5].error.detail);
    cr_assert_eq(p.refs[p.ops[7].first_ref].target, 2, "the first POST with a bulkId wins");
    cr_assert_eq(p.nrefs, 1, "an invalid operation keeps no references");
    char order[64];
    run_order(&p, order, sizeof(order));
    cr_assert_str_eq(order, "0 1 2 3 4 5 6 7 8");
    scim_bulk_plan_release(&p);
    json_decref(body);
}

Test(bulk, whole_request_checks)
{
    static const struct {
        const char *text;
        enum status status;
    } cases[] = {
        { "{\"Operations\":{}}", ERR_INVALID_SYNTAX },
        { "{\"schemas\":[\"urn:x\"],\"Operations\":[]}", ERR_INVALID_SYNTAX },
        { "{\"Operations\":[],\"failOnErrors\":0}", ERR_INVALID_VALUE },
        { "{\"Operations\":[],\"failOnErrors\":\"1\"}", ERR_INVALID_VALUE },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *body = NULL;
        struct scim_error err = { 0 };
        enum status rc = scim_json_decode(cases[i].text, strlen(cases[i].text), &body, &err);
        if (rc == OK) {
            struct scim_bulk_plan p;
            rc = scim_bulk_plan_init(&p, body, &limits, &err);
            if (rc == OK)
                scim_bulk_plan_release(&p);
        }
        cr_assert_eq(rc, cases[i].status, "case %zu: %s", i, err.detail);
        json_decref(body);
    }
    json_t *body = decode("{\"Operations\":[],\"failOnErrors\":1000000}");
    struct scim_bulk_plan p;
    struct scim_error err = { 0 };
    cr_assert_eq(scim_bulk_plan_init(&p, body, &limits, &err), OK);
    cr_assert_eq(p.fail_on_errors, 1000);
    scim_bulk_plan_release(&p);
    json_decref(body);
}

Test(bulk, caps_on_operations_and_references)
{
    const struct scim_bulk_limits small = { .max_operations = 2, .max_references = 3 };
    json_t *body = decode(REQ(USER("a", "") "," USER("b", "") "," USER("c", "")));
    struct scim_bulk_plan p;
    struct scim_error err = { 0 };
    cr_assert_eq(scim_bulk_plan_init(&p, body, &small, &err), ERR_TOO_LARGE);
    cr_assert(strstr(err.detail, "at most 2 operations"), "%s", err.detail);
    json_decref(body);

    body =
        decode(REQ(USER("a", ",\"x\":[\"bulkId:b\",\"bulkId:b\",\"bulkId:b\"]") "," USER("b", "")));
    cr_assert_eq(scim_bulk_plan_init(&p, body, &small, &err), OK, "three references fit");
    scim_bulk_plan_release(&p);
    json_decref(body);

    body = decode(REQ(USER("a", ",\"x\":[\"bulkId:b\",\"bulkId:b\"]") "," USER(
        "b", ",\"x\":[\"bulkId:a\",\"bulkId:nobody\"]")));
    cr_assert_eq(scim_bulk_plan_init(&p, body, &small, &err), ERR_TOO_LARGE);
    cr_assert(strstr(err.detail, "at most 3 bulkId references"), "%s", err.detail);
    json_decref(body);
}

/* 1,000 users, each naming the next as its manager: one planning pass, run backwards. */
Test(bulk, long_chain)
{
    json_t *ops = json_array();
    for (int i = 0; i < 1000; i++) {
        char bid[16], next[32];
        snprintf(bid, sizeof(bid), "u%d", i);
        snprintf(next, sizeof(next), "bulkId:u%d", i + 1);
        json_t *data = json_pack("{s:s}", "userName", bid);
        if (i < 999)
            json_object_set_new(data, "manager", json_pack("{s:s}", "value", next));
        json_array_append_new(ops, json_pack("{s:s,s:s,s:s,s:o}", "method", "POST", "path",
                                             "/Users", "bulkId", bid, "data", data));
    }
    json_t *body = json_pack("{s:o}", "Operations", ops);
    struct scim_bulk_plan p;
    struct scim_error err = { 0 };
    cr_assert_eq(scim_bulk_plan_init(&p, body, &limits, &err), OK, "%s", err.detail);
    cr_assert_eq(p.nrefs, 999);
    size_t i, expect = 999, ran = 0;
    while (scim_bulk_plan_next(&p, &i)) {
        cr_assert_eq(i, expect--);
        scim_bulk_plan_done(&p, i);
        ran++;
    }
    cr_assert_eq(ran, 1000);
    scim_bulk_plan_release(&p);
    json_decref(body);
}
