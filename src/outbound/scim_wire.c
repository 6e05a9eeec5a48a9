/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scim_wire.c - this file contains the encoders and parsers for the messages
 * exchanged with downstream SCIM apps: HTTP dates and Retry-After, SCIM error
 * bodies, ListResponse and resource ids (through the capped scim_json_decode),
 * percent-encoding, the eq filter and the member PatchOp.
 */
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "outbound/scim_wire.h"
#include "scim/json.h"

#include "core/str.h"

#define HTTP_DATE_MAX 64 /* the longest form is ~36 bytes; more is not a date */

/* ------------------------------------------------------------------ HTTP dates */

/* clang-format off */
static const char *const month_names[12] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};
static const char *const day_names[7] = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
};
/* clang-format on */

/* A cursor over the date text; every take_* advances it only on success. */
struct scan {
    const char *p;
    const char *end;
};

static bool take_lit(struct scan *s, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
        return false;
    s->p += n;
    return true;
}

/* Exactly `digits` decimal digits (a leading space stands for 0 when pad_space). */
static bool take_num(struct scan *s, int digits, bool pad_space, int *out)
{
    if (s->end - s->p < digits)
        return false;
    int v = 0;
    for (int i = 0; i < digits; i++) {
        char c = s->p[i];
        if (c == ' ' && pad_space && i == 0)
            continue;
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    s->p += digits;
    *out = v;
    return true;
}

static bool take_month(struct scan *s, int *month)
{
    for (int m = 0; m < 12; m++) {
        if (take_lit(s, month_names[m])) {
            *month = m + 1;
            return true;
        }
    }
    return false;
}

/* "Mon" (short) or "Monday" (long). */
static bool take_weekday(struct scan *s, bool long_name)
{
    for (int d = 0; d < 7; d++) {
        if (long_name ? take_lit(s, day_names[d])
                      : (s->end - s->p >= 3 && memcmp(s->p, day_names[d], 3) == 0)) {
            if (!long_name)
                s->p += 3;
            return true;
        }
    }
    return false;
}

static bool take_time(struct scan *s, int *h, int *mi, int *sec)
{
    return take_num(s, 2, false, h) && take_lit(s, ":") && take_num(s, 2, false, mi) &&
           take_lit(s, ":") && take_num(s, 2, false, sec);
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool valid_date(int y, int m, int d, int h, int mi, int sec)
{
    static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] || (m == 2 && d == 29 && !leap))
        return false;
    return y >= 1970 && h <= 23 && mi <= 59 && sec <= 60;
}

bool scim_wire_http_date(const char *text, size_t n, int64_t *epoch_s)
{
    if (text == NULL || n == 0 || n > HTTP_DATE_MAX)
        return false;
    struct scan s = { text, text + n };
    int y = 0, m = 0, d = 0, h = 0, mi = 0, sec = 0;
    bool ok;
    struct scan at = s;
    if (take_weekday(&at, false) && take_lit(&at, ", ")) {
        /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
        ok = take_num(&at, 2, false, &d) && take_lit(&at, " ") && take_month(&at, &m) &&
             take_lit(&at, " ") && take_num(&at, 4, false, &y) && take_lit(&at, " ") &&
             take_time(&at, &h, &mi, &sec) && take_lit(&at, " GMT");
    } else if ((at = s, take_weekday(&at, true)) && take_lit(&at, ", ")) {
        /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT (two-digit years 70..99 are 19xx) */
        ok = take_num(&at, 2, false, &d) && take_lit(&at, "-") && take_month(&at, &m) &&
             take_lit(&at, "-") && take_num(&at, 2, false, &y) && take_lit(&at, " ") &&
             take_time(&at, &h, &mi, &sec) && take_lit(&at, " GMT");
        y += y >= 70 ? 1900 : 2000;
    } else {
        /* asctime: Sun Nov  6 08:49:37 1994 */
        at = s;
        ok = take_weekday(&at, false) && take_lit(&at, " ") && take_month(&at, &m) &&
             take_lit(&at, " ") && take_num(&at, 2, true, &d) && take_lit(&at, " ") &&
             take_time(&at, &h, &mi, &sec) && take_lit(&at, " ") && take_num(&at, 4, false, &y);
    }
    if (!ok || at.p != at.end || !valid_date(y, m, d, h, mi, sec))
        return false;
    if (sec == 60)
        sec = 59; /* a leap second names the same moment for our purposes */
    *epoch_s = days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60 + sec;
    return true;
}

bool scim_wire_retry_after(const char *s, size_t n, int64_t now_s, long *seconds)
{
    if (s == NULL)
        return false;
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    if (n == 0)
        return false;

    bool digits = true;
    for (size_t i = 0; i < n; i++)
        digits = digits && s[i] >= '0' && s[i] <= '9';
    if (digits) {
        long v = 0;
        for (size_t i = 0; i < n && v <= SCIM_WIRE_RETRY_AFTER_MAX_S; i++)
            v = v * 10 + (s[i] - '0');
        *seconds = v > SCIM_WIRE_RETRY_AFTER_MAX_S ? SCIM_WIRE_RETRY_AFTER_MAX_S : v;
        return true;
    }
    int64_t at;
    if (!scim_wire_http_date(s, n, &at))
        return false;
    int64_t wait = at - now_s;
    *seconds = wait <= 0                            ? 0
               : wait > SCIM_WIRE_RETRY_AFTER_MAX_S ? SCIM_WIRE_RETRY_AFTER_MAX_S
                                                    : (long)wait;
    return true;
}

/* ------------------------------------------------------------------ responses */

/* Copy a remote string for logs: control characters become spaces, cut to fit
 * without splitting a UTF-8 sequence (src is valid UTF-8: jansson checked it). */
static void copy_printable(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size) {
        n = size - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
            n--;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    dst[n] = '\0';
}

void scim_wire_error(const char *body, size_t n, char scim_type[SCIM_WIRE_SCIM_TYPE_MAX],
                     char detail[SCIM_WIRE_DETAIL_MAX])
{
    scim_type[0] = '\0';
    detail[0] = '\0';
    json_t *doc = NULL;
    if (body == NULL || n == 0 || scim_json_decode(body, n, &doc, NULL) != OK)
        return;
    const char *t = json_string_value(scim_json_iget(doc, "scimType"));
    const char *d = json_string_value(scim_json_iget(doc, "detail"));
    if (t != NULL)
        copy_printable(scim_type, SCIM_WIRE_SCIM_TYPE_MAX, t);
    if (d != NULL)
        copy_printable(detail, SCIM_WIRE_DETAIL_MAX, d);
    json_decref(doc);
}

bool scim_wire_id_valid(const char *s, size_t n)
{
    if (s == NULL || n == 0 || n >= SCIM_WIRE_ID_MAX || !str_utf8_valid(s, n))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

/* Copy doc's "id" into id if usable. */
static enum status take_id(const json_t *doc, char id[SCIM_WIRE_ID_MAX])
{
    const json_t *v = scim_json_iget(doc, "id");
    if (!json_is_string(v) || !scim_wire_id_valid(json_string_value(v), json_string_length(v)))
        return ERR_INVALID_VALUE;
    memcpy(id, json_string_value(v), json_string_length(v) + 1);
    return OK;
}

enum status scim_wire_resource_id(const char *body, size_t n, char id[SCIM_WIRE_ID_MAX])
{
    id[0] = '\0';
    json_t *doc = NULL;
    if (body == NULL || scim_json_decode(body, n, &doc, NULL) != OK)
        return ERR_INVALID_SYNTAX;
    enum status rc = take_id(doc, id);
    json_decref(doc);
    return rc;
}

enum status scim_wire_list(const char *body, size_t n, long *total, char id[SCIM_WIRE_ID_MAX])
{
    id[0] = '\0';
    *total = 0;
    json_t *doc = NULL;
    if (body == NULL || scim_json_decode(body, n, &doc, NULL) != OK)
        return ERR_INVALID_SYNTAX;
    enum status rc = OK;
    const json_t *resources = scim_json_iget(doc, "Resources");
    const json_t *count = scim_json_iget(doc, "totalResults");
    if ((resources != NULL && !json_is_array(resources)) ||
        (count != NULL && !json_is_integer(count)) || (resources == NULL && count == NULL)) {
        rc = ERR_INVALID_SYNTAX;
        goto done;
    }
    json_int_t t =
        count != NULL ? json_integer_value(count) : (json_int_t)json_array_size(resources);
    *total = t < 0 ? 0 : t > LONG_MAX ? LONG_MAX : (long)t;
    if (json_array_size(resources) > 0) {
        const json_t *first = json_array_get(resources, 0);
        rc = json_is_object(first) ? take_id(first, id) : ERR_INVALID_VALUE;
    }
done:
    json_decref(doc);
    return rc;
}

/* ------------------------------------------------------------------ requests */

void scim_wire_percent_encode(struct buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) {
            buf_putc(out, (char)c);
        } else {
            buf_putc(out, '%');
            buf_putc(out, hex[c >> 4]);
            buf_putc(out, hex[c & 15]);
        }
    }
}

static bool attr_name_ok(const char *attr)
{
    if (attr == NULL || *attr == '\0')
        return false;
    for (const char *p = attr; *p; p++) {
        char c = *p;
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.' || c == ':';
        if (!ok)
            return false;
    }
    return true;
}

/* s as a JSON string literal with its quotes (malloc'd), as RFC 7644 §3.4.2.2
 * writes filter values; NULL with *rc set when s is not UTF-8 or memory ran out. */
static char *json_literal(const char *s, enum status *rc)
{
    if (s == NULL || !str_utf8_valid(s, strlen(s))) {
        *rc = ERR_INVALID_VALUE;
        return NULL;
    }
    json_t *str = json_string(s);
    char *literal = str != NULL ? json_dumps(str, JSON_ENCODE_ANY) : NULL;
    json_decref(str);
    if (literal == NULL)
        *rc = ERR_NOMEM;
    return literal;
}

enum status scim_wire_eq_filter(struct buf *out, const char *attr, const char *value)
{
    enum status rc = OK;
    if (!attr_name_ok(attr))
        return ERR_INVALID_VALUE;
    char *literal = json_literal(value, &rc);
    if (literal == NULL)
        return rc;
    struct buf expr;
    buf_init(&expr, 0);
    buf_printf(&expr, "%s eq %s", attr, literal);
    free(literal);
    if (expr.failed) {
        buf_release(&expr);
        return ERR_NOMEM;
    }
    buf_puts(out, "filter=");
    scim_wire_percent_encode(out, expr.data, expr.len);
    buf_release(&expr);
    return out->failed ? ERR_NOMEM : OK;
}

enum status scim_wire_members_patch(struct buf *out, const char *const *add, size_t n_add,
                                    const char *const *remove, size_t n_remove)
{
    enum status rc = ERR_NOMEM;
    char *text = NULL;
    json_t *ops = json_array();
    json_t *doc = json_pack("{s:[s],s:o}", "schemas",
                            "urn:ietf:params:scim:api:messages:2.0:PatchOp", "Operations", ops);
    if (doc == NULL)
        goto fail;
    if (n_add > 0) {
        json_t *values = json_array();
        if (json_array_append_new(ops, json_pack("{s:s,s:s,s:o}", "op", "add", "path", "members",
                                                 "value", values)) != 0)
            goto fail;
        for (size_t i = 0; i < n_add; i++) {
            if (add[i] == NULL || !str_utf8_valid(add[i], strlen(add[i]))) {
                rc = ERR_INVALID_VALUE;
                goto fail;
            }
            if (json_array_append_new(values, json_pack("{s:s}", "value", add[i])) != 0)
                goto fail;
        }
    }
    for (size_t i = 0; i < n_remove; i++) {
        char *literal = json_literal(remove[i], &rc);
        if (literal == NULL)
            goto fail;
        struct buf path;
        buf_init(&path, 0);
        buf_printf(&path, "members[value eq %s]", literal);
        free(literal);
        int bad = path.failed || json_array_append_new(ops, json_pack("{s:s,s:s}", "op", "remove",
                                                                      "path", path.data)) != 0;
        buf_release(&path);
        if (bad)
            goto fail;
    }
    text = json_dumps(doc, JSON_COMPACT);
    if (text == NULL)
        goto fail;
    buf_puts(out, text);
    rc = out->failed ? ERR_NOMEM : OK;
fail:
    free(text);
    json_decref(doc);
    return rc;
}
