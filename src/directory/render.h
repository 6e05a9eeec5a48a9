/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render.h - turning a validated resource document into the stored SCIM
 * resource of one connection: id, meta (location under the connection's base
 * URL, version) and compact text.
 *
 * Internal to src/directory/.  Thread-safe.
 */
#ifndef SCIMD_DIRECTORY_RENDER_H
#define SCIMD_DIRECTORY_RENDER_H

#include <jansson.h>
#include <stdint.h>

#include "core/str.h"
#include "directory/directory.h"
#include "scim/schema.h"

struct resource_meta {
    const char *id;
    const char *created;
    const char *updated;
    int64_t version;
};

/* Finish doc (in place) and replace *text (freed) with its compact JSON. */
enum status directory_render(const struct scim_conn *conn, const struct scim_resource_type *rt,
                             json_t *doc, const struct resource_meta *m, char **text);

/* An index-paged ListResponse as text, around resources already rendered as
 * comma-separated JSON (read without re-parsing).  Resources is always present,
 * [] when count is 0 (RFC 7644 §3.4.2: required when totalResults is non-zero).
 * ERR_NOMEM. */
enum status directory_list_text(size_t total, size_t start_index, size_t shown,
                                const struct buf *resources, char **out);

#endif
