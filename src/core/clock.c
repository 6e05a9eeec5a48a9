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

int64_t clock_now_s(void)
{
    return (int64_t)time(NULL);
}

int64_t clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
