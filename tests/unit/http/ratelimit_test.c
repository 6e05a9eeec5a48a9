/*
 * ratelimit_test.c - tests for src/http/ratelimit.c with time passed in:
 * the flag syntax, a bucket's burst, refill and Retry-After, separate keys,
 * the failed-authentication gate (open, counted, closed, open again after
 * the window), one summary per window with every unrecorded failure
 * counted, IPv6 addresses counted by /64, and overflow when the table is full.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "http/ratelimit.h"

static struct http_ratelimit *limiter(unsigned per_s, unsigned burst, unsigned fail_max,
                                      unsigned window_s)
{
    struct http_ratelimit_config cfg = {
        .token = { per_s, burst },
        .conn = { per_s, burst },
        .auth_fail_max = fail_max,
        .auth_fail_window_s = window_s,
    };
    struct http_ratelimit *rl = NULL;
    cr_assert_eq(http_ratelimit_new(&cfg, &rl), OK);
    return rl;
}

Test(ratelimit, flag_syntax)
{
    unsigned a = 9, b = 9;
    cr_assert(http_rate_parse("100/1000", &a, &b));
    cr_assert_eq(a, 100);
    cr_assert_eq(b, 1000);
    cr_assert(http_rate_parse("5", &a, &b));
    cr_assert_eq(b, 5);
    cr_assert(http_rate_parse("0", &a, &b));
    cr_assert_eq(a, 0);
    const char *bad[] = { "", "/5", "5/", "x", "5/x", "-1", "1/2/3", "99999999999" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert(!http_rate_parse(bad[i], &a, &b), "accepted '%s'", bad[i]);
}

Test(ratelimit, burst_then_retry_after_then_refill)
{
    struct http_ratelimit *rl = limiter(2, 3, 0, 60);
    const struct http_rate *rate = &http_ratelimit_config(rl)->token;
    unsigned retry;
    for (int i = 0; i < 3; i++)
        cr_assert(http_ratelimit_take(rl, rate, "t:a", 1000, &retry));
    cr_assert(!http_ratelimit_take(rl, rate, "t:a", 1000, &retry));
    cr_assert_eq(retry, 1);
    cr_assert(http_ratelimit_take(rl, rate, "t:b", 1000, &retry), "another key has its own bucket");
    cr_assert(http_ratelimit_take(rl, rate, "t:a", 1500, &retry), "half a second refills one");
    cr_assert(!http_ratelimit_take(rl, rate, "t:a", 1500, &retry));
    http_ratelimit_free(rl);

    rl = limiter(0, 0, 0, 60);
    for (int i = 0; i < 100; i++)
        cr_assert(http_ratelimit_take(rl, &http_ratelimit_config(rl)->token, "t:a", 0, &retry),
                  "rate 0: no limit");
    http_ratelimit_free(rl);
}

Test(ratelimit, gate_counts_closes_and_reopens)
{
    struct http_ratelimit *rl = limiter(1, 1, 3, 10);
    unsigned retry;
    cr_assert_eq(http_ratelimit_auth_gate(rl, "10.0.0.1", 0, &retry), HTTP_AUTH_GATE_OPEN);
    http_ratelimit_auth_failed(rl, "10.0.0.1", "idp-1", true, 0);
    cr_assert_eq(http_ratelimit_auth_gate(rl, "10.0.0.1", 100, &retry), HTTP_AUTH_GATE_COUNTED);
    cr_assert_eq(http_ratelimit_auth_gate(rl, "10.0.0.2", 100, &retry), HTTP_AUTH_GATE_OPEN);
    http_ratelimit_auth_failed(rl, "10.0.0.1", "idp-1", false, 100);
    http_ratelimit_auth_failed(rl, "10.0.0.1", "idp-1", false, 200);
    cr_assert_eq(http_ratelimit_auth_gate(rl, "10.0.0.1", 1000, &retry), HTTP_AUTH_GATE_CLOSED);
    cr_assert_eq(retry, 9);
    cr_assert_eq(http_ratelimit_auth_gate(rl, "10.0.0.1", 9999, &retry), HTTP_AUTH_GATE_CLOSED);
    cr_assert_eq(retry, 1);

    struct http_auth_summary out[4];
    cr_assert_eq(http_ratelimit_take_finished(rl, 5000, false, out, 4), 0, "window still open");
    cr_assert_eq(http_ratelimit_auth_gate(rl, "10.0.0.1", 10000, &retry), HTTP_AUTH_GATE_OPEN);
    cr_assert_eq(http_ratelimit_take_finished(rl, 10000, false, out, 4), 1);
    cr_assert_str_eq(out[0].source, "10.0.0.1");
    cr_assert_str_eq(out[0].idp, "idp-1");
    cr_assert_eq(out[0].failures, 4, "2 counted + 2 refused");
    cr_assert_eq(out[0].refused, 2);
    cr_assert_eq(out[0].window_s, 10);
    cr_assert_eq(http_ratelimit_take_finished(rl, 20000, true, out, 4), 0, "reported once");
    http_ratelimit_free(rl);
}

Test(ratelimit, a_window_with_one_failure_has_no_summary_and_flush_takes_open_ones)
{
    struct http_ratelimit *rl = limiter(1, 1, 5, 10);
    http_ratelimit_auth_failed(rl, "10.0.0.1", "", true, 0);
    http_ratelimit_auth_failed(rl, "10.0.0.2", "", true, 0);
    http_ratelimit_auth_failed(rl, "10.0.0.2", "", false, 1);
    struct http_auth_summary out[4];
    cr_assert_eq(http_ratelimit_take_finished(rl, 2, true, out, 4), 1);
    cr_assert_str_eq(out[0].source, "10.0.0.2");
    cr_assert_eq(out[0].failures, 1);
    http_ratelimit_free(rl);
}

Test(ratelimit, ipv6_counts_by_64)
{
    char key[HTTP_RATE_KEY_MAX];
    http_ratelimit_source_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd", key);
    cr_assert_str_eq(key, "2001:db8:1:2::/64");
    http_ratelimit_source_key("192.0.2.7", key);
    cr_assert_str_eq(key, "192.0.2.7");
    struct http_ratelimit *rl = limiter(1, 1, 1, 10);
    unsigned retry;
    http_ratelimit_auth_failed(rl, "2001:db8:1:2::1", "", true, 0);
    cr_assert_eq(http_ratelimit_auth_gate(rl, "2001:db8:1:2::99", 1, &retry),
                 HTTP_AUTH_GATE_CLOSED);
    cr_assert_eq(http_ratelimit_auth_gate(rl, "2001:db8:1:3::1", 1, &retry), HTTP_AUTH_GATE_OPEN);
    http_ratelimit_free(rl);
}

Test(ratelimit, a_full_table_counts_in_one_overflow_window)
{
    struct http_ratelimit *rl = limiter(1, 1, 100, 10);
    char addr[32];
    for (unsigned i = 0; i < HTTP_AUTH_FAIL_MAX_SOURCES + 100; i++) {
        snprintf(addr, sizeof(addr), "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        http_ratelimit_auth_failed(rl, addr, "", false, 0);
    }
    static struct http_auth_summary out[HTTP_AUTH_FAIL_MAX_SOURCES + 8];
    size_t n = http_ratelimit_take_finished(rl, 1, true, out, HTTP_AUTH_FAIL_MAX_SOURCES + 8);
    cr_assert_eq(n, HTTP_AUTH_FAIL_MAX_SOURCES + 1);
    uint64_t total = 0;
    bool overflow = false;
    for (size_t i = 0; i < n; i++) {
        total += out[i].failures;
        overflow |= out[i].source[0] == '*';
    }
    cr_assert(overflow);
    cr_assert_eq(total, HTTP_AUTH_FAIL_MAX_SOURCES + 100, "every failure counted once");
    http_ratelimit_free(rl);
}
