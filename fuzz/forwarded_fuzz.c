/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forwarded_fuzz.c - this file contains the libFuzzer target for
 * X-Forwarded-For as scimd reads it from a trusted proxy: any bytes give an
 * address that is the peer, a trusted hop or an address that parses; from
 * an untrusted peer the answer is always the peer.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/forwarded.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct http_proxies proxies;
    static int ready;
    if (!ready) {
        if (http_proxies_parse("10.0.0.0/8,2001:db8::/32,127.0.0.1", &proxies, NULL) != OK)
            abort();
        ready = 1;
    }
    char out[HTTP_ADDRESS_MAX];
    http_forwarded_client(&proxies, "10.0.0.1", (const char *)data, size, out);
    unsigned char addr[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, out, addr) != 1 && inet_pton(AF_INET6, out, addr) != 1)
        abort();
    http_forwarded_client(&proxies, "192.0.2.1", (const char *)data, size, out);
    if (strcmp(out, "192.0.2.1") != 0)
        abort();
    return 0;
}
