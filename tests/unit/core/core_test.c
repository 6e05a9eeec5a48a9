/* SPDX-License-Identifier: Apache-2.0 */
/*
 * core_test.c - strings, buffers, clock parsing, tokens and ids.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/str.h"

Test(str, ieq_is_ascii_case_insensitive_and_null_safe)
{
    cr_assert(str_ieq("userName", "USERNAME"));
    cr_assert(!str_ieq("userName", "userNam"));
    cr_assert(!str_ieq("a", NULL));
    cr_assert(str_ieq(NULL, NULL));
    cr_assert(str_istarts("Bearer abc", "bearer "));
    cr_assert(!str_istarts("Bear", "bearer "));
}

Test(str, to_long_rejects_junk)
{
    struct {
        const char *text;
        bool ok;
        long value;
    } cases[] = {
        { "1", true, 1 },
        { "-5", true, -5 },
        { "", false, 0 },
        { " 1", false, 0 },
        { "1x", false, 0 },
        { "x", false, 0 },
        { "99999999999999999999", false, 0 },
        { "100", true, 100 },
        { "101", false, 0 },
        { "0x10", false, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long v = 0;
        bool ok = str_to_long(cases[i].text, -100, 100, &v);
        cr_assert_eq(ok, cases[i].ok, "case '%s'", cases[i].text);
        if (ok)
            cr_assert_eq(v, cases[i].value, "case '%s'", cases[i].text);
    }
}

Test(str, utf8_validation)
{
    cr_assert(str_utf8_valid("plain", 5));
    cr_assert(str_utf8_valid("caf\xc3\xa9", 5));
    cr_assert(str_utf8_valid("\xf0\x9f\x98\x80", 4));
    cr_assert(!str_utf8_valid("\xc3", 1));             /* truncated */
    cr_assert(!str_utf8_valid("\xc0\xaf", 2));         /* overlong */
    cr_assert(!str_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    cr_assert(!str_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    cr_assert(!str_utf8_valid("\xff", 1));
}

Test(buf, caps_and_sticky_failure)
{
    struct buf b;
    buf_init(&b, 8);
    buf_puts(&b, "abcd");
    buf_printf(&b, "%d", 123);
    cr_assert_str_eq(b.data, "abcd123");
    cr_assert(!b.failed);
    buf_puts(&b, "xy"); /* 9 > 8 */
    cr_assert(b.failed);
    buf_puts(&b, "z");
    cr_assert(b.failed);
    cr_assert_null(buf_take(&b));
    buf_init(&b, 0);
    for (int i = 0; i < 1000; i++)
        buf_printf(&b, "%04d", i);
    cr_assert_eq(b.len, 4000);
    char *s = buf_take(&b);
    cr_assert_not_null(s);
    cr_assert(strncmp(s, "00000001", 8) == 0);
    free(s);
}

Test(clock, durations_have_one_unit_and_a_cap)
{
    int64_t s = 0;
    cr_assert(clock_duration_parse("90d", &s) && s == 90 * 86400);
    cr_assert(clock_duration_parse("24h", &s) && s == 86400);
    cr_assert(clock_duration_parse("30m", &s) && s == 1800);
    cr_assert(clock_duration_parse("2s", &s) && s == 2);
    cr_assert(clock_duration_parse("0s", &s) && s == 0);
    static const char *const bad[] = {
        "", "d", "90", "9 d", "-1d", "1w", "1dd", "1.5h", "99999999999999999999d", "36600000d", NULL
    };
    for (const char *const *b = bad; *b; b++)
        cr_assert(!clock_duration_parse(*b, &s), "'%s'", *b);
    cr_assert(!clock_duration_parse(NULL, &s));
    char iso[CLOCK_ISO_LEN];
    clock_iso_from_ms(1700000000123, iso);
    cr_assert_str_eq(iso, "2023-11-14T22:13:20.123Z");
}

Test(clock, iso_round_trip_and_diff)
{
    char now[CLOCK_ISO_LEN];
    clock_now_iso(now);
    cr_assert_eq(strlen(now), 24, "got '%s'", now);
    int64_t ms;
    cr_assert(clock_parse_iso(now, &ms));
    cr_assert(clock_parse_iso("2026-01-01T00:00:00Z", &ms));
    cr_assert_eq(ms, 1767225600000LL);
    cr_assert(clock_parse_iso("2026-01-01T00:00:00.5Z", &ms));
    cr_assert_eq(ms, 1767225600500LL);
    cr_assert(!clock_parse_iso("2026-01-01", &ms));
    cr_assert(!clock_parse_iso("2026-01-01T00:00:00+01:00", &ms));
    cr_assert_eq(clock_iso_diff_s("2026-01-01T00:00:00.000Z", "2026-01-01T00:01:30.000Z"), 90);
    cr_assert_eq(clock_iso_diff_s("garbage", "2026-01-01T00:01:30.000Z"), INT64_MAX);
}

Test(clock, deadlines_carry_into_seconds)
{
    for (int64_t ms = 0; ms <= 2999; ms += 137) {
        int64_t before = clock_now_ms();
        struct timespec t = clock_deadline_in_ms(ms);
        int64_t after = clock_now_ms();
        int64_t at = (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
        cr_assert(t.tv_nsec >= 0 && t.tv_nsec < 1000000000L, "tv_nsec %ld", t.tv_nsec);
        cr_assert(at >= before + ms - 1 && at <= after + ms, "%lld ms ahead",
                  (long long)(at - before));
    }
    struct timespec past = clock_deadline_in_ms(-5);
    cr_assert((int64_t)past.tv_sec * 1000 + past.tv_nsec / 1000000 <= clock_now_ms(),
              "negative: now");
}

Test(crypto, tokens_have_prefix_and_base62_body)
{
    char a[CRYPTO_TOKEN_LEN], b[CRYPTO_TOKEN_LEN];
    cr_assert_eq(crypto_token_new(a), OK);
    cr_assert_eq(crypto_token_new(b), OK);
    cr_assert_eq(strlen(a), 54);
    cr_assert(strncmp(a, "scimd_", 6) == 0);
    for (size_t i = 6; i < 54; i++)
        cr_assert(strchr("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", a[i]));
    cr_assert_str_neq(a, b);
}

Test(crypto, sha256_known_answer)
{
    char hex[CRYPTO_SHA256_HEX_LEN];
    crypto_sha256_hex("abc", 3, hex);
    cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

Test(crypto, uuid_v7_shape_and_order)
{
    char a[CRYPTO_UUID_LEN], b[CRYPTO_UUID_LEN];
    cr_assert_eq(crypto_uuid(a), OK);
    cr_assert_eq(strlen(a), 36);
    cr_assert_eq(a[8], '-');
    cr_assert_eq(a[14], '7');
    cr_assert(strchr("89ab", a[19]));
    struct timespec pause = { 0, 2 * 1000 * 1000 };
    nanosleep(&pause, NULL);
    cr_assert_eq(crypto_uuid(b), OK);
    cr_assert_lt(strcmp(a, b), 0, "an id made later sorts later: %s %s", a, b);
    cr_assert_neq(strcmp(a + 14, b + 14), 0, "the random part differs");
}

Test(str, hex_value)
{
    const char *digits = "0123456789abcdef", *upper = "ABCDEF";
    for (int i = 0; i < 16; i++)
        cr_assert_eq(str_hex_value(digits[i]), i);
    for (int i = 0; i < 6; i++)
        cr_assert_eq(str_hex_value(upper[i]), 10 + i);
    for (const char *bad = "gG/:@`\0"; *bad; bad++)
        cr_assert_eq(str_hex_value(*bad), -1, "'%c'", *bad);
}
