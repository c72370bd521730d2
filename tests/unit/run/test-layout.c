/*
 * Unit tests for layout: the keys of a run in S3 and its paths on disk, how
 * gc recognises them, and the result document both writers share.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "run/layout.h"
#include "util/util.h"

#define SHA "0fec4c8a9b0c1d2e3f405162738495a6b7c8d9e0"
#define RUN "20261129-080117-0fec4c8-0017"

static struct layout sample(void)
{
	struct layout l;

	l.bucket = "bucket";
	l.repo_name = "demo-1a2b3c4d5e6f";
	l.repo_prefix = "git-train/demo-1a2b3c4d5e6f/";
	l.legacy_name = "demo";
	l.legacy_prefix = "git-train/demo/";
	return l;
}

static void assert_owned_equal(char *got, const char *want)
{
	assert_string_equal(got, want);
	free(got);
}

static void test_keys(void **state)
{
	struct layout l = sample();
	char *prefix;

	(void)state;
	l.repo_prefix = "git-train/demo/";
	assert_owned_equal(layout_code_key(&l, SHA), "git-train/demo/" SHA "/code.tar.gz");
	prefix = layout_run_prefix(&l, SHA, RUN);
	assert_string_equal(prefix, "git-train/demo/" SHA "/runs/" RUN "/");
	assert_owned_equal(layout_run_key(prefix, LAYOUT_LOG),
			   "git-train/demo/" SHA "/runs/" RUN "/log");
	assert_owned_equal(layout_run_key(prefix, LAYOUT_RESULT),
			   "git-train/demo/" SHA "/runs/" RUN "/result.json");
	assert_owned_equal(layout_run_key(prefix, LAYOUT_RUN_JSON),
			   "git-train/demo/" SHA "/runs/" RUN "/run.json");
	assert_owned_equal(layout_run_key(prefix, LAYOUT_OUTPUTS),
			   "git-train/demo/" SHA "/runs/" RUN "/outputs/");
	assert_owned_equal(layout_run_uri("bucket", prefix, LAYOUT_LOG),
			   "s3://bucket/git-train/demo/" SHA "/runs/" RUN "/log");
	free(prefix);
}

/* run.json names its run: only where it lies, not another run's prefix. */
static void test_run_prefix_is(void **state)
{
	(void)state;
	assert_true(layout_run_prefix_is("git-train/demo/" SHA "/runs/" RUN "/", SHA, RUN));
	assert_true(layout_run_prefix_is(SHA "/runs/" RUN "/", SHA, RUN));
	assert_false(layout_run_prefix_is("git-train/demo/" SHA "/runs/" RUN "/", SHA, "other"));
	assert_false(layout_run_prefix_is("git-train/demo/" SHA "/runs/" RUN "/", "abc", RUN));
	assert_false(layout_run_prefix_is("git-train/demo/x" SHA "/runs/" RUN "/", SHA, RUN));
	assert_false(layout_run_prefix_is("git-train/demo/" SHA "/runs/" RUN, SHA, RUN));
	assert_false(layout_run_prefix_is("git-train/demo/" SHA "/runs/x/" RUN "/", SHA, RUN));
	assert_false(
		layout_run_prefix_is("git-train/demo/" SHA "/runs/" RUN "/", SHA "/runs/x", RUN));
	assert_false(layout_run_prefix_is("git-train/demo/" SHA "/runs/" RUN "/", SHA, ""));
	assert_false(layout_run_prefix_is("git-train/demo/" SHA "/runs/" RUN "/", NULL, RUN));
}

static void test_local_paths(void **state)
{
	(void)state;
	assert_owned_equal(layout_local_path("/r/.git/train/runs/" RUN, LAYOUT_CODE),
			   "/r/.git/train/runs/" RUN "/code.tar.gz");
	assert_owned_equal(layout_local_path("/d", LAYOUT_LOG), "/d/log");
	assert_owned_equal(layout_local_path("/d", LAYOUT_RESULT), "/d/result.json");
	assert_owned_equal(layout_local_path("/d", LAYOUT_OUTPUTS), "/d/outputs");
	assert_owned_equal(layout_local_path("/d", LAYOUT_WORK), "/d/work");
}

/* What gc may remove is what the layout names, under this repository's prefix only. */
static void test_gc_recognises_only_its_keys(void **state)
{
	struct layout l = sample();
	size_t n = 0;
	const char *sha;

	(void)state;
	sha = layout_code_commit(&n, l.legacy_prefix, "git-train/demo/" SHA "/code.tar.gz");
	assert_non_null(sha);
	assert_int_equal(n, 40);
	assert_memory_equal(sha, SHA, 40);
	assert_non_null(layout_code_commit(&n, l.repo_prefix,
					   "git-train/demo-1a2b3c4d5e6f/" SHA "/code.tar.gz"));
	assert_null(layout_code_commit(&n, l.repo_prefix, "git-train/demo/" SHA "/code.tar.gz"));
	assert_null(layout_code_commit(&n, l.legacy_prefix,
				       "git-train/demo-1a2b3c4d5e6f/" SHA "/code.tar.gz"));
	assert_null(layout_code_commit(&n, l.legacy_prefix, "git-train/other/" SHA "/code.tar.gz"));
	assert_null(
		layout_code_commit(&n, l.legacy_prefix, "git-train/demo/" SHA "/code.tar.gz.bak"));
	assert_null(
		layout_code_commit(&n, l.legacy_prefix, "git-train/demo/" SHA "/runs/" RUN "/log"));
	assert_null(layout_code_commit(&n, l.legacy_prefix, "git-train/demo/0fec4c8/code.tar.gz"));
	assert_null(layout_code_commit(&n, l.legacy_prefix, "git-train/demo/" SHA "X/code.tar.gz"));
	assert_true(layout_key_of_commit(l.legacy_prefix, "git-train/demo/" SHA "/runs/" RUN "/log",
					 SHA, 40));
	assert_true(layout_key_of_commit(l.legacy_prefix, "git-train/demo/" SHA "/code.tar.gz", SHA,
					 40));
	assert_false(layout_key_of_commit(l.legacy_prefix, "git-train/demo/" SHA "0/code.tar.gz",
					  SHA, 40));
	assert_false(
		layout_key_of_commit(l.legacy_prefix, "other/demo/" SHA "/code.tar.gz", SHA, 40));
	assert_false(layout_key_of_commit(l.repo_prefix, "git-train/demo/" SHA "/runs/" RUN "/log",
					  SHA, 40));
}

/* A run is looked for under its repository's prefix, then under the legacy one. */
static void test_run_prefixes(void **state)
{
	struct layout l = sample();
	char *v[LAYOUT_MAX_PREFIXES];

	(void)state;
	assert_int_equal(layout_run_prefixes(v, &l, SHA, RUN), 2);
	assert_owned_equal(v[0], "git-train/demo-1a2b3c4d5e6f/" SHA "/runs/" RUN "/");
	assert_owned_equal(v[1], "git-train/demo/" SHA "/runs/" RUN "/");
	assert_owned_equal(layout_legacy_run_prefix(&l, SHA, RUN),
			   "git-train/demo/" SHA "/runs/" RUN "/");
	assert_true(layout_is_run_prefix(&l, SHA, RUN, "git-train/demo/" SHA "/runs/" RUN "/"));
	assert_true(layout_is_run_prefix(&l, SHA, RUN,
					 "git-train/demo-1a2b3c4d5e6f/" SHA "/runs/" RUN "/"));
	assert_false(layout_is_run_prefix(&l, SHA, RUN, "elsewhere/" SHA "/runs/" RUN "/"));
	assert_false(layout_is_run_prefix(&l, SHA, RUN, "git-train/demo/" SHA "/runs/other/"));
	/* train.repo set to the readable name: no legacy layout */
	l.legacy_name = l.legacy_prefix = NULL;
	assert_int_equal(layout_run_prefixes(v, &l, SHA, RUN), 1);
	assert_null(v[1]);
	free(v[0]);
	assert_null(layout_legacy_run_prefix(&l, SHA, RUN));
}

static void test_result_round_trip(void **state)
{
	struct run_record rec, back;
	struct buf doc = BUF_INIT;
	const char *args[] = { "--epochs", "3" };
	struct layout_args a = { args, 2 };

	(void)state;
	run_record_init(&rec);
	rec.id = xstrdup(RUN);
	rec.backend = xstrdup("local");
	rec.status = xstrdup("failed");
	rec.exit_code = 4;
	rec.start = 1795939200;
	rec.duration = 12.5;
	run_record_add_metric(&rec, "loss", 0.125);
	run_record_add_extra(&rec, "stage", "setup");
	layout_result_format(&doc, &rec, SHA, &a);
	assert_non_null(strstr(buf_cstr(&doc), "\"run_id\":\t\"" RUN "\""));
	assert_non_null(strstr(buf_cstr(&doc), "\"id\":\t\"" RUN "\""));
	assert_non_null(strstr(buf_cstr(&doc), "\"commit\":\t\"" SHA "\""));
	assert_non_null(strstr(buf_cstr(&doc), "\"parent\":\tnull"));
	assert_non_null(strstr(buf_cstr(&doc), "\"start\":\t\"2026-11-29T08:00:00Z\""));
	assert_non_null(strstr(buf_cstr(&doc), "\"end\":\t\"2026-11-29T08:00:13Z\""));
	assert_non_null(strstr(buf_cstr(&doc), "\"duration_seconds\":\t12.5"));
	assert_non_null(strstr(buf_cstr(&doc), "\"args\":\t[\"--epochs\", \"3\"]"));
	assert_int_equal(doc.ptr[doc.len - 1], '\n');

	run_record_init(&back);
	back.duration = -1;
	assert_int_equal(layout_result_parse(&back, doc.ptr, doc.len, "result"), 0);
	assert_string_equal(back.status, "failed");
	assert_int_equal(back.exit_code, 4);
	assert_int_equal(back.start, 1795939200);
	assert_true(back.duration == 12.5);
	assert_int_equal(back.nr_metrics, 1);
	assert_string_equal(back.metrics[0].name, "loss");
	assert_string_equal(run_record_extra(&back, "stage"), "setup");
	run_record_release(&back);
	run_record_release(&rec);
	buf_release(&doc);
}

/* As runner.sh writes it: no "duration_seconds", no args; a run that never ran its script. */
static void test_result_from_the_runner(void **state)
{
	static const char doc[] =
		"{\"run_id\": \"" RUN "\", \"commit\": \"" SHA "\", \"status\": \"failed\", "
		"\"exit_code\": 127, \"stage\": \"code\", \"start\": \"2026-11-29T08:00:00Z\", "
		"\"end\": \"2026-11-29T08:00:07Z\", \"metrics\": {\"acc\": 0.5, \"bad\": \"x\"}}\n";
	struct run_record r;

	(void)state;
	run_record_init(&r);
	r.duration = -1;
	assert_int_equal(layout_result_parse(&r, doc, strlen(doc), "result"), 0);
	assert_string_equal(r.status, "failed");
	assert_int_equal(r.exit_code, 127);
	assert_true(r.duration == 7); /* from start and end */
	assert_string_equal(run_record_extra(&r, "stage"), "code");
	assert_int_equal(r.nr_metrics, 1);
	run_record_release(&r);
}

/* The instance writes the result: only a dependency key reaches the note. */
static void test_result_deps(void **state)
{
	static const char good[] = "{\"status\": \"succeeded\", \"deps\": \"0123456789abcdef\"}";
	static const char *const bad[] = {
		"{\"deps\": \"0123456789abcdef0\"}",
		"{\"deps\": \"0123456789ABCDEF\"}",
		"{\"deps\": \"x status=succeeded\"}",
		"{\"deps\": 12}",
	};
	struct layout l = sample();
	struct run_record r;
	size_t i;

	(void)state;
	assert_owned_equal(layout_envs_prefix(&l), "git-train/demo-1a2b3c4d5e6f/envs/");
	run_record_init(&r);
	assert_int_equal(layout_result_parse(&r, good, strlen(good), "result"), 0);
	assert_string_equal(run_record_extra(&r, "deps"), "0123456789abcdef");
	run_record_release(&r);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		run_record_init(&r);
		assert_int_equal(layout_result_parse(&r, bad[i], strlen(bad[i]), "result"), 0);
		assert_null(run_record_extra(&r, "deps"));
		run_record_release(&r);
	}
}

static void test_result_malformed(void **state)
{
	struct run_record r;

	(void)state;
	run_record_init(&r);
	err_clear();
	assert_int_equal(layout_result_parse(&r, "[1, 2]", 6, "s3://b/k"), -1);
	assert_string_equal(err_msg(), "s3://b/k is not a JSON object");
	err_clear();
	assert_int_equal(layout_result_parse(&r, "{\"status\"", 9, "x"), -1);
	err_clear();
	/* an object without a status is a failed run, not an error */
	assert_int_equal(layout_result_parse(&r, "{}", 2, "x"), 0);
	assert_string_equal(r.status, "failed");
	assert_int_equal(r.exit_code, -1);
	run_record_release(&r);
}

/* A run of several attempts: their number and the time lost reach the note. */
static void test_result_attempts(void **state)
{
	static const char doc[] =
		"{\"status\": \"succeeded\", \"exit_code\": 0, \"start\": \"2026-11-29T08:00:00Z\", "
		"\"duration\": 100, \"lost\": 64.6, \"attempts\": ["
		"{\"attempt\": 1, \"instance\": \"i-0abc\", \"start\": \"2026-11-29T08:00:00Z\", "
		"\"end\": \"2026-11-29T08:00:40Z\", \"duration\": 40, \"status\": \"preempted\", "
		"\"exit_code\": -1},"
		"{\"attempt\": 2, \"instance\": \"i-0def\", \"start\": \"2026-11-29T08:01:45Z\", "
		"\"end\": \"2026-11-29T08:02:45Z\", \"duration\": 60, \"status\": \"succeeded\", "
		"\"exit_code\": 0}]}";
	static const char one[] = "{\"status\": \"succeeded\", \"lost\": 0, \"attempts\": "
				  "[{\"attempt\": 1, \"duration\": 5}]}";
	static const char nodur[] = "{\"status\": \"succeeded\", \"attempts\": "
				    "[{\"attempt\": 1, \"duration\": 5}, {\"attempt\": 2, "
				    "\"duration\": 7.5}]}";
	struct run_record r;

	(void)state;
	run_record_init(&r);
	assert_int_equal(layout_result_parse(&r, doc, strlen(doc), "result"), 0);
	assert_string_equal(run_record_extra(&r, "attempts"), "2");
	assert_string_equal(run_record_extra(&r, "lost"), "65s");
	assert_true(r.duration == 100);
	run_record_release(&r);
	/* one attempt: nothing more than before */
	run_record_init(&r);
	assert_int_equal(layout_result_parse(&r, one, strlen(one), "result"), 0);
	assert_null(run_record_extra(&r, "attempts"));
	assert_null(run_record_extra(&r, "lost"));
	run_record_release(&r);
	/* no duration: the sum of the attempts' */
	run_record_init(&r);
	assert_int_equal(layout_result_parse(&r, nodur, strlen(nodur), "result"), 0);
	assert_string_equal(run_record_extra(&r, "attempts"), "2");
	assert_null(run_record_extra(&r, "lost"));
	assert_true(r.duration == 12.5);
	run_record_release(&r);
}

/* attempts.json is the instance's: junk is left out, numbers clamped, ids checked. */
static void test_attempts_untrusted(void **state)
{
	static const char doc[] =
		"{\"run_id\": \"x\", \"lost\": 1e999, \"attempts\": ["
		"{\"attempt\": 1, \"instance\": \"i-0abc\", \"start\": \"2026-11-29T08:00:00Z\", "
		"\"end\": \"2026-11-29T08:00:40Z\", \"status\": \"preempted\", \"exit_code\": 9999},"
		"\"junk\", 7, {\"attempt\": 1, \"instance\": \"i-0dup\"},"
		"{\"attempt\": 2.5}, {\"attempt\": -3}, {\"attempt\": 1e12},"
		"{\"attempt\": 3, \"instance\": \"../../etc\", \"status\": \"owned\", "
		"\"start\": \"2026-11-29T09:00:00Z\", \"end\": \"2026-11-29T08:00:00Z\", "
		"\"duration\": -5},"
		"{\"attempt\": 4, \"instance\": \"i-0123456789abcdef0123456789\", "
		"\"duration\": 1e300, \"status\": \"running\"},"
		"{\"attempt\": 5, \"instance\": \"local\", \"duration\": 3}]}";
	struct layout_attempts a;
	const struct layout_attempt *last;

	(void)state;
	assert_int_equal(layout_attempts_parse(&a, doc, strlen(doc), "attempts.json"), 0);
	assert_true(a.lost < 0);
	assert_int_equal(a.nr, 4);
	assert_int_equal(a.v[0].attempt, 1);
	assert_string_equal(a.v[0].instance, "i-0abc");
	assert_string_equal(a.v[0].status, "preempted");
	assert_true(a.v[0].duration == 40); /* from start and end */
	assert_int_equal(a.v[0].exit_code, -1);
	assert_int_equal(a.v[1].attempt, 3);
	assert_string_equal(a.v[1].instance, "");
	assert_string_equal(a.v[1].status, "");
	assert_int_equal(a.v[1].end, 0);
	assert_true(a.v[1].duration < 0);
	assert_string_equal(a.v[2].instance, "");
	assert_true(a.v[2].duration < 0);
	last = layout_attempts_last(&a);
	assert_int_equal(last->attempt, 5);
	assert_string_equal(last->instance, "local");
	layout_attempts_release(&a);
	err_clear();
	assert_int_equal(layout_attempts_parse(&a, "[]", 2, "attempts.json"), -1);
	assert_string_equal(err_msg(), "attempts.json is not a JSON object");
	assert_null(layout_attempts_last(&a));
	err_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_run_prefix_is),
		cmocka_unit_test(test_local_paths),
		cmocka_unit_test(test_gc_recognises_only_its_keys),
		cmocka_unit_test(test_run_prefixes),
		cmocka_unit_test(test_result_round_trip),
		cmocka_unit_test(test_result_from_the_runner),
		cmocka_unit_test(test_result_malformed),
		cmocka_unit_test(test_result_deps),
		cmocka_unit_test(test_result_attempts),
		cmocka_unit_test(test_attempts_untrusted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
