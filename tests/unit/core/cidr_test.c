/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cidr_test.c - unit tests for src/core/cidr.c: parsing IPv4 and IPv6
 * blocks, canonical text, matching addresses (IPv4-mapped IPv6 included),
 * and allowlists.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/cidr.h"

static void assert_block(const char *text, const char *canonical)
{
    struct cidr c;
    struct scim_error err = { 0 };
    cr_assert_eq(cidr_parse(text, strlen(text), &c, &err), OK, "'%s': %s", text, err.detail);
    char out[CIDR_TEXT_MAX];
    cidr_format(&c, out);
    cr_assert_str_eq(out, canonical, "'%s'", text);
}

Test(cidr, parses_and_writes_canonical_blocks)
{
    assert_block("10.0.0.0/8", "10.0.0.0/8");
    assert_block("192.0.2.7", "192.0.2.7/32");
    assert_block("0.0.0.0/0", "0.0.0.0/0");
    assert_block("2001:db8::/32", "2001:db8::/32");
    assert_block("2001:DB8:0:0::/64", "2001:db8::/64");
    assert_block("::1", "::1/128");
    assert_block("::/0", "::/0");
    assert_block("fe80::/10", "fe80::/10");
}

Test(cidr, refuses_what_is_not_a_block)
{
    static const char *const bad[] = {
        "",
        "/8",
        "10.0.0.0/",
        "10.0.0.0/33",
        "2001:db8::/129",
        "10.0.0.1/8",
        "2001:db8::1/32",
        "300.1.1.1",
        "10.0.0",
        "10.0.0.0/8/8",
        "10.0.0.0/+8",
        "10.0.0.0/-1",
        "fe80::1%eth0",
        "::ffff:10.0.0.0/104",
        "10.0.0.0 /8",
        "abc",
        "1.2.3.4/0008",
        "::ffff:1.2.3.4",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct cidr c;
        struct scim_error err = { 0 };
        cr_assert_eq(cidr_parse(bad[i], strlen(bad[i]), &c, &err), ERR_INVALID_VALUE, "'%s'",
                     bad[i]);
        cr_assert_neq(err.detail[0], '\0', "'%s' says why", bad[i]);
    }
    struct scim_error err = { 0 };
    struct cidr c;
    cidr_parse("10.0.0.1/8", 10, &c, &err);
    cr_assert(strstr(err.detail, "10.0.0.0/8") != NULL, "suggests the block: %s", err.detail);
}

Test(cidr, matches_addresses_by_prefix)
{
    struct cidr c;
    cr_assert_eq(cidr_parse("10.0.0.0/8", 10, &c, NULL), OK);
    cr_assert(cidr_contains(&c, "10.255.1.2"));
    cr_assert(!cidr_contains(&c, "11.0.0.1"));
    cr_assert(cidr_contains(&c, "::ffff:10.1.2.3"), "IPv4-mapped IPv6 counts as IPv4");
    cr_assert(!cidr_contains(&c, "::a01:203"), "IPv4-compatible is not IPv4-mapped");
    cr_assert(!cidr_contains(&c, "garbage"));
    cr_assert(!cidr_contains(&c, ""));
    cr_assert(!cidr_contains(&c, NULL));

    cr_assert_eq(cidr_parse("192.168.1.128/25", 16, &c, NULL), OK);
    cr_assert(cidr_contains(&c, "192.168.1.200"));
    cr_assert(!cidr_contains(&c, "192.168.1.127"));

    cr_assert_eq(cidr_parse("2001:db8::/32", 13, &c, NULL), OK);
    cr_assert(cidr_contains(&c, "2001:db8:ffff::1"));
    cr_assert(!cidr_contains(&c, "2001:db9::1"));
    cr_assert(!cidr_contains(&c, "10.0.0.1"), "families never mix");

    cr_assert_eq(cidr_parse("0.0.0.0/0", 9, &c, NULL), OK);
    cr_assert(cidr_contains(&c, "203.0.113.9"));
    cr_assert(!cidr_contains(&c, "::1"));
}

Test(cidr, lists_are_canonical_and_allow_any_of_their_blocks)
{
    char out[CIDR_LIST_TEXT_MAX];
    struct scim_error err = { 0 };
    cr_assert_eq(cidr_list_canonical(" 10.0.0.0/8 ,2001:DB8::/32, 10.0.0.0/8,127.0.0.1", out, &err),
                 OK, "%s", err.detail);
    cr_assert_str_eq(out, "10.0.0.0/8,2001:db8::/32,127.0.0.1/32", "duplicates dropped");
    cr_assert(cidr_list_allows(out, "127.0.0.1"));
    cr_assert(cidr_list_allows(out, "2001:db8::5"));
    cr_assert(!cidr_list_allows(out, "192.0.2.1"));
    cr_assert(cidr_list_allows("", "192.0.2.1"), "no list: any address");
    cr_assert(cidr_list_allows(NULL, "192.0.2.1"));
    cr_assert(!cidr_list_allows("junk", "192.0.2.1"), "a broken list allows nobody");

    cr_assert_eq(cidr_list_canonical("", out, &err), ERR_INVALID_VALUE);
    cr_assert_eq(cidr_list_canonical("10.0.0.0/8,,11.0.0.0/8", out, &err), ERR_INVALID_VALUE);
    cr_assert_eq(cidr_list_canonical("10.0.0.0/8,bad", out, &err), ERR_INVALID_VALUE);
    cr_assert(strstr(err.detail, "bad") != NULL, "%s", err.detail);

    char many[4096] = "";
    size_t used = 0;
    for (int i = 0; i <= CIDR_LIST_MAX; i++)
        used +=
            (size_t)snprintf(many + used, sizeof(many) - used, "%s10.%d.0.0/16", i ? "," : "", i);
    cr_assert_eq(cidr_list_canonical(many, out, &err), ERR_INVALID_VALUE, "too many blocks");
}
