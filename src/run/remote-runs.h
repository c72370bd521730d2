/*
 * remote-runs: the runs of this repository on EC2 as status, logs, stop and
 * gc see them. Two sources, both cheap: the instances tagged
 * git-train:repo=<repo> (one DescribeInstances call, however many runs; with
 * the legacy name too, for this repository's commits only: layout.h), and
 * the remote runs recorded in refs/notes/train (which outlive the
 * instances). A run given by its full id that neither knows (its instance
 * gone, its note never written) is looked up by its run.json in S3.
 */
#ifndef RUN_REMOTE_RUNS_H
#define RUN_REMOTE_RUNS_H

#include <git2.h>

#include "aws/client.h"
#include "git/config.h"
#include "services/ec2.h"
#include "run/layout.h"
#include "run/remote-run.h"
#include "git/run-record.h"

/* What every one of these commands needs: the repository, its config, train.bucket, AWS. */
struct remote_runs_ctx {
	git_repository *repo;
	struct config cfg;
	int have_cfg;
	struct aws_client client;
	int have_client;
	struct layout layout;
	const char *bucket;    /* layout.bucket */
	const char *repo_name; /* layout.repo_name, the git-train:repo tag's value */
};

/* 0, or -1 with err_set (not a repository, no train.bucket with the fix, ...). */
int remote_runs_ctx_init(struct remote_runs_ctx *out);
void remote_runs_ctx_release(struct remote_runs_ctx *ctx);

struct remote_entry {
	struct remote_run run;		     /* from the tags, the note or run.json */
	const struct ec2_instance *instance; /* NULL: no instance (any more) */
	struct run_record note;		     /* its note line, when recorded */
	int recorded;
	int completed; /* run.json was read (remote_runs_complete) */
};

struct remote_runs {
	struct ec2_instance *instances; /* every instance tagged for this repository */
	size_t nr_instances;
	struct remote_entry **v; /* newest run first; each stays put until release */
	size_t nr;
};

/*
 * Loads both sources. with_notes 0 skips the notes (gc needs only the
 * instances). 0, or -1 with err_set.
 */
int remote_runs_load(struct remote_runs *out, struct remote_runs_ctx *ctx, int with_notes);
void remote_runs_release(struct remote_runs *l);

/*
 * The run named by its id or a unique prefix of it. NULL with err_set
 * naming it when there is none or more than one.
 */
struct remote_entry *remote_runs_find(struct remote_runs *l, struct remote_runs_ctx *ctx,
				      const char *name);

/*
 * A run that is not recorded yet: reads its result and, when it has one,
 * writes its note and fills e->note (e->recorded = 1). run.json completes
 * what the tags say (--stash parent). 0 finished, 1 not yet, -1 error.
 */
int remote_runs_finalize(struct remote_runs_ctx *ctx, struct remote_entry *e);

/*
 * Completes e->run from run.json (once): what the tags cannot say, like the
 * --stash parent. A run without run.json keeps what it has. 0, or -1.
 */
int remote_runs_complete(struct remote_runs_ctx *ctx, struct remote_entry *e);

/* An instance that is, or may still be, running (pending, running, stopping, stopped). */
int remote_runs_instance_alive(const struct ec2_instance *i);

#endif
