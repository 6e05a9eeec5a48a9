/*
 * secevent_error_fuzz.c - libFuzzer target for a push recipient's RFC 8935
 * error body.  Invariants: no crash or leak; on success the code is a
 * non-empty token within SECEVENT_ERR_MAX and the description is printable
 * ASCII within SECEVENT_DESCRIPTION_MAX; on failure both are empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "events/secevent_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct secevent_error e;
    if (secevent_error_parse((const char *)data, size, &e) != OK) {
        if (e.err[0] != '\0' || e.description[0] != '\0')
            abort();
        return 0;
    }
    size_t n = strlen(e.err), d = strlen(e.description);
    if (n == 0 || n > SECEVENT_ERR_MAX || d > SECEVENT_DESCRIPTION_MAX)
        abort();
    for (size_t i = 0; i < d; i++) {
        if (e.description[i] < 0x20 || e.description[i] >= 0x7f)
            abort();
    }
    return 0;
}
