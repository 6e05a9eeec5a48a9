/*
 * console.h - the web console at /admin/ (src/admin/web/): one page and its
 * script and style, embedded in the binary at build time, served with a
 * strict Content-Security-Policy.  The page calls only the admin API.
 *
 * Thread safety: stateless; the assets are constants.
 */
#ifndef SCIMD_ADMIN_CONSOLE_H
#define SCIMD_ADMIN_CONSOLE_H

#include "http/request.h"

#define ADMIN_CONSOLE_PREFIX "/admin"
/* The policy: nothing inline, nothing from elsewhere, never framed. */
#define ADMIN_CONSOLE_CSP                                                                          \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "                 \
    "frame-ancestors 'none'"

/* Handle a request whose URL starts with ADMIN_CONSOLE_PREFIX (not the API). */
void admin_console_handle(const struct http_request *req, struct http_response *res);

#endif
