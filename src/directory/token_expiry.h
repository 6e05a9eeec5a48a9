/* SPDX-License-Identifier: Apache-2.0 */
/*
 * token_expiry.h - when a token is due for rotation: its expiry state as
 * `token list`, the admin API and /metrics show it, and a warning in the
 * log for each live token about to expire, at most once a day per token.
 *
 * The state is computed from the token row and a time; it needs no lock.
 * A struct token_expiry_watch remembers which tokens it warned about; one
 * thread at a time calls token_expiry_watch_run (the server's housekeeping).
 */
#ifndef SCIMD_DIRECTORY_TOKEN_EXPIRY_H
#define SCIMD_DIRECTORY_TOKEN_EXPIRY_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* A live token expiring within this long "expires soon": rotate it. */
#define TOKEN_EXPIRES_SOON_S (14 * 86400)
/* A warning for the same token is repeated after this long at the earliest. */
#define TOKEN_WARN_INTERVAL_S 86400
/* Tokens the watch remembers warning about; beyond this the oldest entry is
 * reused (that token may then be warned about again sooner). */
#define TOKEN_WARN_REMEMBERED 256

enum token_expiry {
    TOKEN_EXPIRY_NEVER,   /* no expiry */
    TOKEN_EXPIRY_LATER,   /* expires after TOKEN_EXPIRES_SOON_S */
    TOKEN_EXPIRY_SOON,    /* live and expires within TOKEN_EXPIRES_SOON_S */
    TOKEN_EXPIRY_EXPIRED, /* its expiry has passed */
};

/* t's state at now (clock_now_iso text).  A revoked token is never SOON. */
enum token_expiry token_expiry_of(const struct store_token *t, const char *now);

struct token_expiry_watch {
    struct {
        char id[STORE_ID_LEN];
        int64_t warned_s; /* epoch seconds; 0: free */
    } warned[TOKEN_WARN_REMEMBERED];
};

/* Log one warning for each live token that expires within
 * TOKEN_EXPIRES_SOON_S of now_s and was not warned about within
 * TOKEN_WARN_INTERVAL_S.  Ids and names only, never a secret. */
void token_expiry_watch_run(struct token_expiry_watch *w, struct store *store, int64_t now_s);

#endif
