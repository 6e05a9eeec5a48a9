/* SPDX-License-Identifier: Apache-2.0 */
/*
 * users.c - the SCIM User lifecycle of one IdP connection (DESIGN.md §1):
 * create with merge by externalId, userName uniqueness and adoption by
 * email; replace and patch; deactivate and reactivate; soft delete; reads.
 *
 * Each write runs in one store transaction that also holds its audit
 * events.  When a write fails, the transaction is rolled back and the
 * failure is recorded in a transaction of its own, so the audit log shows
 * every request that tried to change state.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
#include "scim/patch.h"
#include "scim/quirks.h"
#include "scim/render.h"
#include "scim/schema.h"

static const struct scim_resource_type *const user_rt = &scim_resource_user;

void scim_doc_release(struct scim_doc *d)
{
    free(d->text);
    d->text = NULL;
}

/* ---- failures --------------------------------------------------------------------------- */

static void record_failure(struct directory *dir, const struct scim_conn *conn, const char *method,
                           const char *subject_id, const struct scim_error *failure)
{
    audit_scim_failure(dir->store, conn, "User", method, subject_id, failure);
}

void directory_scim_request_failed(struct directory *dir, const struct scim_conn *conn,
                                   const char *resource_type, const char *subject_id,
                                   const struct scim_error *failure)
{
    bool group = resource_type != NULL && strcmp(resource_type, "Group") == 0;
    audit_scim_failure(dir->store, conn, group ? "Group" : "User", "request", subject_id, failure);
}

/* Store errors become messages a client can act on. */
static enum status store_failure(enum status rc, struct scim_error *err)
{
    return directory_store_failure(rc, "userName, externalId and emails values",
                                   "userName or externalId is already in use on this connection",
                                   err);
}

/* ---- shared steps ------------------------------------------------------------------------- */

static enum status event(struct store_tx *tx, const struct scim_conn *conn, const char *type,
                         const char *subject_id, const json_t *summary)
{
    return audit_scim_event(tx, conn, type, subject_id, summary);
}

static enum status event_received(struct store_tx *tx, const struct scim_conn *conn,
                                  const char *method, const char *subject_id)
{
    return audit_scim_received(tx, conn, "User", method, subject_id);
}

/* Names of the top-level attributes (and extension attributes) that differ. */
static json_t *changed_attributes(const json_t *before, const json_t *after)
{
    json_t *names = json_array();
    if (names == NULL)
        return NULL;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)after, key, value)
    {
        if (strcmp(key, "meta") == 0 || strcmp(key, "id") == 0 || strcmp(key, "schemas") == 0)
            continue;
        if (!json_equal(value, json_object_get(before, key)))
            json_array_append_new(names, json_string(key));
    }
    json_object_foreach((json_t *)before, key, value)
    {
        if (strcmp(key, "meta") == 0 || strcmp(key, "id") == 0 || strcmp(key, "schemas") == 0)
            continue;
        if (json_object_get(after, key) == NULL)
            json_array_append_new(names, json_string(key));
    }
    return names;
}

/* Render doc as the stored resource of row (id, meta) into row->doc. */
static enum status render_row(const struct scim_conn *conn, json_t *doc, struct store_idp_user *row)
{
    struct resource_meta m = { row->user_id, row->created_at, row->updated_at, row->version };
    return directory_render(conn, user_rt, doc, &m, &row->doc);
}

/* Fill row's searchable columns from the mirrored fields (borrowed from doc). */
static enum status row_columns(struct store_idp_user *row, const struct mirror *m)
{
    free(row->external_id);
    free(row->user_name);
    free(row->emails);
    row->external_id = str_dup(m->external_id);
    row->user_name = str_dup(m->user_name);
    row->emails = NULL;
    row->n_emails = 0;
    if ((m->external_id && row->external_id == NULL) || row->user_name == NULL)
        return ERR_NOMEM;
    /* the strings stay borrowed from the document; store copies what it keeps */
    row->emails = malloc(sizeof(char *) * (m->n_emails ? m->n_emails : 1));
    if (row->emails == NULL)
        return ERR_NOMEM;
    for (size_t i = 0; i < m->n_emails; i++)
        row->emails[i] = (char *)m->emails[i];
    row->n_emails = m->n_emails;
    row->active = m->active;
    return OK;
}

/* store_idp_user_release frees emails[i]; ours are borrowed, so drop them first. */
static void row_release(struct store_idp_user *row)
{
    free(row->emails);
    row->emails = NULL;
    row->n_emails = 0;
    store_idp_user_release(row);
}

static const char *status_of(bool active, bool deleted)
{
    return deleted ? "deleted" : active ? "active" : "deactivated";
}

/* The resource as answered: the stored document, plus the derived groups
 * attribute when the user is in a group (never stored: membership is rows). */
static enum status hand_out(struct store_tx *tx, const struct scim_conn *conn,
                            const struct store_idp_user *row, struct scim_doc *out)
{
    char *with_groups = NULL;
    enum status rc = directory_user_groups_render(tx, conn, row->user_id, row->doc, &with_groups);
    if (rc != OK)
        return rc;
    out->text = with_groups ? with_groups : str_dup(row->doc);
    out->version = row->version;
    str_copy(out->id, sizeof(out->id), row->user_id);
    return out->text ? OK : ERR_NOMEM;
}

/* Make doc's "active" explicit: absent means true (RFC 7643 leaves it to us). */
static void default_active(json_t *doc)
{
    if (json_object_get(doc, "active") == NULL)
        json_object_set_new(doc, "active", json_true());
}

/* ---- create --------------------------------------------------------------------------------- */

enum create_outcome { CREATED, MERGED, ADOPTED };

/* Write the transition events that follow from active/deleted before and after. */
static enum status lifecycle_events(struct store_tx *tx, const struct scim_conn *conn,
                                    const char *user_id, bool was_live, bool is_live)
{
    if (!was_live && is_live)
        return event(tx, conn, "scim_user_reactivated", user_id, NULL);
    if (was_live && !is_live)
        return event(tx, conn, "scim_user_deactivated", user_id, NULL);
    return OK;
}

/* Update the canonical user after its IdP row changed. */
static enum status update_user(struct store_tx *tx, const struct scim_conn *conn,
                               const struct mirror *m, const char *user_id, bool deleted,
                               const char *now)
{
    struct store_user user;
    enum status rc = store_user_get(tx, conn->tenant_id, user_id, &user);
    if (rc != OK)
        return rc;
    const char *status = status_of(m->active, deleted);
    bool liveness_changed = strcmp(user.status, status) != 0;
    rc = mirror_apply(m, &user);
    if (rc == OK)
        rc = mirror_derive(tx, &user, conn->idp_id, NULL); /* the tenant's mapping */
    if (rc == OK) {
        str_copy(user.status, sizeof(user.status), status);
        str_copy(user.idp_id, sizeof(user.idp_id), conn->idp_id);
        user.scim_managed = true;
        str_copy(user.updated_at, sizeof(user.updated_at), now);
        rc = store_user_update(tx, &user);
    }
    store_user_release(&user);
    if (rc != OK || !liveness_changed)
        return rc;
    struct audit_ctx ctx = audit_of_conn(conn); /* live memberships grant roles */
    return roles_recompute(tx, &ctx, conn->tenant_id, user_id);
}

/* POST with a known externalId: the same user comes back, updated. */
static enum status merge(struct store_tx *tx, const struct scim_conn *conn, json_t *doc,
                         const struct mirror *m, struct store_idp_user *row, const char *now)
{
    bool was_live = row->active && !row->deleted;
    json_t *before = json_loads(row->doc, 0, NULL);
    json_t *changed = before ? changed_attributes(before, doc) : json_array();
    json_decref(before);
    if (changed == NULL)
        return ERR_NOMEM;

    row->deleted = false;
    row->version++;
    str_copy(row->updated_at, sizeof(row->updated_at), now);
    enum status rc = row_columns(row, m);
    if (rc == OK)
        rc = render_row(conn, doc, row);
    if (rc == OK)
        rc = store_idp_user_update(tx, row);
    if (rc == OK)
        rc = update_user(tx, conn, m, row->user_id, false, now);
    if (rc == OK) {
        json_t *summary = json_pack("{s:s,s:O}", "key", "externalId", "changed", changed);
        rc = summary ? event(tx, conn, "scim_user_merged", row->user_id, summary) : ERR_NOMEM;
        json_decref(summary);
    }
    json_decref(changed);
    if (rc == OK)
        rc = lifecycle_events(tx, conn, row->user_id, was_live, m->active);
    return rc;
}

#define MERGE_TARGET_TRIES 3

/* The row a POST with this externalId merges into, locked.  Another write may
 * move the externalId between finding the row and holding its lock, so the
 * row is read again until the one found is the one locked. */
static enum status merge_target(struct store_tx *tx, const struct scim_conn *conn,
                                const char *external_id, struct store_idp_user *row)
{
    enum status rc =
        store_idp_user_by_external_id(tx, conn->tenant_id, conn->idp_id, external_id, row);
    for (int tries = 0; rc == OK && tries < MERGE_TARGET_TRIES; tries++) {
        char locked[STORE_ID_LEN];
        str_copy(locked, sizeof(locked), row->user_id);
        rc = lock_user(tx, conn, locked);
        store_idp_user_release(row);
        memset(row, 0, sizeof(*row));
        if (rc == OK)
            rc = store_idp_user_by_external_id(tx, conn->tenant_id, conn->idp_id, external_id, row);
        if (rc == OK && strcmp(row->user_id, locked) == 0)
            return OK;
    }
    if (rc == OK) { /* the externalId kept moving: let the client retry */
        store_idp_user_release(row);
        memset(row, 0, sizeof(*row));
        rc = ERR_UNAVAILABLE;
    }
    return rc;
}

/* A new IdP row for user_id (a new or an adopted user). */
static enum status insert_row(struct store_tx *tx, const struct scim_conn *conn, json_t *doc,
                              const struct mirror *m, const char *user_id, const char *now,
                              struct store_idp_user *row)
{
    str_copy(row->tenant_id, sizeof(row->tenant_id), conn->tenant_id);
    str_copy(row->idp_id, sizeof(row->idp_id), conn->idp_id);
    str_copy(row->user_id, sizeof(row->user_id), user_id);
    str_copy(row->created_at, sizeof(row->created_at), now);
    str_copy(row->updated_at, sizeof(row->updated_at), now);
    row->version = 1;
    enum status rc = row_columns(row, m);
    if (rc == OK)
        rc = render_row(conn, doc, row);
    if (rc == OK)
        rc = store_idp_user_insert(tx, row);
    return rc;
}

/* Adopt an existing tenant user, or create one.  ERR_UNIQUENESS when the
 * matching user signed in through another IdP connection. */
static enum status adopt_or_create(struct store_tx *tx, const struct scim_conn *conn, json_t *doc,
                                   const struct mirror *m, const char *now,
                                   struct store_idp_user *row, enum create_outcome *outcome,
                                   struct scim_error *err)
{
    struct store_user user;
    enum status rc = store_user_find_match(tx, conn->tenant_id, m->email, m->user_name, &user);
    if (rc == OK) {
        /* The match is decided on the user's own email/username, which other
         * creates lock under other keys: hold the user itself, then read it again. */
        char id[STORE_ID_LEN];
        str_copy(id, sizeof(id), user.id);
        store_user_release(&user);
        rc = lock_user(tx, conn, id);
        if (rc == OK)
            rc = store_user_get(tx, conn->tenant_id, id, &user);
    }
    if (rc != OK && rc != ERR_NOT_FOUND)
        return rc;
    bool found = rc == OK;
    /* Users another connection already manages are that IdP's objects: each
     * connection keeps its own, so this is a new user, never a merge. */
    if (found && user.scim_managed) {
        store_user_release(&user);
        found = false;
    }
    /* Signed in through another IdP but not yet managed: adopting it would
     * hand that account to this IdP (account takeover). */
    if (found && user.idp_id[0] && strcmp(user.idp_id, conn->idp_id) != 0) {
        store_user_release(&user);
        return scim_error_set(
            err, ERR_UNIQUENESS,
            "a user with this email or userName belongs to another identity provider");
    }
    if (found) {
        *outcome = ADOPTED;
        rc = insert_row(tx, conn, doc, m, user.id, now, row);
        store_user_release(&user);
        if (rc == OK)
            rc = update_user(tx, conn, m, row->user_id, false, now);
        return rc;
    }

    *outcome = CREATED;
    struct store_user fresh = { 0 };
    if ((rc = crypto_uuid(fresh.id)) != OK)
        return rc;
    str_copy(fresh.tenant_id, sizeof(fresh.tenant_id), conn->tenant_id);
    str_copy(fresh.idp_id, sizeof(fresh.idp_id), conn->idp_id);
    str_copy(fresh.status, sizeof(fresh.status), status_of(m->active, false));
    str_copy(fresh.created_at, sizeof(fresh.created_at), now);
    str_copy(fresh.updated_at, sizeof(fresh.updated_at), now);
    fresh.scim_managed = true;
    rc = mirror_apply(m, &fresh);
    if (rc == OK)
        rc = store_user_insert(tx, &fresh);
    if (rc == OK)
        rc = insert_row(tx, conn, doc, m, fresh.id, now, row);
    bool derived = false; /* the tenant's mapping, custom fields (no roles yet: no groups) */
    if (rc == OK)
        rc = mirror_derive(tx, &fresh, conn->idp_id, &derived);
    if (rc == OK && derived)
        rc = store_user_update(tx, &fresh);
    store_user_release(&fresh);
    return rc;
}

enum status directory_scim_user_create(struct directory *dir, const struct scim_conn *conn,
                                       const json_t *body, struct scim_doc *out,
                                       struct scim_error *err)
{
    scim_error_clear(err);
    memset(out, 0, sizeof(*out));
    json_t *doc = NULL;
    struct store_tx *tx = NULL;
    struct store_idp_user row = { 0 };
    /* validated in the write transaction, with the tenant's extension schemas read there */
    struct user_type ut;
    enum status rc = store_begin(dir->store, true, &tx);
    if (rc == OK)
        rc = user_type_load(tx, conn->tenant_id, &ut);
    if (rc == OK) {
        rc = scim_schema_validate(&ut.ext.rt, body, SCIM_VALIDATE_CREATE, &doc, err);
        user_type_release(&ut);
    }
    if (rc != OK)
        goto fail;
    default_active(doc);
    struct mirror m;
    mirror_read(doc, &m);
    char now[STORE_TIME_LEN];
    clock_now_iso(now);

    if ((rc = lock_user_identity(tx, conn, m.external_id, m.email, m.user_name)) != OK)
        goto fail;
    if ((rc = event_received(tx, conn, "POST", NULL)) != OK)
        goto fail;

    enum create_outcome outcome = CREATED;
    rc = ERR_NOT_FOUND;
    if (m.external_id)
        rc = merge_target(tx, conn, m.external_id, &row);
    if (rc == OK) {
        outcome = MERGED;
        rc = merge(tx, conn, doc, &m, &row, now);
    } else if (rc == ERR_NOT_FOUND) {
        struct store_idp_user holder = { 0 };
        rc = store_idp_user_by_user_name(tx, conn->tenant_id, conn->idp_id, m.user_name, &holder);
        if (rc == OK) {
            rc = scim_error_set(err, ERR_UNIQUENESS,
                                "userName is already in use by another user of this connection");
            store_idp_user_release(&holder);
        } else if (rc == ERR_NOT_FOUND) {
            rc = adopt_or_create(tx, conn, doc, &m, now, &row, &outcome, err);
        }
    }
    if (rc != OK)
        goto fail;

    if (outcome != MERGED) {
        json_t *summary = json_pack("{s:b}", "active", m.active);
        const char *type = outcome == ADOPTED ? "scim_user_adopted" : "scim_user_created";
        rc = summary ? event(tx, conn, type, row.user_id, summary) : ERR_NOMEM;
        json_decref(summary);
        if (rc != OK)
            goto fail;
    }
    if ((rc = hand_out(tx, conn, &row, out)) != OK)
        goto fail;
    rc = store_commit(tx);
    tx = NULL;
    if (rc != OK)
        goto fail;
    json_decref(doc);
    row_release(&row);
    return OK;

fail:
    store_rollback(tx);
    json_decref(doc);
    scim_doc_release(out);
    if (err->status != rc)
        store_failure(rc, err);
    record_failure(dir, conn, "POST", row.user_id[0] ? row.user_id : NULL, err);
    row_release(&row);
    return err->status;
}

/* ---- read ------------------------------------------------------------------------------------ */

/* The live row id of this connection, or ERR_NOT_FOUND (deleted rows included). */
static enum status live_row(struct store_tx *tx, const struct scim_conn *conn, const char *id,
                            struct store_idp_user *row, struct scim_error *err)
{
    enum status rc = store_idp_user_get(tx, conn->tenant_id, conn->idp_id, id, row);
    if (rc == OK && row->deleted) {
        store_idp_user_release(row);
        memset(row, 0, sizeof(*row));
        rc = ERR_NOT_FOUND;
    }
    if (rc == ERR_NOT_FOUND)
        return scim_error_set(err, rc, "no User with id '%.64s'", id);
    return rc == OK ? OK : store_failure(rc, err);
}

enum status directory_scim_user_get(struct directory *dir, const struct scim_conn *conn,
                                    const char *id, struct scim_doc *out, struct scim_error *err)
{
    scim_error_clear(err);
    memset(out, 0, sizeof(*out));
    struct store_tx *tx = NULL;
    enum status rc = directory_read_begin(dir, conn, &tx);
    if (rc != OK)
        return store_failure(rc, err);
    struct store_idp_user row = { 0 };
    rc = live_row(tx, conn, id, &row, err);
    if (rc != OK) {
        directory_read_end(conn, tx);
        return rc;
    }
    rc = hand_out(tx, conn, &row, out);
    directory_read_end(conn, tx);
    store_idp_user_release(&row);
    return rc == OK ? OK : store_failure(rc, err);
}

/* ---- update ---------------------------------------------------------------------------------- */

/* Replace row's document with doc (validated); events for what changed. */
static enum status apply_update(struct store_tx *tx, const struct scim_conn *conn,
                                const char *method, json_t *doc, struct store_idp_user *row,
                                struct scim_error *err)
{
    json_t *before = json_loads(row->doc, 0, NULL);
    if (before == NULL)
        return scim_error_set(err, ERR_STORE, "stored resource is unreadable");
    default_active(doc);
    json_t *changed = changed_attributes(before, doc);
    json_decref(before);
    if (changed == NULL)
        return ERR_NOMEM;
    enum status rc = OK;
    if (json_array_size(changed) == 0)
        goto done; /* nothing changed: same version, no events beyond "received" */

    struct mirror m;
    mirror_read(doc, &m);
    bool was_active = row->active;
    char now[STORE_TIME_LEN];
    clock_now_iso(now);
    row->version++;
    str_copy(row->updated_at, sizeof(row->updated_at), now);
    if ((rc = row_columns(row, &m)) != OK || (rc = render_row(conn, doc, row)) != OK)
        goto done;
    rc = store_idp_user_update(tx, row);
    if (rc == ERR_UNIQUENESS) {
        rc = scim_error_set(err, rc, "userName or externalId is already in use on this connection");
        goto done;
    }
    if (rc == OK)
        rc = update_user(tx, conn, &m, row->user_id, false, now);
    if (rc == OK) {
        json_t *summary = json_pack("{s:s,s:O}", "method", method, "changed", changed);
        rc = summary ? event(tx, conn, "scim_user_updated", row->user_id, summary) : ERR_NOMEM;
        json_decref(summary);
    }
    if (rc == OK)
        rc = lifecycle_events(tx, conn, row->user_id, was_active, m.active);
done:
    json_decref(changed);
    return rc;
}

/* The frame every write on an existing user shares: begin, received event,
 * live row, If-Match; then the step's change; then commit and hand out the
 * result (when out is not NULL). */
struct update_step {
    const char *method;
    const struct scim_resource_type *rt; /* the tenant's User type (PUT, PATCH) */
    const json_t *body;                  /* PUT: the new document */
    const struct scim_patch *patch;      /* PATCH */
    enum status (*change)(const struct update_step *step, struct store_tx *tx,
                          const struct scim_conn *conn, struct store_idp_user *row,
                          struct scim_error *err);
};

static enum status replace_change(const struct update_step *step, struct store_tx *tx,
                                  const struct scim_conn *conn, struct store_idp_user *row,
                                  struct scim_error *err)
{
    json_t *doc = NULL;
    enum status rc = scim_schema_validate(step->rt, step->body, SCIM_VALIDATE_REPLACE, &doc, err);
    /* a PUT that does not mention "active" does not assert it (RFC 7644 §3.5.1): the user
     * keeps its state, never reactivated by omission */
    if (rc == OK && json_object_get(doc, "active") == NULL &&
        json_object_set_new(doc, "active", json_boolean(row->active)) != 0)
        rc = ERR_NOMEM;
    if (rc == OK)
        rc = apply_update(tx, conn, step->method, doc, row, err);
    json_decref(doc);
    return rc;
}

static enum status patch_change(const struct update_step *step, struct store_tx *tx,
                                const struct scim_conn *conn, struct store_idp_user *row,
                                struct scim_error *err)
{
    json_t *current = json_loads(row->doc, 0, NULL);
    if (current == NULL)
        return scim_error_set(err, ERR_STORE, "stored resource is unreadable");
    json_t *doc = NULL;
    enum status rc = scim_patch_apply(step->patch, step->rt, &current, err);
    if (rc == OK)
        rc = scim_schema_validate(step->rt, current, SCIM_VALIDATE_RESULT, &doc, err);
    json_decref(current);
    if (rc == OK)
        rc = apply_update(tx, conn, step->method, doc, row, err);
    json_decref(doc);
    return rc;
}

/* Soft delete: the row and the user stay, out of this connection's SCIM view. */
static enum status delete_change(const struct update_step *step, struct store_tx *tx,
                                 const struct scim_conn *conn, struct store_idp_user *row,
                                 struct scim_error *err)
{
    (void)step;
    json_t *doc = json_loads(row->doc, 0, NULL);
    if (doc == NULL)
        return scim_error_set(err, ERR_STORE, "stored resource is unreadable");
    char now[STORE_TIME_LEN];
    clock_now_iso(now);
    row->deleted = true;
    row->version++;
    str_copy(row->updated_at, sizeof(row->updated_at), now);
    struct mirror m;
    mirror_read(doc, &m);
    enum status rc = row_columns(row, &m);
    if (rc == OK)
        rc = render_row(conn, doc, row);
    if (rc == OK)
        rc = store_idp_user_update(tx, row);
    if (rc == OK)
        rc = update_user(tx, conn, &m, row->user_id, true, now);
    if (rc == OK)
        rc = event(tx, conn, "scim_user_deleted", row->user_id, NULL);
    json_decref(doc);
    return rc;
}

static enum status update_user_resource(struct directory *dir, const struct scim_conn *conn,
                                        const char *id, const char *if_match,
                                        const struct update_step *step, struct scim_doc *out,
                                        struct scim_error *err)
{
    if (out)
        memset(out, 0, sizeof(*out));
    struct store_tx *tx = NULL;
    struct store_idp_user row = { 0 };
    enum status rc = store_begin(dir->store, true, &tx);
    if (rc == OK)
        rc = lock_user(tx, conn, id);
    if (rc != OK)
        goto fail;
    if ((rc = event_received(tx, conn, step->method, id)) != OK)
        goto fail;
    if ((rc = live_row(tx, conn, id, &row, err)) != OK)
        goto fail;
    if (!scim_etag_matches(if_match, row.version)) {
        rc = scim_error_set(err, ERR_PRECONDITION, "If-Match does not match version %" PRId64,
                            row.version);
        goto fail;
    }
    if ((rc = step->change(step, tx, conn, &row, err)) != OK)
        goto fail;
    if (out && (rc = hand_out(tx, conn, &row, out)) != OK)
        goto fail;
    rc = store_commit(tx);
    tx = NULL;
    if (rc != OK)
        goto fail;
    row_release(&row);
    return OK;

fail:
    store_rollback(tx);
    if (out)
        scim_doc_release(out);
    row_release(&row);
    if (err->status != rc)
        store_failure(rc, err);
    record_failure(dir, conn, step->method, id, err);
    return err->status;
}

enum status directory_scim_user_replace(struct directory *dir, const struct scim_conn *conn,
                                        const char *id, const char *if_match, const json_t *body,
                                        struct scim_doc *out, struct scim_error *err)
{
    scim_error_clear(err);
    struct user_type ut;
    user_type_of_conn(dir, conn, &ut); /* on failure: the built-in type */
    struct update_step step = {
        .method = "PUT", .rt = &ut.ext.rt, .body = body, .change = replace_change
    };
    enum status rc = update_user_resource(dir, conn, id, if_match, &step, out, err);
    user_type_release(&ut);
    return rc;
}

enum status directory_scim_user_patch(struct directory *dir, const struct scim_conn *conn,
                                      const char *id, const char *if_match, json_t *body,
                                      struct scim_doc *out, struct scim_error *err)
{
    scim_error_clear(err);
    memset(out, 0, sizeof(*out));
    struct scim_patch *patch = NULL;
    struct user_type ut;
    user_type_of_conn(dir, conn, &ut); /* on failure: the built-in type */
    enum status rc = scim_quirks_patch(&ut.ext.rt, body, err);
    if (rc == OK)
        rc = scim_patch_parse(&ut.ext.rt, body, &patch, err);
    if (rc != OK) {
        user_type_release(&ut);
        if (err->status != rc)
            store_failure(rc, err);
        record_failure(dir, conn, "PATCH", id, err);
        return err->status;
    }
    struct update_step step = {
        .method = "PATCH", .rt = &ut.ext.rt, .patch = patch, .change = patch_change
    };
    rc = update_user_resource(dir, conn, id, if_match, &step, out, err);
    scim_patch_free(patch);
    user_type_release(&ut);
    return rc;
}

/* ---- delete -----------------------------------------------------------------------------------
 */

enum status directory_scim_user_delete(struct directory *dir, const struct scim_conn *conn,
                                       const char *id, const char *if_match, struct scim_error *err)
{
    scim_error_clear(err);
    struct update_step step = { .method = "DELETE", .change = delete_change };
    return update_user_resource(dir, conn, id, if_match, &step, NULL, err);
}
