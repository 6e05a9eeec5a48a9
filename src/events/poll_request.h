/*
 * poll_request.h - the body of an RFC 8936 poll (POST /events/v1/poll/<id>):
 * which SETs the recipient acknowledges ("ack"), which it rejects ("setErrs",
 * each with an RFC 8935 "err" code and an optional "description"), how many
 * it wants ("maxEvents", 0 = acknowledge only) and whether to answer at once
 * ("returnImmediately") rather than long-poll.
 *
 * Pure parser over the bytes of the body: sizes and depth are capped by
 * scim_json_decode, every string is checked, unknown members are ignored (the
 * RFC lets the protocol grow).  A failure is the caller's 400 with
 * {"err":"invalid_request","description":<err.detail>} (RFC 8936 §2.4 uses the
 * RFC 8935 §2.3 error form); the detail never echoes a value.
 *
 * Does not: look SETs up, apply acknowledgements, or wait.
 * Ownership: struct poll_request is caller-owned (_parse fills it,
 * _release frees what it holds).  Thread safety: reentrant.
 */
#ifndef SCIMD_EVENTS_POLL_REQUEST_H
#define SCIMD_EVENTS_POLL_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"

#define POLL_EVENTS_MAX      100  /* most SETs one answer carries; larger maxEvents are clamped */
#define POLL_ACKS_MAX        1000 /* acks + setErrs one request may carry */
#define POLL_JTI_MAX         256  /* characters of one jti */
#define POLL_ERR_CODE_MAX    64   /* characters of an "err" code */
#define POLL_DESCRIPTION_MAX 1024 /* bytes of a "description" */

struct poll_set_err {
    char *jti;
    char *err;         /* e.g. "invalid_key" (RFC 8935 §7.1 registry) */
    char *description; /* NULL when absent */
};

struct poll_request {
    size_t max_events;       /* 0..POLL_EVENTS_MAX; POLL_EVENTS_MAX when absent */
    bool return_immediately; /* false when absent: long poll */
    char **acks;             /* jti values, in request order */
    size_t n_acks;
    struct poll_set_err *errs; /* in key order of the object */
    size_t n_errs;
};

/*
 * Parse body[0..n) (an empty body is {}).  On failure *out is empty and:
 * ERR_TOO_LARGE / ERR_INVALID_SYNTAX from scim_json_decode (not a JSON object);
 * ERR_INVALID_VALUE for a member of the wrong type, a negative maxEvents, an
 * empty or over-long jti, err or description, a non-token err code, more than
 * POLL_ACKS_MAX acks and errors, or a jti both acknowledged and rejected.
 */
enum status poll_request_parse(const char *body, size_t n, struct poll_request *out,
                               struct scim_error *err);
void poll_request_release(struct poll_request *req);

#endif
