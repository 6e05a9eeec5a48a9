/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fold_test.c - Unicode folding keys: NFC + full case folding, ASCII fast path,
 * invalid UTF-8 fallback.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/fold.h"

static void assert_key(const char *in, const char *want)
{
    char *key = fold_key(in);
    cr_assert_not_null(key, "fold_key('%s')", in);
    cr_assert_str_eq(key, want, "fold_key('%s')", in);
    free(key);
}

Test(fold, ascii_is_lowercased)
{
    assert_key("Alice@Example.COM", "alice@example.com");
    assert_key("", "");
    assert_key("already lower 123", "already lower 123");
}

Test(fold, case_and_normal_form_spellings_share_one_key)
{
    /* ÄRGER (precomposed), ärger (precomposed), a + U+0308 rger (NFD), A + U+0308 RGER */
    const char *spellings[] = {
        "\xC3\x84RGER@example.com",
        "\xC3\xA4rger@example.com",
        "a\xCC\x88rger@example.com",
        "A\xCC\x88RGER@EXAMPLE.COM",
    };
    for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++)
        assert_key(spellings[i], "\xC3\xA4rger@example.com");
}

Test(fold, full_case_folding)
{
    assert_key("Stra\xC3\x9F"
               "e",
               "strasse"); /* ß -> ss */
    assert_key("STRASSE", "strasse");
    assert_key("\xE1\xBA\x9E", "ss");                   /* capital sharp s U+1E9E */
    assert_key("\xCE\xA3\xCE\xA3", "\xCF\x83\xCF\x83"); /* ΣΣ -> σσ */
    assert_key("\xCF\x82", "\xCF\x83");                 /* final sigma -> σ */
    assert_key("\xC4\xB0", "i\xCC\x87");                /* İ -> i + combining dot */
}

Test(fold, distinct_names_stay_distinct)
{
    char *a = fold_key("\xC3\xA4rger");
    char *b = fold_key("arger");
    cr_assert_str_neq(a, b);
    free(a);
    free(b);
}

Test(fold, invalid_utf8_falls_back_to_ascii_lowercase_of_the_bytes)
{
    assert_key("AB\xFF"
               "CD",
               "ab\xFF"
               "cd");
    assert_key("\xC3", "\xC3");                     /* truncated sequence */
    assert_key("X\xED\xA0\x80Y", "x\xED\xA0\x80y"); /* encoded surrogate */
    assert_key("\xC0\xAF", "\xC0\xAF");             /* overlong '/' */
}

Test(fold, null_in_null_out)
{
    cr_assert_null(fold_key(NULL));
}
