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
#include "core/str.h"
#include "directory/bulk.h"
#include "scim/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small caps so that inputs reach them; a budget no input should spend. */
static const struct directory_bulk_limits limits = {
    .plan = { .max_operations = 32, .max_references = 64 },
    .budget_ms = 10000,
};

static char dir_path[64];
static char db_path[128];
static struct store *store;
static struct directory dir;
static struct scim_conn conn;

static void cleanup(void)
{
    directory_conn_release(&conn);
    store_close(store);
    static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char p[160];
        snprintf(p, sizeof(p), "%s%s", db_path, suffixes[i]);
        unlink(p);
    }
    rmdir(dir_path);
}

static void check(bool ok, const char *what, const struct scim_error *err)
{
    if (ok)
        return;
    fprintf(stderr, "bulk_fuzz: %s: %s\n", what, err ? err->detail : "");
    abort();
}

/* One store, tenant, IdP connection and token for every input. */
static void open_once(void)
{
    if (store != NULL)
        return;
    log_current_level = LOG_ERROR;
    str_copy(dir_path, sizeof(dir_path),
             access("/dev/shm", W_OK) == 0 ? "/dev/shm/scimd_bulk_fuzz_XXXXXX"
                                           : "/tmp/scimd_bulk_fuzz_XXXXXX");
    check(mkdtemp(dir_path) != NULL, "mkdtemp", NULL);
    snprintf(db_path, sizeof(db_path), "%s/fuzz.db", dir_path);
    struct scim_error err = { 0 };
    check(store_open(db_path, 2, &store, &err) == OK, "store_open", &err);
    directory_init(&dir, store, "http://127.0.0.1:1");
    const struct actor by = { "fuzz", NULL };
    struct store_tenant tenant;
    struct store_idp idp;
    struct store_token token;
    char plaintext[CRYPTO_TOKEN_LEN], header[CRYPTO_TOKEN_LEN + 16];
    check(directory_tenant_create(&dir, "Fuzz", "fuzz", &by, &tenant, &err) == OK, "tenant", &err);
    check(directory_idp_create(&dir, tenant.id, "Fuzz", "generic", &by, &idp, &err) == OK, "idp",
          &err);
    check(directory_token_create(&dir, idp.id, "fuzz", &by, &token, plaintext, &err) == OK, "token",
          &err);
    snprintf(header, sizeof(header), "Bearer %s", plaintext);
    check(directory_authenticate(&dir, idp.id, header, NULL, false, &conn, &err) == OK, "auth",
          &err);
    atexit(cleanup);
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
    enum status rc = directory_scim_bulk_limited(&dir, &conn, body, &limits, &out, &err);
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
