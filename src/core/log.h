/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.h - one-line log entries on stderr, as text or as JSON lines.
 *
 * Levels are checked before formatting.  Entries never carry tokens,
 * passwords or attribute values: callers log ids and statuses only, and as
 * a safety net every message and field value passes log_redact() (URL
 * passwords, `password=` settings, bearer tokens and scimd tokens become
 * "***").  The level and format are set once at start, before threads.
 * Thread-safe (one fputs per entry; stdio locks the stream).
 */
#ifndef SCIMD_CORE_LOG_H
#define SCIMD_CORE_LOG_H

#include <stddef.h>

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };
enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON };

#define LOG_LINE_MAX 2048 /* bytes of one entry; longer messages are cut */

extern enum log_level log_current_level;
extern enum log_format log_current_format;
/* The request the calling thread works on, or NULL: "req=<id>" after the
 * level in text entries, a "request_id" member in JSON ones, and the
 * request_id of the audit events the request writes (directory/audit.c). */
extern _Thread_local const char *log_request_id;

/* A named value attached to an entry: `key=value` in text, a member in JSON. */
struct log_field {
    const char *key;
    const char *value; /* NULL is left out */
};

/* Parse "error", "warn", "info", "debug"; false if unknown. */
int log_level_parse(const char *name, enum log_level *out);
/* Parse "text" or "json"; false if unknown. */
int log_format_parse(const char *name, enum log_format *out);

void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An entry with fields; checks the level itself. */
void log_with(enum log_level level, const struct log_field *fields, size_t n_fields,
              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Format one entry (without the newline) into out of size bytes, redacted,
 * in log_current_format: "TIME LEVEL [req=ID] msg k=v" or
 * {"time":…,"level":…,"msg":…[,"request_id":…],"k":"v"} (the id is the
 * calling thread's log_request_id).  Returns the length written.
 */
size_t log_format_entry(char *out, size_t size, const char *time, enum log_level level,
                        const char *msg, const struct log_field *fields, size_t n_fields);

/*
 * Copy in to out (size bytes, always terminated) with secrets replaced by
 * "***": the password of scheme://user:password@host, the value of
 * password=… (libpq key/value settings), what follows "Bearer " and the
 * secret part of scimd_… tokens.  Returns out.
 */
char *log_redact(const char *in, char *out, size_t size);

#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)                                                                              \
    do {                                                                                           \
        if (log_current_level >= LOG_WARN)                                                         \
            log_write(LOG_WARN, __VA_ARGS__);                                                      \
    } while (0)
#define log_info(...)                                                                              \
    do {                                                                                           \
        if (log_current_level >= LOG_INFO)                                                         \
            log_write(LOG_INFO, __VA_ARGS__);                                                      \
    } while (0)
#define log_debug(...)                                                                             \
    do {                                                                                           \
        if (log_current_level >= LOG_DEBUG)                                                        \
            log_write(LOG_DEBUG, __VA_ARGS__);                                                     \
    } while (0)

#endif
