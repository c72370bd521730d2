/*
 * Unit tests for remote-run: the note line of a run on EC2, AWS's times,
 * dollars.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run/layout.h"
#include "run/remote-run.h"
#include "util/time.h"
#include "util/strvec.h"
#include "util/util.h"

static struct remote_run sample(void)
{
	struct remote_run r;

	memset(&r, 0, sizeof(r));
	r.run_id = "20261129-080117-0fec4c8-0017";
	r.commit = "0fec4c8a9b0c1d2e3f405162738495a6b7c8d9e0";
	r.instance_id = "i-0a1b2c3d4e5f67890";
	r.instance_type = "g5.xlarge";
	r.market = "spot";
	r.az = "us-east-1b";
	r.price = 0.302;
	r.launched = 1795939200; /* 2026-11-29T08:00:00Z */
	r.bucket = "bucket";
	r.run_prefix = "git-train/demo/0fec4c8a9b0c1d2e3f405162738495a6b7c8d9e0/runs/"
		       "20261129-080117-0fec4c8-0017/";
	return r;
}

static char *line_of(const struct run_record *rec)
{
	struct buf b = BUF_INIT;

	run_record_format(&b, rec);
	return buf_detach(&b);
}

/* Every field a note of a remote run has, in the order git log shows them. */
static void test_describe_line(void **state)
{
	struct remote_run r = sample();
	struct run_record rec, back;
	char *line;
	const char *p = "s3://bucket/git-train/demo/0fec4c8a9b0c1d2e3f405162738495a6b7c8d9e0/runs/"
			"20261129-080117-0fec4c8-0017/";
	char *want;

	(void)state;
	remote_run_describe(&rec, &r, 0, 3600);
	rec.status = xstrdup("stopped");
	line = line_of(&rec);
	want = xstrfmt("20261129-080117-0fec4c8-0017 backend=g5.xlarge status=stopped "
		       "start=2026-11-29T08:00:00Z duration=3600s log=%slog market=spot "
		       "az=us-east-1b price=0.302 cost=0.302 instance=i-0a1b2c3d4e5f67890 "
		       "outputs=%soutputs/",
		       p, p);
	assert_string_equal(line, want);
	assert_int_equal(run_record_parse(&back, line, strlen(line)), 0);
	assert_string_equal(back.log, rec.log);
	run_record_release(&back);
	run_record_release(&rec);
	free(line);
	free(want);
}

/* Unknown price or duration: no cost is made up. */
static void test_describe_unknowns(void **state)
{
	struct remote_run r = sample();
	struct run_record rec;
	char *line;

	(void)state;
	r.price = -1;
	r.parent = "1111111111111111111111111111111111111111";
	remote_run_describe(&rec, &r, 1795939260, -1);
	line = line_of(&rec);
	assert_non_null(strstr(line, " start=2026-11-29T08:01:00Z "));
	assert_non_null(strstr(line, " parent=1111111111111111111111111111111111111111 "));
	assert_null(strstr(line, "price="));
	assert_null(strstr(line, "cost="));
	assert_null(strstr(line, "duration="));
	run_record_release(&rec);
	free(line);
}

static int exit_code_of(const char *result_json)
{
	struct run_record rec;
	int code;

	run_record_init(&rec);
	assert_int_equal(layout_result_parse(&rec, result_json, strlen(result_json), "result.json"),
			 0);
	code = rec.exit_code;
	run_record_release(&rec);
	return code;
}

/*
 * Found by fuzzing: result.json's exit_code was cast to int whatever it
 * held, undefined for 1e300. A number that is no exit code reads as unknown.
 */
static void test_result_exit_code_clamped(void **state)
{
	(void)state;
	assert_int_equal(exit_code_of("{\"status\": \"failed\", \"exit_code\": 3}"), 3);
	assert_int_equal(exit_code_of("{\"exit_code\": 0}"), 0);
	assert_int_equal(exit_code_of("{\"exit_code\": 2147483647}"), 2147483647);
	assert_int_equal(exit_code_of("{\"exit_code\": 1e300}"), -1);
	assert_int_equal(exit_code_of("{\"exit_code\": -1e300}"), -1);
	assert_int_equal(exit_code_of("{\"exit_code\": 2147483648}"), -1);
	assert_int_equal(exit_code_of("{\"exit_code\": 1e999}"), -1);
	assert_int_equal(exit_code_of("{\"exit_code\": 2.5}"), -1);
	assert_int_equal(exit_code_of("{\"exit_code\": -7}"), -1);
	assert_int_equal(exit_code_of("{\"exit_code\": \"3\"}"), -1);
}

static void assert_usd(double v, const char *want)
{
	struct buf b = BUF_INIT;

	remote_run_format_usd(&b, v);
	assert_string_equal(buf_cstr(&b), want);
	buf_release(&b);
}

static void test_format_usd(void **state)
{
	(void)state;
	assert_usd(0.0104, "0.0104");
	assert_usd(1.25, "1.25");
	assert_usd(3, "3");
	assert_usd(0.0104 * 100 / 3600, "0.000289");
	assert_usd(0, "0");
	assert_usd(1234.5, "1234.5");
}

/* The cost of a run of several attempts: each at the price of its own instance. */
static void test_attempts_cost(void **state)
{
	static const char doc[] =
		"{\"attempts\": [{\"attempt\": 1, \"instance\": \"i-0aaa\", \"duration\": 3600},"
		"{\"attempt\": 2, \"instance\": \"i-0bbb\", \"duration\": 1800},"
		"{\"attempt\": 3, \"instance\": \"i-0ccc\", \"duration\": 360}]}";
	struct remote_instance inst[2];
	struct remote_run r = sample();
	struct layout_attempts a;

	(void)state;
	memset(inst, 0, sizeof(inst));
	inst[0].instance_id = "i-0aaa";
	inst[0].price = 0.1;
	inst[1].instance_id = "i-0bbb";
	inst[1].price = 1.0;
	r.instances = inst;
	r.nr_instances = 2;
	r.price = 0.5; /* the run's: for i-0ccc, which run.json does not list */
	assert_int_equal(layout_attempts_parse(&a, doc, strlen(doc), "result.json"), 0);
	assert_true(fabs(remote_run_attempts_cost(&r, &a) - (0.1 + 0.5 + 0.05)) < 1e-9);
	/* on several instances: every node ran each attempt (issue 14) */
	r.nodes = 3;
	assert_true(fabs(remote_run_attempts_cost(&r, &a) - 3 * (0.1 + 0.5 + 0.05)) < 1e-9);
	r.nodes = 0;
	r.price = -1; /* i-0ccc's price is not known: nor is the cost */
	assert_true(remote_run_attempts_cost(&r, &a) < 0);
	layout_attempts_release(&a);
}

/* Every persistent request of a run: node 0's once, the others' by rank, none for "". */
static void test_spot_requests(void **state)
{
	struct remote_run r = sample();
	struct strvec v = STRVEC_INIT;

	(void)state;
	remote_run_spot_requests(&v, &r);
	assert_int_equal(v.nr, 0);
	r.spot_request = "sir-aaaa1111";
	remote_run_spot_requests(&v, &r);
	assert_int_equal(v.nr, 1);
	assert_string_equal(v.v[0], "sir-aaaa1111");
	strvec_clear(&v);
	memset(&r.node_spot_requests, 0, sizeof(r.node_spot_requests));
	strvec_push(&r.node_spot_requests, "sir-aaaa1111");
	strvec_push(&r.node_spot_requests, "");
	strvec_push(&r.node_spot_requests, "sir-cccc3333");
	remote_run_spot_requests(&v, &r);
	assert_int_equal(v.nr, 2);
	assert_string_equal(v.v[0], "sir-aaaa1111");
	assert_string_equal(v.v[1], "sir-cccc3333");
	strvec_clear(&v);
	strvec_clear(&r.node_spot_requests);
}

/*
 * On several nodes: every node over every attempt, and the nodes that were
 * not interrupted over the wait between two attempts.
 */
static void test_attempts_cost_nodes(void **state)
{
	static const char doc[] =
		"{\"attempts\": [{\"attempt\": 1, \"instance\": \"i-0aaa\", "
		"\"start\": \"2026-01-01T00:00:00Z\", \"end\": \"2026-01-01T01:00:00Z\", "
		"\"duration\": 3600, \"status\": \"preempted\"},"
		"{\"attempt\": 2, \"instance\": \"i-0aaa\", "
		"\"start\": \"2026-01-01T01:30:00Z\", \"end\": \"2026-01-01T02:30:00Z\", "
		"\"duration\": 3600, \"status\": \"succeeded\"}]}";
	struct remote_run r = sample();
	struct layout_attempts a;

	(void)state;
	r.instances = NULL;
	r.nr_instances = 0;
	r.price = 1.0;
	r.nodes = 3;
	assert_int_equal(layout_attempts_parse(&a, doc, strlen(doc), "result.json"), 0);
	/* 3 nodes x 2 hours, and 2 nodes x the half hour between */
	assert_true(fabs(remote_run_attempts_cost(&r, &a) - (6.0 + 1.0)) < 1e-9);
	r.nodes = 1; /* one instance: a stopped instance costs no instance hours */
	assert_true(fabs(remote_run_attempts_cost(&r, &a) - 2.0) < 1e-9);
	layout_attempts_release(&a);
}

/*
 * A run on several instances (issue 14): nodes= and instances= by node
 * rank, the cost of every node; node R > 0's keys under nodes/<R>/.
 */
static void test_nodes(void **state)
{
	struct remote_run r = sample();
	struct run_record rec;
	char *key;

	(void)state;
	r.nodes = 2;
	memset(&r.node_instances, 0, sizeof(r.node_instances));
	strvec_push(&r.node_instances, "i-0a1b2c3d4e5f67890");
	strvec_push(&r.node_instances, "i-0f9e8d7c6b5a43210");
	remote_run_describe(&rec, &r, 0, 3600);
	assert_string_equal(run_record_extra(&rec, "nodes"), "2");
	assert_string_equal(run_record_extra(&rec, "instances"),
			    "i-0a1b2c3d4e5f67890,i-0f9e8d7c6b5a43210");
	assert_string_equal(run_record_extra(&rec, "instance"), "i-0a1b2c3d4e5f67890");
	assert_string_equal(run_record_extra(&rec, "price"), "0.302");
	assert_string_equal(run_record_extra(&rec, "cost"), "0.604");
	run_record_release(&rec);
	strvec_clear(&r.node_instances);

	key = remote_run_node_key(r.run_prefix, 0, LAYOUT_LOG);
	assert_string_equal(key, "git-train/demo/0fec4c8a9b0c1d2e3f405162738495a6b7c8d9e0/runs/"
				 "20261129-080117-0fec4c8-0017/log");
	free(key);
	key = remote_run_node_key(r.run_prefix, 1, LAYOUT_LOG);
	assert_string_equal(key, "git-train/demo/0fec4c8a9b0c1d2e3f405162738495a6b7c8d9e0/runs/"
				 "20261129-080117-0fec4c8-0017/nodes/1/log");
	free(key);
	key = remote_run_node_key(r.run_prefix, 12, LAYOUT_RESULT);
	assert_string_equal(key, "git-train/demo/0fec4c8a9b0c1d2e3f405162738495a6b7c8d9e0/runs/"
				 "20261129-080117-0fec4c8-0017/nodes/12/result.json");
	free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_describe_line),
		cmocka_unit_test(test_describe_unknowns),
		cmocka_unit_test(test_format_usd),
		cmocka_unit_test(test_attempts_cost),
		cmocka_unit_test(test_attempts_cost_nodes),
		cmocka_unit_test(test_spot_requests),
		cmocka_unit_test(test_result_exit_code_clamped),
		cmocka_unit_test(test_nodes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
