/*
 * signing_keys.h - the RSA keys scimd signs Security Event Tokens with
 * (RS256, RFC 7518 §3.3), their public JWKs and JWKS, and compact JWS.
 *
 * A key is RSA 2048, 3072 or 4096 bits made by OpenSSL 3; its kid is the RFC 7638
 * JWK thumbprint (base64url SHA-256 of {"e","kty","n"}), so the same key always
 * has the same kid on every node.  For storage a key leaves this module only
 * sealed with core/secretbox (PKCS#8 PEM inside, bound to the owner
 * SIGNING_KEY_SEAL_OWNER); where the sealed text is kept is the caller's
 * business (a settings row via store_setting_claim, one per key id, suits:
 * rotation publishes the new key's JWK next to the old one's until every SET
 * signed with the old key has been delivered).
 *
 * Does not: store, rotate on a schedule, or log key material.
 * Ownership: struct signing_key is a heap object (_generate/_open create it,
 * signing_key_free releases it; free(NULL) is a no-op).  Strings returned
 * through char ** are malloc'd and the caller's.  Thread safety: a key is
 * read-only once made, so any number of threads may sign with it at once.
 */
#ifndef SCIMD_EVENTS_SIGNING_KEYS_H
#define SCIMD_EVENTS_SIGNING_KEYS_H

#include <stddef.h>

#include "core/secretbox.h"
#include "core/status.h"

#define SIGNING_KEY_BITS_DEFAULT 2048
#define SIGNING_KEY_KID_LEN      44 /* base64url of a SHA-256 (43) + NUL */
#define SIGNING_KEY_SEAL_OWNER   "events:set-signing-key"
#define SIGNING_KEYS_MAX         8 /* keys in one JWKS: the current one and those retiring */
#define SIGNING_KEY_ALG          "RS256"

struct signing_key;

/* A new RSA key of bits (2048, 3072 or 4096).  ERR_INVALID_VALUE for another
 * size; ERR_IO when OpenSSL fails; ERR_NOMEM. */
enum status signing_key_generate(int bits, struct signing_key **out, struct scim_error *err);
/* The key as secretbox text for storage ("v1:..."); *sealed is malloc'd. */
enum status signing_key_seal(const struct signing_key *key, const struct secretbox *box,
                             char **sealed, struct scim_error *err);
/*
 * The key back from what signing_key_seal made under the same box.
 * ERR_FORBIDDEN when it does not open (other key file, altered);
 * ERR_INVALID_VALUE when it opens to something that is not an RSA private key
 * of an accepted size.
 */
enum status signing_key_open(const struct secretbox *box, const char *sealed,
                             struct signing_key **out, struct scim_error *err);
void signing_key_free(struct signing_key *key);
/* The RFC 7638 thumbprint, used as kid. */
const char *signing_key_kid(const struct signing_key *key);

/* The public JWK as compact JSON: kty, n, e, kid, alg "RS256", use "sig". */
enum status signing_key_public_jwk(const struct signing_key *key, char **json,
                                   struct scim_error *err);
/* {"keys":[...]} for keys[0..n), n in 1..SIGNING_KEYS_MAX, in that order: the
 * document /.well-known/jwks.json serves. */
enum status signing_keys_jwks(const struct signing_key *const *keys, size_t n, char **json,
                              struct scim_error *err);

/*
 * A compact JWS (RFC 7515 §7.1) over payload[0..payload_len): protected header
 * {"alg":"RS256","kid":<kid>,"typ":<typ>} (typ omitted when NULL), RSASSA-PKCS1-v1_5
 * with SHA-256.  *compact is malloc'd.  ERR_IO when OpenSSL fails.
 */
enum status signing_key_sign_jws(const struct signing_key *key, const char *typ,
                                 const char *payload, size_t payload_len, char **compact,
                                 struct scim_error *err);

#endif
