/*
 * run-target: the run a command names by its id (or a unique prefix of it),
 * local or on EC2, as `git train outputs`, `git train local --resume-from`
 * and `git train resume` find it. A local run is a directory in
 * <git dir>/train/runs/; a run on EC2 is found from this clone's
 * configuration and the run id (run/remote-runs.h), never from what a note
 * says of where it is.
 */
#ifndef CMD_RUN_TARGET_H
#define CMD_RUN_TARGET_H

#include <git2.h>

#include "git/config.h"
#include "run/remote-runs.h"
#include "util/strvec.h"

struct run_target {
	git_repository *repo;
	struct config cfg;
	int have_cfg;
	char *local_id; /* a local run */
	struct remote_runs_ctx ctx;
	int have_ctx;
	struct remote_runs runs;
	struct remote_entry *remote; /* a run on EC2 */
};

/* The run name names. 0, or -1 with err_set (none, or more than one). */
int run_target_find(struct run_target *t, const char *name);
void run_target_release(struct run_target *t);

/* The local runs whose id starts with name (only it when one is exactly name). 0, or -1. */
int run_target_local_matches(struct strvec *out, git_repository *repo, const char *name);

/* Whether train.bucket is set (runs on EC2 may be looked for). */
int run_target_has_bucket(const struct config *cfg);

#endif
