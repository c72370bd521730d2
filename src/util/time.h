/*
 * time: the one way git-train reads and writes times and lengths of time.
 *
 * - ISO 8601 / RFC 3339 instants, as AWS and the notes write them. Written
 *   always as "2026-11-29T04:35:12Z" (UTC, whole seconds); read in any form
 *   AWS uses: a fraction of a second, "Z", "+02:00", "-0430", no zone (UTC),
 *   'T' or a space between date and time.
 * - Durations as the user types them ("90", "90s", "2m", "1h30m", "2d"),
 *   for --spot-timeout, --max-runtime and friends.
 * - Durations as the notes and tables show them ("12.3s", "4m05s",
 *   "1h02m03s"), which read back.
 * - Elapsed time on a clock face ("0:42", "12:05", "1:15:30"), for
 *   progress lines and waits.
 */
#ifndef UTIL_TIME_H
#define UTIL_TIME_H

#include <time.h>

#include "util/util.h"

/* "2026-11-29T04:35:12Z" plus the NUL. */
#define TIME_ISO8601_SIZE 21

/* What the four digits of a year can write: 0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z. */
#define TIME_ISO8601_MIN ((time_t)-62167219200LL)
#define TIME_ISO8601_MAX ((time_t)253402300799LL)

/*
 * 0 with *out, or -1 (nothing set) for anything that is not such a time,
 * or one outside TIME_ISO8601_MIN..MAX (so that every time read writes back).
 */
int time_parse_iso8601(time_t *out, const char *s);
/* Writes t as "2026-11-29T04:35:12Z" into out, year padded to four digits, clamped to 0000-9999. */
void time_format_iso8601(char out[TIME_ISO8601_SIZE], time_t t);

/* 0 with *out seconds (a bare number is seconds), or -1 with err_set naming s. */
int time_parse_duration(long *out, const char *s);

/* The longest length of time shown (31 million years): longer ones show as this. */
#define TIME_DURATION_MAX 1e15

/* "12.3s" under a minute, "4m05s", "1h02m03s"; a negative length shows as 0. */
void time_format_duration(struct buf *out, double seconds);
/* Reads back what time_format_duration() writes (and "90.5s"). 0, or -1. */
int time_parse_formatted_duration(double *out, const char *s);

/* "m:ss", "h:mm:ss" from an hour on; a negative length shows as 0:00 (a longer one than
 * TIME_DURATION_MAX as that). */
void time_format_elapsed(struct buf *out, double seconds);

#endif
