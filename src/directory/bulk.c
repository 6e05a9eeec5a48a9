/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bulk.c - this file contains POST /Bulk (RFC 7644 §3.7): the request is
 * planned by scim/bulk.c (checks, references, order), then each operation
 * runs through the ordinary directory functions, each in its own
 * transaction, with its "bulkId:" references replaced by the ids of the
 * POSTs that ran before it.  Operations done stay done: when the time
 * budget runs out or the server begins to stop, the ones not started yet
 * are answered 503 each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"
#include "directory/bulk.h"
#include "directory/directory.h"
#include "scim/json.h"
#include "scim/render.h"

enum op_state { OP_PENDING, OP_DONE, OP_FAILED };

struct bulk_result {
    enum op_state state;
    char id[STORE_ID_LEN]; /* created or touched resource */
    json_t *response;      /* the BulkResponse operation, owned */
};

struct bulk {
    struct directory *dir;
    const struct scim_conn *conn;
    struct scim_bulk_plan plan;
    struct bulk_result *res;
};

static json_t *bulk_error_response(const struct scim_error *err)
{
    char *text = scim_error_body(err);
    json_t *body = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    return body;
}

/* The BulkResponse entry for operation i: method, bulkId, and status (+ location, version or
 * response). */
static void bulk_respond(struct bulk *b, size_t i, const char *endpoint, const struct scim_doc *doc,
                         int http, const struct scim_error *err)
{
    const struct scim_bulk_op *o = &b->plan.ops[i];
    struct bulk_result *r = &b->res[i];
    r->state = err ? OP_FAILED : OP_DONE;
    json_t *e = json_object();
    if (e == NULL)
        return;
    if (o->method_name != NULL)
        json_object_set_new(e, "method", json_string(o->method_name));
    const char *bulk_id = json_string_value(json_object_get(o->op, "bulkId"));
    if (bulk_id != NULL)
        json_object_set_new(e, "bulkId", json_string(bulk_id));
    char status[8];
    snprintf(status, sizeof(status), "%d", err ? status_http(err->status) : http);
    json_object_set_new(e, "status", json_string(status));
    if (err != NULL) {
        json_t *body = bulk_error_response(err);
        if (body != NULL)
            json_object_set_new(e, "response", body);
    } else if (endpoint != NULL && r->id[0] != '\0') {
        char location[DIRECTORY_URL_MAX + STORE_ID_LEN + 16];
        snprintf(location, sizeof(location), "%s%s/%s", b->conn->base_url, endpoint, r->id);
        json_object_set_new(e, "location", json_string(location));
        if (doc != NULL && doc->version > 0) {
            char etag[SCIM_ETAG_MAX];
            scim_etag(doc->version, etag);
            json_object_set_new(e, "version", json_string(etag));
        }
    }
    r->response = e;
}

/* Replace operation i's references by the ids their POSTs created; path_id
 * gets the resolved path id.  false (with err) when one of those POSTs failed. */
static bool bulk_resolve(struct bulk *b, size_t i, char path_id[SCIM_BULK_PATH_ID_MAX],
                         struct scim_error *err)
{
    const struct scim_bulk_op *o = &b->plan.ops[i];
    str_copy(path_id, SCIM_BULK_PATH_ID_MAX, o->path_id);
    for (size_t r = o->first_ref; r < o->first_ref + o->nrefs; r++) {
        const struct scim_bulk_ref *ref = &b->plan.refs[r];
        const struct bulk_result *t = &b->res[ref->target];
        if (t->state != OP_DONE) {
            scim_error_set(err, ERR_INVALID_VALUE,
                           "bulkId '%.200s' names an operation of this request that failed",
                           b->plan.ops[ref->target].bulk_id);
            return false;
        }
        if (ref->node == NULL)
            str_copy(path_id, SCIM_BULK_PATH_ID_MAX, t->id);
        else
            json_string_set(ref->node, t->id);
    }
    return true;
}

/* Run operation i, whose references all name finished operations. */
static void bulk_run(struct bulk *b, size_t i)
{
    const struct scim_bulk_op *o = &b->plan.ops[i];
    struct scim_error err;
    if (o->invalid) {
        bulk_respond(b, i, NULL, NULL, 0, &o->error);
        return;
    }
    char id[SCIM_BULK_PATH_ID_MAX];
    if (!bulk_resolve(b, i, id, &err)) {
        bulk_respond(b, i, NULL, NULL, 0, &err);
        return;
    }
    struct directory *dir = b->dir;
    const struct scim_conn *conn = b->conn;
    struct scim_doc doc = { 0 };
    const char *endpoint = o->group ? "Groups" : "Users";
    enum status rc;
    int http = 200;
    switch (o->method) {
    case SCIM_BULK_POST:
        rc = o->group ? directory_scim_group_create(dir, conn, o->data, &doc, &err)
                      : directory_scim_user_create(dir, conn, o->data, &doc, &err);
        http = 201;
        break;
    case SCIM_BULK_PUT:
        rc = o->group ? directory_scim_group_replace(dir, conn, id, o->version, o->data, &doc, &err)
                      : directory_scim_user_replace(dir, conn, id, o->version, o->data, &doc, &err);
        break;
    case SCIM_BULK_PATCH:
        rc = o->group ? directory_scim_group_patch(dir, conn, id, o->version, o->data, NULL, NULL,
                                                   false, &doc, &err)
                      : directory_scim_user_patch(dir, conn, id, o->version, o->data, &doc, &err);
        if (o->group)
            http = 204;
        break;
    case SCIM_BULK_DELETE:
    default:
        rc = o->group ? directory_scim_group_delete(dir, conn, id, o->version, &err)
                      : directory_scim_user_delete(dir, conn, id, o->version, &err);
        http = 204;
        break;
    }
    if (rc == OK)
        str_copy(b->res[i].id, sizeof(b->res[i].id), doc.id[0] != '\0' ? doc.id : id);
    bulk_respond(b, i, o->method == SCIM_BULK_DELETE ? NULL : endpoint, &doc, http,
                 rc == OK ? NULL : &err);
    scim_doc_release(&doc);
}

/* Operation i waits on a cycle of references: fail it, naming one it waits for. */
static void bulk_fail_cycle(struct bulk *b, size_t i)
{
    const struct scim_bulk_op *o = &b->plan.ops[i];
    const char *name = "";
    for (size_t r = o->first_ref; r < o->first_ref + o->nrefs; r++) {
        size_t t = b->plan.refs[r].target;
        if (b->res[t].state == OP_PENDING) {
            name = b->plan.ops[t].bulk_id;
            break;
        }
    }
    struct scim_error err;
    scim_error_set(&err, ERR_CONFLICT,
                   "circular bulkId references: '%.200s' cannot be created before this "
                   "operation",
                   name);
    bulk_respond(b, i, NULL, NULL, 0, &err);
}

/* Why the remaining operations may not start, or NULL while they may. */
static const char *bulk_must_stop(const struct bulk *b, int64_t started_ms, int64_t budget_ms)
{
    if (atomic_load(&b->dir->stopping))
        return "the server is stopping";
    if (clock_mono_ms() - started_ms >= budget_ms)
        return "bulk time budget exceeded";
    return NULL;
}

/* Run the plan in its order; on a budget or shutdown stop, answer the rest 503. */
static void bulk_execute(struct bulk *b, int64_t budget_ms)
{
    struct scim_bulk_plan *p = &b->plan;
    const int64_t started_ms = clock_mono_ms();
    const char *why = NULL;
    long errors = 0;
    bool stop = false;
    size_t i;
    while (!stop && scim_bulk_plan_next(p, &i)) {
        why = bulk_must_stop(b, started_ms, budget_ms);
        if (why != NULL)
            break;
        bulk_run(b, i);
        scim_bulk_plan_done(p, i);
        if (b->res[i].state == OP_FAILED && p->fail_on_errors > 0 && ++errors >= p->fail_on_errors)
            stop = true;
    }
    /* Without a stop, what has not run waits on a cycle. */
    for (i = 0; i < p->n && !stop && why == NULL; i++) {
        if (b->res[i].state != OP_PENDING)
            continue;
        bulk_fail_cycle(b, i);
        if (p->fail_on_errors > 0 && ++errors >= p->fail_on_errors)
            stop = true;
    }
    if (why == NULL)
        return;
    size_t left = 0;
    struct scim_error err;
    scim_error_set(&err, ERR_UNAVAILABLE, "%s; this operation did not run, send it again", why);
    for (i = 0; i < p->n; i++) {
        if (b->res[i].state != OP_PENDING)
            continue;
        bulk_respond(b, i, NULL, NULL, 0, &err);
        left++;
    }
    log_warn("bulk request of idp %s: %s after %lld ms, %zu of %zu operations not run",
             b->conn->idp_id, why, (long long)(clock_mono_ms() - started_ms), left, p->n);
}

enum status directory_scim_bulk_limited(struct directory *dir, const struct scim_conn *conn,
                                        json_t *body, const struct directory_bulk_limits *limits,
                                        char **out, struct scim_error *err)
{
    *out = NULL;
    struct bulk b = { .dir = dir, .conn = conn };
    enum status rc = scim_bulk_plan_init(&b.plan, body, &limits->plan, err);
    if (rc != OK)
        return rc;
    b.res = calloc(b.plan.n ? b.plan.n : 1, sizeof(*b.res));
    if (b.res == NULL) {
        scim_bulk_plan_release(&b.plan);
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    }
    bulk_execute(&b, limits->budget_ms);
    json_t *results = json_array();
    for (size_t i = 0; i < b.plan.n; i++) {
        if (b.res[i].response != NULL && results != NULL)
            json_array_append(results, b.res[i].response);
        json_decref(b.res[i].response);
    }
    free(b.res);
    scim_bulk_plan_release(&b.plan);
    json_t *res = results ? json_pack("{s:[s],s:o}", "schemas", SCIM_SCHEMA_BULK_RESPONSE,
                                      "Operations", results)
                          : NULL;
    *out = res ? scim_json_text(res) : NULL;
    json_decref(res);
    if (*out == NULL)
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    return OK;
}

enum status directory_scim_bulk(struct directory *dir, const struct scim_conn *conn, json_t *body,
                                char **out, struct scim_error *err)
{
    const struct directory_bulk_limits limits = {
        .plan = { .max_operations = DIRECTORY_BULK_MAX_OPERATIONS,
                  .max_references = DIRECTORY_BULK_MAX_REFERENCES },
        .budget_ms = DIRECTORY_BULK_BUDGET_MS,
    };
    return directory_scim_bulk_limited(dir, conn, body, &limits, out, err);
}
