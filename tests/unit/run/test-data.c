/*
 * Unit tests for data: which object keys are safe to write under a
 * source's directory, and the listing's fingerprint (the runner computes the
 * same with sort and sha256sum: the expected values here are theirs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "run/data.h"
#include "util/util.h"

static void test_check_key(void **state)
{
	static const char *const ok[] = { "a.txt", "dir/b.bin", "dir/", "",
					  "..a",   "a..",	"a/.b", "x y/z" };
	static const char *const bad[] = { "/a", "../a", "a/../b", "a/..", "..",
					   ".",	 "./a",	 "a//b",   "a\tb", "a\nb" };
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(ok); i++)
		if (data_check_key(ok[i]))
			fail_msg("'%s' refused", ok[i]);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		if (!data_check_key(bad[i]))
			fail_msg("'%s' accepted", bad[i]);
}

static void test_fingerprint(void **state)
{
	struct s3_listed v[] = {
		{ "p/b.txt", 11, NULL, "\"etag-b\"" },
		{ "p/a.txt", 10, NULL, "\"etag-a\"" },
		{ "p/sub/c", 0, NULL, "d41d8cd98f00b204e9800998ecf8427e-2" },
	};
	char *fp, *again;

	(void)state;
	/*
	 * printf 'a.txt\t10\tetag-a\nb.txt\t11\tetag-b\nsub/c\t0\t
	 * d41d8cd98f00b204e9800998ecf8427e-2\n' | sha256sum | cut -c 1-12
	 */
	fp = data_fingerprint(v, 3, "p/");
	assert_int_equal(strlen(fp), 12);
	assert_string_equal(fp, "d6eeb5b1ab2f");
	/* order does not matter; any change does */
	v[0].size = 12;
	again = data_fingerprint(v, 3, "p/");
	assert_string_not_equal(fp, again);
	free(again);
	free(fp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_key),
		cmocka_unit_test(test_fingerprint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
