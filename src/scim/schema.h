/* SPDX-License-Identifier: Apache-2.0 */
/*
 * schema.h - RFC 7643 schemas as static tables, and everything that reads them.
 *
 * The User, EnterpriseUser and Group schemas are tables of attribute
 * definitions.  Validation of request bodies, case normalisation of attribute
 * names, attributes/excludedAttributes projection, filter binding and the
 * /Schemas and /ResourceTypes documents all read these same tables, so a
 * change to an attribute shows up everywhere at once.
 *
 * Pure logic: no I/O.  Tables are immutable; every function is thread-safe.
 * json_t results are new references owned by the caller.
 */
#ifndef SCIMD_SCIM_SCHEMA_H
#define SCIMD_SCIM_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>

#include "core/status.h"

#define SCIM_SCHEMA_USER            "urn:ietf:params:scim:schemas:core:2.0:User"
#define SCIM_SCHEMA_GROUP           "urn:ietf:params:scim:schemas:core:2.0:Group"
#define SCIM_SCHEMA_ENTERPRISE_USER "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define SCIM_SCHEMA_PATCH_OP        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
#define SCIM_SCHEMA_LIST_RESPONSE   "urn:ietf:params:scim:api:messages:2.0:ListResponse"
#define SCIM_SCHEMA_ERROR           "urn:ietf:params:scim:api:messages:2.0:Error"
#define SCIM_SCHEMA_SEARCH_REQUEST  "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
#define SCIM_SCHEMA_SPC             "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
#define SCIM_SCHEMA_RESOURCE_TYPE   "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
#define SCIM_SCHEMA_SCHEMA          "urn:ietf:params:scim:schemas:core:2.0:Schema"

enum scim_type {
    SCIM_TYPE_STRING,
    SCIM_TYPE_BOOLEAN,
    SCIM_TYPE_DECIMAL,
    SCIM_TYPE_INTEGER,
    SCIM_TYPE_DATETIME,
    SCIM_TYPE_BINARY,
    SCIM_TYPE_REFERENCE,
    SCIM_TYPE_COMPLEX,
};

enum scim_mutability {
    SCIM_MUT_READ_WRITE,
    SCIM_MUT_READ_ONLY,
    SCIM_MUT_IMMUTABLE,
    SCIM_MUT_WRITE_ONLY,
};

enum scim_returned {
    SCIM_RET_DEFAULT,
    SCIM_RET_ALWAYS,
    SCIM_RET_NEVER,
    SCIM_RET_REQUEST,
};

enum scim_uniqueness {
    SCIM_UNIQ_NONE,
    SCIM_UNIQ_SERVER,
    SCIM_UNIQ_GLOBAL,
};

/* One attribute definition.  Arrays of these end with an entry whose name is NULL. */
struct scim_attr {
    const char *name; /* canonical spelling, e.g. "userName" */
    enum scim_type type;
    bool multi_valued;
    bool required;
    bool case_exact;
    enum scim_mutability mutability;
    enum scim_returned returned;
    enum scim_uniqueness uniqueness;
    const char *description;
    const char *const *canonical_values; /* NULL-terminated, or NULL */
    const char *const *reference_types;  /* NULL-terminated, or NULL */
    const struct scim_attr *sub_attrs;   /* for COMPLEX; NULL-name terminated */
};

struct scim_schema {
    const char *id; /* URN */
    const char *name;
    const char *description;
    const struct scim_attr *attrs; /* NULL-name terminated */
    /* Unknown attributes under this schema's URN are refused (400
     * invalidValue) instead of dropped: tenant-declared extensions. */
    bool strict;
};

struct scim_resource_type {
    const char *id;       /* "User" */
    const char *name;     /* "User" */
    const char *endpoint; /* "/Users" */
    const char *description;
    const struct scim_schema *schema;            /* core schema */
    const struct scim_schema *const *extensions; /* NULL-terminated; all optional */
};

extern const struct scim_schema scim_schema_user;
extern const struct scim_schema scim_schema_enterprise_user;
extern const struct scim_schema scim_schema_group;
extern const struct scim_resource_type scim_resource_user;
extern const struct scim_resource_type scim_resource_group;

/* Common attributes (RFC 7643 §3.1) are part of every resource: id, externalId, meta. */
extern const struct scim_attr scim_common_attrs[];

/* A resolved attribute path: which schema, which attribute, which sub-attribute. */
struct scim_attr_ref {
    const struct scim_schema *schema; /* core or extension the attribute lives in */
    const struct scim_attr *attr;     /* top-level attribute (may be a common attribute) */
    const struct scim_attr *sub;      /* sub-attribute, or NULL */
};

/* Case-insensitive lookup of a top-level attribute in one schema (common attrs not included). */
const struct scim_attr *scim_schema_find(const struct scim_schema *schema, const char *name);
/* Case-insensitive lookup of a sub-attribute of a complex attribute. */
const struct scim_attr *scim_attr_find_sub(const struct scim_attr *attr, const char *name);
/* Case-insensitive lookup of an extension schema of rt by URN. */
const struct scim_schema *scim_resource_find_extension(const struct scim_resource_type *rt,
                                                       const char *urn);

/*
 * Resolve an attribute path as written in a filter, PATCH path or
 * attributes parameter, against a resource type:
 *   "userName", "name.givenName", "emails.value", "meta.lastModified", "id",
 *   "urn:ietf:params:scim:schemas:core:2.0:User:userName",
 *   "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
 * Names are case-insensitive.  ERR_INVALID_PATH with a message naming the
 * attribute if it is unknown.  A URN that is not a schema of rt is also unknown.
 */
/* RFC 7643 §2.1 nameChar: ALPHA / DIGIT / "-" / "_". */
bool scim_name_char(char c);
/* RFC 7643 ATTRNAME = ALPHA *nameChar, the n bytes at s (the parsers' check). */
bool scim_attr_name_valid(const char *s, size_t n);

enum status scim_schema_resolve(const struct scim_resource_type *rt, const char *path,
                                struct scim_attr_ref *out, struct scim_error *err);

enum scim_validate_mode {
    SCIM_VALIDATE_CREATE,  /* POST: required attributes must be present */
    SCIM_VALIDATE_REPLACE, /* PUT: same as create */
    SCIM_VALIDATE_RESULT,  /* result of a PATCH: same checks, but the document may carry id/meta */
};

/*
 * Validate a request document and return a normalised copy in *out:
 *  - top-level and sub-attribute names are rewritten to their canonical case;
 *    extension attributes live under their schema URN key (canonical URN case);
 *  - readOnly attributes (id, meta, groups, ...) are dropped silently;
 *  - writeOnly / returned:never attributes (password) are dropped: scimd
 *    never stores them;
 *  - unknown top-level attributes that are not URNs are dropped; objects under
 *    an unknown URN key (an extension scimd does not know) are kept verbatim;
 *  - types are checked: wrong type -> ERR_INVALID_VALUE naming the attribute;
 *    booleans sent as the strings "true"/"false" (any case) are coerced;
 *    null means absent (RFC 7643 §2.5) and is removed;
 *    a multi-valued attribute given a single value -> ERR_INVALID_VALUE;
 *  - required attributes (userName; displayName for groups) must be present
 *    and non-empty -> ERR_INVALID_VALUE;
 *  - "schemas" is rebuilt: the core URN plus each extension URN present.
 * Not a JSON object -> ERR_INVALID_SYNTAX.
 */
enum status scim_schema_validate(const struct scim_resource_type *rt, const json_t *in,
                                 enum scim_validate_mode mode, json_t **out,
                                 struct scim_error *err);

/* attributes / excludedAttributes (RFC 7644 §3.4.2.5). */
struct scim_projection;

/*
 * Parse the comma-separated attributes and excludedAttributes lists (either
 * may be NULL or empty).  Unknown attribute names -> ERR_INVALID_PATH.
 * *out is NULL when neither list is given (identity projection).
 */
enum status scim_projection_parse(const struct scim_resource_type *rt, const char *attributes,
                                  const char *excluded, struct scim_projection **out,
                                  struct scim_error *err);
void scim_projection_free(struct scim_projection *p);
/* Does the projection exclude this top-level attribute (e.g. "members")? NULL p: no. */
bool scim_projection_excludes(const struct scim_projection *p, const char *attr);
/*
 * Apply p to a full resource and return a new object.  Always keeps
 * returned:always attributes (id, schemas), always drops returned:never ones.
 * NULL p returns a copy without returned:never attributes.
 */
json_t *scim_projection_apply(const struct scim_projection *p, const struct scim_resource_type *rt,
                              const json_t *resource);

/* Discovery documents (RFC 7644 §4), all generated from the tables above. */
json_t *scim_schema_render(const struct scim_schema *schema, const char *base_url);
json_t *scim_schemas_list_render(const char *base_url); /* ListResponse of every schema */
json_t *scim_resource_type_render(const struct scim_resource_type *rt, const char *base_url);
json_t *scim_resource_types_list_render(const char *base_url);
/* Find a schema of any resource type by URN (case-insensitive), or NULL. */
const struct scim_schema *scim_schema_by_urn(const char *urn);
/* Find a resource type by id ("User", "Group"), or NULL. */
const struct scim_resource_type *scim_resource_type_by_id(const char *id);

/* ---- tenant-declared User extensions ------------------------------------------------- */
#define SCIM_EXT_MAX_ATTRS 32  /* attributes of one tenant extension */
#define SCIM_EXT_URN_MAX   256 /* bytes of its URN */
#define SCIM_EXT_MAX       8   /* tenant extensions one resource type may carry */
/*
 * Build a strict extension schema from its URN ("urn:...:User") and a spec
 * "name:type[,name:type...]", type one of string, integer, boolean, decimal,
 * dateTime (case-insensitive).  Bad URN (not "urn:", a built-in schema, too
 * long), bad or repeated names, unknown types -> ERR_INVALID_VALUE naming the
 * culprit.  *out is heap, freed with scim_ext_schema_free.
 */
enum status scim_ext_schema_new(const char *urn, const char *spec, struct scim_schema **out,
                                struct scim_error *err);
void scim_ext_schema_free(struct scim_schema *s); /* NULL: no-op */

/* A copy of base whose extensions are base's followed by extra[0..n) (n at
 * most SCIM_EXT_MAX; more are ignored).  out borrows extra's schemas. */
struct scim_resource_type_ext {
    struct scim_resource_type rt;
    const struct scim_schema *extensions[SCIM_EXT_MAX + 4];
};
void scim_resource_type_extend(const struct scim_resource_type *base,
                               const struct scim_schema *const *extra, size_t n,
                               struct scim_resource_type_ext *out);
/* Discovery as above, with user_rt (an extended User type) in place of the
 * built-in one: its extensions are listed in /Schemas and /ResourceTypes.
 * scim_schema_by_urn_in also finds user_rt's extensions. */
json_t *scim_schemas_list_render_for(const struct scim_resource_type *user_rt,
                                     const char *base_url);
json_t *scim_resource_types_list_render_for(const struct scim_resource_type *user_rt,
                                            const char *base_url);
const struct scim_schema *scim_schema_by_urn_in(const struct scim_resource_type *user_rt,
                                                const char *urn);

#endif
