/*
 * Unit tests for chart: how values are scaled into bars and sparklines, in
 * both styles, including the edge cases a metric history has (one run, all
 * runs equal, negative values, NaN).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/chart.h"
#include "util/util.h"

#define FULL "\xe2\x96\x88"
#define HALF "\xe2\x96\x8c"

static char *bar(const double *v, size_t n, double x, size_t width, enum chart_style style)
{
	struct chart_scale s;
	struct buf b = BUF_INIT;

	chart_scale_init(&s, v, n);
	chart_bar(&b, &s, x, width, style);
	return buf_detach(&b);
}

static char *spark(const double *v, size_t n, enum chart_style style)
{
	struct chart_scale s;
	struct buf b = BUF_INIT;

	chart_scale_init(&s, v, n);
	chart_sparkline(&b, &s, v, n, style);
	return buf_detach(&b);
}

static void assert_bar(const double *v, size_t n, double x, size_t width, enum chart_style style,
		       const char *want)
{
	char *got = bar(v, n, x, width, style);

	assert_string_equal(got, want);
	free(got);
}

static void assert_spark(const double *v, size_t n, enum chart_style style, const char *want)
{
	char *got = spark(v, n, style);

	assert_string_equal(got, want);
	free(got);
}

static void test_ascii_bars_scale_from_min_to_max(void **state)
{
	const double v[] = { 0.5, 0.25, 1.0 };

	(void)state;
	assert_bar(v, 3, 1.0, 5, CHART_ASCII, "#####");
	assert_bar(v, 3, 0.25, 5, CHART_ASCII, "#    ");
	/* a third of the way: 1 + 4/3 columns, rounded */
	assert_bar(v, 3, 0.5, 5, CHART_ASCII, "##   ");
}

static void test_unicode_bars_use_eighths(void **state)
{
	const double v[] = { 0, 1 };

	(void)state;
	assert_bar(v, 2, 1, 3, CHART_UNICODE, FULL FULL FULL);
	assert_bar(v, 2, 0, 3, CHART_UNICODE, FULL "  ");
	/* halfway: 1 + 1 column, exactly */
	assert_bar(v, 2, 0.5, 3, CHART_UNICODE, FULL FULL " ");
	assert_bar(v, 2, 0.25, 3, CHART_UNICODE, FULL HALF " ");
}

static void test_negative_values(void **state)
{
	const double v[] = { -3, -1, 1 };

	(void)state;
	assert_bar(v, 3, -3, 5, CHART_ASCII, "#    ");
	assert_bar(v, 3, -1, 5, CHART_ASCII, "###  ");
	assert_bar(v, 3, 1, 5, CHART_ASCII, "#####");
	assert_spark(v, 3, CHART_ASCII, "_~#");
}

static void test_all_equal_and_one_value(void **state)
{
	const double same[] = { 2, 2, 2 }, one[] = { -7.5 };

	(void)state;
	assert_bar(same, 3, 2, 4, CHART_ASCII, "####");
	assert_spark(same, 3, CHART_ASCII, "---");
	assert_spark(same, 3, CHART_UNICODE, "\xe2\x96\x84\xe2\x96\x84\xe2\x96\x84");
	assert_bar(one, 1, -7.5, 4, CHART_UNICODE, FULL FULL FULL FULL);
	assert_spark(one, 1, CHART_ASCII, "-");
}

static void test_sparkline_levels(void **state)
{
	const double v[] = { 0, 1, 2, 3, 4, 5, 6, 7 };

	(void)state;
	assert_spark(v, 8, CHART_ASCII, "_.,-~=*#");
	assert_spark(v, 8, CHART_UNICODE,
		     "\xe2\x96\x81\xe2\x96\x82\xe2\x96\x83\xe2\x96\x84"
		     "\xe2\x96\x85\xe2\x96\x86\xe2\x96\x87\xe2\x96\x88");
}

static void test_nan_is_left_out(void **state)
{
	const double v[] = { NAN, 1, 3, INFINITY };
	const double none[] = { NAN };
	struct chart_scale s;
	char *got;

	(void)state;
	chart_scale_init(&s, v, 4);
	assert_true(s.valid);
	assert_true(s.min == 1 && s.max == 3);
	assert_bar(v, 4, NAN, 3, CHART_ASCII, "   ");
	assert_bar(v, 4, 3, 3, CHART_ASCII, "###");
	assert_spark(v, 4, CHART_ASCII, " _# ");
	chart_scale_init(&s, none, 1);
	assert_false(s.valid);
	assert_bar(none, 1, NAN, 2, CHART_UNICODE, "  ");
	got = spark(none, 1, CHART_UNICODE);
	assert_null(strstr(got, "nan"));
	free(got);
}

static void test_huge_span_and_zero_width(void **state)
{
	const double v[] = { -1e308, 1e308 };

	(void)state;
	assert_bar(v, 2, 1e308, 4, CHART_ASCII, "####");
	assert_bar(v, 2, 0, 5, CHART_ASCII, "###  ");
	assert_bar(v, 2, 0, 0, CHART_ASCII, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii_bars_scale_from_min_to_max),
		cmocka_unit_test(test_unicode_bars_use_eighths),
		cmocka_unit_test(test_negative_values),
		cmocka_unit_test(test_all_equal_and_one_value),
		cmocka_unit_test(test_sparkline_levels),
		cmocka_unit_test(test_nan_is_left_out),
		cmocka_unit_test(test_huge_span_and_zero_width),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
