/*
 * server.h - the HTTP front door: libmicrohttpd glue, body limits, routing
 * of /scim/v2/inbound/<idp-id>/... to the SCIM handlers.
 *
 * The server owns its libmicrohttpd daemon and a thread pool; handlers run
 * on those threads and call into the directory, which is thread-safe.  The
 * server knows routes and status codes, not lifecycle rules.
 */
#ifndef SCIMD_HTTP_SERVER_H
#define SCIMD_HTTP_SERVER_H

#include <stdint.h>

#include "core/status.h"
#include "directory/directory.h"

struct http_server;

struct http_config {
    const char *listen_addr; /* IPv4 or IPv6 literal */
    uint16_t port;
    unsigned threads;
};

enum status http_server_start(const struct http_config *cfg, struct directory *dir,
                              struct http_server **out, struct scim_error *err);
void http_server_stop(struct http_server *server);

#endif
