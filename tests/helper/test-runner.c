/*
 * test-tool runner: prints runner_command() for a job given on the command line,
 * the exact script git-train sends with SendCommand, for
 * tests/t0600-runner.sh. Everything after "--" goes to the training script.
 *
 * With --instance <id> it sends it instead, through ssm.c and the AWS
 * settings of the environment: waits until SSM says the instance is Online,
 * SendCommand, then GetCommandInvocation until the command ends; prints
 * "status <Status>", "exit <ResponseCode>" and its output. Exit 0 when the
 * command succeeded, 1 when not, 2 on an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "test-tool.h"
#include "cmd/parse-options.h"
#include "run/runner.h"
#include "services/ssm.h"

static int wait_online(struct aws_client *c, const char *id, int seconds)
{
	int online = 0, i;

	for (i = 0; i < seconds * 10; i++) {
		if (ssm_instance_online(&online, NULL, c, id))
			return -1;
		if (online)
			return 0;
		usleep(100000);
	}
	return err_set("%s is not Online after %d seconds", id, seconds);
}

static int finished(const char *status)
{
	return strcmp(status, "Pending") && strcmp(status, "InProgress") &&
	       strcmp(status, "Delayed");
}

/* Sends cmd to the instance and waits for the command's end. */
static int send_and_wait(const char *id, const char *cmd, int seconds)
{
	struct ssm_invocation inv = { 0 };
	struct aws_client c;
	char *command_id = NULL;
	int ret = 2, r, i;

	if (aws_client_init(&c, NULL)) {
		err_report();
		return 2;
	}
	if (wait_online(&c, id, seconds) ||
	    ssm_send_shell(&command_id, &c, id, cmd, 60, "git-train test-tool runner"))
		goto out;
	for (i = 0; i < seconds * 10; i++) {
		ssm_invocation_release(&inv);
		r = ssm_get_invocation(&inv, &c, command_id, id);
		if (r < 0)
			goto out;
		if (!r && finished(inv.status))
			break;
		usleep(100000);
	}
	if (!inv.status || !finished(inv.status)) {
		err_set("the command on %s did not end within %d seconds", id, seconds);
		goto out;
	}
	printf("status %s\nexit %d\n%s", inv.status, inv.exit_code,
	       inv.stdout_text ? inv.stdout_text : "");
	if (inv.stderr_text && *inv.stderr_text)
		fprintf(stderr, "%s", inv.stderr_text);
	ret = strcmp(inv.status, "Success") ? 1 : 0;
out:
	if (ret == 2)
		err_report();
	ssm_invocation_release(&inv);
	free(command_id);
	aws_client_release(&c);
	return ret;
}

static const char *const usage[] = {
	"test-tool runner --run-id <id> --commit <sha> --bucket <bucket> --code-key <key>\n"
	"           --code-sha256 <hex> --run-prefix <prefix> --region <region> --script <path>\n"
	"           [--interpreter <cmd>] [--setup <cmd>] [--outputs-dir <dir>]\n"
	"           [--keep] [--log-interval <seconds>]\n"
	"           [--idle-timeout <seconds> [--deadline-in <seconds>]]\n"
	"           [--checkpoint-interval <seconds>] [--resume-from-key <key>]\n"
	"           [--attempt <n>] [--spot-request <id>] [--max-interruptions <n>]\n"
	"           [--retry-on-exit <codes>] [--launcher <name>] [--nproc <n>]\n"
	"           [--nodes <n> --node-rank <r> --master-addr <ip> [--master-port <port>]\n"
	"            [--resume-timeout <seconds>] [--node-spot-requests <ids>]]\n"
	"           [--instance <id> [--wait <seconds>]] [-- <script-args>...]",
	NULL,
};

int cmd__runner(int argc, char **argv_)
{
	const char **argv = (const char **)argv_;
	struct runner_job job;
	struct parsed_args pa;
	const char *outputs = "outputs", *instance = NULL;
	int seconds = 60, ret = 0, idle = 0, deadline_in = 0, checkpoint_interval = 0;
	int resume_timeout = 0;
	char *cmd, *interpreter = NULL;
	struct option opts[] = {
		OPT_STRING(0, "run-id", &job.run_id, "id", "run id"),
		OPT_STRING(0, "commit", &job.commit, "sha", "the commit's full SHA"),
		OPT_STRING(0, "bucket", &job.bucket, "bucket", "S3 bucket"),
		OPT_STRING(0, "code-key", &job.code_key, "key", "key of code.tar.gz"),
		OPT_STRING(0, "code-sha256", &job.code_sha256, "hex", "its SHA-256"),
		OPT_STRING(0, "run-prefix", &job.run_prefix, "prefix", "the run's key prefix"),
		OPT_STRING(0, "region", &job.region, "region", "AWS region"),
		OPT_STRING(0, "script", &job.script, "path", "the training script"),
		OPT_STRING(0, "interpreter", &job.interpreter, "cmd", "its interpreter"),
		OPT_STRING(0, "setup", &job.setup, "cmd", "setup command"),
		OPT_STRING(0, "outputs-dir", &outputs, "dir", "outputs directory"),
		OPT_BOOL(0, "keep", &job.keep, "no shutdown at the end"),
		OPT_INT(0, "log-interval", &job.log_interval, "seconds", "log upload interval"),
		OPT_INT(0, "idle-timeout", &idle, "seconds", "the watchdog's stage"),
		OPT_INT(0, "deadline-in", &deadline_in, "seconds", "the max runtime left"),
		OPT_INT(0, "checkpoint-interval", &checkpoint_interval, "seconds",
			"checkpoint sync interval"),
		OPT_STRING(0, "resume-from-key", &job.resume_from_key, "key",
			   "checkpoints to restore at attempt 1"),
		OPT_INT(0, "attempt", &job.attempt, "n", "the attempt this start makes"),
		OPT_STRING(0, "spot-request", &job.spot_request, "id", "the request to cancel"),
		OPT_INT(0, "max-interruptions", &job.max_interruptions, "n",
			"attempts after the first"),
		OPT_STRING(0, "retry-on-exit", &job.retry_on_exit, "codes", "exit codes to retry"),
		OPT_STRING(0, "launcher", &job.launcher, "name", "torchrun, or none"),
		OPT_INT(0, "nproc", &job.nproc, "n", "the launcher's --nproc_per_node"),
		OPT_INT(0, "nodes", &job.nodes, "n", "instances of the run"),
		OPT_INT(0, "node-rank", &job.node_rank, "r", "this instance's node rank"),
		OPT_STRING(0, "master-addr", &job.master_addr, "ip", "node 0's private address"),
		OPT_INT(0, "master-port", &job.master_port, "port", "the rendezvous port"),
		OPT_INT(0, "resume-timeout", &resume_timeout, "seconds",
			"how long the nodes wait for one that a spot interruption stopped, halved"),
		OPT_STRING(0, "node-spot-requests", &job.node_spot_requests, "ids",
			   "the other nodes' spot requests, space-separated (node 0)"),
		OPT_STRING(0, "instance", &instance, "id", "send it to this instance"),
		OPT_INT(0, "wait", &seconds, "seconds", "how long to wait for SSM"),
		OPT_END(),
	};

	memset(&job, 0, sizeof(job));
	if (parse_options(&pa, argc - 1, argv + 1, opts, usage))
		return 129;
	if (!job.run_id || !job.commit || !job.bucket || !job.code_key || !job.run_prefix ||
	    !job.region || !job.script || pa.nr_args) {
		parse_options_usage(stderr, usage, opts);
		parse_options_release(&pa);
		return 129;
	}
	if (!job.interpreter) { /* as git-train chooses it */
		struct script_settings s = { .script = (char *)job.script };

		interpreter = runner_interpreter(&s);
		job.interpreter = interpreter;
	}
	job.outputs_dir = outputs;
	job.idle_timeout = idle;
	job.checkpoint_interval = checkpoint_interval;
	job.resume_timeout = resume_timeout;
	job.deadline = deadline_in > 0 ? time(NULL) + deadline_in : 0;
	job.args = pa.rest;
	job.nr_args = pa.nr_rest;
	cmd = runner_command(&job);
	if (instance)
		ret = send_and_wait(instance, cmd, seconds);
	else
		fputs(cmd, stdout);
	free(cmd);
	free(interpreter);
	parse_options_release(&pa);
	return fflush(stdout) ? 2 : ret;
}
