/*
 * signing_keys_test.c - RS256 signing keys: generation, the sealed storage
 * form (same key and kid after a round trip; refused under another key file,
 * altered, or when it is not an RSA key), public JWK and JWKS members, and
 * compact JWS headers.  Signatures are verified by npm jose in
 * tests/e2e/set_sign.test.mjs.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "core/secretbox.h"
#include "events/signing_keys.h"
#include "jws_parts.h"
#include "test_box.h"

static struct signing_key *new_key(void)
{
    struct signing_key *key = NULL;
    struct scim_error err = { 0 };
    cr_assert_eq(signing_key_generate(SIGNING_KEY_BITS_DEFAULT, &key, &err), OK, "%s", err.detail);
    return key;
}

static json_t *parse(const char *text)
{
    json_t *doc = json_loads(text, 0, NULL);
    cr_assert_not_null(doc, "%s", text);
    return doc;
}

Test(signing_keys, a_new_key_has_a_thumbprint_kid_and_a_public_jwk)
{
    struct signing_key *key = new_key();
    const char *kid = signing_key_kid(key);
    cr_assert_eq(strlen(kid), 43);
    cr_assert_eq(strspn(kid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                 43);
    char *text = NULL;
    cr_assert_eq(signing_key_public_jwk(key, &text, NULL), OK);
    json_t *jwk = parse(text);
    cr_assert_str_eq(json_string_value(json_object_get(jwk, "kty")), "RSA");
    cr_assert_str_eq(json_string_value(json_object_get(jwk, "e")), "AQAB");
    cr_assert_eq(strlen(json_string_value(json_object_get(jwk, "n"))), 342, "2048-bit modulus");
    cr_assert_str_eq(json_string_value(json_object_get(jwk, "kid")), kid);
    cr_assert_str_eq(json_string_value(json_object_get(jwk, "alg")), "RS256");
    cr_assert_str_eq(json_string_value(json_object_get(jwk, "use")), "sig");
    cr_assert_eq(json_object_size(jwk), 6, "a public JWK: no private member");
    cr_assert_null(strstr(text, "\"d\""));
    json_decref(jwk);
    free(text);
    signing_key_free(key);
    signing_key_free(NULL);
}

Test(signing_keys, only_accepted_sizes_are_generated)
{
    struct signing_key *key = (struct signing_key *)1;
    struct scim_error err = { 0 };
    cr_assert_eq(signing_key_generate(1024, &key, &err), ERR_INVALID_VALUE);
    cr_assert_null(key);
    cr_assert_eq(signing_key_generate(0, &key, &err), ERR_INVALID_VALUE);
}

Test(signing_keys, sealed_keys_come_back_the_same_only_under_their_key_file)
{
    struct secretbox box = box_of(1), other = box_of(2);
    struct signing_key *key = new_key();
    char *sealed = NULL;
    struct scim_error err = { 0 };
    cr_assert_eq(signing_key_seal(key, &box, &sealed, &err), OK, "%s", err.detail);
    cr_assert_eq(strncmp(sealed, "v1:", 3), 0);
    cr_assert_null(strstr(sealed, "PRIVATE"), "the PEM is not stored in the clear");

    struct signing_key *back = NULL;
    cr_assert_eq(signing_key_open(&box, sealed, &back, &err), OK, "%s", err.detail);
    cr_assert_str_eq(signing_key_kid(back), signing_key_kid(key));
    signing_key_free(back);
    cr_assert_eq(signing_key_open(&other, sealed, &back, &err), ERR_FORBIDDEN);
    cr_assert_null(back);
    sealed[strlen(sealed) - 3] ^= 1;
    cr_assert_neq(signing_key_open(&box, sealed, &back, &err), OK);
    cr_assert_null(back);

    char *not_a_key = NULL;
    cr_assert_eq(secretbox_seal(&box, SIGNING_KEY_SEAL_OWNER, "hello", &not_a_key), OK);
    cr_assert_eq(signing_key_open(&box, not_a_key, &back, &err), ERR_INVALID_VALUE);
    cr_assert_null(strstr(err.detail, "hello"));
    char *other_owner = NULL;
    cr_assert_eq(secretbox_seal(&box, "app:1:token", "hello", &other_owner), OK);
    cr_assert_eq(signing_key_open(&box, other_owner, &back, &err), ERR_FORBIDDEN);
    free(other_owner);
    free(not_a_key);
    free(sealed);
    signing_key_free(key);
}

Test(signing_keys, the_jwks_lists_every_key_in_order)
{
    const struct signing_key *keys[2] = { new_key(), new_key() };
    cr_assert_str_neq(signing_key_kid(keys[0]), signing_key_kid(keys[1]));
    char *text = NULL;
    cr_assert_eq(signing_keys_jwks(keys, 2, &text, NULL), OK);
    json_t *jwks = parse(text);
    json_t *list = json_object_get(jwks, "keys");
    cr_assert_eq(json_array_size(list), 2);
    for (size_t i = 0; i < 2; i++)
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(list, i), "kid")),
                         signing_key_kid(keys[i]));
    json_decref(jwks);
    free(text);
    cr_assert_eq(signing_keys_jwks(keys, 0, &text, NULL), ERR_INVALID_VALUE);
    cr_assert_eq(signing_keys_jwks(keys, SIGNING_KEYS_MAX + 1, &text, NULL), ERR_INVALID_VALUE);
    signing_key_free((struct signing_key *)keys[0]);
    signing_key_free((struct signing_key *)keys[1]);
}

Test(signing_keys, a_compact_jws_carries_alg_kid_typ_and_the_payload)
{
    struct signing_key *key = new_key();
    char *compact = NULL;
    const char *payload = "{\"hello\":\"wörld\"}";
    cr_assert_eq(
        signing_key_sign_jws(key, "secevent+jwt", payload, strlen(payload), &compact, NULL), OK);
    json_t *header, *body;
    jws_split(compact, &header, &body);
    cr_assert_str_eq(json_string_value(json_object_get(header, "alg")), "RS256");
    cr_assert_str_eq(json_string_value(json_object_get(header, "typ")), "secevent+jwt");
    cr_assert_str_eq(json_string_value(json_object_get(header, "kid")), signing_key_kid(key));
    cr_assert_str_eq(json_string_value(json_object_get(body, "hello")), "wörld");
    json_decref(header);
    json_decref(body);
    free(compact);

    cr_assert_eq(signing_key_sign_jws(key, NULL, "{}", 2, &compact, NULL), OK);
    jws_split(compact, &header, &body);
    cr_assert_null(json_object_get(header, "typ"), "no typ when none is asked for");
    json_decref(header);
    json_decref(body);
    free(compact);
    signing_key_free(key);
}
