/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forwarded_test.c - tests for src/http/forwarded.c: the trusted-proxy list,
 * and the client a request names in X-Forwarded-For: only from a trusted
 * peer, the rightmost untrusted hop, never past an entry that is not an
 * address; ports, brackets, spaces and IPv4-mapped peers.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "http/forwarded.h"

static struct http_proxies proxies(const char *list)
{
    struct http_proxies p;
    struct scim_error err;
    cr_assert_eq(http_proxies_parse(list, &p, &err), OK, "parse %s", list);
    return p;
}

static void check(const char *list, const char *peer, const char *xff, const char *want)
{
    struct http_proxies p = proxies(list);
    char out[HTTP_ADDRESS_MAX];
    http_forwarded_client(&p, peer, xff, xff ? strlen(xff) : 0, out);
    cr_assert_str_eq(out, want, "peer %s, X-Forwarded-For '%s', trusted %s", peer,
                     xff ? xff : "(none)", list);
}

Test(forwarded, proxies_parse)
{
    struct http_proxies p = proxies("127.0.0.1, 10.0.0.0/8,2001:db8::/32");
    cr_assert_eq(p.n, 3);
    cr_assert(http_proxies_trust(&p, "10.9.8.7"));
    cr_assert(http_proxies_trust(&p, "::ffff:127.0.0.1"));
    cr_assert(http_proxies_trust(&p, "2001:db8::5"));
    cr_assert_not(http_proxies_trust(&p, "127.0.0.2"));
    cr_assert_eq(proxies("").n, 0);
    cr_assert_eq(proxies(NULL).n, 0);
    struct scim_error err;
    cr_assert_neq(http_proxies_parse("10.0.0.1/8", &p, &err), OK, "host bits set");
    cr_assert_neq(http_proxies_parse("proxy.internal", &p, &err), OK);
}

Test(forwarded, untrusted_peer_is_the_client)
{
    check("", "192.0.2.9", "198.51.100.1", "192.0.2.9");
    check("10.0.0.0/8", "192.0.2.9", "198.51.100.1", "192.0.2.9");
    check("10.0.0.0/8", "10.0.0.1", NULL, "10.0.0.1");
}

Test(forwarded, rightmost_untrusted_hop)
{
    check("10.0.0.0/8", "10.0.0.1", "198.51.100.1", "198.51.100.1");
    /* the client wrote the leftmost entry itself: ignored */
    check("10.0.0.0/8", "10.0.0.1", "1.2.3.4, 198.51.100.1", "198.51.100.1");
    /* a chain of trusted proxies is skipped */
    check("10.0.0.0/8", "10.0.0.1", "1.2.3.4, 198.51.100.1, 10.0.0.7,10.0.0.8", "198.51.100.1");
    /* every hop trusted: the leftmost is as far as is known */
    check("10.0.0.0/8", "10.0.0.1", "10.1.1.1, 10.2.2.2", "10.1.1.1");
}

Test(forwarded, garbage_stops_at_the_last_trusted_hop)
{
    check("10.0.0.0/8", "10.0.0.1", "unknown", "10.0.0.1");
    check("10.0.0.0/8", "10.0.0.1", "198.51.100.1, 10.0.0.5, _hidden", "10.0.0.1");
    check("10.0.0.0/8", "10.0.0.1", "198.51.100.1, garbage, 10.0.0.5", "10.0.0.5");
    check("10.0.0.0/8", "10.0.0.1", "", "10.0.0.1");
    check("10.0.0.0/8", "10.0.0.1", " , ", "10.0.0.1");
    check("10.0.0.0/8", "10.0.0.1", "198.51.100.1 ,, 10.0.0.5", "198.51.100.1");
    check("10.0.0.0/8", "10.0.0.1", "300.1.1.1", "10.0.0.1");
    check("10.0.0.0/8", "10.0.0.1", "[2001:db8::1", "10.0.0.1");
    check("10.0.0.0/8", "10.0.0.1", "[2001:db8::1]x", "10.0.0.1");
}

Test(forwarded, ports_brackets_and_forms)
{
    check("10.0.0.0/8", "10.0.0.1", "198.51.100.1:4711", "198.51.100.1");
    check("10.0.0.0/8", "10.0.0.1", "[2001:DB8::1]:443", "2001:db8::1");
    check("10.0.0.0/8", "10.0.0.1", "2001:db8:0:0::1", "2001:db8::1");
    check("10.0.0.0/8", "10.0.0.1", "\t198.51.100.1\t", "198.51.100.1");
    check("127.0.0.1", "::ffff:127.0.0.1", "198.51.100.1", "198.51.100.1");
    check("::1", "::1", "198.51.100.1", "198.51.100.1");
}
