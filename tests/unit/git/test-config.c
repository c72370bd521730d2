/*
 * Unit tests for config: `git -c` settings as git passes them in the
 * environment, canonical keys, booleans, and their precedence over the
 * repository's config file (a real repository, read by libgit2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "git/config.h"
#include "run/script.h"
#include "util/util.h"

static void assert_param(const struct config *cfg, size_t i, const char *key, const char *value)
{
	assert_true(i < cfg->nr_params);
	assert_string_equal(cfg->params[i].key, key);
	if (value)
		assert_string_equal(cfg->params[i].value, value);
	else
		assert_null(cfg->params[i].value);
}

/* What git 2.31 and later put in GIT_CONFIG_PARAMETERS: 'key'='value'. */
static void test_parameters_new_format(void **state)
{
	struct config cfg = { 0 };

	(void)state;
	assert_int_equal(
		config_parse_parameters(
			&cfg,
			"'train.script'='my train.py' 'train.setup'='echo '\\''hi'\\'' $HOME' "
			"'train.empty'='' 'core.x'='a=b'"),
		0);
	assert_int_equal(cfg.nr_params, 4);
	assert_param(&cfg, 0, "train.script", "my train.py");
	assert_param(&cfg, 1, "train.setup", "echo 'hi' $HOME");
	assert_param(&cfg, 2, "train.empty", "");
	assert_param(&cfg, 3, "core.x", "a=b");
	config_release(&cfg);
}

/* `git -c train.flag` (no '=') arrives as 'train.flag'= and means true. */
static void test_parameters_implicit_true(void **state)
{
	struct config cfg = { 0 };
	int v = 0;

	(void)state;
	assert_int_equal(config_parse_parameters(&cfg, "'train.flag'= 'train.other'='1'"), 0);
	assert_int_equal(cfg.nr_params, 2);
	assert_param(&cfg, 0, "train.flag", NULL);
	assert_int_equal(config_get_bool(&v, &cfg, "train.flag"), 0);
	assert_int_equal(v, 1);
	config_release(&cfg);
}

/* What older git put there: the whole 'key=value' quoted as one word. */
static void test_parameters_old_format(void **state)
{
	struct config cfg = { 0 };
	int v = 0;

	(void)state;
	assert_int_equal(
		config_parse_parameters(
			&cfg, "'train.script=a b.py'  'train.setup=it'\\''s = \"x\"' 'train.flag'"),
		0);
	assert_int_equal(cfg.nr_params, 3);
	assert_param(&cfg, 0, "train.script", "a b.py");
	assert_param(&cfg, 1, "train.setup", "it's = \"x\"");
	assert_param(&cfg, 2, "train.flag", NULL);
	assert_int_equal(config_get_bool(&v, &cfg, "train.flag"), 0);
	assert_int_equal(v, 1);
	config_release(&cfg);
}

static void test_parameters_bogus(void **state)
{
	static const char *const bad[] = {
		"train.script=x",
		"'train.script",
		"'a.b'='unterminated",
		"'a.b'=x",
	};
	struct config cfg = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		err_clear();
		assert_int_equal(config_parse_parameters(&cfg, bad[i]), -1);
		assert_non_null(strstr(err_msg(), "GIT_CONFIG_PARAMETERS"));
		config_release(&cfg);
	}
	err_clear();
}

static void test_canonical_key(void **state)
{
	static const char *const cases[][2] = {
		{ "train.script", "train.script" },
		{ "Train.Script", "train.script" },
		{ "TRAIN.outputsDir", "train.outputsdir" },
		{ "Remote.Origin.URL", "remote.Origin.url" },
		{ "Url.HTTPS://Example.COM/.InsteadOf", "url.HTTPS://Example.COM/.insteadof" },
		{ "branch.My.Dotted.Name.Remote", "branch.My.Dotted.Name.remote" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *k = config_canonical_key(cases[i][0]);

		assert_string_equal(k, cases[i][1]);
		free(k);
	}
}

static void test_parse_bool(void **state)
{
	static const char *const yes[] = { "true", "TRUE", "yes", "On", "1" };
	static const char *const no[] = { "false", "No", "off", "0", "" };
	static const char *const bad[] = { "2", "maybe", "truee", " true" };
	size_t i;
	int v;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		v = 0;
		assert_int_equal(config_parse_bool(&v, yes[i]), 0);
		assert_int_equal(v, 1);
	}
	for (i = 0; i < ARRAY_SIZE(no); i++) {
		v = 1;
		assert_int_equal(config_parse_bool(&v, no[i]), 0);
		assert_int_equal(v, 0);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(config_parse_bool(&v, bad[i]), -1);
}

/* A real repository in a temporary directory, with its own empty HOME. */
struct fixture {
	char dir[64];
	git_repository *repo;
};

static int repo_setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	git_config *cfg = NULL;

	strcpy(f->dir, "/tmp/test-config.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	setenv("HOME", f->dir, 1);
	unsetenv("GIT_CONFIG_PARAMETERS");
	unsetenv("GIT_CONFIG_COUNT");
	git_libgit2_init();
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, f->dir);
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, f->dir);
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, f->dir);
	if (git_repository_init(&f->repo, f->dir, 0) < 0 ||
	    git_repository_config(&cfg, f->repo) < 0 ||
	    git_config_set_string(cfg, "train.script", "from-file.py") < 0 ||
	    git_config_set_string(cfg, "train.setup", "pip install -r requirements.txt") < 0 ||
	    git_config_set_bool(cfg, "train.flag", 0) < 0 ||
	    git_config_set_string(cfg, "train.bad", "perhaps") < 0)
		return -1;
	git_config_free(cfg);
	*state = f;
	return 0;
}

static int repo_teardown(void **state)
{
	struct fixture *f = *state;

	git_repository_free(f->repo);
	git_libgit2_shutdown();
	remove_tree(f->dir);
	free(f);
	unsetenv("GIT_CONFIG_PARAMETERS");
	unsetenv("GIT_CONFIG_COUNT");
	return 0;
}

static void assert_string_setting(const struct config *cfg, const char *key, const char *want)
{
	char *v = NULL;

	if (!want) {
		assert_int_equal(config_get_string(&v, cfg, key), 1);
		assert_null(v);
		return;
	}
	assert_int_equal(config_get_string(&v, cfg, key), 0);
	assert_string_equal(v, want);
	free(v);
}

static void test_file_config(void **state)
{
	struct fixture *f = *state;
	struct config cfg;
	struct script_settings s;
	int v = 1;

	assert_int_equal(config_load(&cfg, f->repo), 0);
	assert_string_setting(&cfg, "train.script", "from-file.py");
	assert_string_setting(&cfg, "TRAIN.Script", "from-file.py");
	assert_string_setting(&cfg, "train.nothing", NULL);
	assert_int_equal(config_get_bool(&v, &cfg, "train.flag"), 0);
	assert_int_equal(v, 0);
	err_clear();
	assert_int_equal(config_get_bool(&v, &cfg, "train.bad"), -1);
	assert_non_null(strstr(err_msg(), "train.bad"));
	err_clear();
	assert_int_equal(script_settings_load(&s, &cfg), 0);
	assert_string_equal(s.script, "from-file.py");
	assert_string_equal(s.setup, "pip install -r requirements.txt");
	assert_null(s.interpreter);
	assert_string_equal(s.outputs_dir, "outputs");
	script_settings_release(&s);
	config_release(&cfg);
}

static void test_last_dash_c_wins(void **state)
{
	struct fixture *f = *state;
	struct config cfg;
	struct script_settings s;
	int v = 0;

	setenv("GIT_CONFIG_PARAMETERS",
	       "'train.script'='first.py' 'TRAIN.SCRIPT'='last one.py' 'train.flag'= "
	       "'train.outputsDir'='out'",
	       1);
	assert_int_equal(config_load(&cfg, f->repo), 0);
	assert_string_setting(&cfg, "train.script", "last one.py");
	assert_string_setting(&cfg, "train.setup", "pip install -r requirements.txt");
	assert_int_equal(config_get_bool(&v, &cfg, "train.flag"), 0);
	assert_int_equal(v, 1);
	assert_int_equal(script_settings_load(&s, &cfg), 0);
	assert_string_equal(s.script, "last one.py");
	assert_string_equal(s.outputs_dir, "out");
	script_settings_release(&s);
	config_release(&cfg);
	unsetenv("GIT_CONFIG_PARAMETERS");
}

/* git config --env / GIT_CONFIG_COUNT: also above the files. */
static void test_config_count(void **state)
{
	struct fixture *f = *state;
	struct config cfg;

	setenv("GIT_CONFIG_COUNT", "2", 1);
	setenv("GIT_CONFIG_KEY_0", "train.script", 1);
	setenv("GIT_CONFIG_VALUE_0", "count0.py", 1);
	setenv("GIT_CONFIG_KEY_1", "train.interpreter", 1);
	setenv("GIT_CONFIG_VALUE_1", "python3 -u", 1);
	assert_int_equal(config_load(&cfg, f->repo), 0);
	assert_string_setting(&cfg, "train.script", "count0.py");
	assert_string_setting(&cfg, "train.interpreter", "python3 -u");
	config_release(&cfg);

	setenv("GIT_CONFIG_COUNT", "3", 1);
	err_clear();
	assert_int_equal(config_load(&cfg, f->repo), -1);
	assert_non_null(strstr(err_msg(), "GIT_CONFIG_KEY_2"));
	err_clear();
	config_release(&cfg);
	unsetenv("GIT_CONFIG_COUNT");
}

static void append(const char *path, const char *text)
{
	FILE *fp = fopen(path, "a");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* Multi-valued keys: global, then local in file order, then -c, as git config --get-all. */
static void test_get_all(void **state)
{
	struct fixture *f = *state;
	struct strvec v = STRVEC_INIT;
	struct config cfg;
	char path[128];

	snprintf(path, sizeof(path), "%s/.gitconfig", f->dir);
	append(path, "[train]\n\tmetric = g=global ([0-9]+)\n");
	snprintf(path, sizeof(path), "%s/.git/config", f->dir);
	append(path, "[train]\n\tmetric = a=first\n\tMetric = b=second\n");
	setenv("GIT_CONFIG_PARAMETERS", "'train.metric'='c=third' 'train.other'='x'", 1);
	assert_int_equal(config_load(&cfg, f->repo), 0);
	assert_int_equal(config_get_all(&v, &cfg, "train.metric"), 0);
	assert_int_equal(v.nr, 4);
	assert_string_equal(v.v[0], "g=global ([0-9]+)");
	assert_string_equal(v.v[1], "a=first");
	assert_string_equal(v.v[2], "b=second");
	assert_string_equal(v.v[3], "c=third");
	assert_int_equal(config_get_all(&v, &cfg, "train.nothing"), 1);
	assert_int_equal(v.nr, 4);
	strvec_clear(&v);
	config_release(&cfg);
	unsetenv("GIT_CONFIG_PARAMETERS");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parameters_new_format),
		cmocka_unit_test(test_parameters_implicit_true),
		cmocka_unit_test(test_parameters_old_format),
		cmocka_unit_test(test_parameters_bogus),
		cmocka_unit_test(test_canonical_key),
		cmocka_unit_test(test_parse_bool),
		cmocka_unit_test_setup_teardown(test_file_config, repo_setup, repo_teardown),
		cmocka_unit_test_setup_teardown(test_last_dash_c_wins, repo_setup, repo_teardown),
		cmocka_unit_test_setup_teardown(test_config_count, repo_setup, repo_teardown),
		cmocka_unit_test_setup_teardown(test_get_all, repo_setup, repo_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
