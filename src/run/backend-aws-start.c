/*
 * backend-aws-start: the code's upload beside the launch, and the SSM
 * command that starts the runner once both are done.
 */
#include "run/backend-aws-internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/progress.h"
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
#define STARTED_LINE "git-train: runner started"

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

int backend_aws_upload_start(struct start_ctx *x)
{
	struct upload_job *j = &x->upload;
	int e;

	j->client = &x->r->client;
	j->repo = x->repo;
	j->commit = x->commit;
	j->target = &x->target;
	j->cancel = x->cancel;
	j->opts.cancel = x->cancel;
	/* no progress bar: the launch's progress line has the terminal */
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

void backend_aws_upload_stop(struct start_ctx *x)
{
	if (x->upload.started && !x->upload.joined &&
	    !__atomic_load_n(&x->upload.done, __ATOMIC_ACQUIRE))
		*x->cancel = 1;
	join(&x->upload);
}

int backend_aws_upload_join(struct start_ctx *x)
{
	struct upload_job *j = &x->upload;
	char size[32];

	if (!__atomic_load_n(&j->done, __ATOMIC_ACQUIRE))
		backend_aws_say(x->r, "waiting for the upload of the code");
	join(j);
	if (j->ret) {
		if (*x->cancel && !j->raised)
			return BACKEND_AWS_CANCELLED;
		err_set("%s", j->error);
		return BACKEND_AWS_ERROR;
	}
	if (j->skipped) {
		backend_aws_say(x->r, "code for %s is already in %s", x->short_id, x->target.uri);
		return 0;
	}
	progress_format_bytes(size, sizeof(size), j->stats.bytes);
	backend_aws_say(x->r, "uploaded code for %s: %s in %.1f s", x->short_id, size,
			j->stats.seconds);
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

static int check_started(struct start_ctx *x, const struct ssm_invocation *inv,
			 const char *command_id)
{
	struct buf why = BUF_INIT;

	if (!strcmp(inv->status, "Success") && inv->stdout_text &&
	    strstr(inv->stdout_text, STARTED_LINE))
		return 0;
	last_line(&why, inv->stderr_text && *inv->stderr_text ? inv->stderr_text
							       : inv->stdout_text);
	err_set("the runner did not start on %s: SSM command %s ended %s (exit %d)%s%s",
		x->r->run.instance_id, command_id, inv->status, inv->exit_code,
		why.len ? ": " : "", buf_cstr(&why));
	err_hint("its output: aws ssm get-command-invocation --region %s --command-id %s "
		 "--instance-id %s",
		 x->r->run.region, command_id, x->r->run.instance_id);
	buf_release(&why);
	return BACKEND_AWS_ERROR;
}

/* Polls the command until the runner says it started, or the command ended without it. */
static int wait_started(struct start_ctx *x, const char *command_id)
{
	double t = now_monotonic();
	int r;

	for (;;) {
		struct ssm_invocation inv;

		memset(&inv, 0, sizeof(inv));
		if (*x->cancel)
			return BACKEND_AWS_CANCELLED;
		r = ssm_get_invocation(&inv, &x->r->client, command_id, x->r->run.instance_id);
		if (r < 0)
			return BACKEND_AWS_ERROR;
		if (!r && inv.status && !still_running(inv.status)) {
			r = check_started(x, &inv, command_id);
			ssm_invocation_release(&inv);
			return r;
		}
		ssm_invocation_release(&inv);
		if (r == 1 && now_monotonic() - t > START_UNKNOWN_GRACE)
			return err_set("SSM does not know command %s on %s after %d s", command_id,
				       x->r->run.instance_id, START_UNKNOWN_GRACE);
		if (now_monotonic() - t > START_TIMEOUT)
			return err_set("the runner did not start on %s within %d s (SSM command %s)",
				       x->r->run.instance_id, START_TIMEOUT, command_id);
		if (backend_aws_sleep(x->cancel, poll_interval(1)))
			return BACKEND_AWS_CANCELLED;
	}
}

int backend_aws_start_runner(struct start_ctx *x)
{
	const struct train_settings *s = x->o->settings;
	struct runner_job job;
	char *script, *command_id = NULL, *comment;
	int ret;

	memset(&job, 0, sizeof(job));
	job.run_id = x->r->run.run_id;
	job.commit = x->hex;
	job.bucket = x->target.bucket;
	job.code_key = x->target.key;
	job.run_prefix = x->r->run.run_prefix;
	job.region = x->r->run.region;
	job.script = s->script;
	job.interpreter = s->interpreter;
	job.setup = s->setup;
	job.outputs_dir = s->outputs_dir;
	job.args = x->o->args;
	job.nr_args = x->o->nr_args;
	job.keep = x->o->keep;
	script = runner_command(&job);
	comment = xstrfmt("git-train run %s", x->r->run.run_id);
	if (ssm_send_shell(&command_id, &x->r->client, x->r->run.instance_id, script,
			   START_EXECUTION_TIMEOUT, comment)) {
		char *e = xstrdup(err_msg());

		err_set("cannot start the training on %s: %s", x->r->run.instance_id, e);
		free(e);
		ret = BACKEND_AWS_ERROR;
		goto out;
	}
	ret = wait_started(x, command_id);
	if (!ret)
		backend_aws_say(x->r, "training started on %s", x->r->run.instance_id);
out:
	free(command_id);
	free(comment);
	free(script);
	return ret;
}
