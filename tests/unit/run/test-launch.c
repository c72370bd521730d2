/*
 * Unit tests for launch's pure parts: the user data watchdog, the
 * ClientTokens, the spot wait line and its schedule, the fallback texts
 * with their price ratio, and which quota a type counts against.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "run/launch-internal.h"
#include "util/time.h"
#include "util/util.h"

static void user_data_is_only_the_watchdog(void **state)
{
	char *ud = launch_user_data(3600, 0);
	const char *line, *nl;
	int commands = 0;

	(void)state;
	assert_true(!strncmp(ud, "#!/bin/sh\n", 10));
	for (line = ud; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		assert_non_null(nl); /* every line ends: nothing half-written */
		if (*line == '#')
			continue;
		assert_true(!strncmp(line, "shutdown -h +60\n", 16));
		commands++;
	}
	assert_int_equal(commands, 1);
	free(ud);
}

static void user_data_rounds_minutes_up(void **state)
{
	static const struct {
		long seconds;
		const char *want;
	} cases[] = {
		{ 3601, "shutdown -h +61\n" },	   { 60, "shutdown -h +1\n" },
		{ 59, "shutdown -h +1\n" },	   { 1, "shutdown -h +1\n" },
		{ 0, "shutdown -h +1\n" },	   { -5, "shutdown -h +1\n" },
		{ 172800, "shutdown -h +2880\n" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *ud = launch_user_data(cases[i].seconds, 0);

		assert_non_null(strstr(ud, cases[i].want));
		free(ud);
	}
}

/* The first stage is the idle timeout, unless the max runtime is shorter. */
static void user_data_schedules_the_idle_timeout(void **state)
{
	static const struct {
		long max_runtime, idle;
		const char *want;
	} cases[] = {
		{ 28800, 900, "\nshutdown -h +15\n" }, { 28800, 901, "\nshutdown -h +16\n" },
		{ 28800, 2, "\nshutdown -h +1\n" },    { 600, 900, "\nshutdown -h +10\n" },
		{ 3600, 0, "\nshutdown -h +60\n" },    { 3600, 3600, "\nshutdown -h +60\n" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *ud = launch_user_data(cases[i].max_runtime, cases[i].idle);

		assert_non_null(strstr(ud, cases[i].want));
		assert_null(strstr(strstr(ud, cases[i].want) + strlen(cases[i].want), "shutdown"));
		free(ud);
	}
}

static void client_tokens_name_run_market_and_attempt(void **state)
{
	char *t;

	(void)state;
	t = launch_client_token("20261129-043512-a1b2c3d-4f2a", 1, 1);
	assert_string_equal(t, "20261129-043512-a1b2c3d-4f2a-s1");
	free(t);
	t = launch_client_token("20261129-043512-a1b2c3d-4f2a", 0, 12);
	assert_string_equal(t, "20261129-043512-a1b2c3d-4f2a-o12");
	free(t);
}

static void client_tokens_stay_short_and_ascii(void **state)
{
	char run[200];
	char *a, *b;
	size_t i;

	(void)state;
	memset(run, 'x', sizeof(run) - 6);
	memcpy(run + sizeof(run) - 6, "-tail", 6);
	a = launch_client_token(run, 1, 123);
	b = launch_client_token(run, 1, 124);
	assert_true(strlen(a) <= LAUNCH_TOKEN_MAX);
	assert_string_not_equal(a, b); /* the attempt survives the cut */
	assert_non_null(strstr(a, "-tail-s123"));
	free(a);
	free(b);

	a = launch_client_token("r\xc3\xa9 un\n", 0, 1);
	for (i = 0; a[i]; i++)
		assert_true(a[i] > ' ' && a[i] < 0x7f);
	assert_string_equal(a, "r___un_-o1");
	free(a);
}

static void spot_wait_text_is_exact(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	launch_spot_wait_text(&b, "g5.xlarge", "us-east-1", 3, 40, 120, 10);
	assert_string_equal(b.ptr, "waiting for spot capacity: g5.xlarge in us-east-1 "
				   "(attempt 3, 0:40 of 2:00, next try in 10s)");
	buf_reset(&b);
	time_format_elapsed(&b, 4530);
	assert_string_equal(b.ptr, "1:15:30"); /* one clock past an hour (util/time.h) */
	buf_reset(&b);
	time_format_elapsed(&b, 5);
	assert_string_equal(b.ptr, "0:05");
	buf_release(&b);
}

static void spot_delay_backs_off_within_the_time_left(void **state)
{
	(void)state;
	assert_int_equal(launch_spot_delay(1, 600), 5);
	assert_int_equal(launch_spot_delay(2, 600), 10);
	assert_int_equal(launch_spot_delay(3, 600), 15);
	assert_int_equal(launch_spot_delay(40, 600), 15);
	assert_int_equal(launch_spot_delay(3, 4), 4);
	assert_int_equal(launch_spot_delay(1, 0), 0);
	assert_int_equal(launch_spot_delay(1, -3), 0);
}

static void fallback_text_shows_both_prices_and_ratio(void **state)
{
	struct pricing_quote q = { 0.302, NULL, 1.006 };
	struct buf b = BUF_INIT;
	char ratio[16];

	(void)state;
	launch_fallback_text(&b, "g5.xlarge", &q);
	assert_string_equal(b.ptr, "spot capacity unavailable: on-demand g5.xlarge is $1.006/h, "
				   "spot was $0.302/h (3.3x)");
	buf_reset(&b);
	launch_on_demand_text(&b, "g5.xlarge", &q);
	assert_string_equal(b.ptr,
			    "launching ON-DEMAND g5.xlarge at $1.006/h (3.3x the spot price)");
	assert_int_equal(launch_price_ratio(ratio, sizeof(ratio), &q), 1);
	assert_string_equal(ratio, "3.3x");
	q.spot = 0.0031;
	q.on_demand = 0.0104;
	assert_int_equal(launch_price_ratio(ratio, sizeof(ratio), &q), 1);
	assert_string_equal(ratio, "3.4x");
	buf_release(&b);
}

static void fallback_text_says_unknown_without_a_ratio(void **state)
{
	struct pricing_quote q = { -1, NULL, 1.006 };
	struct buf b = BUF_INIT;
	char ratio[16];

	(void)state;
	launch_fallback_text(&b, "g5.xlarge", &q);
	assert_string_equal(b.ptr, "spot capacity unavailable: on-demand g5.xlarge is $1.006/h, "
				   "spot was unknown");
	buf_reset(&b);
	launch_on_demand_text(&b, "g5.xlarge", &q);
	assert_string_equal(b.ptr, "launching ON-DEMAND g5.xlarge at $1.006/h");
	assert_int_equal(launch_price_ratio(ratio, sizeof(ratio), &q), 0);
	assert_string_equal(ratio, "");

	q.spot = 0.302;
	q.on_demand = -1;
	buf_reset(&b);
	launch_fallback_text(&b, "g5.xlarge", &q);
	assert_string_equal(b.ptr, "spot capacity unavailable: on-demand g5.xlarge is unknown, "
				   "spot was $0.302/h");
	buf_reset(&b);
	launch_on_demand_text(&b, "g5.xlarge", NULL);
	assert_string_equal(b.ptr, "launching ON-DEMAND g5.xlarge at an unknown price");
	buf_release(&b);
}

static void quotas_by_family_and_market(void **state)
{
	const char *code;

	(void)state;
	assert_string_equal(launch_quota_name(&code, "t3.micro", 1),
			    "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests");
	assert_string_equal(code, "L-34B43A08");
	assert_string_equal(launch_quota_name(&code, "m7i.large", 0),
			    "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances");
	assert_string_equal(code, "L-1216C47A");
	assert_string_equal(launch_quota_name(&code, "g5.xlarge", 1),
			    "All G and VT Spot Instance Requests");
	assert_string_equal(code, "L-3819A6DF");
	assert_string_equal(launch_quota_name(&code, "g4dn.xlarge", 0),
			    "Running On-Demand G and VT instances");
	assert_string_equal(code, "L-DB2E81BA");
	assert_string_equal(launch_quota_name(&code, "p4d.24xlarge", 1),
			    "All P Spot Instance Requests");
	assert_string_equal(code, "L-7212CCBC");
	assert_string_equal(launch_quota_name(&code, "inf2.xlarge", 0),
			    "Running On-Demand Inf instances");
	assert_null(code);
	/* an I is standard; Inf is not */
	assert_string_equal(launch_quota_name(&code, "i4i.large", 1),
			    "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests");
	assert_string_equal(launch_quota_name(&code, "c7g.medium", 1),
			    "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(user_data_is_only_the_watchdog),
		cmocka_unit_test(user_data_rounds_minutes_up),
		cmocka_unit_test(user_data_schedules_the_idle_timeout),
		cmocka_unit_test(client_tokens_name_run_market_and_attempt),
		cmocka_unit_test(client_tokens_stay_short_and_ascii),
		cmocka_unit_test(spot_wait_text_is_exact),
		cmocka_unit_test(spot_delay_backs_off_within_the_time_left),
		cmocka_unit_test(fallback_text_shows_both_prices_and_ratio),
		cmocka_unit_test(fallback_text_says_unknown_without_a_ratio),
		cmocka_unit_test(quotas_by_family_and_market),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
