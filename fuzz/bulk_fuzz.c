/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bulk_fuzz.c - libFuzzer target for POST /Bulk: any bytes are decoded as
 * JSON (as the server does), planned by scim/bulk.c (checks, bulkId
 * references, order) and, when that works, run by directory/bulk.c against
 * a real SQLite store (a temporary file under /dev/shm, or /tmp) holding
 * one tenant, IdP connection and token, created once per process.
 *
 * Invariants: no crash, leak or sanitizer report; the plan hands out every
 * operation at most once and what it never hands out still waits on a
 * reference; a refused request is 400 or 413; a BulkResponse is JSON with
 * no more entries than operations, each with a status from 200 to 499, or
 * 503 (the time budget); never another 5xx.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "directory/bulk.h"
#include "scim/json.h"

#include "../tests/support/scratch_directory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small caps so that inputs reach them; a budget no input should spend. */
static const struct directory_bulk_limits limits = {
    .plan = { .max_operations = 32, .max_references = 64 },
    .budget_ms = 10000,
};

static struct scratch_directory scratch;

static void check(bool ok, const char *what, const struct scim_error *err)
{
    if (ok)
        return;
    fprintf(stderr, "bulk_fuzz: %s: %s\n", what, err ? err->detail : "");
    abort();
}

static void close_scratch(void)
{
    scratch_directory_close(&scratch);
}

/* One store, tenant, IdP connection and token for every input. */
static void open_once(void)
{
    if (scratch.files.store != NULL)
        return;
    log_current_level = LOG_ERROR;
    struct scim_error err = { 0 };
    check(scratch_directory_open(&scratch, access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
                                 &err) == OK,
          "scratch directory", &err);
    atexit(close_scratch);
}

/* The plan alone: each operation handed out once; the rest wait. */
static void check_plan(json_t *body)
{
    struct scim_bulk_plan p;
    struct scim_error err = { 0 };
    if (scim_bulk_plan_init(&p, body, &limits.plan, &err) != OK)
        return;
    bool *seen = calloc(p.n ? p.n : 1, sizeof(*seen));
    check(seen != NULL, "calloc", NULL);
    size_t i;
    while (scim_bulk_plan_next(&p, &i)) {
        check(i < p.n && !seen[i], "operation handed out twice", NULL);
        seen[i] = true;
        scim_bulk_plan_done(&p, i);
    }
    for (i = 0; i < p.n; i++)
        check(seen[i] || p.ops[i].waits > 0, "operation neither run nor waiting", NULL);
    free(seen);
    scim_bulk_plan_release(&p);
}

static void check_response(const char *text, size_t n_ops)
{
    json_t *res = json_loads(text, 0, NULL);
    check(res != NULL, "BulkResponse is not JSON", NULL);
    json_t *ops = json_object_get(res, "Operations");
    check(json_is_array(ops) && json_array_size(ops) <= n_ops, "Operations", NULL);
    size_t i;
    json_t *o;
    json_array_foreach(ops, i, o)
    {
        const char *status = json_string_value(json_object_get(o, "status"));
        check(status != NULL, "status missing", NULL);
        long code = strtol(status, NULL, 10);
        if (code >= 500 && code != 503) {
            const char *detail =
                json_string_value(json_object_get(json_object_get(o, "response"), "detail"));
            fprintf(stderr, "bulk_fuzz: operation %zu answered %s: %s\n", i, status,
                    detail ? detail : "");
            abort();
        }
        check(code >= 200 && code <= 503, "status out of range", NULL);
    }
    json_decref(res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    open_once();
    json_t *body = NULL;
    struct scim_error err;
    if (scim_json_decode((const char *)data, size, &body, &err) != OK)
        return 0;
    check_plan(body);
    json_t *ops = scim_json_iget(body, "Operations");
    size_t n_ops = json_is_array(ops) ? json_array_size(ops) : 0;
    char *out = NULL;
    enum status rc =
        directory_scim_bulk_limited(&scratch.dir, &scratch.conn, body, &limits, &out, &err);
    if (rc == OK)
        check_response(out, n_ops);
    else
        check(err.status == ERR_INVALID_SYNTAX || err.status == ERR_INVALID_VALUE ||
                  err.status == ERR_TOO_LARGE,
              "refused with an unexpected status", &err);
    free(out);
    json_decref(body);
    return 0;
}
