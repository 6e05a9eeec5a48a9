/*
 * clock.h - wall-clock time as SCIM writes it (RFC 3339 UTC, milliseconds).
 * Thread-safe.
 */
#ifndef SCIMD_CORE_CLOCK_H
#define SCIMD_CORE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define CLOCK_ISO_LEN 32 /* "2026-11-25T04:41:25.123Z" + NUL, with room */

/* Write the current time as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out. */
void clock_now_iso(char out[CLOCK_ISO_LEN]);
/* Parse "YYYY-MM-DDTHH:MM:SS[.fff]Z" into milliseconds since the epoch. */
bool clock_parse_iso(const char *s, int64_t *epoch_ms);
/* Seconds from earlier to later (both as clock_now_iso writes them); a very
 * large number when either does not parse. */
int64_t clock_iso_diff_s(const char *earlier, const char *later);
/* Seconds since the epoch. */
int64_t clock_now_s(void);
/* Monotonic milliseconds, for durations. */
int64_t clock_mono_ms(void);

#endif
