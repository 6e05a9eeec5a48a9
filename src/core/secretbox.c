/* SPDX-License-Identifier: Apache-2.0 */
/*
 * secretbox.c - this file contains AES-256-GCM sealing of small secrets into
 * "v1:" text (strict base64, core/base64), and the key file: created atomically with mode 0600,
 * refused when others can reach it.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base64.h"
#include "core/crypto.h"
#include "core/secretbox.h"
#include "core/str.h"

#define AD_CONTEXT     "scimd-secretbox:" SECRETBOX_PREFIX /* bound in front of the owner */
#define KEY_TEXT_MAX   128 /* a key file holds 44 base64 characters and a newline */
#define SEALED_RAW_MAX (SECRETBOX_NONCE_BYTES + SECRETBOX_PLAIN_MAX + SECRETBOX_TAG_BYTES)

/* ------------------------------------------------------------------ keys */

void secretbox_release(struct secretbox *box)
{
    OPENSSL_cleanse(box->key, sizeof(box->key));
}

/* The key from its text form, trailing whitespace ignored. */
static enum status key_from_text(struct secretbox *box, const char *text, size_t n,
                                 const char *where, struct scim_error *err)
{
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
        n--;
    unsigned char key[SECRETBOX_KEY_BYTES + 3];
    long got = base64_decode(text, n, key, sizeof(key));
    enum status rc = OK;
    if (got != SECRETBOX_KEY_BYTES)
        rc = scim_error_set(err, ERR_INVALID_VALUE, "%s does not hold a %d-byte base64 key", where,
                            SECRETBOX_KEY_BYTES);
    else
        memcpy(box->key, key, SECRETBOX_KEY_BYTES);
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

enum status secretbox_init_text(struct secretbox *box, const char *text, struct scim_error *err)
{
    if (text == NULL)
        return scim_error_set(err, ERR_INVALID_VALUE, "no secretbox key given");
    return key_from_text(box, text, strlen(text), "the secretbox key", err);
}

/* Make directory of path durable after a link into it; best effort. */
static void sync_dir_of(const char *path)
{
    char *copy = str_dup(path);
    if (copy == NULL)
        return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(copy);
}

/* Write a new random key to a temporary file beside path and link it into
 * place.  OK also when another process linked its key first (EEXIST). */
static enum status create_key_file(const char *path, struct scim_error *err)
{
    unsigned char key[SECRETBOX_KEY_BYTES];
    char text[BASE64_LEN(SECRETBOX_KEY_BYTES) + 2];
    char tmp[4096];
    enum status rc = OK;
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp))
        return scim_error_set(err, ERR_INVALID_VALUE, "key file path too long");
    if (crypto_random_bytes(key, sizeof(key)) != OK)
        return scim_error_set(err, ERR_IO, "the CSPRNG failed");
    base64_encode(key, sizeof(key), text);
    OPENSSL_cleanse(key, sizeof(key));
    size_t n = strlen(text);
    text[n++] = '\n';

    int fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
    if (fd < 0) {
        rc = scim_error_set(err, ERR_IO, "cannot create key file '%s': %s", path, strerror(errno));
        goto done;
    }
    bool ok =
        fchmod(fd, S_IRUSR | S_IWUSR) == 0 && write(fd, text, n) == (ssize_t)n && fsync(fd) == 0;
    int saved = errno;
    close(fd);
    if (!ok) {
        rc = scim_error_set(err, ERR_IO, "cannot write key file '%s': %s", path, strerror(saved));
    } else if (link(tmp, path) != 0 && errno != EEXIST) {
        rc = scim_error_set(err, ERR_IO, "cannot create key file '%s': %s", path, strerror(errno));
    } else {
        sync_dir_of(path);
    }
    unlink(tmp);
done:
    OPENSSL_cleanse(text, sizeof(text));
    return rc;
}

enum status secretbox_load_file(struct secretbox *box, const char *path, struct scim_error *err)
{
    if (path == NULL || *path == '\0')
        return scim_error_set(err, ERR_INVALID_VALUE, "no key file given");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        enum status rc = create_key_file(path, err);
        if (rc != OK)
            return rc;
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0)
        return scim_error_set(err, ERR_IO, "cannot open key file '%s': %s", path, strerror(errno));

    enum status rc = OK;
    char text[KEY_TEXT_MAX];
    ssize_t n = 0;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = scim_error_set(err, ERR_IO, "cannot stat key file '%s': %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        rc = scim_error_set(err, ERR_FORBIDDEN, "key file '%s' is not a regular file", path);
    } else if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        rc = scim_error_set(err, ERR_FORBIDDEN,
                            "key file '%s' is open to group or others (mode %03o); chmod 600 it",
                            path, (unsigned)(st.st_mode & 0777));
    } else if ((n = read(fd, text, sizeof(text))) < 0) {
        rc = scim_error_set(err, ERR_IO, "cannot read key file '%s': %s", path, strerror(errno));
    } else if ((size_t)n == sizeof(text)) {
        rc = scim_error_set(err, ERR_INVALID_VALUE, "key file '%s' is too long", path);
    } else {
        char where[4200];
        snprintf(where, sizeof(where), "key file '%s'", path);
        rc = key_from_text(box, text, (size_t)n, where, err);
    }
    close(fd);
    OPENSSL_cleanse(text, sizeof(text));
    return rc;
}

/* ------------------------------------------------------------------ seal and open */

/* One GCM pass over the associated data "scimd-secretbox:v1:" + owner and in.
 * Sealing writes out and tag; opening checks tag. */
static bool gcm(const struct secretbox *box, bool seal, const unsigned char *nonce,
                const char *owner, const unsigned char *in, size_t n, unsigned char *out,
                unsigned char tag[SECRETBOX_TAG_BYTES])
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return false;
    int len = 0;
    bool ok =
        EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, seal) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SECRETBOX_NONCE_BYTES, NULL) == 1 &&
        EVP_CipherInit_ex(ctx, NULL, NULL, box->key, nonce, seal) == 1 &&
        EVP_CipherUpdate(ctx, NULL, &len, (const unsigned char *)AD_CONTEXT,
                         (int)strlen(AD_CONTEXT)) == 1 &&
        EVP_CipherUpdate(ctx, NULL, &len, (const unsigned char *)owner, (int)strlen(owner)) == 1 &&
        (n == 0 || EVP_CipherUpdate(ctx, out, &len, in, (int)n) == 1);
    if (ok && !seal)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SECRETBOX_TAG_BYTES, tag) == 1;
    ok = ok && EVP_CipherFinal_ex(ctx, out + n, &len) == 1;
    if (ok && seal)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SECRETBOX_TAG_BYTES, tag) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

enum status secretbox_seal(const struct secretbox *box, const char *owner, const char *plain,
                           char **out)
{
    *out = NULL;
    size_t n = plain != NULL ? strlen(plain) : SIZE_MAX;
    if (owner == NULL || *owner == '\0' || n > SECRETBOX_PLAIN_MAX)
        return ERR_INVALID_VALUE;
    unsigned char raw[SEALED_RAW_MAX];
    unsigned char *nonce = raw;
    unsigned char *ct = raw + SECRETBOX_NONCE_BYTES;
    if (crypto_random_bytes(nonce, SECRETBOX_NONCE_BYTES) != OK)
        return ERR_IO;
    enum status rc = OK;
    size_t raw_len = SECRETBOX_NONCE_BYTES + n + SECRETBOX_TAG_BYTES;
    if (!gcm(box, true, nonce, owner, (const unsigned char *)plain, n, ct, ct + n)) {
        rc = ERR_IO;
        goto done;
    }
    size_t prefix = strlen(SECRETBOX_PREFIX);
    char *text = malloc(prefix + BASE64_LEN(raw_len) + 1);
    if (text == NULL) {
        rc = ERR_NOMEM;
        goto done;
    }
    memcpy(text, SECRETBOX_PREFIX, prefix);
    base64_encode(raw, raw_len, text + prefix);
    *out = text;
done:
    OPENSSL_cleanse(raw, sizeof(raw));
    return rc;
}

enum status secretbox_open(const struct secretbox *box, const char *owner, const char *sealed,
                           char **plain)
{
    *plain = NULL;
    size_t prefix = strlen(SECRETBOX_PREFIX);
    if (owner == NULL || *owner == '\0' || sealed == NULL ||
        strncmp(sealed, SECRETBOX_PREFIX, prefix) != 0)
        return ERR_INVALID_VALUE;
    unsigned char raw[SEALED_RAW_MAX + 3];
    long raw_len = base64_decode(sealed + prefix, strlen(sealed + prefix), raw, sizeof(raw));
    if (raw_len < SECRETBOX_NONCE_BYTES + SECRETBOX_TAG_BYTES || raw_len > (long)SEALED_RAW_MAX)
        return ERR_INVALID_VALUE;
    size_t n = (size_t)raw_len - SECRETBOX_NONCE_BYTES - SECRETBOX_TAG_BYTES;
    enum status rc = OK;
    char *text = malloc(n + 1);
    if (text == NULL) {
        rc = ERR_NOMEM;
        goto done;
    }
    if (!gcm(box, false, raw, owner, raw + SECRETBOX_NONCE_BYTES, n, (unsigned char *)text,
             raw + SECRETBOX_NONCE_BYTES + n) ||
        memchr(text, '\0', n) != NULL) {
        OPENSSL_cleanse(text, n + 1);
        free(text);
        rc = ERR_FORBIDDEN;
        goto done;
    }
    text[n] = '\0';
    *plain = text;
done:
    OPENSSL_cleanse(raw, sizeof(raw));
    return rc;
}

void secretbox_plain_free(char *plain)
{
    if (plain == NULL)
        return;
    OPENSSL_cleanse(plain, strlen(plain));
    free(plain);
}
