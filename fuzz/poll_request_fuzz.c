/*
 * poll_request_fuzz.c - libFuzzer target for the RFC 8936 poll body parser:
 * any bytes as the body of POST /events/v1/poll/<id>.  Invariants: no crash
 * or leak; a failure is one of the documented statuses and leaves nothing
 * behind; on success maxEvents is within POLL_EVENTS_MAX, counts within
 * POLL_ACKS_MAX, no jti is both acknowledged and rejected, and every string
 * is within its limit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "events/poll_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_len(const char *s, size_t max)
{
    if (s == NULL || s[0] == '\0' || strlen(s) > max)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct poll_request req;
    struct scim_error err;
    enum status rc = poll_request_parse((const char *)data, size, &req, &err);
    if (rc != OK) {
        if ((rc != ERR_INVALID_VALUE && rc != ERR_INVALID_SYNTAX && rc != ERR_TOO_LARGE &&
             rc != ERR_NOMEM) ||
            req.acks != NULL || req.errs != NULL)
            abort();
        return 0;
    }
    if (req.max_events > POLL_EVENTS_MAX || req.n_acks + req.n_errs > POLL_ACKS_MAX)
        abort();
    for (size_t i = 0; i < req.n_acks; i++)
        check_len(req.acks[i], POLL_JTI_MAX);
    for (size_t i = 0; i < req.n_errs; i++) {
        check_len(req.errs[i].jti, POLL_JTI_MAX);
        check_len(req.errs[i].err, POLL_ERR_CODE_MAX);
        if (req.errs[i].description != NULL)
            check_len(req.errs[i].description, POLL_DESCRIPTION_MAX);
        for (size_t j = 0; j < req.n_acks; j++) {
            if (strcmp(req.acks[j], req.errs[i].jti) == 0)
                abort();
        }
    }
    poll_request_release(&req);
    return 0;
}
