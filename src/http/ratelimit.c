/*
 * ratelimit.c - token buckets and failed-authentication windows in two
 * open-addressing hash tables (linear probing, at most half full), rebuilt
 * without their dead entries when they fill up or when finished windows are
 * taken out.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "http/ratelimit.h"

#define BUCKET_SLOTS (2u * HTTP_RATE_MAX_BUCKETS)
#define WINDOW_SLOTS (2u * HTTP_AUTH_FAIL_MAX_SOURCES)

struct bucket {
    char key[HTTP_RATE_KEY_MAX]; /* "" : free slot */
    double tokens;
    int64_t last_ms;
};

struct window {
    char key[HTTP_RATE_KEY_MAX]; /* "" : free slot */
    char idp[HTTP_RATE_KEY_MAX];
    int64_t start_ms;
    uint64_t failures;   /* all of them, for the limit */
    uint64_t unrecorded; /* of those, not recorded one by one */
    uint64_t refused;
    /* unrecorded failures and refusals of earlier windows not yet reported */
    uint64_t carried;
    uint64_t carried_refused;
};

struct http_ratelimit {
    pthread_mutex_t lock;
    struct http_ratelimit_config cfg;
    struct bucket *buckets;
    size_t bucket_count;
    struct window *windows;
    size_t window_count;
    struct window overflow;  /* addresses that found no room */
    int64_t full_rebuild_ms; /* when a full table was last rebuilt (at most once a second) */
};

void http_ratelimit_defaults(struct http_ratelimit_config *cfg)
{
    *cfg = (struct http_ratelimit_config){
        .token = { HTTP_RATE_TOKEN_PER_S, HTTP_RATE_TOKEN_BURST },
        .conn = { HTTP_RATE_CONN_PER_S, HTTP_RATE_CONN_BURST },
        .auth_fail_max = HTTP_AUTH_FAIL_MAX,
        .auth_fail_window_s = HTTP_AUTH_FAIL_WINDOW_S,
    };
}

bool http_rate_parse(const char *text, unsigned *first, unsigned *second)
{
    char head[32];
    const char *slash = strchr(text, '/');
    size_t n = slash ? (size_t)(slash - text) : strlen(text);
    if (n == 0 || n >= sizeof(head))
        return false;
    memcpy(head, text, n);
    head[n] = '\0';
    long a, b;
    if (!str_to_long(head, 0, INT_MAX, &a))
        return false;
    b = a;
    if (slash && !str_to_long(slash + 1, 0, INT_MAX, &b))
        return false;
    *first = (unsigned)a;
    *second = (unsigned)b;
    return true;
}

enum status http_ratelimit_new(const struct http_ratelimit_config *cfg, struct http_ratelimit **out)
{
    struct http_ratelimit *rl = calloc(1, sizeof(*rl));
    if (rl == NULL)
        return ERR_NOMEM;
    rl->buckets = calloc(BUCKET_SLOTS, sizeof(*rl->buckets));
    rl->windows = calloc(WINDOW_SLOTS, sizeof(*rl->windows));
    if (rl->buckets == NULL || rl->windows == NULL) {
        http_ratelimit_free(rl);
        return ERR_NOMEM;
    }
    pthread_mutex_init(&rl->lock, NULL);
    rl->cfg = *cfg;
    str_copy(rl->overflow.key, sizeof(rl->overflow.key), "*");
    rl->full_rebuild_ms = INT64_MIN / 2;
    *out = rl;
    return OK;
}

void http_ratelimit_free(struct http_ratelimit *rl)
{
    if (rl == NULL)
        return;
    if (rl->buckets && rl->windows)
        pthread_mutex_destroy(&rl->lock);
    free(rl->buckets);
    free(rl->windows);
    free(rl);
}

const struct http_ratelimit_config *http_ratelimit_config(const struct http_ratelimit *rl)
{
    return &rl->cfg;
}

/* FNV-1a */
static size_t hash_of(const char *key)
{
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return (size_t)h;
}

/* The slot holding key, or the free slot where it would go. */
static struct bucket *bucket_slot(struct bucket *table, const char *key)
{
    size_t i = hash_of(key) & (BUCKET_SLOTS - 1);
    while (table[i].key[0] && strcmp(table[i].key, key) != 0)
        i = (i + 1) & (BUCKET_SLOTS - 1);
    return &table[i];
}

static struct window *window_slot(struct window *table, const char *key)
{
    size_t i = hash_of(key) & (WINDOW_SLOTS - 1);
    while (table[i].key[0] && strcmp(table[i].key, key) != 0)
        i = (i + 1) & (WINDOW_SLOTS - 1);
    return &table[i];
}

/* ---- token buckets -------------------------------------------------------------------------- */

static double refill(const struct http_rate *rate, const struct bucket *b, int64_t now_ms)
{
    double t = b->tokens + (double)(now_ms - b->last_ms) * rate->per_s / 1000.0;
    return t > rate->burst ? rate->burst : t;
}

/* Drop full buckets (the same as absent); rates are the config's two. */
static void buckets_rebuild(struct http_ratelimit *rl, int64_t now_ms)
{
    struct bucket *old = rl->buckets;
    struct bucket *fresh = calloc(BUCKET_SLOTS, sizeof(*fresh));
    if (fresh == NULL)
        return;
    size_t count = 0;
    for (size_t i = 0; i < BUCKET_SLOTS; i++) {
        if (!old[i].key[0])
            continue;
        const struct http_rate *rate = old[i].key[0] == 't' ? &rl->cfg.token : &rl->cfg.conn;
        if (refill(rate, &old[i], now_ms) >= rate->burst)
            continue;
        *bucket_slot(fresh, old[i].key) = old[i];
        count++;
    }
    free(old);
    rl->buckets = fresh;
    rl->bucket_count = count;
}

bool http_ratelimit_take(struct http_ratelimit *rl, const struct http_rate *rate, const char *key,
                         int64_t now_ms, unsigned *retry_after_s)
{
    *retry_after_s = 0;
    if (rate->per_s == 0 || key[0] == '\0' || strlen(key) >= HTTP_RATE_KEY_MAX)
        return true;
    bool allowed = true;
    pthread_mutex_lock(&rl->lock);
    struct bucket *b = bucket_slot(rl->buckets, key);
    if (!b->key[0]) {
        if (rl->bucket_count >= HTTP_RATE_MAX_BUCKETS && now_ms - rl->full_rebuild_ms >= 1000) {
            rl->full_rebuild_ms = now_ms;
            buckets_rebuild(rl, now_ms);
            b = bucket_slot(rl->buckets, key);
        }
        if (rl->bucket_count >= HTTP_RATE_MAX_BUCKETS)
            goto done; /* no room: not limited (keys are authenticated ids) */
        str_copy(b->key, sizeof(b->key), key);
        b->tokens = rate->burst;
        b->last_ms = now_ms;
        rl->bucket_count++;
    }
    b->tokens = refill(rate, b, now_ms);
    b->last_ms = now_ms;
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
    } else {
        allowed = false;
        double wait_s = (1.0 - b->tokens) / rate->per_s;
        unsigned s = (unsigned)wait_s;
        *retry_after_s = s < wait_s || s == 0 ? s + 1 : s;
    }
done:
    pthread_mutex_unlock(&rl->lock);
    return allowed;
}

/* ---- failed authentications ------------------------------------------------------------------ */

void http_ratelimit_source_key(const char *source, char out[HTTP_RATE_KEY_MAX])
{
    struct in6_addr a6;
    if (strchr(source, ':') != NULL && inet_pton(AF_INET6, source, &a6) == 1) {
        memset(a6.s6_addr + 8, 0, 8);
        char text[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &a6, text, sizeof(text));
        snprintf(out, HTTP_RATE_KEY_MAX, "%s/64", text);
        return;
    }
    str_copy(out, HTTP_RATE_KEY_MAX, source);
}

static bool window_over(const struct http_ratelimit *rl, const struct window *w, int64_t now_ms)
{
    return now_ms - w->start_ms >= (int64_t)rl->cfg.auth_fail_window_s * 1000;
}

/* Failures not recorded one by one, to report. */
static uint64_t unreported(const struct window *w)
{
    return w->unrecorded + w->carried;
}

/* Start a new window at now, carrying what the old one has to report. */
static void restart(struct window *w, int64_t now_ms)
{
    w->carried = unreported(w);
    w->carried_refused += w->refused;
    w->failures = 0;
    w->unrecorded = 0;
    w->refused = 0;
    w->start_ms = now_ms;
}

/* Keep the windows that are open or still have failures to report. */
static void windows_rebuild(struct http_ratelimit *rl, int64_t now_ms)
{
    struct window *old = rl->windows;
    struct window *fresh = calloc(WINDOW_SLOTS, sizeof(*fresh));
    if (fresh == NULL)
        return;
    size_t count = 0;
    for (size_t i = 0; i < WINDOW_SLOTS; i++) {
        if (!old[i].key[0] || (window_over(rl, &old[i], now_ms) && unreported(&old[i]) == 0))
            continue;
        *window_slot(fresh, old[i].key) = old[i];
        count++;
    }
    free(old);
    rl->windows = fresh;
    rl->window_count = count;
}

/*
 * The window source counts in: its own, or the overflow one when the table
 * has no room.  NULL when it has no open window and create is false; with
 * create, a finished window restarts and a missing one is opened.
 */
static struct window *window_of(struct http_ratelimit *rl, const char *source, int64_t now_ms,
                                bool create)
{
    char key[HTTP_RATE_KEY_MAX];
    http_ratelimit_source_key(source, key);
    struct window *w = window_slot(rl->windows, key);
    if (!w->key[0] && create && rl->window_count >= HTTP_AUTH_FAIL_MAX_SOURCES &&
        now_ms - rl->full_rebuild_ms >= 1000) {
        rl->full_rebuild_ms = now_ms;
        windows_rebuild(rl, now_ms);
        w = window_slot(rl->windows, key);
    }
    if (!w->key[0] && rl->window_count >= HTTP_AUTH_FAIL_MAX_SOURCES)
        w = &rl->overflow;
    if (w->key[0] && w->failures > 0 && !window_over(rl, w, now_ms))
        return w;
    if (!create)
        return NULL;
    if (!w->key[0]) {
        str_copy(w->key, sizeof(w->key), key);
        rl->window_count++;
    }
    restart(w, now_ms);
    return w;
}

enum http_auth_gate http_ratelimit_auth_gate(struct http_ratelimit *rl, const char *source,
                                             int64_t now_ms, unsigned *retry_after_s)
{
    *retry_after_s = 0;
    if (rl->cfg.auth_fail_max == 0)
        return HTTP_AUTH_GATE_OPEN;
    enum http_auth_gate gate = HTTP_AUTH_GATE_OPEN;
    pthread_mutex_lock(&rl->lock);
    struct window *w = window_of(rl, source, now_ms, false);
    if (w != NULL && w->failures >= rl->cfg.auth_fail_max) {
        gate = HTTP_AUTH_GATE_CLOSED;
        w->failures++;
        w->unrecorded++;
        w->refused++;
        int64_t left_ms = w->start_ms + (int64_t)rl->cfg.auth_fail_window_s * 1000 - now_ms;
        *retry_after_s = left_ms <= 0 ? 1 : (unsigned)((left_ms + 999) / 1000);
    } else if (w != NULL && w->failures > 0) {
        gate = HTTP_AUTH_GATE_COUNTED;
    }
    pthread_mutex_unlock(&rl->lock);
    return gate;
}

void http_ratelimit_auth_failed(struct http_ratelimit *rl, const char *source, const char *idp,
                                bool recorded, int64_t now_ms)
{
    if (rl->cfg.auth_fail_max == 0)
        return;
    pthread_mutex_lock(&rl->lock);
    struct window *w = window_of(rl, source, now_ms, true);
    if (w->failures == 0)
        str_copy(w->idp, sizeof(w->idp), strlen(idp) < sizeof(w->idp) ? idp : "");
    w->failures++;
    w->unrecorded += !recorded;
    pthread_mutex_unlock(&rl->lock);
}

/* Fill s from w, and empty w (the rebuild drops it unless it is open). */
static void summarize(const struct http_ratelimit *rl, struct window *w,
                      struct http_auth_summary *s)
{
    str_copy(s->source, sizeof(s->source), w->key);
    str_copy(s->idp, sizeof(s->idp), w->idp);
    s->failures = unreported(w);
    s->refused = w->refused + w->carried_refused;
    s->window_s = rl->cfg.auth_fail_window_s;
}

static bool take_one(const struct http_ratelimit *rl, struct window *w, int64_t now_ms, bool flush,
                     struct http_auth_summary *out, size_t max, size_t *n)
{
    if (!w->key[0] || w->failures + w->carried == 0 || !(flush || window_over(rl, w, now_ms)))
        return false;
    if (unreported(w) > 0) {
        if (*n == max)
            return false;
        summarize(rl, w, &out[(*n)++]);
    }
    w->failures = w->unrecorded = w->refused = w->carried = w->carried_refused = 0;
    return true;
}

size_t http_ratelimit_take_finished(struct http_ratelimit *rl, int64_t now_ms, bool flush,
                                    struct http_auth_summary *out, size_t max)
{
    size_t n = 0;
    bool removed = false;
    pthread_mutex_lock(&rl->lock);
    for (size_t i = 0; i < WINDOW_SLOTS; i++)
        removed |= take_one(rl, &rl->windows[i], now_ms, flush, out, max, &n);
    take_one(rl, &rl->overflow, now_ms, flush, out, max, &n);
    if (removed)
        windows_rebuild(rl, now_ms);
    pthread_mutex_unlock(&rl->lock);
    return n;
}
