/*
 * Unit tests for remote-progress: which phase a run is in across its
 * attempts, and how status says it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "run/remote-progress.h"
#include "util/util.h"

/* A stopped instance waits only while its persistent request can bring it back. */
static void test_phase(void **state)
{
	(void)state;
	assert_int_equal(remote_progress_phase("pending", NULL), REMOTE_STARTING);
	assert_int_equal(remote_progress_phase("running", NULL), REMOTE_RUNNING);
	assert_int_equal(remote_progress_phase("running", "active"), REMOTE_RUNNING);
	assert_int_equal(remote_progress_phase("stopped", "disabled"), REMOTE_WAITING);
	assert_int_equal(remote_progress_phase("stopping", "active"), REMOTE_WAITING);
	assert_int_equal(remote_progress_phase("stopped", "open"), REMOTE_WAITING);
	/* a request whose state could not be read: still one that exists */
	assert_int_equal(remote_progress_phase("stopped", ""), REMOTE_WAITING);
	assert_int_equal(remote_progress_phase("stopped", "cancelled"), REMOTE_GONE);
	assert_int_equal(remote_progress_phase("stopped", "closed"), REMOTE_GONE);
	/* one-time spot or on-demand: no request, nothing brings it back */
	assert_int_equal(remote_progress_phase("stopped", NULL), REMOTE_GONE);
	assert_int_equal(remote_progress_phase("terminated", "disabled"), REMOTE_GONE);
	assert_int_equal(remote_progress_phase("shutting-down", NULL), REMOTE_GONE);
	assert_int_equal(remote_progress_phase(NULL, "active"), REMOTE_GONE);
}

/*
 * A run on several instances waits for capacity while any node waits (its
 * peers wait for it); else it is in node 0's phase.
 */
static void test_nodes_phase(void **state)
{
	const enum remote_phase running[] = { REMOTE_RUNNING, REMOTE_RUNNING, REMOTE_RUNNING };
	const enum remote_phase one[] = { REMOTE_RUNNING, REMOTE_RUNNING, REMOTE_WAITING };
	const enum remote_phase two[] = { REMOTE_WAITING, REMOTE_WAITING, REMOTE_GONE };
	const enum remote_phase node0_gone[] = { REMOTE_GONE, REMOTE_RUNNING };
	const enum remote_phase starting[] = { REMOTE_STARTING, REMOTE_RUNNING };
	int node = -1;

	(void)state;
	assert_int_equal(remote_progress_nodes_phase(running, 3, &node), REMOTE_RUNNING);
	assert_int_equal(node, 0);
	assert_int_equal(remote_progress_nodes_phase(one, 3, &node), REMOTE_WAITING);
	assert_int_equal(node, 2);
	/* the first that waits is the one said */
	assert_int_equal(remote_progress_nodes_phase(two, 3, &node), REMOTE_WAITING);
	assert_int_equal(node, 0);
	/* a node gone for good is node 0's runner's to see (runner.h): node 0 is the run */
	assert_int_equal(remote_progress_nodes_phase(node0_gone, 2, &node), REMOTE_GONE);
	assert_int_equal(remote_progress_nodes_phase(starting, 2, &node), REMOTE_STARTING);
	assert_int_equal(remote_progress_nodes_phase(NULL, 0, &node), REMOTE_GONE);
}

static char *said(const struct remote_progress *p)
{
	struct buf b = BUF_INIT;

	remote_progress_describe(&b, p);
	return buf_detach(&b);
}

static void test_describe(void **state)
{
	struct remote_progress p;
	struct buf clock = BUF_INIT;
	char *s, *want;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.phase = REMOTE_RUNNING;
	p.attempt = 1;
	s = said(&p);
	assert_string_equal(s, "running"); /* the first attempt goes unsaid */
	free(s);
	p.attempt = 3;
	s = said(&p);
	assert_string_equal(s, "running (attempt 3)");
	free(s);
	p.phase = REMOTE_WAITING;
	p.attempt = 2;
	p.since = 1795939380;
	remote_progress_clock(&clock, p.since);
	assert_int_equal(clock.len, 5);
	assert_true(clock.ptr[2] == ':');
	s = said(&p);
	want = xstrfmt("preempted (attempt 2, waiting for capacity since %s)", buf_cstr(&clock));
	assert_string_equal(s, want);
	free(s);
	free(want);
	p.since = 0;
	p.attempt = 0;
	s = said(&p);
	assert_string_equal(s, "preempted (waiting for capacity)");
	free(s);
	buf_release(&clock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phase),
		cmocka_unit_test(test_nodes_phase),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
