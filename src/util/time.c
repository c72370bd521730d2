#include "util/time.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest first: "1h30m" reads as it is written, and "30m1h" is a typo worth reporting. */
static const struct {
	char unit;
	long seconds;
} units[] = {
	{ 'd', 86400 },
	{ 'h', 3600 },
	{ 'm', 60 },
	{ 's', 1 },
};

static int invalid(const char *s, const char *why)
{
	err_set("invalid duration '%s': %s", s, why);
	err_hint("a duration is a number of seconds, or units d, h, m, s: 90s, 2m, 1h30m, 2d");
	return -1;
}

/* Adds n units of size to *total without overflowing a long. */
static int add(long *total, long n, long size)
{
	if (n > (LONG_MAX - *total) / size)
		return -1;
	*total += n * size;
	return 0;
}

int time_parse_duration(long *out, const char *s)
{
	const char *p = s;
	size_t next_unit = 0, i;
	long total = 0;

	if (!*p)
		return invalid(s, "it is empty");
	while (*p) {
		long n = 0;

		if (!isdigit((unsigned char)*p))
			return invalid(s, *p == '-' ? "it is negative" : "expected a number");
		while (isdigit((unsigned char)*p)) {
			int d = *p++ - '0';

			if (n > (LONG_MAX - d) / 10)
				return invalid(s, "it is too long");
			n = n * 10 + d;
		}
		if (!*p) {
			if (next_unit)
				return invalid(s, "its last number has no unit");
			total = n; /* a bare number: seconds */
			break;
		}
		for (i = next_unit; i < ARRAY_SIZE(units); i++)
			if (*p == units[i].unit)
				break;
		if (i == ARRAY_SIZE(units))
			return invalid(s, strchr("dhms", *p)
						  ? "units go from days down to seconds, each once"
						  : "unknown unit");
		if (add(&total, n, units[i].seconds))
			return invalid(s, "it is too long");
		next_unit = i + 1;
		p++;
	}
	*out = total;
	return 0;
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;

	while (n--) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (*(*p)++ - '0');
	}
	*out = v;
	return 0;
}

static int expect(const char **p, const char *chars)
{
	if (!**p || !strchr(chars, **p))
		return -1;
	(*p)++;
	return 0;
}

static int parse_offset(const char **p, long *out)
{
	int sign, h, m = 0;

	if (**p == 'Z' || **p == 'z') {
		(*p)++;
		*out = 0;
		return 0;
	}
	if (!**p) {
		*out = 0; /* no zone: AWS means UTC */
		return 0;
	}
	if (**p != '+' && **p != '-')
		return -1;
	sign = *(*p)++ == '-' ? -1 : 1;
	if (digits(p, 2, &h))
		return -1;
	if (**p == ':')
		(*p)++;
	if (**p && digits(p, 2, &m))
		return -1;
	if (h > 23 || m > 59)
		return -1;
	*out = sign * (h * 3600L + m * 60L);
	return 0;
}

int time_parse_iso8601(time_t *out, const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, se;
	long offset;
	time_t t;

	if (!s)
		return -1;
	if (digits(&s, 4, &y) || expect(&s, "-") || digits(&s, 2, &mo) || expect(&s, "-") ||
	    digits(&s, 2, &d) || expect(&s, "Tt ") || digits(&s, 2, &h) || expect(&s, ":") ||
	    digits(&s, 2, &mi) || expect(&s, ":") || digits(&s, 2, &se))
		return -1;
	if (*s == '.' || *s == ',') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (parse_offset(&s, &offset) || *s)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	if (t == (time_t)-1 &&
	    (y != 1969 || mo != 12 || d != 31 || h != 23 || mi != 59 || se != 59))
		return -1; /* (one second before the epoch is -1 too) */
	t -= offset;
	/* an offset can push year 0000 or 9999 out of what is written back */
	if (t < TIME_ISO8601_MIN || t > TIME_ISO8601_MAX)
		return -1;
	*out = t;
	return 0;
}

void time_format_iso8601(char out[TIME_ISO8601_SIZE], time_t t)
{
	char tmp[64];
	struct tm tm;

	/*
	 * Always four digits of year (strftime's %Y writes 999 for the year
	 * 999, which no longer reads back): a time outside 0000-9999 is clamped.
	 */
	if (t < TIME_ISO8601_MIN)
		t = TIME_ISO8601_MIN;
	if (t > TIME_ISO8601_MAX)
		t = TIME_ISO8601_MAX;
	gmtime_r(&t, &tm);
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	memcpy(out, tmp, TIME_ISO8601_SIZE - 1);
	out[TIME_ISO8601_SIZE - 1] = '\0';
}

void time_format_duration(struct buf *out, double seconds)
{
	long s;

	if (seconds < 0)
		seconds = 0;
	if (!(seconds <
	      TIME_DURATION_MAX)) /* (found by fuzzing: 1e300 s from a note into a long) */
		seconds = TIME_DURATION_MAX;
	if (seconds < 59.95) {
		buf_printf(out, "%.1fs", seconds);
		return;
	}
	s = (long)(seconds + 0.5);
	if (s >= 3600)
		buf_printf(out, "%ldh%02ldm%02lds", s / 3600, s / 60 % 60, s % 60);
	else
		buf_printf(out, "%ldm%02lds", s / 60, s % 60);
}

int time_parse_formatted_duration(double *out, const char *s)
{
	double total = 0, v;
	char *end;

	if (!*s || isspace((unsigned char)*s))
		return -1;
	v = strtod(s, &end);
	if (end != s && !strcmp(end, "s"))
		return v >= 0 ? (*out = v, 0) : -1;
	while (*s) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = strtod(s, &end);
		if (*end == 'h')
			total += v * 3600;
		else if (*end == 'm')
			total += v * 60;
		else if (*end == 's' && !end[1])
			total += v;
		else
			return -1;
		s = end + 1;
	}
	*out = total;
	return 0;
}

void time_format_elapsed(struct buf *out, double seconds)
{
	long s =
		seconds > 0 ? (long)(seconds < TIME_DURATION_MAX ? seconds : TIME_DURATION_MAX) : 0;

	if (s >= 3600)
		buf_printf(out, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
	else
		buf_printf(out, "%ld:%02ld", s / 60, s % 60);
}
