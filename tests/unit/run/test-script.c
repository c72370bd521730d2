/*
 * Unit tests for script: how a script is run (the same locally and on the
 * instance), its path, and the outputs directory it may use.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run/script.h"
#include "util/util.h"

static void assert_interpreter(const char *script, const char *interpreter, const char *want)
{
	struct script_settings s = { .script = (char *)script, .interpreter = (char *)interpreter };
	struct strvec words = STRVEC_INIT;
	struct buf got = BUF_INIT;
	size_t i;

	script_interpreter(&words, &s);
	for (i = 0; i < words.nr; i++)
		buf_printf(&got, "%s%s", i ? "|" : "", words.v[i]);
	assert_string_equal(buf_cstr(&got), want);
	strvec_clear(&words);
	buf_release(&got);
}

static void test_interpreter_by_extension(void **state)
{
	(void)state;
	assert_interpreter("train.py", NULL, "python3");
	assert_interpreter("src/train.sh", NULL, "sh");
	assert_interpreter("t.bash", NULL, "bash");
	assert_interpreter("t.pl", NULL, "perl");
	assert_interpreter("t.rb", NULL, "ruby");
	assert_interpreter("t.js", NULL, "node");
	assert_interpreter("t.R", NULL, "Rscript");
	assert_interpreter("t.jl", NULL, "julia");
	assert_interpreter("train", NULL, "");
	assert_interpreter("train.py.txt", NULL, "");
}

static void test_interpreter_setting_wins_and_is_words(void **state)
{
	(void)state;
	assert_interpreter("train.py", "/opt/pytorch/bin/python", "/opt/pytorch/bin/python");
	assert_interpreter("train.py", "  python3 -X  dev\t", "python3|-X|dev");
	assert_interpreter("train", "sh", "sh");
}

static void test_argv(void **state)
{
	struct script_settings s = { .script = (char *)"-odd.py" };
	const char *args[] = { "--lr", "it's 0.1", "" };
	struct strvec argv = STRVEC_INIT;

	(void)state;
	assert_int_equal(script_argv(&argv, &s, "/nonexistent", args, 3), 0);
	assert_int_equal(argv.nr, 5);
	assert_string_equal(argv.v[0], "python3");
	assert_string_equal(argv.v[1], "./-odd.py"); /* never taken for an option */
	assert_string_equal(argv.v[2], "--lr");
	assert_string_equal(argv.v[3], "it's 0.1");
	assert_string_equal(argv.v[4], "");
	assert_null(argv.v[5]);
	strvec_clear(&argv);
}

/* No interpreter known: the file itself, by its #! line, made executable. */
static void test_argv_by_shebang(void **state)
{
	char dir[] = "/tmp/test-script-XXXXXX";
	struct script_settings s = { .script = (char *)"run" };
	struct strvec argv = STRVEC_INIT;
	char *path;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = xstrfmt("%s/run", dir);
	assert_int_equal(write_file_atomic(path, "#!/bin/sh\necho hi\n", 18, 0644), 0);
	assert_int_equal(script_argv(&argv, &s, dir, NULL, 0), 0);
	assert_int_equal(argv.nr, 1);
	assert_string_equal(argv.v[0], "./run");
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_mode & S_IXUSR);
	strvec_clear(&argv);

	assert_int_equal(write_file_atomic(path, "echo hi\n", 8, 0644), 0);
	err_clear();
	assert_int_equal(script_argv(&argv, &s, dir, NULL, 0), -1);
	assert_non_null(strstr(err_msg(), "no #! line"));
	err_clear();
	strvec_clear(&argv);
	unlink(path);
	rmdir(dir);
	free(path);
}

static void test_path(void **state)
{
	(void)state;
	assert_string_equal(script_path("train.py"), "train.py");
	assert_string_equal(script_path("./train.py"), "train.py");
	assert_string_equal(script_path(".//./src/train.py"), "src/train.py");
	assert_string_equal(script_path("../train.py"), "../train.py");
}

static void test_outputs_dir(void **state)
{
	(void)state;
	assert_int_equal(script_check_outputs_dir("outputs"), 0);
	assert_int_equal(script_check_outputs_dir("runs/out"), 0);
	assert_int_equal(script_check_outputs_dir("..."), 0);
	err_clear();
	assert_int_equal(script_check_outputs_dir("../up"), -1);
	assert_non_null(strstr(err_msg(), "'../up'"));
	err_clear();
	assert_int_equal(script_check_outputs_dir("/tmp/out"), -1);
	assert_int_equal(script_check_outputs_dir("a/../../b"), -1);
	assert_int_equal(script_check_outputs_dir(""), -1);
	err_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interpreter_by_extension),
		cmocka_unit_test(test_interpreter_setting_wins_and_is_words),
		cmocka_unit_test(test_argv),
		cmocka_unit_test(test_argv_by_shebang),
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_outputs_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
