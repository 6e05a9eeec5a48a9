/*
 * log.c - stderr logger: one entry per line, text ("TIME LEVEL msg k=v") or
 * JSON lines ({"time","level","msg", fields}), every message and field value
 * redacted of secrets before it is written; the calling thread's request id
 * (log_request_id) rides along as req=<id> or "request_id".
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"

#define LOG_MAX_FIELDS       16
#define LOG_MIN_TOKEN_SECRET 16 /* alphanumerics after "scimd_" that make it a token */

enum log_level log_current_level = LOG_INFO;
enum log_format log_current_format = LOG_FORMAT_TEXT;
_Thread_local const char *log_request_id;

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const char *const format_names[] = { "text", "json" };

int log_level_parse(const char *name, enum log_level *out)
{
    for (int i = 0; i <= LOG_DEBUG; i++) {
        if (str_ieq(name, level_names[i])) {
            *out = (enum log_level)i;
            return 1;
        }
    }
    return 0;
}

int log_format_parse(const char *name, enum log_format *out)
{
    for (int i = 0; i <= LOG_FORMAT_JSON; i++) {
        if (str_ieq(name, format_names[i])) {
            *out = (enum log_format)i;
            return 1;
        }
    }
    return 0;
}

/* ---- a fixed buffer that cuts what does not fit -------------------------------------------- */

struct line {
    char *out;
    size_t size; /* > 0 */
    size_t len;
    bool cut;       /* something did not fit */
    bool in_string; /* inside a JSON string (to close it when cut) */
};

static void put(struct line *l, const char *s, size_t n)
{
    size_t room = l->size - 1 - l->len;
    if (n > room) {
        n = room;
        l->cut = true;
    }
    memcpy(l->out + l->len, s, n);
    l->len += n;
    l->out[l->len] = '\0';
}

static void puts_(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

/* ---- redaction ------------------------------------------------------------------------------- */

static bool is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* At s (just after "://"): the length of "user:" when a password follows, else 0. */
static size_t url_user_len(const char *s)
{
    const char *colon = NULL;
    for (const char *p = s; *p && *p != '/' && !is_space(*p); p++) {
        if (*p == ':' && colon == NULL)
            colon = p;
        if (*p == '@')
            return colon ? (size_t)(colon - s) + 1 : 0;
    }
    return 0;
}

/* Length of the secret starting at s that ends at '@' (URL) or whitespace / quote. */
static size_t span_until(const char *s, const char *stops)
{
    size_t n = 0;
    while (s[n] && !is_space(s[n]) && strchr(stops, s[n]) == NULL)
        n++;
    return n;
}

char *log_redact(const char *in, char *out, size_t size)
{
    struct line l = { .out = out, .size = size };
    out[0] = '\0';
    const char *p = in;
    while (*p) {
        size_t keep = 0, secret = 0;
        if (strncmp(p, "://", 3) == 0 && (keep = url_user_len(p + 3)) > 0) {
            keep += 3;
            secret = strchr(p + keep, '@') - (p + keep);
        } else if (str_istarts(p, "password=") && (p == in || !is_alnum(p[-1]))) {
            keep = strlen("password=");
            if (p[keep] == '\'') {
                const char *end = strchr(p + keep + 1, '\'');
                secret = end ? (size_t)(end - (p + keep)) + 1 : strlen(p + keep);
            } else {
                secret = span_until(p + keep, "\"");
            }
        } else if (str_istarts(p, "bearer ") && (p == in || !is_alnum(p[-1]))) {
            keep = strlen("bearer ");
            secret = span_until(p + keep, "\"");
        } else if (strncmp(p, "scimd_", 6) == 0 && (p == in || !is_alnum(p[-1]))) {
            keep = 6;
            while (is_alnum(p[keep + secret]))
                secret++;
            if (secret < LOG_MIN_TOKEN_SECRET) {
                keep += secret;
                secret = 0;
            }
        } else {
            keep = 1;
        }
        put(&l, p, keep);
        p += keep;
        if (secret > 0) {
            puts_(&l, "***");
            p += secret;
        }
    }
    return out;
}

/* ---- formatting ---------------------------------------------------------------------------- */

static void put_json_string(struct line *l, const char *s)
{
    bool utf8 = str_utf8_valid(s, strlen(s));
    puts_(l, "\"");
    l->in_string = true;
    for (const unsigned char *p = (const unsigned char *)s; *p && !l->cut; p++) {
        char esc[8] = { (char)*p, '\0' };
        if (*p == '"' || *p == '\\')
            snprintf(esc, sizeof(esc), "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f || (*p >= 0x80 && !utf8))
            snprintf(esc, sizeof(esc), "\\u%04x", *p);
        if (strlen(esc) > l->size - 1 - l->len) /* an escape is written whole or not at all */
            l->cut = true;
        else
            puts_(l, esc);
    }
    if (!l->cut)
        l->in_string = false;
    puts_(l, "\"");
}

/* A text field value: bare when it is one word, else quoted. */
static void put_text_value(struct line *l, const char *s)
{
    if (*s != '\0' && strpbrk(s, " \t\"=\\") == NULL) {
        puts_(l, s);
        return;
    }
    put_json_string(l, s);
}

/* ",key":"value" in JSON, " key=value" in text; the value redacted. */
static void put_field(struct line *l, bool json, const char *key, const char *value)
{
    char clean[LOG_LINE_MAX];
    log_redact(value, clean, sizeof(clean));
    puts_(l, json ? "," : " ");
    if (json)
        put_json_string(l, key);
    else
        puts_(l, key);
    puts_(l, json ? ":" : "=");
    if (json)
        put_json_string(l, clean);
    else
        put_text_value(l, clean);
}

size_t log_format_entry(char *out, size_t size, const char *time, enum log_level level,
                        const char *msg, const struct log_field *fields, size_t n_fields)
{
    struct line l = { .out = out, .size = size };
    char clean[LOG_LINE_MAX];
    out[0] = '\0';
    log_redact(msg, clean, sizeof(clean));
    bool json = log_current_format == LOG_FORMAT_JSON;
    if (json) {
        puts_(&l, "{\"time\":");
        put_json_string(&l, time);
        puts_(&l, ",\"level\":");
        put_json_string(&l, level_names[level]);
        puts_(&l, ",\"msg\":");
        put_json_string(&l, clean);
    } else {
        puts_(&l, time);
        puts_(&l, " ");
        puts_(&l, level_names[level]);
        if (log_request_id != NULL)
            put_field(&l, json, "req", log_request_id);
        puts_(&l, " ");
        puts_(&l, clean);
    }
    if (json && log_request_id != NULL)
        put_field(&l, json, "request_id", log_request_id);
    for (size_t i = 0; i < n_fields; i++) {
        if (fields[i].value != NULL)
            put_field(&l, json, fields[i].key, fields[i].value);
    }
    if (json && l.cut) {
        /* a cut line still parses: close the string it was cut in, then the object */
        bool in_string = l.in_string;
        l.len = l.size - 3 < l.len ? l.size - 3 : l.len;
        while (l.len > 0 && l.out[l.len - 1] == '\\')
            l.len--;
        l.out[l.len] = '\0';
        l.cut = false;
        puts_(&l, in_string ? "\"}" : "}");
    } else if (json) {
        puts_(&l, "}");
    }
    return l.len;
}

static void write_entry(enum log_level level, const struct log_field *fields, size_t n_fields,
                        const char *fmt, va_list ap)
{
    char msg[LOG_LINE_MAX];
    char line[LOG_LINE_MAX + 2];
    char now[CLOCK_ISO_LEN];
    clock_now_iso(now);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = log_format_entry(line, sizeof(line) - 1, now, level, msg, fields,
                                n_fields > LOG_MAX_FIELDS ? LOG_MAX_FIELDS : n_fields);
    line[n] = '\n';
    line[n + 1] = '\0';
    fputs(line, stderr);
}

void log_write(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    write_entry(level, NULL, 0, fmt, ap);
    va_end(ap);
}

void log_with(enum log_level level, const struct log_field *fields, size_t n_fields,
              const char *fmt, ...)
{
    if (log_current_level < level)
        return;
    va_list ap;
    va_start(ap, fmt);
    write_entry(level, fields, n_fields, fmt, ap);
    va_end(ap);
}
