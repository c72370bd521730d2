/*
 * Unit tests for shell-quote: the quoted words are valid UTF-8 whatever the
 * input, and real shells (/bin/sh, dash, bash, in the C and a UTF-8 locale)
 * turn them back into exactly the original bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/shell.h"
#include "util/strvec.h"
#include "util/util.h"

struct word {
	const char *s;
	size_t len;
};

#define W(lit)                                                                                     \
	{                                                                                          \
		lit, sizeof(lit) - 1                                                               \
	}

static const struct word nasty[] = {
	W("plain"),
	W("two words"),
	W("it's"),
	W("''"),
	W("'"),
	W("\"double\" quotes"),
	W("$(touch pwned)"),
	W("`touch pwned`"),
	W("$HOME ${x:-y} $1 $@"),
	W("a;b && c | d > e"),
	W("*"),
	W("[a-z]?"),
	W("~user"),
	W("# not a comment"),
	W("!event"),
	W("line one\nline two"),
	W("trailing newline\n"),
	W("\n"),
	W("\n\n"),
	W(""),
	W("tab\there"),
	W("back\\slash\\"),
	W("\\'"),
	W("-n"),
	W("%s%d\\n"),
	W("h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x9a\x80"),
	W("\xff"),
	W("\xff\xfe"),
	W("a\xffz"),
	W("a\xc3(b"),
	W("\xed\xa0\x80"),     /* a surrogate */
	W("\xc0\xaf"),	       /* an overlong '/' */
	W("\xf4\x90\x80\x80"), /* above U+10FFFF */
	W("cut \xe2\x82"),     /* a sequence cut short at the end */
	W("\x80 lone continuation"),
	W("\x01\x02\x1b[31m\x7f"),
	W("\xff\n"),
	W("x'\xff'y"),
};

static char *quoted(const char *s, size_t len)
{
	struct buf b = BUF_INIT;

	shell_quote(&b, s, len);
	return buf_detach(&b);
}

static void assert_quoted(const char *s, const char *want)
{
	char *got = quoted(s, strlen(s));

	assert_string_equal(got, want);
	free(got);
}

/* An independent check: 1 when s is valid UTF-8 (RFC 3629). */
static int valid_utf8(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned long cp;
		size_t n, k;

		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0)
			n = 2, cp = s[i] & 0x1f;
		else if ((s[i] & 0xf0) == 0xe0)
			n = 3, cp = s[i] & 0x0f;
		else if ((s[i] & 0xf8) == 0xf0)
			n = 4, cp = s[i] & 0x07;
		else
			return 0;
		if (i + n > len)
			return 0;
		for (k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n;
	}
	return 1;
}

/* Runs `shell -c cmd` with LC_ALL=locale; its stdout into out. Exit status, or -1. */
static int run_shell(struct buf *out, const char *shell, const char *locale, const char *cmd)
{
	char *env_locale = xstrfmt("LC_ALL=%s", locale);
	char *const argv[] = { (char *)shell, "-c", (char *)cmd, NULL };
	char *const envp[] = { env_locale, "PATH=/usr/bin:/bin", NULL };
	int fds[2], status = -1;
	char chunk[4096];
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execve(shell, argv, envp);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], chunk, sizeof(chunk))) > 0)
		buf_add(out, chunk, (size_t)n);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	free(env_locale);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_forms(void **state)
{
	(void)state;
	assert_quoted("", "''");
	assert_quoted("abc", "abc");
	assert_quoted("--lr=0.05", "--lr=0.05");
	assert_quoted("a*", "'a*'");
	assert_quoted("it's", "'it'\\''s'");
	assert_quoted("a b\nc", "'a b\nc'");
	assert_quoted("\xc3\xa9", "'\xc3\xa9'");
	assert_quoted("\xff", "\"$(printf '\\377')\"");
	assert_quoted("a\xff\xfe"
		      "b",
		      "'a'\"$(printf '\\377\\376')\"'b'");
}

static void test_nul_is_left_out(void **state)
{
	char *got;

	(void)state;
	got = quoted("a\0b", 3);
	assert_string_equal(got, "'a''b'");
	free(got);
	got = quoted("\0", 1);
	assert_string_equal(got, "''");
	free(got);
	got = quoted("\xff\0\xfe", 3);
	assert_string_equal(got, "\"$(printf '\\377\\376')\"");
	free(got);
}

static void test_always_valid_utf8(void **state)
{
	struct buf all = BUF_INIT;
	const char *argv[ARRAY_SIZE(nasty)];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(nasty); i++) {
		char *q = quoted(nasty[i].s, nasty[i].len);

		assert_true(valid_utf8((const unsigned char *)q, strlen(q)));
		free(q);
		argv[i] = nasty[i].s;
	}
	shell_quote_argv(&all, argv, (int)ARRAY_SIZE(nasty));
	assert_true(valid_utf8((const unsigned char *)all.ptr, all.len));
	buf_release(&all);
}

/* printf '%s\0' <the words>, in each shell: the same bytes come back. */
static void test_round_trip(void **state)
{
	static const char *const shells[] = {
		"/bin/sh", "/bin/dash", "/usr/bin/dash", "/bin/bash", "/usr/bin/bash",
	};
	static const char *const locales[] = { "C", "C.UTF-8" };
	struct buf cmd = BUF_INIT, want = BUF_INIT;
	const char *argv[ARRAY_SIZE(nasty)];
	size_t i, k, tried = 0;

	(void)state;
	buf_puts(&cmd, "printf '%s\\0' ");
	for (i = 0; i < ARRAY_SIZE(nasty); i++) {
		argv[i] = nasty[i].s;
		buf_add(&want, nasty[i].s, nasty[i].len);
		buf_add(&want, "", 1);
	}
	shell_quote_argv(&cmd, argv, (int)ARRAY_SIZE(nasty));
	for (i = 0; i < ARRAY_SIZE(shells); i++) {
		if (access(shells[i], X_OK))
			continue;
		for (k = 0; k < ARRAY_SIZE(locales); k++) {
			struct buf got = BUF_INIT;

			assert_int_equal(run_shell(&got, shells[i], locales[k], buf_cstr(&cmd)), 0);
			if (got.len != want.len || memcmp(got.ptr, want.ptr, want.len))
				fail_msg("%s (LC_ALL=%s) did not give the words back", shells[i],
					 locales[k]);
			buf_release(&got);
			tried++;
		}
	}
	assert_true(tried > 0);
	buf_release(&cmd);
	buf_release(&want);
}

/* One word at a time too: an argument on its own must stay one word. */
static void test_each_word_is_one_word(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(nasty); i++) {
		struct buf cmd = BUF_INIT, got = BUF_INIT;

		buf_puts(&cmd, "set -- ");
		shell_quote(&cmd, nasty[i].s, nasty[i].len);
		buf_puts(&cmd, "; printf '%d:' $#; printf '%s' \"$1\"");
		assert_int_equal(run_shell(&got, "/bin/sh", "C", buf_cstr(&cmd)), 0);
		assert_true(got.len == nasty[i].len + 2 && !memcmp(got.ptr, "1:", 2) &&
			    !memcmp(got.ptr + 2, nasty[i].s, nasty[i].len));
		buf_release(&cmd);
		buf_release(&got);
	}
}

/* Words joined with '|' for comparing; "" when there are none. */
static char *split_joined(const char *s, int *ret)
{
	struct strvec sv = STRVEC_INIT;
	struct buf b = BUF_INIT;
	size_t i;

	*ret = shell_split(&sv, s);
	for (i = 0; i < sv.nr; i++)
		buf_printf(&b, "%s%s", i ? "|" : "", sv.v[i]);
	strvec_clear(&sv);
	return buf_detach(&b);
}

static void assert_split(const char *s, const char *want)
{
	int ret;
	char *got = split_joined(s, &ret);

	assert_int_equal(ret, 0);
	assert_string_equal(got, want);
	free(got);
}

static void test_split_forms(void **state)
{
	(void)state;
	assert_split("", "");
	assert_split("   \t\n ", "");
	assert_split("--epochs 1 --max-steps 20", "--epochs|1|--max-steps|20");
	assert_split("  lead  and\ttrail \n", "lead|and|trail");
	assert_split("--name 'a b'", "--name|a b");
	assert_split("--name \"a b\"", "--name|a b");
	assert_split("a\\ b c", "a b|c");
	assert_split("''", "");
	assert_split("x '' y", "x||y");
	assert_split("\"\"", "");
	assert_split("it\\'s", "it's");
	assert_split("'it'\\''s'", "it's");
	assert_split("\"say \\\"hi\\\"\"", "say \"hi\"");
	assert_split("\"a\\b\"", "a\\b");
	assert_split("'a\\b'", "a\\b");
	assert_split("\"\\$HOME \\\\\"", "$HOME \\");
	assert_split("a'b'\"c\"d", "abcd");
	assert_split("a \\\n b", "a|b");
	assert_split("a\\\nb", "ab");
	assert_split("'line\none'", "line\none");
}

/* Nothing is expanded: the words are the characters written. */
static void test_split_never_expands(void **state)
{
	(void)state;
	assert_split("$HOME ${x:-y} `id` $(id) * ~ ?", "$HOME|${x:-y}|`id`|$(id)|*|~|?");
	assert_split("\"$HOME\" \"`id`\"", "$HOME|`id`");
	assert_split("a;b && c > e", "a;b|&&|c|>|e");
}

static void test_split_errors(void **state)
{
	static const char *const bad[] = { "'open", "a \"open", "\"a\\\"", "trailing\\" };
	size_t i;
	int ret;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		char *got = split_joined(bad[i], &ret);

		assert_int_equal(ret, -1);
		assert_non_null(strstr(err_msg(), bad[i]));
		err_clear();
		free(got);
	}
}

/* What shell_quote writes, shell_split reads back (words it need not printf). */
static void test_split_round_trip(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(nasty); i++) {
		struct buf q = BUF_INIT;
		struct strvec sv = STRVEC_INIT;

		if (strlen(nasty[i].s) != nasty[i].len ||
		    !valid_utf8((const unsigned char *)nasty[i].s, nasty[i].len))
			continue;
		shell_quote(&q, nasty[i].s, nasty[i].len);
		buf_puts(&q, " next");
		assert_int_equal(shell_split(&sv, buf_cstr(&q)), 0);
		assert_int_equal(sv.nr, 2);
		assert_string_equal(sv.v[0], nasty[i].s);
		assert_string_equal(sv.v[1], "next");
		strvec_clear(&sv);
		buf_release(&q);
	}
}

/* Without anything to expand, /bin/sh splits the same way. */
static void test_split_like_sh(void **state)
{
	static const char *const inputs[] = {
		"--epochs 1 --name 'a b'",
		"a\\ b \"c d\" 'e f' g\\\\h",
		"\"x\\\"y\" 'q'\\''r' \"\\a\\b\"",
		"x '' \"\" y",
		"a \\\n b\\\nc",
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(inputs); i++) {
		struct buf cmd = BUF_INIT, got = BUF_INIT, want = BUF_INIT;
		struct strvec sv = STRVEC_INIT;
		size_t k;

		buf_printf(&cmd, "set -- %s\nprintf '%%s\\0' \"$@\"", inputs[i]);
		assert_int_equal(run_shell(&got, "/bin/sh", "C", buf_cstr(&cmd)), 0);
		assert_int_equal(shell_split(&sv, inputs[i]), 0);
		for (k = 0; k < sv.nr; k++)
			buf_add(&want, sv.v[k], strlen(sv.v[k]) + 1);
		if (got.len != want.len || memcmp(got.ptr, want.ptr, want.len))
			fail_msg("/bin/sh splits \"%s\" differently", inputs[i]);
		strvec_clear(&sv);
		buf_release(&cmd);
		buf_release(&got);
		buf_release(&want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_nul_is_left_out),
		cmocka_unit_test(test_always_valid_utf8),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_each_word_is_one_word),
		cmocka_unit_test(test_split_forms),
		cmocka_unit_test(test_split_never_expands),
		cmocka_unit_test(test_split_errors),
		cmocka_unit_test(test_split_round_trip),
		cmocka_unit_test(test_split_like_sh),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
