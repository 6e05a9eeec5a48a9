/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cursor.c - this file contains cursor encoding: payload text, HMAC-SHA256
 * tag, base64url without padding, and the strict reverse.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "core/base64.h"
#include "core/crypto.h"
#include "core/str.h"
#include "scim/cursor.h"

#define CURSOR_TAG_LEN     32
#define CURSOR_PAYLOAD_MAX 160
#define CURSOR_RAW_MAX     (CURSOR_PAYLOAD_MAX + CURSOR_TAG_LEN)

static const char hex_digits[] = "0123456789abcdef";

static bool id_char(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           ch == '-' || ch == '_' || ch == '.';
}

static bool valid_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n >= SCIM_CURSOR_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!id_char(id[i]))
            return false;
    return true;
}

static bool tag(const unsigned char key[SCIM_CURSOR_KEY_LEN], const unsigned char *data, size_t n,
                unsigned char out[CURSOR_TAG_LEN])
{
    unsigned int len = 0;
    return HMAC(EVP_sha256(), key, SCIM_CURSOR_KEY_LEN, data, n, out, &len) != NULL &&
           len == CURSOR_TAG_LEN;
}

/* n decimal digits (1 to 18) at s. */
static bool parse_digits(const char *s, size_t n, long long *out)
{
    if (n == 0 || n > 18)
        return false;
    long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* The next ':'-terminated field of *p (or the rest when last); advances *p. */
static bool next_field(char **p, bool last, const char **field, size_t *len)
{
    char *colon = strchr(*p, ':');
    if ((colon == NULL) != last)
        return false;
    *field = *p;
    *len = colon ? (size_t)(colon - *p) : strlen(*p);
    *p = colon ? colon + 1 : *p + *len;
    return true;
}

/* "v3:<a|b>:<total>:<id>:<expires>:<scope hex>", strictly (only the text
 * scim_cursor_encode writes, so decode + encode gives the same cursor). */
static bool parse_payload(char *text, struct scim_cursor *out)
{
    if (strncmp(text, "v3:", 3) != 0 || (text[3] != 'a' && text[3] != 'b') || text[4] != ':')
        return false;
    out->backward = text[3] == 'b';
    char *p = text + 5;
    const char *f;
    size_t n;
    long long total = 0, expires = 0;
    if (!next_field(&p, false, &f, &n) || !parse_digits(f, n, &total))
        return false;
    if (!next_field(&p, false, &f, &n) || n >= SCIM_CURSOR_ID_MAX)
        return false;
    memcpy(out->id, f, n);
    out->id[n] = '\0';
    if (!valid_id(out->id) || !next_field(&p, false, &f, &n) || !parse_digits(f, n, &expires))
        return false;
    if (!next_field(&p, true, &f, &n) || n != 2 * SCIM_CURSOR_SCOPE_LEN)
        return false;
    for (size_t i = 0; i < SCIM_CURSOR_SCOPE_LEN; i++) {
        const char *hi = strchr(hex_digits, f[2 * i]), *lo = strchr(hex_digits, f[2 * i + 1]);
        if (f[2 * i] == '\0' || f[2 * i + 1] == '\0' || hi == NULL || lo == NULL)
            return false;
        out->scope[i] = (unsigned char)((hi - hex_digits) << 4 | (lo - hex_digits));
    }
    out->total = total;
    out->expires = expires;
    return true;
}

enum status scim_cursor_scope(const char *const *parts, size_t n,
                              unsigned char out[SCIM_CURSOR_SCOPE_LEN])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    for (size_t i = 0; ok && i < n; i++) {
        const char *part = parts[i] ? parts[i] : "";
        char len[24];
        int w = snprintf(len, sizeof(len), "%zu:", strlen(part));
        ok = EVP_DigestUpdate(ctx, len, (size_t)w) == 1 &&
             EVP_DigestUpdate(ctx, part, strlen(part)) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &md_len) == 1 && md_len >= SCIM_CURSOR_SCOPE_LEN;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return ERR_NOMEM;
    memcpy(out, md, SCIM_CURSOR_SCOPE_LEN);
    return OK;
}

enum status scim_cursor_encode(const struct scim_cursor *c,
                               const unsigned char key[SCIM_CURSOR_KEY_LEN],
                               char out[SCIM_CURSOR_TEXT_MAX])
{
    out[0] = '\0';
    if (!valid_id(c->id) || c->expires < 0 || c->total < 0)
        return ERR_INVALID_VALUE;
    unsigned char raw[CURSOR_RAW_MAX];
    char scope[2 * SCIM_CURSOR_SCOPE_LEN + 1];
    for (size_t i = 0; i < SCIM_CURSOR_SCOPE_LEN; i++) {
        scope[2 * i] = hex_digits[c->scope[i] >> 4];
        scope[2 * i + 1] = hex_digits[c->scope[i] & 15];
    }
    scope[2 * SCIM_CURSOR_SCOPE_LEN] = '\0';
    int n =
        snprintf((char *)raw, CURSOR_PAYLOAD_MAX, "v3:%c:%lld:%s:%lld:%s", c->backward ? 'b' : 'a',
                 (long long)c->total, c->id, (long long)c->expires, scope);
    if (n < 0 || n >= CURSOR_PAYLOAD_MAX)
        return ERR_INVALID_VALUE;
    if (!tag(key, raw, (size_t)n, raw + n))
        return ERR_NOMEM;
    base64url_encode(raw, (size_t)n + CURSOR_TAG_LEN, out);
    return OK;
}

enum status scim_cursor_decode(const char *text, const unsigned char key[SCIM_CURSOR_KEY_LEN],
                               int64_t now, struct scim_cursor *out, struct scim_error *err)
{
    memset(out, 0, sizeof(*out));
    size_t len = strnlen(text, SCIM_CURSOR_TEXT_MAX);
    if (len == 0 || len >= SCIM_CURSOR_TEXT_MAX)
        return scim_error_set(err, ERR_INVALID_CURSOR, "the cursor is malformed");
    unsigned char raw[CURSOR_RAW_MAX];
    long n = base64url_decode(text, len, raw, sizeof(raw));
    if (n <= CURSOR_TAG_LEN)
        return scim_error_set(err, ERR_INVALID_CURSOR, "the cursor is malformed");
    size_t payload = (size_t)n - CURSOR_TAG_LEN;
    unsigned char expect[CURSOR_TAG_LEN];
    if (!tag(key, raw, payload, expect))
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    if (!crypto_equal(expect, raw + payload, CURSOR_TAG_LEN))
        return scim_error_set(err, ERR_INVALID_CURSOR, "the cursor was not issued by this server");
    /* authentic; still parse strictly (an older key version would differ) */
    char text_payload[CURSOR_PAYLOAD_MAX];
    if (payload >= sizeof(text_payload))
        return scim_error_set(err, ERR_INVALID_CURSOR, "the cursor is malformed");
    memcpy(text_payload, raw, payload);
    text_payload[payload] = '\0';
    if (strlen(text_payload) != payload || !parse_payload(text_payload, out)) {
        memset(out, 0, sizeof(*out));
        return scim_error_set(err, ERR_INVALID_CURSOR, "the cursor is malformed");
    }
    if (out->expires < now)
        return scim_error_set(err, ERR_INVALID_CURSOR, "the cursor has expired");
    return OK;
}
