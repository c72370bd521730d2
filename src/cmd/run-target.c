/*
 * run-target: a run named on the command line (see run-target.h), moved
 * out of cmd/outputs.c for the commands that resume runs.
 */
#include "cmd/run-target.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/common.h"
#include "git/repo.h"

/* The local runs whose id starts with name (all of them when one is exactly it). */
int run_target_local_matches(struct strvec *out, git_repository *repo, const char *name)
{
	char *runs = NULL;
	struct dirent *de;
	DIR *d;

	if (repo_train_dir(&runs, repo, "runs", 0))
		return -1;
	d = opendir(runs);
	free(runs);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strncmp(de->d_name, name, strlen(name)))
			continue;
		if (!strcmp(de->d_name, name)) {
			strvec_clear(out);
			strvec_push(out, de->d_name);
			break;
		}
		strvec_push(out, de->d_name);
	}
	closedir(d);
	return 0;
}

/* Remote runs whose id starts with name; the one that is exactly it when there is one. */
static size_t remote_matches(struct remote_entry **one, struct remote_runs *l, const char *name)
{
	size_t i, n = 0;

	*one = NULL;
	for (i = 0; i < l->nr; i++) {
		if (!strcmp(l->v[i]->run.run_id, name)) {
			*one = l->v[i];
			return 1;
		}
		if (!strncmp(l->v[i]->run.run_id, name, strlen(name))) {
			*one = l->v[i];
			n++;
		}
	}
	return n;
}

int run_target_has_bucket(const struct config *cfg)
{
	char *v = NULL;
	int set = !config_get_string_or(&v, cfg, "train.bucket", NULL) && v;

	free(v);
	err_clear();
	return set;
}

/* The run name names. 0, or -1 with err_set. */
int run_target_find(struct run_target *t, const char *name)
{
	struct strvec local = STRVEC_INIT;
	size_t nr_remote = 0;
	int ret = -1, remote_ok = 0;

	if (!*name)
		return err_set("name the run: 'git train log' and 'git train status' list them");
	if (repo_open(&t->repo) || config_load(&t->cfg, t->repo))
		return -1;
	t->have_cfg = 1;
	if (run_target_local_matches(&local, t->repo, name))
		goto out;
	if (!(local.nr == 1 && !strcmp(local.v[0], name)) && run_target_has_bucket(&t->cfg)) {
		t->have_ctx = 1; /* released as far as it got */
		if (remote_runs_ctx_init(&t->ctx) || remote_runs_load(&t->runs, &t->ctx, 1)) {
			/* a local run needs no AWS: without it, it is the only one known */
			if (local.nr != 1)
				goto out;
			msg_warning("cannot look for runs on EC2 (%s): taking local run %s",
				    err_msg(), local.v[0]);
			err_clear();
		} else {
			cmd_warn_metrics_skipped(&t->ctx.metrics_skipped);
			nr_remote = remote_matches(&t->remote, &t->runs, name);
			remote_ok = 1;
		}
		if (nr_remote == 1 && !strcmp(t->remote->run.run_id, name))
			strvec_clear(&local);
	}
	if (local.nr + nr_remote > 1) {
		err_set("run '%s' is ambiguous: %zu runs start with it", name,
			local.nr + nr_remote);
		err_hint("give more of the run id; 'git train log' lists them");
		goto out;
	}
	if (local.nr == 1) {
		t->local_id = xstrdup(local.v[0]);
		t->remote = NULL;
	} else if (!nr_remote && remote_ok) {
		t->remote = remote_runs_find(&t->runs, &t->ctx, name); /* a run only S3 knows */
		if (!t->remote)
			goto out;
	} else if (!nr_remote) {
		err_set("no run '%s' in this repository", name);
		err_hint("'git train log' lists the recorded runs");
		goto out;
	}
	ret = 0;
out:
	strvec_clear(&local);
	return ret;
}

void run_target_release(struct run_target *t)
{
	if (t->have_ctx) {
		remote_runs_release(&t->runs);
		remote_runs_ctx_release(&t->ctx);
	}
	if (t->have_cfg)
		config_release(&t->cfg);
	git_repository_free(t->repo);
	free(t->local_id);
	memset(t, 0, sizeof(*t));
}
