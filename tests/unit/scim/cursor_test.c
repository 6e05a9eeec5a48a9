/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cursor_test.c - tests for src/scim/cursor.c: round trips in both
 * directions, every single-byte and single-bit alteration of a real cursor,
 * a cursor minted under another key, expiry at the boundary, and a table of
 * malformed texts (bad base64url, padding, too short, too long, payloads
 * that are authentic but not v3 cursors), and the scope digest that binds a
 * cursor to the list that issued it.
 */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "scim/cursor.h"

#include "core/str.h"

static const unsigned char key[SCIM_CURSOR_KEY_LEN] = "0123456789abcdef0123456789abcdef";
static const unsigned char other_key[SCIM_CURSOR_KEY_LEN] = "fedcba9876543210fedcba9876543210";
#define NOW 1790000000LL
#define ID  "3f1c0b6e-8d2a-4c4e-9a51-0c7d2f4b8e11"

static void mint(bool backward, const char *id, int64_t expires, char out[SCIM_CURSOR_TEXT_MAX])
{
    struct scim_cursor c = { .backward = backward, .expires = expires, .total = 1000200 };
    for (size_t i = 0; i < SCIM_CURSOR_SCOPE_LEN; i++)
        c.scope[i] = (unsigned char)(0xA5 ^ i);
    cr_assert(str_copy(c.id, sizeof(c.id), id));
    cr_assert_eq(scim_cursor_encode(&c, key, out), OK);
}

Test(cursor, round_trip_both_directions)
{
    for (int backward = 0; backward < 2; backward++) {
        char text[SCIM_CURSOR_TEXT_MAX];
        mint(backward, ID, NOW + 600, text);
        for (const char *p = text; *p; p++)
            cr_assert(
                strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p),
                "URL-safe: %s", text);
        struct scim_cursor c;
        struct scim_error err;
        cr_assert_eq(scim_cursor_decode(text, key, NOW, &c, &err), OK, "%s", err.detail);
        cr_assert_str_eq(c.id, ID);
        cr_assert_eq(c.backward, backward);
        cr_assert_eq(c.expires, NOW + 600);
        cr_assert_eq(c.total, 1000200, "the walk's total travels with the cursor");
        for (size_t i = 0; i < SCIM_CURSOR_SCOPE_LEN; i++)
            cr_assert_eq(c.scope[i], (unsigned char)(0xA5 ^ i), "the scope travels too");
    }
}

Test(cursor, scope_digest_tells_lists_apart)
{
    const char *a[] = { "tenant", "idp-1", "User", "(eq userName s1:x)", NULL, "ascending" };
    const char *same[] = { "tenant", "idp-1", "User", "(eq userName s1:x)", "", "ascending" };
    const char *other_idp[] = {
        "tenant", "idp-2", "User", "(eq userName s1:x)", NULL, "ascending"
    };
    const char *other_type[] = {
        "tenant", "idp-1", "Group", "(eq userName s1:x)", NULL, "ascending"
    };
    const char *shifted[] = { "tenant", "idp-1U", "ser", "(eq userName s1:x)", NULL, "ascending" };
    unsigned char da[SCIM_CURSOR_SCOPE_LEN], db[SCIM_CURSOR_SCOPE_LEN];
    cr_assert_eq(scim_cursor_scope(a, 6, da), OK);
    cr_assert_eq(scim_cursor_scope(same, 6, db), OK);
    cr_assert(memcmp(da, db, sizeof(da)) == 0, "NULL reads as \"\"");
    const char *const *others[] = { other_idp, other_type, shifted };
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(scim_cursor_scope(others[i], 6, db), OK);
        cr_assert(memcmp(da, db, sizeof(da)) != 0, "case %zu", i);
    }
}

Test(cursor, round_trip_ids_of_every_length)
{
    char id[SCIM_CURSOR_ID_MAX];
    for (size_t n = 1; n < SCIM_CURSOR_ID_MAX; n++) {
        memset(id, 'a' + (int)(n % 26), n);
        id[n] = '\0';
        char text[SCIM_CURSOR_TEXT_MAX];
        mint(false, id, NOW, text);
        struct scim_cursor c;
        cr_assert_eq(scim_cursor_decode(text, key, NOW, &c, NULL), OK, "length %zu", n);
        cr_assert_str_eq(c.id, id);
    }
}

Test(cursor, encode_refuses_bad_ids)
{
    const char *bad[] = { "", "a:b", "a b", "a/b", "\xc3\xa9", "a\nb" };
    char text[SCIM_CURSOR_TEXT_MAX];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct scim_cursor c = { .expires = NOW };
        str_copy(c.id, sizeof(c.id), bad[i]);
        cr_assert_eq(scim_cursor_encode(&c, key, text), ERR_INVALID_VALUE, "id %zu", i);
    }
    struct scim_cursor c = { .expires = -1 };
    str_copy(c.id, sizeof(c.id), ID);
    cr_assert_eq(scim_cursor_encode(&c, key, text), ERR_INVALID_VALUE);
}

Test(cursor, every_altered_character_is_refused)
{
    char text[SCIM_CURSOR_TEXT_MAX];
    mint(false, ID, NOW + 600, text);
    size_t n = strlen(text);
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (size_t i = 0; i < n; i++) {
        for (const char *a = alphabet; *a; a++) {
            if (*a == text[i])
                continue;
            char copy[SCIM_CURSOR_TEXT_MAX];
            memcpy(copy, text, n + 1);
            copy[i] = *a;
            struct scim_cursor c;
            struct scim_error err;
            cr_assert_eq(scim_cursor_decode(copy, key, NOW, &c, &err), ERR_INVALID_CURSOR,
                         "position %zu -> %c accepted", i, *a);
            cr_assert_eq(err.status, ERR_INVALID_CURSOR);
        }
    }
}

Test(cursor, truncated_or_extended_is_refused)
{
    char text[SCIM_CURSOR_TEXT_MAX];
    mint(true, ID, NOW + 600, text);
    size_t n = strlen(text);
    for (size_t cut = 0; cut < n; cut++) {
        char copy[SCIM_CURSOR_TEXT_MAX];
        memcpy(copy, text, cut);
        copy[cut] = '\0';
        struct scim_cursor c;
        cr_assert_eq(scim_cursor_decode(copy, key, NOW, &c, NULL), ERR_INVALID_CURSOR, "cut %zu",
                     cut);
    }
    const char *tails[] = { "A", "AA", "AAAA", "=", "==", " ", "\n" };
    for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
        char copy[SCIM_CURSOR_TEXT_MAX];
        snprintf(copy, sizeof(copy), "%s%s", text, tails[i]);
        struct scim_cursor c;
        cr_assert_eq(scim_cursor_decode(copy, key, NOW, &c, NULL), ERR_INVALID_CURSOR, "tail %zu",
                     i);
    }
}

Test(cursor, another_key_is_refused)
{
    char text[SCIM_CURSOR_TEXT_MAX];
    mint(false, ID, NOW + 600, text);
    struct scim_cursor c;
    struct scim_error err;
    cr_assert_eq(scim_cursor_decode(text, other_key, NOW, &c, &err), ERR_INVALID_CURSOR);
    cr_assert(strstr(err.detail, "not issued") != NULL, "%s", err.detail);
}

Test(cursor, expiry_boundary)
{
    char text[SCIM_CURSOR_TEXT_MAX];
    mint(false, ID, NOW, text);
    struct scim_cursor c;
    struct scim_error err;
    cr_assert_eq(scim_cursor_decode(text, key, NOW, &c, &err), OK);
    cr_assert_eq(scim_cursor_decode(text, key, NOW + 1, &c, &err), ERR_INVALID_CURSOR);
    cr_assert(strstr(err.detail, "expired") != NULL, "%s", err.detail);
    mint(false, ID, 0, text);
    cr_assert_eq(scim_cursor_decode(text, key, 1, &c, &err), ERR_INVALID_CURSOR);
}

/* An authentic tag over a payload that may not be a v3 cursor. */
static void sign_raw(const char *payload, char out[SCIM_CURSOR_TEXT_MAX])
{
    unsigned char raw[256];
    size_t n = strlen(payload);
    memcpy(raw, payload, n);
    unsigned int len = 0;
    HMAC(EVP_sha256(), key, SCIM_CURSOR_KEY_LEN, raw, n, raw + n, &len);
    cr_assert_eq(len, 32);
    size_t total = n + len, o = 0;
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (size_t i = 0; i < total; i += 3) {
        unsigned v = (unsigned)raw[i] << 16 | (i + 1 < total ? (unsigned)raw[i + 1] << 8 : 0) |
                     (i + 2 < total ? raw[i + 2] : 0);
        out[o++] = a[(v >> 18) & 63];
        out[o++] = a[(v >> 12) & 63];
        if (i + 1 < total)
            out[o++] = a[(v >> 6) & 63];
        if (i + 2 < total)
            out[o++] = a[v & 63];
    }
    out[o] = '\0';
}

Test(cursor, authentic_but_malformed_payloads)
{
#define SCOPE "0123456789abcdef0123456789abcdef"
    const char *payloads[] = {
        "v1:a:" ID ":1790000600", /* versions before totals and scopes: no longer issued */
        "v2:a:5:" ID ":1790000600",
        "v3:a:5:" ID ":1790000600", /* no scope */
        "v3:a:5:" ID ":1790000600:",
        "v3:a:5:" ID ":1790000600:0123456789abcdef0123456789abcde",   /* 31 digits */
        "v3:a:5:" ID ":1790000600:0123456789abcdef0123456789abcdef0", /* 33 digits */
        "v3:a:5:" ID ":1790000600:0123456789ABCDEF0123456789abcdef",  /* not canonical */
        "v3:a:5:" ID ":1790000600:0123456789abcdeg0123456789abcdef",
        "v3:a:5:" ID ":1790000600:" SCOPE ":",
        "v3:a:" ID ":1790000600:" SCOPE, /* no total */
        "v3:c:5:" ID ":1790000600:" SCOPE,
        "v3:a:5:" ID ":" SCOPE,
        "v3:a:5::1790000600:" SCOPE,
        "v3:a:5:" ID "::" SCOPE,
        "v3:a:5:" ID ":17x0:" SCOPE,
        "v3:a:5:" ID ":-5:" SCOPE,
        "v3:a:5:" ID ":1234567890123456789:" SCOPE,
        "v3:a:-5:" ID ":1790000600:" SCOPE,
        "v3:a::" ID ":1790000600:" SCOPE,
        "v3:a:1x:" ID ":1790000600:" SCOPE,
        "v3:a:5:a b:1790000600:" SCOPE,
        "v3a:5:" ID ":1790000600:" SCOPE,
        "",
        "v3",
    };
    for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
        char text[SCIM_CURSOR_TEXT_MAX];
        sign_raw(payloads[i], text);
        struct scim_cursor c;
        cr_assert_eq(scim_cursor_decode(text, key, NOW, &c, NULL), ERR_INVALID_CURSOR,
                     "payload %zu '%s' accepted", i, payloads[i]);
    }
    /* control: the same helper signs a good one */
    char text[SCIM_CURSOR_TEXT_MAX];
    sign_raw("v3:a:5:" ID ":1790000600:" SCOPE, text);
    struct scim_cursor c;
    cr_assert_eq(scim_cursor_decode(text, key, NOW, &c, NULL), OK);
    cr_assert_eq(c.total, 5);
    cr_assert_eq(c.scope[0], 0x01);
    cr_assert_eq(c.scope[15], 0xef);
}

Test(cursor, garbage)
{
    char big[600];
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    const char *garbage[] = {
        "",
        "A",
        "AA",
        "====",
        "not a cursor",
        "djE6YToxOjE=",
        "djE6YToxOjE",
        "%00%00",
        "v1:a:" ID ":1790000600",
        "////////////////////////////////////////////////////////",
        "++++++++++++++++++++++++++++++++++++++++++++++++++++++++",
        big,
    };
    for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
        struct scim_cursor c;
        struct scim_error err;
        cr_assert_eq(scim_cursor_decode(garbage[i], key, NOW, &c, &err), ERR_INVALID_CURSOR,
                     "garbage %zu", i);
        cr_assert_eq(status_http(err.status), 400);
        cr_assert_str_eq(status_scim_type(err.status), "invalidCursor");
    }
}
