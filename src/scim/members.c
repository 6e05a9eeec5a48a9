/* SPDX-License-Identifier: Apache-2.0 */
/*
 * members.c - this file contains the split of a Group PatchOp into member
 * row actions and the operations left for the document.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "scim/json.h"
#include "scim/members.h"

#include "core/str.h"

static enum status nomem(struct scim_error *err)
{
    return scim_error_set(err, ERR_NOMEM, "out of memory");
}

static bool is_members_path(const struct scim_patch_path *p)
{
    return p != NULL && p->ref.attr != NULL && str_ieq(p->ref.attr->name, "members");
}

/* Append a new empty action of kind to plan; NULL on allocation failure. */
static struct scim_members_action *new_action(struct scim_members_plan *plan,
                                              enum scim_members_action_kind kind)
{
    struct scim_members_action *a =
        realloc(plan->actions, (plan->n_actions + 1) * sizeof(*plan->actions));
    if (a == NULL)
        return NULL;
    plan->actions = a;
    a = &plan->actions[plan->n_actions++];
    memset(a, 0, sizeof(*a));
    a->kind = kind;
    return a;
}

static enum status push_id(struct scim_members_action *a, const char *id)
{
    char **ids = realloc(a->ids, (a->n_ids + 1) * sizeof(*ids));
    if (ids == NULL)
        return ERR_NOMEM;
    a->ids = ids;
    a->ids[a->n_ids] = str_dup(id);
    if (a->ids[a->n_ids] == NULL)
        return ERR_NOMEM;
    a->n_ids++;
    return OK;
}

enum status scim_members_value_ids(const json_t *value, struct scim_members_action *a,
                                   struct scim_error *err)
{
    size_t n = json_is_array(value) ? json_array_size(value) : 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *m = json_is_array(value) ? json_array_get(value, i) : value;
        const json_t *id = json_is_object(m) ? scim_json_iget(m, "value") : NULL;
        size_t len = json_is_string(id) ? json_string_length(id) : 0;
        if (len == 0 || len > SCIM_MEMBERS_ID_MAX_BYTES || strlen(json_string_value(id)) != len)
            return scim_error_set(err, ERR_INVALID_VALUE,
                                  "members must be objects with a 'value' naming a User id");
        if (push_id(a, json_string_value(id)) != OK)
            return nomem(err);
    }
    return OK;
}

/* members[value eq "a"] or members[value eq "a" or value eq "b"]: the ids named. */
static bool filter_ids(const struct scim_filter *f, struct scim_members_action *a, enum status *rc)
{
    if (f == NULL)
        return false;
    if (f->op == SCIM_FILTER_OR)
        return filter_ids(f->left, a, rc) && filter_ids(f->right, a, rc);
    if (f->op != SCIM_FILTER_EQ || f->value.kind != SCIM_VALUE_STRING || f->value.str == NULL ||
        f->path.ref.sub == NULL || !str_ieq(f->path.ref.sub->name, "value"))
        return false;
    /* an id no member can have (empty, too long) names nothing to remove */
    size_t len = strlen(f->value.str);
    if (*rc == OK && len > 0 && len <= SCIM_MEMBERS_ID_MAX_BYTES)
        *rc = push_id(a, f->value.str);
    return true;
}

static enum scim_members_action_kind action_kind(enum scim_patch_op_kind kind)
{
    return kind == SCIM_PATCH_ADD      ? SCIM_MEMBERS_ADD
           : kind == SCIM_PATCH_REMOVE ? SCIM_MEMBERS_REMOVE
                                       : SCIM_MEMBERS_REPLACE;
}

/* One operation on members: kind, the member path (NULL for a no-path value) and value. */
static enum status plan_op(struct scim_members_plan *plan, enum scim_patch_op_kind kind,
                           const struct scim_patch_path *p, const json_t *value,
                           struct scim_error *err)
{
    const struct scim_filter *filter = p ? p->filter : NULL;
    if ((p != NULL && p->sub != NULL) || (filter != NULL && kind != SCIM_PATCH_REMOVE))
        return scim_error_set(err, ERR_INVALID_PATH,
                              "members can only be added, removed or replaced as a whole or by "
                              "members[value eq \"id\"]");
    bool clear = filter == NULL && ((kind == SCIM_PATCH_REMOVE && value == NULL) ||
                                    (kind == SCIM_PATCH_REPLACE && json_is_null(value)));
    if (clear)
        return new_action(plan, SCIM_MEMBERS_CLEAR) ? OK : nomem(err);
    if (filter == NULL && kind == SCIM_PATCH_REMOVE && json_is_array(value) &&
        json_array_size(value) == 0)
        return OK; /* removing none */
    struct scim_members_action *a = new_action(plan, action_kind(kind));
    if (a == NULL)
        return nomem(err);
    if (filter == NULL)
        return scim_members_value_ids(value, a, err);
    enum status rc = OK;
    if (!filter_ids(filter, a, &rc) && rc == OK)
        return scim_error_set(err, ERR_INVALID_PATH,
                              "member filters must be of the form members[value eq \"id\"]");
    return rc == OK ? OK : nomem(err);
}

/*
 * A no-path add/replace: "members" at the top of the value or under the core
 * schema URN (the engine takes both) is a member add/replace; *others becomes
 * the value without them (NULL when it had none).
 */
static enum status plan_no_path(struct scim_members_plan *out, const struct scim_patch_op *op,
                                json_t **others, struct scim_error *err)
{
    const json_t *top = scim_json_iget(op->value, "members");
    const json_t *core = scim_json_iget(op->value, SCIM_SCHEMA_GROUP);
    const json_t *nested = json_is_object(core) ? scim_json_iget(core, "members") : NULL;
    if (top == NULL && nested == NULL)
        return OK;
    enum status rc = OK;
    if (top != NULL)
        rc = plan_op(out, op->kind, NULL, top, err);
    if (rc == OK && nested != NULL)
        rc = plan_op(out, op->kind, NULL, nested, err);
    if (rc != OK)
        return rc;
    *others = json_deep_copy(op->value);
    if (*others == NULL)
        return nomem(err);
    scim_json_idel(*others, "members");
    json_t *rest_core = scim_json_iget(*others, SCIM_SCHEMA_GROUP);
    if (json_is_object(rest_core))
        scim_json_idel(rest_core, "members");
    return OK;
}

enum status scim_members_plan(const struct scim_patch *patch, struct scim_members_plan *out,
                              struct scim_error *err)
{
    memset(out, 0, sizeof(*out));
    size_t n = patch->n_ops ? patch->n_ops : 1;
    out->rest.ops = calloc(n, sizeof(*out->rest.ops));
    out->owned = calloc(n, sizeof(*out->owned));
    out->n_owned = out->owned ? patch->n_ops : 0;
    enum status rc = out->rest.ops && out->owned ? OK : nomem(err);
    for (size_t i = 0; rc == OK && i < patch->n_ops; i++) {
        const struct scim_patch_op *op = &patch->ops[i];
        if (is_members_path(op->path)) {
            rc = plan_op(out, op->kind, op->path, op->value, err);
            continue;
        }
        struct scim_patch_op kept = *op;
        if (op->path == NULL && json_is_object(op->value)) {
            rc = plan_no_path(out, op, &out->owned[i], err);
            if (rc != OK)
                break;
            if (out->owned[i] != NULL)
                kept.value = out->owned[i];
        }
        out->rest.ops[out->rest.n_ops++] = kept;
    }
    if (rc != OK)
        scim_members_plan_release(out);
    return rc;
}

void scim_members_action_release(struct scim_members_action *a)
{
    for (size_t k = 0; k < a->n_ids; k++)
        free(a->ids[k]);
    free(a->ids);
    a->ids = NULL;
    a->n_ids = 0;
}

void scim_members_plan_release(struct scim_members_plan *plan)
{
    for (size_t i = 0; i < plan->n_actions; i++)
        scim_members_action_release(&plan->actions[i]);
    free(plan->actions);
    for (size_t i = 0; plan->owned && i < plan->n_owned; i++)
        json_decref(plan->owned[i]);
    free(plan->owned);
    free(plan->rest.ops);
    memset(plan, 0, sizeof(*plan));
}
