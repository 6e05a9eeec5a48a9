/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mirror.c - attribute mirroring: the fixed columns of an IdP row, and the
 * per-tenant mapping (custom fields, rules per tenant and per connection)
 * that derives a canonical user's fields from its IdP rows.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/str.h"
#include "directory/mirror.h"
#include "scim/schema.h"

static const char *string_at(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Primary email, else the first of type work, else the first. */
static const char *pick_email(const json_t *emails)
{
    const char *work = NULL, *first = NULL;
    size_t i;
    const json_t *e;
    json_array_foreach(emails, i, e)
    {
        const char *value = string_at(e, "value");
        if (value == NULL)
            continue;
        if (json_is_true(json_object_get(e, "primary")))
            return value;
        const char *type = string_at(e, "type");
        if (work == NULL && type && str_ieq(type, "work"))
            work = value;
        if (first == NULL)
            first = value;
    }
    return work ? work : first;
}

void mirror_read(const json_t *doc, struct mirror *m)
{
    memset(m, 0, sizeof(*m));
    m->user_name = string_at(doc, "userName");
    m->external_id = string_at(doc, "externalId");
    const json_t *name = json_object_get(doc, "name");
    m->given_name = string_at(name, "givenName");
    m->family_name = string_at(name, "familyName");
    m->display_name = string_at(doc, "displayName");
    const json_t *active = json_object_get(doc, "active");
    m->active = active == NULL || json_is_true(active);
    const json_t *emails = json_object_get(doc, "emails");
    m->email = pick_email(emails);
    size_t i;
    const json_t *e;
    json_array_foreach(emails, i, e)
    {
        const char *value = string_at(e, "value");
        if (value && m->n_emails < MIRROR_MAX_EMAILS)
            m->emails[m->n_emails++] = value;
    }
    /* Okta and Entra often send the address only as userName */
    if (m->email == NULL && mirror_looks_like_email(m->user_name))
        m->email = m->user_name;
}

static enum status replace(char **field, const char *value)
{
    char *copy = NULL;
    if (value && (copy = str_dup(value)) == NULL)
        return ERR_NOMEM;
    free(*field);
    *field = copy;
    return OK;
}

enum status mirror_apply(const struct mirror *m, struct store_user *u)
{
    if (replace(&u->username, m->user_name) != OK || replace(&u->email, m->email) != OK ||
        replace(&u->given_name, m->given_name) != OK ||
        replace(&u->family_name, m->family_name) != OK ||
        replace(&u->display_name, m->display_name) != OK)
        return ERR_NOMEM;
    return OK;
}

bool mirror_looks_like_email(const char *s)
{
    if (s == NULL)
        return false;
    const char *at = strchr(s, '@');
    return at && at != s && at[1] != '\0';
}

/* ---- per-tenant mapping ----------------------------------------------------------------- */

/* clang-format off */
const char *const mirror_core_fields[] = {
    "username", "email", "given_name", "family_name", "display_name", NULL,
};
static const char *const core_defaults[] = {
    "userName", "emails.value", "name.givenName", "name.familyName", "displayName",
};
/* clang-format on */

static enum status add_field(void *ctx, const struct store_field *f)
{
    struct mirror_config *c = ctx;
    if (c->n_fields < MIRROR_MAX_CUSTOM_FIELDS)
        c->fields[c->n_fields++] = *f;
    return OK;
}

static enum status add_rule(void *ctx, const struct store_mirror_rule *r)
{
    struct mirror_config *c = ctx;
    if (c->n_rules == c->alloc_rules) {
        size_t alloc = c->alloc_rules ? 2 * c->alloc_rules : 8;
        struct store_mirror_rule *more = realloc(c->rules, alloc * sizeof(*more));
        if (more == NULL)
            return ERR_NOMEM;
        c->rules = more;
        c->alloc_rules = alloc;
    }
    c->rules[c->n_rules++] = *r;
    return OK;
}

enum status mirror_config_load(struct store_tx *tx, const char *tenant_id, struct mirror_config *c)
{
    memset(c, 0, sizeof(*c));
    enum status rc = store_mirror_config_each(tx, tenant_id, add_field, add_rule, c);
    if (rc != OK)
        mirror_config_release(c);
    return rc;
}

void mirror_config_release(struct mirror_config *c)
{
    free(c->rules);
    c->rules = NULL;
    c->n_rules = c->alloc_rules = 0;
}

bool mirror_config_has_field(const struct mirror_config *c, const char *name, const char **type)
{
    for (size_t i = 0; mirror_core_fields[i]; i++) {
        if (strcmp(mirror_core_fields[i], name) == 0) {
            *type = "string";
            return true;
        }
    }
    for (size_t i = 0; i < c->n_fields; i++) {
        if (strcmp(c->fields[i].name, name) == 0) {
            *type = c->fields[i].type;
            return true;
        }
    }
    return false;
}

/* The rule for field of connection idp_id ("" tenant-wide), or NULL. */
static const struct store_mirror_rule *rule_of(const struct mirror_config *c, const char *idp_id,
                                               const char *field)
{
    for (size_t i = 0; i < c->n_rules; i++) {
        if (strcmp(c->rules[i].idp_id, idp_id) == 0 && strcmp(c->rules[i].field, field) == 0)
            return &c->rules[i];
    }
    return NULL;
}

static struct mirror_entry entry_for(const struct mirror_config *c, const char *idp_id,
                                     const char *field, const char *type, const char *fallback)
{
    struct mirror_entry e = { field, type, fallback, "default" };
    const struct store_mirror_rule *r = rule_of(c, "", field);
    if (r != NULL) {
        e.path = r->path;
        e.source = "tenant";
    }
    if (idp_id != NULL && idp_id[0] && (r = rule_of(c, idp_id, field)) != NULL) {
        e.path = r->path;
        e.source = "idp";
    }
    return e;
}

void mirror_config_map(const struct mirror_config *c, const char *idp_id, struct mirror_entry *out,
                       size_t *n)
{
    size_t k = 0;
    for (size_t i = 0; mirror_core_fields[i]; i++)
        out[k++] = entry_for(c, idp_id, mirror_core_fields[i], "string", core_defaults[i]);
    for (size_t i = 0; i < c->n_fields; i++)
        out[k++] = entry_for(c, idp_id, c->fields[i].name, c->fields[i].type, "");
    *n = k;
}

/* ---- reading a path out of a stored resource -------------------------------------------- */

static const json_t *get_ci(const json_t *obj, const char *key, size_t key_len)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        if (strlen(k) == key_len && str_ieqn(k, key, key_len))
            return v;
    }
    return NULL;
}

/* Of a multi-valued attribute: the primary value, else the first of type
 * work, else the first (emails.value's rule, for every such path). */
static const json_t *pick_value(const json_t *arr)
{
    const json_t *work = NULL, *first = NULL;
    size_t i;
    const json_t *e;
    json_array_foreach(arr, i, e)
    {
        if (!json_is_object(e))
            continue;
        if (json_is_true(json_object_get(e, "primary")))
            return e;
        const char *type = string_at(e, "type");
        if (work == NULL && type && str_ieq(type, "work"))
            work = e;
        if (first == NULL)
            first = e;
    }
    return work ? work : first;
}

/* The value at path ("attr", "attr.sub", "urn:...:attr[.sub]") of doc, or NULL. */
static const json_t *value_at(const json_t *doc, const char *path)
{
    const json_t *container = doc;
    const char *rest = path;
    if (str_istarts(path, "urn:")) {
        const char *colon = strrchr(path, ':');
        size_t urn_len = (size_t)(colon - path);
        rest = colon + 1;
        if (!(urn_len == strlen(SCIM_SCHEMA_USER) && str_ieqn(path, SCIM_SCHEMA_USER, urn_len)))
            container = get_ci(doc, path, urn_len);
    }
    const char *dot = strchr(rest, '.');
    const json_t *v = get_ci(container, rest, dot ? (size_t)(dot - rest) : strlen(rest));
    if (dot == NULL || v == NULL)
        return v;
    if (json_is_array(v))
        v = pick_value(v);
    return get_ci(v, dot + 1, strlen(dot + 1));
}

/* v as a value of a field of type (string, integer, boolean), new reference or NULL. */
static json_t *typed_value(const json_t *v, const char *type)
{
    if (v == NULL || json_is_null(v) || json_is_object(v) || json_is_array(v))
        return NULL;
    if (strcmp(type, "integer") == 0) {
        if (json_is_integer(v))
            return json_deep_copy(v);
        long n;
        return json_is_string(v) && str_to_long(json_string_value(v), LONG_MIN, LONG_MAX, &n)
                   ? json_integer(n)
                   : NULL;
    }
    if (strcmp(type, "boolean") == 0) {
        if (json_is_boolean(v))
            return json_deep_copy(v);
        const char *s = json_string_value(v);
        return s && str_ieq(s, "true")    ? json_true()
               : s && str_ieq(s, "false") ? json_false()
                                          : NULL;
    }
    if (json_is_string(v))
        return json_deep_copy(v);
    char *text = json_dumps(v, JSON_ENCODE_ANY);
    json_t *s = text ? json_string(text) : NULL;
    free(text);
    return s;
}

/* ---- derivation ------------------------------------------------------------------------- */

struct derive_row {
    char idp_id[STORE_ID_LEN];
    char updated_at[STORE_TIME_LEN];
    bool last;
    json_t *doc;
};

struct derive_rows {
    struct derive_row *rows;
    size_t n, alloc;
    const char *last_idp;
};

static enum status collect_row(void *ctx, const struct store_idp_user *r)
{
    struct derive_rows *d = ctx;
    struct derive_row *more = array_room(d->rows, d->n, &d->alloc, sizeof(*more), 4);
    if (more == NULL)
        return ERR_NOMEM;
    d->rows = more;
    struct derive_row *row = &d->rows[d->n];
    str_copy(row->idp_id, sizeof(row->idp_id), r->idp_id);
    str_copy(row->updated_at, sizeof(row->updated_at), r->updated_at);
    row->last = d->last_idp && strcmp(d->last_idp, r->idp_id) == 0;
    row->doc = json_loads(r->doc ? r->doc : "", 0, NULL);
    if (row->doc == NULL)
        return ERR_STORE;
    d->n++;
    return OK;
}

static int compare_rows(const void *a, const void *b)
{
    const struct derive_row *x = a, *y = b;
    if (x->last != y->last)
        return x->last ? 1 : -1;
    int c = strcmp(x->updated_at, y->updated_at);
    return c ? c : strcmp(x->idp_id, y->idp_id);
}

static void rows_release(struct derive_rows *d)
{
    for (size_t i = 0; i < d->n; i++)
        json_decref(d->rows[i].doc);
    free(d->rows);
}

/* The derived values: core strings (owned), custom values and their source. */
struct derived {
    char *core[MIRROR_CORE_FIELDS];
    json_t *custom[MIRROR_MAX_CUSTOM_FIELDS];
    const char *custom_idp[MIRROR_MAX_CUSTOM_FIELDS];
};

static void derived_release(struct derived *d)
{
    for (size_t i = 0; i < MIRROR_CORE_FIELDS; i++)
        free(d->core[i]);
    for (size_t i = 0; i < MIRROR_MAX_CUSTOM_FIELDS; i++)
        json_decref(d->custom[i]);
}

/* Apply one row's mapping over d. */
static enum status apply_row(const struct mirror_config *c, const struct derive_row *row,
                             struct derived *d)
{
    struct mirror_entry map[MIRROR_MAX_FIELDS];
    size_t n;
    mirror_config_map(c, row->idp_id, map, &n);
    for (size_t i = 0; i < n; i++) {
        if (i >= MIRROR_CORE_FIELDS && map[i].path[0] == '\0')
            continue; /* a custom field nothing feeds on this connection */
        json_t *v = typed_value(value_at(row->doc, map[i].path), map[i].type);
        if (i < MIRROR_CORE_FIELDS) {
            free(d->core[i]);
            d->core[i] = v ? str_dup(json_string_value(v)) : NULL;
            bool lost = v != NULL && d->core[i] == NULL;
            json_decref(v);
            if (lost)
                return ERR_NOMEM;
        } else {
            size_t k = i - MIRROR_CORE_FIELDS;
            json_decref(d->custom[k]);
            d->custom[k] = v;
            d->custom_idp[k] = row->idp_id;
        }
    }
    /* Okta and Entra often send the address only as userName */
    const char *user_name = string_at(row->doc, "userName");
    if (d->core[1] == NULL && mirror_looks_like_email(user_name) &&
        (d->core[1] = str_dup(user_name)) == NULL)
        return ERR_NOMEM;
    return OK;
}

static bool same_text(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static enum status old_field(void *ctx, const struct store_user_field *f)
{
    json_t *obj = ctx;
    return json_object_set_new(obj, f->name, json_string(f->value ? f->value : "")) == 0
               ? OK
               : ERR_NOMEM;
}

/* Write d's custom values of the user when they differ from the stored ones. */
static enum status write_custom(struct store_tx *tx, const struct mirror_config *c,
                                const struct store_user *u, const struct derived *d, bool *changed)
{
    json_t *old = json_object(), *now = json_object();
    struct store_user_field rows[MIRROR_MAX_CUSTOM_FIELDS];
    char *texts[MIRROR_MAX_CUSTOM_FIELDS] = { 0 };
    size_t n = 0;
    enum status rc = old && now ? OK : ERR_NOMEM;
    if (rc == OK)
        rc = store_user_field_each(tx, u->tenant_id, u->id, old_field, old);
    for (size_t i = 0; rc == OK && i < c->n_fields; i++) {
        if (d->custom[i] == NULL)
            continue;
        texts[n] = json_dumps(d->custom[i], JSON_ENCODE_ANY | JSON_COMPACT);
        if (texts[n] == NULL) {
            rc = ERR_NOMEM;
            break;
        }
        rows[n] = (struct store_user_field){ c->fields[i].name, texts[n], d->custom_idp[i] };
        json_object_set_new(now, c->fields[i].name, json_string(texts[n]));
        n++;
    }
    if (rc == OK && !json_equal(old, now)) {
        *changed = true;
        rc = store_user_fields_replace(tx, u->tenant_id, u->id, rows, n);
    }
    for (size_t i = 0; i < n; i++)
        free(texts[i]);
    json_decref(old);
    json_decref(now);
    return rc;
}

enum status mirror_derive(struct store_tx *tx, struct store_user *u, const char *last_idp,
                          bool *changed)
{
    bool dummy;
    if (changed == NULL)
        changed = &dummy;
    *changed = false;
    struct mirror_config c;
    struct derive_rows rows = { .last_idp = last_idp };
    struct derived d;
    memset(&d, 0, sizeof(d));
    enum status rc = mirror_config_load(tx, u->tenant_id, &c);
    if (rc != OK)
        return rc;
    if (c.n_fields == 0 && c.n_rules == 0 && last_idp != NULL)
        goto done; /* the defaults: the writer's mirror_apply already did it */
    rc = store_idp_user_each_of_user(tx, u->tenant_id, u->id, collect_row, &rows);
    if (rc != OK || rows.n == 0)
        goto done;
    qsort(rows.rows, rows.n, sizeof(*rows.rows), compare_rows);
    for (size_t i = 0; rc == OK && i < rows.n; i++)
        rc = apply_row(&c, &rows.rows[i], &d);
    if (rc != OK)
        goto done;
    char **fields[MIRROR_CORE_FIELDS] = { &u->username, &u->email, &u->given_name, &u->family_name,
                                          &u->display_name };
    for (size_t i = 0; i < MIRROR_CORE_FIELDS; i++) {
        if (same_text(*fields[i], d.core[i]))
            continue;
        *changed = true;
        free(*fields[i]);
        *fields[i] = d.core[i]; /* moved */
        d.core[i] = NULL;
    }
    if (c.n_fields > 0)
        rc = write_custom(tx, &c, u, &d, changed);
done:
    derived_release(&d);
    rows_release(&rows);
    mirror_config_release(&c);
    return rc;
}
