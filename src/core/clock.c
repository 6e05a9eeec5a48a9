/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clock.c - timestamps.
 */
#include <stdio.h>
#include <time.h>

#include "core/clock.h"

void clock_now_iso(char out[CLOCK_ISO_LEN])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, CLOCK_ISO_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, CLOCK_ISO_LEN - n, ".%03dZ", (int)(ts.tv_nsec / 1000000) % 1000);
}

void clock_iso_from_ms(int64_t epoch_ms, char out[CLOCK_ISO_LEN])
{
    time_t secs = (time_t)(epoch_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, CLOCK_ISO_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, CLOCK_ISO_LEN - n, ".%03dZ", (int)(epoch_ms % 1000));
}

bool clock_duration_parse(const char *text, int64_t *seconds)
{
    static const struct {
        char unit;
        int64_t seconds;
    } units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
    if (text == NULL || text[0] < '0' || text[0] > '9')
        return false;
    int64_t n = 0;
    const char *p = text;
    for (; *p >= '0' && *p <= '9'; p++) {
        n = n * 10 + (*p - '0');
        if (n > CLOCK_DURATION_MAX_S)
            return false;
    }
    if (p[0] == '\0' || p[1] != '\0')
        return false;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (units[i].unit == *p) {
            if (n > CLOCK_DURATION_MAX_S / units[i].seconds)
                return false;
            *seconds = n * units[i].seconds;
            return true;
        }
    }
    return false;
}

int64_t clock_now_s(void)
{
    /* Not time(NULL): glibc reads the coarse clock there, up to a tick behind
     * CLOCK_REALTIME, so near a second boundary it disagreed with the
     * millisecond clocks of ISO times and of peers (a Retry-After date 120 s
     * ahead measured as 121 s). */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

int64_t clock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct timespec clock_deadline_in_ms(int64_t ms)
{
    return clock_after_ms(CLOCK_REALTIME, ms);
}

struct timespec clock_after_ms(clockid_t id, int64_t ms)
{
    struct timespec t;
    clock_gettime(id, &t);
    if (ms < 0)
        ms = 0;
    t.tv_sec += (time_t)(ms / 1000);
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

int64_t clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool clock_parse_iso(const char *s, int64_t *epoch_ms)
{
    struct tm tm = { 0 };
    int ms = 0, consumed = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &consumed) != 6)
        return false;
    const char *p = s + consumed;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
            if (digits < 3)
                ms = ms * 10 + (*p - '0');
        }
        for (; digits < 3 && digits > 0; digits++)
            ms *= 10;
    }
    if (*p != 'Z' || p[1] != '\0')
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *epoch_ms = (int64_t)timegm(&tm) * 1000 + ms;
    return true;
}

int64_t clock_iso_diff_s(const char *earlier, const char *later)
{
    int64_t a, b;
    if (!clock_parse_iso(earlier, &a) || !clock_parse_iso(later, &b))
        return INT64_MAX;
    return (b - a) / 1000;
}
