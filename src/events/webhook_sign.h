/*
 * webhook_sign.h - Standard Webhooks signing (https://www.standardwebhooks.com):
 * secrets and the three headers a receiver checks.
 *
 * A secret is "whsec_" + base64 of 24..64 random bytes (scimd makes 32).  A
 * message is signed as base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")) and
 * sent with `webhook-id`, `webhook-timestamp` (Unix seconds) and
 * `webhook-signature`: space-separated "v1,<sig>" entries, one per secret, so a
 * receiver keeps verifying while the secret is rotated.
 *
 * Does not: store secrets (the caller seals them with core/secretbox), send
 * anything, or log.  Ownership: struct webhook_secret is caller-owned; wipe it
 * with webhook_secret_wipe.  Thread safety: pure functions, reentrant.
 */
#ifndef SCIMD_EVENTS_WEBHOOK_SIGN_H
#define SCIMD_EVENTS_WEBHOOK_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "core/base64.h"
#include "core/status.h"

#define WEBHOOK_SECRET_PREFIX    "whsec_"
#define WEBHOOK_SECRET_MIN_BYTES 24
#define WEBHOOK_SECRET_MAX_BYTES 64
#define WEBHOOK_SECRET_NEW_BYTES 32 /* what webhook_secret_generate makes */
#define WEBHOOK_SECRET_TEXT_MAX  (6 + BASE64_LEN(WEBHOOK_SECRET_MAX_BYTES) + 1)
#define WEBHOOK_ID_MAX           128                  /* message id characters, NUL excluded */
#define WEBHOOK_SECRETS_MAX      4                    /* signatures per message while rotating */
#define WEBHOOK_SIG_TEXT_LEN     (3 + BASE64_LEN(32)) /* "v1," + base64 of the MAC */
#define WEBHOOK_SIGNATURE_MAX    (WEBHOOK_SECRETS_MAX * (WEBHOOK_SIG_TEXT_LEN + 1))
#define WEBHOOK_TIMESTAMP_MAX    21

struct webhook_secret {
    unsigned char key[WEBHOOK_SECRET_MAX_BYTES];
    size_t len;
};

/* The three header values for one delivery, NUL-terminated. */
struct webhook_headers {
    char id[WEBHOOK_ID_MAX + 1];               /* webhook-id */
    char timestamp[WEBHOOK_TIMESTAMP_MAX];     /* webhook-timestamp */
    char signature[WEBHOOK_SIGNATURE_MAX + 1]; /* webhook-signature */
};

/* A new secret's text ("whsec_" + base64 of 32 CSPRNG bytes).  ERR_IO when
 * the CSPRNG fails.  The text is a secret: show it once, never log it. */
enum status webhook_secret_generate(char out[WEBHOOK_SECRET_TEXT_MAX]);
/*
 * Parse a secret's text.  ERR_INVALID_VALUE (detail never echoes the text)
 * unless it is "whsec_" + canonical padded base64 of 24..64 bytes.
 */
enum status webhook_secret_parse(const char *text, struct webhook_secret *out,
                                 struct scim_error *err);
/* Zero the key. */
void webhook_secret_wipe(struct webhook_secret *s);

/*
 * Sign body[0..body_len) sent as message msg_id at timestamp (Unix seconds)
 * with each of the n secrets (1..WEBHOOK_SECRETS_MAX, newest first), filling
 * out.  msg_id is 1..WEBHOOK_ID_MAX characters of [A-Za-z0-9_-] (it is
 * stable across retries: receivers deduplicate on it).  ERR_INVALID_VALUE for
 * a bad id, timestamp < 0 or a bad secret count.
 */
enum status webhook_sign(const struct webhook_secret *secrets, size_t n, const char *msg_id,
                         int64_t timestamp, const void *body, size_t body_len,
                         struct webhook_headers *out, struct scim_error *err);

#endif
