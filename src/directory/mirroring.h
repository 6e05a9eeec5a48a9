/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mirroring.h - what admins configure about a tenant's users (issue #12):
 * custom canonical fields, the attribute mirroring map (per tenant,
 * overridable per IdP connection), tenant-declared SCIM extension schemas,
 * roles mapped from groups; and the canonical view of a user with them.
 *
 * The CLI and the admin API call these same functions.  tenant_key is a
 * tenant's id, subdomain or name.  Every change writes its audit event in
 * the same transaction; a guard (may be NULL) is checked inside it first
 * (directory.h).  json_t results belong to the caller.
 *
 * Thread safety: as directory.h; every call is independent.
 */
#ifndef SCIMD_DIRECTORY_MIRRORING_H
#define SCIMD_DIRECTORY_MIRRORING_H

#include <jansson.h>
#include <stddef.h>

#include "directory/directory.h"
#include "store/store.h"

/* ---- custom fields (fields.c) --------------------------------------------------------- */
/* Declare a custom field: name is [a-z][a-z0-9_]* (at most 64 bytes, not a
 * built-in field); type string (NULL), integer or boolean.  Event
 * custom_field_added.  409 uniqueness when the tenant already has it. */
enum status directory_field_add(struct directory *dir, const char *tenant_key, const char *name,
                                const char *type, const struct actor *by, struct store_field *out,
                                struct scim_error *err);
/* Remove a custom field: its mirroring rules (tenant-wide and per connection)
 * and every user's value of it go too.  Event custom_field_removed; 404. */
enum status directory_field_remove(struct directory *dir, const char *tenant_key, const char *name,
                                   const struct actor *by, const struct directory_guard *guard,
                                   struct scim_error *err);
/* [{name, type, created_at}] */
enum status directory_field_list(struct directory *dir, const char *tenant_key, json_t **out,
                                 struct scim_error *err);

/* ---- mirroring (fields.c) ------------------------------------------------------------- */
/* The effective mapping of the tenant, or of connection idp_id (may be NULL):
 * {tenant_id, idp_id, fields: [{field, type, path (null: unmapped), source}]}
 * where source is "default", "tenant" or "idp". */
enum status directory_mirror_show(struct directory *dir, const char *tenant_key, const char *idp_id,
                                  json_t **out, struct scim_error *err);

/*
 * Map field (built-in or custom) to path for the tenant, or for connection
 * idp_id (NULL: tenant-wide).  path is a SCIM attribute path of the tenant's
 * User type: "displayName", "name.givenName", "emails.value",
 * "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
 * an attribute of a tenant-declared extension; unknown paths, complex
 * attributes without a sub-attribute -> 400.  The change commits at once
 * with the event mirroring_changed {field, path, idp_id, rederive_job}, and
 * starts the job re-deriving every user of the tenant in the background
 * (rederive.h; it supersedes one still running): *job, running from the start.
 */
enum status directory_mirror_set(struct directory *dir, const char *tenant_key, const char *idp_id,
                                 const char *field, const char *path, const struct actor *by,
                                 const struct directory_guard *guard,
                                 struct store_rederive_job *job, struct scim_error *err);

/* ---- tenant extension schemas (schemas.c) ---------------------------------------------- */
/* Declare a User extension schema of the tenant: urn ("urn:...:User") and attrs
 * "name:type[,name:type...]" (scim_ext_schema_new).  Event tenant_schema_added. */
enum status directory_schema_add(struct directory *dir, const char *tenant_key, const char *urn,
                                 const char *attrs, const struct actor *by, struct scim_error *err);
/* The tenant's extension schemas as SCIM Schema resources (no base URL). */
enum status directory_schema_list(struct directory *dir, const char *tenant_key, json_t **out,
                                  struct scim_error *err);
/* Discovery for a connection: /Schemas (urn NULL) or /Schemas/{urn}, and
 * /ResourceTypes (id NULL) or /ResourceTypes/{id}, with the tenant's
 * extensions.  ERR_NOT_FOUND for an unknown urn or id. */
enum status directory_scim_schemas(struct directory *dir, const struct scim_conn *conn,
                                   const char *urn, json_t **out, struct scim_error *err);
enum status directory_scim_resource_types(struct directory *dir, const struct scim_conn *conn,
                                          const char *id, json_t **out, struct scim_error *err);

/* ---- roles (roles.c) ------------------------------------------------------------------- */
/* Event role_created; 409 uniqueness when the name is taken (case-insensitively). */
enum status directory_role_create(struct directory *dir, const char *tenant_key, const char *name,
                                  const struct actor *by, struct store_role *out,
                                  struct scim_error *err);
/*
 * Map group_key (a group id, or the displayName of exactly one group of the
 * tenant) to role_key (a role id, or with tenant_key a role name).  Every
 * member's roles are recomputed (user_roles_changed events).  Event role_mapped.
 */
enum status directory_role_map(struct directory *dir, const char *tenant_key, const char *role_key,
                               const char *group_key, const struct actor *by,
                               const struct directory_guard *guard, struct scim_error *err);
/* Unmap group_key (as in directory_role_map) from the role; members' roles are
 * recomputed.  Event role_unmapped; 404 when the group was not mapped. */
enum status directory_role_unmap(struct directory *dir, const char *tenant_key,
                                 const char *role_key, const char *group_key,
                                 const struct actor *by, const struct directory_guard *guard,
                                 struct scim_error *err);
/* Delete the role: its holders lose it (user_roles_changed each), its
 * mappings go.  Event role_deleted. */
enum status directory_role_delete(struct directory *dir, const char *tenant_key,
                                  const char *role_key, const struct actor *by,
                                  const struct directory_guard *guard, struct scim_error *err);
/* [{id, name, created_at, groups: [{id, displayName}]}] */
enum status directory_role_list(struct directory *dir, const char *tenant_key, json_t **out,
                                struct scim_error *err);

/* ---- reads in a transaction the caller holds --------------------------------------------- */
/* directory_field_list, directory_mirror_show and directory_role_list in tx:
 * what an admin's If-Match is compared with inside the change's own
 * transaction (a directory_guard). */
enum status directory_field_list_in(struct store_tx *tx, const char *tenant_key, json_t **out,
                                    struct scim_error *err);
enum status directory_mirror_show_in(struct store_tx *tx, const char *tenant_key,
                                     const char *idp_id, json_t **out, struct scim_error *err);
enum status directory_role_list_in(struct store_tx *tx, const char *tenant_key, json_t **out,
                                   struct scim_error *err);

/* ---- the canonical user (fields.c) ------------------------------------------------------ */
/* Add to obj (a user's JSON) "custom_fields": {name: value} and "roles": [names]. */
enum status directory_user_detail(struct store_tx *tx, const struct store_user *u, json_t *obj);
/* The user's mirrored Enterprise User attributes (enterprise.c): every custom
 * field value whose field is fed, on the connection the value came from, by a
 * path under urn:ietf:params:scim:schemas:extension:enterprise:2.0:User, put
 * back under that attribute: {"department": "R&D", "manager": {"value": "id"}}.
 * Values are sent as strings (the extension's type).  *out is an object (empty
 * when there are none), the caller's. */
enum status directory_user_enterprise(struct store_tx *tx, const struct store_user *u,
                                      json_t **out);

#endif
