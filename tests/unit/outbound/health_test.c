/* SPDX-License-Identifier: Apache-2.0 */
/*
 * health_test.c - unit tests for the quarantine rule (src/outbound/health.c):
 * no verdict before a full window, 90% of the last 20 calls failed quarantines,
 * old calls leave the window, probes wait longer each time up to a cap.
 */
#include <criterion/criterion.h>

#include "outbound/health.h"

Test(health, needs_a_full_window)
{
    struct health h;
    health_reset(&h);
    for (int i = 0; i < HEALTH_WINDOW - 1; i++)
        health_record(&h, true);
    cr_assert_not(health_failing(&h), "19 failures are not yet a verdict");
    health_record(&h, true);
    cr_assert(health_failing(&h));
    health_reset(&h);
    cr_assert_not(health_failing(&h));
}

Test(health, ninety_percent_of_the_window)
{
    struct health h;
    health_reset(&h);
    for (int i = 0; i < 2; i++)
        health_record(&h, false);
    for (int i = 0; i < HEALTH_WINDOW - 2; i++)
        health_record(&h, true);
    cr_assert(health_failing(&h), "18 of 20 is 90%");
    health_reset(&h);
    for (int i = 0; i < 3; i++)
        health_record(&h, false);
    for (int i = 0; i < HEALTH_WINDOW - 3; i++)
        health_record(&h, true);
    cr_assert_not(health_failing(&h), "17 of 20 is not");
}

Test(health, old_calls_leave_the_window)
{
    struct health h;
    health_reset(&h);
    for (int i = 0; i < HEALTH_WINDOW; i++)
        health_record(&h, false);
    for (int i = 0; i < HEALTH_WINDOW - 3; i++)
        health_record(&h, true);
    cr_assert_not(health_failing(&h), "17 of 20");
    cr_assert_eq(h.failures, HEALTH_WINDOW - 3);
    health_record(&h, true);
    cr_assert(health_failing(&h), "enough successes have left the window");
    for (int i = 0; i < 3; i++)
        health_record(&h, false);
    cr_assert_not(health_failing(&h));
    cr_assert_eq(h.failures, HEALTH_WINDOW - 3);
}

Test(health, probes_wait_longer_up_to_a_cap)
{
    cr_assert_eq(health_probe_delay_ms(1), HEALTH_PROBE_FIRST_MS);
    cr_assert_eq(health_probe_delay_ms(2), 2 * HEALTH_PROBE_FIRST_MS);
    cr_assert_eq(health_probe_delay_ms(4), 8 * HEALTH_PROBE_FIRST_MS);
    cr_assert_eq(health_probe_delay_ms(40), HEALTH_PROBE_MAX_MS);
    cr_assert_eq(health_probe_delay_ms(1000000), HEALTH_PROBE_MAX_MS);
}
