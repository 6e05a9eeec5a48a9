/* SPDX-License-Identifier: Apache-2.0 */
/*
 * webhook_policy_test.c - the Svix retry schedule (scaled, with jitter,
 * ending in a dead letter), what receivers' answers mean, and the --events
 * filter.
 */
#include <criterion/criterion.h>

#include "events/webhook_policy.h"

Test(webhook_policy, schedule_follows_svix_within_jitter)
{
    const int64_t want_s[] = { 5, 300, 1800, 7200, 18000, 36000, 36000 };
    for (int64_t attempts = 1; attempts < WEBHOOK_ATTEMPTS_MAX; attempts++) {
        int64_t ms = webhook_retry_delay_ms(attempts, 0);
        int64_t want = want_s[attempts - 1] * 1000;
        cr_assert(ms >= want * 9 / 10 && ms <= want * 11 / 10, "attempt %lld: %lld ms",
                  (long long)attempts, (long long)ms);
    }
    cr_assert_eq(webhook_retry_delay_ms(WEBHOOK_ATTEMPTS_MAX, 0), -1, "8 failures: dead letter");
    cr_assert_eq(webhook_retry_delay_ms(0, 0), 0, "the first attempt is immediate");
}

Test(webhook_policy, schedule_scales_with_the_base)
{
    /* base 50 ms: 5 s -> 50 ms, 5 min -> 3 s */
    int64_t first = webhook_retry_delay_ms(1, 50), second = webhook_retry_delay_ms(2, 50);
    cr_assert(first >= 45 && first <= 55, "%lld", (long long)first);
    cr_assert(second >= 2700 && second <= 3300, "%lld", (long long)second);
}

Test(webhook_policy, answers)
{
    cr_assert_eq(webhook_outcome_of("json", 200, false), WEBHOOK_DELIVERED);
    cr_assert_eq(webhook_outcome_of("set", 202, false), WEBHOOK_DELIVERED);
    cr_assert_eq(webhook_outcome_of("json", 410, false), WEBHOOK_GONE);
    cr_assert_eq(webhook_outcome_of("set", 410, false), WEBHOOK_GONE);
    cr_assert_eq(webhook_outcome_of("set", 400, true), WEBHOOK_REJECTED);
    cr_assert_eq(webhook_outcome_of("set", 400, false), WEBHOOK_RETRY, "no RFC 8935 body");
    cr_assert_eq(webhook_outcome_of("json", 400, true), WEBHOOK_RETRY, "json retries every error");
    cr_assert_eq(webhook_outcome_of("json", 0, false), WEBHOOK_RETRY, "no answer");
    cr_assert_eq(webhook_outcome_of("json", 503, false), WEBHOOK_RETRY);
    cr_assert_eq(webhook_outcome_of("json", 429, false), WEBHOOK_RETRY);
}

Test(webhook_policy, events_filter)
{
    char out[WEBHOOK_EVENTS_TEXT_MAX + 1];
    struct scim_error err;
    cr_assert_eq(webhook_events_normalise(" scim_user_created, scim_group_* ,", out, &err), OK);
    cr_assert_str_eq(out, "scim_user_created,scim_group_*");
    cr_assert(webhook_events_match(out, "scim_user_created"));
    cr_assert(webhook_events_match(out, "scim_group_members_changed"));
    cr_assert_not(webhook_events_match(out, "scim_user_created_x"));
    cr_assert_not(webhook_events_match(out, "scim_user_updated"));
    cr_assert(webhook_events_match("", "anything"), "no filter: every event");
    cr_assert_eq(webhook_events_normalise(NULL, out, &err), OK);
    cr_assert_str_eq(out, "");
    const char *bad[] = { "Scim_User", "a*b", "a;b", "*x", "a b" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(webhook_events_normalise(bad[i], out, &err), ERR_INVALID_VALUE, "%s", bad[i]);
}
