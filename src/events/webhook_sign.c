/*
 * webhook_sign.c - this file contains Standard Webhooks secrets (generate,
 * parse) and the signing of one message into its three headers.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <string.h>

#include "core/base64.h"
#include "core/crypto.h"
#include "core/str.h"
#include "events/webhook_sign.h"

#define PREFIX_LEN (sizeof(WEBHOOK_SECRET_PREFIX) - 1)

enum status webhook_secret_generate(char out[WEBHOOK_SECRET_TEXT_MAX])
{
    unsigned char key[WEBHOOK_SECRET_NEW_BYTES];
    if (crypto_random_bytes(key, sizeof(key)) != OK)
        return ERR_IO;
    memcpy(out, WEBHOOK_SECRET_PREFIX, PREFIX_LEN);
    base64_encode(key, sizeof(key), out + PREFIX_LEN);
    OPENSSL_cleanse(key, sizeof(key));
    return OK;
}

enum status webhook_secret_parse(const char *text, struct webhook_secret *out,
                                 struct scim_error *err)
{
    memset(out, 0, sizeof(*out));
    size_t n = text != NULL ? strlen(text) : 0;
    if (n <= PREFIX_LEN || memcmp(text, WEBHOOK_SECRET_PREFIX, PREFIX_LEN) != 0)
        return scim_error_set(err, ERR_INVALID_VALUE, "webhook secret does not start with '%s'",
                              WEBHOOK_SECRET_PREFIX);
    long len = base64_decode(text + PREFIX_LEN, n - PREFIX_LEN, out->key, sizeof(out->key));
    if (len < WEBHOOK_SECRET_MIN_BYTES) {
        webhook_secret_wipe(out);
        return scim_error_set(
            err, ERR_INVALID_VALUE, "webhook secret is not base64 of %d to %d bytes after '%s'",
            WEBHOOK_SECRET_MIN_BYTES, WEBHOOK_SECRET_MAX_BYTES, WEBHOOK_SECRET_PREFIX);
    }
    out->len = (size_t)len;
    return OK;
}

void webhook_secret_wipe(struct webhook_secret *s)
{
    OPENSSL_cleanse(s, sizeof(*s));
}

static bool valid_msg_id(const char *id)
{
    size_t n = id != NULL ? strlen(id) : 0;
    if (n == 0 || n > WEBHOOK_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* "v1," + base64(HMAC-SHA256(key, id "." ts "." body)) into out. */
static enum status sign_one(const struct webhook_secret *s, const char *id, const char *ts,
                            const void *body, size_t body_len, char *out)
{
    enum status rc = ERR_IO;
    unsigned char mac[EVP_MAX_MD_SIZE];
    EVP_MAC *alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *mctx = alg != NULL ? EVP_MAC_CTX_new(alg) : NULL;
    OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                            OSSL_PARAM_construct_end() };
    size_t got = 0;
    if (mctx == NULL || s->len == 0 || !EVP_MAC_init(mctx, s->key, s->len, params) ||
        !EVP_MAC_update(mctx, (const unsigned char *)id, strlen(id)) ||
        !EVP_MAC_update(mctx, (const unsigned char *)".", 1) ||
        !EVP_MAC_update(mctx, (const unsigned char *)ts, strlen(ts)) ||
        !EVP_MAC_update(mctx, (const unsigned char *)".", 1) ||
        (body_len > 0 && !EVP_MAC_update(mctx, body, body_len)) ||
        !EVP_MAC_final(mctx, mac, &got, sizeof(mac)) || got != 32)
        goto done;
    memcpy(out, "v1,", 3);
    base64_encode(mac, got, out + 3);
    rc = OK;
done:
    OPENSSL_cleanse(mac, sizeof(mac));
    EVP_MAC_CTX_free(mctx);
    EVP_MAC_free(alg);
    return rc;
}

enum status webhook_sign(const struct webhook_secret *secrets, size_t n, const char *msg_id,
                         int64_t timestamp, const void *body, size_t body_len,
                         struct webhook_headers *out, struct scim_error *err)
{
    memset(out, 0, sizeof(*out));
    if (n == 0 || n > WEBHOOK_SECRETS_MAX)
        return scim_error_set(err, ERR_INVALID_VALUE, "webhook needs 1 to %d secrets, not %zu",
                              WEBHOOK_SECRETS_MAX, n);
    if (!valid_msg_id(msg_id))
        return scim_error_set(err, ERR_INVALID_VALUE,
                              "webhook message id must be 1 to %d characters of [A-Za-z0-9_-]",
                              WEBHOOK_ID_MAX);
    if (timestamp < 0)
        return scim_error_set(err, ERR_INVALID_VALUE, "webhook timestamp is negative");
    str_copy(out->id, sizeof(out->id), msg_id);
    snprintf(out->timestamp, sizeof(out->timestamp), "%lld", (long long)timestamp);
    char *p = out->signature;
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            *p++ = ' ';
        enum status rc = sign_one(&secrets[i], out->id, out->timestamp, body, body_len, p);
        if (rc != OK) {
            memset(out, 0, sizeof(*out));
            return scim_error_set(err, rc, "webhook signing failed");
        }
        p += WEBHOOK_SIG_TEXT_LEN;
    }
    return OK;
}
