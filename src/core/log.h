/*
 * log.h - one-line log entries on stderr.
 *
 * Levels are checked before formatting.  Entries never carry tokens,
 * passwords or attribute values: callers log ids and statuses only.
 * Thread-safe (one fprintf per entry; stdio locks the stream).
 */
#ifndef SCIMD_CORE_LOG_H
#define SCIMD_CORE_LOG_H

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_current_level;
/* The request the calling thread works on ("req=<id>" in its entries), or NULL. */
extern _Thread_local const char *log_request_id;

/* Parse "error", "warn", "info", "debug"; false if unknown. */
int log_level_parse(const char *name, enum log_level *out);
void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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
