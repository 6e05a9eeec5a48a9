/* SPDX-License-Identifier: Apache-2.0 */
/*
 * routes_config.c - the admin API's routes for what an admin configures
 * about a tenant: an IdP connection's name and kill switch, attribute
 * mirroring (tenant-wide and per connection), custom fields, extension
 * schemas and roles with the groups that grant them.  Each calls the
 * directory function its CLI command calls (src/cli/idp.c, mirror.c,
 * field.c, schema.c, role.c), so validation and audit events are the same.
 *
 * Objects a caller may change are read with an ETag; PATCH, PUT and DELETE
 * honour If-Match against what GET shows inside the change's own
 * transaction (admin_if_match), so two requests with one ETag cannot both pass.
 */
#include <stdio.h>
#include <string.h>

#include "admin/admin.h"
#include "core/str.h"
#include "directory/mirroring.h"
#include "directory/rederive.h"

#define SCHEMA_ATTRS_MAX 4096 /* "name:type,..." built from a request */

/* ---- frame ------------------------------------------------------------------------------ */

static enum status read_tenant(struct admin_req *r, struct store_tx *tx, void *ctx)
{
    struct store_tenant *t = ctx;
    enum status rc = store_tenant_find(tx, r->params[0], t);
    if (rc == OK && !admin_sees(r, t->id))
        rc = ERR_NOT_FOUND;
    return rc;
}

/* The tenant of the route's first parameter (id, subdomain or name), if the
 * caller may see it; else answered (404). */
static bool visible_tenant(struct admin_req *r, struct store_tenant *out)
{
    return admin_in_read_tx(r, read_tenant, out);
}

static enum status read_idp(struct admin_req *r, struct store_tx *tx, void *ctx)
{
    return admin_visible_idp(r, tx, ctx);
}

/* Answer a directory result: *value (stolen) when rc is OK, else err. */
static void answer(struct admin_req *r, enum status rc, const struct scim_error *err, int status,
                   json_t *value)
{
    if (rc != OK) {
        json_decref(value);
        admin_fail_with(r, err);
    } else if (value == NULL) {
        admin_fail(r, 500, "internal", "out of memory");
    } else if (status == 200) {
        admin_reply_tagged(r, value);
    } else {
        admin_reply(r, status, value);
    }
}

/* Does the body hold members other than those named (NULL-terminated)?  Answers 400. */
static bool only_members(struct admin_req *r, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(r->body, key, v)
    {
        const char *const *a = allowed;
        while (*a && strcmp(*a, key) != 0)
            a++;
        if (*a == NULL) {
            admin_fail(r, 400, "invalid_request", "unknown member '%.64s'", key);
            return false;
        }
    }
    return true;
}

/* A page of a whole list the directory returned (small: fields, roles,
 * schemas), keyed by position; list is stolen. */
static void reply_list(struct admin_req *r, json_t *list)
{
    struct admin_page page;
    if (!admin_page_init(r, &page)) {
        json_decref(list);
        return;
    }
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        char key[ADMIN_CURSOR_MAX];
        snprintf(key, sizeof(key), "%08zu", i);
        enum status rc = admin_page_add(&page, key, json_incref(item));
        if (rc == ERR_TOO_MANY)
            break;
        if (rc != OK) {
            json_decref(list);
            json_decref(page.items);
            admin_fail_status(r, rc);
            return;
        }
    }
    json_decref(list);
    admin_page_reply(r, &page);
    json_decref(page.items);
}

/* A directory list of the tenant's configuration (fields, schemas, roles). */
typedef enum status (*tenant_list_fn)(struct directory *dir, const char *tenant_key, json_t **out,
                                      struct scim_error *err);

/* GET tenants/{t}/...: the whole list of the route's tenant, as a page. */
static void reply_tenant_list(struct admin_req *r, tenant_list_fn list_of)
{
    struct store_tenant t;
    if (!visible_tenant(r, &t))
        return;
    struct scim_error err;
    json_t *list = NULL;
    if (list_of(r->dir, t.id, &list, &err) != OK)
        admin_fail_with(r, &err);
    else
        reply_list(r, list);
}

/* ---- IdP connections: detail with its state, rename, disable / enable --------------------- */

struct idp_state {
    struct store_idp idp;
    struct store_idp_access access;
};

static enum status read_idp_state(struct admin_req *r, struct store_tx *tx, void *ctx)
{
    struct idp_state *s = ctx;
    enum status rc = admin_visible_idp(r, tx, &s->idp);
    return rc == OK ? store_idp_access_get(tx, s->idp.id, &s->access) : rc;
}

static json_t *idp_state_json(const struct admin_req *r, const struct idp_state *s)
{
    json_t *j = admin_idp_json(r, &s->idp);
    if (j != NULL) {
        json_object_set_new(j, "disabled", json_boolean(s->access.disabled_at[0] != '\0'));
        json_object_set_new(j, "disabled_at", admin_str(s->access.disabled_at));
        json_object_set_new(j, "allowlist", admin_str(s->access.allowlist));
    }
    return j;
}

/* admin_show_fn: what GET shows of the connection, read in the change's transaction. */
static enum status show_idp_state(struct admin_req *r, struct store_tx *tx, void *ctx, json_t **out)
{
    (void)ctx;
    struct idp_state s;
    enum status rc = read_idp_state(r, tx, &s);
    *out = rc == OK ? idp_state_json(r, &s) : NULL;
    return rc;
}

void admin_idps_get(struct admin_req *r)
{
    struct idp_state s;
    if (admin_in_read_tx(r, read_idp_state, &s))
        answer(r, OK, NULL, 200, idp_state_json(r, &s));
}

void admin_idps_patch(struct admin_req *r)
{
    static const char *const allowed[] = { "name", "disabled", NULL };
    if (!only_members(r, allowed))
        return;
    json_t *name = json_object_get(r->body, "name"),
           *disabled = json_object_get(r->body, "disabled");
    if ((name && !json_is_string(name)) || (disabled && !json_is_boolean(disabled)) ||
        (!name && !disabled)) {
        admin_fail(r, 400, "invalid_request",
                   "give name (a string) and/or disabled (true or false)");
        return;
    }
    struct idp_state s;
    if (!admin_in_read_tx(r, read_idp_state, &s))
        return;
    struct scim_error err;
    struct actor by = admin_actor(r);
    struct admin_if_match m;
    const struct directory_guard *guard =
        admin_if_match(&m, r, show_idp_state, NULL, "idp", s.idp.id, NULL);
    enum status rc = OK;
    if (name) {
        rc = directory_idp_rename(r->dir, s.idp.id, json_string_value(name), &by, guard, &s.idp,
                                  &err);
        guard = NULL; /* If-Match was of the connection before this request */
    }
    bool changed;
    if (rc == OK && disabled)
        rc = directory_idp_set_disabled(r->dir, s.idp.id, json_is_true(disabled), &by, guard,
                                        &changed, &err);
    if (rc != OK) {
        admin_fail_with(r, &err);
        return;
    }
    if (admin_in_read_tx(r, read_idp_state, &s))
        answer(r, OK, NULL, 200, idp_state_json(r, &s));
}

/* ---- attribute mirroring ---------------------------------------------------------------- */

/* The mapping of the tenant (idp_id NULL) or a connection, answered with its ETag. */
static void mirroring_show(struct admin_req *r, const char *tenant_id, const char *idp_id)
{
    struct scim_error err;
    json_t *map = NULL;
    enum status rc = directory_mirror_show(r->dir, tenant_id, idp_id, &map, &err);
    answer(r, rc, &err, 200, map);
}

struct mapping_of {
    const char *tenant_id, *idp_id; /* idp_id NULL: the tenant's */
};

/* admin_show_fn: what GET shows of the mapping (ctx: mapping_of), read in the
 * change's transaction. */
static enum status show_mapping(struct admin_req *r, struct store_tx *tx, void *ctx, json_t **out)
{
    (void)r;
    const struct mapping_of *of = ctx;
    struct scim_error err;
    return directory_mirror_show_in(tx, of->tenant_id, of->idp_id, out, &err);
}

/* PUT .../mirroring/{field} {"path": P}: map; 202 with the new mapping (and
 * its ETag) and the job re-deriving every user in the background, whose
 * progress GET .../rederive answers. */
static void mirroring_set(struct admin_req *r, const char *tenant_id, const char *idp_id,
                          const char *field)
{
    static const char *const allowed[] = { "path", NULL };
    if (!only_members(r, allowed))
        return;
    const char *path = admin_body_str(r, "path");
    if (path == NULL) {
        admin_fail(r, 400, "invalid_request", "path (a SCIM attribute path) is required");
        return;
    }
    struct scim_error err;
    json_t *map = NULL;
    struct store_rederive_job job;
    struct actor by = admin_actor(r);
    struct mapping_of of = { tenant_id, idp_id };
    struct admin_if_match m;
    const struct directory_guard *guard =
        admin_if_match(&m, r, show_mapping, &of, "mirroring", tenant_id, idp_id);
    if (directory_mirror_set(r->dir, tenant_id, idp_id, field, path, &by, guard, &job, &err) !=
            OK ||
        directory_mirror_show(r->dir, tenant_id, idp_id, &map, &err) != OK) {
        admin_fail_with(r, &err);
        return;
    }
    char etag[ADMIN_ETAG_LEN];
    admin_etag(map, etag);
    json_t *body = json_pack("{s:s,s:s,s:o,s:o}", "field", field, "path", path, "job",
                             directory_rederive_json(&job), "mapping", map);
    admin_reply(r, 202, body);
    if (r->res->status == 202)
        str_copy(r->res->etag, sizeof(r->res->etag), etag);
}

/* GET tenants/{t}/rederive[?job=ID]: the newest re-derive job (or job ID) and its progress. */
void admin_rederive_get(struct admin_req *r)
{
    struct store_tenant t;
    if (!visible_tenant(r, &t))
        return;
    struct scim_error err;
    struct store_rederive_job job;
    enum status rc = directory_rederive_get(r->dir, t.id, http_query(r->http, "job"), &job, &err);
    answer(r, rc, &err, 200, rc == OK ? directory_rederive_json(&job) : NULL);
}

void admin_mirroring_get(struct admin_req *r)
{
    struct store_tenant t;
    if (visible_tenant(r, &t))
        mirroring_show(r, t.id, NULL);
}

void admin_mirroring_put(struct admin_req *r)
{
    struct store_tenant t;
    if (visible_tenant(r, &t))
        mirroring_set(r, t.id, NULL, r->params[1]);
}

void admin_idp_mirroring_get(struct admin_req *r)
{
    struct store_idp idp;
    if (admin_in_read_tx(r, read_idp, &idp))
        mirroring_show(r, idp.tenant_id, idp.id);
}

void admin_idp_mirroring_put(struct admin_req *r)
{
    struct store_idp idp;
    if (admin_in_read_tx(r, read_idp, &idp))
        mirroring_set(r, idp.tenant_id, idp.id, r->params[1]);
}

/* ---- elements of a tenant's list: fields and roles ------------------------------------ */

/* The element of list (stolen) whose member `key` equals name (case-insensitively
 * with icase); NULL (and list freed) when none. */
static json_t *take_named(json_t *list, const char *key, const char *name, bool icase)
{
    size_t i;
    json_t *item, *found = NULL;
    json_array_foreach(list, i, item)
    {
        const char *v = json_string_value(json_object_get(item, key));
        if (v && (icase ? str_ieq(v, name) : strcmp(v, name) == 0)) {
            found = json_incref(item);
            break;
        }
    }
    json_decref(list);
    return found;
}

/* The field of list (stolen) named key; NULL when none. */
static json_t *take_field(json_t *list, const char *key)
{
    return take_named(list, "name", key, false);
}

/* The role of list (stolen) whose id, or else name, is key; NULL when none. */
static json_t *take_role(json_t *list, const char *key)
{
    json_t *role = take_named(json_incref(list), "id", key, false);
    if (role == NULL)
        role = take_named(json_incref(list), "name", key, true);
    json_decref(list);
    return role;
}

/* A kind of element: the directory's list of them (in its own transaction or
 * in the caller's) and how one is named. */
struct element_kind {
    const char *what;
    tenant_list_fn list;
    enum status (*list_in)(struct store_tx *tx, const char *tenant_key, json_t **out,
                           struct scim_error *err);
    json_t *(*take)(json_t *list, const char *key); /* list stolen; NULL: none */
};
static const struct element_kind field_kind = { "field", directory_field_list,
                                                directory_field_list_in, take_field };
static const struct element_kind role_kind = { "role", directory_role_list, directory_role_list_in,
                                               take_role };

/* The element of t named by the route's second parameter, or answered (404). */
static json_t *find_element(struct admin_req *r, const struct store_tenant *t,
                            const struct element_kind *kind)
{
    struct scim_error err;
    json_t *list = NULL;
    if (kind->list(r->dir, t->id, &list, &err) != OK) {
        admin_fail_with(r, &err);
        return NULL;
    }
    json_t *found = kind->take(list, r->params[1]);
    if (found == NULL)
        admin_fail(r, 404, "not_found", "the tenant has no %s '%.64s'", kind->what, r->params[1]);
    return found;
}

/* An element as an If-Match guard reads it. */
struct tenant_element {
    const struct store_tenant *t;
    const struct element_kind *kind;
};

/* admin_show_fn: what GET shows of the element (ctx: tenant_element), read in
 * the change's transaction. */
static enum status show_element(struct admin_req *r, struct store_tx *tx, void *ctx, json_t **out)
{
    const struct tenant_element *e = ctx;
    struct scim_error err;
    json_t *list = NULL;
    enum status rc = e->kind->list_in(tx, e->t->id, &list, &err);
    *out = rc == OK ? e->kind->take(list, r->params[1]) : NULL;
    return rc == OK && *out == NULL ? ERR_NOT_FOUND : rc;
}

/* ---- custom fields ---------------------------------------------------------------------- */

void admin_fields_list(struct admin_req *r)
{
    reply_tenant_list(r, directory_field_list);
}

void admin_fields_create(struct admin_req *r)
{
    static const char *const allowed[] = { "name", "type", NULL };
    struct store_tenant t;
    if (!only_members(r, allowed) || !visible_tenant(r, &t))
        return;
    json_t *type = json_object_get(r->body, "type");
    if (type && !json_is_string(type)) {
        admin_fail(r, 400, "invalid_request", "type is string, integer or boolean");
        return;
    }
    struct scim_error err;
    struct store_field f;
    struct actor by = admin_actor(r);
    enum status rc = directory_field_add(r->dir, t.id, admin_body_str(r, "name"),
                                         json_string_value(type), &by, &f, &err);
    answer(r, rc, &err, 201,
           rc == OK ? json_pack("{s:s,s:s,s:s}", "name", f.name, "type", f.type, "created_at",
                                f.created_at)
                    : NULL);
}

void admin_fields_get(struct admin_req *r)
{
    struct store_tenant t;
    json_t *f;
    if (visible_tenant(r, &t) && (f = find_element(r, &t, &field_kind)) != NULL)
        answer(r, OK, NULL, 200, f);
}

void admin_fields_delete(struct admin_req *r)
{
    struct store_tenant t;
    json_t *f;
    if (!visible_tenant(r, &t) || (f = find_element(r, &t, &field_kind)) == NULL)
        return;
    json_decref(f);
    struct scim_error err;
    struct actor by = admin_actor(r);
    struct tenant_element field = { &t, &field_kind };
    struct admin_if_match m;
    const struct directory_guard *guard =
        admin_if_match(&m, r, show_element, &field, "field", t.id, r->params[1]);
    if (directory_field_remove(r->dir, t.id, r->params[1], &by, guard, &err) != OK)
        admin_fail_with(r, &err);
    else
        admin_reply(r, 204, NULL);
}

/* ---- tenant extension schemas ----------------------------------------------------------- */

void admin_schemas_list(struct admin_req *r)
{
    reply_tenant_list(r, directory_schema_list);
}

/* attributes [{name, type}] as the directory's "name:type,..."; false when malformed. */
static bool schema_attrs(const json_t *attrs, char out[SCHEMA_ATTRS_MAX])
{
    size_t i, used = 0;
    json_t *a;
    out[0] = '\0';
    if (!json_is_array(attrs) || json_array_size(attrs) == 0)
        return false;
    json_array_foreach(attrs, i, a)
    {
        const char *name = json_string_value(json_object_get(a, "name"));
        const char *type = json_string_value(json_object_get(a, "type"));
        if (!name || !type || strpbrk(name, ":,") || strpbrk(type, ":,"))
            return false;
        int n = snprintf(out + used, SCHEMA_ATTRS_MAX - used, "%s%s:%s", i ? "," : "", name, type);
        if (n < 0 || (size_t)n >= SCHEMA_ATTRS_MAX - used)
            return false;
        used += (size_t)n;
    }
    return true;
}

void admin_schemas_create(struct admin_req *r)
{
    static const char *const allowed[] = { "urn", "attributes", NULL };
    struct store_tenant t;
    if (!only_members(r, allowed) || !visible_tenant(r, &t))
        return;
    char attrs[SCHEMA_ATTRS_MAX];
    const char *urn = admin_body_str(r, "urn");
    if (urn == NULL || !schema_attrs(json_object_get(r->body, "attributes"), attrs)) {
        admin_fail(r, 400, "invalid_request",
                   "urn (a string) and attributes ([{\"name\": N, \"type\": T}, ...]) are "
                   "required");
        return;
    }
    struct scim_error err;
    struct actor by = admin_actor(r);
    json_t *list = NULL;
    enum status rc = directory_schema_add(r->dir, t.id, urn, attrs, &by, &err);
    if (rc == OK)
        rc = directory_schema_list(r->dir, t.id, &list, &err);
    answer(r, rc, &err, 201, rc == OK ? take_named(list, "id", urn, true) : NULL);
}

/* ---- roles ------------------------------------------------------------------------------ */

void admin_roles_list(struct admin_req *r)
{
    reply_tenant_list(r, directory_role_list);
}

void admin_roles_create(struct admin_req *r)
{
    static const char *const allowed[] = { "name", NULL };
    struct store_tenant t;
    if (!only_members(r, allowed) || !visible_tenant(r, &t))
        return;
    struct scim_error err;
    struct store_role role;
    struct actor by = admin_actor(r);
    enum status rc =
        directory_role_create(r->dir, t.id, admin_body_str(r, "name"), &by, &role, &err);
    answer(r, rc, &err, 201,
           rc == OK ? json_pack("{s:s,s:s,s:s,s:[]}", "id", role.id, "name", role.name,
                                "created_at", role.created_at, "groups")
                    : NULL);
}

void admin_roles_get(struct admin_req *r)
{
    struct store_tenant t;
    json_t *role;
    if (visible_tenant(r, &t) && (role = find_element(r, &t, &role_kind)) != NULL)
        answer(r, OK, NULL, 200, role);
}

/* The role to change: its id copied to id, and the guard of the change in m
 * (If-Match; e: what it shows).  NULL: answered. */
static const struct directory_guard *role_for_change(struct admin_req *r, struct store_tenant *t,
                                                     char id[STORE_ID_LEN],
                                                     struct tenant_element *e,
                                                     struct admin_if_match *m)
{
    json_t *role = find_element(r, t, &role_kind);
    if (role == NULL)
        return NULL;
    str_copy(id, STORE_ID_LEN, json_string_value(json_object_get(role, "id")));
    json_decref(role);
    *e = (struct tenant_element){ t, &role_kind };
    return admin_if_match(m, r, show_element, e, "role", id, NULL);
}

void admin_roles_delete(struct admin_req *r)
{
    struct store_tenant t;
    char id[STORE_ID_LEN];
    struct tenant_element shown;
    struct admin_if_match m;
    const struct directory_guard *guard;
    if (!visible_tenant(r, &t) || (guard = role_for_change(r, &t, id, &shown, &m)) == NULL)
        return;
    struct scim_error err;
    struct actor by = admin_actor(r);
    if (directory_role_delete(r->dir, t.id, id, &by, guard, &err) != OK)
        admin_fail_with(r, &err);
    else
        admin_reply(r, 204, NULL);
}

/* Map (or unmap) the group of the route's third parameter; answer the role as it is now. */
static void role_group_change(struct admin_req *r, bool map)
{
    struct store_tenant t;
    char id[STORE_ID_LEN];
    struct tenant_element shown;
    struct admin_if_match m;
    const struct directory_guard *guard;
    if (!visible_tenant(r, &t) || (guard = role_for_change(r, &t, id, &shown, &m)) == NULL)
        return;
    struct scim_error err;
    struct actor by = admin_actor(r);
    enum status rc = map ? directory_role_map(r->dir, t.id, id, r->params[2], &by, guard, &err)
                         : directory_role_unmap(r->dir, t.id, id, r->params[2], &by, guard, &err);
    json_t *role;
    if (rc != OK)
        admin_fail_with(r, &err);
    else if ((role = find_element(r, &t, &role_kind)) != NULL)
        answer(r, OK, NULL, 200, role);
}

void admin_role_groups_put(struct admin_req *r)
{
    role_group_change(r, true);
}

void admin_role_groups_delete(struct admin_req *r)
{
    role_group_change(r, false);
}
