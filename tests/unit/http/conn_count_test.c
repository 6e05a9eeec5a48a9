/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conn_count_test.c - tests for src/http/conn_count.c: the cap per address,
 * addresses counted apart, slots given back, and 0 as no cap.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "http/conn_count.h"

Test(conn_count, caps_each_address_apart)
{
    struct http_conn_count *c;
    cr_assert_eq(http_conn_count_new(2, &c), OK);
    cr_assert(http_conn_count_enter(c, "192.0.2.1"));
    cr_assert(http_conn_count_enter(c, "192.0.2.1"));
    cr_assert_not(http_conn_count_enter(c, "192.0.2.1"), "the third is over the cap");
    cr_assert(http_conn_count_enter(c, "2001:db8::1"), "another address");
    http_conn_count_leave(c, "192.0.2.1"); /* the refused one goes */
    cr_assert_not(http_conn_count_enter(c, "192.0.2.1"));
    http_conn_count_leave(c, "192.0.2.1");
    http_conn_count_leave(c, "192.0.2.1");
    cr_assert(http_conn_count_enter(c, "192.0.2.1"), "a slot came free");
    http_conn_count_free(c);
}

Test(conn_count, many_addresses_and_no_cap)
{
    struct http_conn_count *c;
    cr_assert_eq(http_conn_count_new(0, &c), OK);
    char address[64];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 10000; i++) {
            snprintf(address, sizeof(address), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
            cr_assert(http_conn_count_enter(c, address));
            cr_assert(http_conn_count_enter(c, address));
        }
        for (int i = 0; i < 10000; i++) {
            snprintf(address, sizeof(address), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
            http_conn_count_leave(c, address);
            http_conn_count_leave(c, address);
        }
    }
    http_conn_count_free(c); /* nothing left over (ASan checks) */
}
