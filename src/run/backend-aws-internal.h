/*
 * backend-aws-internal: what backend-aws*.c share while a run starts.
 */
#ifndef RUN_BACKEND_AWS_INTERNAL_H
#define RUN_BACKEND_AWS_INTERNAL_H

#include <pthread.h>

#include "run/backend-aws.h"
#include "services/ec2.h"
#include "run/launch.h"
#include "run/upload.h"

/* The code's upload, in a thread of its own while the instance boots. */
struct upload_job {
	pthread_t thread;
	int started, joined;
	struct aws_client *client;
	git_repository *repo; /* the thread's alone until joined */
	git_commit *commit;
	const struct upload_target *target;
	volatile sig_atomic_t *cancel;
	struct upload_opts opts;
	struct upload_stats stats;
	int skipped;
	int ret;
	int raised;	/* it failed and raised cancel to stop the launch */
	int done;	/* atomic: the thread has finished */
	char *error;	/* its error message, when ret */
};

struct start_ctx {
	struct backend_aws_run *r;
	git_repository *repo;
	git_commit *commit;
	const struct config *cfg;
	const struct backend_aws_opts *o;
	volatile sig_atomic_t *cancel;
	char hex[GIT_OID_HEXSZ + 1];
	char *short_id;
	struct upload_target target;
	struct price_quote prices;
	struct ec2_tag tags[5];
	size_t nr_tags;
	struct upload_job upload;
	struct launch_result launched;
	int have_instance;
};

/* backend-aws.c */
/* "[0:42] <message>" on stderr. */
void backend_aws_say(const struct backend_aws_run *r, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* Sleeps, waking often to check cancel. 0, or -1 when cancelled. */
int backend_aws_sleep(const volatile sig_atomic_t *cancel, double seconds);
/* Terminates the instance, if any, and says so; keeps the current error. */
void backend_aws_terminate(struct start_ctx *x, const char *why);

/* backend-aws-start.c */
/* Starts the upload thread. 0, or -1 with err_set. */
int backend_aws_upload_start(struct start_ctx *x);
/*
 * Waits for the upload and says how it went. 0, BACKEND_AWS_ERROR (err_set)
 * or BACKEND_AWS_CANCELLED.
 */
int backend_aws_upload_join(struct start_ctx *x);
/* Stops the upload (raising cancel) and waits for it, quietly. */
void backend_aws_upload_stop(struct start_ctx *x);
/* SendCommand of the runner, then its "runner started". BACKEND_AWS_*. */
int backend_aws_start_runner(struct start_ctx *x);

#endif
