/* SPDX-License-Identifier: Apache-2.0 */
/*
 * base64.c - this file contains base64 and base64url encoding and strict
 * base64 decoding (RFC 4648), written out rather than through OpenSSL's block
 * coder so that decoding can refuse every non-canonical spelling.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/base64.h"
#include "core/str.h"

static const char std_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void encode(const unsigned char *in, size_t n, const char *alphabet, bool pad, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        size_t left = n - i;
        uint32_t v = (uint32_t)in[i] << 16;
        if (left > 1)
            v |= (uint32_t)in[i + 1] << 8;
        if (left > 2)
            v |= in[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        if (left > 1)
            out[o++] = alphabet[(v >> 6) & 63];
        else if (pad)
            out[o++] = '=';
        if (left > 2)
            out[o++] = alphabet[v & 63];
        else if (pad)
            out[o++] = '=';
    }
    out[o] = '\0';
}

void base64_encode(const void *in, size_t n, char *out)
{
    encode(in, n, std_alphabet, true, out);
}

void base64url_encode(const void *in, size_t n, char *out)
{
    encode(in, n, url_alphabet, false, out);
}

static int value_of(char c)
{
    const char *p = c != '\0' ? strchr(std_alphabet, c) : NULL;
    return p != NULL ? (int)(p - std_alphabet) : -1;
}

long base64_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
    if (n == 0 || n % 4 != 0)
        return -1;
    size_t pad = in[n - 1] == '=' ? (in[n - 2] == '=' ? 2 : 1) : 0;
    size_t len = n / 4 * 3 - pad;
    if (len > cap)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        uint32_t v = 0;
        for (size_t j = 0; j < 4; j++) {
            bool padding = i + j >= n - pad;
            int d = padding ? 0 : value_of(in[i + j]);
            if (d < 0)
                return -1;
            v = (v << 6) | (uint32_t)d;
        }
        unsigned char bytes[3] = { (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                                   (unsigned char)v };
        size_t take = len - o < 3 ? len - o : 3;
        /* canonical: the bits below the last decoded byte are zero */
        for (size_t k = take; k < 3; k++) {
            if (bytes[k] != 0)
                return -1;
        }
        memcpy(out + o, bytes, take);
        o += take;
    }
    return (long)len;
}

long base64url_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
    if (n % 4 == 1)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = in[i] != '\0' ? strchr(url_alphabet, in[i]) : NULL;
        if (p == NULL)
            return -1;
        acc = (acc << 6) | (uint32_t)(p - url_alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == cap)
                return -1;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return acc == 0 ? (long)o : -1; /* canonical: no stray low bits */
}
