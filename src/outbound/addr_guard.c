/* SPDX-License-Identifier: Apache-2.0 */
/*
 * addr_guard.c - this file contains the address classifier behind the outbound
 * SSRF guard: IPv4 ranges as a table, the IPv6 ranges, the IPv6 forms that carry
 * an IPv4 address, and the URL check (libcurl's URL parser, getaddrinfo).
 */
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "outbound/addr_guard.h"

#include "core/str.h"

struct v4_range {
    uint32_t net;
    int prefix;
    enum addr_class cls;
};

/* First match wins, so single addresses come before the ranges holding them. */
/* clang-format off */
static const struct v4_range v4_ranges[] = {
    { 0xA9FEA9FEu, 32, ADDR_METADATA    }, /* 169.254.169.254: AWS, GCP, Azure, OpenStack */
    { 0x646464C8u, 32, ADDR_METADATA    }, /* 100.100.100.200: Alibaba Cloud */
    { 0xFFFFFFFFu, 32, ADDR_BROADCAST   }, /* 255.255.255.255 */
    { 0x00000000u,  8, ADDR_UNSPECIFIED }, /* 0/8 "this network" */
    { 0x7F000000u,  8, ADDR_LOOPBACK    }, /* 127/8 */
    { 0x0A000000u,  8, ADDR_PRIVATE     }, /* 10/8 */
    { 0xAC100000u, 12, ADDR_PRIVATE     }, /* 172.16/12 */
    { 0xC0A80000u, 16, ADDR_PRIVATE     }, /* 192.168/16 */
    { 0x64400000u, 10, ADDR_PRIVATE     }, /* 100.64/10 carrier-grade NAT */
    { 0xA9FE0000u, 16, ADDR_LINK_LOCAL  }, /* 169.254/16 */
    { 0xE0000000u,  4, ADDR_MULTICAST   }, /* 224/4 */
    { 0xF0000000u,  4, ADDR_RESERVED    }, /* 240/4 */
    { 0xC0000000u, 24, ADDR_RESERVED    }, /* 192.0.0/24 protocol assignments */
    { 0xC0000200u, 24, ADDR_RESERVED    }, /* 192.0.2/24 TEST-NET-1 */
    { 0xC6336400u, 24, ADDR_RESERVED    }, /* 198.51.100/24 TEST-NET-2 */
    { 0xCB007100u, 24, ADDR_RESERVED    }, /* 203.0.113/24 TEST-NET-3 */
    { 0xC6120000u, 15, ADDR_RESERVED    }, /* 198.18/15 benchmarking */
};

static const char *const class_names[] = {
    [ADDR_PUBLIC]      = "public",
    [ADDR_LOOPBACK]    = "loopback",
    [ADDR_PRIVATE]     = "private",
    [ADDR_LINK_LOCAL]  = "link-local",
    [ADDR_METADATA]    = "cloud metadata",
    [ADDR_UNSPECIFIED] = "unspecified",
    [ADDR_MULTICAST]   = "multicast",
    [ADDR_BROADCAST]   = "broadcast",
    [ADDR_RESERVED]    = "reserved",
    [ADDR_UNKNOWN]     = "unknown",
};
/* clang-format on */

static enum addr_class classify_v4(uint32_t a)
{
    for (size_t i = 0; i < sizeof(v4_ranges) / sizeof(v4_ranges[0]); i++) {
        uint32_t mask = 0xFFFFFFFFu << (32 - v4_ranges[i].prefix);
        if ((a & mask) == v4_ranges[i].net)
            return v4_ranges[i].cls;
    }
    return ADDR_PUBLIC;
}

static uint32_t v4_at(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static bool all_zero(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (b[i] != 0)
            return false;
    }
    return true;
}

static enum addr_class classify_v6(const uint8_t b[16])
{
    static const uint8_t nat64[12] = { 0x00, 0x64, 0xff, 0x9b }; /* 64:ff9b::/96 */
    static const uint8_t aws_metadata[16] = { 0xfd, 0x00, 0x0e, 0xc2, [14] = 0x02, [15] = 0x54 };

    if (all_zero(b, 15))
        return b[15] == 0   ? ADDR_UNSPECIFIED
               : b[15] == 1 ? ADDR_LOOPBACK
                            : classify_v4(v4_at(b + 12));
    if (all_zero(b, 10) && b[10] == 0xff && b[11] == 0xff) /* ::ffff:a.b.c.d mapped */
        return classify_v4(v4_at(b + 12));
    if (all_zero(b, 12)) /* ::a.b.c.d compatible (deprecated) */
        return classify_v4(v4_at(b + 12));
    if (memcmp(b, nat64, sizeof(nat64)) == 0)
        return classify_v4(v4_at(b + 12));
    /* 64:ff9b:1::/48 local-use NAT64 */
    if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0 && b[5] == 1)
        return ADDR_PRIVATE;
    /* 2002::/16 6to4 carries a.b.c.d in bits 16..47 */
    if (b[0] == 0x20 && b[1] == 0x02)
        return classify_v4(v4_at(b + 2));
    if (memcmp(b, aws_metadata, 16) == 0)
        return ADDR_METADATA;
    if (b[0] == 0xff)
        return ADDR_MULTICAST;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
        return ADDR_LINK_LOCAL;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
        return ADDR_PRIVATE; /* fec0::/10 site-local (deprecated) */
    if ((b[0] & 0xfe) == 0xfc)
        return ADDR_PRIVATE; /* fc00::/7 unique local */
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
        return ADDR_RESERVED; /* 2001:db8::/32 documentation */
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00)
        return ADDR_RESERVED; /* 2001::/32 Teredo: no SCIM app lives behind it */
    if (b[0] == 0x01 && all_zero(b + 1, 7))
        return ADDR_RESERVED; /* 100::/64 discard-only */
    return ADDR_PUBLIC;
}

enum addr_class addr_guard_classify(const struct sockaddr *sa, socklen_t len)
{
    if (sa == NULL)
        return ADDR_UNKNOWN;
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return classify_v4(ntohl(in->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        return classify_v6(in6->sin6_addr.s6_addr);
    }
    return ADDR_UNKNOWN;
}

const char *addr_guard_class_name(enum addr_class cls)
{
    if ((size_t)cls >= sizeof(class_names) / sizeof(class_names[0]))
        return "unknown";
    return class_names[cls];
}

bool addr_guard_class_allowed(enum addr_class cls, bool allow_private)
{
    switch (cls) {
    case ADDR_PUBLIC:
        return true;
    case ADDR_LOOPBACK:
    case ADDR_PRIVATE:
    case ADDR_LINK_LOCAL:
        return allow_private;
    default:
        return false;
    }
}

bool addr_guard_allowed(const struct sockaddr *sa, socklen_t len, bool allow_private)
{
    return addr_guard_class_allowed(addr_guard_classify(sa, len), allow_private);
}

/* Host and port of an http(s) URL, through libcurl's own parser (so the check
 * sees the host curl will connect to).  Caller curl_free()s both. */
static enum status url_host(const char *url, char **host, char **port, struct scim_error *err)
{
    *host = NULL;
    *port = NULL;
    CURLU *u = curl_url();
    if (u == NULL)
        return scim_error_set(err, ERR_NOMEM, "out of memory");
    enum status rc = OK;
    char *scheme = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (!str_ieq(scheme, "http") && !str_ieq(scheme, "https")) ||
        curl_url_get(u, CURLUPART_HOST, host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        rc = scim_error_set(err, ERR_INVALID_VALUE, "not an http(s) URL with a host");
        curl_free(*host);
        *host = NULL;
    }
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}

enum status addr_guard_check_url(const char *url, bool allow_private, struct scim_error *err)
{
    char *host = NULL;
    char *port = NULL;
    if (url == NULL)
        return scim_error_set(err, ERR_INVALID_VALUE, "not an http(s) URL with a host");
    enum status rc = url_host(url, &host, &port, err);
    if (rc != OK)
        return rc;

    /* libcurl keeps IPv6 literals in brackets; getaddrinfo wants them bare. */
    char bare[256];
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof(bare)) {
        memcpy(bare, host + 1, n - 2);
        bare[n - 2] = '\0';
    } else if (!str_copy(bare, sizeof(bare), host)) {
        rc = scim_error_set(err, ERR_INVALID_VALUE, "host name too long");
        goto done;
    }

    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(bare, port, &hints, &res);
    if (gai != 0) {
        rc = scim_error_set(err, ERR_UNAVAILABLE, "cannot resolve '%s': %s", bare,
                            gai_strerror(gai));
        goto done;
    }
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        enum addr_class cls = addr_guard_classify(ai->ai_addr, ai->ai_addrlen);
        if (!addr_guard_class_allowed(cls, allow_private)) {
            rc = scim_error_set(err, ERR_FORBIDDEN, "'%s' resolves to a %s address", bare,
                                addr_guard_class_name(cls));
            break;
        }
    }
    freeaddrinfo(res);
done:
    curl_free(host);
    curl_free(port);
    return rc;
}
