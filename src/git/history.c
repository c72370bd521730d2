#include "git/history.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "git/notes.h"
#include "git/repo.h"
#include "util/json.h"
#include "util/time.h"

void history_release(struct history *h)
{
	size_t i;

	for (i = 0; i < h->nr; i++) {
		free(h->v[i].short_id);
		free(h->v[i].subject);
		free(h->v[i].line);
		run_record_release(&h->v[i].rec);
	}
	free(h->v);
	memset(h, 0, sizeof(*h));
}

static int bad_revision(const char *rev)
{
	err_set("bad revision '%s': unknown revision or not a commit", rev);
	err_hint("name commits as for git log: a branch, a tag, a SHA, A..B, A...B, ^A B or --all");
	return -1;
}

/* A...B: what either side reaches but not both. */
static int push_symmetric(git_revwalk *walk, git_repository *repo, const git_revspec *spec)
{
	git_oid tips[2];
	git_oidarray bases = { 0 };
	size_t i;
	int r;

	git_oid_cpy(&tips[0], git_object_id(spec->from));
	git_oid_cpy(&tips[1], git_object_id(spec->to));
	if (git_revwalk_push(walk, &tips[0]) || git_revwalk_push(walk, &tips[1]))
		return -1;
	r = git_merge_bases_many(&bases, repo, 2, tips);
	if (r == GIT_ENOTFOUND)
		return 0;
	if (r < 0)
		return -1;
	for (i = 0; i < bases.count && !r; i++)
		r = git_revwalk_hide(walk, &bases.ids[i]);
	git_oidarray_dispose(&bases);
	return r;
}

static int push_range(git_revwalk *walk, git_repository *repo, const char *rev)
{
	git_revspec spec = { 0 };
	int r;

	if (git_revparse(&spec, repo, rev) < 0) {
		/* libgit2 keeps the side that did resolve */
		git_object_free(spec.from);
		git_object_free(spec.to);
		return bad_revision(rev);
	}
	if (spec.flags & GIT_REVSPEC_MERGE_BASE)
		r = push_symmetric(walk, repo, &spec);
	else
		r = git_revwalk_hide(walk, git_object_id(spec.from)) ||
		    git_revwalk_push(walk, git_object_id(spec.to));
	git_object_free(spec.from);
	git_object_free(spec.to);
	return r ? bad_revision(rev) : 0;
}

static int push_rev(git_revwalk *walk, git_repository *repo, const char *rev)
{
	int hide = rev[0] == '^';
	git_object *obj = NULL;
	int r;

	if (!hide && strstr(rev, ".."))
		return push_range(walk, repo, rev);
	if (git_revparse_single(&obj, repo, rev + hide) < 0)
		return bad_revision(rev);
	r = hide ? git_revwalk_hide(walk, git_object_id(obj))
		 : git_revwalk_push(walk, git_object_id(obj));
	git_object_free(obj);
	return r ? bad_revision(rev) : 0;
}

/* --all: every branch, tag and remote-tracking branch, and HEAD (not the notes). */
static int push_all(git_revwalk *walk, git_repository *repo)
{
	if (git_revwalk_push_glob(walk, "refs/heads/*") < 0 ||
	    git_revwalk_push_glob(walk, "refs/tags/*") < 0 ||
	    git_revwalk_push_glob(walk, "refs/remotes/*") < 0)
		return err_git("cannot list the refs for --all");
	if (git_repository_head_unborn(repo) != 1 && git_revwalk_push_head(walk) < 0)
		return err_git("cannot read HEAD");
	return 0;
}

static int setup_walk(git_revwalk *walk, git_repository *repo, int all, const char **revs, int nr)
{
	int i;

	git_revwalk_sorting(walk, GIT_SORT_TIME);
	if (all && push_all(walk, repo))
		return -1;
	if (!all && !nr) {
		git_commit *head = NULL;

		if (repo_resolve_commit(&head, repo, NULL))
			return -1;
		i = git_revwalk_push(walk, git_commit_id(head));
		git_commit_free(head);
		return i < 0 ? err_git("cannot walk from HEAD") : 0;
	}
	for (i = 0; i < nr; i++)
		if (push_rev(walk, repo, revs[i]))
			return -1;
	return 0;
}

static void add_lines(struct history *out, git_repository *repo, git_commit *c, size_t order,
		      const char *note)
{
	char *short_id = repo_short_id(repo, git_commit_id(c));
	const char *subject = git_commit_summary(c) ? git_commit_summary(c) : "";
	const char *p = note;
	size_t line_no = 0;

	while (*p) {
		size_t n = strcspn(p, "\n");
		struct history_entry *e;

		if (n && strspn(p, " \t\r") < n) {
			out->v = xrealloc(out->v, (out->nr + 1) * sizeof(*out->v));
			e = &out->v[out->nr++];
			memset(e, 0, sizeof(*e));
			e->order = order;
			e->line_no = line_no++;
			git_oid_cpy(&e->commit, git_commit_id(c));
			e->short_id = xstrdup(short_id);
			e->subject = xstrdup(subject);
			e->line = xstrndup(p, n);
			e->parsed = run_record_parse(&e->rec, p, n) == 0;
			err_clear();
		}
		p += n + (p[n] == '\n');
	}
	free(short_id);
}

/* The note on id, if any, into out. 0, or -1 with err_set. */
static int add_note(struct history *out, git_repository *repo, const struct notes_index *idx,
		    const git_oid *id, size_t order)
{
	git_commit *c = NULL;
	char *note = NULL;
	int r = notes_index_read(&note, repo, idx, id);

	if (r)
		return r < 0 ? -1 : 0;
	if (git_commit_lookup(&c, repo, id) < 0) {
		free(note);
		return err_git("cannot read commit %s", git_oid_tostr_s(id));
	}
	add_lines(out, repo, c, order, note);
	git_commit_free(c);
	free(note);
	return 0;
}

static int collect(struct history *out, git_repository *repo, git_revwalk *walk,
		   const struct notes_index *idx)
{
	git_oid id;
	size_t order = 0;
	int r;

	while ((r = git_revwalk_next(&id, walk)) == 0)
		if (add_note(out, repo, idx, &id, order++))
			return -1;
	return r == GIT_ITEROVER ? 0 : err_git("cannot walk the history");
}

/* Newest run first; then git's commit order; later lines of a note are newer. */
static int entry_cmp(const void *pa, const void *pb)
{
	const struct history_entry *a = pa, *b = pb;
	time_t ta = a->parsed ? a->rec.start : 0, tb = b->parsed ? b->rec.start : 0;

	if (ta != tb)
		return ta < tb ? 1 : -1;
	if (a->order != b->order)
		return a->order < b->order ? -1 : 1;
	return a->line_no < b->line_no ? 1 : a->line_no > b->line_no ? -1 : 0;
}

static int by_run_id(const void *pa, const void *pb)
{
	const struct history_entry *a = *(const struct history_entry *const *)pa;
	const struct history_entry *b = *(const struct history_entry *const *)pb;

	return strcmp(a->rec.id, b->rec.id);
}

/* Lines of one run that say different things: the same id side by side once sorted. */
static void mark_conflicts(struct history *h)
{
	struct history_entry **v = xcalloc(h->nr + 1, sizeof(*v));
	size_t n = 0, i, j;

	for (i = 0; i < h->nr; i++)
		if (h->v[i].parsed)
			v[n++] = &h->v[i];
	if (n)
		qsort(v, n, sizeof(*v), by_run_id);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && !strcmp(v[i]->rec.id, v[j]->rec.id); j++)
			if (!run_record_same(&v[i]->rec, &v[j]->rec))
				v[i]->conflict = 1;
		if (v[i]->conflict)
			while (i < j)
				v[i++]->conflict = 1;
	}
	free(v);
}

static void sort_entries(struct history *h)
{
	mark_conflicts(h);
	if (h->nr)
		qsort(h->v, h->nr, sizeof(*h->v), entry_cmp);
}

int history_walk(struct history *out, git_repository *repo, int all, const char **revs, int nr)
{
	git_revwalk *walk = NULL;
	struct notes_index idx = { 0 };
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (git_revwalk_new(&walk, repo) < 0) {
		err_git("cannot walk the history");
		goto out;
	}
	if (setup_walk(walk, repo, all, revs, nr) || notes_index_load(&idx, repo))
		goto out;
	out->any_notes = idx.nr > 0;
	ret = idx.nr ? collect(out, repo, walk, &idx) : 0;
	if (!ret)
		sort_entries(out);
out:
	notes_index_release(&idx);
	git_revwalk_free(walk);
	return ret;
}

int history_every_note(struct history *out, git_repository *repo)
{
	struct notes_index idx = { 0 };
	size_t i;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (notes_index_load(&idx, repo))
		goto out;
	out->any_notes = idx.nr > 0;
	for (i = 0; i < idx.nr; i++)
		if (add_note(out, repo, &idx, &idx.entries[i].commit, i))
			goto out;
	sort_entries(out);
	ret = 0;
out:
	notes_index_release(&idx);
	return ret;
}

int history_find_run(size_t *out, const struct history *h, const char *name)
{
	size_t i, nr = 0, len = strlen(name);

	for (i = 0; i < h->nr; i++) {
		const char *id = h->v[i].parsed ? h->v[i].rec.id : NULL;

		if (!id || !len || strncmp(id, name, len))
			continue;
		if (!id[len]) {
			*out = i; /* a whole id is never ambiguous */
			return 0;
		}
		if (!nr++)
			*out = i;
	}
	if (nr <= 1)
		return nr ? 0 : 1;
	err_set("run id prefix '%s' is ambiguous: %zu runs match", name, nr);
	for (i = 0, nr = 0; i < h->nr && nr < 10; i++) {
		const char *id = h->v[i].parsed ? h->v[i].rec.id : NULL;

		if (id && !strncmp(id, name, len)) {
			err_hint("%s  %s  %s", id, h->v[i].short_id, h->v[i].subject);
			nr++;
		}
	}
	return -1;
}

int history_metric(double *out, const struct run_record *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nr_metrics; i++) {
		if (!strcmp(r->metrics[i].name, name)) {
			*out = r->metrics[i].value;
			return 1;
		}
	}
	return 0;
}

int history_lower_is_better(const char *metric)
{
	static const char *const lower[] = {
		"loss", "error", "err", "perplexity", "ppl",  "mse", "mae",
		"rmse", "wer",	 "cer", "latency",    "time", "nll", NULL,
	};
	const char *p = metric;

	while (*p) {
		size_t n = 0, i;

		while (p[n] && isalnum((unsigned char)p[n]))
			n++;
		for (i = 0; n && lower[i]; i++)
			if (strlen(lower[i]) == n && !strncasecmp(p, lower[i], n))
				return 1;
		p += n;
		while (*p && !isalnum((unsigned char)*p))
			p++;
	}
	return 0;
}

void history_put_clean(struct buf *out, const char *s)
{
	for (; *s; s++)
		buf_putc(out, ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s);
}

void history_put_time(struct buf *out, time_t t)
{
	char tmp[TIME_ISO8601_SIZE] = "-";

	if (t)
		time_format_iso8601(tmp, t);
	buf_puts(out, tmp);
}

size_t history_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

void history_pad(struct buf *out, const char *s, size_t w)
{
	size_t n = history_width(s);

	buf_puts(out, s);
	while (n++ < w)
		buf_putc(out, ' ');
}

cJSON *history_number_json(double v)
{
	struct buf text = BUF_INIT;
	cJSON *item;

	if (v != v || v - v != 0) /* NaN and infinities have no JSON form */
		return cJSON_CreateNull();
	run_record_put_number(&text, v);
	item = cJSON_CreateRaw(buf_cstr(&text));
	buf_release(&text);
	return item;
}

cJSON *history_entry_json(const struct history_entry *e)
{
	const struct run_record *r = &e->rec;
	cJSON *o = cJSON_CreateObject(), *m, *x;
	struct buf when = BUF_INIT;
	size_t i;

	cJSON_AddStringToObject(o, "commit", git_oid_tostr_s(&e->commit));
	cJSON_AddStringToObject(o, "subject", e->subject);
	json_add_string_or_null(o, "run_id", r->id);
	json_add_string_or_null(o, "backend", r->backend);
	json_add_string_or_null(o, "status", r->status);
	json_add_number_or_null(o, "exit_code", r->exit_code >= 0, r->exit_code);
	history_put_time(&when, r->start);
	json_add_string_or_null(o, "start", r->start ? buf_cstr(&when) : NULL);
	json_add_number_or_null(o, "duration_seconds", r->duration >= 0, r->duration);
	m = cJSON_AddObjectToObject(o, "metrics");
	for (i = 0; i < r->nr_metrics; i++)
		cJSON_AddItemToObject(m, r->metrics[i].name,
				      history_number_json(r->metrics[i].value));
	json_add_string_or_null(o, "log", r->log);
	json_add_string_or_null(o, "parent", r->parent);
	x = cJSON_AddObjectToObject(o, "extra");
	for (i = 0; i < r->nr_extra; i++)
		cJSON_AddStringToObject(x, r->extra[i].key, r->extra[i].value);
	cJSON_AddStringToObject(o, "line", e->line);
	cJSON_AddBoolToObject(o, "conflict", e->conflict);
	buf_release(&when);
	return o;
}
