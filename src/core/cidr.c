/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cidr.c - this file contains the CIDR parser, its canonical text, and
 * address matching for IP allowlists (see cidr.h).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "core/cidr.h"
#include "core/str.h"

#define ADDR_TEXT_MAX 46 /* INET6_ADDRSTRLEN */

/* Parse an address of len bytes: IPv4 into 4 bytes, IPv6 into 16 (an
 * IPv4-mapped one into its 4 IPv4 bytes). */
static bool parse_address(const char *text, size_t len, bool *v4, unsigned char out[16])
{
    char buf[ADDR_TEXT_MAX];
    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET, buf, out) == 1) {
        *v4 = true;
        return true;
    }
    if (strchr(buf, '%') != NULL || inet_pton(AF_INET6, buf, out) != 1)
        return false;
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    *v4 = memcmp(out, mapped, sizeof(mapped)) == 0;
    if (*v4)
        memmove(out, out + 12, 4);
    return true;
}

/* Do the first `bits` bits of a and b agree? */
static bool prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
    size_t whole = bits / 8;
    if (memcmp(a, b, whole) != 0)
        return false;
    unsigned rest = bits % 8;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xffu << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

enum status cidr_parse(const char *text, size_t len, struct cidr *out, struct scim_error *err)
{
    memset(out, 0, sizeof(*out));
    const char *slash = memchr(text, '/', len);
    size_t addr_len = slash ? (size_t)(slash - text) : len;
    unsigned char addr[16] = { 0 };
    bool v4 = false;
    if (!parse_address(text, addr_len, &v4, addr))
        return scim_error_set(err, ERR_INVALID_VALUE, "'%.*s' is not an IPv4 or IPv6 address",
                              (int)(addr_len > 64 ? 64 : addr_len), text);
    if (v4 && memchr(text, ':', addr_len) != NULL)
        return scim_error_set(err, ERR_INVALID_VALUE,
                              "'%.*s': write IPv4-mapped addresses as IPv4 (a.b.c.d/n)",
                              (int)(len > 64 ? 64 : len), text);
    unsigned max = v4 ? 32 : 128, prefix = max;
    if (slash) {
        const char *p = slash + 1, *end = text + len;
        if (p == end || end - p > 3)
            return scim_error_set(err, ERR_INVALID_VALUE, "'%.*s': bad prefix length",
                                  (int)(len > 64 ? 64 : len), text);
        prefix = 0;
        for (; p < end; p++) {
            if (*p < '0' || *p > '9')
                return scim_error_set(err, ERR_INVALID_VALUE, "'%.*s': bad prefix length",
                                      (int)(len > 64 ? 64 : len), text);
            prefix = prefix * 10 + (unsigned)(*p - '0');
        }
        if (prefix > max)
            return scim_error_set(err, ERR_INVALID_VALUE, "'%.*s': prefix longer than /%u",
                                  (int)(len > 64 ? 64 : len), text, max);
    }
    out->v4 = v4;
    out->prefix = prefix;
    memcpy(out->addr, addr, sizeof(addr));
    unsigned char zero[16] = { 0 };
    struct cidr masked = *out;
    for (unsigned bit = prefix; bit < max; bit++)
        masked.addr[bit / 8] &= (unsigned char)~(0x80u >> (bit % 8));
    if (memcmp(masked.addr, out->addr, sizeof(zero)) != 0) {
        char want[CIDR_TEXT_MAX];
        cidr_format(&masked, want);
        return scim_error_set(err, ERR_INVALID_VALUE, "'%.*s' has host bits set (the block is %s)",
                              (int)(len > 64 ? 64 : len), text, want);
    }
    return OK;
}

bool cidr_equal(const struct cidr *a, const struct cidr *b)
{
    return a->v4 == b->v4 && a->prefix == b->prefix && memcmp(a->addr, b->addr, 16) == 0;
}

void cidr_format(const struct cidr *c, char out[CIDR_TEXT_MAX])
{
    char addr[ADDR_TEXT_MAX] = "";
    inet_ntop(c->v4 ? AF_INET : AF_INET6, c->addr, addr, sizeof(addr));
    snprintf(out, CIDR_TEXT_MAX, "%s/%u", addr, c->prefix);
}

bool cidr_contains(const struct cidr *c, const char *address)
{
    unsigned char addr[16] = { 0 };
    bool v4 = false;
    if (address == NULL || !parse_address(address, strlen(address), &v4, addr))
        return false;
    return v4 == c->v4 && prefix_equal(addr, c->addr, c->prefix);
}

/* The next item of a list from *p (spaces trimmed): its start and length;
 * false at the end.  Empty items are reported as length 0. */
static bool next_item(const char **p, const char **start, size_t *len)
{
    const char *s = *p;
    if (s == NULL)
        return false;
    const char *comma = strchr(s, ',');
    const char *end = comma ? comma : s + strlen(s);
    *p = comma ? comma + 1 : NULL;
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *start = s;
    *len = (size_t)(end - s);
    return true;
}

enum status cidr_list_canonical(const char *text, char out[CIDR_LIST_TEXT_MAX],
                                struct scim_error *err)
{
    out[0] = '\0';
    struct cidr seen[CIDR_LIST_MAX];
    size_t n = 0, used = 0;
    const char *p = text, *item;
    size_t len;
    while (next_item(&p, &item, &len)) {
        if (len == 0)
            return scim_error_set(err, ERR_INVALID_VALUE, "empty item in the CIDR list");
        struct cidr c;
        enum status rc = cidr_parse(item, len, &c, err);
        if (rc != OK)
            return rc;
        bool dup = false;
        for (size_t i = 0; i < n && !dup; i++)
            dup = cidr_equal(&seen[i], &c);
        if (dup)
            continue;
        if (n == CIDR_LIST_MAX)
            return scim_error_set(err, ERR_INVALID_VALUE, "at most %d CIDR blocks in a list",
                                  CIDR_LIST_MAX);
        seen[n++] = c;
        char one[CIDR_TEXT_MAX];
        cidr_format(&c, one);
        int w = snprintf(out + used, CIDR_LIST_TEXT_MAX - used, "%s%s", used ? "," : "", one);
        if (w < 0 || (size_t)w >= CIDR_LIST_TEXT_MAX - used)
            return scim_error_set(err, ERR_INVALID_VALUE, "the CIDR list is longer than %d bytes",
                                  CIDR_LIST_TEXT_MAX - 1);
        used += (size_t)w;
    }
    if (n == 0)
        return scim_error_set(err, ERR_INVALID_VALUE, "the CIDR list is empty");
    return OK;
}

bool cidr_list_allows(const char *list, const char *address)
{
    if (list == NULL || list[0] == '\0')
        return true;
    const char *p = list, *item;
    size_t len;
    while (next_item(&p, &item, &len)) {
        struct cidr c;
        if (len > 0 && cidr_parse(item, len, &c, NULL) == OK && cidr_contains(&c, address))
            return true;
    }
    return false;
}
