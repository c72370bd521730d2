/*
 * backend-aws-follow: follow and collect. The runner uploads the log every
 * few seconds and the result at the end; follow reads the log from where
 * it left off (a ranged GET: only new bytes travel) until the result is
 * there.
 */
#include "run/backend-aws-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run/layout.h"
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

/*
 * The runner writes the result before it shuts the instance down; an
 * instance gone for a while without one died another way (stopped, the
 * max-runtime watchdog, a reclaim the runner did not see coming).
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
	if (ec2_describe_instances(&v, &nr, &f->x->client, &id, 1, NULL, 0)) {
		err_clear(); /* a look at the instance is a hint, not a need */
		return 0;
	}
	if (nr && v[0].state && instance_gone(&v[0])) {
		if (!f->gone_since)
			f->gone_since = now;
		else if (now - f->gone_since > GONE_GRACE)
			ret = err_set("instance %s is %s and run %s left no result%s%s", id,
				      v[0].state, f->x->remote.run_id,
				      v[0].state_reason ? ": " : "",
				      v[0].state_reason ? v[0].state_reason : "");
	}
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
	f.last_instance_check = now_monotonic();
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
	ret = RC_OK;
out:
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
	return 0;
}
