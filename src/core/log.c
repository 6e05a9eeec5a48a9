/*
 * log.c - stderr logger with a UTC timestamp and level per line.
 */
#include <stdarg.h>
#include <stdio.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"

enum log_level log_current_level = LOG_INFO;
_Thread_local const char *log_request_id;

static const char *const names[] = { "error", "warn", "info", "debug" };

int log_level_parse(const char *name, enum log_level *out)
{
    for (int i = 0; i <= LOG_DEBUG; i++) {
        if (str_ieq(name, names[i])) {
            *out = (enum log_level)i;
            return 1;
        }
    }
    return 0;
}

void log_write(enum log_level level, const char *fmt, ...)
{
    char line[1024];
    char now[CLOCK_ISO_LEN];
    clock_now_iso(now);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (log_request_id != NULL)
        fprintf(stderr, "%s %s req=%s %s\n", now, names[level], log_request_id, line);
    else
        fprintf(stderr, "%s %s %s\n", now, names[level], line);
}
