/*
 * remote-runs: the runs of this repository on EC2 as status, logs, stop and
 * gc see them. Two sources, both cheap: the instances tagged
 * git-train:repo=<repo> (one DescribeInstances call, however many runs; with
 * the legacy name too, for this repository's commits only: layout.h), and
 * the remote runs recorded in refs/notes/train (which outlive the
 * instances). A run given by its full id that neither knows (its instance
 * gone, its note never written) is looked up by its run.json in S3.
 *
 * Notes are pulled from a shared remote, so they are trusted with nothing
 * but what they say of the run: where a run's things are always comes from
 * this clone's configuration (train.bucket, train.prefix, the repository:
 * run/layout.h) and the run id, never from a line's log=; two different
 * lines for one run are both kept, as a conflict; and a line for a run
 * whose instance is still alive is not its record until the result says so.
 */
#ifndef RUN_REMOTE_RUNS_H
#define RUN_REMOTE_RUNS_H

#include <git2.h>

#include "aws/client.h"
#include "git/config.h"
#include "services/ec2.h"
#include "run/layout.h"
#include "run/metric-patterns.h"
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
	const char *bucket;		/* layout.bucket */
	const char *repo_name;		/* layout.repo_name, the git-train:repo tag's value */
	struct metric_patterns metrics; /* train.metric, for the notes of runs recorded here */
	struct buf metrics_skipped; /* the train.metric entries left out, and why: a line each */
};

/*
 * 0, or -1 with err_set (not a repository, no train.bucket with the fix,
 * ...). A bad train.metric entry is left out, named in metrics_skipped, for
 * the command to warn of.
 */
int remote_runs_ctx_init(struct remote_runs_ctx *out);
void remote_runs_ctx_release(struct remote_runs_ctx *ctx);

struct remote_entry {
	struct remote_run run;		     /* from the tags, the note or run.json */
	const struct ec2_instance *instance; /* NULL: no instance (any more) */
	struct run_record note;		     /* its note line, when recorded */
	int recorded;
	/*
	 * other: with conflict, another line for the run that says something
	 * else than note; with early (and not recorded), a line noted while
	 * the instance is alive, before any result.
	 */
	struct run_record other;
	int conflict;
	int early;
	int completed; /* run.json was read (remote_runs_complete) */
	/* instances tagged with the run id that are alive: several for a run on several nodes */
	int live_instances;
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
 * writes its note and fills e->note (e->recorded = 1; e->conflict when a
 * line noted early says something else). run.json completes
 * what the tags say (--stash parent). 0 finished, 1 not yet, -1 error.
 */
int remote_runs_finalize(struct remote_runs_ctx *ctx, struct remote_entry *e);

/*
 * Completes e->run from run.json (once): what the tags cannot say, like the
 * --stash parent. A run without run.json keeps what it has. 0, or -1.
 */
int remote_runs_complete(struct remote_runs_ctx *ctx, struct remote_entry *e);

/*
 * The log= of e's note lines when one names another place than where its
 * log is read from (e->run: this clone's bucket and layout); borrowed, NULL
 * when they agree.
 */
const char *remote_runs_note_elsewhere(const struct remote_entry *e);

/* An instance that is, or may still be, running (pending, running, stopping, stopped). */
int remote_runs_instance_alive(const struct ec2_instance *i);

#endif
