/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quirks.c - this file contains the rewrites that turn the PATCH dialects of
 * real IdP clients (Microsoft Entra ID, Okta) into RFC 7644 form before
 * scim_patch_parse sees them.
 *
 * Every rewrite is driven by the schema tables: which attributes are
 * boolean, which complex attribute takes a bare "value", which extension
 * owns an attribute.  Nothing here knows attribute names.  Shapes it does
 * not recognise are left alone for the parser to judge.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scim/json.h"
#include "scim/quirks.h"

#include "scim/patch.h"

#include "core/str.h"

/* Longest attribute name looked up in the schema tables (longer ones are unknown). */
#define QUIRKS_NAME_MAX 128

static enum status nomem(struct scim_error *err)
{
    return scim_error_set(err, ERR_NOMEM, "out of memory");
}

/* ---- small JSON helpers ------------------------------------------------------------------- */

/* Spell the key of obj that equals name ignoring case exactly as name ("Op" -> "op"). */
static int canonical_key(json_t *obj, const char *name)
{
    json_t *v = scim_json_iget(obj, name);
    if (v == NULL || json_object_get(obj, name) == v)
        return 0;
    return scim_json_iset(obj, name, json_incref(v));
}

/* obj[name] as an object, created (replacing a non-object) if needed; NULL on failure. */
static json_t *child_object(json_t *obj, const char *name)
{
    json_t *c = scim_json_iget(obj, name);
    if (json_is_object(c))
        return c;
    c = json_object();
    return scim_json_iset(obj, name, c) == 0 ? c : NULL;
}

/*
 * Put v at key in obj; when both the existing member and v are objects the
 * members of v are merged in ("name" and "name.familyName" in one value).
 */
static int put_merged(json_t *obj, const char *key, json_t *v)
{
    json_t *cur = scim_json_iget(obj, key);
    if (json_is_object(cur) && json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x)
        {
            if (scim_json_iset(cur, k, json_incref(x)) != 0)
                return -1;
        }
        return 0;
    }
    return scim_json_iset(obj, key, json_incref(v));
}

/* "name.givenName" -> obj["name"]["givenName"]; a plain key is put as it is. */
static int put_dotted(json_t *obj, const char *key, json_t *v)
{
    const char *dot = strchr(key, '.');
    if (dot == NULL || dot == key || dot[1] == '\0')
        return put_merged(obj, key, v);
    char *head = str_ndup(key, (size_t)(dot - key));
    if (head == NULL)
        return -1;
    json_t *child = child_object(obj, head);
    free(head);
    return child ? put_merged(child, dot + 1, v) : -1;
}

/* ---- schema lookups ----------------------------------------------------------------------- */

/* Is name[0..len) an attribute of rt's core schema or a common attribute? */
static bool core_has(const struct scim_resource_type *rt, const char *name, size_t len)
{
    char buf[QUIRKS_NAME_MAX];
    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, name, len);
    buf[len] = '\0';
    if (scim_schema_find(rt->schema, buf) != NULL)
        return true;
    for (const struct scim_attr *a = scim_common_attrs; a->name != NULL; a++) {
        if (str_ieq(a->name, buf))
            return true;
    }
    return false;
}

/* The one extension of rt defining name[0..len) when the core schema does not; else NULL. */
static const struct scim_schema *owning_extension(const struct scim_resource_type *rt,
                                                  const char *name, size_t len)
{
    char buf[QUIRKS_NAME_MAX];
    if (len == 0 || len >= sizeof(buf) || core_has(rt, name, len))
        return NULL;
    memcpy(buf, name, len);
    buf[len] = '\0';
    const struct scim_schema *found = NULL;
    for (const struct scim_schema *const *e = rt->extensions; e && *e; e++) {
        if (scim_schema_find(*e, buf) == NULL)
            continue;
        if (found != NULL)
            return NULL; /* ambiguous: leave it to the parser */
        found = *e;
    }
    return found;
}

/* The schema (core or extension of rt) whose URN + ':' prefixes s; NULL if none. */
static const struct scim_schema *urn_prefix(const struct scim_resource_type *rt, const char *s,
                                            size_t *skip)
{
    const struct scim_schema *best = NULL;
    size_t n = strlen(rt->schema->id);
    if (str_ieqn(s, rt->schema->id, n) && s[n] == ':')
        best = rt->schema;
    for (const struct scim_schema *const *e = rt->extensions; e && *e; e++) {
        size_t m = strlen((*e)->id);
        if (str_ieqn(s, (*e)->id, m) && s[m] == ':' && (best == NULL || m > strlen(best->id)))
            best = *e;
    }
    if (best != NULL)
        *skip = strlen(best->id) + 1;
    return best;
}

/* ---- values ---------------------------------------------------------------------------------- */

static bool is_bool_word(const char *s)
{
    return str_ieq(s, "true") || str_ieq(s, "false");
}

/*
 * A normalised copy (new reference) of v as the value of attribute a:
 * whole means v is the attribute's full value (an array for multi-valued
 * attributes), otherwise one element of it.  NULL on allocation failure.
 *   - "True"/"False" strings for boolean attributes -> JSON booleans;
 *   - a bare string for a single-valued complex attribute with a "value"
 *     sub-attribute (Entra's manager) -> {"value": s};
 *   - a one-element array for a single-valued attribute (Entra's
 *     "value": [{"value": "<manager id>"}]) -> the element;
 *   - {"value": x} for a simple single-valued attribute -> x.
 */
static json_t *norm_value(const struct scim_attr *a, bool whole, json_t *v)
{
    if (whole && !a->multi_valued && json_is_array(v) && json_array_size(v) == 1)
        v = json_array_get(v, 0);
    if (whole && a->multi_valued && json_is_array(v)) {
        json_t *arr = json_array();
        size_t i;
        json_t *el;
        json_array_foreach(v, i, el)
        {
            if (json_array_append_new(arr, norm_value(a, false, el)) != 0) {
                json_decref(arr);
                return NULL;
            }
        }
        return arr;
    }
    if (!a->multi_valued && a->type != SCIM_TYPE_COMPLEX && json_is_object(v) &&
        json_object_size(v) == 1 && scim_json_iget(v, "value") != NULL)
        v = scim_json_iget(v, "value");
    if (a->type == SCIM_TYPE_BOOLEAN && json_is_string(v) && is_bool_word(json_string_value(v)))
        return json_boolean(str_ieq(json_string_value(v), "true"));
    if (a->type != SCIM_TYPE_COMPLEX)
        return json_incref(v);

    if (json_is_string(v) && json_string_length(v) > 0 && !a->multi_valued) {
        const struct scim_attr *value_sub = scim_attr_find_sub(a, "value");
        if (value_sub != NULL) {
            json_t *o = json_object();
            if (scim_json_iset(o, value_sub->name, json_incref(v)) != 0) {
                json_decref(o);
                return NULL;
            }
            return o;
        }
    }
    if (!json_is_object(v))
        return json_incref(v);
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        const struct scim_attr *sub = scim_attr_find_sub(a, k);
        if (json_object_set_new(o, k, sub ? norm_value(sub, true, x) : json_incref(x)) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* Replace obj[key] by its normalised form as a value of a. */
static int norm_member(json_t *obj, const char *key, const struct scim_attr *a)
{
    json_t *v = json_object_get(obj, key);
    json_t *n = norm_value(a, true, v);
    if (n == NULL)
        return -1;
    if (n == v) {
        json_decref(n);
        return 0;
    }
    return json_object_set_new(obj, key, n);
}

/* Normalise every known attribute of an extension object in place. */
static int norm_extension_object(const struct scim_schema *ext, json_t *obj)
{
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(obj, tmp, k, v)
    {
        const struct scim_attr *a = scim_schema_find(ext, k);
        if (a != NULL && norm_member(obj, k, a) != 0)
            return -1;
    }
    return 0;
}

/*
 * The value of an add/replace without a path, rewritten (new reference):
 *   "urn:...:core:2.0:User:userName"             -> "userName"
 *   "urn:...:enterprise:2.0:User:department"     -> value[URN]["department"]
 *   "name.givenName"                             -> value["name"]["givenName"]
 *   "manager" (only an extension has it)         -> value[URN]["manager"]
 * and then every attribute's value normalised by norm_value.
 */
static json_t *norm_no_path_value(const struct scim_resource_type *rt, json_t *value)
{
    json_t *res = json_object();
    if (res == NULL)
        return NULL;
    const char *key;
    json_t *v;
    json_object_foreach(value, key, v)
    {
        int fail;
        size_t skip = 0;
        const struct scim_schema *s = urn_prefix(rt, key, &skip);
        const struct scim_schema *ext = scim_resource_find_extension(rt, key);
        const char *k = s ? key + skip : key;
        if (ext != NULL) {
            fail = put_merged(res, ext->id, v);
        } else if (s != NULL && s != rt->schema) {
            json_t *obj = child_object(res, s->id);
            fail = obj ? put_dotted(obj, k, v) : -1;
        } else if (str_istarts(k, "urn:")) {
            fail = put_merged(res, k, v); /* the core URN itself, or an unknown extension */
        } else if ((ext = owning_extension(rt, k, strcspn(k, "."))) != NULL) {
            json_t *obj = child_object(res, ext->id);
            fail = obj ? put_dotted(obj, k, v) : -1;
        } else {
            fail = put_dotted(res, k, v);
        }
        if (fail != 0) {
            json_decref(res);
            return NULL;
        }
    }

    void *tmp;
    json_object_foreach_safe(res, tmp, key, v)
    {
        const struct scim_schema *ext = scim_resource_find_extension(rt, key);
        struct scim_attr_ref ref;
        int fail = 0;
        if (ext != NULL) {
            if (json_is_object(v))
                fail = norm_extension_object(ext, v);
        } else if (!str_istarts(key, "urn:") && scim_schema_resolve(rt, key, &ref, NULL) == OK &&
                   ref.sub == NULL) {
            fail = norm_member(res, key, ref.attr);
        }
        if (fail != 0) {
            json_decref(res);
            return NULL;
        }
    }
    return res;
}

/* ---- paths ---------------------------------------------------------------------------------- */

/*
 * The path in RFC form, or NULL if it is already (*failed on allocation
 * failure): the core schema URN prefix is stripped, and an attribute only an
 * extension defines gets that extension's URN (Entra sends "manager").
 */
static char *norm_path(const struct scim_resource_type *rt, const char *path, bool *failed)
{
    *failed = false;
    const char *p = path;
    size_t n = strlen(rt->schema->id);
    if (str_ieqn(p, rt->schema->id, n) && p[n] == ':')
        p += n + 1;
    const struct scim_schema *ext = NULL;
    if (!str_istarts(p, "urn:"))
        ext = owning_extension(rt, p, strcspn(p, ".["));
    if (ext == NULL && p == path)
        return NULL;
    struct buf b;
    buf_init(&b, 0);
    if (ext != NULL) {
        buf_puts(&b, ext->id);
        buf_putc(&b, ':');
    }
    buf_puts(&b, p);
    char *out = buf_take(&b);
    buf_release(&b);
    *failed = out == NULL;
    return out;
}

/* Append s to b as the body of a filter string literal. */
static void put_filter_string(struct buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            buf_putc(b, '\\');
            buf_putc(b, (char)c);
        } else if (c < 0x20) {
            buf_printf(b, "\\u%04x", c);
        } else {
            buf_putc(b, (char)c);
        }
    }
}

/*
 * Entra (without aadOptscim062020) removes members as
 *   {"op":"Remove","path":"members","value":[{"value":"u1091"}]}
 * which becomes one {"op":"remove","path":"members[value eq \"u1091\"]"} per
 * element.  Applies to any multi-valued complex attribute with a "value"
 * sub-attribute; every element must name its value (an object with a string
 * "value", or a bare string), else nothing is rewritten.  *done says whether
 * the replacement operations were appended to out.
 */
static enum status expand_removal(const struct scim_patch_path *pp, const char *path,
                                  const json_t *value, json_t *out, bool *done,
                                  struct scim_error *err)
{
    *done = false;
    const struct scim_attr *a = pp->ref.attr;
    if (pp->filter != NULL || pp->ref.sub != NULL || !a->multi_valued ||
        a->type != SCIM_TYPE_COMPLEX || scim_attr_find_sub(a, "value") == NULL)
        return OK;
    size_t n = json_is_array(value) ? json_array_size(value) : 1;
    if (n == 0)
        return OK;
    for (size_t i = 0; i < n; i++) {
        const json_t *el = json_is_array(value) ? json_array_get(value, i) : value;
        const json_t *id = json_is_string(el) ? el : scim_json_iget(el, "value");
        if (!json_is_string(id))
            return OK;
    }
    json_t *ops = json_array();
    if (ops == NULL)
        return nomem(err);
    for (size_t i = 0; i < n; i++) {
        const json_t *el = json_is_array(value) ? json_array_get(value, i) : value;
        const json_t *id = json_is_string(el) ? el : scim_json_iget(el, "value");
        struct buf b;
        buf_init(&b, 0);
        buf_puts(&b, path);
        buf_puts(&b, "[value eq \"");
        put_filter_string(&b, json_string_value(id), json_string_length(id));
        buf_puts(&b, "\"]");
        char *text = buf_take(&b);
        buf_release(&b);
        json_t *op = text ? json_pack("{s:s, s:s}", "op", "remove", "path", text) : NULL;
        free(text);
        if (json_array_append_new(ops, op) != 0) {
            json_decref(ops);
            return nomem(err);
        }
    }
    int fail = json_array_extend(out, ops);
    json_decref(ops);
    if (fail != 0)
        return nomem(err);
    *done = true;
    return OK;
}

/* The value of an operation with a parsed path, normalised for its target. */
static json_t *norm_target_value(const struct scim_patch_path *pp, json_t *value)
{
    if (pp->ref.sub != NULL)
        return norm_value(pp->ref.sub, true, value);
    return norm_value(pp->ref.attr, pp->filter == NULL, value);
}

/* ---- operations ---------------------------------------------------------------------------- */

/* Normalise one operation object; append it (or what replaces it) to out. */
static enum status quirk_op(const struct scim_resource_type *rt, json_t *op, json_t *out,
                            struct scim_error *err)
{
    if (canonical_key(op, "op") != 0 || canonical_key(op, "path") != 0 ||
        canonical_key(op, "value") != 0)
        return nomem(err);

    /* "Replace", "Add", "Remove" -> lowercase */
    json_t *jkind = json_object_get(op, "op");
    if (json_is_string(jkind)) {
        char *lower = str_dup(json_string_value(jkind));
        if (lower == NULL)
            return nomem(err);
        str_lower(lower);
        int fail = json_object_set_new(op, "op", json_string(lower));
        free(lower);
        if (fail != 0)
            return nomem(err);
        jkind = json_object_get(op, "op");
    }
    const char *kind = json_is_string(jkind) ? json_string_value(jkind) : "";
    bool writes = strcmp(kind, "add") == 0 || strcmp(kind, "replace") == 0;

    json_t *jpath = json_object_get(op, "path");
    if (json_is_string(jpath)) {
        bool failed;
        char *p = norm_path(rt, json_string_value(jpath), &failed);
        if (failed)
            return nomem(err);
        if (p != NULL) {
            int fail = json_object_set_new(op, "path", json_string(p));
            free(p);
            if (fail != 0)
                return nomem(err);
            jpath = json_object_get(op, "path");
        }
        /* a path naming a whole extension: its attributes are in the value */
        const struct scim_schema *ext = scim_resource_find_extension(rt, json_string_value(jpath));
        json_t *v = json_object_get(op, "value");
        if (ext != NULL && writes && json_is_object(v)) {
            json_t *wrapped = json_object();
            if (json_object_set(wrapped, ext->id, v) != 0 ||
                json_object_set_new(op, "value", wrapped) != 0)
                return nomem(err);
            json_object_del(op, "path");
            jpath = NULL;
        }
    }

    json_t *value = json_object_get(op, "value");
    if (json_is_string(jpath) && value != NULL) {
        struct scim_patch_path *pp = NULL;
        enum status rc = scim_patch_path_parse(rt, json_string_value(jpath), &pp, NULL);
        if (rc == ERR_NOMEM)
            return nomem(err);
        if (rc == OK && pp->extension != NULL) {
            scim_patch_path_free(pp); /* the extension itself: nothing to rewrite */
        } else if (rc == OK) {
            bool done = false;
            json_t *n = NULL;
            if (strcmp(kind, "remove") == 0)
                rc = expand_removal(pp, json_string_value(jpath), value, out, &done, err);
            else if (writes && (n = norm_target_value(pp, value)) == NULL)
                rc = nomem(err);
            scim_patch_path_free(pp);
            if (rc != OK || done) {
                json_decref(n);
                return rc;
            }
            if (n != NULL && json_object_set_new(op, "value", n) != 0)
                return nomem(err);
        }
    } else if (writes && (jpath == NULL || json_is_null(jpath)) && json_is_object(value)) {
        json_t *n = norm_no_path_value(rt, value);
        if (n == NULL || json_object_set_new(op, "value", n) != 0)
            return nomem(err);
    }
    return json_array_append(out, op) == 0 ? OK : nomem(err);
}

enum status scim_quirks_patch(const struct scim_resource_type *rt, json_t *body,
                              struct scim_error *err)
{
    if (rt == NULL || !json_is_object(body))
        return OK;
    if (canonical_key(body, "schemas") != 0 || canonical_key(body, "Operations") != 0)
        return nomem(err);
    json_t *ops = json_object_get(body, "Operations");
    if (!json_is_array(ops))
        return OK;
    json_t *out = json_array();
    if (out == NULL)
        return nomem(err);
    size_t i;
    json_t *op;
    json_array_foreach(ops, i, op)
    {
        enum status rc = json_is_object(op) ? quirk_op(rt, op, out, err)
                                            : (json_array_append(out, op) == 0 ? OK : nomem(err));
        if (rc != OK) {
            json_decref(out);
            return rc;
        }
    }
    if (json_object_set_new(body, "Operations", out) != 0)
        return nomem(err);
    return OK;
}
