/*
 * remote-runs: the runs of this repository, from EC2 tags and the notes.
 * See remote-runs.h.
 */
#include "run/remote-runs.h"

#include <stdlib.h>
#include <string.h>

#include "git/notes.h"
#include "git/repo.h"
#include "run/upload.h"

int remote_runs_ctx_init(struct remote_runs_ctx *out)
{
	memset(out, 0, sizeof(*out));
	if (repo_open(&out->repo) || config_load(&out->cfg, out->repo))
		return -1;
	out->have_cfg = 1;
	if (layout_init(&out->layout, &out->cfg, out->repo))
		return -1;
	out->bucket = out->layout.bucket;
	out->repo_name = out->layout.repo_name;
	if (metric_patterns_load_lenient(&out->metrics, &out->cfg, &out->metrics_skipped))
		return -1;
	if (aws_client_init(&out->client, &out->cfg))
		return -1;
	out->have_client = 1;
	return 0;
}

void remote_runs_ctx_release(struct remote_runs_ctx *ctx)
{
	if (ctx->have_client)
		aws_client_release(&ctx->client);
	if (ctx->have_cfg)
		config_release(&ctx->cfg);
	git_repository_free(ctx->repo);
	layout_release(&ctx->layout);
	metric_patterns_release(&ctx->metrics);
	buf_release(&ctx->metrics_skipped);
	memset(ctx, 0, sizeof(*ctx));
}

int remote_runs_instance_alive(const struct ec2_instance *i)
{
	return i->state && strcmp(i->state, "terminated") && strcmp(i->state, "shutting-down");
}

static struct remote_entry *add_entry(struct remote_runs *l)
{
	struct remote_entry *e;

	/* entries stay where they are: callers keep pointers while more are found */
	e = xcalloc(1, sizeof(*e));
	l->v = xrealloc(l->v, (l->nr + 1) * sizeof(*l->v));
	l->v[l->nr++] = e;
	e->run.price = -1;
	run_record_init(&e->note);
	run_record_init(&e->other);
	return e;
}

static struct remote_entry *find_exact(struct remote_runs *l, const char *id)
{
	size_t i;

	for (i = 0; i < l->nr; i++)
		if (!strcmp(l->v[i]->run.run_id, id))
			return l->v[i];
	return NULL;
}

static void run_from_instance(struct remote_run *out, const struct ec2_instance *i,
			      struct remote_runs_ctx *ctx, int legacy)
{
	const char *market = ec2_instance_tag(i, REMOTE_TAG_MARKET);
	const char *price = ec2_instance_tag(i, REMOTE_TAG_PRICE);
	char *end;

	out->run_id = xstrdup(ec2_instance_tag(i, REMOTE_TAG_RUN_ID));
	out->commit = xstrdup(ec2_instance_tag(i, REMOTE_TAG_COMMIT));
	out->instance_id = i->id ? xstrdup(i->id) : NULL;
	out->instance_type = i->type ? xstrdup(i->type) : NULL;
	if (!market)
		market = i->lifecycle && !strcmp(i->lifecycle, "spot") ? "spot" : "on-demand";
	out->market = xstrdup(market);
	out->az = i->az ? xstrdup(i->az) : NULL;
	out->price = price ? strtod(price, &end) : -1;
	if (price && (end == price || *end || out->price < 0))
		out->price = -1;
	out->region = ctx->client.settings.region ? xstrdup(ctx->client.settings.region) : NULL;
	out->launched = i->launched;
	out->bucket = xstrdup(ctx->bucket);
	out->run_prefix = legacy ? layout_legacy_run_prefix(&ctx->layout, out->commit, out->run_id)
				 : layout_run_prefix(&ctx->layout, out->commit, out->run_id);
}

/*
 * Whether the instance is one of this repository's: 1 tagged with <repo>, 2
 * with the legacy name and running a commit of this repository (another
 * repository of the same name runs its own), else 0.
 */
static int ours(struct remote_runs_ctx *ctx, const char *repo, const char *commit)
{
	if (!repo)
		return 0;
	if (!strcmp(repo, ctx->repo_name))
		return 1;
	return ctx->layout.legacy_name && !strcmp(repo, ctx->layout.legacy_name) &&
			       repo_has_commit(ctx->repo, commit, strlen(commit))
		       ? 2
		       : 0;
}

static int add_instances(struct remote_runs *l, struct remote_runs_ctx *ctx)
{
	/* one request for both tag values */
	struct ec2_tag filters[] = {
		{ (char *)"tag:" REMOTE_TAG_REPO, (char *)ctx->repo_name },
		{ (char *)"tag:" REMOTE_TAG_REPO, ctx->layout.legacy_name },
	};
	size_t i;

	if (ec2_describe_instances(&l->instances, &l->nr_instances, &ctx->client, NULL, 0, filters,
				   ctx->layout.legacy_name ? 2 : 1))
		return -1;
	for (i = 0; i < l->nr_instances; i++) {
		const struct ec2_instance *inst = &l->instances[i];
		const char *repo = ec2_instance_tag(inst, REMOTE_TAG_REPO);
		const char *id = ec2_instance_tag(inst, REMOTE_TAG_RUN_ID);
		const char *commit = ec2_instance_tag(inst, REMOTE_TAG_COMMIT);
		struct remote_entry *e;
		int which;

		/* the filter already says so; an emulator that ignores it must not widen it */
		if (!id || !commit || !(which = ours(ctx, repo, commit)))
			continue;
		e = find_exact(l, id);
		if (e && remote_runs_instance_alive(inst))
			e->live_instances++;
		/*
		 * A run has one instance (launches are idempotent), or one per
		 * node (issue 14): should a second one show up, a live one
		 * stands for the run.
		 */
		if (e && e->instance && remote_runs_instance_alive(e->instance))
			continue;
		if (e) {
			remote_run_release(&e->run);
		} else {
			e = add_entry(l);
			e->live_instances = remote_runs_instance_alive(inst);
		}
		run_from_instance(&e->run, inst, ctx, which == 2);
		e->instance = inst;
	}
	/* a run with several live instances runs on several nodes; run.json says how many */
	for (i = 0; i < l->nr; i++)
		if (l->v[i]->live_instances > 1)
			l->v[i]->run.nodes = l->v[i]->live_instances;
	return 0;
}

/* "YYYYMMDD-HHMMSS-<short sha>-<4 hex>": the short SHA, or NULL. */
static char *run_id_commit(const char *id)
{
	size_t n = strlen(id), i;

	if (n < 28 || id[8] != '-' || id[15] != '-' || id[n - 5] != '-')
		return NULL;
	for (i = 16; i < n - 5; i++)
		if (!strchr("0123456789abcdef", id[i]))
			return NULL;
	return xstrndup(id + 16, n - 21);
}

/*
 * The commit a noted run's prefix is under: the noted commit, unless the
 * note was carried to another commit (notes.rewriteRef: amend, rebase),
 * then the commit the run id names when this clone has it. Caller frees.
 */
static char *run_commit_of_note(struct remote_runs_ctx *ctx, const char *id, const git_oid *noted)
{
	const char *hex = git_oid_tostr_s(noted);
	char *short_sha = run_id_commit(id);
	git_object *obj = NULL;
	char *out;

	if (!short_sha || !strncmp(hex, short_sha, strlen(short_sha)) ||
	    git_revparse_single(&obj, ctx->repo, short_sha) < 0 ||
	    git_object_type(obj) != GIT_OBJECT_COMMIT)
		out = xstrdup(hex);
	else
		out = xstrdup(git_oid_tostr_s(git_object_id(obj)));
	git_error_clear();
	git_object_free(obj);
	free(short_sha);
	return out;
}

/*
 * Of the places the layout gives the run (run/layout.h), the one its note
 * names: the legacy one (git-train 0.1) only when the note says so and the
 * commit is this repository's, else this layout's. Caller frees.
 */
static char *note_run_prefix(struct remote_runs_ctx *ctx, const struct run_record *rec,
			     const char *run_commit)
{
	char *v[LAYOUT_MAX_PREFIXES], *uri;
	size_t n = layout_run_prefixes(v, &ctx->layout, run_commit, rec->id), i, pick = 0;

	for (i = 1; i < n; i++) {
		uri = layout_run_uri(ctx->bucket, v[i], LAYOUT_LOG);
		if (rec->log && !strcmp(rec->log, uri) &&
		    repo_has_commit(ctx->repo, run_commit, strlen(run_commit)))
			pick = i;
		free(uri);
	}
	for (i = 0; i < n; i++)
		if (i != pick)
			free(v[i]);
	return v[pick];
}

/* A note's nodes=: 2 to REMOTE_MAX_NODES, else 0 (one instance). */
static int note_nodes(const struct run_record *rec)
{
	const char *v = run_record_extra(rec, "nodes");
	int n = v ? atoi(v) : 0;

	return n >= 2 && n <= REMOTE_MAX_NODES ? n : 0;
}

/*
 * A run known from a note. Where its things are comes from this clone's
 * configuration (train.bucket, train.prefix, the repository) and the run
 * id, never from the note's log=: a pulled note could name any bucket.
 */
static void run_from_note(struct remote_run *out, const struct run_record *rec,
			  const git_oid *commit, struct remote_runs_ctx *ctx)
{
	const char *v;
	char *run_commit;

	out->run_id = xstrdup(rec->id);
	out->commit = xstrdup(git_oid_tostr_s(commit));
	out->parent = rec->parent ? xstrdup(rec->parent) : NULL;
	out->instance_type = xstrdup(rec->backend);
	if ((v = run_record_extra(rec, "market")))
		out->market = xstrdup(v);
	if ((v = run_record_extra(rec, "az")))
		out->az = xstrdup(v);
	if ((v = run_record_extra(rec, "instance")))
		out->instance_id = xstrdup(v);
	out->price = (v = run_record_extra(rec, "price")) ? strtod(v, NULL) : -1;
	out->nodes = note_nodes(rec);
	out->launched = rec->start;
	run_commit = run_commit_of_note(ctx, rec->id, commit);
	out->bucket = xstrdup(ctx->bucket);
	out->run_prefix = note_run_prefix(ctx, rec, run_commit);
	free(run_commit);
}

/*
 * A note line of a remote run: any backend but local, with its log in S3.
 * The first line of a run is its record; another line that says something
 * else is kept too, as a conflict: neither wins silently.
 */
static void add_note_lines(struct remote_runs *l, const char *note, const git_oid *commit,
			   struct remote_runs_ctx *ctx)
{
	const char *p = note;

	while (*p) {
		size_t n = strcspn(p, "\n");
		struct run_record rec;
		struct remote_entry *e;

		if (run_record_parse(&rec, p, n) == 0 && rec.backend &&
		    strcmp(rec.backend, "local") && rec.log &&
		    skip_prefix(rec.log, "s3://", NULL)) {
			e = find_exact(l, rec.id);
			if (!e) {
				e = add_entry(l);
				run_from_note(&e->run, &rec, commit, ctx);
			} else if (e->run.nodes <= 1 && run_record_extra(&rec, "nodes")) {
				/* its instances are gone: the note says how many it had */
				e->run.nodes = note_nodes(&rec);
			}
			if (!e->recorded) {
				run_record_release(&e->note);
				e->note = rec;
				e->recorded = 1;
				run_record_init(&rec);
			} else if (!e->conflict && !run_record_same(&e->note, &rec)) {
				run_record_release(&e->other);
				e->other = rec;
				e->conflict = 1;
				run_record_init(&rec);
			}
		}
		err_clear();
		run_record_release(&rec);
		p += n + (p[n] == '\n');
	}
}

static int add_notes(struct remote_runs *l, struct remote_runs_ctx *ctx)
{
	struct notes_index idx = { 0 };
	size_t i;
	int ret = -1;

	if (notes_index_load(&idx, ctx->repo))
		return -1;
	for (i = 0; i < idx.nr; i++) {
		char *note = NULL;
		int r = notes_index_read(&note, ctx->repo, &idx, &idx.entries[i].commit);

		if (r < 0)
			goto out;
		if (r == 0)
			add_note_lines(l, note, &idx.entries[i].commit, ctx);
		free(note);
	}
	ret = 0;
out:
	notes_index_release(&idx);
	return ret;
}

static int newest_first(const void *a, const void *b)
{
	const struct remote_entry *ea = *(const struct remote_entry *const *)a;
	const struct remote_entry *eb = *(const struct remote_entry *const *)b;

	return strcmp(eb->run.run_id, ea->run.run_id);
}

/*
 * A note line of a run whose instance is still alive is not its record
 * yet: its result is what the runner uploads when it ends, and a line
 * pulled (or forged) before that must not mark the run as recorded, or its
 * real result would never be noted. The line is kept aside, and becomes a
 * conflict if the result says otherwise (remote_runs_finalize).
 */
static void unconfirm_live(struct remote_runs *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++) {
		struct remote_entry *e = l->v[i];

		if (!e->recorded || !e->instance || !remote_runs_instance_alive(e->instance))
			continue;
		if (!e->conflict) {
			run_record_release(&e->other);
			e->other = e->note;
			run_record_init(&e->note);
		}
		run_record_release(&e->note);
		run_record_init(&e->note);
		e->recorded = 0;
		e->conflict = 0;
		e->early = 1;
	}
}

int remote_runs_load(struct remote_runs *out, struct remote_runs_ctx *ctx, int with_notes)
{
	memset(out, 0, sizeof(*out));
	if (add_instances(out, ctx) || (with_notes && add_notes(out, ctx))) {
		remote_runs_release(out);
		return -1;
	}
	unconfirm_live(out);
	if (out->nr)
		qsort(out->v, out->nr, sizeof(*out->v), newest_first);
	return 0;
}

void remote_runs_release(struct remote_runs *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++) {
		remote_run_release(&l->v[i]->run);
		run_record_release(&l->v[i]->note);
		run_record_release(&l->v[i]->other);
		free(l->v[i]);
	}
	free(l->v);
	ec2_instances_free(l->instances, l->nr_instances);
	memset(l, 0, sizeof(*l));
}

/* A run neither tagged nor noted: its run.json, found from the commit in its id. */
static struct remote_entry *find_in_s3(struct remote_runs *l, struct remote_runs_ctx *ctx,
				       const char *id)
{
	char *short_sha = run_id_commit(id), *prefixes[LAYOUT_MAX_PREFIXES];
	git_object *obj = NULL;
	struct remote_run run;
	struct remote_entry *e = NULL;
	size_t nr = 0, i;
	int r = 1;

	err_clear();
	if (!short_sha || git_revparse_single(&obj, ctx->repo, short_sha) < 0 ||
	    git_object_type(obj) != GIT_OBJECT_COMMIT)
		goto out;
	/* this layout's prefix first, then the legacy one of runs recorded before */
	nr = layout_run_prefixes(prefixes, &ctx->layout, git_oid_tostr_s(git_object_id(obj)), id);
	for (i = 0; i < nr && r == 1; i++)
		r = remote_run_load(&run, &ctx->client, ctx->bucket, prefixes[i]);
	if (r)
		goto out;
	e = add_entry(l);
	e->run = run;
out:
	git_object_free(obj);
	for (i = 0; i < nr; i++)
		free(prefixes[i]);
	free(short_sha);
	return e;
}

struct remote_entry *remote_runs_find(struct remote_runs *l, struct remote_runs_ctx *ctx,
				      const char *name)
{
	struct remote_entry *found = find_exact(l, name), *e;
	size_t i, n = strlen(name), matches = 0;

	if (found)
		return found;
	for (i = 0; i < l->nr && n; i++) {
		if (!strncmp(l->v[i]->run.run_id, name, n)) {
			found = l->v[i];
			matches++;
		}
	}
	if (matches == 1)
		return found;
	if (matches > 1) {
		err_set("run '%s' is ambiguous: %zu runs start with it", name, matches);
		err_hint("give more of the run id; 'git train status' lists them");
		return NULL;
	}
	e = find_in_s3(l, ctx, name);
	if (e)
		return e;
	if (err_msg()[0])
		return NULL;
	err_set("no run '%s' in this repository", name);
	err_hint("'git train status' lists the runs on EC2, 'git train log' the recorded ones");
	return NULL;
}

int remote_runs_complete(struct remote_runs_ctx *ctx, struct remote_entry *e)
{
	struct remote_run full;
	int r;

	if (e->completed)
		return 0;
	r = remote_run_load(&full, &ctx->client, e->run.bucket, e->run.run_prefix);
	if (r < 0)
		return -1;
	e->completed = 1;
	if (r == 1)
		return 0;
	/* the instance knows best where and since when it runs; node 0's is run.json's */
	if (e->instance && full.nodes <= 1) {
		free(full.instance_id);
		full.instance_id = e->run.instance_id ? xstrdup(e->run.instance_id) : NULL;
		full.launched = e->run.launched ? e->run.launched : full.launched;
		if (e->run.az) {
			free(full.az);
			full.az = xstrdup(e->run.az);
		}
	}
	if (full.price < 0)
		full.price = e->run.price;
	remote_run_release(&e->run);
	e->run = full;
	return 0;
}

int remote_runs_finalize(struct remote_runs_ctx *ctx, struct remote_entry *e)
{
	int r;

	if (e->recorded)
		return 0;
	r = remote_run_result(&e->note, &ctx->client, &e->run);
	if (r)
		return r;
	run_record_release(&e->note);
	if (remote_runs_complete(ctx, e))
		return -1;
	r = remote_run_finalize(&e->note, ctx->repo, &ctx->client, &e->run, &ctx->metrics);
	if (r)
		return r;
	e->recorded = 1;
	/* a line noted before the result that says something else: both stay */
	if (e->early && !run_record_same(&e->note, &e->other))
		e->conflict = 1;
	return 0;
}

const char *remote_runs_note_elsewhere(const struct remote_entry *e)
{
	const struct run_record *lines[2] = { &e->note, &e->other };
	const char *elsewhere = NULL;
	char *uri;
	size_t i;

	if (!e->run.bucket || !e->run.run_prefix)
		return NULL;
	uri = layout_run_uri(e->run.bucket, e->run.run_prefix, LAYOUT_LOG);
	for (i = 0; i < 2 && !elsewhere; i++)
		if (lines[i]->log && strcmp(lines[i]->log, uri))
			elsewhere = lines[i]->log;
	free(uri);
	return elsewhere;
}
