/*
 * clock.h - wall-clock time as SCIM writes it (RFC 3339 UTC, milliseconds).
 * Thread-safe.
 */
#ifndef SCIMD_CORE_CLOCK_H
#define SCIMD_CORE_CLOCK_H

#include <stdint.h>

#define CLOCK_ISO_LEN 32 /* "2026-11-25T04:41:25.123Z" + NUL, with room */

/* Write the current time as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out. */
void clock_now_iso(char out[CLOCK_ISO_LEN]);
/* Seconds since the epoch. */
int64_t clock_now_s(void);
/* Monotonic milliseconds, for durations. */
int64_t clock_mono_ms(void);

#endif
