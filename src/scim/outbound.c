/* SPDX-License-Identifier: Apache-2.0 */
/*
 * outbound.c - this file contains the bodies scimd sends downstream: a user's
 * state as a User resource, the minimal PatchOp between two of them, and a
 * pushed group's resource and rename.  See outbound.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "scim/outbound.h"
#include "scim/schema.h"

#define DIFF_MAX_DEPTH 3 /* resource > extension > complex attribute */
#define PATH_MAX_BYTES 512

static void set_text(json_t *o, const char *key, const char *value)
{
    if (value && value[0])
        json_object_set_new(o, key, json_string(value));
}

static char *dump(json_t *v)
{
    char *text = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(v);
    return text;
}

char *scim_outbound_user_body(const struct scim_outbound_user *u)
{
    json_t *p = json_object();
    json_t *schemas = json_array();
    if (p == NULL || schemas == NULL) {
        json_decref(p);
        json_decref(schemas);
        return NULL;
    }
    json_array_append_new(schemas, json_string(SCIM_SCHEMA_USER));
    json_object_set_new(p, "schemas", schemas);
    set_text(p, "externalId", u->id);
    set_text(p, "userName", u->user_name);
    set_text(p, "displayName", u->display_name);
    if ((u->given_name && u->given_name[0]) || (u->family_name && u->family_name[0])) {
        json_t *name = json_object();
        set_text(name, "givenName", u->given_name);
        set_text(name, "familyName", u->family_name);
        json_object_set_new(p, "name", name);
    }
    if (u->email && u->email[0])
        json_object_set_new(
            p, "emails",
            json_pack("[{s:s,s:s,s:b}]", "value", u->email, "type", "work", "primary", 1));
    json_object_set_new(p, "active", json_boolean(u->active));
    if (json_is_object(u->enterprise) && json_object_size(u->enterprise) > 0) {
        json_array_append_new(schemas, json_string(SCIM_SCHEMA_ENTERPRISE_USER));
        json_object_set_new(p, SCIM_SCHEMA_ENTERPRISE_USER, json_deep_copy(u->enterprise));
    }
    return dump(p);
}

/* The prefix of the attributes inside key: "name" -> "name.", an extension
 * "urn:...:User" -> "urn:...:User:", "urn:...:User:manager" -> "...:manager.". */
static void child_prefix(char out[PATH_MAX_BYTES], const char *prefix, const char *key)
{
    bool urn = prefix[0] == '\0' && strncmp(key, "urn:", 4) == 0;
    snprintf(out, PATH_MAX_BYTES, "%s%s%s", prefix, key, urn ? ":" : ".");
}

/* Put into value what of after differs from before (sub-attributes of objects
 * present on both sides one by one) and append a remove op to removes for each
 * key before has and after lacks.  prefix is the path of before/after with its
 * separator ("" at the top). */
static enum status diff(const json_t *before, const json_t *after, const char *prefix, int depth,
                        json_t *value, json_t *removes)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)after, key, v)
    {
        if (depth == 0 && strcmp(key, "schemas") == 0)
            continue;
        const json_t *b = json_object_get(before, key);
        if (json_equal(v, b))
            continue;
        if (json_is_object(v) && json_is_object(b) && depth + 1 < DIFF_MAX_DEPTH) {
            char path[PATH_MAX_BYTES];
            child_prefix(path, prefix, key);
            json_t *sub = json_object();
            if (sub == NULL)
                return ERR_NOMEM;
            enum status rc = diff(b, v, path, depth + 1, sub, removes);
            if (rc == OK && json_object_size(sub) > 0 && json_object_set(value, key, sub) != 0)
                rc = ERR_NOMEM;
            json_decref(sub);
            if (rc != OK)
                return rc;
        } else if (json_object_set(value, key, v) != 0) {
            return ERR_NOMEM;
        }
    }
    json_object_foreach((json_t *)before, key, v)
    {
        if ((depth == 0 && strcmp(key, "schemas") == 0) || json_object_get(after, key) != NULL)
            continue;
        char path[PATH_MAX_BYTES];
        snprintf(path, sizeof(path), "%s%s", prefix, key);
        if (json_array_append_new(removes, json_pack("{s:s,s:s}", "op", "remove", "path", path)) !=
            0)
            return ERR_NOMEM;
    }
    return OK;
}

enum status scim_outbound_user_patch(const char *sent, const char *want, char **out)
{
    *out = NULL;
    json_t *before = json_loads(sent && sent[0] ? sent : "{}", 0, NULL);
    json_t *after = json_loads(want ? want : "", 0, NULL);
    json_t *value = json_object(), *ops = json_array(), *removes = json_array();
    enum status rc = OK;
    if (!json_is_object(before) || !json_is_object(after))
        rc = ERR_INVALID_SYNTAX;
    else if (value == NULL || ops == NULL || removes == NULL)
        rc = ERR_NOMEM;
    if (rc == OK)
        rc = diff(before, after, "", 0, value, removes);
    if (rc == OK && json_object_size(value) > 0 &&
        json_array_append_new(ops, json_pack("{s:s,s:O}", "op", "replace", "value", value)) != 0)
        rc = ERR_NOMEM;
    if (rc == OK && json_array_extend(ops, removes) != 0)
        rc = ERR_NOMEM;
    if (rc == OK && json_array_size(ops) > 0) {
        *out = dump(json_pack("{s:[s],s:O}", "schemas", SCIM_SCHEMA_PATCH_OP, "Operations", ops));
        if (*out == NULL)
            rc = ERR_NOMEM;
    }
    json_decref(before);
    json_decref(after);
    json_decref(value);
    json_decref(ops);
    json_decref(removes);
    return rc;
}

char *scim_outbound_group_body(const char *group_id, const char *display_name,
                               const char *const *member_ids, size_t n)
{
    json_t *g = json_pack("{s:[s]}", "schemas", SCIM_SCHEMA_GROUP);
    if (g == NULL)
        return NULL;
    set_text(g, "externalId", group_id);
    json_object_set_new(g, "displayName", json_string(display_name ? display_name : ""));
    if (n > 0) {
        json_t *members = json_array();
        for (size_t i = 0; members && i < n; i++) {
            if (json_array_append_new(members, json_pack("{s:s}", "value", member_ids[i])) != 0) {
                json_decref(members);
                members = NULL;
            }
        }
        if (members == NULL || json_object_set_new(g, "members", members) != 0) {
            json_decref(g);
            return NULL;
        }
    }
    return dump(g);
}

char *scim_outbound_group_rename(const char *display_name)
{
    return dump(json_pack("{s:[s],s:[{s:s,s:s,s:s}]}", "schemas", SCIM_SCHEMA_PATCH_OP,
                          "Operations", "op", "replace", "path", "displayName", "value",
                          display_name ? display_name : ""));
}
