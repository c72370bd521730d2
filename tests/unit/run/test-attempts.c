/*
 * Unit tests for attempts: train.retryOnExit values (separators, ranges,
 * an empty value), the attempts' sums and their attempts.json read back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "run/attempts.h"
#include "util/util.h"

static void test_retry_codes(void **state)
{
	struct retry_codes c = { 0 };
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(run_retry_codes_parse_value(&c, "75,76 77\t78, 75"), 0);
	run_retry_codes_format(&b, &c);
	assert_string_equal(buf_cstr(&b), "75 76 77 78");
	assert_true(run_retry_codes_has(&c, 77));
	assert_false(run_retry_codes_has(&c, 1));
	assert_int_equal(run_retry_codes_parse_value(&c, "1 255"), 0);
	assert_true(run_retry_codes_has(&c, 255));
	/* an empty value drops what came before */
	assert_int_equal(run_retry_codes_parse_value(&c, ""), 0);
	assert_int_equal(c.nr, 0);
	run_retry_codes_release(&c);
	buf_release(&b);
}

static void test_bad_retry_codes(void **state)
{
	static const char *const bad[] = { "0", "256", "-1", "+5", "7.5", "0x4b", "abc", "1000" };
	struct retry_codes c = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		char *value = xstrfmt("75, %s", bad[i]);
		char *named = xstrfmt("'%s' is not an exit code", bad[i]);

		assert_int_equal(run_retry_codes_parse_value(&c, value), -1);
		assert_non_null(strstr(err_msg(), named));
		err_clear();
		free(value);
		free(named);
	}
	run_retry_codes_release(&c);
}

static void test_attempts(void **state)
{
	struct run_attempts a = { 0 }, back;
	struct buf doc = BUF_INIT;

	(void)state;
	run_attempts_begin(&a, "local", 1000);
	run_attempts_end(&a, 1010, 10, "interrupted", 143);
	run_attempts_begin(&a, "local", 1070);
	run_attempts_end(&a, 1090, 20.5, "succeeded", 0);
	assert_int_equal(a.v[1].attempt, 2);
	assert_true(run_attempts_duration(&a) == 30.5);
	assert_true(run_attempts_lost(&a) == 60);
	run_attempts_format(&doc, &a, "run-1");
	assert_int_equal(run_attempts_parse(&back, doc.ptr, doc.len, "run-1", "attempts.json"), 0);
	assert_int_equal(back.nr, 2);
	assert_string_equal(back.v[0].status, "interrupted");
	assert_int_equal(back.v[0].exit_code, 143);
	assert_true(back.v[1].duration == 20.5);
	assert_true(run_attempts_lost(&back) == 60);
	run_attempts_release(&back);
	/* another run's attempts are not this one's */
	assert_int_equal(run_attempts_parse(&back, doc.ptr, doc.len, "run-2", "attempts.json"), -1);
	err_clear();
	/* attempts out of order are refused */
	buf_reset(&doc);
	buf_puts(&doc, "{\"run_id\": \"run-1\", \"attempts\": [{\"attempt\": 2, \"status\": "
		       "\"failed\", \"start\": \"2026-01-01T00:00:00Z\"}]}");
	assert_int_equal(run_attempts_parse(&back, doc.ptr, doc.len, "run-1", "attempts.json"), -1);
	err_clear();
	run_attempts_release(&a);
	buf_release(&doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry_codes),
		cmocka_unit_test(test_bad_retry_codes),
		cmocka_unit_test(test_attempts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
