/*
 * backend-aws-start: the code's upload beside the launch, and the SSM
 * command that starts the runner once both are done.
 */
#include "run/backend-aws-internal.h"

#include <stdlib.h>
#include <string.h>

#include "run/layout.h"
#include "run/runner.h"
#include "services/ssm.h"

/*
 * SSM's executionTimeout for the command, which only starts the runner
 * detached: it ends in seconds, and the training has no SSM limit.
 */
#define START_EXECUTION_TIMEOUT 600
/* Right after SendCommand, SSM may not know the command for a few seconds. */
#define START_UNKNOWN_GRACE 60
/* How long the runner may take to say it started. */
#define START_TIMEOUT 300
#define STARTED_LINE  "git-train: runner started"

static void *upload_main(void *arg)
{
	struct upload_job *j = arg;
	sigset_t sigs;

	/* Ctrl-C is the main thread's: it must wake from its waits at once */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	j->ret = upload_commit(&j->stats, &j->skipped, j->client, j->repo, j->commit, j->target,
			       &j->opts);
	if (j->ret) {
		j->error = xstrdup(err_msg());
		if (!*j->cancel) { /* a failed upload stops the launch: no point booting */
			j->raised = 1;
			*j->cancel = 1;
		}
	}
	err_clear();
	__atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

int backend_aws_upload_start(struct aws_run *x)
{
	struct upload_job *j = &x->upload;
	int e;

	j->client = &x->client;
	j->repo = x->run->req->repo;
	j->commit = x->run->commit;
	j->target = &x->target;
	j->cancel = x->cancel;
	j->opts.cancel = x->cancel;
	/* no progress meter: the launch's waits have the status line */
	e = pthread_create(&j->thread, NULL, upload_main, j);
	if (e)
		return err_set("cannot start the upload: %s", strerror(e));
	j->started = 1;
	return 0;
}

static void join(struct upload_job *j)
{
	if (j->started && !j->joined) {
		pthread_join(j->thread, NULL);
		j->joined = 1;
	}
}

void backend_aws_upload_stop(struct aws_run *x)
{
	if (x->upload.started && !x->upload.joined &&
	    !__atomic_load_n(&x->upload.done, __ATOMIC_ACQUIRE))
		*x->cancel = 1;
	join(&x->upload);
}

int backend_aws_upload_join(struct aws_run *x)
{
	struct upload_job *j = &x->upload;
	struct buf done = BUF_INIT;

	if (!j->started && x->o->code_sha256) {
		ui_say(x->ui, UI_PROGRESS, "code for %s: %s, uploaded once for the sweep",
		       x->target.short_id, x->target.uri);
		return 0;
	}
	if (!__atomic_load_n(&j->done, __ATOMIC_ACQUIRE))
		ui_say(x->ui, UI_PROGRESS, "waiting for the upload of the code");
	join(j);
	if (j->ret) {
		if (*x->cancel && !j->raised)
			return RC_CANCELLED;
		err_set("%s", j->error);
		return RC_ERROR;
	}
	upload_describe(&done, &x->target, &j->stats, j->skipped);
	ui_say(x->ui, UI_PROGRESS, "%s", buf_cstr(&done));
	buf_release(&done);
	return 0;
}

static int still_running(const char *status)
{
	return !strcmp(status, "Pending") || !strcmp(status, "InProgress") ||
	       !strcmp(status, "Delayed");
}

/* The last line of what the command printed, cleaned up for a message. */
static void last_line(struct buf *out, const char *text)
{
	const char *end, *start;

	if (!text)
		return;
	end = text + strlen(text);
	while (end > text && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	start = end;
	while (start > text && start[-1] != '\n')
		start--;
	if (end - start > 300)
		start = end - 300;
	for (; start < end; start++)
		buf_putc(out, (unsigned char)*start < 0x20 ? '?' : *start);
}

static int check_started(struct aws_run *x, const char *instance_id,
			 const struct ssm_invocation *inv, const char *command_id)
{
	struct buf why = BUF_INIT;

	if (!strcmp(inv->status, "Success") && inv->stdout_text &&
	    strstr(inv->stdout_text, STARTED_LINE))
		return 0;
	last_line(&why,
		  inv->stderr_text && *inv->stderr_text ? inv->stderr_text : inv->stdout_text);
	err_set("the runner did not start on %s: SSM command %s ended %s (exit %d)%s%s",
		instance_id, command_id, inv->status, inv->exit_code, why.len ? ": " : "",
		buf_cstr(&why));
	err_hint("its output: aws ssm get-command-invocation --region %s --command-id %s "
		 "--instance-id %s",
		 x->remote.region, command_id, instance_id);
	buf_release(&why);
	return RC_ERROR;
}

/* Polls the command until the runner says it started, or the command ended without it. */
static int wait_started(struct aws_run *x, const char *instance_id, const char *command_id)
{
	double t = now_monotonic();
	int r;

	for (;;) {
		struct ssm_invocation inv;

		memset(&inv, 0, sizeof(inv));
		if (*x->cancel)
			return RC_CANCELLED;
		r = ssm_get_invocation(&inv, &x->client, command_id, instance_id);
		if (r < 0)
			return RC_ERROR;
		if (!r && inv.status && !still_running(inv.status)) {
			r = check_started(x, instance_id, &inv, command_id);
			ssm_invocation_release(&inv);
			return r;
		}
		ssm_invocation_release(&inv);
		if (r == 1 && now_monotonic() - t > START_UNKNOWN_GRACE)
			return err_set("SSM does not know command %s on %s after %d s", command_id,
				       instance_id, START_UNKNOWN_GRACE);
		if (now_monotonic() - t > START_TIMEOUT)
			return err_set(
				"the runner did not start on %s within %d s (SSM command %s)",
				instance_id, START_TIMEOUT, command_id);
		if (sleep_unless_cancelled(x->cancel, poll_interval(1)))
			return RC_CANCELLED;
	}
}

/* The runner of node rank (0 with one instance) on instance_id. RC_*. */
static int start_runner_on(struct aws_run *x, const char *instance_id, int rank)
{
	const struct script_settings *s = x->run->req->script;
	struct runner_job job;
	struct buf others = BUF_INIT;
	char *script, *command_id = NULL, *comment, *interpreter, *envs_prefix;
	int ret;

	memset(&job, 0, sizeof(job));
	job.run_id = x->remote.run_id;
	job.commit = x->run->hex;
	job.bucket = x->target.bucket;
	job.code_key = x->target.key;
	job.code_sha256 = x->upload.stats.sha256;
	job.run_prefix = x->remote.run_prefix;
	job.region = x->remote.region;
	job.script = s->script;
	interpreter = runner_interpreter(s);
	/* a Python script on a DLAMI: the image's framework Python, unless train.interpreter says
	 */
	if (!s->interpreter && interpreter && !strcmp(interpreter, "python3") &&
	    x->launched.python) {
		free(interpreter);
		interpreter = xstrdup(x->launched.python);
	}
	job.interpreter = interpreter;
	job.setup = s->setup;
	job.outputs_dir = s->outputs_dir;
	job.args = x->run->req->args;
	job.nr_args = x->run->req->nr_args;
	job.keep = x->o->keep;
	job.idle_timeout = x->o->idle_timeout;
	/* the max runtime counts from the launch, as the user data's watchdog did */
	job.deadline = x->remote.launched + x->o->max_runtime;
	envs_prefix = layout_envs_prefix(&x->target.layout);
	job.envs_prefix = envs_prefix;
	job.gpus = x->launched.gpus;
	job.framework = x->launched.framework;
	job.launcher = s->launcher;
	job.nproc = x->launched.gpus > 0 ? x->launched.gpus : 1;
	job.inputs = &x->inputs;
	job.checkpoint_interval = x->checkpoint_interval;
	job.resume_from_key = x->resume_from_key;
	job.attempt = x->attempt;
	job.spot_request = x->remote.spot_request;
	job.max_interruptions = x->max_interruptions;
	job.retry_on_exit = x->retry_on_exit;
	if (x->remote.nodes > 1) {
		const struct strvec *reqs = &x->remote.node_spot_requests;

		job.nodes = x->remote.nodes;
		job.node_rank = rank;
		job.master_addr = x->launched.nodes[0].private_ip;
		job.master_port =
			x->o->master_port > 0 ? x->o->master_port : BACKEND_AWS_MASTER_PORT;
		/* each node's own request; node 0 ends the others' too with the run */
		job.spot_request = (size_t)rank < reqs->nr && *reqs->v[rank] ? reqs->v[rank] : NULL;
		if (!rank) {
			size_t i;

			for (i = 1; i < reqs->nr; i++)
				if (*reqs->v[i])
					buf_printf(&others, "%s%s", others.len ? " " : "",
						   reqs->v[i]);
			job.node_spot_requests = others.len ? others.ptr : NULL;
		}
		/* a node waits for a preempted peer, at most twice this (runner.h) */
		job.resume_timeout = x->resume_timeout;
	}
	script = runner_command(&job);
	comment = xstrfmt("git-train run %s", x->remote.run_id);
	if (ssm_send_shell(&command_id, &x->client, instance_id, script, START_EXECUTION_TIMEOUT,
			   comment)) {
		char *e = xstrdup(err_msg());

		err_set("cannot start the training on %s: %s", instance_id, e);
		free(e);
		ret = RC_ERROR;
		goto out;
	}
	ret = wait_started(x, instance_id, command_id);
	if (!ret && x->remote.nodes > 1)
		ui_say(x->ui, UI_PROGRESS, "training started on %s (node %d of %d)", instance_id,
		       rank, x->remote.nodes);
	else if (!ret)
		ui_say(x->ui, UI_PROGRESS, "training started on %s", instance_id);
out:
	buf_release(&others);
	free(interpreter);
	free(envs_prefix);
	free(command_id);
	free(comment);
	free(script);
	return ret;
}

int backend_aws_start_runner(struct aws_run *x)
{
	int rank, r;

	if (x->remote.nodes <= 1)
		return start_runner_on(x, x->remote.instance_id, 0);
	/*
	 * Nodes R > 0 first: node 0's runner watches their results from its
	 * start, and its torchrun waits for them at the rendezvous anyway.
	 */
	for (rank = x->remote.nodes - 1; rank >= 0; rank--) {
		r = start_runner_on(x, x->remote.node_instances.v[rank], rank);
		if (r)
			return r;
	}
	return RC_OK;
}
