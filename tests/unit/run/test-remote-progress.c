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
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
