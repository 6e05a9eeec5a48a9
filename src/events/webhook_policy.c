/* SPDX-License-Identifier: Apache-2.0 */
/*
 * webhook_policy.c - this file contains the webhook retry schedule, the
 * meaning of a receiver's answers and the --events filter (webhook_policy.h).
 */
#include <string.h>

#include "core/crypto.h"
#include "core/str.h"
#include "events/webhook_policy.h"

/* Svix: after the first (immediate) attempt fails, wait this long (unscaled). */
/* clang-format off */
static const int64_t retry_after_ms[WEBHOOK_ATTEMPTS_MAX - 1] = {
    5 * 1000LL,          /* 5 s */
    5 * 60 * 1000LL,     /* 5 min */
    30 * 60 * 1000LL,    /* 30 min */
    2 * 3600 * 1000LL,   /* 2 h */
    5 * 3600 * 1000LL,   /* 5 h */
    10 * 3600 * 1000LL,  /* 10 h */
    10 * 3600 * 1000LL,  /* 10 h */
};
/* clang-format on */

int64_t webhook_retry_delay_ms(int64_t attempts, long base_ms)
{
    if (attempts < 1)
        return 0;
    if (attempts >= WEBHOOK_ATTEMPTS_MAX)
        return -1;
    int64_t base = base_ms > 0 ? base_ms : WEBHOOK_RETRY_BASE_MS;
    int64_t ms = retry_after_ms[attempts - 1] / WEBHOOK_RETRY_BASE_MS * base;
    uint32_t r = 0;
    if (crypto_random_bytes(&r, sizeof(r)) != OK)
        r = 0;
    return ms * 9 / 10 + (int64_t)(r % (uint32_t)(ms / 5 + 1));
}

enum webhook_outcome webhook_outcome_of(const char *format, long status, bool rfc8935_error)
{
    if (status >= 200 && status < 300)
        return WEBHOOK_DELIVERED;
    if (status == 410)
        return WEBHOOK_GONE;
    if (status == 400 && rfc8935_error && format && strcmp(format, "set") == 0)
        return WEBHOOK_REJECTED;
    return WEBHOOK_RETRY;
}

static bool type_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

enum status webhook_events_normalise(const char *text, char out[WEBHOOK_EVENTS_TEXT_MAX + 1],
                                     struct scim_error *err)
{
    size_t n = 0;
    out[0] = '\0';
    if (text == NULL)
        return OK;
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '\0')
            break;
        const char *start = p;
        while (type_char(*p))
            p++;
        bool named = p > start;
        if (*p == '*')
            p++;
        size_t len = (size_t)(p - start);
        while (*p == ' ')
            p++;
        if (!named || (*p != '\0' && *p != ','))
            return scim_error_set(err, ERR_INVALID_VALUE,
                                  "events must be event types like scim_user_created or "
                                  "prefixes like scim_user_*, separated by commas");
        if (n + len + 2 > WEBHOOK_EVENTS_TEXT_MAX)
            return scim_error_set(err, ERR_INVALID_VALUE, "events is longer than %d bytes",
                                  WEBHOOK_EVENTS_TEXT_MAX);
        if (n > 0)
            out[n++] = ',';
        memcpy(out + n, start, len);
        n += len;
        out[n] = '\0';
    }
    return OK;
}

bool webhook_events_match(const char *filter, const char *type)
{
    if (filter == NULL || filter[0] == '\0')
        return true;
    if (type == NULL)
        return false;
    size_t tlen = strlen(type);
    for (const char *p = filter; *p;) {
        size_t len = strcspn(p, ",");
        bool prefix = len > 0 && p[len - 1] == '*';
        size_t want = prefix ? len - 1 : len;
        if (prefix ? tlen >= want && strncmp(type, p, want) == 0
                   : tlen == want && strncmp(type, p, want) == 0)
            return true;
        p += len;
        if (*p == ',')
            p++;
    }
    return false;
}
