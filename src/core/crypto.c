/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crypto.c - SHA-256, CSPRNG, base62 tokens and UUIDs over libcrypto.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/crypto.h"
#include "core/str.h"

static const char hexdigits[] = "0123456789abcdef";
static const char base62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

void crypto_sha256_hex(const void *data, size_t n, char out[CRYPTO_SHA256_HEX_LEN])
{
    unsigned char md[32];
    unsigned int md_len = 0;
    EVP_Digest(data, n, md, &md_len, EVP_sha256(), NULL);
    for (unsigned int i = 0; i < 32; i++) {
        out[2 * i] = hexdigits[md[i] >> 4];
        out[2 * i + 1] = hexdigits[md[i] & 15];
    }
    out[64] = '\0';
}

enum status crypto_random_bytes(void *out, size_t n)
{
    return RAND_bytes(out, (int)n) == 1 ? OK : ERR_IO;
}

enum status crypto_random_base62(char *out, size_t n)
{
    size_t filled = 0;
    unsigned char pool[64];
    while (filled < n) {
        if (crypto_random_bytes(pool, sizeof(pool)) != OK)
            return ERR_IO;
        for (size_t i = 0; i < sizeof(pool) && filled < n; i++) {
            /* 248 = 4 * 62: rejecting larger bytes keeps every digit equally likely */
            if (pool[i] < 248)
                out[filled++] = base62[pool[i] % 62];
        }
    }
    out[n] = '\0';
    return OK;
}

enum status crypto_uuid(char out[CRYPTO_UUID_LEN])
{
    unsigned char b[16];
    if (crypto_random_bytes(b, sizeof(b)) != OK)
        return ERR_IO;
    /* UUIDv7 (RFC 9562): 48 bits of Unix milliseconds first, so ids made close in
     * time sit close in every index keyed on them; 74 random bits keep them unguessable. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t ms = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x70);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hexdigits[b[i] >> 4];
        *p++ = hexdigits[b[i] & 15];
    }
    *p = '\0';
    return OK;
}

enum status crypto_token_new(char out[CRYPTO_TOKEN_LEN])
{
    memcpy(out, CRYPTO_TOKEN_PREFIX, 6);
    return crypto_random_base62(out + 6, CRYPTO_TOKEN_RANDOM_CHARS);
}

bool crypto_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}
