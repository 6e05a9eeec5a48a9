/* SPDX-License-Identifier: Apache-2.0 */
/*
 * base64_test.c - unit tests for src/core/base64.c: the RFC 4648 §10 test
 * vectors in both alphabets, round trips of every length and byte, and the
 * strict decoders refusing anything a canonical encoder would not write.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "core/base64.h"

static const struct {
    const char *plain, *std, *url;
} vectors[] = {
    { "", "", "" },
    { "f", "Zg==", "Zg" },
    { "fo", "Zm8=", "Zm8" },
    { "foo", "Zm9v", "Zm9v" },
    { "foob", "Zm9vYg==", "Zm9vYg" },
    { "fooba", "Zm9vYmE=", "Zm9vYmE" },
    { "foobar", "Zm9vYmFy", "Zm9vYmFy" },
};

Test(base64, rfc4648_vectors)
{
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        const char *p = vectors[i].plain;
        size_t n = strlen(p);
        char std[BASE64_LEN(6) + 1], url[BASE64URL_LEN(6) + 1];
        base64_encode(p, n, std);
        base64url_encode(p, n, url);
        cr_assert_str_eq(std, vectors[i].std);
        cr_assert_str_eq(url, vectors[i].url);
        unsigned char back[8];
        if (n > 0) /* the padded decoder takes no empty text */
            cr_assert_eq(base64_decode(std, strlen(std), back, sizeof(back)), (long)n);
        cr_assert_eq(memcmp(back, p, n), 0);
        cr_assert_eq(base64url_decode(url, strlen(url), back, sizeof(back)), (long)n);
        cr_assert_eq(memcmp(back, p, n), 0);
    }
}

Test(base64, round_trips_every_length_and_byte)
{
    unsigned char in[256], back[256];
    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (unsigned char)(255 - i);
    for (size_t n = 1; n <= sizeof(in); n++) {
        char std[BASE64_LEN(256) + 1], url[BASE64URL_LEN(256) + 1];
        base64_encode(in, n, std);
        base64url_encode(in, n, url);
        cr_assert_eq(strlen(std), BASE64_LEN(n));
        cr_assert_eq(strlen(url), BASE64URL_LEN(n));
        cr_assert_eq(base64_decode(std, strlen(std), back, sizeof(back)), (long)n);
        cr_assert_eq(memcmp(back, in, n), 0);
        cr_assert_eq(base64url_decode(url, strlen(url), back, sizeof(back)), (long)n);
        cr_assert_eq(memcmp(back, in, n), 0);
        cr_assert_eq(base64url_decode(url, strlen(url), back, n - 1), -1, "over cap");
    }
}

Test(base64, refuses_non_canonical_text)
{
    unsigned char out[16];
    const char *bad_std[] = { "Zg=",    "Zh==", "Zm9=", "Zm-v", "Zm_v",
                              "Zm9v\n", "=Zm9", "Z===", "Zg=a", "Zm 9v" };
    for (size_t i = 0; i < sizeof(bad_std) / sizeof(bad_std[0]); i++)
        cr_assert_eq(base64_decode(bad_std[i], strlen(bad_std[i]), out, sizeof(out)), -1, "'%s'",
                     bad_std[i]);
    const char *bad_url[] = { "Z", "Zh", "Zm9", "Zg==", "Zm+v", "Zm/v", "Zm9vY", "Zm\0v" };
    for (size_t i = 0; i < sizeof(bad_url) / sizeof(bad_url[0]); i++) {
        size_t n = i + 1 == sizeof(bad_url) / sizeof(bad_url[0]) ? 4 : strlen(bad_url[i]);
        cr_assert_eq(base64url_decode(bad_url[i], n, out, sizeof(out)), -1, "'%s'", bad_url[i]);
    }
    cr_assert_eq(base64_decode("Zm9vYmFy", 8, out, 5), -1, "over cap");
}
