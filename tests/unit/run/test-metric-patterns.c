/*
 * Unit tests for metric-patterns: train.metric entries checked at load,
 * the last numeric match of a log fed in pieces of any size, long lines,
 * carriage returns, and metrics.json winning over a pattern.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "run/metric-patterns.h"
#include "util/util.h"

static double metric(const struct run_record *r, const char *name, int *found)
{
	size_t i;

	for (i = 0; i < r->nr_metrics; i++)
		if (!strcmp(r->metrics[i].name, name))
			return *found = 1, r->metrics[i].value;
	return *found = 0, 0;
}

static void scan(struct run_record *rec, const struct metric_patterns *p, const char *log,
		 size_t piece)
{
	struct metric_scan s;
	size_t i, n = strlen(log);

	metric_scan_init(&s, p);
	for (i = 0; i < n; i += piece)
		metric_scan_feed(&s, log + i, n - i < piece ? n - i : piece);
	metric_scan_finish(&s, rec);
	metric_scan_release(&s);
}

static void test_bad_entries(void **state)
{
	struct metric_patterns p = { 0 };

	(void)state;
	assert_int_equal(metric_patterns_add(&p, "no equals sign"), -1);
	assert_non_null(strstr(err_msg(), "'no equals sign'"));
	err_clear();
	assert_int_equal(metric_patterns_add(&p, "val_loss=val loss [0-9.]+"), -1);
	assert_non_null(strstr(err_msg(), "exactly one capture group"));
	err_clear();
	assert_int_equal(metric_patterns_add(&p, "a=(x)(y)"), -1);
	err_clear();
	assert_int_equal(metric_patterns_add(&p, "a=([0-9]"), -1);
	assert_non_null(strstr(err_msg(), "bad regular expression"));
	err_clear();
	assert_int_equal(metric_patterns_add(&p, "bad name=([0-9]+)"), -1);
	err_clear();
	assert_int_equal(metric_patterns_add(&p, "=([0-9]+)"), -1);
	err_clear();
	assert_int_equal(p.nr, 0);
	assert_int_equal(metric_patterns_add(&p, "val_loss=val loss ([0-9.]+)"), 0);
	assert_int_equal(p.nr, 1);
	metric_patterns_release(&p);
}

static void test_last_number_wins(void **state)
{
	static const char log[] = "epoch 1 val loss 0.9\n"
				  "epoch 2 val loss 0.5\n"
				  "val loss nan\n"		    /* not matched: no digits */
				  "val loss 1.2.3 (not a number)\n" /* matched, not a number */
				  "acc=0.1 acc=0.2\r"
				  "acc=0.3 and val loss 0.25"; /* no newline at the end */
	struct metric_patterns p = { 0 };
	size_t pieces[] = { 1, 3, 7, 4096 }, i;
	int found;

	(void)state;
	assert_int_equal(metric_patterns_add(&p, "val_loss=val loss ([0-9.]+)"), 0);
	assert_int_equal(metric_patterns_add(&p, "acc=acc=([0-9.]+)"), 0);
	assert_int_equal(metric_patterns_add(&p, "missing=never ([0-9]+)"), 0);
	for (i = 0; i < ARRAY_SIZE(pieces); i++) {
		struct run_record rec;

		run_record_init(&rec);
		scan(&rec, &p, log, pieces[i]);
		assert_int_equal(rec.nr_metrics, 2);
		assert_true(metric(&rec, "val_loss", &found) == 0.25 && found);
		assert_true(metric(&rec, "acc", &found) == 0.3 && found);
		metric(&rec, "missing", &found);
		assert_false(found);
		run_record_release(&rec);
	}
	metric_patterns_release(&p);
}

static void test_metrics_json_wins(void **state)
{
	struct metric_patterns p = { 0 };
	struct run_record rec;
	int found;

	(void)state;
	run_record_init(&rec);
	run_record_add_metric(&rec, "loss", 7);
	assert_int_equal(metric_patterns_add(&p, "loss=loss ([0-9.]+)"), 0);
	assert_int_equal(metric_patterns_add(&p, "lr=lr (-?[0-9.e-]+)"), 0);
	/* two entries for one name: the later match counts */
	assert_int_equal(metric_patterns_add(&p, "lr=learning rate ([0-9.]+)"), 0);
	scan(&rec, &p, "loss 0.5 lr 1e-3\nlearning rate 0.01\nlr 2e-4\n", 5);
	assert_true(metric(&rec, "loss", &found) == 7 && found);
	assert_true(metric(&rec, "lr", &found) == 2e-4 && found);
	run_record_release(&rec);
	metric_patterns_release(&p);
}

/* A line longer than the cap is matched on its first METRIC_LINE_MAX bytes only. */
static void test_long_line(void **state)
{
	struct metric_patterns p = { 0 };
	struct run_record rec;
	char *log = xcalloc(1, 3 * METRIC_LINE_MAX);
	int found;

	(void)state;
	memset(log, 'x', 2 * METRIC_LINE_MAX);
	memcpy(log, "v 1 ", 4);
	memcpy(log + METRIC_LINE_MAX + 10, "v 2 ", 4);
	strcpy(log + 2 * METRIC_LINE_MAX, "\nshort\n");
	run_record_init(&rec);
	assert_int_equal(metric_patterns_add(&p, "v=v ([0-9]+) "), 0);
	scan(&rec, &p, log, 1000);
	assert_true(metric(&rec, "v", &found) == 1 && found);
	run_record_release(&rec);
	metric_patterns_release(&p);
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_entries),
		cmocka_unit_test(test_last_number_wins),
		cmocka_unit_test(test_metrics_json_wins),
		cmocka_unit_test(test_long_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
