#include "util/duration.h"

#include <ctype.h>
#include <limits.h>
#include <string.h>

#include "util/util.h"

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

int parse_duration(long *out, const char *s)
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
