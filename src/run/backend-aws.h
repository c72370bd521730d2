/*
 * backend-aws: a run on EC2, from a resolved commit to a training that has
 * started on an instance, and on to its end for --wait.
 *
 * backend_aws_start():
 *   1. the prerequisites: doctor's checks (cached). A failure is printed
 *      with its fix and nothing is launched (BACKEND_AWS_NOT_READY);
 *   2. the price quote, shown before anything costs money;
 *   3. the upload of the code, in a thread of its own, while the instance
 *      is launched and boots (launch.h): the user waits for the longer of
 *      the two, not for their sum;
 *   4. run.json (remote-run.h), then one SSM command that starts the runner
 *      detached (runner.h), and the command's "runner started" answer.
 * backend_aws_follow() then prints the run's log as it grows in S3 until
 * result.json appears, and writes the note.
 *
 * Progress, each line with the time since the start, goes to stderr. The
 * cancel flag (raised by the caller's SIGINT/SIGTERM handler) is watched
 * throughout. Before the training has started, a cancel cleans up all that
 * was created (the instance terminated, the multipart upload aborted) and
 * returns BACKEND_AWS_CANCELLED with err_set saying what was cleaned up.
 * backend_aws_start() raises the flag itself to stop the one stage when the
 * other failed: the upload when the launch failed, the launch when the
 * upload failed. While following, a cancel leaves the training running
 * (BACKEND_AWS_DETACHED). Any failure once an instance exists terminates it:
 * an error never leaves an instance running.
 */
#ifndef RUN_BACKEND_AWS_H
#define RUN_BACKEND_AWS_H

#include <git2.h>
#include <signal.h>

#include "aws/client.h"
#include "git/config.h"
#include "services/pricing.h"
#include "run/remote-run.h"
#include "git/run-record.h"

enum {
	BACKEND_AWS_OK = 0,
	BACKEND_AWS_ERROR = -1,	    /* err_set */
	BACKEND_AWS_NOT_READY = -2, /* a prerequisite failed; printed with its fix */
	BACKEND_AWS_NO_SPOT = -3,   /* no spot capacity, no fallback allowed; err_set */
	BACKEND_AWS_CANCELLED = -4, /* interrupted and cleaned up; err_set says what */
	BACKEND_AWS_DETACHED = -5,  /* interrupted while following: the run goes on */
};

struct backend_aws_opts {
	const char *instance_type;
	const struct train_settings *settings; /* script, interpreter, setup, outputs */
	const char *parent;	  /* the commit a --stash snapshot was made on; NULL */
	const char *instance_profile;
	const char *ami;	  /* NULL: Amazon Linux 2023 */
	const char *subnet;
	const char *security_group;
	int volume_size_gib;	  /* 0: the AMI's */
	int on_demand;
	int fail_if_no_spot;
	int yes;		  /* on-demand fallback allowed without asking */
	int keep;		  /* the instance stays up after the run */
	long spot_timeout;	  /* seconds */
	long max_runtime;	  /* seconds */
	long ready_timeout;	  /* seconds */
	const char *const *args;  /* the script's, byte for byte */
	int nr_args;
	int smoke;		  /* a smoke run: recorded as such (smoke=1) */
};

/* A run that has started: what the summary, --wait and the note need. */
struct backend_aws_run {
	struct aws_client client;
	int have_client;
	struct remote_run run;	/* run id, instance, market, az, price, S3 prefix */
	char *log_uri;		/* s3://bucket/<prefix>log */
	char *outputs_uri;	/* s3://bucket/<prefix>outputs/ */
	double t0;		/* now_monotonic() at the start, for elapsed times */
};

/*
 * From the prerequisites to a started training (see above). cfg must hold
 * train.instanceType = o->instance_type (for the doctor's check) and the
 * region. *out is the caller's to release in every case. Returns one of
 * the BACKEND_AWS_* codes.
 */
int backend_aws_start(struct backend_aws_run *out, git_repository *repo, git_commit *commit,
		      const struct config *cfg, const struct backend_aws_opts *o,
		      volatile sig_atomic_t *cancel);

/*
 * Copies the log to log_fd as the runner uploads it, every second or two,
 * until result.json is there, then the rest of the log; fills *out from
 * result.json and writes the run's note. BACKEND_AWS_OK (whatever the
 * run's status), BACKEND_AWS_DETACHED, or BACKEND_AWS_ERROR when the run
 * cannot be followed (the instance is gone without a result; S3 fails).
 */
int backend_aws_follow(struct run_record *out, struct backend_aws_run *r, git_repository *repo,
		       int log_fd, const volatile sig_atomic_t *cancel);

void backend_aws_release(struct backend_aws_run *r);

/* Elapsed time since r->t0 as "m:ss" ("1:02:03" past an hour) into out. */
void backend_aws_elapsed(struct buf *out, const struct backend_aws_run *r);

#endif
