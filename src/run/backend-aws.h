/*
 * backend-aws: a run on EC2 (backend_aws in backend.h), spot first.
 *
 * prepare: the prerequisites (doctor's checks, cached; each failure said
 *   through the ui with its fix, and RC_NOT_READY: nothing is launched),
 *   where the code goes (layout.h), and the price, said before anything
 *   costs money.
 * start: the upload of the code, in a thread of its own, while the
 *   instance is launched and boots (launch.h): the user waits for the
 *   longer of the two, not for their sum; then run.json (remote-run.h),
 *   one SSM command that starts the runner detached (runner.h), and the
 *   command's "runner started" answer. The cancel flag is watched
 *   throughout: a cancel cleans up all that was created (the instance
 *   terminated, the multipart upload aborted) and returns RC_CANCELLED
 *   with err_set saying what was cleaned up. start raises the flag itself
 *   to stop the one stage when the other failed: the upload when the
 *   launch failed, the launch when the upload failed. Any failure once an
 *   instance exists terminates it: an error never leaves an instance
 *   running.
 * follow: copies the log to out_fd as the runner uploads it, until the
 *   result document is there, then the rest of the log. A cancel leaves
 *   the training running (RC_DETACHED); an instance gone without a result
 *   is RC_ERROR.
 * collect: the result document and everything the note of a run on EC2
 *   says (remote-run.h: remote_run_result()); 1 while there is none.
 * stop: cancels the run's persistent spot request, then terminates the
 *   instance.
 *
 * With nodes > 1 (issue 14), start creates the run's placement group and
 * security group (run/cluster.h), launches the N instances at once (all
 * or none, launch.h), records them in run.json and starts one runner per
 * instance, node 0's address as the rendezvous; any failure terminates
 * them all and deletes the groups. follow follows node 0's log (the run's)
 * and, when the run failed because of node R, shows the end of node R's
 * log; collect waits for the instances to be gone and deletes the groups
 * (unless --keep: gc does, later). stop cancels every node's persistent
 * request, then terminates every node.
 *
 * A run whose instance a spot interruption stopped waits for capacity
 * (remote-progress.h): follow says so and keeps following, and moves the
 * run to another zone once it has waited train.resumeTimeout
 * (backend-aws-relaunch.c). With nodes > 1, any node stopped so makes the
 * run wait, and the run moves whole: N instances, N runners.
 *
 * Progress goes through the ui, each line stamped with the time since the
 * start by the command's ui.
 */
#ifndef RUN_BACKEND_AWS_H
#define RUN_BACKEND_AWS_H

#include "run/backend.h"
#include "run/remote-run.h"

struct backend_aws_opts {
	const char *instance_type;
	const char *instance_profile;
	const char *ami; /* train.image (image.h); NULL: the type's default */
	const char *subnet;
	const char *security_group;
	int volume_size_gib; /* 0: the image's snapshot and room (image.h) */
	int on_demand;
	int fail_if_no_spot;
	int yes;		 /* on-demand fallback allowed without asking */
	int keep;		 /* the instance stays up after the run */
	long spot_timeout;	 /* seconds */
	long max_runtime;	 /* seconds */
	long ready_timeout;	 /* seconds */
	long idle_timeout;	 /* seconds without a runner before the instance shuts down */
	const char *resume_from; /* --resume-from: a run whose checkpoints it starts from */
	/*
	 * `git train resume`: the run to attach to instead of launching one
	 * (its id is the run's, run->rec.id). start uploads the code again (for
	 * its SHA-256; an upload already there is skipped) and launches
	 * nothing; follow moves the run elsewhere when its instance waits for
	 * capacity past train.resumeTimeout, and at once when its instance is
	 * gone without a result. NULL: a new run.
	 */
	const struct remote_run *attach;
	long long log_offset; /* attach: the bytes of the log the caller has shown already */
	/*
	 * --nodes, train.nodes (issue 14): instances of the run, all in one
	 * zone, in a placement group, with a security group of their own
	 * (run/cluster.h), each running the runner with its node rank; 0 or
	 * 1: one instance.
	 */
	int nodes;
	int master_port; /* train.masterPort: node 0's rendezvous port; 0: 29500 */
	/*
	 * A sweep's runs: the code is in S3 already (uploaded once for all of
	 * them), with this SHA-256: start uploads nothing. NULL: start uploads it.
	 */
	const char *code_sha256;
};

/*
 * train.checkpointInterval, train.maxInterruptions and train.retryOnExit
 * are valid (prepare reads them again). 0, or -1 with err_set naming the
 * bad value, for a command to refuse before anything else.
 */
int backend_aws_settings_check(const struct config *cfg);

/* The run on EC2 once prepared (its id, instance, market, price, S3 prefix); borrowed. */
const struct remote_run *backend_aws_remote(const struct run *run);

#endif
