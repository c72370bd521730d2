/*
 * duration: "90", "90s", "2m", "1h30m", "2d" as seconds, for --spot-timeout,
 * --max-runtime and friends (format_duration() in run-record.h is the
 * other direction).
 */
#ifndef UTIL_DURATION_H
#define UTIL_DURATION_H

/* 0 with *out seconds (a bare number is seconds), or -1 with err_set naming s. */
int parse_duration(long *out, const char *s);

#endif
