/* SPDX-License-Identifier: Apache-2.0 */
/*
 * search_request.h - the list query of a SCIM request: GET's query
 * parameters or the SearchRequest body of POST .search (RFC 7644 §3.4.2-3).
 *
 * Pure: no I/O.  Strings in the query are borrowed from the body (or from
 * the caller's buffers for attribute lists); they live as long as those.
 */
#ifndef SCIMD_HTTP_SEARCH_REQUEST_H
#define SCIMD_HTTP_SEARCH_REQUEST_H

#include <jansson.h>

#include "core/str.h"
#include "directory/directory.h"

/* RFC 7644 §3.4.2.4: startIndex < 1 means 1; negative count means 0; count
 * is capped at DIRECTORY_LIST_MAX_COUNT. */
void search_window(struct scim_list_query *q, long start, long count);
/* sortOrder: NULL or "ascending"/"descending" (any case); else ERR_INVALID_VALUE. */
enum status search_order(struct scim_list_query *q, const char *order, struct scim_error *err);
/*
 * Decode a SearchRequest body into q.  attributes / excludedAttributes may be
 * arrays of names: they are joined with ',' into attrs / excluded (caller's
 * buffers, initialised and released by the caller).  Wrong types give
 * ERR_INVALID_VALUE, a body that is not an object ERR_INVALID_SYNTAX.
 */
enum status search_request_decode(const json_t *body, struct scim_list_query *q, struct buf *attrs,
                                  struct buf *excluded, struct scim_error *err);

#endif
