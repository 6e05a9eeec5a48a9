/* SPDX-License-Identifier: Apache-2.0 */
/*
 * events_routes.h - the HTTP endpoints of event streams: the SET signing
 * keys at GET /.well-known/jwks.json (application/jwk-set+json) and RFC 8936
 * poll at POST /events/v1/poll/<subscription-id> (src/events/poll.h).
 *
 * Internal to src/http/.  Stateless: the JWKS text and the signing key are
 * the server's (borrowed for its life).
 */
#ifndef SCIMD_HTTP_EVENTS_ROUTES_H
#define SCIMD_HTTP_EVENTS_ROUTES_H

#include <stdbool.h>

#include "events/signing_keys.h"
#include "http/request.h"

#define EVENTS_JWKS_PATH   "/.well-known/jwks.json"
#define EVENTS_POLL_PREFIX "/events/v1/poll/"

/* Answer req when its path is one of these endpoints; false when it is not. */
bool events_routes_handle(struct directory *dir, const char *jwks_json,
                          const struct signing_key *key, const struct http_request *req,
                          struct http_response *res);

#endif
