/*
 * secevent_http.h - the small JSON bodies of SET delivery over HTTP other
 * than the poll request (poll_request.h):
 *  - RFC 8935 §2.3 / RFC 8936 §2.4 error bodies {"err":…,"description":…}:
 *    parsed from a push recipient's 400 (a permanent refusal of that SET),
 *    and written for scimd's own 400 answers to a bad poll;
 *  - the RFC 8936 §2.2 poll answer {"sets":{jti:SET,…},"moreAvailable":…}.
 *
 * Does not: send, decide retries (a 400 with an error body is permanent by
 * RFC 8935; everything else is the delivery policy's call), or log.
 * Ownership: returned strings are malloc'd, the caller's.  Thread safety:
 * reentrant.
 */
#ifndef SCIMD_EVENTS_SECEVENT_HTTP_H
#define SCIMD_EVENTS_SECEVENT_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"

#define SECEVENT_ERR_MAX         64   /* characters of an error code */
#define SECEVENT_DESCRIPTION_MAX 256  /* characters of a description kept for the log */
#define SECEVENT_ERROR_BODY_MAX  4096 /* bytes of an error body that are read */

/* A recipient's refusal, as far as it is safe to show: the code as sent when
 * it is a token, the description with anything but printable ASCII replaced
 * by '?' and cut at SECEVENT_DESCRIPTION_MAX. */
struct secevent_error {
    char err[SECEVENT_ERR_MAX + 1];
    char description[SECEVENT_DESCRIPTION_MAX + 1]; /* "" when absent */
};

/*
 * Parse a push recipient's error body (at most SECEVENT_ERROR_BODY_MAX bytes
 * are looked at).  ERR_INVALID_VALUE when it is not a JSON object whose "err"
 * is a token of 1..SECEVENT_ERR_MAX characters ([A-Za-z0-9_.-]); out is then
 * empty.
 */
enum status secevent_error_parse(const char *body, size_t n, struct secevent_error *out);
/* {"err":code,"description":description} (description omitted when NULL). */
enum status secevent_error_json(const char *code, const char *description, char **json);
/* The poll answer for SETs sets[i] with jti jtis[i], i < n (n may be 0). */
enum status secevent_poll_response_json(const char *const *jtis, const char *const *sets, size_t n,
                                        bool more_available, char **json);

#endif
