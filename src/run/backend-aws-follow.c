/*
 * backend-aws-follow: follow and collect. The runner uploads the log every
 * few seconds and the result at the end; follow reads the log from where
 * it left off (a ranged GET: only new bytes travel) until the result is
 * there, across the run's attempts: an instance stopped by a spot
 * interruption with its persistent request still there is waiting for
 * capacity, not dead (remote-progress.h), and when it has waited longer
 * than train.resumeTimeout the run moves to another zone
 * (backend-aws-relaunch.c). The runner appends every attempt to the same
 * log. A run on several instances waits while any node's instance does, and
 * moves whole.
 */
#include "run/backend-aws-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/layout.h"
#include "run/remote-progress.h"
#include "util/time.h"
#include "services/s3-objects.h"

/* Seconds between two looks at the log. */
#define FOLLOW_INTERVAL 1.5
/* Seconds between two looks at the instance, to notice it is gone. */
#define INSTANCE_CHECK_INTERVAL 15
/* How long a gone instance may still be followed: its last uploads may be on their way. */
#define GONE_GRACE 20
/* S3 failures in a row before giving up following (the run goes on). */
#define MAX_FAILURES 5

struct follower {
	struct aws_run *x;
	char *log_key;
	long long offset;
	int fd;
	int failures;
	double last_instance_check;
	double gone_since; /* 0: the instance was not seen gone */
	int waiting;	   /* the instance waits for capacity (remote-progress.h) */
	time_t since;	   /* since when (the attempt's end, else when first seen so) */
	int attempt;	   /* the attempt that was preempted */
	char *waiting_on;  /* several nodes: "node R (i-...)" that waits; NULL: the instance */
	char *state_line;  /* what the status line said last */
};

static int to_fd(void *ctx, const void *data, size_t len)
{
	struct follower *f = ctx;

	f->offset += (long long)len;
	if (write_all(f->fd, data, len))
		return err_set("cannot write the log: %s", strerror(errno));
	return 0;
}

/* New bytes of the log, if any. 0, or -1 after too many failures. */
static int read_log(struct follower *f)
{
	int r = s3_get_object(NULL, &f->x->client, f->x->remote.bucket, f->log_key, f->offset,
			      to_fd, f);

	if (r >= 0) {
		f->failures = 0;
		return 0;
	}
	if (++f->failures < MAX_FAILURES) {
		err_clear();
		return 0;
	}
	return -1;
}

static int instance_gone(const struct ec2_instance *i)
{
	return !strcmp(i->state, "shutting-down") || !strcmp(i->state, "terminated") ||
	       !strcmp(i->state, "stopping") || !strcmp(i->state, "stopped");
}

/* The wait on the status line, with the time left before the run moves. */
static void say_waiting(struct follower *f, int first)
{
	struct aws_run *x = f->x;
	struct buf b = BUF_INIT;
	double left = (double)x->resume_timeout - difftime(time(NULL), f->since);

	buf_puts(&b, "preempted");
	if (f->attempt > 0)
		buf_printf(&b, " (attempt %d)", f->attempt);
	buf_puts(&b, ", waiting for capacity since ");
	remote_progress_clock(&b, f->since);
	if (x->relaunch) {
		buf_puts(&b, " (moving elsewhere in ");
		time_format_elapsed(&b, left > 0 ? left : 0);
		buf_putc(&b, ')');
	}
	if (first || !f->state_line || strcmp(f->state_line, buf_cstr(&b))) {
		ui_status(x->ui, first ? UI_STATUS_KEEP : 0, "%s", buf_cstr(&b));
		free(f->state_line);
		f->state_line = buf_detach(&b);
	}
	buf_release(&b);
}

static void say_moving(struct aws_run *x, double waited)
{
	struct buf b = BUF_INIT;

	time_format_duration(&b, waited);
	ui_say(x->ui, UI_PROGRESS,
	       "no capacity came back in %s for %s: moving run %s to another zone",
	       x->remote.az ? x->remote.az : x->remote.region, buf_cstr(&b), x->remote.run_id);
	buf_release(&b);
}

/*
 * A preempted run waiting for capacity: said once, then counted down, and
 * moved to another zone once it has waited train.resumeTimeout.
 */
static int on_waiting(struct follower *f, const struct remote_progress *p)
{
	struct aws_run *x = f->x;
	time_t now = time(NULL);
	int first = !f->waiting, r;

	if (first) {
		f->waiting = 1;
		f->attempt = p->attempt;
		/* the instance writes the time: one from the future is now */
		f->since = p->since && p->since <= now ? p->since : now;
		free(f->waiting_on);
		f->waiting_on = p->instance ? xstrfmt("node %d (%s)", p->node, p->instance) : NULL;
	}
	f->gone_since = 0;
	say_waiting(f, first);
	if (!x->relaunch || difftime(now, f->since) < (double)x->resume_timeout)
		return 0;
	ui_status_done(x->ui, UI_STATUS_CLEAR);
	say_moving(x, now - f->since);
	/* the attempt preempted was one at least, even if attempts.json did not say */
	r = backend_aws_relaunch(x, f->attempt > 0 ? f->attempt + 1 : 2);
	if (r)
		return r;
	f->waiting = 0;
	f->last_instance_check = now_monotonic();
	return 0;
}

/* The instance runs again after a wait: the runner continues the log. */
static void on_running_again(struct follower *f)
{
	struct aws_run *x = f->x;

	f->waiting = 0;
	ui_status_done(x->ui, UI_STATUS_CLEAR);
	ui_say(x->ui, UI_PROGRESS, "capacity came back: %s runs again (attempt %d)",
	       f->waiting_on ? f->waiting_on : x->remote.instance_id, f->attempt + 1);
}

/*
 * A run on several instances: it waits for capacity while any node does
 * (remote-progress.h), else it is where node 0 is; node 0 gone without a
 * result for a while ends the follow, as one instance does.
 */
static int check_nodes(struct follower *f, double now)
{
	struct remote_progress p;
	int ret = 0;

	remote_progress_read(&p, &f->x->client, &f->x->remote, NULL);
	if (!p.instance) {
		/* the nodes could not be described: a hint, not a need */
	} else if (p.phase == REMOTE_WAITING) {
		ret = on_waiting(f, &p);
	} else if (p.phase == REMOTE_GONE) {
		if (!f->gone_since)
			f->gone_since = now;
		else if (now - f->gone_since > GONE_GRACE)
			ret = err_set("instance %s (node 0) is %s and run %s left no result",
				      p.instance, p.state ? p.state : "gone", f->x->remote.run_id);
	} else if (f->waiting) {
		on_running_again(f);
	}
	remote_progress_release(&p);
	return ret;
}

static int stopped(const struct ec2_instance *i)
{
	return !strcmp(i->state, "stopping") || !strcmp(i->state, "stopped");
}

/*
 * The runner writes the result before it shuts the instance down; an
 * instance gone for a while without one died another way (stopped, the
 * max-runtime watchdog, a reclaim the runner did not see coming), unless
 * it is stopped with its persistent request: then it waits for capacity.
 */
static int check_instance(struct follower *f)
{
	const char *id = f->x->remote.instance_id;
	struct ec2_instance *v = NULL;
	size_t nr = 0;
	double now = now_monotonic();
	int ret = 0;

	if (now - f->last_instance_check < poll_interval(INSTANCE_CHECK_INTERVAL))
		return 0;
	f->last_instance_check = now;
	if (f->x->remote.nodes > 1 && f->x->remote.node_instances.nr)
		return check_nodes(f, now);
	if (ec2_describe_instances(&v, &nr, &f->x->client, &id, 1, NULL, 0)) {
		err_clear(); /* a look at the instance is a hint, not a need */
		return 0;
	}
	if (nr && v[0].state && stopped(&v[0]) &&
	    (f->x->remote.spot_request || v[0].spot_request)) {
		struct remote_progress p;

		remote_progress_read(&p, &f->x->client, &f->x->remote, &v[0]);
		if (p.phase == REMOTE_WAITING) {
			ret = on_waiting(f, &p);
			remote_progress_release(&p);
			goto out;
		}
		remote_progress_release(&p);
	}
	if (nr && v[0].state && !instance_gone(&v[0]) && f->waiting)
		on_running_again(f);
	if (nr && v[0].state && instance_gone(&v[0])) {
		if (!f->gone_since)
			f->gone_since = now;
		else if (now - f->gone_since > GONE_GRACE)
			ret = err_set("instance %s is %s and run %s left no result%s%s", id,
				      v[0].state, f->x->remote.run_id,
				      v[0].state_reason ? ": " : "",
				      v[0].state_reason ? v[0].state_reason : "");
	}
out:
	ec2_instances_free(v, nr);
	return ret;
}

int backend_aws_follow(struct run *run, int out_fd, int err_fd)
{
	struct aws_run *x = run->state;
	struct follower f;
	int ret = RC_ERROR, res;

	(void)err_fd; /* the runner's log has both */
	memset(&f, 0, sizeof(f));
	f.x = x;
	f.fd = out_fd;
	f.log_key = layout_run_key(x->remote.run_prefix, LAYOUT_LOG);
	f.offset = x->o->log_offset;
	f.last_instance_check = now_monotonic();
	/* a client is attached: it may move the run, on one instance or several */
	x->relaunch = 1;
	if (x->o->attach) {
		ret = backend_aws_attach_check(x);
		if (ret)
			goto out;
		ret = RC_ERROR;
	}
	for (;;) {
		if (*x->cancel) {
			ret = RC_DETACHED;
			goto out;
		}
		if (read_log(&f))
			goto out;
		run_record_release(&x->result);
		res = remote_run_result(&x->result, &x->client, &x->remote);
		if (res < 0)
			goto out;
		if (!res)
			break;
		if (check_instance(&f))
			goto out;
		if (sleep_unless_cancelled(x->cancel, poll_interval(FOLLOW_INTERVAL))) {
			ret = RC_DETACHED;
			goto out;
		}
	}
	x->have_result = 1;
	/* the runner's last log upload comes before its result */
	f.failures = MAX_FAILURES - 1;
	if (read_log(&f)) {
		ui_say(x->ui, UI_WARNING, "cannot read the end of the log: %s", err_msg());
		err_clear();
	}
	backend_aws_show_failed_node(x, out_fd);
	ret = RC_OK;
out:
	if (f.state_line)
		ui_status_done(x->ui, UI_STATUS_CLEAR);
	free(f.state_line);
	free(f.waiting_on);
	free(f.log_key);
	return ret;
}

int backend_aws_collect(struct run *run)
{
	struct aws_run *x = run->state;
	int r;

	if (!x->have_result) {
		run_record_release(&x->result);
		r = remote_run_result(&x->result, &x->client, &x->remote);
		if (r)
			return r;
		x->have_result = 1;
	}
	run_record_release(&run->rec);
	run->rec = x->result;
	run_record_init(&x->result);
	x->have_result = 0;
	if (remote_run_log_metrics(&run->rec, &x->client, &x->remote, &x->metrics)) {
		ui_say(x->ui, UI_WARNING, "%s (no metrics from train.metric)", err_msg());
		err_clear();
	}
	backend_aws_nodes_end(x);
	return 0;
}
