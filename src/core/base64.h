/* SPDX-License-Identifier: Apache-2.0 */
/*
 * base64.h - base64 (RFC 4648 §4, padded) and base64url (§5, unpadded, as JOSE
 * uses it) encoding, and strict base64 decoding.
 *
 * Encoders write into a caller buffer of BASE64_LEN / BASE64URL_LEN(n) + 1 bytes
 * and NUL-terminate it.  The decoders accept only canonical text (the 64
 * characters, '=' padding to a multiple of 4, no stray low bits), so one value
 * has one spelling.  Pure functions; thread-safe.
 */
#ifndef SCIMD_CORE_BASE64_H
#define SCIMD_CORE_BASE64_H

#include <stddef.h>

#define BASE64_LEN(n)    ((((n) + 2) / 3) * 4) /* padded text length, without NUL */
#define BASE64URL_LEN(n) (((n)*4 + 2) / 3)     /* unpadded text length, without NUL */

/* out holds BASE64_LEN(n) + 1 bytes. */
void base64_encode(const void *in, size_t n, char *out);
/* out holds BASE64URL_LEN(n) + 1 bytes. */
void base64url_encode(const void *in, size_t n, char *out);
/* Decode padded base64 in[0..n) into out (cap bytes).  The decoded length, or
 * -1 when the text is not canonical base64 or decodes to more than cap bytes. */
long base64_decode(const char *in, size_t n, unsigned char *out, size_t cap);
/* Decode unpadded base64url in[0..n) the same strict way (no '=', no stray
 * low bits); the decoded length or -1. */
long base64url_decode(const char *in, size_t n, unsigned char *out, size_t cap);

#endif
