/*
 * backend-aws: what a run that can resume needs at its launch (issue 13):
 * train.checkpointInterval, train.maxInterruptions and train.retryOnExit,
 * read before anything is launched; --resume-from <run> (another run's
 * checkpoints, found by this clone's configuration and the run's id, never
 * by what a note says); the run's persistent spot request, cancelled
 * before its instance is terminated.
 */
#include "run/backend-aws-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "git/repo.h"
#include "run/attempts.h"
#include "run/layout.h"
#include "run/remote-runs.h"
#include "services/s3-upload.h"
#include "util/time.h"

/* how deep a local run's checkpoint directory is walked for --resume-from */
#define CHECKPOINT_DEPTH 8

/* The attempts' settings (run/attempts.h), the retry codes as RETRY_ON_EXIT words. */
static int read_settings(long *interval, int *max, char **codes, const struct config *cfg)
{
	struct run_attempt_settings s;
	struct buf b = BUF_INIT;

	*codes = NULL;
	if (run_attempt_settings(&s, cfg))
		return -1;
	*interval = s.checkpoint_interval;
	*max = s.max_interruptions;
	run_retry_codes_format(&b, &s.retry);
	if (b.len)
		*codes = buf_detach(&b);
	buf_release(&b);
	run_retry_codes_release(&s.retry);
	return 0;
}

int backend_aws_settings_check(const struct config *cfg)
{
	long interval;
	int max;
	char *codes = NULL;
	int r = read_settings(&interval, &max, &codes, cfg);

	free(codes);
	return r ? -1 : 0;
}

int backend_aws_resume_settings(struct aws_run *x)
{
	if (read_settings(&x->checkpoint_interval, &x->max_interruptions, &x->retry_on_exit,
			  x->run->req->cfg)) {
		err_hint("nothing was launched");
		return -1;
	}
	/* a run that can resume: AWS restarts its stopped instance */
	x->persistent = !x->o->on_demand && x->max_interruptions > 0;
	return 0;
}

/* A local run of this repository named exactly name: its checkpoint directory. */
static char *local_checkpoints(struct aws_run *x, const char *name)
{
	char *runs = NULL, *dir, *cp = NULL;
	struct stat st;

	if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..") ||
	    repo_train_dir(&runs, x->run->req->repo, "runs", 0)) {
		err_clear();
		free(runs);
		return NULL;
	}
	dir = xstrfmt("%s/%s", runs, name);
	if (!stat(dir, &st) && S_ISDIR(st.st_mode))
		cp = layout_local_path(dir, LAYOUT_CHECKPOINTS);
	free(dir);
	free(runs);
	return cp;
}

int backend_aws_resume_from(struct aws_run *x)
{
	const char *name = x->o->resume_from;
	struct remote_runs_ctx ctx;
	struct remote_runs runs;
	struct remote_entry *e;
	int ret = -1;

	if (!name)
		return 0;
	if (!*name)
		return err_set("--resume-from needs a run: 'git train log' lists them");
	x->resume_from_dir = local_checkpoints(x, name);
	if (x->resume_from_dir) {
		x->remote.resumed_from = xstrdup(name);
		/* restored at attempt 1 from this run's own checkpoints, once uploaded */
		x->resume_from_key = layout_run_key(x->remote.run_prefix, LAYOUT_CHECKPOINTS);
		return 0;
	}
	memset(&ctx, 0, sizeof(ctx));
	memset(&runs, 0, sizeof(runs));
	if (remote_runs_ctx_init(&ctx) || remote_runs_load(&runs, &ctx, 1))
		goto out;
	e = remote_runs_find(&runs, &ctx, name);
	if (!e)
		goto out;
	if (strcmp(e->run.bucket, x->target.bucket)) {
		err_set("run %s is in bucket %s, not in %s", e->run.run_id, e->run.bucket,
			x->target.bucket);
		goto out;
	}
	x->remote.resumed_from = xstrdup(e->run.run_id);
	x->resume_from_key = layout_run_key(e->run.run_prefix, LAYOUT_CHECKPOINTS);
	ui_say(x->ui, UI_PROGRESS, "resuming from the checkpoints of run %s", e->run.run_id);
	ret = 0;
out:
	if (ret) {
		char *why = xstrdup(err_msg());

		err_set("cannot resume from run '%s': %s", name, why);
		err_hint("nothing was launched; 'git train log' and 'git train status' list the "
			 "runs");
		free(why);
	}
	remote_runs_release(&runs);
	remote_runs_ctx_release(&ctx);
	return ret;
}

struct file_producer {
	int fd;
	const char *path;
};

static int produce_file(void *ctx, s3_upload_sink_fn sink, void *sink_ctx)
{
	struct file_producer *f = ctx;
	char chunk[65536];
	ssize_t n;

	while ((n = read(f->fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return err_set("cannot read '%s': %s", f->path, strerror(errno));
		}
		if (sink(sink_ctx, chunk, (size_t)n))
			return -1;
	}
	return 0;
}

/* A name the runner may restore as it is: no "..", no control characters. */
static int plain_name(const char *s)
{
	const char *p;

	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	for (p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
			return 0;
	return 1;
}

/* Every regular file under dir/rel (no symlinks followed), to key prefix + rel. */
static int upload_tree(struct aws_run *x, const char *dir, const char *rel, int depth,
		       size_t *count)
{
	char *path = *rel ? xstrfmt("%s/%s", dir, rel) : xstrdup(dir);
	struct dirent *de;
	DIR *d = opendir(path);
	int ret = 0;

	if (!d) {
		ret = errno == ENOENT && !*rel
			      ? 0
			      : err_set("cannot read '%s': %s", path, strerror(errno));
		free(path);
		return ret;
	}
	while (!ret && (de = readdir(d))) {
		char *sub, *full;
		struct stat st;

		if (!plain_name(de->d_name))
			continue;
		sub = *rel ? xstrfmt("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
		full = xstrfmt("%s/%s", dir, sub);
		if (lstat(full, &st)) {
			/* gone meanwhile */
		} else if (S_ISDIR(st.st_mode) && depth < CHECKPOINT_DEPTH) {
			ret = upload_tree(x, dir, sub, depth + 1, count);
		} else if (S_ISREG(st.st_mode)) {
			struct file_producer f = { open(full, O_RDONLY | O_NOFOLLOW), full };
			struct s3_upload_opts opts;
			struct s3_upload_stats stats;
			char *key = xstrfmt("%s%s", x->resume_from_key, sub);

			memset(&opts, 0, sizeof(opts));
			opts.cancel = x->cancel;
			if (f.fd < 0)
				ret = err_set("cannot open '%s': %s", full, strerror(errno));
			else
				ret = s3_upload_stream(&stats, &x->client, x->target.bucket, key,
						       NULL, 0, produce_file, &f, &opts);
			if (f.fd >= 0)
				close(f.fd);
			if (!ret)
				(*count)++;
			free(key);
		}
		free(full);
		free(sub);
	}
	closedir(d);
	free(path);
	return ret;
}

int backend_aws_resume_upload(struct aws_run *x)
{
	size_t count = 0;

	if (!x->resume_from_dir)
		return 0;
	if (upload_tree(x, x->resume_from_dir, "", 0, &count)) {
		char *why = xstrdup(err_msg());

		err_set("cannot upload the checkpoints of run %s: %s", x->remote.resumed_from, why);
		free(why);
		return -1;
	}
	ui_say(x->ui, UI_PROGRESS, "resuming from the checkpoints of local run %s (%zu file%s)",
	       x->remote.resumed_from, count, count == 1 ? "" : "s");
	return 0;
}

void backend_aws_record_instance(struct aws_run *x)
{
	struct remote_run *r = &x->remote;
	struct remote_instance *in;

	r->instances = xrealloc(r->instances, (r->nr_instances + 1) * sizeof(*r->instances));
	in = &r->instances[r->nr_instances++];
	memset(in, 0, sizeof(*in));
	in->instance_id = xstrdup(r->instance_id);
	in->az = r->az ? xstrdup(r->az) : NULL;
	in->market = r->market ? xstrdup(r->market) : NULL;
	in->spot_request = r->spot_request ? xstrdup(r->spot_request) : NULL;
	in->price = r->price;
}

int backend_aws_cancel_request(struct aws_run *x)
{
	struct strvec ids = STRVEC_INIT;
	struct buf list = BUF_INIT;
	size_t i;
	int r = 0;

	remote_run_spot_requests(&ids, &x->remote);
	if (ids.nr && ec2_cancel_spot_requests(&x->client, (const char *const *)ids.v, ids.nr)) {
		for (i = 0; i < ids.nr; i++)
			buf_printf(&list, "%s%s", i ? " " : "", ids.v[i]);
		ui_say(x->ui, UI_ERROR, "cannot cancel spot request%s %s: %s",
		       ids.nr == 1 ? "" : "s", list.ptr, err_msg());
		ui_say(x->ui, UI_HINT,
		       "%s may start another instance: aws ec2 cancel-spot-instance-requests "
		       "--region %s --spot-instance-request-ids %s",
		       ids.nr == 1 ? "it" : "each", x->remote.region, list.ptr);
		err_clear();
		r = RC_ERROR;
	}
	buf_release(&list);
	strvec_clear(&ids);
	return r;
}
