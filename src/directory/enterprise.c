/* SPDX-License-Identifier: Apache-2.0 */
/*
 * enterprise.c - this file contains the Enterprise User view of a canonical
 * user: the custom fields mirroring feeds from the enterprise extension,
 * put back under their SCIM attribute names for downstream apps.
 */
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "directory/mirror.h"
#include "directory/mirroring.h"
#include "scim/schema.h"

#define ENTERPRISE_PREFIX SCIM_SCHEMA_ENTERPRISE_USER ":"

struct enterprise_read {
    const struct mirror_config *config;
    json_t *out;
};

/* The path feeding field on connection idp_id, or NULL. */
static const char *path_of(const struct mirror_config *c, const char *idp_id, const char *field)
{
    struct mirror_entry map[MIRROR_MAX_FIELDS];
    size_t n = 0;
    mirror_config_map(c, idp_id && idp_id[0] ? idp_id : NULL, map, &n);
    for (size_t i = MIRROR_CORE_FIELDS; i < n; i++) {
        if (strcmp(map[i].field, field) == 0)
            return map[i].path;
    }
    return NULL;
}

/* Enterprise attributes are strings (manager's sub-attributes too): a field
 * declared integer or boolean is sent as its text. */
static json_t *as_string(json_t *v)
{
    if (json_is_string(v) || v == NULL)
        return v;
    json_t *s = NULL;
    if (json_is_integer(v) || json_is_boolean(v) || json_is_real(v)) {
        char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        s = text ? json_string(text) : NULL;
        free(text);
    }
    json_decref(v);
    return s;
}

static enum status put_enterprise_value(void *ctx, const struct store_user_field *f)
{
    struct enterprise_read *r = ctx;
    const char *path = path_of(r->config, f->idp_id, f->name);
    size_t plen = strlen(ENTERPRISE_PREFIX);
    if (path == NULL || !str_ieqn(path, ENTERPRISE_PREFIX, plen) || path[plen] == '\0')
        return OK;
    const char *attr = path + plen;
    json_t *v = as_string(json_loads(f->value ? f->value : "null", JSON_DECODE_ANY, NULL));
    if (v == NULL)
        return OK; /* null or not a scalar: nothing to send */
    const char *dot = strchr(attr, '.');
    if (dot == NULL)
        return json_object_set_new(r->out, attr, v) == 0 ? OK : ERR_NOMEM;
    /* a sub-attribute: manager.value */
    char parent[STORE_SCIM_PATH_MAX];
    size_t n = (size_t)(dot - attr);
    if (n == 0 || n >= sizeof(parent) || dot[1] == '\0') {
        json_decref(v);
        return OK;
    }
    memcpy(parent, attr, n);
    parent[n] = '\0';
    json_t *obj = json_object_get(r->out, parent);
    if (!json_is_object(obj)) {
        obj = json_object();
        if (obj == NULL || json_object_set_new(r->out, parent, obj) != 0) {
            json_decref(v);
            return ERR_NOMEM;
        }
    }
    return json_object_set_new(obj, dot + 1, v) == 0 ? OK : ERR_NOMEM;
}

enum status directory_user_enterprise(struct store_tx *tx, const struct store_user *u, json_t **out)
{
    *out = json_object();
    if (*out == NULL)
        return ERR_NOMEM;
    struct mirror_config c;
    enum status rc = mirror_config_load(tx, u->tenant_id, &c);
    if (rc == OK && c.n_fields > 0) {
        struct enterprise_read r = { &c, *out };
        rc = store_user_field_each(tx, u->tenant_id, u->id, put_enterprise_value, &r);
    }
    mirror_config_release(&c);
    if (rc != OK) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}
