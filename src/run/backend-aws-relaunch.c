/*
 * backend-aws-relaunch: a preempted run whose capacity did not come back
 * within train.resumeTimeout moves to another zone, keeping its run id:
 * its persistent request cancelled first (else EC2 would start another
 * instance for it), its stopped instance terminated, a new one launched
 * under the same rules as any launch (launch.h), and the runner started
 * there at the next attempt: it downloads the run's log and attempts.json
 * and continues them, from the checkpoints in S3 (runner.h).
 */
#include "run/backend-aws-internal.h"

#include <stdlib.h>
#include <string.h>

#include "run/remote-progress.h"
#include "util/time.h"

#define RESUME_TIMEOUT_DEFAULT "10m"

int backend_aws_resume_timeout(struct aws_run *x)
{
	char *v = NULL;
	long t;
	int ret = 0;

	if (config_get_string_or(&v, x->run->req->cfg, "train.resumeTimeout",
				 RESUME_TIMEOUT_DEFAULT) < 0)
		return -1;
	if (time_parse_duration(&t, v) || t < 1) {
		char *e = xstrdup(err_msg());

		err_clear();
		ret = err_set("bad config value '%s' for 'train.resumeTimeout': %s", v,
			      *e ? e : "at least 1 second");
		free(e);
	} else {
		x->resume_timeout = t;
	}
	free(v);
	return ret;
}

/* What the old instance was, before the launch replaces it. */
static void forget_instance(struct aws_run *x)
{
	struct remote_run *r = &x->remote;

	free(r->instance_id);
	r->instance_id = NULL;
	free(r->market);
	r->market = NULL;
	free(r->az);
	r->az = NULL;
	free(r->image);
	r->image = NULL;
	free(r->spot_request);
	r->spot_request = NULL;
	launch_result_release(&x->launched);
	memset(&x->launched, 0, sizeof(x->launched));
}

int backend_aws_relaunch(struct aws_run *x, int attempt)
{
	struct remote_run *r = &x->remote;
	int ret;

	free(x->avoid_az);
	x->avoid_az = r->az ? xstrdup(r->az) : NULL;
	/* the request first: terminating its instance would let it start another */
	ret = backend_aws_cancel_request(x);
	if (ret)
		return ret;
	x->have_instance = 1;
	ret = backend_aws_terminate(x, "moved elsewhere");
	if (ret)
		return ret;
	forget_instance(x);
	free(x->token_id);
	x->token_id = xstrfmt("%s-m%d", r->run_id, attempt);
	ret = backend_aws_launch(x);
	if (ret)
		return ret;
	ret = RC_ERROR;
	if (remote_run_save(&x->client, r, x->run->req->args, x->run->req->nr_args))
		goto fail;
	ui_say(x->ui, UI_PROGRESS, "instance %s is ready: %s %s in %s; run %s continues there",
	       r->instance_id, r->instance_type, x->launched.spot ? "spot" : "ON-DEMAND",
	       r->az ? r->az : r->region, r->run_id);
	x->attempt = attempt;
	ret = backend_aws_start_runner(x);
	if (!ret)
		return 0;
fail:
	backend_aws_cancel_request(x);
	backend_aws_terminate(x, "the run could not start there");
	return ret;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static int has(const struct strvec *v, const char *s)
{
	size_t i;

	for (i = 0; i < v->nr; i++)
		if (!strcmp(v->v[i], s))
			return 1;
	return 0;
}

void backend_aws_attach(struct aws_run *x)
{
	const struct remote_run *a = x->o->attach;
	struct remote_run *r = &x->remote;
	size_t i;

	free(r->instance_id);
	r->instance_id = dup_or_null(a->instance_id);
	free(r->market);
	r->market = dup_or_null(a->market);
	free(r->az);
	r->az = dup_or_null(a->az);
	free(r->image);
	r->image = dup_or_null(a->image);
	free(r->spot_request);
	r->spot_request = dup_or_null(a->spot_request);
	free(r->resumed_from);
	r->resumed_from = dup_or_null(a->resumed_from);
	r->price = a->price;
	r->launched = a->launched;
	r->instances = xcalloc(a->nr_instances ? a->nr_instances : 1, sizeof(*r->instances));
	for (i = 0; i < a->nr_instances; i++) {
		r->instances[i].instance_id = dup_or_null(a->instances[i].instance_id);
		r->instances[i].az = dup_or_null(a->instances[i].az);
		r->instances[i].market = dup_or_null(a->instances[i].market);
		r->instances[i].spot_request = dup_or_null(a->instances[i].spot_request);
		r->instances[i].price = a->instances[i].price;
	}
	r->nr_instances = a->nr_instances;
	for (i = 0; i < a->fields.nr; i++)
		if (!has(&r->fields, a->fields.v[i]))
			strvec_push(&r->fields, a->fields.v[i]);
}

int backend_aws_attach_start(struct aws_run *x)
{
	int r;

	if (backend_aws_upload_start(x))
		return RC_ERROR;
	r = backend_aws_upload_join(x);
	if (r)
		return r;
	ui_say(x->ui, UI_PROGRESS, "attached to run %s on %s", x->remote.run_id,
	       x->remote.instance_id ? x->remote.instance_id : "no instance");
	return 0;
}

int backend_aws_attach_check(struct aws_run *x)
{
	struct remote_progress p;
	struct run_record res;
	int r, attempt;

	run_record_init(&res);
	r = remote_run_result(&res, &x->client, &x->remote);
	run_record_release(&res);
	if (r <= 0)
		return r < 0 ? RC_ERROR : 0; /* it has ended: follow collects it */
	remote_progress_read(&p, &x->client, &x->remote, NULL);
	attempt = p.attempt;
	r = p.phase == REMOTE_GONE;
	remote_progress_release(&p);
	if (!r)
		return 0;
	ui_say(x->ui, UI_PROGRESS, "run %s has no instance left and no result: moving it",
	       x->remote.run_id);
	/* it had an instance: the next start continues what it left (runner.h) */
	return backend_aws_relaunch(x, attempt > 0 ? attempt + 1 : 2);
}
