/* SPDX-License-Identifier: Apache-2.0 */
/*
 * token_expiry.c - a token's expiry state, and the daily warnings in the
 * log for tokens that will soon stop working.
 */
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "directory/token_expiry.h"

enum token_expiry token_expiry_of(const struct store_token *t, const char *now)
{
    if (!t->expires_at[0])
        return TOKEN_EXPIRY_NEVER;
    if (strcmp(t->expires_at, now) <= 0)
        return TOKEN_EXPIRY_EXPIRED;
    if (!t->revoked_at[0] && clock_iso_diff_s(now, t->expires_at) < TOKEN_EXPIRES_SOON_S)
        return TOKEN_EXPIRY_SOON;
    return TOKEN_EXPIRY_LATER;
}

struct watch_round {
    struct token_expiry_watch *w;
    int64_t now_s;
    const char *now;
};

/* The slot remembering id, or the one to reuse: free or warned longest ago. */
static size_t slot_of(struct token_expiry_watch *w, const char *id, bool *known)
{
    size_t oldest = 0;
    for (size_t i = 0; i < TOKEN_WARN_REMEMBERED; i++) {
        if (w->warned[i].warned_s != 0 && strcmp(w->warned[i].id, id) == 0) {
            *known = true;
            return i;
        }
        if (w->warned[i].warned_s < w->warned[oldest].warned_s)
            oldest = i;
    }
    *known = false;
    return oldest;
}

static enum status warn_once(void *ctx, const struct store_token *t)
{
    struct watch_round *r = ctx;
    bool known;
    size_t i = slot_of(r->w, t->id, &known);
    if (known && r->now_s - r->w->warned[i].warned_s < TOKEN_WARN_INTERVAL_S)
        return OK;
    int64_t left_s = clock_iso_diff_s(r->now, t->expires_at);
    log_warn("token %s ('%s') of idp %s expires at %s, in %lld h: rotate it (scimd token rotate "
             "%s)",
             t->id, t->name, t->idp_id, t->expires_at, (long long)(left_s / 3600), t->id);
    memcpy(r->w->warned[i].id, t->id, sizeof(t->id));
    r->w->warned[i].warned_s = r->now_s;
    return OK;
}

void token_expiry_watch_run(struct token_expiry_watch *w, struct store *store, int64_t now_s)
{
    char now[CLOCK_ISO_LEN], until[CLOCK_ISO_LEN];
    clock_iso_from_ms(now_s * 1000, now);
    clock_iso_from_ms((now_s + TOKEN_EXPIRES_SOON_S) * 1000, until);
    struct store_tx *tx = NULL;
    enum status rc = store_begin(store, false, &tx);
    if (rc == OK) {
        struct watch_round r = { w, now_s, now };
        rc = store_token_expiring_each(tx, now, until, warn_once, &r);
        store_rollback(tx);
    }
    if (rc != OK)
        log_warn("cannot check tokens for expiry: %s", status_name(rc));
}
