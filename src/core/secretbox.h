/* SPDX-License-Identifier: Apache-2.0 */
/*
 * secretbox.h - small secrets encrypted at rest (app credentials, webhook
 * secrets) under a key kept outside the database.
 *
 * Seal: AES-256-GCM (OpenSSL EVP) with a fresh random 96-bit nonce; the result is
 * text, "v1:" + base64(nonce | ciphertext | tag), fit for a TEXT column.  The
 * caller names an owner (e.g. "app:<id>:token") that is bound in as associated
 * data, so a sealed value copied to another row or field does not open there.
 *
 * The 32-byte key lives in a key file (one line of base64) that
 * secretbox_load_file creates with mode 0600 on first use and refuses to read
 * when group or others have any access to it; on PostgreSQL every node is given
 * the same key (same file, or the text through secretbox_init_text from a flag
 * or environment variable).
 *
 * Does not: rotate keys (a later "v2:" can name a key id), log anything, or
 * keep plaintext around: returned plaintext is the caller's, to be freed with
 * secretbox_plain_free (which wipes it).
 * Ownership: struct secretbox is caller-owned (_init/_release; release wipes
 * the key).  Thread safety: a loaded box is read-only, so any number of threads
 * may seal and open with it at once.
 */
#ifndef SCIMD_CORE_SECRETBOX_H
#define SCIMD_CORE_SECRETBOX_H

#include <stddef.h>

#include "core/status.h"

#define SECRETBOX_KEY_BYTES   32
#define SECRETBOX_NONCE_BYTES 12
#define SECRETBOX_TAG_BYTES   16
#define SECRETBOX_PLAIN_MAX   4096 /* secrets are tokens and passwords, not documents */
#define SECRETBOX_PREFIX      "v1:"

struct secretbox {
    unsigned char key[SECRETBOX_KEY_BYTES];
};

/*
 * Load the key from path, creating the file (mode 0600, 32 random bytes as
 * base64, written to a temporary file and linked into place so a crash or a
 * concurrent start never leaves half a key) when it does not exist.
 * ERR_FORBIDDEN when the file is not a regular file or group/others have any
 * permission on it; ERR_INVALID_VALUE when it does not hold exactly one key;
 * ERR_IO for a file system error.  err->detail names the path, never the key.
 */
enum status secretbox_load_file(struct secretbox *box, const char *path, struct scim_error *err);
/* Use a key given as text (the base64 line of a key file), e.g. from an
 * environment variable.  ERR_INVALID_VALUE unless it decodes to 32 bytes. */
enum status secretbox_init_text(struct secretbox *box, const char *text, struct scim_error *err);
/* Wipe the key. */
void secretbox_release(struct secretbox *box);

/*
 * Seal the NUL-terminated plain text (at most SECRETBOX_PLAIN_MAX bytes) for
 * owner (non-empty).  *out is malloc'd "v1:..." text; caller frees.
 * ERR_INVALID_VALUE for a too-long plain text or an empty owner; ERR_IO when
 * the CSPRNG or the cipher fails; ERR_NOMEM.
 */
enum status secretbox_seal(const struct secretbox *box, const char *owner, const char *plain,
                           char **out);
/*
 * Open what secretbox_seal made for the same owner under the same key.  *plain
 * is malloc'd and NUL-terminated; free it with secretbox_plain_free.
 * ERR_INVALID_VALUE when sealed is not a "v1:" value; ERR_FORBIDDEN when it does
 * not authenticate (other key, other owner, altered); ERR_NOMEM.
 */
enum status secretbox_open(const struct secretbox *box, const char *owner, const char *sealed,
                           char **plain);
/* Wipe and free a plain text from secretbox_open.  NULL is a no-op. */
void secretbox_plain_free(char *plain);

#endif
