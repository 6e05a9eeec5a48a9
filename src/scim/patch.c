/* SPDX-License-Identifier: Apache-2.0 */
/*
 * patch.c - this file contains the RFC 7644 §3.5.2 PATCH path parser, the
 * PatchOp message parser and the engine that applies the operations to a
 * resource document.
 *
 * The engine works on a deep copy of the resource and hands it back only
 * when every operation succeeded.  Attribute names in the document are
 * matched ignoring case and written in their canonical spelling from the
 * schema tables; extension attributes live under their schema URN key.
 * Value filters ("emails[type eq \"work\"]") are parsed, bound and evaluated
 * by filter.c: this file never interprets filter text itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scim/json.h"
#include "scim/patch.h"

#include "core/str.h"

/* Longest PATCH path accepted: a value filter plus the attribute around it. */
#define PATCH_PATH_MAX_BYTES (SCIM_FILTER_MAX_LEN + 512)
/* Longest client-supplied name quoted back in an error detail. */
#define NAME_QUOTE_MAX 64

/* clang-format off */
static const struct {
    const char *name;
    enum scim_patch_op_kind kind;
} op_names[] = {
    { "add",     SCIM_PATCH_ADD     },
    { "remove",  SCIM_PATCH_REMOVE  },
    { "replace", SCIM_PATCH_REPLACE },
};
/* clang-format on */

static enum status nomem(struct scim_error *err)
{
    return scim_error_set(err, ERR_NOMEM, "out of memory");
}

/* ---- JSON objects with case-insensitive keys ------------------------------------------ */

/* ---- path parser ------------------------------------------------------------------------ */

/* RFC 7644 ATTRNAME = ALPHA *(nameChar); a sub-attribute may also be "$ref". */
static bool valid_name(const char *s, size_t n, bool allow_dollar)
{
    if (allow_dollar && n > 0 && s[0] == '$')
        return scim_attr_name_valid(s + 1, n - 1);
    return scim_attr_name_valid(s, n);
}

/* A schema URN prefix: printable ASCII without the characters that delimit paths. */
static bool valid_urn(const char *s, size_t n)
{
    if (n <= 4)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || c == '[' || c == ']' || c == '"' || c == '\\')
            return false;
    }
    return true;
}

/* The ']' closing the '[' at open, skipping quoted strings; NULL if unbalanced or nested. */
static const char *find_close(const char *open)
{
    bool in_string = false;
    for (const char *p = open + 1; *p != '\0'; p++) {
        if (in_string) {
            if (*p == '\\' && p[1] != '\0')
                p++;
            else if (*p == '"')
                in_string = false;
        } else if (*p == '"') {
            in_string = true;
        } else if (*p == '[') {
            return NULL;
        } else if (*p == ']') {
            return p;
        }
    }
    return NULL;
}

static bool is_extension(const struct scim_resource_type *rt, const struct scim_attr_ref *ref)
{
    return ref->schema != NULL && ref->schema != rt->schema;
}

/*
 * Parse the text between the brackets as the value filter of p's attribute.
 * The filter module parses "attr[inner]" and binds it, so the inner paths
 * are bound relative to the multi-valued attribute; we keep the inner tree.
 */
static enum status parse_value_filter(const struct scim_resource_type *rt,
                                      struct scim_patch_path *p, const char *inner,
                                      size_t inner_len, struct scim_error *err)
{
    struct scim_error ferr = { OK, "" };
    struct scim_filter *root = NULL;
    enum status rc;
    struct buf text;

    if (!p->ref.attr->multi_valued)
        return scim_error_set(err, ERR_INVALID_PATH, "value filter on single-valued attribute '%s'",
                              p->ref.attr->name);
    buf_init(&text, PATCH_PATH_MAX_BYTES * 2);
    if (is_extension(rt, &p->ref)) {
        buf_puts(&text, p->ref.schema->id);
        buf_putc(&text, ':');
    }
    buf_puts(&text, p->ref.attr->name);
    buf_putc(&text, '[');
    buf_append(&text, inner, inner_len);
    buf_putc(&text, ']');
    if (text.failed) {
        buf_release(&text);
        return nomem(err);
    }
    rc = scim_filter_parse(text.data, &root, &ferr);
    buf_release(&text);
    if (rc == ERR_NOMEM)
        return nomem(err);
    if (rc != OK)
        return scim_error_set(err, ERR_INVALID_PATH, "invalid value filter in path: %s",
                              ferr.detail);
    if (root == NULL || root->op != SCIM_FILTER_VALUE_PATH || root->left == NULL) {
        scim_filter_free(root);
        return scim_error_set(err, ERR_INVALID_PATH, "invalid value filter in path");
    }
    rc = scim_filter_bind(root, rt, &ferr);
    if (rc != OK || root->path.ref.attr != p->ref.attr) {
        scim_filter_free(root);
        if (rc == ERR_NOMEM)
            return nomem(err);
        return scim_error_set(err, ERR_INVALID_PATH, "invalid value filter in path: %s",
                              ferr.detail);
    }
    p->filter = root->left;
    root->left = NULL;
    scim_filter_free(root);
    return OK;
}

/* A path that is an extension's URN alone (see patch.h). */
static enum status extension_path(const struct scim_schema *ext, struct scim_patch_path **out,
                                  struct scim_error *err)
{
    struct scim_patch_path *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return nomem(err);
    p->urn = str_dup(ext->id);
    p->attr = str_dup("");
    if (p->urn == NULL || p->attr == NULL) {
        scim_patch_path_free(p);
        return nomem(err);
    }
    p->extension = ext;
    *out = p;
    return OK;
}

enum status scim_patch_path_parse(const struct scim_resource_type *rt, const char *text,
                                  struct scim_patch_path **out, struct scim_error *err)
{
    *out = NULL;
    if (text == NULL || *text == '\0')
        return scim_error_set(err, ERR_INVALID_PATH, "empty path");
    size_t len = strlen(text);
    if (len > PATCH_PATH_MAX_BYTES)
        return scim_error_set(err, ERR_INVALID_PATH, "path longer than %d bytes",
                              PATCH_PATH_MAX_BYTES);

    /* [URN ":"] attr ["." sub]  |  [URN ":"] attr "[" valFilter "]" ["." sub] */
    const char *open = strchr(text, '[');
    const char *close = NULL;
    const char *head_end = open ? open : text + len;
    const char *sub = NULL;
    size_t sub_len = 0;
    if (open != NULL) {
        close = find_close(open);
        if (close == NULL)
            return scim_error_set(err, ERR_INVALID_PATH, "unbalanced '[' in path");
        if (close[1] == '.') {
            sub = close + 2;
            sub_len = strlen(sub);
        } else if (close[1] != '\0') {
            return scim_error_set(err, ERR_INVALID_PATH, "unexpected text after ']' in path");
        }
    } else if (strchr(text, ']') != NULL) {
        return scim_error_set(err, ERR_INVALID_PATH, "unbalanced ']' in path");
    }

    if (open == NULL && str_istarts(text, "urn:")) {
        /* the URN of a schema alone: an extension's object, or a mistake */
        const struct scim_schema *ext = scim_resource_find_extension(rt, text);
        if (ext != NULL)
            return extension_path(ext, out, err);
        if (str_ieq(text, rt->schema->id))
            return scim_error_set(err, ERR_INVALID_PATH,
                                  "path '%s' is the core schema, not an attribute: name an "
                                  "attribute, or send no path to write the resource itself",
                                  rt->schema->id);
    }
    const char *name = text;
    size_t urn_len = 0;
    if (str_istarts(text, "urn:")) {
        const char *colon = NULL;
        for (const char *c = text; c < head_end; c++) {
            if (*c == ':')
                colon = c;
        }
        urn_len = (size_t)(colon - text);
        name = colon + 1;
        if (!valid_urn(text, urn_len))
            return scim_error_set(err, ERR_INVALID_PATH, "bad schema URN in path");
    }
    const char *dot = memchr(name, '.', (size_t)(head_end - name));
    size_t attr_len = dot ? (size_t)(dot - name) : (size_t)(head_end - name);
    if (dot != NULL) {
        if (open != NULL)
            return scim_error_set(err, ERR_INVALID_PATH, "sub-attribute before '[' in path");
        sub = dot + 1;
        sub_len = (size_t)(head_end - sub);
    }
    if (!valid_name(name, attr_len, false))
        return scim_error_set(err, ERR_INVALID_PATH, "bad attribute name in path");
    if (sub != NULL && !valid_name(sub, sub_len, true))
        return scim_error_set(err, ERR_INVALID_PATH, "bad sub-attribute name in path");

    struct scim_patch_path *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return nomem(err);
    p->urn = urn_len ? str_ndup(text, urn_len) : NULL;
    p->attr = str_ndup(name, attr_len);
    p->sub = sub ? str_ndup(sub, sub_len) : NULL;
    if ((urn_len && p->urn == NULL) || p->attr == NULL || (sub && p->sub == NULL)) {
        scim_patch_path_free(p);
        return nomem(err);
    }

    /* resolve "[urn:]attr[.sub]" without the filter */
    struct buf plain;
    buf_init(&plain, PATCH_PATH_MAX_BYTES * 2);
    if (p->urn != NULL) {
        buf_puts(&plain, p->urn);
        buf_putc(&plain, ':');
    }
    buf_puts(&plain, p->attr);
    if (p->sub != NULL) {
        buf_putc(&plain, '.');
        buf_puts(&plain, p->sub);
    }
    if (plain.failed) {
        buf_release(&plain);
        scim_patch_path_free(p);
        return nomem(err);
    }
    enum status rc = scim_schema_resolve(rt, plain.data, &p->ref, err);
    buf_release(&plain);
    if (rc != OK) {
        scim_patch_path_free(p);
        return rc; /* ERR_INVALID_PATH naming the attribute */
    }
    if (open != NULL) {
        rc = parse_value_filter(rt, p, open + 1, (size_t)(close - open - 1), err);
        if (rc != OK) {
            scim_patch_path_free(p);
            return rc;
        }
    }
    *out = p;
    return OK;
}

void scim_patch_path_free(struct scim_patch_path *p)
{
    if (p == NULL)
        return;
    free(p->urn);
    free(p->attr);
    free(p->sub);
    scim_filter_free(p->filter);
    free(p);
}

/* ---- message parser --------------------------------------------------------------------- */

static bool lists_patch_op(const json_t *schemas)
{
    size_t i;
    json_t *s;
    json_array_foreach(schemas, i, s)
    {
        if (json_is_string(s) && str_ieq(json_string_value(s), SCIM_SCHEMA_PATCH_OP))
            return true;
    }
    return false;
}

/*
 * Parse operation number index (1-based in messages).  Structural keys
 * ("op", "path", "value") are matched ignoring case: Entra's own guidance
 * says not to require case-sensitive structural elements.
 */
static enum status parse_op(const struct scim_resource_type *rt, const json_t *jop, size_t index,
                            struct scim_patch_op *op, struct scim_error *err)
{
    if (!json_is_object(jop))
        return scim_error_set(err, ERR_INVALID_SYNTAX, "operation %zu is not an object", index);
    const json_t *jkind = scim_json_iget(jop, "op");
    if (!json_is_string(jkind))
        return scim_error_set(err, ERR_INVALID_SYNTAX, "operation %zu has no \"op\" string", index);
    size_t k;
    for (k = 0; k < sizeof(op_names) / sizeof(op_names[0]); k++) {
        if (str_ieq(json_string_value(jkind), op_names[k].name))
            break;
    }
    if (k == sizeof(op_names) / sizeof(op_names[0]))
        return scim_error_set(err, ERR_INVALID_SYNTAX, "operation %zu: unsupported op '%.*s'",
                              index, NAME_QUOTE_MAX, json_string_value(jkind));
    op->kind = op_names[k].kind;

    const json_t *jpath = scim_json_iget(jop, "path");
    if (jpath != NULL && !json_is_null(jpath)) {
        if (!json_is_string(jpath) || strlen(json_string_value(jpath)) != json_string_length(jpath))
            return scim_error_set(err, ERR_INVALID_PATH, "operation %zu: path must be a string",
                                  index);
        enum status rc = scim_patch_path_parse(rt, json_string_value(jpath), &op->path, err);
        if (rc != OK)
            return rc;
    }

    const json_t *jval = scim_json_iget(jop, "value");
    const struct scim_schema *ext = op->path ? op->path->extension : NULL;
    if (op->kind == SCIM_PATCH_REMOVE) {
        if (op->path == NULL)
            return scim_error_set(err, ERR_NO_TARGET, "operation %zu: remove needs a path", index);
        if (ext != NULL)
            return OK; /* every attribute of the extension goes */
        /*
         * A value on remove is not RFC 7644.  scim_quirks_patch turns the
         * shapes clients really send (Entra's members list) into filters; any
         * other value on a whole multi-valued attribute is refused rather
         * than read as "remove them all".
         */
        if (jval != NULL && !json_is_null(jval) && op->path->ref.attr->multi_valued &&
            op->path->filter == NULL && op->path->ref.sub == NULL)
            return scim_error_set(err, ERR_INVALID_VALUE,
                                  "operation %zu: remove of '%s' with a value it cannot use", index,
                                  op->path->ref.attr->name);
        return OK;
    }
    if (jval == NULL)
        return scim_error_set(err, ERR_INVALID_VALUE, "operation %zu: %s needs a value", index,
                              op_names[k].name);
    if (json_is_null(jval) && op->kind == SCIM_PATCH_ADD)
        return scim_error_set(err, ERR_INVALID_VALUE, "operation %zu: add of a null value", index);
    if (op->path == NULL && !json_is_object(jval))
        return scim_error_set(err, ERR_INVALID_VALUE,
                              "operation %zu: value must be an object when there is no path",
                              index);
    if (ext != NULL && !json_is_object(jval) && !json_is_null(jval))
        return scim_error_set(err, ERR_INVALID_VALUE,
                              "operation %zu: path '%s' is the extension itself; its value must be "
                              "an object of the extension's attributes, e.g. {\"%s\": ...}",
                              index, ext->id, ext->attrs[0].name ? ext->attrs[0].name : "name");
    op->value = json_deep_copy(jval);
    if (op->value == NULL)
        return nomem(err);
    return OK;
}

enum status scim_patch_parse(const struct scim_resource_type *rt, const json_t *body,
                             struct scim_patch **out, struct scim_error *err)
{
    *out = NULL;
    if (!json_is_object(body))
        return scim_error_set(err, ERR_INVALID_SYNTAX, "PatchOp message must be an object");
    const json_t *schemas = scim_json_iget(body, "schemas");
    if (!json_is_array(schemas) || !lists_patch_op(schemas))
        return scim_error_set(err, ERR_INVALID_SYNTAX, "\"schemas\" must list %s",
                              SCIM_SCHEMA_PATCH_OP);
    const json_t *ops = scim_json_iget(body, "Operations");
    if (!json_is_array(ops))
        return scim_error_set(err, ERR_INVALID_SYNTAX, "\"Operations\" must be an array");
    size_t n = json_array_size(ops);
    if (n == 0)
        return scim_error_set(err, ERR_INVALID_SYNTAX, "\"Operations\" is empty");
    if (n > SCIM_PATCH_MAX_OPS)
        return scim_error_set(err, ERR_TOO_MANY, "more than %d operations", SCIM_PATCH_MAX_OPS);

    struct scim_patch *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return nomem(err);
    p->ops = calloc(n, sizeof(*p->ops));
    if (p->ops == NULL) {
        free(p);
        return nomem(err);
    }
    p->n_ops = n;
    for (size_t i = 0; i < n; i++) {
        enum status rc = parse_op(rt, json_array_get(ops, i), i + 1, &p->ops[i], err);
        if (rc != OK) {
            scim_patch_free(p);
            return rc;
        }
    }
    *out = p;
    return OK;
}

void scim_patch_free(struct scim_patch *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n_ops; i++) {
        scim_patch_path_free(p->ops[i].path);
        json_decref(p->ops[i].value);
    }
    free(p->ops);
    free(p);
}

/* ---- engine ------------------------------------------------------------------------------ */

struct engine {
    const struct scim_resource_type *rt;
    json_t *doc;          /* the working copy */
    json_t *last_primary; /* element this operation last wrote with primary=true */
    struct scim_error *err;
    size_t op; /* 1-based number of the operation being applied, for messages */
};

/*
 * Attributes whose absence has a meaning of its own, so unassigning one
 * (remove, or replace with null) would silently change the resource: a User
 * without "active" reads as active, so removing it would reactivate a
 * deactivated user.  Refused with invalidValue.
 */
/* clang-format off */
static const struct { const char *schema, *attr, *instead; } keep_assigned[] = {
    { SCIM_SCHEMA_USER, "active", "replace it with true or false" },
};
/* clang-format on */

static enum status refuse_unassign(struct engine *e, const struct scim_attr_ref *ref)
{
    if (ref->sub != NULL)
        return OK;
    for (size_t i = 0; i < sizeof(keep_assigned) / sizeof(keep_assigned[0]); i++) {
        if (str_ieq(ref->schema->id, keep_assigned[i].schema) &&
            str_ieq(ref->attr->name, keep_assigned[i].attr))
            return scim_error_set(e->err, ERR_INVALID_VALUE,
                                  "operation %zu: '%s' cannot be removed or set to null; %s", e->op,
                                  ref->attr->name, keep_assigned[i].instead);
    }
    return OK;
}

/* Never written by a client: readOnly is ignored (RFC 7644 §3.5.2), writeOnly never stored. */
static bool ignored(const struct scim_attr *a)
{
    return a->mutability == SCIM_MUT_READ_ONLY || a->mutability == SCIM_MUT_WRITE_ONLY ||
           a->returned == SCIM_RET_NEVER;
}

static bool is_primary(const json_t *el)
{
    return json_is_object(el) && json_is_true(scim_json_iget(el, "primary"));
}

static void note_written(struct engine *e, json_t *el)
{
    if (is_primary(el))
        e->last_primary = el;
}

/*
 * A copy of one value of attr (an element, for a multi-valued attribute):
 * sub-attribute keys in canonical spelling, null members dropped (null means
 * unassigned, RFC 7643 §2.5).  NULL on allocation failure.
 */
static json_t *copy_value(const struct scim_attr *attr, const json_t *v)
{
    if (!json_is_object(v) || attr->type != SCIM_TYPE_COMPLEX)
        return json_deep_copy(v);
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x)
    {
        if (json_is_null(x))
            continue;
        const struct scim_attr *sub = scim_attr_find_sub(attr, k);
        if (scim_json_iset(o, sub ? sub->name : k, json_deep_copy(x)) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* The elements v gives a multi-valued attr: an array's elements, or v itself as one element. */
static json_t *new_elements(const struct scim_attr *attr, const json_t *v)
{
    json_t *arr = json_array();
    if (arr == NULL)
        return NULL;
    size_t n = json_is_array(v) ? json_array_size(v) : 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *el = json_is_array(v) ? json_array_get(v, i) : v;
        if (json_is_null(el))
            continue;
        json_t *c = copy_value(attr, el);
        if (c == NULL) {
            json_decref(arr);
            return NULL;
        }
        if (json_is_object(c) && json_object_size(c) == 0) {
            json_decref(c); /* {"$ref": null} is no element at all */
            continue;
        }
        if (json_array_append_new(arr, c) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static bool array_contains(const json_t *arr, const json_t *v)
{
    size_t i;
    json_t *el;
    json_array_foreach(arr, i, el)
    {
        if (json_equal(el, v))
            return true;
    }
    return false;
}

/* Merge the sub-attributes of object v into object target (null removes). */
static int merge_subs(const struct scim_attr *attr, json_t *target, const json_t *v)
{
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x)
    {
        const struct scim_attr *sub = scim_attr_find_sub(attr, k);
        if (sub != NULL && ignored(sub))
            continue;
        const char *name = sub ? sub->name : k;
        if (json_is_null(x)) {
            scim_json_idel(target, name);
            continue;
        }
        if (scim_json_iset(target, name, json_deep_copy(x)) != 0)
            return -1;
    }
    return 0;
}

/*
 * RFC 7643: primary=true appears at most once.  Keep the element this
 * operation last set (or, if it set none, the last one in the array).
 */
static int fix_primary(struct engine *e, const struct scim_attr *attr, json_t *arr)
{
    const struct scim_attr *p = scim_attr_find_sub(attr, "primary");
    if (p == NULL || p->type != SCIM_TYPE_BOOLEAN)
        return 0;
    size_t n = 0, i;
    json_t *el, *last = NULL;
    bool noted_present = false;
    json_array_foreach(arr, i, el)
    {
        if (!is_primary(el))
            continue;
        n++;
        last = el;
        if (el == e->last_primary)
            noted_present = true;
    }
    if (n <= 1)
        return 0;
    json_t *keep = noted_present ? e->last_primary : last;
    json_array_foreach(arr, i, el)
    {
        if (el != keep && is_primary(el) && scim_json_iset(el, p->name, json_false()) != 0)
            return -1;
    }
    return 0;
}

/* Add the extension URN to doc["schemas"] if it is not listed. */
static int list_schema(struct engine *e, const char *urn)
{
    json_t *schemas = scim_json_iget(e->doc, "schemas");
    if (!json_is_array(schemas)) {
        schemas = json_array();
        if (scim_json_iset(e->doc, "schemas", schemas) != 0 ||
            json_array_append_new(schemas, json_string(e->rt->schema->id)) != 0)
            return -1;
    }
    size_t i;
    json_t *s;
    json_array_foreach(schemas, i, s)
    {
        if (json_is_string(s) && str_ieq(json_string_value(s), urn))
            return 0;
    }
    return json_array_append_new(schemas, json_string(urn));
}

static void unlist_schema(struct engine *e, const char *urn)
{
    json_t *schemas = scim_json_iget(e->doc, "schemas");
    for (size_t i = json_array_size(schemas); i-- > 0;) {
        json_t *s = json_array_get(schemas, i);
        if (json_is_string(s) && str_ieq(json_string_value(s), urn))
            json_array_remove(schemas, i);
    }
}

/*
 * The object holding ref's attribute: the document itself for core and
 * common attributes, doc[URN] for extension attributes (created, and listed
 * in "schemas", when create is set).  NULL if absent, or on allocation
 * failure when create is set.
 */
static json_t *container(struct engine *e, const struct scim_attr_ref *ref, bool create)
{
    if (!is_extension(e->rt, ref))
        return e->doc;
    json_t *c = scim_json_iget(e->doc, ref->schema->id);
    if (json_is_object(c))
        return c;
    if (!create)
        return NULL;
    c = json_object();
    if (scim_json_iset(e->doc, ref->schema->id, c) != 0 || list_schema(e, ref->schema->id) != 0)
        return NULL;
    return c;
}

/* Drop what an operation left empty: [] and {} are unassigned, and so is an empty extension. */
static void tidy(struct engine *e, const struct scim_attr_ref *ref, json_t *c)
{
    json_t *v = scim_json_iget(c, ref->attr->name);
    if ((json_is_array(v) && json_array_size(v) == 0) ||
        (json_is_object(v) && json_object_size(v) == 0))
        scim_json_idel(c, ref->attr->name);
    if (is_extension(e->rt, ref) && json_object_size(c) == 0) {
        scim_json_idel(e->doc, ref->schema->id);
        unlist_schema(e, ref->schema->id);
    }
}

/* Remove the elements of arr that are empty objects: an element with nothing left is unassigned. */
static void drop_empty(json_t *arr)
{
    for (size_t i = json_array_size(arr); i-- > 0;) {
        json_t *el = json_array_get(arr, i);
        if (json_is_object(el) && json_object_size(el) == 0)
            json_array_remove(arr, i);
    }
}

/* -- value filters -- */

/*
 * Matching an element against a value filter reuses the filter evaluator:
 * the element is put alone into a probe document shaped like the resource
 * ({attr: [el]} or {URN: {attr: [el]}}) and the VALUE_PATH node
 * attr[inner] is matched against it.
 */
struct probe {
    json_t *doc;
    json_t *arr;
    struct scim_filter node;
};

static int probe_init(struct engine *e, const struct scim_attr_ref *ref,
                      const struct scim_filter *inner, struct probe *pr)
{
    memset(pr, 0, sizeof(*pr));
    pr->doc = json_object();
    pr->arr = json_array();
    if (pr->doc == NULL || pr->arr == NULL || json_array_append_new(pr->arr, json_null()) != 0)
        return -1;
    json_t *holder = pr->doc;
    if (is_extension(e->rt, ref)) {
        holder = json_object();
        if (json_object_set_new(pr->doc, ref->schema->id, holder) != 0)
            return -1;
    }
    if (json_object_set(holder, ref->attr->name, pr->arr) != 0)
        return -1;
    pr->node.op = SCIM_FILTER_VALUE_PATH;
    pr->node.path.urn = is_extension(e->rt, ref) ? (char *)ref->schema->id : NULL;
    pr->node.path.attr = (char *)ref->attr->name;
    pr->node.path.ref.schema = ref->schema;
    pr->node.path.ref.attr = ref->attr;
    pr->node.path.bound = true;
    pr->node.left = (struct scim_filter *)inner;
    return 0;
}

static void probe_release(struct probe *pr)
{
    json_decref(pr->doc);
    json_decref(pr->arr);
}

/* Indexes of the elements of arr matching inner, ascending, in *idx (caller frees). */
static enum status find_matches(struct engine *e, const struct scim_attr_ref *ref,
                                const struct scim_filter *inner, json_t *arr, size_t **idx,
                                size_t *n)
{
    *idx = NULL;
    *n = 0;
    size_t size = json_array_size(arr);
    if (size == 0)
        return OK;
    struct probe pr;
    size_t *found = malloc(size * sizeof(*found));
    if (found == NULL || probe_init(e, ref, inner, &pr) != 0) {
        if (found != NULL)
            probe_release(&pr);
        free(found);
        return nomem(e->err);
    }
    for (size_t i = 0; i < size; i++) {
        if (json_array_set(pr.arr, 0, json_array_get(arr, i)) != 0) {
            probe_release(&pr);
            free(found);
            return nomem(e->err);
        }
        if (scim_filter_match(&pr.node, pr.doc))
            found[(*n)++] = i;
    }
    probe_release(&pr);
    *idx = found;
    return OK;
}

/*
 * Build the element a value filter describes: type eq "work" and primary eq
 * true -> {"type": "work", "primary": true}.  Only a conjunction of eq terms
 * on sub-attributes describes one; 1 if built, 0 if not, -1 on failure.
 */
static int element_from_filter(const struct scim_filter *f, json_t *el)
{
    if (f == NULL)
        return 0;
    if (f->op == SCIM_FILTER_AND) {
        int rc = element_from_filter(f->left, el);
        return rc == 1 ? element_from_filter(f->right, el) : rc;
    }
    if (f->op != SCIM_FILTER_EQ || f->path.ref.sub == NULL)
        return 0;
    const struct scim_attr *sub = f->path.ref.sub;
    json_t *v = NULL;
    switch (f->value.kind) {
    case SCIM_VALUE_STRING:
        if (f->value.str == NULL)
            return 0;
        v = json_string(f->value.str);
        break;
    case SCIM_VALUE_BOOLEAN:
        v = json_boolean(f->value.boolean);
        break;
    case SCIM_VALUE_NUMBER:
        if (sub->type == SCIM_TYPE_INTEGER && f->value.number > -9.2e18 && f->value.number < 9.2e18)
            v = json_integer((json_int_t)f->value.number);
        else
            v = json_real(f->value.number);
        break;
    default:
        return 0;
    }
    if (v == NULL)
        return 0; /* e.g. a string jansson refuses: not an element we can build */
    return scim_json_iset(el, sub->name, v) == 0 ? 1 : -1;
}

/* -- operations on one attribute -- */

/* Whole attribute: "emails", "name", "active", or one key of a no-path value. */
static enum status apply_whole(struct engine *e, enum scim_patch_op_kind kind,
                               const struct scim_attr *attr, json_t *c, const json_t *value)
{
    if (kind == SCIM_PATCH_REMOVE) {
        scim_json_idel(c, attr->name);
        return OK;
    }
    if (attr->multi_valued) {
        json_t *add = new_elements(attr, value);
        if (add == NULL)
            return nomem(e->err);
        json_t *cur = scim_json_iget(c, attr->name);
        if (kind == SCIM_PATCH_REPLACE || !json_is_array(cur)) {
            /* RFC 7644 §3.5.2.3: without a filter, all values are replaced */
            cur = json_array();
            if (scim_json_iset(c, attr->name, cur) != 0) {
                json_decref(add);
                return nomem(e->err);
            }
        }
        size_t i;
        json_t *el;
        json_array_foreach(add, i, el)
        {
            if (array_contains(cur, el))
                continue; /* RFC 7644 §3.5.2.1: already there, no change */
            if (json_array_append(cur, el) != 0) {
                json_decref(add);
                return nomem(e->err);
            }
            note_written(e, el);
        }
        json_decref(add);
        return OK;
    }
    if (attr->type == SCIM_TYPE_COMPLEX && json_is_object(value)) {
        /*
         * RFC 7644 §3.5.2.1 and §3.5.2.3: the sub-attributes given replace or
         * add; sub-attributes not given are left unchanged.
         */
        json_t *cur = scim_json_iget(c, attr->name);
        if (!json_is_object(cur)) {
            cur = json_object();
            if (scim_json_iset(c, attr->name, cur) != 0)
                return nomem(e->err);
        }
        return merge_subs(attr, cur, value) == 0 ? OK : nomem(e->err);
    }
    /* a simple value, or a value of the wrong type that validation will name */
    return scim_json_iset(c, attr->name, json_deep_copy(value)) == 0 ? OK : nomem(e->err);
}

/* "name.givenName", "manager.value", or "emails.display" (every element). */
static enum status apply_sub(struct engine *e, enum scim_patch_op_kind kind,
                             const struct scim_attr *attr, const struct scim_attr *sub, json_t *c,
                             const json_t *value)
{
    json_t *cur = scim_json_iget(c, attr->name);
    if (!attr->multi_valued) {
        if (kind == SCIM_PATCH_REMOVE) {
            if (json_is_object(cur))
                scim_json_idel(cur, sub->name);
            return OK;
        }
        if (!json_is_object(cur)) {
            cur = json_object();
            if (scim_json_iset(c, attr->name, cur) != 0)
                return nomem(e->err);
        }
        return scim_json_iset(cur, sub->name, json_deep_copy(value)) == 0 ? OK : nomem(e->err);
    }
    if (!json_is_array(cur) || json_array_size(cur) == 0) {
        if (kind == SCIM_PATCH_REMOVE)
            return OK;
        json_t *el = json_object();
        if (el == NULL || scim_json_iset(el, sub->name, json_deep_copy(value)) != 0) {
            json_decref(el);
            return nomem(e->err);
        }
        cur = json_array();
        if (json_array_append_new(cur, el) != 0) { /* frees el */
            json_decref(cur);
            return nomem(e->err);
        }
        if (scim_json_iset(c, attr->name, cur) != 0) /* frees cur */
            return nomem(e->err);
        note_written(e, el);
        return OK;
    }
    size_t i;
    json_t *el;
    json_array_foreach(cur, i, el)
    {
        if (!json_is_object(el))
            continue;
        if (kind == SCIM_PATCH_REMOVE) {
            scim_json_idel(el, sub->name);
            continue;
        }
        if (scim_json_iset(el, sub->name, json_deep_copy(value)) != 0)
            return nomem(e->err);
        note_written(e, el);
    }
    if (kind == SCIM_PATCH_REMOVE)
        drop_empty(cur);
    return OK;
}

/* attr[filter] and attr[filter].sub */
static enum status apply_filtered(struct engine *e, enum scim_patch_op_kind kind,
                                  const struct scim_attr_ref *ref, const struct scim_filter *filter,
                                  json_t *c, const json_t *value)
{
    const struct scim_attr *attr = ref->attr, *sub = ref->sub;
    json_t *cur = scim_json_iget(c, attr->name);
    size_t *idx = NULL, n = 0;
    enum status rc = OK;
    if (json_is_array(cur)) {
        rc = find_matches(e, ref, filter, cur, &idx, &n);
        if (rc != OK)
            return rc;
    }

    if (kind == SCIM_PATCH_REMOVE) {
        /* RFC 7644 §3.5.2.2: matching values (or their sub-attribute) go; none is no error */
        for (size_t i = n; i-- > 0;) {
            json_t *el = json_array_get(cur, idx[i]);
            if (sub == NULL) {
                json_array_remove(cur, idx[i]);
            } else if (json_is_object(el)) {
                scim_json_idel(el, sub->name);
                if (json_object_size(el) == 0)
                    json_array_remove(cur, idx[i]);
            }
        }
        free(idx);
        return OK;
    }

    if (n == 0) {
        free(idx);
        if (sub == NULL && kind == SCIM_PATCH_REPLACE)
            return scim_error_set(e->err, ERR_NO_TARGET, "no value of '%s' matches the filter",
                                  attr->name);
        /*
         * Nothing matches attr[filter].sub (or add to attr[filter]): create
         * the element the filter describes.  RFC 7644 §3.5.2.3 would answer
         * noTarget for replace, but Microsoft Entra sends
         * replace emails[type eq "work"].value for a user who has no work
         * email yet and expects the address to be set, so add and replace
         * both create {"type": "work", "value": ...}.
         */
        json_t *el = json_object();
        if (el == NULL)
            return nomem(e->err);
        int built = element_from_filter(filter, el);
        if (built != 1) {
            json_decref(el);
            if (built < 0)
                return nomem(e->err);
            return scim_error_set(e->err, ERR_NO_TARGET, "no value of '%s' matches the filter",
                                  attr->name);
        }
        int fail = 0;
        if (sub != NULL)
            fail = scim_json_iset(el, sub->name, json_deep_copy(value));
        else if (json_is_object(value))
            fail = merge_subs(attr, el, value);
        else {
            json_decref(el);
            return scim_error_set(e->err, ERR_INVALID_VALUE, "value for '%s' must be an object",
                                  attr->name);
        }
        if (fail == 0 && !json_is_array(cur)) {
            cur = json_array();
            fail = scim_json_iset(c, attr->name, cur);
        }
        if (fail != 0 || json_array_append(cur, el) != 0) {
            json_decref(el);
            return nomem(e->err);
        }
        note_written(e, el);
        json_decref(el);
        return OK;
    }

    for (size_t i = 0; i < n && rc == OK; i++) {
        json_t *el = json_array_get(cur, idx[i]);
        if (sub != NULL) {
            /* RFC 7644 §3.5.2.3: the sub-attribute of every matching record */
            if (!json_is_object(el))
                continue;
            if (scim_json_iset(el, sub->name, json_deep_copy(value)) != 0)
                rc = nomem(e->err);
        } else if (kind == SCIM_PATCH_ADD && json_is_object(el) && json_is_object(value)) {
            if (merge_subs(attr, el, value) != 0)
                rc = nomem(e->err);
        } else {
            /* RFC 7644 §3.5.2.3: all matching record values are replaced */
            el = copy_value(attr, value);
            if (el == NULL || json_array_set_new(cur, idx[i], el) != 0)
                rc = nomem(e->err);
        }
        if (rc == OK)
            note_written(e, el);
    }
    free(idx);
    return rc;
}

/*
 * Apply one operation to the attribute ref names, with an optional value
 * filter.  value is NULL for remove.
 */
static enum status apply_attr(struct engine *e, enum scim_patch_op_kind kind,
                              const struct scim_attr_ref *ref, const struct scim_filter *filter,
                              const json_t *value)
{
    /* readOnly targets in a request are ignored (RFC 7644 §3.5.2; id, meta, groups) */
    if (ref->attr == NULL || ignored(ref->attr) || (ref->sub != NULL && ignored(ref->sub)))
        return OK;
    if (kind != SCIM_PATCH_REMOVE && json_is_null(value)) {
        if (kind == SCIM_PATCH_ADD)
            return OK;            /* adding nothing */
        kind = SCIM_PATCH_REMOVE; /* replace with null: unassign (RFC 7643 §2.5) */
    }
    if (kind == SCIM_PATCH_REMOVE) {
        enum status refused = refuse_unassign(e, ref);
        if (refused != OK)
            return refused;
    }
    e->last_primary = NULL;
    json_t *c = container(e, ref, kind != SCIM_PATCH_REMOVE);
    if (c == NULL)
        return kind == SCIM_PATCH_REMOVE ? OK : nomem(e->err);

    enum status rc;
    if (filter != NULL)
        rc = apply_filtered(e, kind, ref, filter, c, value);
    else if (ref->sub != NULL)
        rc = apply_sub(e, kind, ref->attr, ref->sub, c, value);
    else
        rc = apply_whole(e, kind, ref->attr, c, value);
    if (rc != OK)
        return rc;

    json_t *cur = scim_json_iget(c, ref->attr->name);
    if (ref->attr->multi_valued && json_is_array(cur)) {
        if (fix_primary(e, ref->attr, cur) != 0)
            return nomem(e->err);
        drop_empty(cur);
    }
    tidy(e, ref, c);
    return OK;
}

/* A key of a no-path value naming an extension: its object holds extension attributes. */
static enum status apply_extension_value(struct engine *e, enum scim_patch_op_kind kind,
                                         const struct scim_schema *ext, const json_t *v)
{
    if (json_is_null(v)) {
        if (kind == SCIM_PATCH_REPLACE) {
            scim_json_idel(e->doc, ext->id);
            unlist_schema(e, ext->id);
        }
        return OK;
    }
    if (!json_is_object(v))
        return scim_error_set(e->err, ERR_INVALID_VALUE, "extension '%s' must be an object",
                              ext->id);
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x)
    {
        struct buf qualified;
        struct scim_attr_ref ref;
        buf_init(&qualified, 0);
        buf_printf(&qualified, "%s:%s", ext->id, k);
        if (qualified.failed) {
            buf_release(&qualified);
            return nomem(e->err);
        }
        enum status rc = scim_schema_resolve(e->rt, qualified.data, &ref, NULL);
        buf_release(&qualified);
        if (rc != OK)
            continue; /* unknown attribute: dropped, as scim_schema_validate does */
        rc = apply_attr(e, kind, &ref, NULL, x);
        if (rc != OK)
            return rc;
    }
    return OK;
}

/* A path that is an extension's URN alone: remove unassigns the whole extension; add and
 * replace write the attributes of the value object, as its URN key in a no-path value does. */
static enum status apply_extension(struct engine *e, enum scim_patch_op_kind kind,
                                   const struct scim_schema *ext, const json_t *value)
{
    if (kind == SCIM_PATCH_REMOVE) {
        scim_json_idel(e->doc, ext->id);
        unlist_schema(e, ext->id);
        return OK;
    }
    return apply_extension_value(e, kind, ext, value);
}

/* An extension scimd does not know: kept verbatim, key by key, as validation keeps it. */
static enum status apply_unknown_extension(struct engine *e, enum scim_patch_op_kind kind,
                                           const char *urn, const json_t *v)
{
    json_t *target = scim_json_iget(e->doc, urn);
    if (!json_is_object(target)) {
        target = json_object();
        if (json_object_set_new(e->doc, urn, target) != 0)
            return nomem(e->err);
    }
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x)
    {
        if (json_is_null(x)) {
            if (kind == SCIM_PATCH_REPLACE)
                json_object_del(target, k);
            continue;
        }
        if (json_object_set_new(target, k, json_deep_copy(x)) != 0)
            return nomem(e->err);
    }
    if (json_object_size(target) == 0)
        json_object_del(e->doc, urn);
    return OK;
}

/*
 * add/replace without a path (RFC 7644 §3.5.2.1, §3.5.2.3): every key of
 * the value is an attribute of the resource, applied as if it were the path.
 */
static enum status apply_no_path(struct engine *e, enum scim_patch_op_kind kind,
                                 const json_t *value, int depth)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)value, k, v)
    {
        enum status rc = OK;
        struct scim_attr_ref ref;
        const struct scim_schema *ext = scim_resource_find_extension(e->rt, k);
        if (str_ieq(k, "schemas"))
            continue;
        if (ext != NULL)
            rc = apply_extension_value(e, kind, ext, v);
        else if (str_ieq(k, e->rt->schema->id) && json_is_object(v) && depth == 0)
            rc = apply_no_path(e, kind, v, depth + 1); /* the core URN as a container */
        else if (scim_schema_resolve(e->rt, k, &ref, NULL) == OK)
            rc = apply_attr(e, kind, &ref, NULL, v);
        else if (str_istarts(k, "urn:") && json_is_object(v) && depth == 0)
            rc = apply_unknown_extension(e, kind, k, v);
        /* else: an unknown attribute, dropped as scim_schema_validate drops it */
        if (rc != OK)
            return rc;
    }
    return OK;
}

enum status scim_patch_apply(const struct scim_patch *p, const struct scim_resource_type *rt,
                             json_t **resource, struct scim_error *err)
{
    if (p == NULL || rt == NULL || resource == NULL || !json_is_object(*resource))
        return scim_error_set(err, ERR_INVALID_SYNTAX, "resource must be a JSON object");
    struct engine e = { rt, json_deep_copy(*resource), NULL, err, 0 };
    if (e.doc == NULL)
        return nomem(err);
    for (size_t i = 0; i < p->n_ops; i++) {
        const struct scim_patch_op *op = &p->ops[i];
        enum status rc;
        e.op = i + 1;
        if (op->path == NULL)
            rc = json_is_object(op->value)
                     ? apply_no_path(&e, op->kind, op->value, 0)
                     : scim_error_set(err, ERR_NO_TARGET, "operation %zu has no path", i + 1);
        else if (op->path->extension != NULL)
            rc = apply_extension(&e, op->kind, op->path->extension, op->value);
        else
            rc = apply_attr(&e, op->kind, &op->path->ref, op->path->filter, op->value);
        if (rc != OK) {
            json_decref(e.doc);
            return rc;
        }
    }
    json_decref(*resource);
    *resource = e.doc;
    return OK;
}
