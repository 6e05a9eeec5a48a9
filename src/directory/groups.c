/* SPDX-License-Identifier: Apache-2.0 */
/*
 * groups.c - SCIM Groups of one IdP connection: create, read, list,
 * replace, patch and delete, with members kept as rows (never an array
 * inside the stored document), and the Users' derived `groups` attribute.
 *
 * Membership changes are row operations: a PATCH that adds one member to a
 * group of a million costs one index probe and one insert.  Members are
 * only materialised when a response asks for them.  Each write runs in one
 * store transaction together with its audit events, including one
 * scim_group_members_changed event per request listing who was added and
 * removed.  Member ids must be live users of the same connection; unknown
 * ids fail the whole request with 400 invalidValue naming them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/str.h"
#include "directory/audit.h"
#include "directory/directory.h"
#include "directory/locks.h"
#include "directory/mirror.h"
#include "directory/render.h"
#include "scim/filter.h"
#include "scim/members.h"
#include "scim/patch.h"
#include "scim/quirks.h"
#include "scim/render.h"
#include "scim/schema.h"

static const struct scim_resource_type *const group_rt = &scim_resource_group;

#define GROUP_EVENT_IDS_MAX  1000 /* ids listed in one members_changed event */
#define GROUP_DETAIL_IDS_MAX 5    /* unknown member ids named in an error detail */
#define GROUP_LIST_INITIAL   16

/* ---- id lists ------------------------------------------------------------------------ */

struct id_list {
    char **ids;
    size_t n, alloc;
};

/* store_id_fn: append a copy of id. */
static enum status id_list_push(void *ctx, const char *id)
{
    struct id_list *l = ctx;
    char **ids = array_room(l->ids, l->n, &l->alloc, sizeof(*ids), GROUP_LIST_INITIAL);
    if (ids == NULL)
        return ERR_NOMEM;
    l->ids = ids;
    l->ids[l->n] = str_dup(id ? id : "");
    if (l->ids[l->n] == NULL)
        return ERR_NOMEM;
    l->n++;
    return OK;
}

static void id_list_free(struct id_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->ids[i]);
    free(l->ids);
    memset(l, 0, sizeof(*l));
}

static int compare_ids(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort and drop duplicates. */
static void id_list_normalise(struct id_list *l)
{
    if (l->n == 0)
        return;
    qsort(l->ids, l->n, sizeof(*l->ids), compare_ids);
    size_t w = 1;
    for (size_t i = 1; i < l->n; i++) {
        if (strcmp(l->ids[i], l->ids[w - 1]) == 0)
            free(l->ids[i]);
        else
            l->ids[w++] = l->ids[i];
    }
    l->n = w;
}

static const char *const *id_list_view(const struct id_list *l)
{
    return (const char *const *)l->ids;
}

/* What one request did to the member set. */
struct member_changes {
    struct id_list added;
    struct id_list removed;
};

static void member_changes_free(struct member_changes *c)
{
    id_list_free(&c->added);
    id_list_free(&c->removed);
}

static bool members_changed(const struct member_changes *c)
{
    return c->added.n > 0 || c->removed.n > 0;
}

/* ---- failures and events --------------------------------------------------------------- */

static enum status store_failure(enum status rc, struct scim_error *err)
{
    return directory_store_failure(
        rc, "displayName and externalId",
        "externalId is already in use by another group of this connection", err);
}

static enum status event(struct store_tx *tx, const struct scim_conn *conn, const char *type,
                         const char *subject_id, const json_t *summary)
{
    return audit_scim_event(tx, conn, type, subject_id, summary);
}

static enum status event_received(struct store_tx *tx, const struct scim_conn *conn,
                                  const char *method, const char *subject_id)
{
    return audit_scim_received(tx, conn, "Group", method, subject_id);
}

static void record_failure(struct directory *dir, const struct scim_conn *conn, const char *method,
                           const char *subject_id, const struct scim_error *failure)
{
    audit_scim_failure(dir->store, conn, "Group", method, subject_id, failure);
}

/* Up to GROUP_EVENT_IDS_MAX ids as a JSON array. */
static json_t *capped_ids(const struct id_list *l)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < l->n && i < GROUP_EVENT_IDS_MAX; i++) {
        if (json_array_append_new(a, json_string(l->ids[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* The roles of each user of ids, after their memberships of group_id changed
 * (roles.c); nothing to do when no role is mapped to the group. */
static enum status recompute_roles(struct store_tx *tx, const struct scim_conn *conn,
                                   const char *group_id, const struct id_list *ids)
{
    struct audit_ctx ctx = audit_of_conn(conn);
    bool mapped = false;
    enum status rc =
        ids->n ? store_group_has_roles(tx, conn->tenant_id, conn->idp_id, group_id, &mapped) : OK;
    if (!mapped)
        return rc;
    for (size_t i = 0; rc == OK && i < ids->n; i++)
        rc = roles_recompute(tx, &ctx, conn->tenant_id, ids->ids[i]);
    return rc;
}

/* One event per request, however many members changed. */
static enum status event_members(struct store_tx *tx, const struct scim_conn *conn,
                                 const char *group_id, const struct member_changes *c)
{
    if (!members_changed(c))
        return OK;
    json_t *added = capped_ids(&c->added), *removed = capped_ids(&c->removed);
    json_t *summary = added && removed ? json_pack("{s:o,s:o,s:I,s:I}", "added", added, "removed",
                                                   removed, "added_count", (json_int_t)c->added.n,
                                                   "removed_count", (json_int_t)c->removed.n)
                                       : NULL;
    if (summary == NULL) {
        json_decref(added);
        json_decref(removed);
        return ERR_NOMEM;
    }
    enum status rc = event(tx, conn, "scim_group_members_changed", group_id, summary);
    json_decref(summary);
    if (rc == OK)
        rc = recompute_roles(tx, conn, group_id, &c->added);
    if (rc == OK)
        rc = recompute_roles(tx, conn, group_id, &c->removed);
    return rc;
}

/* Names of the top-level attributes that differ (meta, id, schemas aside). */
static json_t *changed_attributes(const json_t *before, const json_t *after)
{
    json_t *names = json_array();
    if (names == NULL)
        return NULL;
    const json_t *docs[2][2] = { { after, before }, { before, after } };
    for (int pass = 0; pass < 2; pass++) {
        const char *key;
        json_t *value;
        json_object_foreach((json_t *)docs[pass][0], key, value)
        {
            if (strcmp(key, "meta") == 0 || strcmp(key, "id") == 0 || strcmp(key, "schemas") == 0)
                continue;
            const json_t *other = json_object_get(docs[pass][1], key);
            if (pass == 0 ? !json_equal(value, other) : other == NULL)
                json_array_append_new(names, json_string(key));
        }
    }
    return names;
}

/* ---- members ---------------------------------------------------------------------------- */

/* The user ids of a "members" value (scim_members_value_ids) into out. */
static enum status member_ids(const json_t *value, struct id_list *out, struct scim_error *err)
{
    struct scim_members_action a = { 0 };
    enum status rc = scim_members_value_ids(value, &a, err);
    for (size_t i = 0; rc == OK && i < a.n_ids; i++)
        rc = id_list_push(out, a.ids[i]);
    scim_members_action_release(&a);
    return rc;
}

/* 400 invalidValue naming the ids that are not live users of this connection. */
static enum status check_members(struct store_tx *tx, const struct scim_conn *conn,
                                 const struct id_list *ids, struct scim_error *err)
{
    struct id_list missing = { 0 };
    enum status rc = store_users_missing(tx, conn->tenant_id, conn->idp_id, id_list_view(ids),
                                         ids->n, id_list_push, &missing);
    if (rc == OK && missing.n > 0) {
        id_list_normalise(&missing);
        struct buf b;
        buf_init(&b, 0);
        for (size_t i = 0; i < missing.n && i < GROUP_DETAIL_IDS_MAX; i++)
            buf_printf(&b, "%s'%.64s'", i ? ", " : "", missing.ids[i]);
        if (missing.n > GROUP_DETAIL_IDS_MAX)
            buf_printf(&b, " and %zu more", missing.n - GROUP_DETAIL_IDS_MAX);
        rc = scim_error_set(err, ERR_INVALID_VALUE,
                            "members must be Users of this connection; unknown ids: %s",
                            b.data ? b.data : "");
        buf_release(&b);
    }
    id_list_free(&missing);
    return rc;
}

static enum status members_add(struct store_tx *tx, const struct scim_conn *conn,
                               const char *group_id, const struct id_list *ids,
                               struct member_changes *c, struct scim_error *err)
{
    enum status rc = check_members(tx, conn, ids, err);
    if (rc != OK)
        return rc;
    return store_group_members_add(tx, conn->tenant_id, conn->idp_id, group_id, id_list_view(ids),
                                   ids->n, id_list_push, &c->added);
}

/* Removing a member that is not there is not an error (Entra retries removes). */
static enum status members_remove(struct store_tx *tx, const struct scim_conn *conn,
                                  const char *group_id, const struct id_list *ids,
                                  struct member_changes *c)
{
    return store_group_members_remove(tx, conn->tenant_id, conn->idp_id, group_id,
                                      id_list_view(ids), ids->n, id_list_push, &c->removed);
}

static enum status members_clear(struct store_tx *tx, const struct scim_conn *conn,
                                 const char *group_id, struct member_changes *c)
{
    return store_group_members_clear(tx, conn->tenant_id, conn->idp_id, group_id, id_list_push,
                                     &c->removed);
}

/* Make the member set exactly ids: only the difference is written. */
static enum status members_replace(struct store_tx *tx, const struct scim_conn *conn,
                                   const char *group_id, struct id_list *ids,
                                   struct member_changes *c, struct scim_error *err)
{
    enum status rc = check_members(tx, conn, ids, err);
    if (rc != OK)
        return rc;
    struct id_list current = { 0 }, drop = { 0 }, take = { 0 };
    rc = store_group_members_each(tx, conn->tenant_id, conn->idp_id, group_id, false, id_list_push,
                                  &current);
    id_list_normalise(ids);
    /* both sorted by strcmp (the store's BINARY user_id order matches) */
    id_list_normalise(&current);
    size_t i = 0, j = 0;
    while (rc == OK && (i < current.n || j < ids->n)) {
        int cmp = i == current.n ? 1 : j == ids->n ? -1 : strcmp(current.ids[i], ids->ids[j]);
        if (cmp < 0)
            rc = id_list_push(&drop, current.ids[i++]);
        else if (cmp > 0)
            rc = id_list_push(&take, ids->ids[j++]);
        else
            i++, j++;
    }
    if (rc == OK)
        rc = members_remove(tx, conn, group_id, &drop, c);
    if (rc == OK)
        rc = store_group_members_add(tx, conn->tenant_id, conn->idp_id, group_id,
                                     id_list_view(&take), take.n, id_list_push, &c->added);
    id_list_free(&current);
    id_list_free(&drop);
    id_list_free(&take);
    return rc;
}

/* Take "members" out of a validated document into ids (absent: none). */
static enum status split_members(json_t *doc, struct id_list *ids, bool *present,
                                 struct scim_error *err)
{
    json_t *members = json_object_get(doc, "members");
    *present = members != NULL;
    if (members == NULL)
        return OK;
    enum status rc = member_ids(members, ids, err);
    json_object_del(doc, "members");
    return rc;
}

/* ---- rendering ---------------------------------------------------------------------------- */

/* Set id/meta on doc (member-less) and store its text in g->doc. */
static enum status render_row(const struct scim_conn *conn, json_t *doc, struct store_group *g)
{
    struct resource_meta m = { g->id, g->created_at, g->updated_at, g->version };
    return directory_render(conn, group_rt, doc, &m, &g->doc);
}

/* Ids are UUIDs we minted; anything else is never spliced into JSON text unescaped. */
static bool id_is_plain(const char *id)
{
    for (const char *p = id; *p; p++) {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              *p == '-'))
            return false;
    }
    return *id != '\0';
}

struct member_text {
    struct buf *out;
    const char *ref_prefix; /* JSON string text of "<base>Users/", without the closing quote */
    size_t n;
};

static enum status member_text_add(void *ctx, const char *id)
{
    struct member_text *m = ctx;
    if (!id_is_plain(id))
        return OK;
    buf_puts(m->out, m->n++ ? ",{\"value\":\"" : "{\"value\":\"");
    buf_puts(m->out, id);
    buf_puts(m->out, "\",\"$ref\":");
    buf_puts(m->out, m->ref_prefix);
    buf_puts(m->out, id);
    buf_puts(m->out, "\",\"type\":\"User\"}");
    return m->out->failed ? ERR_NOMEM : OK;
}

/* The stored document with its live members spliced in as text (no parse of
 * the member list, which may be very long).  *out is malloc'd. */
static enum status text_with_members(struct store_tx *tx, const struct scim_conn *conn,
                                     const struct store_group *g, char **out)
{
    *out = NULL;
    size_t len = strlen(g->doc);
    if (len < 2 || g->doc[len - 1] != '}')
        return ERR_STORE;
    char ref[DIRECTORY_URL_MAX + 16];
    snprintf(ref, sizeof(ref), "%sUsers/", conn->base_url);
    json_t *ref_json = json_string(ref);
    char *ref_text = ref_json ? json_dumps(ref_json, JSON_ENCODE_ANY) : NULL;
    json_decref(ref_json);
    if (ref_text == NULL)
        return ERR_NOMEM;
    ref_text[strlen(ref_text) - 1] = '\0'; /* drop the closing quote */

    struct buf members;
    buf_init(&members, 0);
    struct member_text m = { &members, ref_text, 0 };
    enum status rc =
        store_group_members_each(tx, g->tenant_id, g->idp_id, g->id, true, member_text_add, &m);
    free(ref_text);
    struct buf b;
    buf_init(&b, 0);
    if (rc == OK) {
        buf_append(&b, g->doc, len - 1);
        if (m.n > 0) {
            buf_puts(&b, ",\"members\":[");
            buf_append(&b, members.data, members.len);
            buf_putc(&b, ']');
        }
        buf_putc(&b, '}');
        *out = buf_take(&b);
        if (*out == NULL)
            rc = ERR_NOMEM;
    }
    buf_release(&b);
    buf_release(&members);
    return rc;
}

/* The group as a response shows it: members unless the projection leaves them out. */
static enum status group_text(struct store_tx *tx, const struct scim_conn *conn,
                              const struct store_group *g, const struct scim_projection *proj,
                              char **out)
{
    *out = NULL;
    char *text = NULL;
    enum status rc = OK;
    if (scim_projection_excludes(proj, "members"))
        text = str_dup(g->doc); /* never loads a member */
    else
        rc = text_with_members(tx, conn, g, &text);
    if (rc == OK && text == NULL)
        rc = ERR_NOMEM;
    if (rc != OK || proj == NULL) {
        *out = text;
        return rc;
    }
    json_t *full = json_loads(text, 0, NULL);
    free(text);
    if (full == NULL)
        return ERR_STORE;
    json_t *shown = scim_projection_apply(proj, group_rt, full);
    json_decref(full);
    *out = shown ? scim_json_text(shown) : NULL;
    json_decref(shown);
    return *out ? OK : ERR_NOMEM;
}

static enum status hand_out(struct store_tx *tx, const struct scim_conn *conn,
                            const struct store_group *g, const struct scim_projection *proj,
                            bool want_text, struct scim_doc *out)
{
    out->version = g->version;
    str_copy(out->id, sizeof(out->id), g->id);
    if (!want_text)
        return OK;
    return group_text(tx, conn, g, proj, &out->text);
}

/* ---- create ------------------------------------------------------------------------------- */

enum status directory_scim_group_create(struct directory *dir, const struct scim_conn *conn,
                                        const json_t *body, struct scim_doc *out,
                                        struct scim_error *err)
{
    scim_error_clear(err);
    memset(out, 0, sizeof(*out));
    json_t *doc = NULL;
    struct store_tx *tx = NULL;
    struct store_group g = { 0 };
    struct id_list ids = { 0 };
    struct member_changes changes = { 0 };
    bool has_members = false;
    enum status rc = scim_schema_validate(group_rt, body, SCIM_VALIDATE_CREATE, &doc, err);
    if (rc == OK)
        rc = split_members(doc, &ids, &has_members, err);
    if (rc != OK)
        goto done;

    /* no lock: nothing read decides this insert; a taken externalId fails its unique index */
    if ((rc = store_begin(dir->store, true, &tx)) != OK)
        goto done;
    if ((rc = event_received(tx, conn, "POST", NULL)) != OK)
        goto done;
    if ((rc = crypto_uuid(g.id)) != OK)
        goto done;
    str_copy(g.tenant_id, sizeof(g.tenant_id), conn->tenant_id);
    str_copy(g.idp_id, sizeof(g.idp_id), conn->idp_id);
    clock_now_iso(g.created_at);
    str_copy(g.updated_at, sizeof(g.updated_at), g.created_at);
    g.version = 1;
    const char *external_id = json_string_value(json_object_get(doc, "externalId"));
    g.external_id = external_id ? str_dup(external_id) : NULL;
    g.display_name = str_dup(json_string_value(json_object_get(doc, "displayName")));
    if ((external_id && g.external_id == NULL) || g.display_name == NULL) {
        rc = ERR_NOMEM;
        goto done;
    }
    if ((rc = render_row(conn, doc, &g)) != OK)
        goto done;
    if ((rc = store_group_insert(tx, &g)) != OK)
        goto done;
    if ((rc = members_add(tx, conn, g.id, &ids, &changes, err)) != OK)
        goto done;
    json_t *summary = json_pack("{s:I}", "members", (json_int_t)changes.added.n);
    rc = summary ? event(tx, conn, "scim_group_created", g.id, summary) : ERR_NOMEM;
    json_decref(summary);
    if (rc == OK)
        rc = event_members(tx, conn, g.id, &changes);
    if (rc == OK)
        rc = hand_out(tx, conn, &g, NULL, true, out);
    if (rc != OK)
        goto done;
    rc = store_commit(tx);
    tx = NULL;

done:
    store_rollback(tx);
    json_decref(doc);
    store_group_release(&g);
    id_list_free(&ids);
    member_changes_free(&changes);
    if (rc == OK)
        return OK;
    scim_doc_release(out);
    if (err->status != rc)
        store_failure(rc, err);
    record_failure(dir, conn, "POST", NULL, err);
    return err->status;
}

/* ---- read ----------------------------------------------------------------------------------- */

static enum status find_group(struct store_tx *tx, const struct scim_conn *conn, const char *id,
                              struct store_group *g, struct scim_error *err)
{
    enum status rc = store_group_get(tx, conn->tenant_id, conn->idp_id, id, g);
    if (rc == ERR_NOT_FOUND)
        return scim_error_set(err, rc, "no Group with id '%.64s'", id);
    return rc == OK ? OK : store_failure(rc, err);
}

enum status directory_scim_group_get(struct directory *dir, const struct scim_conn *conn,
                                     const char *id, const char *attributes, const char *excluded,
                                     struct scim_doc *out, struct scim_error *err)
{
    scim_error_clear(err);
    memset(out, 0, sizeof(*out));
    struct scim_projection *proj = NULL;
    enum status rc = scim_projection_parse(group_rt, attributes, excluded, &proj, err);
    if (rc != OK)
        return rc;
    struct store_tx *tx = NULL;
    struct store_group g = { 0 };
    if ((rc = directory_read_begin(dir, conn, &tx)) != OK) {
        rc = store_failure(rc, err);
        goto done;
    }
    if ((rc = find_group(tx, conn, id, &g, err)) != OK)
        goto done;
    if ((rc = hand_out(tx, conn, &g, proj, true, out)) != OK)
        rc = store_failure(rc, err);
done:
    directory_read_end(conn, tx);
    store_group_release(&g);
    scim_projection_free(proj);
    return rc;
}

/* ---- update ---------------------------------------------------------------------------------- */

/* A PATCH split in two: operations on members become row operations, the
 * rest is applied to the member-less document. */
struct group_step {
    const char *method;
    const json_t *body;             /* PUT */
    const struct scim_patch *patch; /* PATCH */
};

/* One planned member action against the rows. */
static enum status member_action(struct store_tx *tx, const struct scim_conn *conn,
                                 const char *group_id, const struct scim_members_action *a,
                                 struct member_changes *c, struct scim_error *err)
{
    struct id_list ids = { 0 };
    enum status rc = OK;
    for (size_t i = 0; rc == OK && i < a->n_ids; i++)
        rc = id_list_push(&ids, a->ids[i]);
    if (rc == OK) {
        switch (a->kind) {
        case SCIM_MEMBERS_ADD:
            rc = members_add(tx, conn, group_id, &ids, c, err);
            break;
        case SCIM_MEMBERS_REMOVE:
            rc = members_remove(tx, conn, group_id, &ids, c);
            break;
        case SCIM_MEMBERS_REPLACE:
            rc = members_replace(tx, conn, group_id, &ids, c, err);
            break;
        case SCIM_MEMBERS_CLEAR:
            rc = members_clear(tx, conn, group_id, c);
            break;
        }
    }
    id_list_free(&ids);
    return rc;
}

/* Member operations of patch go to the rows (in order), the rest to the document. */
static enum status run_patch(struct store_tx *tx, const struct scim_conn *conn,
                             const char *group_id, const struct scim_patch *patch, json_t **current,
                             struct member_changes *c, struct scim_error *err)
{
    struct scim_members_plan plan;
    enum status rc = scim_members_plan(patch, &plan, err);
    for (size_t i = 0; rc == OK && i < plan.n_actions; i++)
        rc = member_action(tx, conn, group_id, &plan.actions[i], c, err);
    if (rc == OK && plan.rest.n_ops > 0)
        rc = scim_patch_apply(&plan.rest, group_rt, current, err);
    scim_members_plan_release(&plan);
    return rc;
}

/* Run step on g: the new member-less document into *doc and the member changes into c. */
static enum status run_step(const struct group_step *step, struct store_tx *tx,
                            const struct scim_conn *conn, const struct store_group *g, json_t **doc,
                            struct member_changes *c, struct scim_error *err)
{
    enum status rc;
    if (step->patch) {
        json_t *current = json_loads(g->doc, 0, NULL);
        if (current == NULL)
            return scim_error_set(err, ERR_STORE, "stored resource is unreadable");
        rc = run_patch(tx, conn, g->id, step->patch, &current, c, err);
        if (rc == OK)
            rc = scim_schema_validate(group_rt, current, SCIM_VALIDATE_RESULT, doc, err);
        json_decref(current);
        if (rc == OK)
            json_object_del(*doc, "members"); /* never stored in the document */
        return rc;
    }
    struct id_list ids = { 0 };
    bool present = false;
    rc = scim_schema_validate(group_rt, step->body, SCIM_VALIDATE_REPLACE, doc, err);
    if (rc == OK)
        rc = split_members(*doc, &ids, &present, err);
    /* PUT replaces the whole resource: no members means an empty group */
    if (rc == OK)
        rc = members_replace(tx, conn, g->id, &ids, c, err);
    id_list_free(&ids);
    return rc;
}

/* Write what step changed: a new version when the document or the members changed. */
static enum status apply_update(struct store_tx *tx, const struct scim_conn *conn,
                                const char *method, json_t *doc, struct store_group *g,
                                const struct member_changes *c, struct scim_error *err)
{
    json_t *before = json_loads(g->doc, 0, NULL);
    if (before == NULL)
        return scim_error_set(err, ERR_STORE, "stored resource is unreadable");
    json_t *changed = changed_attributes(before, doc);
    json_decref(before);
    if (changed == NULL)
        return ERR_NOMEM;
    if (members_changed(c))
        json_array_append_new(changed, json_string("members"));
    enum status rc = OK;
    if (json_array_size(changed) == 0)
        goto done;
    g->version++;
    clock_now_iso(g->updated_at);
    const char *external_id = json_string_value(json_object_get(doc, "externalId"));
    const char *display_name = json_string_value(json_object_get(doc, "displayName"));
    free(g->external_id);
    free(g->display_name);
    g->external_id = external_id ? str_dup(external_id) : NULL;
    g->display_name = str_dup(display_name ? display_name : "");
    if ((external_id && g->external_id == NULL) || g->display_name == NULL) {
        rc = ERR_NOMEM;
        goto done;
    }
    if ((rc = render_row(conn, doc, g)) != OK)
        goto done;
    if ((rc = store_group_update(tx, g)) != OK)
        goto done;
    json_t *summary = json_pack("{s:s,s:O}", "method", method, "changed", changed);
    rc = summary ? event(tx, conn, "scim_group_updated", g->id, summary) : ERR_NOMEM;
    json_decref(summary);
    if (rc == OK)
        rc = event_members(tx, conn, g->id, c);
done:
    json_decref(changed);
    return rc;
}

static enum status update_group(struct directory *dir, const struct scim_conn *conn, const char *id,
                                const char *if_match, const struct group_step *step,
                                const struct scim_projection *proj, bool want_text,
                                struct scim_doc *out, struct scim_error *err)
{
    memset(out, 0, sizeof(*out));
    struct store_tx *tx = NULL;
    struct store_group g = { 0 };
    struct member_changes changes = { 0 };
    json_t *doc = NULL;
    enum status rc = store_begin(dir->store, true, &tx);
    if (rc == OK)
        rc = lock_group(tx, conn, id);
    if (rc != OK)
        goto done;
    if ((rc = event_received(tx, conn, step->method, id)) != OK)
        goto done;
    if ((rc = find_group(tx, conn, id, &g, err)) != OK)
        goto done;
    if (!scim_etag_matches(if_match, g.version)) {
        rc = scim_error_set(err, ERR_PRECONDITION, "If-Match does not match version %" PRId64,
                            g.version);
        goto done;
    }
    if ((rc = run_step(step, tx, conn, &g, &doc, &changes, err)) != OK)
        goto done;
    if ((rc = apply_update(tx, conn, step->method, doc, &g, &changes, err)) != OK)
        goto done;
    if ((rc = hand_out(tx, conn, &g, proj, want_text, out)) != OK)
        goto done;
    rc = store_commit(tx);
    tx = NULL;

done:
    store_rollback(tx);
    json_decref(doc);
    store_group_release(&g);
    member_changes_free(&changes);
    if (rc == OK)
        return OK;
    scim_doc_release(out);
    if (err->status != rc)
        store_failure(rc, err);
    record_failure(dir, conn, step->method, id, err);
    return err->status;
}

enum status directory_scim_group_replace(struct directory *dir, const struct scim_conn *conn,
                                         const char *id, const char *if_match, const json_t *body,
                                         struct scim_doc *out, struct scim_error *err)
{
    scim_error_clear(err);
    struct group_step step = { .method = "PUT", .body = body };
    return update_group(dir, conn, id, if_match, &step, NULL, true, out, err);
}

enum status directory_scim_group_patch(struct directory *dir, const struct scim_conn *conn,
                                       const char *id, const char *if_match, json_t *body,
                                       const char *attributes, const char *excluded,
                                       bool want_resource, struct scim_doc *out,
                                       struct scim_error *err)
{
    scim_error_clear(err);
    memset(out, 0, sizeof(*out));
    struct scim_patch *patch = NULL;
    struct scim_projection *proj = NULL;
    enum status rc = scim_projection_parse(group_rt, attributes, excluded, &proj, err);
    if (rc == OK)
        rc = scim_quirks_patch(group_rt, body, err);
    if (rc == OK)
        rc = scim_patch_parse(group_rt, body, &patch, err);
    if (rc != OK) {
        if (err->status != rc)
            store_failure(rc, err);
        record_failure(dir, conn, "PATCH", id, err);
        scim_projection_free(proj);
        return err->status;
    }
    struct group_step step = { .method = "PATCH", .patch = patch };
    rc = update_group(dir, conn, id, if_match, &step, proj, want_resource, out, err);
    scim_patch_free(patch);
    scim_projection_free(proj);
    return rc;
}

/* ---- delete -----------------------------------------------------------------------------------
 */

enum status directory_scim_group_delete(struct directory *dir, const struct scim_conn *conn,
                                        const char *id, const char *if_match,
                                        struct scim_error *err)
{
    scim_error_clear(err);
    struct store_tx *tx = NULL;
    struct store_group g = { 0 };
    enum status rc = store_begin(dir->store, true, &tx);
    if (rc == OK)
        rc = lock_group(tx, conn, id);
    if (rc != OK)
        goto fail;
    if ((rc = event_received(tx, conn, "DELETE", id)) != OK)
        goto fail;
    if ((rc = find_group(tx, conn, id, &g, err)) != OK)
        goto fail;
    if (!scim_etag_matches(if_match, g.version)) {
        rc = scim_error_set(err, ERR_PRECONDITION, "If-Match does not match version %" PRId64,
                            g.version);
        goto fail;
    }
    /* Groups have no soft delete: the group and its member rows are gone. */
    struct id_list gone = { 0 };
    bool mapped = false;
    rc = store_group_has_roles(tx, conn->tenant_id, conn->idp_id, g.id, &mapped);
    if (rc == OK && mapped)
        rc =
            store_group_members_clear(tx, conn->tenant_id, conn->idp_id, g.id, id_list_push, &gone);
    /* roles first: the group's role mappings go with it */
    if (rc == OK && mapped)
        rc = recompute_roles(tx, conn, g.id, &gone);
    if (rc == OK)
        rc = store_group_delete(tx, conn->tenant_id, conn->idp_id, g.id);
    id_list_free(&gone);
    if (rc != OK)
        goto fail;
    if ((rc = event(tx, conn, "scim_group_deleted", g.id, NULL)) != OK)
        goto fail;
    rc = store_commit(tx);
    tx = NULL;
    if (rc != OK)
        goto fail;
    store_group_release(&g);
    return OK;

fail:
    store_rollback(tx);
    store_group_release(&g);
    if (err->status != rc)
        store_failure(rc, err);
    record_failure(dir, conn, "DELETE", id, err);
    return err->status;
}

/* ---- list -------------------------------------------------------------------------------------
 */

struct group_collect {
    struct store_tx *tx;
    const struct scim_conn *conn;
    const struct scim_filter *filter;
    const struct scim_projection *proj;
    const struct store_search_result *res;
    size_t offset, count; /* the page, when the store could not apply it */
    size_t matched;       /* inexact path: matches seen so far */
    size_t shown;
    struct buf *texts;
};

static enum status emit(struct group_collect *c, char *text)
{
    if (text == NULL)
        return ERR_NOMEM;
    if (c->shown++)
        buf_putc(c->texts, ',');
    buf_puts(c->texts, text);
    free(text);
    return c->texts->failed ? ERR_NOMEM : OK;
}

static enum status collect_group(void *ctx, const struct store_group *g)
{
    struct group_collect *c = ctx;
    char *text = NULL;
    enum status rc;
    if (c->res->exact)
        return (rc = group_text(c->tx, c->conn, g, c->proj, &text)) == OK ? emit(c, text) : rc;
    /* The filter may look at members: match the full resource. */
    if ((rc = text_with_members(c->tx, c->conn, g, &text)) != OK)
        return rc;
    json_t *full = json_loads(text, 0, NULL);
    free(text);
    if (full == NULL)
        return ERR_STORE;
    bool hit = scim_filter_match(c->filter, full);
    size_t index = c->matched;
    if (hit)
        c->matched++;
    if (hit && index >= c->offset && index - c->offset < c->count) {
        json_t *shown = scim_projection_apply(c->proj, group_rt, full);
        text = shown ? scim_json_text(shown) : NULL;
        json_decref(shown);
        rc = emit(c, text);
    }
    json_decref(full);
    return rc;
}

/* A cursor-walk row: filter when inexact, keyset, keep up to count + 1. */
static enum status collect_group_cursor(void *ctx, const struct store_group *g)
{
    struct directory_cursor_collect *c = ctx;
    char *text = NULL;
    enum status rc;
    if (c->res->exact) {
        if (c->page.n > c->count)
            return OK;
        rc = group_text(c->tx, c->conn, g, c->proj, &text);
        return rc == OK ? directory_page_add(&c->page, g->id, text) : rc;
    }
    if ((rc = text_with_members(c->tx, c->conn, g, &text)) != OK)
        return rc;
    json_t *full = json_loads(text, 0, NULL);
    free(text);
    if (full == NULL)
        return ERR_STORE;
    if (scim_filter_match(c->filter, full) && directory_cursor_past(c->cur, g->id)) {
        if (c->page.matched++ <= c->count) {
            json_t *shown = scim_projection_apply(c->proj, group_rt, full);
            text = shown ? scim_json_text(shown) : NULL;
            json_decref(shown);
            rc = directory_page_add(&c->page, g->id, text);
        }
    }
    json_decref(full);
    return rc;
}

static enum status search_groups(struct store_tx *tx, const struct store_search *search,
                                 struct directory_cursor_collect *c,
                                 struct store_search_result *res)
{
    return store_group_search(tx, search, collect_group_cursor, c, res);
}

/* sortBy: groups sort in SQL on the columns they have; anything else keeps storage order. */
static enum status group_sort(const char *sort_by, enum store_sort *order, struct scim_error *err)
{
    *order = STORE_SORT_NONE;
    if (sort_by == NULL || *sort_by == '\0')
        return OK;
    struct scim_attr_ref ref;
    if (scim_schema_resolve(group_rt, sort_by, &ref, err) != OK)
        return scim_error_set(err, ERR_INVALID_VALUE, "cannot sort by unknown attribute '%.64s'",
                              sort_by);
    /* clang-format off */
    static const struct { const char *attr, *sub; enum store_sort order; } orders[] = {
        { "displayName", NULL,           STORE_SORT_DISPLAY_NAME },
        { "externalId",  NULL,           STORE_SORT_EXTERNAL_ID },
        { "id",          NULL,           STORE_SORT_ID },
        { "meta",        "created",      STORE_SORT_CREATED },
        { "meta",        "lastModified", STORE_SORT_LAST_MODIFIED },
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
        bool sub_ok =
            orders[i].sub ? ref.sub && str_ieq(ref.sub->name, orders[i].sub) : ref.sub == NULL;
        if (str_ieq(ref.attr->name, orders[i].attr) && sub_ok)
            *order = orders[i].order;
    }
    return OK;
}

enum status directory_scim_group_list(struct directory *dir, const struct scim_conn *conn,
                                      const struct scim_list_query *q, char **out,
                                      struct scim_error *err)
{
    scim_error_clear(err);
    *out = NULL;
    struct scim_filter *filter = NULL;
    struct scim_projection *proj = NULL;
    struct store_tx *tx = NULL;
    struct buf resources;
    buf_init(&resources, 0);
    enum status rc = OK;
    enum store_sort order = STORE_SORT_NONE;

    if (q->filter && (rc = scim_filter_parse(q->filter, &filter, err)) == OK)
        rc = scim_filter_bind(filter, group_rt, err);
    if (rc == OK)
        rc = scim_projection_parse(group_rt, q->attributes, q->excluded, &proj, err);
    if (rc == OK)
        rc = group_sort(q->sort_by, &order, err);
    struct directory_cursor cur;
    if (rc == OK)
        rc = directory_cursor_begin(dir, conn, group_rt, q, filter, &cur, err);
    if (rc != OK)
        goto done;
    if (cur.active) {
        rc = directory_cursor_list(dir, conn, q, &cur, filter, proj, search_groups, out);
        goto done;
    }

    size_t offset = q->start_index > 0 ? q->start_index - 1 : 0;
    struct store_search search = {
        .tenant_id = conn->tenant_id,
        .idp_id = conn->idp_id,
        .filter = filter,
        .sort = order,
        .descending = q->descending,
        .offset = offset,
        .limit = q->count,
    };
    struct store_search_result res = { 0 };
    struct group_collect c = {
        .conn = conn,
        .filter = filter,
        .proj = proj,
        .res = &res,
        .offset = offset,
        .count = q->count,
        .texts = &resources,
    };
    if ((rc = directory_read_begin(dir, conn, &tx)) != OK)
        goto done;
    c.tx = tx;
    rc = store_group_search(tx, &search, collect_group, &c, &res);
    directory_read_end(conn, tx);
    if (rc != OK)
        goto done;

    size_t total = res.exact ? res.total : c.matched;
    rc = directory_list_text(total, offset + 1, c.shown, &resources, out);

done:
    if (rc != OK && err->status != rc)
        scim_error_set(err, rc,
                       rc == ERR_UNAVAILABLE ? "the directory is busy; retry the request"
                                             : "could not list groups");
    buf_release(&resources);
    scim_projection_free(proj);
    scim_filter_free(filter);
    return rc == OK ? OK : err->status;
}

/* ---- Users' groups attribute -------------------------------------------------------------- */

struct groups_attr {
    json_t *array;
    const char *base_url;
};

static enum status add_group_ref(void *ctx, const char *group_id, const char *display_name)
{
    struct groups_attr *a = ctx;
    char ref[DIRECTORY_URL_MAX + 64];
    snprintf(ref, sizeof(ref), "%sGroups/%s", a->base_url, group_id);
    json_t *e = json_pack("{s:s,s:s,s:s,s:s}", "value", group_id, "display",
                          display_name ? display_name : "", "$ref", ref, "type", "direct");
    return e && json_array_append_new(a->array, e) == 0 ? OK : ERR_NOMEM;
}

enum status directory_user_groups_render(struct store_tx *tx, const struct scim_conn *conn,
                                         const char *user_id, const char *doc, char **out)
{
    *out = NULL;
    bool in_groups = false;
    enum status rc = store_user_in_groups(tx, conn->tenant_id, conn->idp_id, user_id, &in_groups);
    if (rc != OK || !in_groups)
        return rc; /* the common case: the stored text is the answer */
    json_t *user = json_loads(doc, 0, NULL);
    struct groups_attr a = { json_array(), conn->base_url };
    if (user == NULL || a.array == NULL) {
        json_decref(user);
        json_decref(a.array);
        return user == NULL ? ERR_STORE : ERR_NOMEM;
    }
    rc = store_groups_of_user_each(tx, conn->tenant_id, conn->idp_id, user_id, add_group_ref, &a);
    if (rc == OK && json_array_size(a.array) > 0) {
        json_object_set(user, "groups", a.array);
        *out = scim_json_text(user);
        if (*out == NULL)
            rc = ERR_NOMEM;
    }
    json_decref(a.array);
    json_decref(user);
    return rc;
}
