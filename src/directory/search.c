/* SPDX-License-Identifier: Apache-2.0 */
/*
 * search.c - GET /Users listing: filter, sort, paginate, project.
 *
 * The store answers what it can from indexes.  When it reports an exact
 * answer, the page it delivers is spliced into the ListResponse as stored
 * text (no parse, no serialise) unless a projection asks for less.
 * Otherwise every candidate is parsed, matched with the in-memory
 * evaluator, sorted if needed, and sliced here.
 *
 * Cursor pagination (RFC 9865) is keyset over id order: the store applies
 * "id > last" when its answer is exact; otherwise the candidates arrive in
 * id order and the keyset is applied here, after the filter.
 */
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/str.h"
#include "directory/directory.h"
#include "directory/render.h"
#include "scim/filter.h"
#include "scim/render.h"
#include "scim/schema.h"

static const struct scim_resource_type *const user_rt = &scim_resource_user;

/* One candidate kept in memory on the general path. */
struct hit {
    json_t *doc;
    const json_t *key; /* sort key inside doc, borrowed */
};

struct collect {
    struct store_tx *tx; /* for the derived groups attribute */
    const struct scim_conn *conn;
    const struct scim_filter *filter;
    const struct store_search_result *res; /* exact is known before the first row */
    const struct scim_attr_ref *sort;      /* in-memory sort key, or NULL */
    bool project;                          /* exact path: parse for projection? */
    struct hit *hits;
    size_t n, alloc;
    struct buf *texts; /* exact answer without projection: stored docs, comma-joined */
    size_t n_texts;
    enum status rc;
};

/* The value a resource sorts by: a simple attribute, a sub-attribute, or
 * for multi-valued attributes the primary (else first) element's value. */
static const json_t *sort_key(const json_t *doc, const struct scim_attr_ref *ref)
{
    const json_t *v;
    if (ref->schema != user_rt->schema)
        v = json_object_get(json_object_get(doc, ref->schema->id), ref->attr->name);
    else
        v = json_object_get(doc, ref->attr->name);
    if (json_is_array(v)) {
        const json_t *pick = json_array_get(v, 0);
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e)
        {
            if (json_is_true(json_object_get(e, "primary"))) {
                pick = e;
                break;
            }
        }
        v = pick;
        if (ref->sub == NULL && json_is_object(v))
            return json_object_get(v, "value");
    }
    if (ref->sub)
        v = json_object_get(v, ref->sub->name);
    return v;
}

static bool case_exact(const struct scim_attr_ref *ref)
{
    return ref->sub ? ref->sub->case_exact : ref->attr->case_exact;
}

struct sort_order {
    const struct scim_attr_ref *ref;
    bool descending;
};

/* Missing values sort last in either order (RFC 7644 §3.4.2.3). */
static int compare_hits(const void *pa, const void *pb, void *arg)
{
    const struct sort_order *o = arg;
    const json_t *a = ((const struct hit *)pa)->key, *b = ((const struct hit *)pb)->key;
    bool has_a = a && !json_is_null(a), has_b = b && !json_is_null(b);
    if (!has_a || !has_b)
        return has_a ? -1 : has_b ? 1 : 0;
    int c = 0;
    if (json_is_string(a) && json_is_string(b))
        c = case_exact(o->ref) ? strcmp(json_string_value(a), json_string_value(b))
                               : strcasecmp(json_string_value(a), json_string_value(b));
    else if (json_is_number(a) && json_is_number(b))
        c = json_number_value(a) < json_number_value(b)
                ? -1
                : json_number_value(a) > json_number_value(b);
    else if (json_is_boolean(a) && json_is_boolean(b))
        c = (int)json_is_true(a) - (int)json_is_true(b);
    return o->descending ? -c : c;
}

static enum status collect_row(void *ctx, const struct store_idp_user *row)
{
    struct collect *c = ctx;
    /* users in no group keep the stored-text fast path */
    char *with_groups = NULL;
    enum status rc =
        directory_user_groups_render(c->tx, c->conn, row->user_id, row->doc, &with_groups);
    if (rc != OK)
        return rc;
    const char *text = with_groups ? with_groups : row->doc;
    if (c->res->exact && !c->project) {
        if (c->n_texts++)
            buf_putc(c->texts, ',');
        buf_puts(c->texts, text);
        free(with_groups);
        return c->texts->failed ? ERR_NOMEM : OK;
    }
    json_t *doc = json_loads(text, 0, NULL);
    free(with_groups);
    if (doc == NULL)
        return ERR_STORE;
    if (c->filter && !c->res->exact && !scim_filter_match(c->filter, doc)) {
        json_decref(doc);
        return OK;
    }
    struct hit *h = array_room(c->hits, c->n, &c->alloc, sizeof(*h), 64);
    if (h == NULL) {
        json_decref(doc);
        return ERR_NOMEM;
    }
    c->hits = h;
    c->hits[c->n].doc = doc;
    c->hits[c->n].key = c->sort ? sort_key(doc, c->sort) : NULL;
    c->n++;
    return OK;
}

/* sortBy -> a store order where SQL can sort, else an in-memory key. */
static enum status plan_sort(const char *sort_by, enum store_sort *order, struct scim_attr_ref *ref,
                             bool *in_memory, struct scim_error *err)
{
    *order = STORE_SORT_NONE;
    *in_memory = false;
    if (sort_by == NULL || *sort_by == '\0')
        return OK;
    enum status rc = scim_schema_resolve(user_rt, sort_by, ref, err);
    if (rc != OK)
        return scim_error_set(err, ERR_INVALID_VALUE, "cannot sort by unknown attribute '%.64s'",
                              sort_by);
    /* clang-format off */
    static const struct { const char *attr, *sub; enum store_sort order; } sql_orders[] = {
        { "userName",   NULL,           STORE_SORT_USER_NAME },
        { "externalId", NULL,           STORE_SORT_EXTERNAL_ID },
        { "id",         NULL,           STORE_SORT_ID },
        { "meta",       "created",      STORE_SORT_CREATED },
        { "meta",       "lastModified", STORE_SORT_LAST_MODIFIED },
    };
    /* clang-format on */
    if (ref->schema == user_rt->schema) {
        for (size_t i = 0; i < sizeof(sql_orders) / sizeof(sql_orders[0]); i++) {
            bool sub_ok = sql_orders[i].sub ? ref->sub && str_ieq(ref->sub->name, sql_orders[i].sub)
                                            : ref->sub == NULL;
            if (str_ieq(ref->attr->name, sql_orders[i].attr) && sub_ok) {
                *order = sql_orders[i].order;
                return OK;
            }
        }
    }
    *in_memory = true;
    return OK;
}

/* Append resources [from, to) of hits, projected, as JSON text. */
static enum status emit_hits(struct collect *c, size_t from, size_t to,
                             const struct scim_projection *proj, struct buf *out)
{
    for (size_t i = from; i < to; i++) {
        json_t *shown = scim_projection_apply(proj, user_rt, c->hits[i].doc);
        char *text = shown ? scim_json_text(shown) : NULL;
        json_decref(shown);
        if (text == NULL)
            return ERR_NOMEM;
        if (i > from)
            buf_putc(out, ',');
        buf_puts(out, text);
        free(text);
    }
    return out->failed ? ERR_NOMEM : OK;
}

static void free_hits(struct collect *c)
{
    for (size_t i = 0; i < c->n; i++)
        json_decref(c->hits[i].doc);
    free(c->hits);
}

/* ---- cursor pagination ------------------------------------------------------------------- */

/* The scope a cursor of this list carries: what must not change during a walk. */
static enum status cursor_scope(const struct scim_conn *conn, const struct scim_resource_type *rt,
                                const struct scim_list_query *q, const struct scim_filter *filter,
                                unsigned char scope[SCIM_CURSOR_SCOPE_LEN])
{
    struct buf canonical;
    buf_init(&canonical, 0); /* bounded by the filter caps (text, nodes) */
    enum status rc = scim_filter_canonical(filter, &canonical);
    const char *parts[] = {
        conn->tenant_id, conn->idp_id,
        rt->id,          canonical.data ? canonical.data : "",
        q->sort_by,      q->descending ? "descending" : "ascending",
    };
    if (rc == OK)
        rc = scim_cursor_scope(parts, sizeof(parts) / sizeof(parts[0]), scope);
    buf_release(&canonical);
    return rc;
}

enum status directory_cursor_begin(const struct directory *dir, const struct scim_conn *conn,
                                   const struct scim_resource_type *rt,
                                   const struct scim_list_query *q,
                                   const struct scim_filter *filter, struct directory_cursor *cur,
                                   struct scim_error *err)
{
    memset(cur, 0, sizeof(*cur));
    cur->key = dir->cursor_key_loaded ? dir->cursor_key : NULL;
    cur->total = -1;
    if (q->cursor == NULL)
        return OK;
    if (q->start_given)
        return scim_error_set(err, ERR_INVALID_VALUE,
                              "cursor and startIndex cannot be used together");
    if (q->sort_by != NULL && *q->sort_by != '\0')
        return scim_error_set(err, ERR_INVALID_VALUE,
                              "cursor pagination is in id order; sortBy cannot be used with it");
    cur->active = true;
    enum status rc = cursor_scope(conn, rt, q, filter, cur->scope);
    if (rc != OK)
        return scim_error_set(err, rc, "out of memory");
    if (*q->cursor == '\0')
        return OK;
    if (cur->key == NULL)
        return scim_error_set(err, ERR_UNSUPPORTED, "cursor pagination is not set up");
    struct scim_cursor c;
    rc = scim_cursor_decode(q->cursor, cur->key, clock_now_s(), &c, err);
    if (rc != OK)
        return rc;
    if (!crypto_equal(c.scope, cur->scope, SCIM_CURSOR_SCOPE_LEN))
        return scim_error_set(err, ERR_INVALID_CURSOR,
                              "the cursor belongs to another list: pass it with the connection, "
                              "resource type, filter, sortBy and sortOrder it was issued for");
    cur->backward = c.backward;
    cur->total = c.total;
    str_copy(cur->id, sizeof(cur->id), c.id);
    return OK;
}

struct store_search directory_cursor_search(const struct scim_conn *conn,
                                            const struct scim_list_query *q,
                                            const struct directory_cursor *cur,
                                            const struct scim_filter *filter)
{
    struct store_search search = {
        .tenant_id = conn->tenant_id,
        .idp_id = conn->idp_id,
        .filter = filter,
        .sort = STORE_SORT_NONE,
        .descending = cur->backward,
        .limit = q->count + 1,
        .after_id = cur->id[0] ? cur->id : NULL,
        .skip_count = cur->total >= 0,
    };
    return search;
}

bool directory_cursor_past(const struct directory_cursor *cur, const char *id)
{
    if (cur->id[0] == '\0')
        return true;
    int c = strcmp(id, cur->id);
    return cur->backward ? c < 0 : c > 0;
}

enum status directory_page_add(struct directory_page *p, const char *id, char *text)
{
    if (text == NULL)
        return ERR_NOMEM;
    if (p->n == p->alloc) {
        size_t alloc = p->alloc ? p->alloc * 2 : 64;
        char(*ids)[STORE_ID_LEN] = realloc(p->ids, alloc * sizeof(*ids));
        if (ids != NULL)
            p->ids = ids;
        char **texts = ids ? realloc(p->texts, alloc * sizeof(*texts)) : NULL;
        if (texts == NULL) {
            free(text);
            return ERR_NOMEM;
        }
        p->texts = texts;
        p->alloc = alloc;
    }
    str_copy(p->ids[p->n], STORE_ID_LEN, id);
    p->texts[p->n++] = text;
    return OK;
}

void directory_page_release(struct directory_page *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->texts[i]);
    free(p->texts);
    free(p->ids);
    memset(p, 0, sizeof(*p));
}

static bool put_cursor(struct buf *b, const struct directory_cursor *cur, const char *name,
                       bool backward, const char *id, size_t total)
{
    struct scim_cursor c = { .backward = backward,
                             .expires = clock_now_s() + SCIM_CURSOR_TIMEOUT_S,
                             .total = (int64_t)total };
    memcpy(c.scope, cur->scope, sizeof(c.scope));
    const unsigned char *key = cur->key;
    char text[SCIM_CURSOR_TEXT_MAX];
    if (key == NULL || !str_copy(c.id, sizeof(c.id), id) || scim_cursor_encode(&c, key, text) != OK)
        return false;
    buf_printf(b, ",\"%s\":\"%s\"", name, text);
    return true;
}

enum status directory_cursor_finish(const struct directory_cursor *cur, struct directory_page *p,
                                    size_t count, const struct store_search_result *res, char **out)
{
    *out = NULL;
    /* exact: counted on the walk's first page (carried in the cursor) or now;
     * inexact: every candidate was read, so the matches were counted on the way */
    size_t total = !res->exact ? p->matched : cur->total >= 0 ? (size_t)cur->total : res->total;
    bool more = p->n > count;
    size_t shown = more ? count : p->n;
    /* rows in ascending id order: a backward page was fetched descending */
    size_t first = 0, last = shown ? shown - 1 : 0;
    if (cur->backward) {
        first = last;
        last = 0;
    }
    struct buf body;
    buf_init(&body, 0);
    buf_printf(&body,
               "{\"schemas\":[\"" SCIM_SCHEMA_LIST_RESPONSE "\"],\"totalResults\":%zu,"
               "\"itemsPerPage\":%zu",
               total, shown);
    bool ok = true;
    if (shown > 0) {
        bool has_next = cur->backward || more;
        bool has_prev = cur->backward ? more : cur->id[0] != '\0';
        if (has_next)
            ok = put_cursor(&body, cur, "nextCursor", false, p->ids[last], total);
        if (ok && has_prev)
            ok = put_cursor(&body, cur, "previousCursor", true, p->ids[first], total);
    }
    /* always present, [] for count=0 (RFC 7644 §3.4.2) */
    buf_puts(&body, ",\"Resources\":[");
    for (size_t k = 0; k < shown; k++) {
        size_t i = cur->backward ? shown - 1 - k : k;
        if (k > 0)
            buf_putc(&body, ',');
        buf_puts(&body, p->texts[i]);
    }
    buf_putc(&body, ']');
    buf_putc(&body, '}');
    if (!ok) {
        buf_release(&body);
        return ERR_NOMEM;
    }
    *out = buf_take(&body);
    return *out ? OK : ERR_NOMEM;
}

/* One cursor-walk row: filter when inexact, keyset, then keep up to count + 1. */
static enum status collect_cursor_row(void *ctx, const struct store_idp_user *row)
{
    struct directory_cursor_collect *c = ctx;
    bool full = c->page.n > c->count;
    if (c->res->exact && full)
        return OK; /* the store over-delivers nothing, but be safe */
    char *with_groups = NULL;
    enum status rc = OK;
    json_t *doc = NULL;
    if (!c->res->exact || !full) {
        rc = directory_user_groups_render(c->tx, c->conn, row->user_id, row->doc, &with_groups);
        if (rc != OK)
            return rc;
    }
    const char *text = with_groups ? with_groups : row->doc;
    if (!c->res->exact || c->proj != NULL) {
        doc = json_loads(text, 0, NULL);
        if (doc == NULL) {
            free(with_groups);
            return ERR_STORE;
        }
    }
    if (!c->res->exact) {
        if ((c->filter && !scim_filter_match(c->filter, doc)) ||
            !directory_cursor_past(c->cur, row->user_id))
            goto done;
        c->page.matched++;
        if (full)
            goto done;
    }
    char *shown;
    if (c->proj != NULL) {
        json_t *projected = scim_projection_apply(c->proj, user_rt, doc);
        shown = projected ? scim_json_text(projected) : NULL;
        json_decref(projected);
    } else {
        shown = with_groups ? with_groups : str_dup(row->doc);
        with_groups = NULL;
    }
    rc = directory_page_add(&c->page, row->user_id, shown);
done:
    json_decref(doc);
    free(with_groups);
    return rc;
}

enum status directory_cursor_list(struct directory *dir, const struct scim_conn *conn,
                                  const struct scim_list_query *q,
                                  const struct directory_cursor *cur,
                                  const struct scim_filter *filter,
                                  const struct scim_projection *proj,
                                  directory_cursor_search_fn search, char **out)
{
    struct store_search keyset = directory_cursor_search(conn, q, cur, filter);
    struct store_search_result res = { 0 };
    struct directory_cursor_collect c = {
        .conn = conn,
        .filter = filter,
        .proj = proj,
        .res = &res,
        .cur = cur,
        .count = q->count,
    };
    struct store_tx *tx = NULL;
    enum status rc = directory_read_begin(dir, conn, &tx);
    if (rc != OK)
        return rc;
    c.tx = tx;
    rc = search(tx, &keyset, &c, &res);
    directory_read_end(conn, tx);
    if (rc == OK)
        rc = directory_cursor_finish(cur, &c.page, q->count, &res, out);
    directory_page_release(&c.page);
    return rc;
}

static enum status search_users(struct store_tx *tx, const struct store_search *search,
                                struct directory_cursor_collect *c, struct store_search_result *res)
{
    return store_idp_user_search(tx, search, collect_cursor_row, c, res);
}

enum status directory_scim_user_list(struct directory *dir, const struct scim_conn *conn,
                                     const struct scim_list_query *q, char **out,
                                     struct scim_error *err)
{
    scim_error_clear(err);
    *out = NULL;
    struct scim_filter *filter = NULL;
    struct scim_projection *proj = NULL;
    struct store_tx *tx = NULL;
    struct collect c = { 0 };
    struct buf resources;
    buf_init(&resources, 0);
    enum status rc = OK;

    if (q->filter && (rc = scim_filter_parse(q->filter, &filter, err)) == OK)
        rc = scim_filter_bind(filter, user_rt, err);
    if (rc == OK)
        rc = scim_projection_parse(user_rt, q->attributes, q->excluded, &proj, err);
    struct scim_attr_ref ref = { 0 };
    enum store_sort order = STORE_SORT_NONE;
    bool memory_sort = false;
    if (rc == OK)
        rc = plan_sort(q->sort_by, &order, &ref, &memory_sort, err);
    struct directory_cursor cur;
    if (rc == OK)
        rc = directory_cursor_begin(dir, conn, user_rt, q, filter, &cur, err);
    if (rc != OK)
        goto done;
    if (cur.active) {
        rc = directory_cursor_list(dir, conn, q, &cur, filter, proj, search_users, out);
        goto done;
    }

    size_t offset = q->start_index > 0 ? q->start_index - 1 : 0;
    struct store_search search = {
        .tenant_id = conn->tenant_id,
        .idp_id = conn->idp_id,
        .filter = filter,
        .sort = order,
        .descending = q->descending,
        /* an in-memory sort needs every match; otherwise only the page */
        .offset = memory_sort ? 0 : offset,
        .limit = memory_sort ? SIZE_MAX : q->count,
    };
    c.sort = memory_sort ? &ref : NULL;
    c.project = proj != NULL || memory_sort;
    c.texts = &resources;
    c.filter = filter;
    struct store_search_result res = { 0 };
    c.res = &res;
    if ((rc = directory_read_begin(dir, conn, &tx)) != OK)
        goto done;
    c.tx = tx;
    c.conn = conn;
    rc = store_idp_user_search(tx, &search, collect_row, &c, &res);
    directory_read_end(conn, tx);
    if (rc != OK)
        goto done;

    size_t total, shown;
    if (res.exact && !memory_sort) {
        total = res.total;
        shown = proj ? c.n : c.n_texts;
        if (proj)
            rc = emit_hits(&c, 0, c.n, proj, &resources);
    } else {
        if (memory_sort) {
            struct sort_order o = { &ref, q->descending };
            qsort_r(c.hits, c.n, sizeof(*c.hits), compare_hits, &o);
        }
        total = c.n;
        size_t from = offset < c.n ? offset : c.n;
        size_t to = from + q->count < c.n ? from + q->count : c.n;
        shown = to - from;
        rc = emit_hits(&c, from, to, proj, &resources);
    }
    if (rc != OK)
        goto done;

    rc = directory_list_text(total, offset + 1, shown, &resources, out);

done:
    if (rc != OK && err->status != rc)
        scim_error_set(err, rc,
                       rc == ERR_UNAVAILABLE ? "the directory is busy; retry the request"
                                             : "could not list users");
    free_hits(&c);
    buf_release(&resources);
    scim_projection_free(proj);
    scim_filter_free(filter);
    return rc == OK ? OK : err->status;
}
