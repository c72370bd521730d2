/*
 * Unit tests for the doctor's cache: a passing report comes back for the same
 * key within DOCTOR_CACHE_SECONDS, and never for another key, once stale, from
 * the future, from a damaged file, or after a failing report (which removes
 * it); a warning passes, and comes back from the cache as a warning with its
 * fix, so that a launch from the cache still says it. In a real repository
 * made for the test, as a launch would see it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "doctor/internal.h"
#include "util/util.h"

#define KEY "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char *tmpdir;

static int setup(void **state)
{
	char tmpl[] = "/tmp/test-doctor-cache.XXXXXX";
	git_repository *repo = NULL;

	(void)state;
	git_libgit2_init();
	if (!mkdtemp(tmpl) || git_repository_init(&repo, tmpl, 0) < 0 || chdir(tmpl))
		return -1;
	git_repository_free(repo);
	tmpdir = xstrdup(tmpl);
	unsetenv("GIT_DIR");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	remove_tree(tmpdir);
	free(tmpdir);
	git_libgit2_shutdown();
	return 0;
}

static void make_report(struct doctor_report *r, enum doctor_state last)
{
	struct doctor_ctx x;

	memset(r, 0, sizeof(*r));
	memset(&x, 0, sizeof(x));
	x.report = r;
	doctor_add(&x, "credentials", DOCTOR_OK, xstrdup("arn:aws:iam::1:user/a (account 1)"),
		   NULL);
	doctor_add(&x, "instance type", last, xstrdup("t3.micro"),
		   last == DOCTOR_OK ? NULL : xstrdup("git config train.instanceType <type>"));
}

static void write_cache(double when)
{
	FILE *fp = fopen(".git/train/doctor.json", "w");

	assert_non_null(fp);
	fprintf(fp,
		"{\"key\": \"%s\", \"time\": %.0f, \"checks\": [{\"check\": \"region\", "
		"\"ok\": true, \"skipped\": false, \"detail\": \"us-east-1\", \"fix\": null}]}",
		KEY, when);
	fclose(fp);
}

static void test_round_trip(void **state)
{
	struct doctor_report r, back;

	(void)state;
	make_report(&r, DOCTOR_OK);
	doctor_cache_store(&r, KEY);
	assert_int_equal(access(".git/train/doctor.json", F_OK), 0);
	assert_int_equal(doctor_cache_load(&back, KEY), 0);
	assert_true(back.from_cache);
	assert_int_equal(back.nr, 2);
	assert_string_equal(back.checks[0].name, "credentials");
	assert_string_equal(back.checks[0].detail, "arn:aws:iam::1:user/a (account 1)");
	assert_string_equal(back.checks[1].name, "instance type");
	assert_true(doctor_report_ok(&back));
	doctor_report_release(&back);

	assert_int_equal(doctor_cache_load(&back, "another key"), 1);
	assert_int_equal(back.nr, 0);
	doctor_report_release(&r);
}

static void test_warning_is_kept(void **state)
{
	struct doctor_report r, back;
	cJSON *arr;
	const cJSON *o;

	(void)state;
	make_report(&r, DOCTOR_WARNING);
	assert_true(doctor_report_ok(&r));
	arr = doctor_report_json(&r);
	o = cJSON_GetArrayItem(arr, 1);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "ok")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "warning")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "warning")));
	cJSON_Delete(arr);

	doctor_cache_store(&r, KEY);
	assert_int_equal(doctor_cache_load(&back, KEY), 0);
	assert_int_equal(back.nr, 2);
	assert_int_equal(back.checks[0].state, DOCTOR_OK);
	assert_null(back.checks[0].fix);
	assert_int_equal(back.checks[1].state, DOCTOR_WARNING);
	assert_string_equal(back.checks[1].fix, "git config train.instanceType <type>");
	assert_true(doctor_report_ok(&back));
	doctor_report_release(&back);
	doctor_report_release(&r);
}

static void test_failure_removes_it(void **state)
{
	struct doctor_report r, back;

	(void)state;
	make_report(&r, DOCTOR_OK);
	doctor_cache_store(&r, KEY);
	doctor_report_release(&r);
	make_report(&r, DOCTOR_FAILED);
	doctor_cache_store(&r, KEY);
	assert_int_not_equal(access(".git/train/doctor.json", F_OK), 0);
	assert_int_equal(doctor_cache_load(&back, KEY), 1);
	doctor_report_release(&r);

	make_report(&r, DOCTOR_SKIPPED);
	assert_false(doctor_report_ok(&r));
	doctor_cache_store(&r, KEY);
	assert_int_not_equal(access(".git/train/doctor.json", F_OK), 0);
	doctor_report_release(&r);
}

static void test_stale_future_damaged(void **state)
{
	struct doctor_report back;
	double now = (double)time(NULL);
	FILE *fp;

	(void)state;
	write_cache(now - 5);
	assert_int_equal(doctor_cache_load(&back, KEY), 0);
	assert_string_equal(back.checks[0].detail, "us-east-1");
	doctor_report_release(&back);

	write_cache(now - DOCTOR_CACHE_SECONDS - 1);
	assert_int_equal(doctor_cache_load(&back, KEY), 1);
	write_cache(now + 3600);
	assert_int_equal(doctor_cache_load(&back, KEY), 1);

	fp = fopen(".git/train/doctor.json", "w");
	assert_non_null(fp);
	fputs("{\"key\": \"" KEY "\", \"time\": 1, \"checks\": [", fp);
	fclose(fp);
	assert_int_equal(doctor_cache_load(&back, KEY), 1);
	assert_int_equal(back.nr, 0);
}

static void test_json(void **state)
{
	struct doctor_report r;
	cJSON *arr;
	const cJSON *o;

	(void)state;
	make_report(&r, DOCTOR_FAILED);
	arr = doctor_report_json(&r);
	assert_int_equal(cJSON_GetArraySize(arr), 2);
	o = cJSON_GetArrayItem(arr, 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "ok")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "skipped")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "fix")));
	o = cJSON_GetArrayItem(arr, 1);
	assert_string_equal(cJSON_GetObjectItem(o, "check")->valuestring, "instance type");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(o, "ok")));
	assert_string_equal(cJSON_GetObjectItem(o, "fix")->valuestring,
			    "git config train.instanceType <type>");
	cJSON_Delete(arr);
	doctor_report_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_warning_is_kept),
		cmocka_unit_test(test_failure_removes_it),
		cmocka_unit_test(test_stale_future_damaged),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
