/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json.h - decoding request bodies at the edge.
 *
 * Every byte of a request body passes through scim_json_decode before any
 * other code sees it: size and nesting depth are capped, UTF-8 is checked,
 * and the result is always a JSON object.  Pure logic; thread-safe.
 */
#ifndef SCIMD_SCIM_JSON_H
#define SCIMD_SCIM_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "core/status.h"

#define SCIM_MAX_BODY_BYTES (1u << 20) /* 1 MiB: larger bodies get 413 */
#define SCIM_JSON_MAX_DEPTH 32         /* deeper nesting is not a SCIM message */

/*
 * Decode body[0..n) into a JSON object (*out, caller owns).
 *  n > SCIM_MAX_BODY_BYTES          -> ERR_TOO_LARGE
 *  empty, malformed JSON, bad UTF-8,
 *  duplicate keys, nesting deeper
 *  than SCIM_JSON_MAX_DEPTH          -> ERR_INVALID_SYNTAX
 *  valid JSON but not an object     -> ERR_INVALID_SYNTAX
 * err->detail says what and where (line/column), never echoing the body.
 */
enum status scim_json_decode(const char *body, size_t n, json_t **out, struct scim_error *err);

/* SCIM attribute names are case-insensitive (RFC 7643 §2.1); these read and
 * write JSON objects that way.  The exact spelling wins on lookup. */
json_t *scim_json_iget(const json_t *obj, const char *name);
/* Delete every member whose key equals name ignoring case. */
void scim_json_idel(json_t *obj, const char *name);
/* Set obj[name] = v under the canonical spelling name, dropping members
 * spelt differently.  Steals v (even on failure); -1 on failure. */
int scim_json_iset(json_t *obj, const char *name, json_t *v);

#endif
