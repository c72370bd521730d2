/*
 * Unit tests for time: the durations --spot-timeout, --max-runtime and
 * their train.* keys accept and refuse; the durations and instants the
 * notes write and read back; the elapsed-time clock of progress lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <string.h>

#include "util/time.h"
#include "util/util.h"

static long parsed(const char *s)
{
	long v = -1;

	assert_int_equal(time_parse_duration(&v, s), 0);
	return v;
}

static void assert_refused(const char *s, const char *why)
{
	long v = 12345;

	err_clear();
	assert_int_equal(time_parse_duration(&v, s), -1);
	assert_int_equal(v, 12345);
	assert_non_null(strstr(err_msg(), "invalid duration '"));
	assert_non_null(strstr(err_msg(), why));
	err_clear();
}

static void test_bare_numbers_are_seconds(void **state)
{
	(void)state;
	assert_int_equal(parsed("0"), 0);
	assert_int_equal(parsed("90"), 90);
	assert_int_equal(parsed("007"), 7);
}

static void test_units(void **state)
{
	(void)state;
	assert_int_equal(parsed("90s"), 90);
	assert_int_equal(parsed("2m"), 120);
	assert_int_equal(parsed("8h"), 8 * 3600);
	assert_int_equal(parsed("2d"), 2 * 86400);
	assert_int_equal(parsed("1h30m"), 5400);
	assert_int_equal(parsed("1d2h3m4s"), 86400 + 7200 + 180 + 4);
	/* what time_format_duration() prints reads back */
	assert_int_equal(parsed("1h02m03s"), 3723);
	assert_int_equal(parsed("4m05s"), 245);
}

static void test_refused(void **state)
{
	(void)state;
	assert_refused("", "empty");
	assert_refused("-5", "negative");
	assert_refused("-5m", "negative");
	assert_refused("m", "expected a number");
	assert_refused("5x", "unknown unit");
	assert_refused("5 m", "unknown unit");
	assert_refused("1.5h", "unknown unit");
	assert_refused("30m1h", "days down to seconds");
	assert_refused("1m1m", "days down to seconds");
	assert_refused("1h30", "no unit");
	assert_refused("5m ", "expected a number");
}

static void test_the_message_names_the_value_and_the_forms(void **state)
{
	long v;

	(void)state;
	err_clear();
	assert_int_equal(time_parse_duration(&v, "soon"), -1);
	assert_string_equal(err_msg(), "invalid duration 'soon': expected a number");
	err_clear();
}

static void test_overflow(void **state)
{
	char big[64];

	(void)state;
	snprintf(big, sizeof(big), "%ld", LONG_MAX);
	assert_int_equal(parsed(big), LONG_MAX);
	assert_refused("99999999999999999999", "too long");
	snprintf(big, sizeof(big), "%ldd", LONG_MAX / 86400 + 1);
	assert_refused(big, "too long");
	snprintf(big, sizeof(big), "%ldd1s", LONG_MAX / 86400);
	assert_int_equal(parsed(big), LONG_MAX / 86400 * 86400 + 1);
}

static void test_iso8601_parse(void **state)
{
	time_t t;

	(void)state;
	assert_int_equal(time_parse_iso8601(&t, "1970-01-01T00:00:00Z"), 0);
	assert_int_equal(t, 0);
	assert_int_equal(time_parse_iso8601(&t, "2024-05-01T12:00:00Z"), 0);
	assert_int_equal(t, 1714564800);
	assert_int_equal(time_parse_iso8601(&t, "2024-05-01T12:00:00.123456Z"), 0);
	assert_int_equal(t, 1714564800);
	assert_int_equal(time_parse_iso8601(&t, "2024-05-01T14:00:00+02:00"), 0);
	assert_int_equal(t, 1714564800);
	assert_int_equal(time_parse_iso8601(&t, "2024-05-01T07:30:00-0430"), 0);
	assert_int_equal(t, 1714564800);
	assert_int_equal(time_parse_iso8601(&t, "2024-05-01 12:00:00"), 0);
	assert_int_equal(t, 1714564800);
	assert_int_equal(time_parse_iso8601(&t, "2024-05-01"), -1);
	assert_int_equal(time_parse_iso8601(&t, "2024-13-01T00:00:00Z"), -1);
	assert_int_equal(time_parse_iso8601(&t, "2024-05-01T12:00:00Zjunk"), -1);
	assert_int_equal(time_parse_iso8601(&t, "tomorrow"), -1);
}

/* Four digits of year always, so that every time written reads back. */
static void test_iso8601_format_pads_and_clamps(void **state)
{
	char out[TIME_ISO8601_SIZE];
	time_t t;

	(void)state;
	assert_int_equal(time_parse_iso8601(&t, "0999-06-01T12:00:00Z"), 0);
	time_format_iso8601(out, t);
	assert_string_equal(out, "0999-06-01T12:00:00Z");
	assert_int_equal(time_parse_iso8601(&t, "0000-01-01T00:00:00Z"), 0);
	assert_int_equal(t, TIME_ISO8601_MIN);
	time_format_iso8601(out, t);
	assert_string_equal(out, "0000-01-01T00:00:00Z");
	time_format_iso8601(out, -1);
	assert_string_equal(out, "1969-12-31T23:59:59Z");
	assert_int_equal(time_parse_iso8601(&t, out), 0);
	assert_int_equal(t, -1);
	time_format_iso8601(out, TIME_ISO8601_MIN - 1);
	assert_string_equal(out, "0000-01-01T00:00:00Z");
	time_format_iso8601(out, TIME_ISO8601_MAX + 1);
	assert_string_equal(out, "9999-12-31T23:59:59Z");
	/* a zone that moves the instant out of 0000-9999 */
	assert_int_equal(time_parse_iso8601(&t, "0000-01-01T00:00:00+00:01"), -1);
	assert_int_equal(time_parse_iso8601(&t, "9999-12-31T23:59:59-00:01"), -1);
}

/* As AWS writes times in run.json, result documents and API answers. */
static void test_iso8601_as_aws_writes_it(void **state)
{
	time_t t = 0;

	(void)state;
	assert_int_equal(time_parse_iso8601(&t, "2026-11-29T08:00:00Z"), 0);
	assert_int_equal(t, 1795939200);
	assert_int_equal(time_parse_iso8601(&t, "2026-11-29T08:00:01.000Z"), 0);
	assert_int_equal(t, 1795939201);
	assert_int_equal(time_parse_iso8601(&t, "2026-11-29T08:00:02+00:00"), 0);
	assert_int_equal(t, 1795939202);
	assert_int_equal(time_parse_iso8601(&t, "2026-11-29 08:00:00"), 0);
	assert_int_equal(t, 1795939200);
	assert_int_equal(time_parse_iso8601(&t, "2026-11-29T08:00:00+02:00"), 0);
	assert_int_equal(t, 1795939200 - 7200);
	assert_int_equal(time_parse_iso8601(&t, "2026-13-29T08:00:00Z"), -1);
	assert_int_equal(time_parse_iso8601(&t, ""), -1);
	assert_int_equal(time_parse_iso8601(&t, NULL), -1);
}

static void test_iso8601_format(void **state)
{
	char when[TIME_ISO8601_SIZE];
	time_t t;

	(void)state;
	time_format_iso8601(when, 0);
	assert_string_equal(when, "1970-01-01T00:00:00Z");
	time_format_iso8601(when, 1714564800);
	assert_string_equal(when, "2024-05-01T12:00:00Z");
	assert_int_equal(time_parse_iso8601(&t, when), 0);
	assert_int_equal(t, 1714564800);
}

static void assert_duration(double seconds, const char *want)
{
	struct buf b = BUF_INIT;

	time_format_duration(&b, seconds);
	assert_string_equal(buf_cstr(&b), want);
	buf_release(&b);
}

static void test_format_duration(void **state)
{
	(void)state;
	assert_duration(0, "0.0s");
	assert_duration(12.34, "12.3s");
	assert_duration(59.94, "59.9s");
	assert_duration(59.96, "1m00s");
	assert_duration(245, "4m05s");
	assert_duration(3599.6, "1h00m00s");
	assert_duration(3723, "1h02m03s");
	assert_duration(100 * 3600 + 1, "100h00m01s");
	/* found by fuzzing: a note's duration=1e300s went into a long */
	assert_duration(1e300, "277777777777h46m40s");
	assert_duration(1.0 / 0.0, "277777777777h46m40s");
}

static void test_formatted_duration_reads_back(void **state)
{
	static const double lengths[] = { 0, 12.3, 59.9, 60, 245, 3600, 3723, 360001 };
	struct buf b = BUF_INIT;
	double back;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(lengths); i++) {
		buf_reset(&b);
		time_format_duration(&b, lengths[i]);
		assert_int_equal(time_parse_formatted_duration(&back, buf_cstr(&b)), 0);
		assert_true(back > lengths[i] - 0.051 && back < lengths[i] + 0.051);
	}
	assert_int_equal(time_parse_formatted_duration(&back, "90.5s"), 0);
	assert_true(back == 90.5);
	assert_int_equal(time_parse_formatted_duration(&back, ""), -1);
	assert_int_equal(time_parse_formatted_duration(&back, "-1s"), -1);
	assert_int_equal(time_parse_formatted_duration(&back, "1x"), -1);
	assert_int_equal(time_parse_formatted_duration(&back, " 1s"), -1);
	buf_release(&b);
}

static void assert_elapsed(double seconds, const char *want)
{
	struct buf b = BUF_INIT;

	time_format_elapsed(&b, seconds);
	assert_string_equal(buf_cstr(&b), want);
	buf_release(&b);
}

/* One clock for progress lines and waits, the same past an hour. */
static void test_elapsed(void **state)
{
	(void)state;
	assert_elapsed(-3, "0:00");
	assert_elapsed(0, "0:00");
	assert_elapsed(42.9, "0:42");
	assert_elapsed(725, "12:05");
	assert_elapsed(3599, "59:59");
	assert_elapsed(3600, "1:00:00");
	assert_elapsed(4530, "1:15:30");
	assert_elapsed(1e300, "277777777777:46:40");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bare_numbers_are_seconds),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_the_message_names_the_value_and_the_forms),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_iso8601_parse),
		cmocka_unit_test(test_iso8601_format_pads_and_clamps),
		cmocka_unit_test(test_iso8601_as_aws_writes_it),
		cmocka_unit_test(test_iso8601_format),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_formatted_duration_reads_back),
		cmocka_unit_test(test_elapsed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
