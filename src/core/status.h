/*
 * status.h - the one error vocabulary of scimd.
 *
 * Every function that can fail returns an enum status (OK = 0) and, where the
 * caller needs a message, fills a struct scim_error.  The mapping from status
 * to HTTP status and RFC 7644 §3.12 scimType is a single table in status.c;
 * the HTTP layer is the only place that turns it into a response.
 *
 * Thread safety: everything here is reentrant.
 */
#ifndef SCIMD_CORE_STATUS_H
#define SCIMD_CORE_STATUS_H

#include <stdarg.h>

enum status {
    OK = 0,
    ERR_NOMEM,          /* 500: allocation failed */
    ERR_INVALID_SYNTAX, /* 400 invalidSyntax: not JSON, not a SCIM message */
    ERR_INVALID_VALUE,  /* 400 invalidValue: wrong type, missing required */
    ERR_INVALID_FILTER, /* 400 invalidFilter */
    ERR_INVALID_PATH,   /* 400 invalidPath */
    ERR_NO_TARGET,      /* 400 noTarget: PATCH path matched nothing */
    ERR_MUTABILITY,     /* 400 mutability */
    ERR_TOO_MANY,       /* 400 tooMany */
    ERR_INVALID_VERS,   /* 400 invalidVers */
    ERR_BAD_REQUEST,    /* 400 without scimType */
    ERR_INVALID_CURSOR, /* 400 invalidCursor (RFC 9865): forged, malformed or expired cursor */
    ERR_UNAUTHORIZED,   /* 401 */
    ERR_FORBIDDEN,      /* 403 */
    ERR_NOT_FOUND,      /* 404 */
    ERR_METHOD,         /* 405 */
    ERR_UNIQUENESS,     /* 409 uniqueness */
    ERR_CONFLICT,       /* 409 without scimType (e.g. bound to another IdP) */
    ERR_PRECONDITION,   /* 412: If-Match did not match */
    ERR_TOO_LARGE,      /* 413 */
    ERR_URI_TOO_LONG,   /* 414: request target longer than the server reads */
    ERR_HEAD_TOO_LARGE, /* 431: request head larger than the server reads */
    ERR_RATE_LIMITED,   /* 429: too many requests; retry after the Retry-After header */
    ERR_UNSUPPORTED,    /* 501 */
    ERR_UNAVAILABLE,    /* 503: store busy or gone, retry */
    ERR_STORE,          /* 500: the store failed (logged where it happened) */
    ERR_IO,             /* 500: file or socket error */
    ERR_USAGE,          /* CLI: bad arguments */
    STATUS_COUNT
};

#define SCIM_ERROR_DETAIL_MAX 512

/* What went wrong, for the caller to show.  detail never holds secrets. */
struct scim_error {
    enum status status;
    char detail[SCIM_ERROR_DETAIL_MAX];
};

/* Fill err (if not NULL) and return status, so callers can write
 * `return scim_error_set(err, ERR_INVALID_VALUE, "bad '%s'", name);` */
enum status scim_error_set(struct scim_error *err, enum status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clear err to OK with an empty detail. */
void scim_error_clear(struct scim_error *err);

int status_http(enum status status);
/* RFC 7644 scimType for the status, or NULL where none is defined. */
const char *status_scim_type(enum status status);
/* Short lowercase name, e.g. "invalid value". */
const char *status_name(enum status status);

#endif
