/*
 * status.c - the status table: HTTP code, scimType and name per status.
 */
#include "core/status.h"

#include <stdio.h>
#include <string.h>

struct status_info {
    int http;
    const char *scim_type;
    const char *name;
};

/* clang-format off */
static const struct status_info table[STATUS_COUNT] = {
    [OK]                 = { 200, NULL,            "ok" },
    [ERR_NOMEM]          = { 500, NULL,            "out of memory" },
    [ERR_INVALID_SYNTAX] = { 400, "invalidSyntax", "invalid syntax" },
    [ERR_INVALID_VALUE]  = { 400, "invalidValue",  "invalid value" },
    [ERR_INVALID_FILTER] = { 400, "invalidFilter", "invalid filter" },
    [ERR_INVALID_PATH]   = { 400, "invalidPath",   "invalid path" },
    [ERR_NO_TARGET]      = { 400, "noTarget",      "no target" },
    [ERR_MUTABILITY]     = { 400, "mutability",    "mutability" },
    [ERR_TOO_MANY]       = { 400, "tooMany",       "too many" },
    [ERR_INVALID_VERS]   = { 400, "invalidVers",   "invalid version" },
    [ERR_BAD_REQUEST]    = { 400, NULL,            "bad request" },
    [ERR_INVALID_CURSOR] = { 400, "invalidCursor", "invalid cursor" },
    [ERR_UNAUTHORIZED]   = { 401, NULL,            "unauthorized" },
    [ERR_FORBIDDEN]      = { 403, NULL,            "forbidden" },
    [ERR_NOT_FOUND]      = { 404, NULL,            "not found" },
    [ERR_METHOD]         = { 405, NULL,            "method not allowed" },
    [ERR_UNIQUENESS]     = { 409, "uniqueness",    "uniqueness" },
    [ERR_CONFLICT]       = { 409, NULL,            "conflict" },
    [ERR_PRECONDITION]   = { 412, NULL,            "precondition failed" },
    [ERR_TOO_LARGE]      = { 413, NULL,            "payload too large" },
    [ERR_URI_TOO_LONG]   = { 414, NULL,            "uri too long" },
    [ERR_HEAD_TOO_LARGE] = { 431, NULL,            "request header fields too large" },
    [ERR_RATE_LIMITED]   = { 429, NULL,            "too many requests" },
    [ERR_UNSUPPORTED]    = { 501, NULL,            "not implemented" },
    [ERR_UNAVAILABLE]    = { 503, NULL,            "service unavailable" },
    [ERR_STORE]          = { 500, NULL,            "store error" },
    [ERR_IO]             = { 500, NULL,            "i/o error" },
    [ERR_USAGE]          = { 400, NULL,            "usage" },
};
/* clang-format on */

static const struct status_info *info(enum status status)
{
    if ((int)status < 0 || status >= STATUS_COUNT)
        return &table[ERR_STORE];
    return &table[status];
}

int status_http(enum status status)
{
    return info(status)->http;
}

const char *status_scim_type(enum status status)
{
    return info(status)->scim_type;
}

const char *status_name(enum status status)
{
    return info(status)->name;
}

enum status scim_error_set(struct scim_error *err, enum status status, const char *fmt, ...)
{
    if (err == NULL)
        return status;
    err->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
    va_end(ap);
    return status;
}

void scim_error_clear(struct scim_error *err)
{
    if (err == NULL)
        return;
    err->status = OK;
    err->detail[0] = '\0';
}
