/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mirror.h - attribute mirroring: which SCIM attributes of an IdP row become
 * the canonical user's fields (DESIGN.md §1 "Attribute mirroring").
 *
 * Internal to src/directory/.  mirror_read reads the fixed columns of an
 * IdP row (userName, externalId, emails, active) and the default canonical
 * fields; pointers in struct mirror are borrowed from the document.
 *
 * mirror_derive then applies the tenant's mapping: canonical fields are
 * username, email, given_name, family_name, display_name (defaults userName,
 * emails.value, name.givenName, name.familyName, displayName) plus the
 * tenant's custom fields; a rule per tenant, overridable per IdP connection,
 * names the SCIM path that feeds a field.  Precedence between connections
 * feeding one user: per field, the most recent write wins (rows applied in
 * updated_at order, the writing connection last).
 */
#ifndef SCIMD_DIRECTORY_MIRROR_H
#define SCIMD_DIRECTORY_MIRROR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "directory/audit.h"
#include "directory/directory.h"
#include "scim/schema.h"
#include "store/store.h"

#define MIRROR_MAX_EMAILS 32 /* emails indexed for filtering per user */

struct mirror {
    const char *user_name;
    const char *external_id;
    const char *email;
    const char *given_name;
    const char *family_name;
    const char *display_name;
    bool active;
    const char *emails[MIRROR_MAX_EMAILS];
    size_t n_emails;
};

/* Read the mirrored fields of a validated User document. */
void mirror_read(const json_t *doc, struct mirror *m);
/* Copy m into the canonical user's fields; ERR_NOMEM leaves u consistent. */
enum status mirror_apply(const struct mirror *m, struct store_user *u);
/* Is the address-like string s an email (has an '@' that is not first or last)? */
bool mirror_looks_like_email(const char *s);

#define MIRROR_CORE_FIELDS       5
#define MIRROR_MAX_CUSTOM_FIELDS 64 /* custom fields one tenant may declare */
#define MIRROR_MAX_FIELDS        (MIRROR_CORE_FIELDS + MIRROR_MAX_CUSTOM_FIELDS)

/* The canonical field names, in struct store_user order; NULL-terminated. */
extern const char *const mirror_core_fields[];

/* A tenant's mirroring configuration as stored. */
struct mirror_config {
    struct store_field fields[MIRROR_MAX_CUSTOM_FIELDS];
    size_t n_fields;
    struct store_mirror_rule *rules; /* heap */
    size_t n_rules, alloc_rules;
};
enum status mirror_config_load(struct store_tx *tx, const char *tenant_id, struct mirror_config *c);
void mirror_config_release(struct mirror_config *c);
/* Is name a canonical field (core or custom) of c?  *type gets its type. */
bool mirror_config_has_field(const struct mirror_config *c, const char *name, const char **type);

/* One field's effective rule for a connection. */
struct mirror_entry {
    const char *field;  /* borrowed from the config or the defaults */
    const char *type;   /* "string" for core fields */
    const char *path;   /* "" when nothing feeds a custom field */
    const char *source; /* "default", "tenant" or "idp" */
};
/* The effective mapping of connection idp_id (NULL: the tenant's), core fields
 * first; out holds MIRROR_MAX_FIELDS entries, *n gets how many. */
void mirror_config_map(const struct mirror_config *c, const char *idp_id, struct mirror_entry *out,
                       size_t *n);

/*
 * Re-derive the canonical fields of u (read from the store, changed in place;
 * the caller writes u) and its custom field values (written here) from every
 * IdP row of the user with the tenant's mapping, rows applied oldest first
 * and last_idp's (may be NULL) last.  A user without IdP rows is left alone;
 * so is one of a tenant with no rules nor fields when last_idp is given (the
 * writer applied the defaults with mirror_apply).
 * *changed (may be NULL) tells whether any field changed.
 */
enum status mirror_derive(struct store_tx *tx, struct store_user *u, const char *last_idp,
                          bool *changed);

/* ---- shared by fields.c, schemas.c and roles.c ---------------------------------------- */
/* Begin a transaction and find the tenant tenant_key (id, subdomain or name):
 * ERR_NOT_FOUND "no tenant" with tx ended. */
enum status mirror_begin(struct directory *dir, const char *tenant_key, bool write,
                         struct store_tx **tx, struct store_tenant *t, struct scim_error *err);
/* Commit tx when rc is OK, else roll it back; statuses without a message get
 * one in err (which may be NULL). */
enum status mirror_end(struct store_tx *tx, enum status rc, struct scim_error *err);
/* Run read(tx, tenant, ctx, out) in a read transaction on tenant_key's tenant;
 * on failure *out is freed (NULL) and err says why. */
typedef enum status (*mirror_read_fn)(struct store_tx *tx, const struct store_tenant *t,
                                      const void *ctx, json_t **out, struct scim_error *err);
enum status mirror_tenant_read(struct directory *dir, const char *tenant_key, mirror_read_fn read,
                               const void *ctx, json_t **out, struct scim_error *err);
/* The same in tx, which the caller holds. */
enum status mirror_tenant_read_in(struct store_tx *tx, const char *tenant_key, mirror_read_fn read,
                                  const void *ctx, json_t **out, struct scim_error *err);
/* A growable array of ids (users, roles) for a pass over rows. */
struct id_array {
    char (*ids)[STORE_ID_LEN];
    size_t n, alloc;
};
/* store_id_fn: append a copy of id to the id_array ctx. */
enum status id_array_push(void *ctx, const char *id);
void id_array_release(struct id_array *a);
/* The audit context of an admin (CLI or admin API) action on a tenant. */
struct audit_ctx mirror_ctx(const struct actor *by, const char *tenant_id, const char *idp_id);

/* The User resource type of a tenant: built-in schemas plus its declared ones. */
struct user_type {
    struct scim_resource_type_ext ext;
    struct scim_schema *owned[SCIM_EXT_MAX];
    size_t n;
};
/* Load tenant_id's extensions in tx; ut->ext.rt is the type to validate with. */
enum status user_type_load(struct store_tx *tx, const char *tenant_id, struct user_type *ut);
void user_type_release(struct user_type *ut);
/* The same for a SCIM request on conn, in a read transaction of its own (or conn's). */
enum status user_type_of_conn(struct directory *dir, const struct scim_conn *conn,
                              struct user_type *ut);

/* Recompute user_id's roles from its live group memberships; when they differ
 * from the recorded ones, record them and append user_roles_changed
 * {old, new} (role names) in tx. */
enum status roles_recompute(struct store_tx *tx, const struct audit_ctx *ctx, const char *tenant_id,
                            const char *user_id);

#endif
