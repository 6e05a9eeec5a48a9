/*
 * cursor.c - this file contains cursor encoding: payload text, HMAC-SHA256
 * tag, base64url without padding, and the strict reverse.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "core/crypto.h"
#include "core/str.h"
#include "scim/cursor.h"

#define CURSOR_TAG_LEN     32
#define CURSOR_PAYLOAD_MAX 128
#define CURSOR_RAW_MAX     (CURSOR_PAYLOAD_MAX + CURSOR_TAG_LEN)

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

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

/* out must hold 4 * ceil(n / 3) + 1 bytes. */
static void b64_encode(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = b64url[(v >> 18) & 63];
        out[o++] = b64url[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = b64url[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = b64url[v & 63];
    }
    out[o] = '\0';
}

static int b64_value(char ch)
{
    const char *p = ch ? strchr(b64url, ch) : NULL;
    return p ? (int)(p - b64url) : -1;
}

/* Strict: only the alphabet, no padding, no stray low bits.  Returns the
 * decoded length, or -1. */
static long b64_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
    if (n % 4 == 1)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value(in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == cap)
                return -1;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* non-canonical trailing bits */
        return -1;
    return (long)o;
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

enum status scim_cursor_encode(const struct scim_cursor *c,
                               const unsigned char key[SCIM_CURSOR_KEY_LEN],
                               char out[SCIM_CURSOR_TEXT_MAX])
{
    out[0] = '\0';
    if (!valid_id(c->id) || c->expires < 0 || c->total < 0)
        return ERR_INVALID_VALUE;
    unsigned char raw[CURSOR_RAW_MAX];
    int n = snprintf((char *)raw, CURSOR_PAYLOAD_MAX, "v2:%c:%lld:%s:%lld", c->backward ? 'b' : 'a',
                     (long long)c->total, c->id, (long long)c->expires);
    if (n < 0 || n >= CURSOR_PAYLOAD_MAX)
        return ERR_INVALID_VALUE;
    if (!tag(key, raw, (size_t)n, raw + n))
        return ERR_NOMEM;
    b64_encode(raw, (size_t)n + CURSOR_TAG_LEN, out);
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
    long n = b64_decode(text, len, raw, sizeof(raw));
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
    if (strlen(text_payload) != payload || strncmp(text_payload, "v2:", 3) != 0 ||
        (text_payload[3] != 'a' && text_payload[3] != 'b') || text_payload[4] != ':')
        return scim_error_set(err, ERR_INVALID_CURSOR, "the cursor is malformed");
    const char *total = text_payload + 5;
    const char *id = strchr(total, ':');
    const char *colon = id ? strrchr(id + 1, ':') : NULL;
    long long total_value = 0, expires = 0;
    if (colon == NULL || !parse_digits(total, (size_t)(id - total), &total_value))
        return scim_error_set(err, ERR_INVALID_CURSOR, "the cursor is malformed");
    id++;
    if ((size_t)(colon - id) >= SCIM_CURSOR_ID_MAX)
        return scim_error_set(err, ERR_INVALID_CURSOR, "the cursor is malformed");
    memcpy(out->id, id, (size_t)(colon - id));
    out->id[colon - id] = '\0';
    if (!valid_id(out->id) || !parse_digits(colon + 1, strlen(colon + 1), &expires))
        return scim_error_set(err, ERR_INVALID_CURSOR, "the cursor is malformed");
    out->total = total_value;
    out->backward = text_payload[3] == 'b';
    out->expires = expires;
    if (expires < now)
        return scim_error_set(err, ERR_INVALID_CURSOR, "the cursor has expired");
    return OK;
}
