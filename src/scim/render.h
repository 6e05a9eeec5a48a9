/* SPDX-License-Identifier: Apache-2.0 */
/*
 * render.h - the SCIM messages scimd writes: resource meta, list responses,
 * error bodies.
 *
 * Pure logic: no I/O.  Thread-safe.  Returned json_t and strings are owned by
 * the caller.
 */
#ifndef SCIMD_SCIM_RENDER_H
#define SCIMD_SCIM_RENDER_H

#include <jansson.h>
#include <stdint.h>

#include "core/status.h"
#include "scim/schema.h"

#define SCIM_ETAG_MAX 32 /* W/"<int64>" */

struct scim_meta {
    const char *id;
    const char *created;
    const char *last_modified;
    int64_t version;
    const char *location; /* absolute URL of the resource */
};

/* Write the ETag for version: W/"<version>". */
void scim_etag(int64_t version, char out[SCIM_ETAG_MAX]);
/* Does an If-Match header value accept version?  NULL or "*" accepts all;
 * a comma-separated list of weak or strong tags is compared by value. */
bool scim_etag_matches(const char *if_match, int64_t version);
/* Does the If-Match list (entity tags separated by commas, quoted or not, W/
 * tolerated) hold the opaque tag (without quotes), or "*"? */
bool scim_etag_list_has(const char *if_match, const char *tag);

/* Set "id" and "meta" on doc (a validated resource) and put "schemas" and
 * "id" first, the way clients expect to read them. */
enum status scim_resource_finish(const struct scim_resource_type *rt, json_t *doc,
                                 const struct scim_meta *meta);

/* Limits advertised in ServiceProviderConfig. */
struct scim_limits {
    size_t max_results;         /* filter.maxResults */
    size_t bulk_max_operations; /* bulk.maxOperations; 0: bulk not supported */
    size_t bulk_max_payload;    /* bulk.maxPayloadSize in bytes */
    size_t default_page;        /* pagination.defaultPageSize (RFC 9865) */
    size_t cursor_timeout_s;    /* pagination.cursorTimeout; 0: no cursor paging */
};
/* The ServiceProviderConfig resource (RFC 7643 §5). */
json_t *scim_service_provider_config(const char *base_url, const struct scim_limits *limits);

/* The RFC 7644 §3.12 error body for err, as compact JSON text (malloc'd). */
char *scim_error_body(const struct scim_error *err);

/* Compact, key-order-preserving JSON text of doc (malloc'd), or NULL. */
char *scim_json_text(const json_t *doc);

#endif
