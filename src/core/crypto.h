/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crypto.h - hashing, randomness and identifiers (OpenSSL libcrypto).
 *
 * Tokens are "scimd_" + 48 base62 characters drawn from the OS CSPRNG
 * without modulo bias; only their SHA-256 is ever stored.  Ids are random
 * UUIDv4 strings.  Thread-safe.
 */
#ifndef SCIMD_CORE_CRYPTO_H
#define SCIMD_CORE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"

#define CRYPTO_SHA256_HEX_LEN     65 /* 64 hex digits + NUL */
#define CRYPTO_UUID_LEN           37 /* 36 characters + NUL */
#define CRYPTO_TOKEN_PREFIX       "scimd_"
#define CRYPTO_TOKEN_RANDOM_CHARS 48
#define CRYPTO_TOKEN_LEN          (6 + CRYPTO_TOKEN_RANDOM_CHARS + 1)

void crypto_sha256_hex(const void *data, size_t n, char out[CRYPTO_SHA256_HEX_LEN]);
enum status crypto_random_bytes(void *out, size_t n);
/* n base62 characters from the CSPRNG, NUL-terminated (out holds n + 1). */
enum status crypto_random_base62(char *out, size_t n);
/* A UUIDv7: time-ordered (milliseconds), then random; lowercase, with dashes. */
enum status crypto_uuid(char out[CRYPTO_UUID_LEN]);
enum status crypto_token_new(char out[CRYPTO_TOKEN_LEN]);
/* Constant-time comparison of two equal-length buffers. */
bool crypto_equal(const void *a, const void *b, size_t n);

#endif
