/* SPDX-License-Identifier: Apache-2.0 */
/*
 * patch.h - RFC 7644 §3.5.2 PATCH: path parser and engine.
 *
 * scim_patch_parse reads a PatchOp message (already passed through
 * scim_quirks_patch, so it is in RFC form) into a list of operations;
 * scim_patch_apply applies them in order to a resource document.  Apply is
 * all-or-nothing: it works on a copy and only hands the result back when
 * every operation succeeded.
 *
 * Pure logic: no I/O.  Thread-safe; structures are owned by their creator.
 */
#ifndef SCIMD_SCIM_PATCH_H
#define SCIMD_SCIM_PATCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"
#include "scim/filter.h"
#include "scim/schema.h"

#define SCIM_PATCH_MAX_OPS 1000 /* more operations in one request -> tooMany */

enum scim_patch_op_kind {
    SCIM_PATCH_ADD,
    SCIM_PATCH_REMOVE,
    SCIM_PATCH_REPLACE,
};

/*
 * attrPath[valFilter].subAttr  (RFC 7644 §3.5.2 PATH ABNF), or a bare
 * extension schema URN ("urn:...:enterprise:2.0:User"): not an attrPath in
 * the ABNF, but clients send it to mean the extension's object, so it is
 * accepted as that complex value: add/replace take an object of the
 * extension's attributes (as under the URN key of a no-path value), remove
 * unassigns them all.  Then `extension` is set and ref/attr are empty.
 */
struct scim_patch_path {
    char *urn;                  /* schema URN prefix as written, or NULL */
    char *attr;                 /* attribute name as written ("" for an extension path) */
    char *sub;                  /* sub-attribute, or NULL */
    struct scim_filter *filter; /* value filter inside [...], or NULL; bound */
    struct scim_attr_ref ref;   /* resolved by scim_patch_path_parse; zero for an extension */
    const struct scim_schema *extension; /* the path is this extension's URN alone, or NULL */
};

struct scim_patch_op {
    enum scim_patch_op_kind kind;
    struct scim_patch_path *path; /* NULL when the operation has no path */
    json_t *value;                /* owned reference, NULL for remove */
};

struct scim_patch {
    struct scim_patch_op *ops;
    size_t n_ops;
};

/*
 * Parse and resolve a PATCH path against rt.  Syntax errors, unknown
 * attributes, the core schema URN alone and value filters that do not parse
 * -> ERR_INVALID_PATH.
 */
enum status scim_patch_path_parse(const struct scim_resource_type *rt, const char *text,
                                  struct scim_patch_path **out, struct scim_error *err);
void scim_patch_path_free(struct scim_patch_path *p);

/*
 * Parse a PatchOp message.  Missing or wrong "schemas", missing or empty
 * "Operations" -> ERR_INVALID_SYNTAX; an op other than add/remove/replace ->
 * ERR_INVALID_SYNTAX naming it; remove without path -> ERR_NO_TARGET; add or
 * replace without value -> ERR_INVALID_VALUE; add/replace of an extension
 * path with a value that is not an object -> ERR_INVALID_VALUE; more than
 * SCIM_PATCH_MAX_OPS -> ERR_TOO_MANY; bad path -> ERR_INVALID_PATH.
 */
enum status scim_patch_parse(const struct scim_resource_type *rt, const json_t *body,
                             struct scim_patch **out, struct scim_error *err);
void scim_patch_free(struct scim_patch *p);

/*
 * Apply every operation to *resource in order.  On OK, *resource is replaced
 * by the patched document (the old reference is released); on failure it is
 * left untouched.  Operations on readOnly attributes (id, meta, groups) are
 * ignored.  Semantics follow RFC 7644 §3.5.2.1-3, including: add to a
 * multi-valued attribute appends (skipping exact duplicates); add/replace
 * with no path merges the value object into the resource; replace with a
 * value filter that matches nothing -> ERR_NO_TARGET; setting primary=true on
 * one element clears it on the others.  Values are type-checked by the
 * caller afterwards with scim_schema_validate(SCIM_VALIDATE_RESULT).
 */
enum status scim_patch_apply(const struct scim_patch *p, const struct scim_resource_type *rt,
                             json_t **resource, struct scim_error *err);

#endif
