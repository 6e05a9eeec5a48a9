/* SPDX-License-Identifier: Apache-2.0 */
/*
 * group_patch_fuzz.c - libFuzzer target for group membership PATCH handling
 * (src/scim/members.c, after quirks.c and patch.c as the HTTP layer runs
 * them).
 *
 * The input is decoded as a request body (scim_json_decode), normalised with
 * the Group quirks, parsed as a PatchOp and split by scim_members_plan into
 * member row actions and the rest.  Bugs are: any crash, leak or sanitizer
 * report; a plan whose ids are empty, too long or carry a NUL; a rest that
 * writes "members" into the document (members live in rows, so such a write
 * would be silently dropped); and, differentially, a member set that differs
 * from what the generic PATCH engine makes of the same message applied to a
 * document whose members are the rows: when both accept it, both must end
 * with the same set of member ids.  Ids compare ignoring ASCII case there:
 * the schema says members.value is not caseExact, so the engine's
 * members[value eq "A"] matches "a", while the store compares ids exactly
 * (they are server-made lowercase UUIDs; a known, accepted difference).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scim/json.h"
#include "scim/members.h"
#include "scim/patch.h"
#include "scim/quirks.h"
#include "scim/schema.h"

#include "core/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const initial_members[] = { "2819c223-7f76-453a-919d-413861904646", "902c246b",
                                               "a" };
#define N_INITIAL (sizeof(initial_members) / sizeof(initial_members[0]))
#define MAX_SET   4096

static const char group_text[] =
    "{\"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:Group\"],"
    "\"id\": \"e9e30dba-f08f-4109-8486-d5c6a331660a\", \"displayName\": \"Tour Guides\","
    "\"externalId\": \"okta-1\", \"meta\": {\"resourceType\": \"Group\"}}";

static json_t *group_doc; /* member-less, as stored */

/* A set of member ids (the rows), small and linear: inputs are small.  ASCII case is ignored. */
struct id_set {
    char *ids[MAX_SET];
    size_t n;
    bool overflow;
};

static bool set_has(const struct id_set *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcasecmp(s->ids[i], id) == 0)
            return true;
    return false;
}

static void set_add(struct id_set *s, const char *id)
{
    if (set_has(s, id))
        return;
    if (s->n == MAX_SET) {
        s->overflow = true;
        return;
    }
    s->ids[s->n] = str_dup(id);
    if (s->ids[s->n] == NULL)
        abort();
    s->n++;
}

static void set_remove(struct id_set *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcasecmp(s->ids[i], id) == 0) {
            free(s->ids[i]);
            s->ids[i] = s->ids[--s->n];
            return;
        }
    }
}

static void set_clear(struct id_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->ids[i]);
    s->n = 0;
}

static void die(const char *what)
{
    fprintf(stderr, "group_patch_fuzz: %s\n", what);
    abort();
}

/* What the rows become under the plan (the directory's member_action, without a store). */
static void run_plan(const struct scim_members_plan *p, struct id_set *rows)
{
    for (size_t i = 0; i < p->n_actions; i++) {
        const struct scim_members_action *a = &p->actions[i];
        for (size_t k = 0; k < a->n_ids; k++) {
            size_t len = strlen(a->ids[k]);
            if (len == 0 || len > SCIM_MEMBERS_ID_MAX_BYTES)
                die("a planned id that is empty or too long");
        }
        if (a->kind == SCIM_MEMBERS_CLEAR && a->n_ids != 0)
            die("a clear action with ids");
        switch (a->kind) {
        case SCIM_MEMBERS_ADD:
            for (size_t k = 0; k < a->n_ids; k++)
                set_add(rows, a->ids[k]);
            break;
        case SCIM_MEMBERS_REMOVE:
            for (size_t k = 0; k < a->n_ids; k++)
                set_remove(rows, a->ids[k]);
            break;
        case SCIM_MEMBERS_REPLACE:
            set_clear(rows);
            for (size_t k = 0; k < a->n_ids; k++)
                set_add(rows, a->ids[k]);
            break;
        case SCIM_MEMBERS_CLEAR:
            set_clear(rows);
            break;
        }
    }
}

/* The member ids of a document as the generic engine left it; false if it holds
 * something the planner would refuse (an element without a string value). */
static bool engine_members(const json_t *doc, struct id_set *out)
{
    const json_t *members = scim_json_iget(doc, "members");
    if (members == NULL || json_is_null(members))
        return true;
    if (!json_is_array(members))
        return false;
    size_t i;
    const json_t *m;
    json_array_foreach(members, i, m)
    {
        const json_t *v = json_is_object(m) ? scim_json_iget(m, "value") : NULL;
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            json_string_length(v) > SCIM_MEMBERS_ID_MAX_BYTES)
            return false;
        set_add(out, json_string_value(v));
    }
    return true;
}

static bool same_set(const struct id_set *a, const struct id_set *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (!set_has(b, a->ids[i]))
            return false;
    return true;
}

static void fuzz_message(const json_t *body)
{
    json_t *msg = json_deep_copy(body);
    struct scim_patch *patch = NULL;
    struct scim_error err = { 0 };
    struct id_set rows = { .n = 0 }, engine = { .n = 0 };
    json_t *doc = NULL, *full = NULL;
    if (msg == NULL || scim_quirks_patch(&scim_resource_group, msg, &err) != OK ||
        scim_patch_parse(&scim_resource_group, msg, &patch, &err) != OK)
        goto done;

    struct scim_members_plan plan;
    enum status rc = scim_members_plan(patch, &plan, &err);
    if (rc != OK) {
        if (plan.n_actions != 0 || plan.rest.ops != NULL || err.detail[0] == '\0')
            die("a failed plan left something behind or said nothing");
        goto done;
    }
    for (size_t i = 0; i < N_INITIAL; i++)
        set_add(&rows, initial_members[i]);
    run_plan(&plan, &rows);

    /* the rest never writes members */
    doc = json_deep_copy(group_doc);
    bool rest_ok =
        doc != NULL && scim_patch_apply(&plan.rest, &scim_resource_group, &doc, &err) == OK;
    if (rest_ok && scim_json_iget(doc, "members") != NULL)
        die("the operations left for the document write members");

    /* differential: the generic engine over a document whose members are the rows */
    full = json_deep_copy(group_doc);
    json_t *arr = json_array();
    for (size_t i = 0; full && arr && i < N_INITIAL; i++)
        json_array_append_new(arr, json_pack("{s:s}", "value", initial_members[i]));
    if (full != NULL && arr != NULL && json_object_set_new(full, "members", arr) == 0) {
        arr = NULL;
        if (rest_ok && scim_patch_apply(patch, &scim_resource_group, &full, &err) == OK &&
            engine_members(full, &engine) && !rows.overflow && !engine.overflow &&
            !same_set(&rows, &engine))
            die("the rows and the PATCH engine disagree on the members");
    }
    json_decref(arr);
    scim_members_plan_release(&plan);
done:
    set_clear(&rows);
    set_clear(&engine);
    json_decref(full);
    json_decref(doc);
    scim_patch_free(patch);
    json_decref(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (group_doc == NULL) {
        group_doc = json_loads(group_text, 0, NULL);
        if (group_doc == NULL)
            abort();
    }
    json_t *body = NULL;
    struct scim_error err = { 0 };
    if (scim_json_decode((const char *)data, size, &body, &err) == OK) {
        fuzz_message(body);
        json_decref(body);
    }
    return 0;
}
