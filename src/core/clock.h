/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clock.h - wall-clock time as SCIM writes it (RFC 3339 UTC, milliseconds).
 * Thread-safe.
 */
#ifndef SCIMD_CORE_CLOCK_H
#define SCIMD_CORE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define CLOCK_ISO_LEN 32 /* "2026-11-25T04:41:25.123Z" + NUL, with room */

/* Write the current time as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out. */
void clock_now_iso(char out[CLOCK_ISO_LEN]);
/* Parse "YYYY-MM-DDTHH:MM:SS[.fff]Z" into milliseconds since the epoch. */
bool clock_parse_iso(const char *s, int64_t *epoch_ms);
/* Seconds from earlier to later (both as clock_now_iso writes them); a very
 * large number when either does not parse. */
int64_t clock_iso_diff_s(const char *earlier, const char *later);
/* Write epoch_ms as clock_now_iso does. */
void clock_iso_from_ms(int64_t epoch_ms, char out[CLOCK_ISO_LEN]);
/* Parse a duration "90d", "24h", "30m" or "15s" (a whole number and one unit)
 * into seconds, at most CLOCK_DURATION_MAX_S; false on anything else. */
#define CLOCK_DURATION_MAX_S (100LL * 366 * 86400)
bool clock_duration_parse(const char *text, int64_t *seconds);
/* Seconds since the epoch. */
int64_t clock_now_s(void);
/* Monotonic milliseconds, for durations. */
int64_t clock_mono_ms(void);
/* Wall-clock milliseconds since the epoch (CLOCK_REALTIME). */
int64_t clock_now_ms(void);
/* The instant ms from now on clock id (a negative ms: now). */
struct timespec clock_after_ms(clockid_t id, int64_t ms);
/* The CLOCK_REALTIME instant ms from now: a pthread_cond_timedwait deadline
 * (for a condition variable on the default clock). */
struct timespec clock_deadline_in_ms(int64_t ms);

#endif
