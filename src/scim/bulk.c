/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bulk.c - this file contains the BulkRequest planner (RFC 7644 §3.7): the
 * whole-request checks, the per-operation checks, one walk over each
 * operation's path and data that ties every "bulkId:" reference to the
 * POST carrying that bulkId (a hash map, so a reference costs O(1)), and
 * the run order: Kahn's topological sort with a min-heap, so operations run
 * in request order except where one must wait for a later POST.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "scim/bulk.h"
#include "scim/json.h"

#define REF_PREFIX_LEN (sizeof(SCIM_BULK_REF_PREFIX) - 1)

/* clang-format off */
static const struct { const char *name; enum scim_bulk_method method; } methods[] = {
    { "POST", SCIM_BULK_POST }, { "PUT", SCIM_BULK_PUT }, { "PATCH", SCIM_BULK_PATCH },
    { "DELETE", SCIM_BULK_DELETE },
};
/* clang-format on */

/* State of the planning walk. */
struct planner {
    struct scim_bulk_plan *p;
    json_t *posts; /* bulkId -> index of the POST carrying it */
    size_t max_references;
    size_t refs_alloc;
    bool too_many; /* more references than max_references */
    bool nomem;
};

static enum status check_request(const json_t *body, const struct scim_bulk_limits *limits,
                                 json_t **ops, long *fail_on_errors, struct scim_error *err)
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
    if (json_array_size(*ops) > limits->max_operations)
        return scim_error_set(err, ERR_TOO_LARGE,
                              "a BulkRequest may hold at most %zu operations (maxOperations)",
                              limits->max_operations);
    const json_t *foe = scim_json_iget(body, "failOnErrors");
    *fail_on_errors = 0;
    if (foe != NULL && !json_is_null(foe)) {
        if (!json_is_integer(foe) || json_integer_value(foe) < 1)
            return scim_error_set(err, ERR_INVALID_VALUE,
                                  "failOnErrors must be a positive integer");
        json_int_t v = json_integer_value(foe);
        *fail_on_errors =
            v > (json_int_t)limits->max_operations ? (long)limits->max_operations : (long)v;
    }
    return OK;
}

/* Split "/Users/<id>" or "/Groups" into the endpoint and the id ("" when absent). */
static bool split_path(const char *path, bool *group, char id[SCIM_BULK_PATH_ID_MAX])
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
    return str_copy(id, SCIM_BULK_PATH_ID_MAX, rest + 1);
}

static void invalid(struct scim_bulk_op *o, enum status st, const char *detail)
{
    o->invalid = true;
    scim_error_set(&o->error, st, "%s", detail);
}

/* The checks on one operation that need no other operation. */
static void check_op(struct scim_bulk_op *o)
{
    if (!json_is_object(o->op)) {
        invalid(o, ERR_INVALID_SYNTAX, "a bulk operation must be a JSON object");
        return;
    }
    o->method_name = json_string_value(json_object_get(o->op, "method"));
    size_t m = 0;
    const size_t nmethods = sizeof(methods) / sizeof(methods[0]);
    while (o->method_name != NULL && m < nmethods && !str_ieq(methods[m].name, o->method_name))
        m++;
    if (o->method_name == NULL || m == nmethods) {
        invalid(o, ERR_INVALID_VALUE, "method must be one of POST, PUT, PATCH or DELETE");
        return;
    }
    o->method = methods[m].method;
    const json_t *bulk_id = json_object_get(o->op, "bulkId");
    if (bulk_id != NULL) {
        o->bulk_id = json_string_value(bulk_id);
        if (o->bulk_id == NULL || o->bulk_id[0] == '\0' ||
            strlen(o->bulk_id) != json_string_length(bulk_id) ||
            json_string_length(bulk_id) >= SCIM_BULK_ID_MAX) {
            o->bulk_id = NULL;
            scim_error_set(&o->error, ERR_INVALID_VALUE,
                           "bulkId must be a non-empty string of at most %d bytes",
                           SCIM_BULK_ID_MAX - 1);
            o->invalid = true;
            return;
        }
    }
    const char *path = json_string_value(json_object_get(o->op, "path"));
    if (path == NULL || !split_path(path, &o->group, o->path_id) ||
        (o->method == SCIM_BULK_POST) != (o->path_id[0] == '\0')) {
        invalid(o, ERR_INVALID_VALUE,
                o->method == SCIM_BULK_POST ? "path must be /Users or /Groups"
                                            : "path must be /Users/{id} or /Groups/{id}");
        return;
    }
    json_t *data = json_object_get(o->op, "data");
    if (o->method != SCIM_BULK_DELETE) {
        if (!json_is_object(data)) {
            invalid(o, ERR_INVALID_VALUE, "data must be a JSON object");
            return;
        }
        o->data = data;
    }
    o->version = json_string_value(json_object_get(o->op, "version"));
}

/* Record a reference from operation o to the POST carrying name[0..len);
 * false when no POST carries it (o is then invalid). */
static bool add_ref(struct planner *pl, struct scim_bulk_op *o, json_t *node, const char *name,
                    size_t len)
{
    struct scim_bulk_plan *p = pl->p;
    if (p->nrefs == pl->max_references) {
        pl->too_many = true;
        return false;
    }
    const json_t *target = NULL;
    if (len > 0 && len < SCIM_BULK_ID_MAX && strlen(name) == len)
        target = json_object_get(pl->posts, name);
    if (target == NULL) {
        scim_error_set(&o->error, ERR_INVALID_VALUE,
                       "bulkId '%.*s' does not name a resource created in this request",
                       (int)(len > 200 ? 200 : len), name);
        o->invalid = true;
        return false;
    }
    if (p->nrefs == pl->refs_alloc) {
        size_t n = pl->refs_alloc ? pl->refs_alloc * 2 : 64;
        if (n > pl->max_references)
            n = pl->max_references;
        struct scim_bulk_ref *r = realloc(p->refs, n * sizeof(*r));
        if (r == NULL) {
            pl->nomem = true;
            return false;
        }
        p->refs = r;
        pl->refs_alloc = n;
    }
    p->refs[p->nrefs].node = node;
    p->refs[p->nrefs].target = (size_t)json_integer_value(target);
    p->nrefs++;
    return true;
}

/* Every "bulkId:" string in v; false stops the walk (o invalid, or a whole-request failure). */
static bool walk_refs(struct planner *pl, struct scim_bulk_op *o, json_t *v)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        if (len < REF_PREFIX_LEN || memcmp(s, SCIM_BULK_REF_PREFIX, REF_PREFIX_LEN) != 0)
            return true;
        return add_ref(pl, o, v, s + REF_PREFIX_LEN, len - REF_PREFIX_LEN);
    }
    const char *key;
    size_t i;
    json_t *e;
    if (json_is_object(v)) {
        json_object_foreach(v, key, e)
        {
            if (!walk_refs(pl, o, e))
                return false;
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, e)
        {
            if (!walk_refs(pl, o, e))
                return false;
        }
    }
    return true;
}

/* The bulkId map: the first POST carrying each bulkId; a later POST with the same one is invalid.
 */
static bool map_posts(struct planner *pl)
{
    struct scim_bulk_plan *p = pl->p;
    for (size_t i = 0; i < p->n; i++) {
        struct scim_bulk_op *o = &p->ops[i];
        /* bulk_id is only set once the method is known */
        if (o->bulk_id == NULL || o->method != SCIM_BULK_POST)
            continue;
        const json_t *first = json_object_get(pl->posts, o->bulk_id);
        if (first != NULL) {
            if (!o->invalid) {
                scim_error_set(&o->error, ERR_INVALID_VALUE,
                               "bulkId '%.200s' is already used by operation %lld of this request",
                               o->bulk_id, (long long)json_integer_value(first) + 1);
                o->invalid = true;
            }
            continue;
        }
        if (json_object_set_new(pl->posts, o->bulk_id, json_integer((json_int_t)i)) != 0)
            return false;
    }
    return true;
}

static void heap_push(struct scim_bulk_plan *p, size_t v)
{
    size_t i = p->heap_n++;
    while (i > 0 && p->heap[(i - 1) / 2] > v) {
        p->heap[i] = p->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    p->heap[i] = v;
}

static size_t heap_pop(struct scim_bulk_plan *p)
{
    size_t top = p->heap[0], v = p->heap[--p->heap_n], i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= p->heap_n)
            break;
        if (c + 1 < p->heap_n && p->heap[c + 1] < p->heap[c])
            c++;
        if (p->heap[c] >= v)
            break;
        p->heap[i] = p->heap[c];
        i = c;
    }
    if (p->heap_n > 0)
        p->heap[i] = v;
    return top;
}

/* Dependants of every POST (the reverse of refs, as CSR) and the first ready operations. */
static bool order(struct scim_bulk_plan *p)
{
    p->dep_start = calloc(p->n + 1, sizeof(*p->dep_start));
    p->deps = malloc((p->nrefs ? p->nrefs : 1) * sizeof(*p->deps));
    p->heap = malloc((p->n ? p->n : 1) * sizeof(*p->heap));
    if (p->dep_start == NULL || p->deps == NULL || p->heap == NULL)
        return false;
    for (size_t r = 0; r < p->nrefs; r++)
        p->dep_start[p->refs[r].target + 1]++;
    for (size_t t = 0; t < p->n; t++)
        p->dep_start[t + 1] += p->dep_start[t];
    size_t *fill = calloc(p->n ? p->n : 1, sizeof(*fill));
    if (fill == NULL)
        return false;
    for (size_t i = 0; i < p->n; i++) {
        const struct scim_bulk_op *o = &p->ops[i];
        for (size_t r = o->first_ref; r < o->first_ref + o->nrefs; r++) {
            size_t t = p->refs[r].target;
            p->deps[p->dep_start[t] + fill[t]++] = i;
        }
    }
    free(fill);
    for (size_t i = 0; i < p->n; i++) {
        p->ops[i].waits = p->ops[i].nrefs;
        if (p->ops[i].waits == 0)
            heap_push(p, i);
    }
    return true;
}

enum status scim_bulk_plan_init(struct scim_bulk_plan *p, json_t *body,
                                const struct scim_bulk_limits *limits, struct scim_error *err)
{
    memset(p, 0, sizeof(*p));
    json_t *ops = NULL;
    enum status rc = check_request(body, limits, &ops, &p->fail_on_errors, err);
    if (rc != OK)
        return rc;
    struct planner pl = { .p = p,
                          .posts = json_object(),
                          .max_references = limits->max_references };
    p->n = json_array_size(ops);
    p->ops = calloc(p->n ? p->n : 1, sizeof(*p->ops));
    if (pl.posts == NULL || p->ops == NULL)
        goto nomem;
    for (size_t i = 0; i < p->n; i++) {
        p->ops[i].op = json_array_get(ops, i);
        check_op(&p->ops[i]);
    }
    if (!map_posts(&pl))
        goto nomem;
    for (size_t i = 0; i < p->n && !pl.too_many && !pl.nomem; i++) {
        struct scim_bulk_op *o = &p->ops[i];
        if (o->invalid)
            continue;
        o->first_ref = p->nrefs;
        if (strncmp(o->path_id, SCIM_BULK_REF_PREFIX, REF_PREFIX_LEN) == 0) {
            const char *name = o->path_id + REF_PREFIX_LEN;
            o->path_ref = add_ref(&pl, o, NULL, name, strlen(name));
        }
        if (!o->invalid && !pl.too_many && !pl.nomem && o->data != NULL)
            walk_refs(&pl, o, o->data);
        /* an invalid operation runs (fails) at its turn without waiting */
        p->nrefs = o->invalid ? o->first_ref : p->nrefs;
        o->nrefs = p->nrefs - o->first_ref;
        o->path_ref = o->path_ref && !o->invalid;
    }
    if (pl.nomem)
        goto nomem;
    if (pl.too_many) {
        scim_error_set(err, ERR_TOO_LARGE,
                       "a BulkRequest may hold at most %zu bulkId references; send the "
                       "operations in smaller requests",
                       limits->max_references);
        json_decref(pl.posts);
        scim_bulk_plan_release(p);
        return ERR_TOO_LARGE;
    }
    if (!order(p))
        goto nomem;
    json_decref(pl.posts);
    return OK;
nomem:
    json_decref(pl.posts);
    scim_bulk_plan_release(p);
    return scim_error_set(err, ERR_NOMEM, "out of memory");
}

bool scim_bulk_plan_next(struct scim_bulk_plan *p, size_t *i)
{
    if (p->heap_n == 0)
        return false;
    *i = heap_pop(p);
    return true;
}

void scim_bulk_plan_done(struct scim_bulk_plan *p, size_t i)
{
    for (size_t d = p->dep_start[i]; d < p->dep_start[i + 1]; d++) {
        struct scim_bulk_op *o = &p->ops[p->deps[d]];
        if (--o->waits == 0)
            heap_push(p, p->deps[d]);
    }
}

void scim_bulk_plan_release(struct scim_bulk_plan *p)
{
    free(p->ops);
    free(p->refs);
    free(p->dep_start);
    free(p->deps);
    free(p->heap);
    memset(p, 0, sizeof(*p));
}
