/*
 * bulk.c - this file contains POST /Bulk (RFC 7644 §3.7): a BulkRequest is
 * checked as a whole, then each operation runs through the ordinary
 * directory functions, each in its own transaction, with "bulkId:<id>"
 * references in paths and data resolved to ids created earlier in the
 * same request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "directory/directory.h"
#include "scim/json.h"
#include "scim/render.h"
#include "scim/schema.h"

#define BULK_REF_PREFIX           "bulkId:"
#define BULK_REF_PREFIX_LEN       (sizeof(BULK_REF_PREFIX) - 1)
#define BULK_ID_MAX               256
#define SCIM_SCHEMA_BULK_REQUEST  "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
#define SCIM_SCHEMA_BULK_RESPONSE "urn:ietf:params:scim:api:messages:2.0:BulkResponse"

enum bulk_method { BULK_POST, BULK_PUT, BULK_PATCH, BULK_DELETE };

/* clang-format off */
static const struct { const char *name; enum bulk_method method; } bulk_methods[] = {
    { "POST", BULK_POST }, { "PUT", BULK_PUT }, { "PATCH", BULK_PATCH }, { "DELETE", BULK_DELETE },
};
/* clang-format on */

enum op_state { OP_PENDING, OP_DONE, OP_FAILED };

struct bulk_op {
    json_t *op;          /* borrowed from the request */
    const char *bulk_id; /* may be NULL */
    enum op_state state;
    char id[STORE_ID_LEN]; /* created or touched resource */
    json_t *result;        /* the BulkResponse operation, owned */
};

struct bulk {
    struct directory *dir;
    const struct scim_conn *conn;
    struct bulk_op *ops;
    size_t n;
};

/* The resource id a POST with this bulkId created, or NULL; *pending says
 * whether a POST with that bulkId still has to run. */
static const char *bulk_resolve(const struct bulk *b, const char *bulk_id, bool *pending)
{
    *pending = false;
    for (size_t i = 0; i < b->n; i++) {
        const struct bulk_op *o = &b->ops[i];
        if (o->bulk_id == NULL || strcmp(o->bulk_id, bulk_id) != 0)
            continue;
        const char *method = json_string_value(json_object_get(o->op, "method"));
        if (method == NULL || !str_ieq(method, "POST"))
            continue;
        if (o->state == OP_DONE)
            return o->id;
        if (o->state == OP_PENDING)
            *pending = true;
    }
    return NULL;
}

enum ref_scan { REF_READY, REF_WAIT, REF_UNKNOWN };

/* Look at every "bulkId:" string in v; with substitute, replace the
 * resolved ones in place.  unknown gets the first unresolvable name. */
static enum ref_scan bulk_refs(const struct bulk *b, json_t *v, bool substitute,
                               char unknown[BULK_ID_MAX])
{
    enum ref_scan worst = REF_READY;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strncmp(s, BULK_REF_PREFIX, BULK_REF_PREFIX_LEN) != 0)
            return REF_READY;
        bool pending;
        const char *id = bulk_resolve(b, s + BULK_REF_PREFIX_LEN, &pending);
        if (id != NULL) {
            if (substitute)
                json_string_set(v, id);
            return REF_READY;
        }
        if (pending)
            return REF_WAIT;
        str_copy(unknown, BULK_ID_MAX, s + BULK_REF_PREFIX_LEN);
        return REF_UNKNOWN;
    }
    const char *key;
    size_t i;
    json_t *e;
    if (json_is_object(v)) {
        json_object_foreach(v, key, e)
        {
            enum ref_scan r = bulk_refs(b, e, substitute, unknown);
            if (r > worst)
                worst = r;
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, e)
        {
            enum ref_scan r = bulk_refs(b, e, substitute, unknown);
            if (r > worst)
                worst = r;
        }
    }
    return worst;
}

static json_t *bulk_error_response(const struct scim_error *err)
{
    char *text = scim_error_body(err);
    json_t *body = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    return body;
}

/* The BulkResponse entry for o: method, bulkId, and status (+ location, version or response). */
static void bulk_result(struct bulk *b, struct bulk_op *o, const char *endpoint,
                        const struct scim_doc *doc, int http, const struct scim_error *err)
{
    json_t *r = json_object();
    if (r == NULL)
        return;
    const char *method = json_string_value(json_object_get(o->op, "method"));
    if (method != NULL)
        json_object_set_new(r, "method", json_string(method));
    if (o->bulk_id != NULL)
        json_object_set_new(r, "bulkId", json_string(o->bulk_id));
    char status[8];
    snprintf(status, sizeof(status), "%d", err ? status_http(err->status) : http);
    json_object_set_new(r, "status", json_string(status));
    if (err != NULL) {
        json_t *body = bulk_error_response(err);
        if (body != NULL)
            json_object_set_new(r, "response", body);
    } else if (endpoint != NULL && o->id[0] != '\0') {
        char location[DIRECTORY_URL_MAX + STORE_ID_LEN + 16];
        snprintf(location, sizeof(location), "%s%s/%s", b->conn->base_url, endpoint, o->id);
        json_object_set_new(r, "location", json_string(location));
        if (doc != NULL && doc->version > 0) {
            char etag[SCIM_ETAG_MAX];
            scim_etag(doc->version, etag);
            json_object_set_new(r, "version", json_string(etag));
        }
    }
    o->result = r;
}

static void bulk_fail(struct bulk *b, struct bulk_op *o, const struct scim_error *err)
{
    o->state = OP_FAILED;
    bulk_result(b, o, NULL, NULL, 0, err);
}

/* Split "/Users/<id>" or "/Groups" into the endpoint and the id ("" when absent). */
static bool bulk_path(const char *path, bool *group, char id[BULK_ID_MAX + BULK_REF_PREFIX_LEN])
{
    if (*path == '/')
        path++;
    const char *rest;
    if (strncmp(path, "Users", 5) == 0) {
        *group = false;
        rest = path + 5;
    } else if (strncmp(path, "Groups", 6) == 0) {
        *group = true;
        rest = path + 6;
    } else {
        return false;
    }
    id[0] = '\0';
    if (*rest == '\0')
        return true;
    if (*rest != '/' || rest[1] == '\0' || strchr(rest + 1, '/') != NULL)
        return false;
    return str_copy(id, BULK_ID_MAX + BULK_REF_PREFIX_LEN, rest + 1);
}

/* Run one operation whose references are all resolved. */
static void bulk_run(struct bulk *b, struct bulk_op *o, enum bulk_method method, bool group,
                     const char *id, json_t *data)
{
    struct scim_error err;
    struct scim_doc doc = { 0 };
    const char *version = json_string_value(json_object_get(o->op, "version"));
    const char *endpoint = group ? "Groups" : "Users";
    enum status rc;
    int http = 200;
    switch (method) {
    case BULK_POST:
        rc = group ? directory_scim_group_create(b->dir, b->conn, data, &doc, &err)
                   : directory_scim_user_create(b->dir, b->conn, data, &doc, &err);
        http = 201;
        break;
    case BULK_PUT:
        rc = group ? directory_scim_group_replace(b->dir, b->conn, id, version, data, &doc, &err)
                   : directory_scim_user_replace(b->dir, b->conn, id, version, data, &doc, &err);
        break;
    case BULK_PATCH:
        rc = group ? directory_scim_group_patch(b->dir, b->conn, id, version, data, NULL, NULL,
                                                false, &doc, &err)
                   : directory_scim_user_patch(b->dir, b->conn, id, version, data, &doc, &err);
        if (group)
            http = 204;
        break;
    case BULK_DELETE:
    default:
        rc = group ? directory_scim_group_delete(b->dir, b->conn, id, version, &err)
                   : directory_scim_user_delete(b->dir, b->conn, id, version, &err);
        http = 204;
        break;
    }
    if (rc != OK) {
        bulk_fail(b, o, &err);
        scim_doc_release(&doc);
        return;
    }
    o->state = OP_DONE;
    str_copy(o->id, sizeof(o->id), doc.id[0] != '\0' ? doc.id : id);
    bulk_result(b, o, method == BULK_DELETE ? NULL : endpoint, &doc, http, NULL);
    scim_doc_release(&doc);
}

/* Try o: fails it, runs it, or leaves it pending when it waits for a later POST. */
static void bulk_step(struct bulk *b, struct bulk_op *o, bool last_chance)
{
    struct scim_error err;
    if (!json_is_object(o->op)) {
        scim_error_set(&err, ERR_INVALID_SYNTAX, "a bulk operation must be a JSON object");
        bulk_fail(b, o, &err);
        return;
    }
    const char *mname = json_string_value(json_object_get(o->op, "method"));
    size_t m = 0;
    while (mname != NULL && m < sizeof(bulk_methods) / sizeof(bulk_methods[0]) &&
           !str_ieq(bulk_methods[m].name, mname))
        m++;
    if (mname == NULL || m == sizeof(bulk_methods) / sizeof(bulk_methods[0])) {
        scim_error_set(&err, ERR_INVALID_VALUE, "method must be one of POST, PUT, PATCH or DELETE");
        bulk_fail(b, o, &err);
        return;
    }
    enum bulk_method method = bulk_methods[m].method;
    const char *path = json_string_value(json_object_get(o->op, "path"));
    bool group = false;
    char id[BULK_ID_MAX + BULK_REF_PREFIX_LEN];
    if (path == NULL || !bulk_path(path, &group, id) || (method == BULK_POST) != (id[0] == '\0')) {
        scim_error_set(&err, ERR_INVALID_VALUE,
                       method == BULK_POST ? "path must be /Users or /Groups"
                                           : "path must be /Users/{id} or /Groups/{id}");
        bulk_fail(b, o, &err);
        return;
    }
    json_t *data = json_object_get(o->op, "data");
    if (method != BULK_DELETE && !json_is_object(data)) {
        scim_error_set(&err, ERR_INVALID_VALUE, "data must be a JSON object");
        bulk_fail(b, o, &err);
        return;
    }
    /* references: in the path id and anywhere in data */
    json_t *path_ref = json_string(id);
    if (path_ref == NULL) {
        scim_error_set(&err, ERR_NOMEM, "out of memory");
        bulk_fail(b, o, &err);
        return;
    }
    char unknown[BULK_ID_MAX] = "";
    enum ref_scan scan = bulk_refs(b, path_ref, false, unknown);
    if (data != NULL) {
        enum ref_scan d = bulk_refs(b, data, false, unknown);
        if (d > scan)
            scan = d;
    }
    if (scan == REF_WAIT && !last_chance) {
        json_decref(path_ref);
        return;
    }
    if (scan != REF_READY) {
        json_decref(path_ref);
        if (scan == REF_WAIT)
            scim_error_set(&err, ERR_CONFLICT, "circular bulkId references");
        else
            scim_error_set(&err, ERR_INVALID_VALUE,
                           "bulkId '%.200s' does not name a resource created in this request",
                           unknown);
        bulk_fail(b, o, &err);
        return;
    }
    bulk_refs(b, path_ref, true, unknown);
    if (data != NULL)
        bulk_refs(b, data, true, unknown);
    char resolved[STORE_ID_LEN + BULK_ID_MAX];
    str_copy(resolved, sizeof(resolved), json_string_value(path_ref));
    json_decref(path_ref);
    bulk_run(b, o, method, group, resolved, data);
}

static enum status bulk_check(const json_t *body, json_t **ops, long *fail_on_errors,
                              struct scim_error *err)
{
    if (!json_is_object(body))
        return scim_error_set(err, ERR_INVALID_SYNTAX, "a BulkRequest must be a JSON object");
    const json_t *schemas = json_object_get(body, "schemas");
    if (schemas != NULL) {
        bool found = false;
        size_t i;
        const json_t *s;
        json_array_foreach(schemas, i, s)
        {
            if (json_is_string(s) && str_ieq(json_string_value(s), SCIM_SCHEMA_BULK_REQUEST))
                found = true;
        }
        if (!found)
            return scim_error_set(err, ERR_INVALID_SYNTAX, "schemas must hold %s",
                                  SCIM_SCHEMA_BULK_REQUEST);
    }
    *ops = scim_json_iget(body, "Operations");
    if (!json_is_array(*ops))
        return scim_error_set(err, ERR_INVALID_SYNTAX, "Operations must be an array");
    if (json_array_size(*ops) > DIRECTORY_BULK_MAX_OPERATIONS)
        return scim_error_set(err, ERR_TOO_LARGE,
                              "a BulkRequest may hold at most %d operations (maxOperations)",
                              DIRECTORY_BULK_MAX_OPERATIONS);
    const json_t *foe = scim_json_iget(body, "failOnErrors");
    *fail_on_errors = 0;
    if (foe != NULL && !json_is_null(foe)) {
        if (!json_is_integer(foe) || json_integer_value(foe) < 1)
            return scim_error_set(err, ERR_INVALID_VALUE,
                                  "failOnErrors must be a positive integer");
        json_int_t v = json_integer_value(foe);
        *fail_on_errors =
            v > DIRECTORY_BULK_MAX_OPERATIONS ? DIRECTORY_BULK_MAX_OPERATIONS : (long)v;
    }
    return OK;
}

enum status directory_scim_bulk(struct directory *dir, const struct scim_conn *conn, json_t *body,
                                char **out, struct scim_error *err)
{
    json_t *ops = NULL;
    long fail_on_errors;
    *out = NULL;
    enum status rc = bulk_check(body, &ops, &fail_on_errors, err);
    if (rc != OK)
        return rc;
    struct bulk b = { .dir = dir, .conn = conn, .n = json_array_size(ops) };
    b.ops = calloc(b.n ? b.n : 1, sizeof(*b.ops));
    if (b.ops == NULL)
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < b.n; i++) {
        b.ops[i].op = json_array_get(ops, i);
        b.ops[i].bulk_id = json_string_value(json_object_get(b.ops[i].op, "bulkId"));
    }
    /* In request order; an operation that refers to a later POST waits for
     * it, and what still waits after a pass without progress is circular. */
    long errors = 0;
    bool progress = true, stop = false;
    size_t pending = b.n;
    while (pending > 0 && !stop) {
        bool last_chance = !progress;
        progress = false;
        for (size_t i = 0; i < b.n && !stop; i++) {
            if (b.ops[i].state != OP_PENDING)
                continue;
            bulk_step(&b, &b.ops[i], last_chance);
            if (b.ops[i].state == OP_PENDING)
                continue;
            progress = true;
            pending--;
            if (b.ops[i].state == OP_FAILED && fail_on_errors > 0 && ++errors >= fail_on_errors)
                stop = true;
        }
    }
    json_t *results = json_array();
    for (size_t i = 0; i < b.n; i++) {
        if (b.ops[i].result != NULL && results != NULL)
            json_array_append(results, b.ops[i].result);
        json_decref(b.ops[i].result);
    }
    free(b.ops);
    json_t *res = results ? json_pack("{s:[s],s:o}", "schemas", SCIM_SCHEMA_BULK_RESPONSE,
                                      "Operations", results)
                          : NULL;
    *out = res ? scim_json_text(res) : NULL;
    json_decref(res);
    if (*out == NULL)
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    return OK;
}
