/*
 * runner: what runs on the instance. src/runner.sh is embedded in the binary
 * at build time (runner_sh), and runner_command() wraps it into the one
 * script SendCommand runs: it writes the runner into /var/lib/git-train/<run
 * id>/ (or $TMPDIR when not root), starts it detached from SSM (setsid,
 * nohup, stdin from /dev/null) so that training can outlive SSM's 48 h cap,
 * prints "git-train: runner started (pid N)" and exits 0.
 *
 * The runner (POSIX sh, curl, tar, gzip, and the AWS CLI with the
 * instance's role: the user's credentials never reach the instance):
 *   1. downloads s3://<bucket>/<code_key>, checks it with gzip -t and that
 *      its pax header names the commit, extracts it into <dir>/work;
 *   2. runs the setup command (sh -c) then the script, with its arguments
 *      exactly as given, PYTHONUNBUFFERED=1, GIT_TRAIN_RUN_ID,
 *      GIT_TRAIN_COMMIT and GIT_TRAIN_OUTPUTS, stdout and stderr into <dir>/log;
 *   3. uploads the log to s3://<bucket>/<run_prefix>log every log_interval
 *      seconds while it runs, and once more at the end;
 *   4. watches IMDSv2 spot/instance-action; on a notice it stops the script,
 *      and records the run as preempted;
 *   5. writes result.json (RUNNER_RESULT_FORMAT below) and uploads it, then
 *      the outputs directory to <run_prefix>outputs/;
 *   6. unless keep, calls `shutdown -h now` (by name, never by path): the
 *      instance terminates (InstanceInitiatedShutdownBehavior=terminate).
 * AWS endpoints come from AWS_ENDPOINT_URL[_S3] and
 * AWS_EC2_METADATA_SERVICE_ENDPOINT when set (the tests' sandbox), passed
 * explicitly to the AWS CLI.
 *
 * result.json:
 *   {"run_id": "...", "commit": "<sha>", "status": "succeeded" | "failed" |
 *    "preempted" | "interrupted", "exit_code": N, "start": "<ISO 8601 UTC>",
 *    "end": "<ISO 8601 UTC>", "duration": seconds,
 *    "metrics": {<metrics.json's numbers>}}
 */
#ifndef RUNNER_H
#define RUNNER_H

#include "util.h"

extern const char runner_sh[];

struct runner_job {
	const char *run_id;
	const char *commit;	/* full hex SHA */
	const char *bucket;
	const char *code_key;	/* <prefix>/<repo>/<sha>/code.tar.gz */
	const char *run_prefix; /* <prefix>/<repo>/<sha>/runs/<run-id>/ */
	const char *region;
	const char *script;	/* path in the tree */
	const char *interpreter; /* NULL: by extension or shebang, as backend-local does */
	const char *setup;	/* NULL: none */
	const char *outputs_dir; /* relative to the tree */
	const char *const *args;
	int nr_args;
	int keep;		/* 1: do not shut down at the end */
	int log_interval;	/* seconds; 0: 5 */
};

/* The SendCommand script for job (caller frees). Contains no secret. */
char *runner_command(const struct runner_job *job);

#endif
