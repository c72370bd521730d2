/*
 * launch: ready means reachable. "running" only says the hypervisor
 * started it; the run needs the SSM agent to have registered, which takes
 * a boot and an agent start, and never happens without an instance
 * profile, an agent in the AMI or a route to SSM.
 */
#include "run/launch-internal.h"

#include <stdlib.h>
#include <string.h>

#include "services/ssm.h"
#include "util/time.h"

/* Without a terminal, a line when a phase starts and then every this many seconds. */
#define PLAIN_LINE_INTERVAL 30

struct ready {
	struct launch_ctx *x;
	struct ec2_instance *inst;
	double start, deadline, last_line;
	const char *phase; /* "running", "reachable through SSM" */
};

static void show(struct ready *w, const char *end)
{
	double now = now_monotonic();
	struct buf b = BUF_INIT;

	int keep = *end || !w->last_line || now - w->last_line >= PLAIN_LINE_INTERVAL;

	buf_printf(&b, "waiting for %s to be %s (", w->inst->id, w->phase);
	time_format_elapsed(&b, (long)(now - w->start));
	buf_printf(&b, ")%s", end);
	launch_line(w->x, b.ptr, keep);
	if (keep)
		w->last_line = now;
	buf_release(&b);
}

/* Sleeps seconds, redrawing the line each second. */
static int wait_a_while(struct ready *w, double seconds)
{
	double until = now_monotonic() + seconds, left;
	int r = 0;

	while (!r && (left = until - now_monotonic()) > 0) {
		show(w, "");
		r = launch_sleep(w->x, left < 1 ? left : 1);
	}
	return r;
}

static int gone(const struct ec2_instance *i)
{
	return !strcmp(i->state, "terminated") || !strcmp(i->state, "shutting-down") ||
	       !strcmp(i->state, "stopping") || !strcmp(i->state, "stopped");
}

/* DescribeInstances into *w->inst: 0, 1 while EC2 does not list it yet, or -1. */
static int refresh(struct ready *w)
{
	const char *id = w->inst->id;
	struct ec2_instance *v = NULL;
	size_t n = 0;
	int r;

	r = ec2_describe_instances(&v, &n, w->x->c, &id, 1, NULL, 0);
	if (r) {
		/* right after RunInstances, EC2 may not know its own instance yet */
		if (!strncmp(err_msg(), "InvalidInstanceID.NotFound", 26)) {
			err_clear();
			r = 1;
		}
		goto out;
	}
	if (!n || !v[0].state) {
		r = 1;
		goto out;
	}
	ec2_instance_release(w->inst);
	*w->inst = v[0];
	memset(&v[0], 0, sizeof(v[0]));
out:
	ec2_instances_free(v, n);
	return r;
}

static int wait_running(struct ready *w)
{
	double delay = 1;
	int r;

	for (;;) {
		r = refresh(w);
		if (r < 0)
			return r;
		if (!r && !strcmp(w->inst->state, "running"))
			return 0;
		if (!r && gone(w->inst))
			return err_set("%s is %s before it was ready: %s", w->inst->id,
				       w->inst->state,
				       w->inst->state_reason ? w->inst->state_reason
							     : "EC2 gave no reason");
		if (now_monotonic() >= w->deadline)
			return err_set("%s was not running after %lds (still %s)", w->inst->id,
				       w->x->o->ready_timeout, r ? "unknown" : w->inst->state);
		r = wait_a_while(w, delay);
		if (r)
			return r;
		delay = 2;
	}
}

/* The error of a readiness timeout, and its likely causes. */
static void unreachable(struct ready *w)
{
	const struct launch_opts *o = w->x->o;
	struct buf took = BUF_INIT;

	time_format_elapsed(&took, o->ready_timeout);
	err_set("%s did not become reachable through SSM within %s", w->inst->id, took.ptr);
	if (o->instance_profile)
		err_hint("the instance profile %s needs a role that can use SSM "
			 "(`git train doctor` checks it)",
			 o->instance_profile);
	else
		err_hint("no instance profile was given: the SSM agent cannot register without "
			 "one (git config train.instanceProfile <name>)");
	err_hint("the AMI %s may have no SSM agent (Amazon Linux 2023 has one)",
		 w->x->ami ? w->x->ami : "used");
	err_hint("the subnet may have no route to SSM: it needs an internet gateway or NAT, "
		 "or VPC endpoints for ssm, ssmmessages and ec2messages");
	err_hint("a slow boot needs a longer --ready-timeout (train.readyTimeout)");
	buf_release(&took);
}

/* 0 online, 1 timed out, or < 0. */
static int wait_online(struct ready *w)
{
	char *ping = NULL;
	int online = 0, r;

	for (;;) {
		r = ssm_instance_online(&online, &ping, w->x->c, w->inst->id);
		free(ping);
		ping = NULL;
		if (r || online)
			return r;
		if (now_monotonic() >= w->deadline) {
			/* a spot instance reclaimed meanwhile is the better explanation */
			if (!refresh(w) && gone(w->inst))
				return err_set("%s is %s before it was ready: %s", w->inst->id,
					       w->inst->state,
					       w->inst->state_reason ? w->inst->state_reason
								     : "EC2 gave no reason");
			err_clear();
			return 1;
		}
		r = wait_a_while(w, 2);
		if (r)
			return r;
	}
}

int launch_wait_ready(struct launch_ctx *x, struct ec2_instance *inst)
{
	struct ready w;
	int r;

	memset(&w, 0, sizeof(w));
	w.x = x;
	w.inst = inst;
	w.start = now_monotonic();
	w.deadline = w.start + (x->o->ready_timeout > 0 ? x->o->ready_timeout : 0);
	w.phase = "running";
	r = launch_cancelled(x) ? RC_CANCELLED : wait_running(&w);
	if (!r) {
		w.phase = "reachable through SSM";
		w.last_line = 0;
		r = wait_online(&w);
	}
	if (!r) {
		show(&w, ", done.");
		launch_line_end(x);
		return 0;
	}
	launch_line_end(x);
	if (r == RC_CANCELLED) {
		if (launch_terminate(x, inst->id, inst->spot_request, "interrupted")) {
			err_set("interrupted, but %s may still be running", inst->id);
			r = RC_ERROR;
		}
	} else if (r == 1) {
		launch_terminate(x, inst->id, inst->spot_request, "not reachable");
		unreachable(&w);
		r = -1;
	} else {
		/* the error is the news: keep it while the instance goes */
		char *e = xstrdup(err_msg());

		launch_terminate(x, inst->id, inst->spot_request, "not ready");
		err_set("%s", e);
		free(e);
	}
	return r;
}
