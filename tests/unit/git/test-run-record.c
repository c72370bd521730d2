/*
 * Unit tests for run-record: the one-line note form, run ids, metrics.json.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "git/run-record.h"
#include "util/time.h"
#include "util/util.h"

static char *format(const struct run_record *r)
{
	struct buf b = BUF_INIT;

	run_record_format(&b, r);
	return buf_detach(&b);
}

/* Formats r, parses it back, and checks every field came back unchanged. */
static void assert_round_trip(const struct run_record *r)
{
	struct run_record back;
	char *line = format(r), *again;
	size_t i;

	assert_null(strchr(line, '\n'));
	assert_int_equal(run_record_parse(&back, line, strlen(line)), 0);
	assert_string_equal(back.id, r->id);
	if (r->backend)
		assert_string_equal(back.backend, r->backend);
	else
		assert_null(back.backend);
	if (r->status)
		assert_string_equal(back.status, r->status);
	if (r->log)
		assert_string_equal(back.log, r->log);
	else
		assert_null(back.log);
	if (r->parent)
		assert_string_equal(back.parent, r->parent);
	assert_int_equal(back.exit_code, r->exit_code);
	assert_int_equal(back.start, r->start);
	assert_true(back.duration == r->duration);
	assert_int_equal(back.nr_metrics, r->nr_metrics);
	for (i = 0; i < r->nr_metrics; i++) {
		assert_string_equal(back.metrics[i].name, r->metrics[i].name);
		assert_true(back.metrics[i].value == r->metrics[i].value);
	}
	assert_int_equal(back.nr_extra, r->nr_extra);
	for (i = 0; i < r->nr_extra; i++) {
		assert_string_equal(back.extra[i].key, r->extra[i].key);
		assert_string_equal(back.extra[i].value, r->extra[i].value);
	}
	again = format(&back);
	assert_string_equal(again, line);
	free(again);
	free(line);
	run_record_release(&back);
}

static void test_format_plain(void **state)
{
	struct run_record r;
	char *line;

	(void)state;
	run_record_init(&r);
	r.id = xstrdup("20261129-043512-a1b2c3d-4f2a");
	r.backend = xstrdup("local");
	r.status = xstrdup("succeeded");
	r.exit_code = 0;
	r.start = 1795926912; /* 2026-11-29T04:35:12Z */
	r.duration = 12.3;
	run_record_add_metric(&r, "loss", 0.0625);
	run_record_add_metric(&r, "acc", 0.1);
	r.log = xstrdup(".git/train/runs/20261129-043512-a1b2c3d-4f2a/log");
	line = format(&r);
	assert_string_equal(line, "20261129-043512-a1b2c3d-4f2a backend=local status=succeeded "
				  "exit=0 start=2026-11-29T04:35:12Z duration=12.3s "
				  "metric.loss=0.0625 metric.acc=0.1 "
				  "log=.git/train/runs/20261129-043512-a1b2c3d-4f2a/log");
	assert_round_trip(&r);
	free(line);
	run_record_release(&r);
}

static void test_round_trip_odd_values(void **state)
{
	struct run_record r;
	char *line;

	(void)state;
	run_record_init(&r);
	r.id = xstrdup("20260101-000000-0123456789abcdef0123456789abcdef01234567-ffff");
	r.backend = xstrdup("g5.xlarge");
	r.status = xstrdup("failed");
	r.exit_code = 3;
	r.start = 1;
	r.duration = 3723.456;
	r.log = xstrdup("/tmp/my runs/a=b/100%/line\nbreak/\xc3\xa9t\xc3\xa9/\xff\xfe/tab\there");
	r.parent = xstrdup("0123456789abcdef0123456789abcdef01234567");
	run_record_add_metric(&r, "val loss", 1.0 / 3);
	run_record_add_metric(&r, "a=b%c", -2.5e-300);
	run_record_add_metric(&r, "\xce\xbb-accuracy", 0.9);
	run_record_add_metric(&r, "big", 1e300);
	run_record_add_metric(&r, "int", 42);
	run_record_add_metric(&r, "", 0);
	run_record_add_extra(&r, "future key", "some value = 5%");
	run_record_add_extra(&r, "empty", "");
	assert_round_trip(&r);

	line = format(&r);
	/* Valid UTF-8 stays readable, everything that would split the line does not. */
	assert_non_null(strstr(line, "metric.\xce\xbb-accuracy=0.9"));
	assert_non_null(strstr(line, "metric.val%20loss=0.3333333333333333"));
	assert_non_null(strstr(line, "metric.a%3Db%25c=-2.5e-300"));
	assert_non_null(strstr(line, "log=/tmp/my%20runs/a%3Db/100%25/line%0Abreak/"
				     "\xc3\xa9t\xc3\xa9/%FF%FE/tab%09here"));
	assert_non_null(strstr(line, "duration=3723.456s"));
	assert_non_null(strstr(line, "future%20key=some%20value%20%3D%205%25"));
	assert_null(strchr(line, '\t'));
	free(line);
	run_record_release(&r);
}

/*
 * Found by fuzzing: a start before the year 1000 was written "999-06-01..."
 * (strftime's %Y does not pad) and the line no longer parsed; a duration of
 * 1e300 s was cut to 63 digits. Both read back now, and a start that only a
 * zone offset pushes outside 0000-9999 is refused rather than written wrong.
 */
static void test_round_trip_extreme_times(void **state)
{
	static const char line_999[] =
		"20260101-000000-0123456-abcd start=0999-06-01T12:00:00Z duration=1e300s";
	static const char line_early[] =
		"20260101-000000-0123456-abcd start=0000-01-01T00:00:00+01:00";
	struct run_record r, back;
	char *line;

	(void)state;
	assert_int_equal(run_record_parse(&r, line_999, strlen(line_999)), 0);
	line = format(&r);
	assert_non_null(strstr(line, " start=0999-06-01T12:00:00Z "));
	assert_int_equal(run_record_parse(&back, line, strlen(line)), 0);
	assert_int_equal(back.start, r.start);
	assert_true(back.duration == 1e300);
	assert_round_trip(&r);
	run_record_release(&back);
	run_record_release(&r);
	free(line);

	run_record_init(&r);
	r.id = xstrdup("20260101-000000-0123456-abcd");
	r.start = -62167219200LL; /* 0000-01-01T00:00:00Z */
	assert_round_trip(&r);
	line = format(&r);
	assert_non_null(strstr(line, " start=0000-01-01T00:00:00Z"));
	free(line);
	r.start = 253402300799LL; /* 9999-12-31T23:59:59Z */
	assert_round_trip(&r);
	run_record_release(&r);

	err_clear();
	assert_int_equal(run_record_parse(&r, line_early, strlen(line_early)), -1);
	assert_non_null(strstr(err_msg(), "bad start time"));
	err_clear();
}

static void test_round_trip_unknown_fields(void **state)
{
	struct run_record r;

	(void)state;
	run_record_init(&r);
	r.id = xstrdup("20261129-043512-a1b2c3d-0000");
	r.status = xstrdup("interrupted");
	assert_round_trip(&r);
	run_record_release(&r);
}

static void test_number_shortest(void **state)
{
	struct run_record r;
	char *line;

	(void)state;
	run_record_init(&r);
	r.id = xstrdup("20261129-043512-a1b2c3d-0000");
	run_record_add_metric(&r, "a", 0.1);
	run_record_add_metric(&r, "b", 0.1 + 0.2);
	run_record_add_metric(&r, "c", 3);
	run_record_add_metric(&r, "a", 0.5); /* replaces, never duplicates */
	line = format(&r);
	assert_string_equal(line, "20261129-043512-a1b2c3d-0000 metric.a=0.5 "
				  "metric.b=0.30000000000000004 metric.c=3");
	assert_round_trip(&r);
	free(line);
	run_record_release(&r);
}

static void test_parse_reads_unknown_keys(void **state)
{
	const char *line = "20261129-043512-a1b2c3d-4f2a  status=succeeded gpu=A100 "
			   "duration=1h02m03s metric.x=1e3\n";
	struct run_record r;

	(void)state;
	assert_int_equal(run_record_parse(&r, line, strlen(line)), 0);
	assert_string_equal(r.id, "20261129-043512-a1b2c3d-4f2a");
	assert_string_equal(r.status, "succeeded");
	assert_true(r.duration == 3723);
	assert_int_equal(r.nr_metrics, 1);
	assert_true(r.metrics[0].value == 1000);
	assert_int_equal(r.nr_extra, 1);
	assert_string_equal(r.extra[0].key, "gpu");
	assert_string_equal(r.extra[0].value, "A100");
	assert_int_equal(r.exit_code, -1);
	assert_int_equal(r.start, 0);
	run_record_release(&r);
}

static void test_parse_respects_len(void **state)
{
	const char *text = "20261129-043512-a1b2c3d-4f2a status=succeeded\n"
			   "20261129-043513-a1b2c3d-4f2b status=failed exit=1\n";
	size_t first = strcspn(text, "\n");
	struct run_record r;

	(void)state;
	assert_int_equal(run_record_parse(&r, text, first), 0);
	assert_string_equal(r.status, "succeeded");
	assert_int_equal(r.exit_code, -1);
	run_record_release(&r);
}

static void test_parse_not_ours(void **state)
{
	static const char *const lines[] = {
		"",
		"reviewed by alice",
		"Signed-off-by: someone",
		"20261129-043512-a1b2c3d status=succeeded",	 /* no random part */
		"2026112-043512-a1b2c3d-4f2a status=succeeded",	 /* short date */
		"20261129-043512-A1B2C3D-4f2a status=succeeded", /* upper-case sha */
		"20261129-043512-a1b2c3-4f2a status=succeeded",	 /* sha too short */
		"20261129-043512-a1b2c3d-4f2ax status=succeeded",
		"x20261129-043512-a1b2c3d-4f2a status=succeeded",
		" 20261129-043512-a1b2c3d-4f2a status=succeeded",
	};
	struct run_record r;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(lines); i++) {
		assert_int_equal(run_record_parse(&r, lines[i], strlen(lines[i])), 1);
		assert_null(r.id);
		run_record_release(&r);
	}
}

static void test_parse_malformed(void **state)
{
	static const char *const lines[] = {
		"20261129-043512-a1b2c3d-4f2a status", /* no '=' */
		"20261129-043512-a1b2c3d-4f2a =x",     /* empty key */
		"20261129-043512-a1b2c3d-4f2a exit=three",
		"20261129-043512-a1b2c3d-4f2a exit=-1",
		"20261129-043512-a1b2c3d-4f2a start=2026-11-29",
		"20261129-043512-a1b2c3d-4f2a start=2026-13-29T04:35:12Z",
		"20261129-043512-a1b2c3d-4f2a duration=12.3",
		"20261129-043512-a1b2c3d-4f2a duration=-1s",
		"20261129-043512-a1b2c3d-4f2a duration=fast",
		"20261129-043512-a1b2c3d-4f2a metric.loss=",
		"20261129-043512-a1b2c3d-4f2a metric.loss=0.5x",
		"20261129-043512-a1b2c3d-4f2a log=a%2",
		"20261129-043512-a1b2c3d-4f2a log=a%zz",
		"20261129-043512-a1b2c3d-4f2a log=a%00b",
		"20261129-043512-a1b2c3d-4f2a status=a status=b",
		"20261129-043512-a1b2c3d-4f2a status=a\tb",
	};
	struct run_record r;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(lines); i++) {
		err_clear();
		assert_int_equal(run_record_parse(&r, lines[i], strlen(lines[i])), -1);
		assert_true(strlen(err_msg()) > 0);
		assert_null(r.id);
		run_record_release(&r);
	}
	err_clear();
}

static void test_run_id_format(void **state)
{
	char *id = run_record_new_id("a1b2c3d", 1795926912);
	struct run_record r;
	size_t i;

	(void)state;
	assert_int_equal(strlen(id), strlen("20261129-043512-a1b2c3d-4f2a"));
	assert_memory_equal(id, "20261129-043512-a1b2c3d-", 24);
	for (i = 24; i < 28; i++)
		assert_non_null(strchr("0123456789abcdef", id[i]));
	/* a run id alone is a valid note line */
	assert_int_equal(run_record_parse(&r, id, strlen(id)), 0);
	assert_string_equal(r.id, id);
	run_record_release(&r);
	free(id);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_run_id_unique_and_sorted(void **state)
{
	char *ids[1000], *early, *late;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(ids); i++)
		ids[i] = run_record_new_id("a1b2c3d", 1795926912);
	qsort(ids, ARRAY_SIZE(ids), sizeof(ids[0]), cmp_str);
	for (i = 1; i < ARRAY_SIZE(ids); i++)
		assert_string_not_equal(ids[i - 1], ids[i]);
	for (i = 0; i < ARRAY_SIZE(ids); i++)
		free(ids[i]);

	/* a later second sorts after, whatever the random part */
	early = run_record_new_id("fffffff", 1795926912);
	late = run_record_new_id("0000000", 1795926913);
	assert_true(strcmp(early, late) < 0);
	free(early);
	free(late);
}

static void test_metrics_json(void **state)
{
	static const char json[] = "{\"loss\": 0.0625, \"epochs\": 3, \"name\": \"resnet\", "
				   "\"ok\": true, \"nested\": {\"a\": 1}, \"list\": [1], "
				   "\"n\": null, \"tiny\": -1.5e-10}";
	struct buf warnings = BUF_INIT;
	struct run_record r;

	(void)state;
	run_record_init(&r);
	assert_int_equal(run_record_parse_metrics(&r, json, &warnings), 0);
	assert_int_equal(r.nr_metrics, 3);
	assert_string_equal(r.metrics[0].name, "loss");
	assert_true(r.metrics[0].value == 0.0625);
	assert_string_equal(r.metrics[1].name, "epochs");
	assert_true(r.metrics[1].value == 3);
	assert_string_equal(r.metrics[2].name, "tiny");
	assert_true(r.metrics[2].value == -1.5e-10);
	assert_non_null(strstr(buf_cstr(&warnings), "'name': a string"));
	assert_non_null(strstr(buf_cstr(&warnings), "'ok': a boolean"));
	assert_non_null(strstr(buf_cstr(&warnings), "'nested': an object"));
	assert_non_null(strstr(buf_cstr(&warnings), "'list': an array"));
	assert_non_null(strstr(buf_cstr(&warnings), "'n': null"));
	assert_null(strstr(buf_cstr(&warnings), "loss"));
	buf_release(&warnings);
	run_record_release(&r);
}

static void test_metrics_json_empty_and_unicode(void **state)
{
	struct run_record r;

	(void)state;
	run_record_init(&r);
	assert_int_equal(run_record_parse_metrics(&r, "{}", NULL), 0);
	assert_int_equal(r.nr_metrics, 0);
	assert_int_equal(run_record_parse_metrics(&r, "{\"\\u03bb loss\": 2}", NULL), 0);
	assert_int_equal(r.nr_metrics, 1);
	assert_string_equal(r.metrics[0].name, "\xce\xbb loss");
	run_record_release(&r);
}

static void test_metrics_json_invalid(void **state)
{
	static const char *const bad[] = { "",	"{",	    "{\"loss\": }",	     "[1, 2]",
					   "3", "\"loss\"", "{\"loss\": 1} trailing" };
	struct run_record r;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		run_record_init(&r);
		err_clear();
		assert_int_equal(run_record_parse_metrics(&r, bad[i], NULL), -1);
		assert_non_null(strstr(err_msg(), "metrics.json"));
		assert_int_equal(r.nr_metrics, 0);
		run_record_release(&r);
	}
	err_clear();
}

/* Two lines of a run are the same but for their seals; anything else differs. */
static void test_same_but_for_the_seal(void **state)
{
	static const char *const lines[] = {
		"20261129-043512-a1b2c3d-4f2a backend=local status=succeeded exit=0 smoke=1",
		"20261129-043512-a1b2c3d-4f2a backend=local status=succeeded exit=0 smoke=1 "
		"clone=0123456789abcdef0123456789abcdef",
		"20261129-043512-a1b2c3d-4f2a backend=local status=succeeded exit=0 "
		"clone=fedcba9876543210fedcba9876543210 smoke=1",
		"20261129-043512-a1b2c3d-4f2a backend=local status=failed exit=0 smoke=1",
		"20261129-043512-a1b2c3d-4f2a backend=a1.forged status=succeeded exit=0 smoke=1",
		"20261129-043512-a1b2c3d-4f2a backend=local status=succeeded exit=0 smoke=1 "
		"clone2=x",
	};
	struct run_record r[ARRAY_SIZE(lines)];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(lines); i++)
		assert_int_equal(run_record_parse(&r[i], lines[i], strlen(lines[i])), 0);
	assert_true(run_record_same(&r[0], &r[0]));
	assert_true(run_record_same(&r[0], &r[1]));
	assert_true(run_record_same(&r[1], &r[2]));
	for (i = 3; i < ARRAY_SIZE(lines); i++) {
		assert_false(run_record_same(&r[0], &r[i]));
		assert_false(run_record_same(&r[i], &r[1]));
	}
	for (i = 0; i < ARRAY_SIZE(lines); i++)
		run_record_release(&r[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_plain),
		cmocka_unit_test(test_round_trip_odd_values),
		cmocka_unit_test(test_round_trip_extreme_times),
		cmocka_unit_test(test_round_trip_unknown_fields),
		cmocka_unit_test(test_number_shortest),
		cmocka_unit_test(test_parse_reads_unknown_keys),
		cmocka_unit_test(test_parse_respects_len),
		cmocka_unit_test(test_parse_not_ours),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_run_id_format),
		cmocka_unit_test(test_run_id_unique_and_sorted),
		cmocka_unit_test(test_metrics_json),
		cmocka_unit_test(test_metrics_json_empty_and_unicode),
		cmocka_unit_test(test_metrics_json_invalid),
		cmocka_unit_test(test_same_but_for_the_seal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
