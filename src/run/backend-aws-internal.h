/*
 * backend-aws-internal: what backend-aws*.c share.
 *
 * backend-aws.c prepares, starts and stops a run; backend-aws-start.c has
 * the upload thread and the runner's start; backend-aws-follow.c follows a
 * run and collects its outcome; backend-aws-resume.c has what a run that
 * can resume needs at its launch.
 */
#ifndef RUN_BACKEND_AWS_INTERNAL_H
#define RUN_BACKEND_AWS_INTERNAL_H

#include <pthread.h>

#include "git/inputs.h"
#include "run/metric-patterns.h"
#include "run/backend-aws.h"
#include "run/cluster.h"
#include "run/launch.h"
#include "run/run.h"
#include "run/upload.h"
#include "services/ec2.h"

/* The code's upload, in a thread of its own while the instance boots. */
struct upload_job {
	pthread_t thread;
	int started, joined;
	struct aws_client *client;
	git_repository *repo; /* the thread's alone until joined */
	git_commit *commit;
	const struct upload_target *target;
	volatile sig_atomic_t *cancel;
	struct s3_upload_opts opts;
	struct s3_upload_stats stats;
	int skipped;
	int ret;
	int raised;  /* it failed and raised cancel to stop the launch */
	int done;    /* atomic: the thread has finished */
	char *error; /* its error message, when ret */
};

/* A run on EC2: run->state. */
struct aws_run {
	struct run *run;
	const struct backend_aws_opts *o;
	const struct ui *ui;
	volatile sig_atomic_t *cancel;
	struct aws_client client;
	int have_client;
	struct remote_run remote; /* run id, instance, market, az, price, S3 prefix */
	struct upload_target target;
	struct pricing_quote prices;
	struct ec2_tag tags[5];
	size_t nr_tags;
	struct upload_job upload;
	struct launch_result launched;
	int have_instance;
	/*
	 * Moving a preempted run elsewhere (backend-aws-relaunch.c):
	 * train.resumeTimeout in seconds; whether this client may (it follows
	 * the run); the zone to avoid at the next launch (the old one's).
	 */
	long resume_timeout;
	int relaunch;
	char *avoid_az;
	char *token_id;		  /* the relaunch's ClientToken base (launch.h); NULL: the run id */
	struct run_record result; /* what follow found, for collect */
	int have_result;
	struct metric_patterns metrics; /* train.metric, applied to the log by collect */
	struct run_inputs inputs; /* train.data (with fingerprints), train.env, train.secret */
	/* resumption (issue 13): backend-aws-resume.c */
	long checkpoint_interval; /* train.checkpointInterval, seconds */
	int max_interruptions;	  /* train.maxInterruptions */
	char *retry_on_exit;	  /* train.retryOnExit as "75 76"; NULL: none */
	int persistent;		  /* spot and max_interruptions > 0: a persistent request */
	char *resume_from_key;	  /* RESUME_FROM_KEY; NULL: none */
	char *resume_from_dir;	  /* a local run's checkpoints, uploaded to this run's */
	/*
	 * The attempt the runner starts with: 0 or 1 at a first launch, n + 1
	 * when a client relaunches the run elsewhere (runner_job.attempt).
	 */
	int attempt;
	/* a relaunch of several instances: the old nodes (launch.h: replaced); NULL: none */
	const struct strvec *replaced;
	/* several instances (issue 14): the run's placement group and security group */
	struct cluster cluster;
	int have_cluster;
};

/* backend-aws.c */
/* Terminates the instance, if any, and says so; keeps the current error. 0 or RC_ERROR. */
int backend_aws_terminate(struct aws_run *x, const char *why);
/* Launches the run's instance (launch.h; x->avoid_az last) into x->remote. RC_*. */
int backend_aws_launch(struct aws_run *x);

/* backend-aws-resume.c */
/*
 * train.checkpointInterval, train.maxInterruptions and train.retryOnExit,
 * and whether the launch is persistent. 0, or -1 with err_set naming the
 * bad value.
 */
int backend_aws_resume_settings(struct aws_run *x);
/*
 * --resume-from (o->resume_from): a local run's checkpoint directory (to
 * upload) or the checkpoints/ key of an EC2 run of this repository; the
 * run's resumed_from. 0, or -1 with err_set (an unknown run).
 */
int backend_aws_resume_from(struct aws_run *x);
/* A local run's checkpoints to this run's checkpoints/ key. 0, or -1 with err_set. */
int backend_aws_resume_upload(struct aws_run *x);
/* Appends the current instance (remote.instance_id, az, ...) to remote.instances. */
void backend_aws_record_instance(struct aws_run *x);
/*
 * Cancels the run's persistent requests (remote.spot_request and, with
 * several nodes, each node's), if any, saying so on failure. 0 or RC_ERROR.
 */
int backend_aws_cancel_request(struct aws_run *x);

/* backend-aws-start.c */
/* Starts the upload thread. 0, or -1 with err_set. */
int backend_aws_upload_start(struct aws_run *x);
/* Waits for the upload and says how it went. 0, RC_ERROR (err_set) or RC_CANCELLED. */
int backend_aws_upload_join(struct aws_run *x);
/* Stops the upload (raising cancel) and waits for it, quietly. */
void backend_aws_upload_stop(struct aws_run *x);
/*
 * SendCommand of the runner, then its "runner started": on the instance,
 * or with several nodes on each (node 0 last). RC_*.
 */
int backend_aws_start_runner(struct aws_run *x);

/* backend-aws-nodes.c: a run on several instances (issue 14) */
/* How many instances the run has: 1, or o->nodes. */
int backend_aws_nodes(const struct aws_run *x);
/*
 * How long stop and a failed start wait for the run's instances to be gone
 * before deleting its groups, in seconds (poll_interval() scales it).
 */
#define BACKEND_AWS_CLUSTER_TIMEOUT 300
/* The port of node 0's rendezvous (torchrun's --master_port). */
#define BACKEND_AWS_MASTER_PORT 29500
/* The run's instance ids, separated by sep: node 0's alone for one. Caller frees. */
char *backend_aws_instance_list(const struct aws_run *x, const char *sep);
/* The run's placement group and security group, before the launch. 0, or RC_ERROR. */
int backend_aws_cluster_create(struct aws_run *x);
/*
 * Deletes them once the run's instances are gone (waiting up to timeout
 * seconds), saying so; a failure is a warning (gc deletes them later).
 */
void backend_aws_cluster_delete(struct aws_run *x, long timeout);
/* The launch's nodes into x->remote (node_instances, placement and security group). */
int backend_aws_nodes_record(struct aws_run *x);
/*
 * The run failed because of a node (its result's failed_node): says so and
 * writes the end of that node's log to fd.
 */
void backend_aws_show_failed_node(struct aws_run *x, int fd);
/*
 * The run has ended (collect): once its instances are gone (those still
 * up after a while are terminated), its groups are deleted. Nothing with
 * --keep.
 */
void backend_aws_nodes_end(struct aws_run *x);

/* backend-aws-follow.c */
int backend_aws_follow(struct run *run, int out_fd, int err_fd);
int backend_aws_collect(struct run *run);

/* backend-aws-relaunch.c */
/* train.resumeTimeout into x->resume_timeout. 0, or -1 with err_set naming the bad value. */
int backend_aws_resume_timeout(struct aws_run *x);
/*
 * Moves the run (its instance waits for capacity, or is gone) to
 * another zone: cancels its persistent request, terminates the instance,
 * launches again with the same run id (launch.h: the same spot-first and
 * on-demand rules, the old zone last), records the new instance in
 * run.json and starts the runner at attempt. RC_OK, or the launch's or
 * start's RC_* with err_set.
 */
int backend_aws_relaunch(struct aws_run *x, int attempt);
/* o->attach: the run as run.json knows it, its instance, request and instances into x->remote. */
void backend_aws_attach(struct aws_run *x);
/* o->attach's start: the code uploaded again, for its SHA-256; nothing launched. RC_*. */
int backend_aws_attach_start(struct aws_run *x);
/*
 * o->attach, before following: a run whose instance is gone without a
 * result moves elsewhere at once. RC_OK, or backend_aws_relaunch()'s.
 */
int backend_aws_attach_check(struct aws_run *x);

#endif
