/*
 * Unit tests for deps: what the local backend does around deps.sh (which
 * tests/t0330-deps.sh runs for real): which interpreter words are Python,
 * the result file it reads, and how a command is put into the environment.
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

#include "run/deps.h"
#include "util/util.h"

static void test_is_python(void **state)
{
	(void)state;
	assert_true(deps_is_python("python"));
	assert_true(deps_is_python("python3"));
	assert_true(deps_is_python("python3.11"));
	assert_true(deps_is_python("/opt/pytorch/bin/python"));
	assert_false(deps_is_python("./python_train.py"));
	assert_false(deps_is_python("torchrun"));
	assert_false(deps_is_python("pythonw-x"));
	assert_false(deps_is_python("sh"));
}

static void test_valid_key(void **state)
{
	(void)state;
	assert_true(deps_valid_key("0123456789abcdef"));
	assert_false(deps_valid_key("0123456789abcde"));
	assert_false(deps_valid_key("0123456789abcdef0"));
	assert_false(deps_valid_key("0123456789abcdeF"));
	assert_false(deps_valid_key("../../../etc/xx"));
	assert_false(deps_valid_key(NULL));
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_read_result(void **state)
{
	char path[] = "/tmp/test-deps-XXXXXX";
	struct deps_result r;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	write_text(path, "key=0123456789abcdef\nvenv=/cache/envs/0123456789abcdef\n");
	assert_int_equal(deps_read_result(&r, path), 0);
	assert_string_equal(r.key, "0123456789abcdef");
	assert_string_equal(r.venv, "/cache/envs/0123456789abcdef");
	deps_result_release(&r);
	write_text(path, "key=nothex\nvenv=/x\n");
	assert_int_equal(deps_read_result(&r, path), -1);
	assert_null(r.key);
	err_clear();
	write_text(path, "key=0123456789abcdef\nvenv=relative\n");
	assert_int_equal(deps_read_result(&r, path), -1);
	err_clear();
	unlink(path);
	/* no file: nothing was installed */
	assert_int_equal(deps_read_result(&r, path), 0);
	assert_null(r.key);
	assert_null(r.venv);
}

static void test_apply(void **state)
{
	struct strvec argv = STRVEC_INIT, envp = STRVEC_INIT;

	(void)state;
	strvec_push(&argv, "/usr/bin/python3");
	strvec_push(&argv, "train.py");
	strvec_push(&envp, "HOME=/home/me");
	strvec_push(&envp, "PATH=/usr/bin:/bin");
	deps_apply(&argv, &envp, "/c/envs/k");
	assert_string_equal(argv.v[0], "/c/envs/k/bin/python");
	assert_string_equal(argv.v[1], "train.py");
	assert_int_equal(envp.nr, 3);
	assert_string_equal(envp.v[1], "PATH=/c/envs/k/bin:/usr/bin:/bin");
	assert_string_equal(envp.v[2], "VIRTUAL_ENV=/c/envs/k");
	strvec_clear(&argv);
	strvec_clear(&envp);

	/* a script by its #! line stays itself; the environment is on PATH */
	strvec_push(&argv, "./train.py");
	deps_apply(&argv, &envp, "/c/envs/k");
	assert_string_equal(argv.v[0], "./train.py");
	assert_string_equal(envp.v[0], "PATH=/c/envs/k/bin");
	strvec_clear(&argv);
	strvec_clear(&envp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_python),
		cmocka_unit_test(test_valid_key),
		cmocka_unit_test(test_read_result),
		cmocka_unit_test(test_apply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
