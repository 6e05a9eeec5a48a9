/*
 * signing_keys.c - this file contains RSA key generation (OpenSSL 3 EVP), the
 * sealed PKCS#8 storage form, public JWKs with RFC 7638 thumbprints, the JWKS
 * document and RS256 compact JWS signing.
 */
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <string.h>

#include "core/base64.h"
#include "core/crypto.h"
#include "core/str.h"
#include "events/signing_keys.h"

#define RSA_BYTES_MAX  512 /* 4096-bit modulus */
#define RSA_EXP_MAX    16
#define JWS_HEADER_MAX 256

struct signing_key {
    EVP_PKEY *pkey;
    char kid[SIGNING_KEY_KID_LEN];
    char n[BASE64URL_LEN(RSA_BYTES_MAX) + 1]; /* base64url modulus */
    char e[BASE64URL_LEN(RSA_EXP_MAX) + 1];   /* base64url public exponent */
};

static bool accepted_bits(int bits)
{
    return bits == 2048 || bits == 3072 || bits == 4096;
}

/* One big-number parameter of the key as unpadded big-endian base64url. */
static bool param_b64url(EVP_PKEY *pkey, const char *name, size_t max_bytes, char *out)
{
    BIGNUM *bn = NULL;
    unsigned char raw[RSA_BYTES_MAX];
    if (!EVP_PKEY_get_bn_param(pkey, name, &bn))
        return false;
    int len = BN_num_bytes(bn);
    bool ok = len > 0 && (size_t)len <= max_bytes && BN_bn2bin(bn, raw) == len;
    if (ok)
        base64url_encode(raw, (size_t)len, out);
    BN_free(bn);
    return ok;
}

/* Take pkey (freed on failure): check it, fill the public parts and the kid. */
static enum status key_from_pkey(EVP_PKEY *pkey, struct signing_key **out, struct scim_error *err)
{
    *out = NULL;
    struct signing_key *key = calloc(1, sizeof(*key));
    if (key == NULL) {
        EVP_PKEY_free(pkey);
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    }
    key->pkey = pkey;
    if (!EVP_PKEY_is_a(pkey, "RSA") || !accepted_bits(EVP_PKEY_get_bits(pkey)) ||
        !param_b64url(pkey, OSSL_PKEY_PARAM_RSA_N, RSA_BYTES_MAX, key->n) ||
        !param_b64url(pkey, OSSL_PKEY_PARAM_RSA_E, RSA_EXP_MAX, key->e)) {
        signing_key_free(key);
        return scim_error_set(err, ERR_INVALID_VALUE,
                              "signing key is not an RSA key of 2048, 3072 or 4096 bits");
    }
    /* RFC 7638 §3.2: the required members in lexicographic order, no spaces */
    struct buf canon;
    buf_init(&canon, 2048);
    buf_printf(&canon, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", key->e, key->n);
    if (canon.failed) {
        buf_release(&canon);
        signing_key_free(key);
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    }
    unsigned char digest[32];
    unsigned int digest_len = 0;
    bool ok = EVP_Digest(canon.data, canon.len, digest, &digest_len, EVP_sha256(), NULL) &&
              digest_len == sizeof(digest);
    buf_release(&canon);
    if (!ok) {
        signing_key_free(key);
        return scim_error_set(err, ERR_IO, "signing key thumbprint failed");
    }
    base64url_encode(digest, sizeof(digest), key->kid);
    *out = key;
    return OK;
}

enum status signing_key_generate(int bits, struct signing_key **out, struct scim_error *err)
{
    *out = NULL;
    if (!accepted_bits(bits))
        return scim_error_set(err, ERR_INVALID_VALUE,
                              "signing key size %d is not 2048, 3072 or 4096 bits", bits);
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    if (pkey == NULL)
        return scim_error_set(err, ERR_IO, "generating an RSA key failed");
    return key_from_pkey(pkey, out, err);
}

void signing_key_free(struct signing_key *key)
{
    if (key == NULL)
        return;
    EVP_PKEY_free(key->pkey);
    free(key);
}

const char *signing_key_kid(const struct signing_key *key)
{
    return key->kid;
}

enum status signing_key_seal(const struct signing_key *key, const struct secretbox *box,
                             char **sealed, struct scim_error *err)
{
    *sealed = NULL;
    BIO *bio = BIO_new(BIO_s_secmem());
    if (bio == NULL || !PEM_write_bio_PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL)) {
        BIO_free(bio);
        return scim_error_set(err, ERR_IO, "writing the signing key failed");
    }
    char *pem = NULL;
    long len = BIO_get_mem_data(bio, &pem);
    char *plain = len > 0 ? str_ndup(pem, (size_t)len) : NULL;
    BIO_free(bio);
    if (plain == NULL)
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    enum status rc = secretbox_seal(box, SIGNING_KEY_SEAL_OWNER, plain, sealed);
    secretbox_plain_free(plain);
    if (rc != OK)
        return scim_error_set(err, rc, "sealing the signing key failed");
    return OK;
}

enum status signing_key_open(const struct secretbox *box, const char *sealed,
                             struct signing_key **out, struct scim_error *err)
{
    *out = NULL;
    char *plain = NULL;
    enum status rc = secretbox_open(box, SIGNING_KEY_SEAL_OWNER, sealed, &plain);
    if (rc != OK)
        return scim_error_set(err, rc, "the stored signing key does not open with this key file");
    BIO *bio = BIO_new_mem_buf(plain, -1);
    EVP_PKEY *pkey = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    secretbox_plain_free(plain);
    if (pkey == NULL)
        return scim_error_set(err, ERR_INVALID_VALUE,
                              "the stored signing key is not a private key");
    return key_from_pkey(pkey, out, err);
}

static json_t *jwk_object(const struct signing_key *key)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "RSA", "n", key->n, "e", key->e,
                     "kid", key->kid, "alg", SIGNING_KEY_ALG, "use", "sig");
}

/* Compact text of doc (stolen); ERR_NOMEM when either step failed. */
static enum status dump(json_t *doc, char **json, struct scim_error *err)
{
    *json = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (*json == NULL)
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    return OK;
}

enum status signing_key_public_jwk(const struct signing_key *key, char **json,
                                   struct scim_error *err)
{
    return dump(jwk_object(key), json, err);
}

enum status signing_keys_jwks(const struct signing_key *const *keys, size_t n, char **json,
                              struct scim_error *err)
{
    *json = NULL;
    if (n == 0 || n > SIGNING_KEYS_MAX)
        return scim_error_set(err, ERR_INVALID_VALUE, "a JWKS holds 1 to %d keys, not %zu",
                              SIGNING_KEYS_MAX, n);
    json_t *list = json_array();
    for (size_t i = 0; list != NULL && i < n; i++) {
        if (json_array_append_new(list, jwk_object(keys[i])) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    return dump(list != NULL ? json_pack("{s:o}", "keys", list) : NULL, json, err);
}

enum status signing_key_sign_jws(const struct signing_key *key, const char *typ,
                                 const char *payload, size_t payload_len, char **compact,
                                 struct scim_error *err)
{
    *compact = NULL;
    enum status rc = ERR_NOMEM;
    char *header = NULL;
    unsigned char *sig = NULL;
    EVP_MD_CTX *md = NULL;
    struct buf out;
    buf_init(&out, 0);

    json_t *h = json_pack("{s:s, s:s}", "alg", SIGNING_KEY_ALG, "kid", key->kid);
    if (h != NULL && typ != NULL && json_object_set_new(h, "typ", json_string(typ)) != 0) {
        json_decref(h);
        h = NULL;
    }
    rc = dump(h, &header, err);
    if (rc != OK)
        goto fail;
    char *seg =
        malloc(BASE64URL_LEN(payload_len > strlen(header) ? payload_len : strlen(header)) + 1);
    if (seg == NULL) {
        rc = scim_error_set(err, ERR_NOMEM, "out of memory");
        goto fail;
    }
    base64url_encode(header, strlen(header), seg);
    buf_puts(&out, seg);
    buf_putc(&out, '.');
    base64url_encode(payload, payload_len, seg);
    buf_puts(&out, seg);
    free(seg);
    if (out.failed) {
        rc = scim_error_set(err, ERR_NOMEM, "out of memory");
        goto fail;
    }

    size_t sig_len = 0;
    md = EVP_MD_CTX_new();
    if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key->pkey) != 1 ||
        EVP_DigestSign(md, NULL, &sig_len, (const unsigned char *)out.data, out.len) != 1 ||
        (sig = malloc(sig_len)) == NULL ||
        EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)out.data, out.len) != 1) {
        rc = scim_error_set(err, ERR_IO, "RS256 signing failed");
        goto fail;
    }
    char sig_text[BASE64URL_LEN(RSA_BYTES_MAX) + 1];
    if (sig_len > RSA_BYTES_MAX) {
        rc = scim_error_set(err, ERR_IO, "RS256 signature longer than the key");
        goto fail;
    }
    base64url_encode(sig, sig_len, sig_text);
    buf_putc(&out, '.');
    buf_puts(&out, sig_text);
    *compact = buf_take(&out);
    if (*compact == NULL) {
        rc = scim_error_set(err, ERR_NOMEM, "out of memory");
        goto fail;
    }
    rc = OK;
fail:
    buf_release(&out);
    free(header);
    free(sig);
    EVP_MD_CTX_free(md);
    return rc;
}
