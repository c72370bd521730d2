/*
 * Unit tests for duration: what --spot-timeout, --max-runtime and their
 * train.* keys accept, and what they refuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <string.h>

#include "util/duration.h"
#include "util/util.h"

static long parsed(const char *s)
{
	long v = -1;

	assert_int_equal(parse_duration(&v, s), 0);
	return v;
}

static void assert_refused(const char *s, const char *why)
{
	long v = 12345;

	err_clear();
	assert_int_equal(parse_duration(&v, s), -1);
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
	/* what format_duration() prints reads back */
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
	assert_int_equal(parse_duration(&v, "soon"), -1);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bare_numbers_are_seconds),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_the_message_names_the_value_and_the_forms),
		cmocka_unit_test(test_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
