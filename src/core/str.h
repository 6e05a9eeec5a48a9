/* SPDX-License-Identifier: Apache-2.0 */
/*
 * str.h - small string helpers and the growable, capped buffer.
 *
 * struct buf owns its bytes; it grows up to `cap` bytes and then sets a sticky
 * `failed` flag: append calls become no-ops and the caller checks once at the
 * end (curl's dynbuf, git's strbuf).  The data is always NUL-terminated.
 * Not thread-safe; one owner at a time.
 */
#ifndef SCIMD_CORE_STR_H
#define SCIMD_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"

/* ASCII case-insensitive equality, as SCIM attribute names compare. NULL-safe. */
bool str_ieq(const char *a, const char *b);
bool str_ieqn(const char *a, const char *b, size_t n);
/* Does s start with prefix, ignoring ASCII case? */
bool str_istarts(const char *s, const char *prefix);
/* The value of one hex digit (either case), or -1. */
int str_hex_value(char c);
/* Copy src into dst of dst_size bytes, always terminated; true if it fit. */
bool str_copy(char *dst, size_t dst_size, const char *src);
/* malloc'd copy; NULL in, NULL out. */
char *str_dup(const char *s);
char *str_ndup(const char *s, size_t n);
/* Lowercase ASCII in place. */
void str_lower(char *s);
/* Parse a whole decimal integer in [min, max]; false on any junk. */
bool str_to_long(const char *s, long min, long max, long *out);
/* Is s valid UTF-8 of length n? */
bool str_utf8_valid(const char *s, size_t n);

struct buf {
    char *data;
    size_t len;
    size_t alloc;
    size_t cap; /* hard limit on len; 0 means BUF_DEFAULT_CAP */
    bool failed;
};

#define BUF_DEFAULT_CAP (64u << 20)

void buf_init(struct buf *b, size_t cap);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);
void buf_append(struct buf *b, const void *data, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Detach the data (caller frees); the buffer is reset. NULL if failed. */
char *buf_take(struct buf *b);

#include "core/banned.h"

#endif
