/*
 * ratelimit.h - request rate limits and failed-authentication throttling,
 * in memory, per node.
 *
 * Two tables behind one mutex: token buckets keyed by a string ("t:<token
 * id>", "c:<connection id>"), and failed-authentication windows keyed by
 * source address (an IPv6 address counts by its /64).  A window starts at
 * an address's first failure and lasts window_s; within it the first
 * failure is recorded by the directory as usual (and those already in
 * flight beside it), later ones are only counted, and once `max` failures
 * are in, every request from the address is refused (429) until the window
 * ends.  A finished window with failures not recorded one by one is handed
 * back once by http_ratelimit_take_finished, for one summary audit event.
 *
 * Both tables have a fixed capacity: full buckets and finished windows are
 * dropped to make room; failures from addresses that find no room count
 * under one shared overflow entry, so a flood from many addresses still
 * yields a bounded number of audit events.  Time is passed in (monotonic
 * ms), so tests need no clock.  Thread safety: every call locks.
 */
#ifndef SCIMD_HTTP_RATELIMIT_H
#define SCIMD_HTTP_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/*
 * Defaults of `scimd serve --token-rate / --conn-rate / --auth-fail-limit`.
 * Microsoft's guidance is that a SCIM endpoint should sustain 25 requests/s
 * per Entra provisioning job (and Entra itself has no throttle for custom,
 * non-gallery apps); Okta keeps at most 75 requests of an org in flight and
 * says bulk loads rarely need 10.  A token gets 4x Entra's rate sustained
 * and a burst of 1,000; a connection (several tokens during a rotation)
 * twice that: an initial sync never sees a 429.
 */
#define HTTP_RATE_TOKEN_PER_S      100
#define HTTP_RATE_TOKEN_BURST      1000
#define HTTP_RATE_CONN_PER_S       200
#define HTTP_RATE_CONN_BURST       2000
#define HTTP_AUTH_FAIL_MAX         20 /* failed authentications per address per window */
#define HTTP_AUTH_FAIL_WINDOW_S    60
#define HTTP_RATE_MAX_BUCKETS      8192 /* token buckets held at once */
#define HTTP_AUTH_FAIL_MAX_SOURCES 8192 /* addresses with a window at once */
#define HTTP_RATE_KEY_MAX          48   /* longest bucket or address key, with its NUL */

struct http_ratelimit;

struct http_rate {
    unsigned per_s; /* sustained requests per second; 0: no limit */
    unsigned burst; /* bucket size: requests at once after a quiet spell */
};

struct http_ratelimit_config {
    struct http_rate token;
    struct http_rate conn;
    unsigned auth_fail_max; /* 0: no failed-authentication throttling */
    unsigned auth_fail_window_s;
};

/* The defaults above. */
void http_ratelimit_defaults(struct http_ratelimit_config *cfg);

/*
 * Parse "RATE" or "RATE/BURST" (the flag syntax: "100/1000"; "0": no
 * limit); BURST defaults to RATE.  Likewise "MAX/WINDOW_S" for
 * --auth-fail-limit.  False on anything else.
 */
bool http_rate_parse(const char *text, unsigned *first, unsigned *second);

enum status http_ratelimit_new(const struct http_ratelimit_config *cfg,
                               struct http_ratelimit **out);
void http_ratelimit_free(struct http_ratelimit *rl);

/*
 * Take one request from the bucket named key (kind: a rate of the config).
 * True when allowed; else *retry_after_s says when one will be (>= 1).
 */
bool http_ratelimit_take(struct http_ratelimit *rl, const struct http_rate *rate, const char *key,
                         int64_t now_ms, unsigned *retry_after_s);
const struct http_ratelimit_config *http_ratelimit_config(const struct http_ratelimit *rl);

/* What to do with a request from an address, before authenticating it. */
enum http_auth_gate {
    HTTP_AUTH_GATE_OPEN,    /* no failure in the window: authenticate as usual */
    HTTP_AUTH_GATE_COUNTED, /* failures in the window: a failure now is counted, not recorded */
    HTTP_AUTH_GATE_CLOSED,  /* too many failures: refuse (429) without touching the store */
};

/* The gate for source (an address as text); when closed, *retry_after_s
 * is the rest of the window and the refusal is counted as a failure. */
enum http_auth_gate http_ratelimit_auth_gate(struct http_ratelimit *rl, const char *source,
                                             int64_t now_ms, unsigned *retry_after_s);
/* A failed authentication from source on connection segment idp (may be
 * ""), recorded one by one by the directory or not; opens a window at the
 * first one. */
void http_ratelimit_auth_failed(struct http_ratelimit *rl, const char *source, const char *idp,
                                bool recorded, int64_t now_ms);

/* A finished window whose failures were not all recorded one by one. */
struct http_auth_summary {
    char source[HTTP_RATE_KEY_MAX]; /* the address (IPv6: its /64), or "*" for overflow */
    char idp[HTTP_RATE_KEY_MAX];    /* the connection segment of the first failure */
    uint64_t failures;              /* in the window, not recorded one by one */
    uint64_t refused;               /* of those, refused with 429 */
    unsigned window_s;
};

/*
 * Move up to max finished windows (all windows, with flush) with failures
 * not recorded one by one into out; returns how many.  Windows without such
 * failures are just dropped.
 */
size_t http_ratelimit_take_finished(struct http_ratelimit *rl, int64_t now_ms, bool flush,
                                    struct http_auth_summary *out, size_t max);

/* The key an address counts under: itself, or for IPv6 its /64 ("2001:db8:1:2::/64"). */
void http_ratelimit_source_key(const char *source, char out[HTTP_RATE_KEY_MAX]);

#endif
