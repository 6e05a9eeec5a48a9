/*
 * tls.h - the certificate and key of `scimd serve --tls-cert F --tls-key F`,
 * read from their PEM files and checked the way libmicrohttpd (GnuTLS) will
 * use them, before a daemon is started or replaced with them (SIGHUP).
 *
 * A struct http_tls owns its PEM text; a daemon started with it keeps
 * pointers into it, so it lives as long as that daemon.  Not thread-safe:
 * the server loads and frees under its own lock.
 */
#ifndef SCIMD_HTTP_TLS_H
#define SCIMD_HTTP_TLS_H

#include <stdbool.h>

#include "core/status.h"

#define HTTP_TLS_MAX_PEM_BYTES (1u << 20) /* a certificate chain or key file, at most */
/* Strict-Transport-Security on every answer when TLS is on: one year. */
#define HTTP_HSTS_VALUE "max-age=31536000"

struct http_tls {
    char *cert_pem;
    char *key_pem;
};

/* Does this libmicrohttpd speak TLS? (Debian's does, with GnuTLS.) */
bool http_tls_supported(void);

/* Read both files into tls and check that libmicrohttpd accepts them as a
 * certificate and its key; err says which file is wrong. */
enum status http_tls_load(const char *cert_file, const char *key_file, struct http_tls *tls,
                          struct scim_error *err);
void http_tls_release(struct http_tls *tls);

#endif
