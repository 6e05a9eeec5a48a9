/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forwarded.c - trusted proxies and the rightmost untrusted hop of
 * X-Forwarded-For.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "core/str.h"
#include "http/forwarded.h"

enum status http_proxies_parse(const char *list, struct http_proxies *out, struct scim_error *err)
{
    memset(out, 0, sizeof(*out));
    if (list == NULL || *list == '\0')
        return OK;
    char canonical[CIDR_LIST_TEXT_MAX];
    enum status rc = cidr_list_canonical(list, canonical, err);
    if (rc != OK)
        return rc;
    for (const char *p = canonical; *p && out->n < CIDR_LIST_MAX;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        rc = cidr_parse(p, len, &out->blocks[out->n], err);
        if (rc != OK)
            return rc;
        out->n++;
        p += len + (comma != NULL);
    }
    return OK;
}

bool http_proxies_trust(const struct http_proxies *p, const char *address)
{
    for (size_t i = 0; i < p->n; i++)
        if (cidr_contains(&p->blocks[i], address))
            return true;
    return false;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/*
 * One X-Forwarded-For entry (s, len bytes, trimmed) as a canonical address:
 * "192.0.2.1", "192.0.2.1:443", "2001:db8::1", "[2001:db8::1]:443".  False
 * for anything else ("unknown", obfuscated names, garbage).
 */
static bool entry_address(const char *s, size_t len, char out[HTTP_ADDRESS_MAX])
{
    char text[HTTP_ADDRESS_MAX];
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (close == NULL)
            return false;
        size_t rest = len - (size_t)(close - s) - 1;
        if (rest > 0 && close[1] != ':')
            return false;
        len = (size_t)(close - s) - 1;
        s++;
    } else {
        const char *colon = memchr(s, ':', len);
        if (colon != NULL && memchr(colon + 1, ':', len - (size_t)(colon - s) - 1) == NULL)
            len = (size_t)(colon - s); /* IPv4 with a port */
    }
    if (len == 0 || len >= sizeof(text) || memchr(s, '\0', len) != NULL)
        return false;
    memcpy(text, s, len);
    text[len] = '\0';
    unsigned char addr[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, text, addr) == 1)
        return inet_ntop(AF_INET, addr, out, HTTP_ADDRESS_MAX) != NULL;
    if (inet_pton(AF_INET6, text, addr) == 1)
        return inet_ntop(AF_INET6, addr, out, HTTP_ADDRESS_MAX) != NULL;
    return false;
}

void http_forwarded_client(const struct http_proxies *p, const char *peer, const char *xff,
                           size_t xff_len, char out[HTTP_ADDRESS_MAX])
{
    str_copy(out, HTTP_ADDRESS_MAX, peer);
    if (xff == NULL || !http_proxies_trust(p, peer))
        return;
    size_t end = xff_len;
    while (end > 0) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        size_t a = start, b = end;
        while (a < b && is_space(xff[a]))
            a++;
        while (b > a && is_space(xff[b - 1]))
            b--;
        end = start > 0 ? start - 1 : 0;
        if (a == b && start > 0)
            continue; /* an empty element ("a,,b"), as RFC 9110 lists allow */
        char hop[HTTP_ADDRESS_MAX];
        if (!entry_address(xff + a, b - a, hop))
            return; /* not an address: the last trusted hop is all that is known */
        str_copy(out, HTTP_ADDRESS_MAX, hop);
        if (!http_proxies_trust(p, hop))
            return;
        if (start == 0)
            return;
    }
}
