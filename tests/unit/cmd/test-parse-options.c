/*
 * Unit tests for parse-options: git-style options, "--", and the errors a
 * user sees for a mistyped option.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/parse-options.h"
#include "util/util.h"

static int opt_json, opt_verbose, opt_count;
static const char *opt_rev;

static const struct option opts[] = {
	OPT_BOOL(0, "json", &opt_json, "print JSON"),
	OPT_BOOL('v', "verbose", &opt_verbose, "say more"),
	OPT_STRING('r', "rev", &opt_rev, "commit", "the commit to run"),
	OPT_INT('n', "count", &opt_count, "n", "how many"),
	OPT_END(),
};

static const char *const usage[] = { "git train test [<options>] [-- <args>...]", NULL };

static int setup(void **state)
{
	(void)state;
	opt_json = opt_verbose = opt_count = 0;
	opt_rev = NULL;
	return 0;
}

/* Runs parse_options with one stream (1 or 2) captured into out. */
static int parse_capture(struct parsed_args *pa, struct buf *out, int fd, int argc,
			 const char **argv)
{
	char path[] = "/tmp/test-parse-options.XXXXXX";
	int tmp = mkstemp(path), saved, r;

	assert_true(tmp >= 0);
	fflush(fd == 1 ? stdout : stderr);
	saved = dup(fd);
	dup2(tmp, fd);
	r = parse_options(pa, argc, argv, opts, usage);
	fflush(fd == 1 ? stdout : stderr);
	dup2(saved, fd);
	close(saved);
	close(tmp);
	buf_reset(out);
	assert_int_equal(read_file(out, path), 0);
	unlink(path);
	return r;
}

static int parse(struct parsed_args *pa, int argc, const char **argv)
{
	struct buf err = BUF_INIT;
	int r = parse_capture(pa, &err, 2, argc, argv);

	buf_release(&err);
	return r;
}

static void test_long_and_short(void **state)
{
	const char *argv[] = { "--json", "-v", "--rev", "HEAD~1", "-n", "7" };
	struct parsed_args pa;

	(void)state;
	assert_int_equal(parse(&pa, 6, argv), PARSE_OPT_OK);
	assert_int_equal(opt_json, 1);
	assert_int_equal(opt_verbose, 1);
	assert_string_equal(opt_rev, "HEAD~1");
	assert_int_equal(opt_count, 7);
	assert_int_equal(pa.nr_args, 0);
	assert_int_equal(pa.nr_rest, 0);
	assert_int_equal(pa.dashdash, 0);
	parse_options_release(&pa);
}

static void test_attached_values(void **state)
{
	const char *argv[] = { "--rev=a=b", "-n42" };
	const char *argv2[] = { "-rmain", "--count=-3", "--rev=" };
	struct parsed_args pa;

	(void)state;
	assert_int_equal(parse(&pa, 2, argv), PARSE_OPT_OK);
	assert_string_equal(opt_rev, "a=b");
	assert_int_equal(opt_count, 42);
	parse_options_release(&pa);

	assert_int_equal(parse(&pa, 3, argv2), PARSE_OPT_OK);
	assert_string_equal(opt_rev, ""); /* the last one wins, as in git */
	assert_int_equal(opt_count, -3);
	parse_options_release(&pa);
}

static void test_negated_bool(void **state)
{
	const char *argv[] = { "--json", "--no-json", "--verbose", "--no-verbose", "--verbose" };
	struct parsed_args pa;

	(void)state;
	assert_int_equal(parse(&pa, 5, argv), PARSE_OPT_OK);
	assert_int_equal(opt_json, 0);
	assert_int_equal(opt_verbose, 1);
	parse_options_release(&pa);
}

static void test_words_in_order(void **state)
{
	const char *argv[] = { "a..b", "--json", "-", "^c", "d" };
	struct parsed_args pa;

	(void)state;
	assert_int_equal(parse(&pa, 5, argv), PARSE_OPT_OK);
	assert_int_equal(pa.nr_args, 4);
	assert_string_equal(pa.args[0], "a..b");
	assert_string_equal(pa.args[1], "-");
	assert_string_equal(pa.args[2], "^c");
	assert_string_equal(pa.args[3], "d");
	assert_null(pa.args[4]);
	assert_int_equal(opt_json, 1);
	parse_options_release(&pa);
}

static void test_dashdash_passes_everything_after(void **state)
{
	const char *argv[] = { "-v", "word",   "--", "--epochs", "3",	     "--",
			       "-h", "--json", "",   "a b",	 "--no-json" };
	struct parsed_args pa;

	(void)state;
	assert_int_equal(parse(&pa, 11, argv), PARSE_OPT_OK);
	assert_int_equal(pa.dashdash, 1);
	assert_int_equal(opt_verbose, 1);
	assert_int_equal(opt_json, 0);
	assert_int_equal(pa.nr_args, 1);
	assert_string_equal(pa.args[0], "word");
	assert_int_equal(pa.nr_rest, 8);
	assert_ptr_equal(pa.rest, argv + 3);
	assert_string_equal(pa.rest[0], "--epochs");
	assert_string_equal(pa.rest[2], "--");
	assert_string_equal(pa.rest[3], "-h");
	assert_string_equal(pa.rest[5], "");
	assert_string_equal(pa.rest[7], "--no-json");
	parse_options_release(&pa);
}

static void test_dashdash_last(void **state)
{
	const char *argv[] = { "--json", "--" };
	struct parsed_args pa;

	(void)state;
	assert_int_equal(parse(&pa, 2, argv), PARSE_OPT_OK);
	assert_int_equal(pa.dashdash, 1);
	assert_int_equal(pa.nr_rest, 0);
	parse_options_release(&pa);
}

static void test_help(void **state)
{
	const char *argv[] = { "--json", "-h", "--bogus" };
	struct buf out = BUF_INIT;
	struct parsed_args pa;

	(void)state;
	assert_int_equal(parse_capture(&pa, &out, 1, 3, argv), PARSE_OPT_HELP);
	assert_non_null(strstr(buf_cstr(&out), "usage: git train test"));
	assert_non_null(strstr(buf_cstr(&out), "--rev <commit>"));
	parse_options_release(&pa);
	buf_release(&out);
}

static void assert_error(int argc, const char **argv, const char *message, const char *hint)
{
	struct buf err = BUF_INIT;
	struct parsed_args pa;

	assert_int_equal(parse_capture(&pa, &err, 2, argc, argv), PARSE_OPT_ERROR);
	assert_non_null(strstr(buf_cstr(&err), message));
	if (hint)
		assert_non_null(strstr(buf_cstr(&err), hint));
	parse_options_release(&pa);
	buf_release(&err);
}

static void test_unknown_options(void **state)
{
	const char *a1[] = { "--jsn" };
	const char *a2[] = { "--bogus=1", "--", "x" };
	const char *a3[] = { "-z" };
	const char *a4[] = { "--no-rev", "x" };

	(void)state;
	assert_error(1, a1, "error: unknown option 'jsn'", "did you mean '--json'?");
	assert_error(3, a2, "error: unknown option 'bogus'", "usage: git train test");
	assert_error(1, a3, "error: unknown switch 'z'", NULL);
	assert_error(2, a4, "unknown option 'no-rev'", NULL);
}

static void test_bad_values(void **state)
{
	const char *a1[] = { "--rev" };
	const char *a2[] = { "--count", "many" };
	const char *a3[] = { "--json=yes" };
	const char *a4[] = { "-n", "99999999999" };

	(void)state;
	assert_error(1, a1, "option '--rev' requires a value", NULL);
	assert_error(2, a2, "option '--count' expects a number, not 'many'", NULL);
	assert_error(1, a3, "option '--json' takes no value", NULL);
	assert_error(2, a4, "expects a number", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_long_and_short, setup),
		cmocka_unit_test_setup(test_attached_values, setup),
		cmocka_unit_test_setup(test_negated_bool, setup),
		cmocka_unit_test_setup(test_words_in_order, setup),
		cmocka_unit_test_setup(test_dashdash_passes_everything_after, setup),
		cmocka_unit_test_setup(test_dashdash_last, setup),
		cmocka_unit_test_setup(test_help, setup),
		cmocka_unit_test_setup(test_unknown_options, setup),
		cmocka_unit_test_setup(test_bad_values, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
