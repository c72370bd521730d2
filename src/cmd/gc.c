/*
 * git train gc [--dry-run]: removes what git-train left behind in AWS, found
 * only by this repository's tags and S3 prefix, never anything else:
 *   - instances tagged for this repository that are still up although their
 *     run has a result (--keep, or a shutdown that failed), that have
 *     outlived their git-train:max-runtime tag, or whose runner is not
 *     alive (runner.h): launched more than train.idleTimeout (default 15m)
 *     ago, and their run's log never written or not for that long (their
 *     own watchdog shuts them down then too, unless it failed); a stopped
 *     instance (a persistent spot run waiting for capacity) only when its
 *     run has a result or is past its max runtime: EC2 restarts it, and its
 *     runner with it. A run on several instances goes whole: every node's
 *     instance. Their spot requests are cancelled first;
 *   - persistent spot requests tagged for this repository (open, active or
 *     disabled) whose run has ended: it has a result, its instance is
 *     terminated or gone, or it is past its max runtime. Such a request
 *     would start an instance nobody follows;
 *   - placement groups and security groups of runs on several instances
 *     (run/cluster.h) tagged for this repository whose run has no instance
 *     left that is alive, and that has a result or was made longer than
 *     its max runtime ago (git-train:max-runtime, else train.maxRuntime):
 *     a run still launching has none yet either;
 *   - incomplete multipart uploads under <train.prefix>/<repo>/ started
 *     more than train.gc.uploadAge ago (default 1d): an upload in progress
 *     is younger than that;
 *   - code archives (<prefix>/<repo>/<sha>/code.tar.gz) that no live
 *     instance runs, when nothing of their commit (the archive, its runs'
 *     run.json, logs, results) was written in train.gc.retention (default
 *     30d).
 * Under the legacy prefix (layout.h), which another repository of the same
 * name may share, the same but only for commits this repository has.
 * Logs, results and outputs stay: the notes point at them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/builtin.h"
#include "cmd/common.h"
#include "util/time.h"
#include "cmd/parse-options.h"
#include "git/repo.h"
#include "run/cluster.h"
#include "run/remote-runs.h"
#include "run/run.h"
#include "services/s3-objects.h"
#include "services/s3.h"
#include "util/util.h"

static const char *const gc_usage[] = {
	"git train gc [--dry-run]",
	NULL,
};

struct gc {
	struct remote_runs_ctx ctx;
	struct remote_runs runs;
	int dry_run;
	time_t now;
	long retention, upload_age; /* seconds */
	long idle_timeout;	    /* seconds */
	long max_runtime;	    /* seconds: train.maxRuntime, for groups without the tag */
	const char *prefix;	    /* <train.prefix>/<repo>/ (layout.h), or the legacy one */
	int legacy;		    /* prefix is the legacy one: only this repository's commits */
	const char **doomed;	    /* instance ids to terminate */
	const struct ec2_instance **doomed_insts; /* those instances */
	struct remote_entry **doomed_runs;	  /* the run of each (a run: all its nodes) */
	size_t nr_doomed;
	struct strvec cancelled; /* spot requests cancelled (or that would be) */
	int removed;
};

static int age_setting(long *out, const struct config *cfg, const char *key, const char *def)
{
	char *v = NULL;
	int r = config_get_string(&v, cfg, key);

	if (r < 0)
		return -1;
	r = time_parse_duration(out, r == 0 ? v : def);
	if (r) {
		char *why = xstrdup(err_msg());

		err_set("bad %s: %s", key, why);
		err_hint(
			"a duration is a number of seconds, or units d, h, m, s: 90s, 2m, 1h30m, 2d");
		free(why);
	}
	free(v);
	return r;
}

static void say(struct gc *g, const char *what, const char *name, const char *why)
{
	printf("%s %s %s: %s\n", g->dry_run ? "would remove" : "removed", what, name, why);
	g->removed++;
}

/* How long ago, for humans: "45d", "3h", "12m", "5s". */
static void ago(struct buf *out, double seconds)
{
	long s = seconds < 0 ? 0 : (long)seconds;

	if (s >= 86400)
		buf_printf(out, "%ldd", s / 86400);
	else if (s >= 3600)
		buf_printf(out, "%ldh", s / 3600);
	else if (s >= 60)
		buf_printf(out, "%ldm", s / 60);
	else
		buf_printf(out, "%lds", s);
}

/*
 * Why an instance up for longer than train.idleTimeout should go when its
 * runner is not alive: no log (it never started), or a log older than that
 * (its heartbeat stopped). *why is NULL when it beats. 0, or -1.
 */
static int idle_verdict(char **why, struct gc *g, struct remote_entry *e)
{
	char *key = layout_run_key(e->run.run_prefix, LAYOUT_LOG);
	struct s3_listed *v = NULL;
	struct buf b = BUF_INIT, limit = BUF_INIT;
	size_t nr = 0, i;
	time_t t = 0;
	int ret = -1;

	*why = NULL;
	if (s3_list_objects(&v, &nr, &g->ctx.client, g->ctx.bucket, key))
		goto out;
	for (i = 0; i < nr && strcmp(v[i].key, key); i++)
		;
	if (i < nr && time_parse_iso8601(&t, v[i].last_modified))
		t = 0;
	ago(&limit, (double)g->idle_timeout);
	if (i == nr) {
		ago(&b, difftime(g->now, e->run.launched));
		*why = xstrfmt("run %s has no log %s after its launch, past train.idleTimeout "
			       "(%s): its runner never started",
			       e->run.run_id, buf_cstr(&b), buf_cstr(&limit));
	} else if (t && difftime(g->now, t) > (double)g->idle_timeout) {
		ago(&b, difftime(g->now, t));
		*why = xstrfmt("run %s has not written its log for %s, past train.idleTimeout "
			       "(%s): its runner is gone",
			       e->run.run_id, buf_cstr(&b), buf_cstr(&limit));
	}
	ret = 0;
out:
	buf_release(&b);
	buf_release(&limit);
	s3_listed_free(v, nr);
	free(key);
	return ret;
}

/* "run ... has run for 3h, past its max runtime of 3600s" when it has (caller frees), else NULL */
static char *past_max_runtime(const struct gc *g, const struct remote_entry *e, const char *max)
{
	struct buf b = BUF_INIT;
	long limit;
	char *why;

	if (!max || time_parse_duration(&limit, max) || !e->run.launched ||
	    difftime(g->now, e->run.launched) <= (double)limit)
		return NULL;
	ago(&b, difftime(g->now, e->run.launched));
	why = xstrfmt("run %s has run for %s, past its max runtime of %ss", e->run.run_id,
		      buf_cstr(&b), max);
	buf_release(&b);
	return why;
}

/* Why the instance of e should go, or NULL. *why is the caller's. */
static int instance_verdict(char **why, struct gc *g, struct remote_entry *e)
{
	const char *max = ec2_instance_tag(e->instance, REMOTE_TAG_MAX_RUNTIME);
	int r;

	*why = NULL;
	r = remote_runs_finalize(&g->ctx, e);
	if (r < 0)
		return -1;
	if (r == 0) {
		*why = xstrfmt("run %s finished (%s) but its instance is still %s", e->run.run_id,
			       e->note.status, e->instance->state);
		return 0;
	}
	*why = past_max_runtime(g, e, max);
	err_clear();
	/* a stopped instance has no runner until EC2 restarts it: not idle, waiting */
	if (!*why && e->run.launched && e->run.run_prefix &&
	    strcmp(e->instance->state, "stopped") &&
	    difftime(g->now, e->run.launched) > (double)g->idle_timeout)
		return idle_verdict(why, g, e);
	return 0;
}

/* Doomed instances' runs are recorded as stopped, as `git train stop` would. */
static void record_stopped(struct gc *g, struct remote_entry *e)
{
	struct run_record rec;

	if (e->recorded)
		return;
	if (remote_runs_complete(&g->ctx, e)) {
		msg_warning("cannot read run.json of run %s: %s", e->run.run_id, err_msg());
		err_clear();
	}
	remote_run_describe(&rec, &e->run, 0,
			    e->run.launched ? difftime(g->now, e->run.launched) : -1);
	rec.status = xstrdup("stopped");
	if (run_note_write(g->ctx.repo, &rec, e->run.commit) < 0) {
		msg_warning("cannot record run %s: %s", e->run.run_id, err_msg());
		err_clear();
	}
	run_record_release(&rec);
}

static void say_cancel(struct gc *g, const char *id, const char *why)
{
	printf("%s spot request %s: %s\n", g->dry_run ? "would cancel" : "cancelled", id, why);
	g->removed++;
}

/* Else terminating an instance of a persistent request would start another. */
static int cancel_doomed_requests(struct gc *g)
{
	struct strvec ids = STRVEC_INIT;
	size_t i;
	int r;

	for (i = 0; i < g->nr_doomed; i++) {
		const char *req = g->doomed_insts[i]->spot_request;

		if (!req)
			continue;
		strvec_push(&ids, req);
		strvec_push(&g->cancelled, req);
	}
	r = ec2_cancel_spot_requests(&g->ctx.client, (const char *const *)ids.v, ids.nr);
	strvec_clear(&ids);
	return r;
}

static const char *request_tag(const struct ec2_spot_request *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->nr_tags; i++)
		if (!strcmp(s->tags[i].key, key))
			return s->tags[i].value;
	return NULL;
}

static const struct ec2_instance *find_instance(const struct gc *g, const char *id)
{
	size_t i;

	for (i = 0; id && i < g->runs.nr_instances; i++)
		if (!strcmp(g->runs.instances[i].id, id))
			return &g->runs.instances[i];
	return NULL;
}

static struct remote_entry *find_run_entry(const struct gc *g, const char *run_id)
{
	size_t i;

	for (i = 0; run_id && i < g->runs.nr; i++)
		if (!strcmp(g->runs.v[i]->run.run_id, run_id))
			return g->runs.v[i];
	return NULL;
}

/* Why the request s should be cancelled (its run has ended), or NULL. 0, or -1. */
static int request_verdict(char **why, struct gc *g, const struct ec2_spot_request *s)
{
	const char *run_id = request_tag(s, REMOTE_TAG_RUN_ID);
	const char *max = request_tag(s, REMOTE_TAG_MAX_RUNTIME);
	const struct ec2_instance *inst = find_instance(g, s->instance_id);
	struct remote_entry *e = find_run_entry(g, run_id);
	int r;

	*why = NULL;
	if (!inst || !remote_runs_instance_alive(inst)) {
		*why = xstrfmt("run %s has no instance left (%s)", run_id ? run_id : "?",
			       s->instance_id ? s->instance_id : "none");
		return 0;
	}
	if (!e)
		return 0;
	r = remote_runs_finalize(&g->ctx, e);
	if (r < 0)
		return -1;
	if (r == 0) {
		*why = xstrfmt("run %s finished (%s)", e->run.run_id, e->note.status);
		return 0;
	}
	*why = past_max_runtime(g, e, max);
	err_clear();
	return 0;
}

/* Live spot requests tagged for this repository whose run has ended. */
static int gc_requests(struct gc *g)
{
	struct ec2_tag f[] = {
		{ (char *)"tag:" REMOTE_TAG_REPO, (char *)g->ctx.repo_name },
		{ (char *)"state", (char *)"open" },
		{ (char *)"state", (char *)"active" },
		{ (char *)"state", (char *)"disabled" },
	};
	struct ec2_spot_request *v = NULL;
	struct strvec ids = STRVEC_INIT;
	size_t nr = 0, i, j;
	int ret = -1;

	if (ec2_describe_spot_requests(&v, &nr, &g->ctx.client, NULL, 0, f, ARRAY_SIZE(f)))
		return -1;
	for (i = 0; i < nr; i++) {
		char *why = NULL;

		for (j = 0; j < g->cancelled.nr && strcmp(g->cancelled.v[j], v[i].id); j++)
			;
		if (j < g->cancelled.nr || !request_tag(&v[i], REMOTE_TAG_RUN_ID))
			continue;
		if (request_verdict(&why, g, &v[i]))
			goto out;
		if (!why)
			continue;
		strvec_push(&ids, v[i].id);
		say_cancel(g, v[i].id, why);
		free(why);
	}
	if (!g->dry_run &&
	    ec2_cancel_spot_requests(&g->ctx.client, (const char *const *)ids.v, ids.nr))
		goto out;
	ret = 0;
out:
	strvec_clear(&ids);
	ec2_spot_requests_free(v, nr);
	return ret;
}

static void doom(struct gc *g, struct remote_entry *e, const struct ec2_instance *inst,
		 const char *why)
{
	size_t i;

	for (i = 0; i < g->nr_doomed; i++)
		if (g->doomed_insts[i] == inst)
			return;
	g->doomed_runs[g->nr_doomed] = e;
	g->doomed_insts[g->nr_doomed] = inst;
	g->doomed[g->nr_doomed++] = inst->id;
	say(g, "instance", inst->id, why);
}

/* A doomed run goes whole: every live instance tagged with its id (one per node). */
static void doom_run(struct gc *g, struct remote_entry *e, const char *why)
{
	size_t i;

	doom(g, e, e->instance, why);
	for (i = 0; i < g->runs.nr_instances; i++) {
		const struct ec2_instance *inst = &g->runs.instances[i];
		const char *id = ec2_instance_tag(inst, REMOTE_TAG_RUN_ID);

		if (id && !strcmp(id, e->run.run_id) && remote_runs_instance_alive(inst))
			doom(g, e, inst, why);
	}
}

static int gc_instances(struct gc *g)
{
	size_t i, j;

	g->doomed = xcalloc(g->runs.nr_instances + 1, sizeof(*g->doomed));
	g->doomed_insts = xcalloc(g->runs.nr_instances + 1, sizeof(*g->doomed_insts));
	g->doomed_runs = xcalloc(g->runs.nr_instances + 1, sizeof(*g->doomed_runs));
	for (i = 0; i < g->runs.nr; i++) {
		struct remote_entry *e = g->runs.v[i];
		char *why = NULL;

		if (!e->instance || !remote_runs_instance_alive(e->instance))
			continue;
		if (instance_verdict(&why, g, e))
			return -1;
		if (!why)
			continue;
		doom_run(g, e, why);
		free(why);
	}
	if (g->dry_run || !g->nr_doomed)
		return 0;
	/* every doomed instance's request first, else terminating it would start another */
	if (cancel_doomed_requests(g) ||
	    ec2_terminate_instances(&g->ctx.client, g->doomed, g->nr_doomed))
		return -1;
	for (i = 0; i < g->nr_doomed; i++) {
		for (j = 0; j < i && g->doomed_runs[j] != g->doomed_runs[i]; j++)
			;
		if (j == i)
			record_stopped(g, g->doomed_runs[i]);
	}
	return 0;
}

static const char *group_tag(const struct ec2_group *grp, const char *key)
{
	size_t i;

	for (i = 0; i < grp->nr_tags; i++)
		if (!strcmp(grp->tags[i].key, key))
			return grp->tags[i].value;
	return NULL;
}

/* An instance of the run that is, or may still be, running (one gc terminates counts too). */
static int run_alive(const struct gc *g, const char *run_id)
{
	size_t i;

	for (i = 0; i < g->runs.nr_instances; i++) {
		const struct ec2_instance *inst = &g->runs.instances[i];
		const char *id = ec2_instance_tag(inst, REMOTE_TAG_RUN_ID);

		if (id && !strcmp(id, run_id) && remote_runs_instance_alive(inst))
			return 1;
	}
	return 0;
}

/* Why the group of a run should go (the run has ended), or NULL. 0, or -1. */
static int group_verdict(char **why, struct gc *g, const struct ec2_group *grp)
{
	const char *run_id = group_tag(grp, REMOTE_TAG_RUN_ID);
	const char *max = group_tag(grp, REMOTE_TAG_MAX_RUNTIME);
	const char *created = group_tag(grp, CLUSTER_TAG_CREATED);
	struct remote_entry *e;
	long limit = g->max_runtime;
	char *end = NULL;
	long long made = created ? strtoll(created, &end, 10) : 0;
	int r;

	*why = NULL;
	if (!run_id || run_alive(g, run_id))
		return 0;
	e = find_run_entry(g, run_id);
	if (e) {
		r = remote_runs_finalize(&g->ctx, e);
		if (r < 0)
			return -1;
		if (r == 0) {
			*why = xstrfmt("run %s finished (%s) and has no instance left", run_id,
				       e->note.status);
			return 0;
		}
	}
	if (max && time_parse_duration(&limit, max))
		limit = g->max_runtime;
	err_clear();
	if (created && end && !*end && made > 0 && difftime(g->now, (time_t)made) > (double)limit) {
		struct buf b = BUF_INIT;

		ago(&b, difftime(g->now, (time_t)made));
		*why = xstrfmt("run %s has no instance left, and its group was made %s ago, past "
			       "its max runtime of %lds",
			       run_id, buf_cstr(&b), limit);
		buf_release(&b);
	}
	return 0;
}

/*
 * The placement groups and security groups (run/cluster.h) of ended runs.
 * One that cannot be deleted yet (an instance still shutting down) is a
 * warning: the next gc takes it.
 */
static int gc_groups(struct gc *g)
{
	struct ec2_tag f = { (char *)"tag:" REMOTE_TAG_REPO, (char *)g->ctx.repo_name };
	struct ec2_group *pg = NULL, *sg = NULL;
	size_t nr_pg = 0, nr_sg = 0, i;
	int ret = -1;

	/* a policy from before runs on several instances may not allow these: not fatal */
	if (ec2_describe_placement_groups(&pg, &nr_pg, &g->ctx.client, &f, 1) ||
	    ec2_describe_security_groups(&sg, &nr_sg, &g->ctx.client, &f, 1)) {
		msg_warning("cannot list the placement groups and security groups of runs on "
			    "several instances: %s",
			    err_msg());
		msg_hint("`git train doctor` checks the permissions git-train needs");
		err_clear();
		ret = 0;
		goto out;
	}
	for (i = 0; i < nr_pg + nr_sg; i++) {
		const struct ec2_group *grp = i < nr_pg ? &pg[i] : &sg[i - nr_pg];
		int is_pg = i < nr_pg;
		char *why = NULL, *name;

		if (!grp->name || (!is_pg && !grp->id))
			continue;
		if (is_pg && grp->state && strcmp(grp->state, "available") &&
		    strcmp(grp->state, "pending"))
			continue;
		if (group_verdict(&why, g, grp))
			goto out;
		if (!why)
			continue;
		name = is_pg ? xstrdup(grp->name) : xstrfmt("%s (%s)", grp->name, grp->id);
		if (!g->dry_run &&
		    (is_pg ? ec2_delete_placement_group(NULL, &g->ctx.client, grp->name)
			   : ec2_delete_security_group(NULL, &g->ctx.client, grp->id))) {
			msg_warning("cannot remove %s %s yet: %s",
				    is_pg ? "placement group" : "security group", name, err_msg());
			err_clear();
		} else {
			say(g, is_pg ? "placement group" : "security group", name, why);
		}
		free(name);
		free(why);
	}
	ret = 0;
out:
	ec2_groups_free(pg, nr_pg);
	ec2_groups_free(sg, nr_sg);
	return ret;
}

/*
 * Whether key, under g->prefix, may be this repository's: anything under
 * its own prefix; under the legacy prefix, a commit's archive only when
 * the commit is one of this repository's.
 */
static int ours(const struct gc *g, const char *key)
{
	const char *sha;
	size_t n;

	if (!g->legacy)
		return 1;
	sha = layout_code_commit(&n, g->prefix, key);
	return sha && repo_has_commit(g->ctx.repo, sha, n);
}

static int gc_uploads(struct gc *g)
{
	struct s3_upload *u = NULL;
	size_t nr = 0, i;
	int ret = -1;

	if (s3_list_multipart_uploads(&u, &nr, &g->ctx.client, g->ctx.bucket, g->prefix))
		return -1;
	for (i = 0; i < nr; i++) {
		struct buf why = BUF_INIT;
		char *uri;
		time_t t;

		if (!u[i].key || !skip_prefix(u[i].key, g->prefix, NULL) || !ours(g, u[i].key) ||
		    time_parse_iso8601(&t, u[i].initiated) ||
		    difftime(g->now, t) <= (double)g->upload_age)
			continue;
		if (!g->dry_run && s3_abort_multipart_upload(&g->ctx.client, g->ctx.bucket,
							     u[i].key, u[i].upload_id))
			goto out;
		uri = s3_uri(g->ctx.bucket, u[i].key);
		buf_puts(&why, "started ");
		ago(&why, difftime(g->now, t));
		buf_puts(&why, " ago, never completed");
		say(g, "upload of", uri, buf_cstr(&why));
		buf_release(&why);
		free(uri);
	}
	ret = 0;
out:
	s3_uploads_free(u, nr);
	return ret;
}

/* Whether an instance that stays up runs this commit. */
static int in_use(const struct gc *g, const char *sha, size_t n)
{
	size_t i, j;

	for (i = 0; i < g->runs.nr; i++) {
		const struct remote_entry *e = g->runs.v[i];

		if (!e->instance || !remote_runs_instance_alive(e->instance) || !e->run.commit ||
		    strlen(e->run.commit) != n || strncmp(e->run.commit, sha, n))
			continue;
		for (j = 0; j < g->nr_doomed && strcmp(g->doomed[j], e->instance->id); j++)
			;
		if (j == g->nr_doomed)
			return 1;
	}
	return 0;
}

/*
 * When the commit's objects were last written: its archive, and the
 * run.json, logs and results of its runs. An archive a run used yesterday
 * counts from yesterday, however long ago it was uploaded (a launch does
 * not upload it again).
 */
static time_t last_used(const char *prefix, const struct s3_listed *v, size_t nr, const char *sha,
			size_t n)
{
	size_t i;
	time_t newest = 0, t;

	for (i = 0; i < nr; i++) {
		const char *k = v[i].key;

		if (!layout_key_of_commit(prefix, k, sha, n))
			continue;
		if (!time_parse_iso8601(&t, v[i].last_modified) && t > newest)
			newest = t;
	}
	return newest;
}

static int gc_archives(struct gc *g)
{
	struct s3_listed *v = NULL;
	const char **keys;
	size_t nr = 0, nr_keys = 0, i, n;
	int ret = -1;

	if (s3_list_objects(&v, &nr, &g->ctx.client, g->ctx.bucket, g->prefix))
		return -1;
	keys = xcalloc(nr + 1, sizeof(*keys));
	for (i = 0; i < nr; i++) {
		const char *sha = layout_code_commit(&n, g->prefix, v[i].key);
		struct buf why = BUF_INIT;
		char *uri;
		time_t t;

		if (!sha || !ours(g, v[i].key))
			continue;
		t = last_used(g->prefix, v, nr, sha, n);
		if (!t || difftime(g->now, t) <= (double)g->retention || in_use(g, sha, n))
			continue;
		keys[nr_keys++] = v[i].key;
		uri = s3_uri(g->ctx.bucket, v[i].key);
		buf_puts(&why, "no live run uses it, last used ");
		ago(&why, difftime(g->now, t));
		buf_puts(&why, " ago");
		say(g, "code archive", uri, buf_cstr(&why));
		buf_release(&why);
		free(uri);
	}
	if (!g->dry_run && nr_keys &&
	    s3_delete_objects(&g->ctx.client, g->ctx.bucket, keys, nr_keys))
		goto out;
	ret = 0;
out:
	free(keys);
	s3_listed_free(v, nr);
	return ret;
}

static int gc(int dry_run)
{
	struct gc g;
	int ret = EXIT_FATAL;

	memset(&g, 0, sizeof(g));
	g.dry_run = dry_run;
	g.now = time(NULL);
	if (remote_runs_ctx_init(&g.ctx) ||
	    age_setting(&g.retention, &g.ctx.cfg, "train.gc.retention", "30d") ||
	    age_setting(&g.upload_age, &g.ctx.cfg, "train.gc.uploadAge", "1d") ||
	    age_setting(&g.idle_timeout, &g.ctx.cfg, "train.idleTimeout", REMOTE_IDLE_TIMEOUT) ||
	    age_setting(&g.max_runtime, &g.ctx.cfg, "train.maxRuntime", "8h"))
		goto out;
	cmd_warn_metrics_skipped(&g.ctx.metrics_skipped);
	if (g.idle_timeout < 1) {
		err_set("bad train.idleTimeout: at least 1 second");
		goto out;
	}
	g.prefix = g.ctx.layout.repo_prefix;
	ret = EXIT_FAILED;
	if (remote_runs_load(&g.runs, &g.ctx, 0) || gc_instances(&g) || gc_requests(&g) ||
	    gc_groups(&g) || gc_uploads(&g) || gc_archives(&g))
		goto out;
	if (g.ctx.layout.legacy_prefix) {
		g.prefix = g.ctx.layout.legacy_prefix;
		g.legacy = 1;
		if (gc_uploads(&g) || gc_archives(&g))
			goto out;
	}
	if (!g.removed)
		fprintf(stderr, "nothing to clean up for '%s'\n", g.ctx.repo_name);
	ret = EXIT_OK;
out:
	if (ret != EXIT_OK)
		err_report();
	free(g.doomed);
	free(g.doomed_insts);
	free(g.doomed_runs);
	strvec_clear(&g.cancelled);
	remote_runs_release(&g.runs);
	remote_runs_ctx_release(&g.ctx);
	return ret;
}

int cmd_gc(int argc, const char **argv)
{
	int dry_run = 0, ret = EXIT_USAGE;
	struct parsed_args pa = { 0 };
	const struct option opts[] = {
		OPT_BOOL('n', "dry-run", &dry_run, "only say what would be removed"),
		OPT_END(),
	};

	if (parse_options(&pa, argc, argv, opts, gc_usage) != PARSE_OPT_OK)
		goto out;
	if (pa.nr_args || pa.dashdash) {
		msg_error("'git train gc' takes no arguments");
		parse_options_usage(stderr, gc_usage, opts);
		goto out;
	}
	ret = gc(dry_run);
out:
	parse_options_release(&pa);
	return ret;
}
