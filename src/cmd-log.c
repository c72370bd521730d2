/*
 * git train log [--json] [<revision-range>...]: the run history read back
 * from refs/notes/train, newest run first.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <git2.h>

#include "builtin.h"
#include "notes.h"
#include "parse-options.h"
#include "repo.h"
#include "run-record.h"
#include "util.h"

struct log_entry {
	size_t order;   /* the commit's position in the walk */
	size_t line_no; /* the line's position in the note */
	git_oid commit;
	char *short_id;
	char *subject;
	char *line;     /* the note line as written */
	int parsed;     /* rec holds the line's fields */
	struct run_record rec;
};

struct log_entries {
	struct log_entry *v;
	size_t nr;
};

static const char *const log_usage[] = {
	"git train log [--json] [<revision-range>...]",
	NULL,
};

static void entries_release(struct log_entries *e)
{
	size_t i;

	for (i = 0; i < e->nr; i++) {
		free(e->v[i].short_id);
		free(e->v[i].subject);
		free(e->v[i].line);
		run_record_release(&e->v[i].rec);
	}
	free(e->v);
	memset(e, 0, sizeof(*e));
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

static int setup_walk(git_revwalk *walk, git_repository *repo, int all,
		      const char **revs, int nr)
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

static void add_lines(struct log_entries *out, git_repository *repo, git_commit *c,
		      size_t order, const char *note)
{
	char *short_id = repo_short_id(repo, git_commit_id(c));
	const char *subject = git_commit_summary(c) ? git_commit_summary(c) : "";
	const char *p = note;
	size_t line_no = 0;

	while (*p) {
		size_t n = strcspn(p, "\n");
		struct log_entry *e;

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

static int collect(struct log_entries *out, git_repository *repo, git_revwalk *walk,
		   const struct notes_index *idx)
{
	git_oid id;
	size_t order = 0;
	int r;

	while ((r = git_revwalk_next(&id, walk)) == 0) {
		git_commit *c = NULL;
		char *note = NULL;

		r = notes_index_read(&note, repo, idx, &id);
		if (r < 0)
			return -1;
		if (r == 1)
			continue;
		if (git_commit_lookup(&c, repo, &id) < 0) {
			free(note);
			return err_git("cannot read commit %s", git_oid_tostr_s(&id));
		}
		add_lines(out, repo, c, order++, note);
		git_commit_free(c);
		free(note);
	}
	return r == GIT_ITEROVER ? 0 : err_git("cannot walk the history");
}

/* Newest run first; then git's commit order; later lines of a note are newer. */
static int entry_cmp(const void *pa, const void *pb)
{
	const struct log_entry *a = pa, *b = pb;
	time_t ta = a->parsed ? a->rec.start : 0, tb = b->parsed ? b->rec.start : 0;

	if (ta != tb)
		return ta < tb ? 1 : -1;
	if (a->order != b->order)
		return a->order < b->order ? -1 : 1;
	return a->line_no < b->line_no ? 1 : a->line_no > b->line_no ? -1 : 0;
}

static void put_number(struct buf *out, double v)
{
	char tmp[64];

	snprintf(tmp, sizeof(tmp), "%.15g", v);
	if (strtod(tmp, NULL) != v && v == v)
		snprintf(tmp, sizeof(tmp), "%.17g", v);
	buf_puts(out, tmp);
}

/* Note values can hold any byte: keep them from moving the cursor. */
static void put_clean(struct buf *out, const char *s)
{
	for (; *s; s++)
		buf_putc(out, ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s);
}

static void iso_time(char *out, size_t n, time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The columns of a parsed line: when, where, status, duration, metrics. */
static void entry_cells(struct buf cells[5], const struct run_record *r)
{
	char when[32] = "-";
	size_t i;

	if (r->start)
		iso_time(when, sizeof(when), r->start);
	buf_puts(&cells[0], when);
	put_clean(&cells[1], r->backend ? r->backend : "-");
	put_clean(&cells[2], r->status ? r->status : "-");
	if (r->status && !strcmp(r->status, "failed") && r->exit_code >= 0)
		buf_printf(&cells[2], " (exit %d)", r->exit_code);
	if (r->duration >= 0)
		format_duration(&cells[3], r->duration);
	else
		buf_puts(&cells[3], "-");
	for (i = 0; i < r->nr_metrics; i++) {
		if (i)
			buf_putc(&cells[4], ' ');
		put_clean(&cells[4], r->metrics[i].name);
		buf_putc(&cells[4], '=');
		put_number(&cells[4], r->metrics[i].value);
	}
}

/* Display width, close enough for UTF-8: continuation bytes take no column. */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void pad(struct buf *out, const char *s, size_t w)
{
	size_t n = width(s);

	buf_puts(out, s);
	while (n++ < w)
		buf_putc(out, ' ');
}

static void print_text(const struct log_entries *e)
{
	struct buf *cells = xcalloc(e->nr * 5 + 1, sizeof(*cells));
	size_t w[5] = { 0 }, i, j;
	struct buf line = BUF_INIT;

	for (i = 0; i < e->nr; i++) {
		if (!e->v[i].parsed)
			continue;
		entry_cells(&cells[i * 5], &e->v[i].rec);
		for (j = 0; j < 5; j++)
			if (width(buf_cstr(&cells[i * 5 + j])) > w[j])
				w[j] = width(buf_cstr(&cells[i * 5 + j]));
	}
	for (i = 0; i < e->nr; i++) {
		buf_reset(&line);
		buf_printf(&line, "%s  ", e->v[i].short_id);
		if (e->v[i].parsed) {
			for (j = 0; j < 5; j++) {
				if (!w[j])
					continue; /* no run has metrics */
				pad(&line, buf_cstr(&cells[i * 5 + j]), w[j]);
				buf_puts(&line, "  ");
			}
		} else {
			put_clean(&line, e->v[i].line);
			buf_puts(&line, "  ");
		}
		put_clean(&line, e->v[i].subject);
		buf_rtrim(&line);
		puts(buf_cstr(&line));
	}
	for (i = 0; i < e->nr * 5; i++)
		buf_release(&cells[i]);
	free(cells);
	buf_release(&line);
}

static void add_string_or_null(cJSON *obj, const char *key, const char *value)
{
	if (value)
		cJSON_AddStringToObject(obj, key, value);
	else
		cJSON_AddNullToObject(obj, key);
}

static cJSON *entry_json(const struct log_entry *e)
{
	const struct run_record *r = &e->rec;
	cJSON *o = cJSON_CreateObject(), *m, *x;
	char when[32];
	size_t i;

	cJSON_AddStringToObject(o, "commit", git_oid_tostr_s(&e->commit));
	cJSON_AddStringToObject(o, "subject", e->subject);
	add_string_or_null(o, "run_id", r->id);
	add_string_or_null(o, "backend", r->backend);
	add_string_or_null(o, "status", r->status);
	if (r->exit_code >= 0)
		cJSON_AddNumberToObject(o, "exit_code", r->exit_code);
	else
		cJSON_AddNullToObject(o, "exit_code");
	if (r->start)
		iso_time(when, sizeof(when), r->start);
	add_string_or_null(o, "start", r->start ? when : NULL);
	if (r->duration >= 0)
		cJSON_AddNumberToObject(o, "duration_seconds", r->duration);
	else
		cJSON_AddNullToObject(o, "duration_seconds");
	m = cJSON_AddObjectToObject(o, "metrics");
	for (i = 0; i < r->nr_metrics; i++)
		cJSON_AddNumberToObject(m, r->metrics[i].name, r->metrics[i].value);
	add_string_or_null(o, "log", r->log);
	add_string_or_null(o, "parent", r->parent);
	x = cJSON_AddObjectToObject(o, "extra");
	for (i = 0; i < r->nr_extra; i++)
		cJSON_AddStringToObject(x, r->extra[i].key, r->extra[i].value);
	cJSON_AddStringToObject(o, "line", e->line);
	return o;
}

static void print_json(const struct log_entries *e)
{
	cJSON *arr = cJSON_CreateArray();
	char *text;
	size_t i;

	for (i = 0; i < e->nr; i++)
		cJSON_AddItemToArray(arr, entry_json(&e->v[i]));
	text = cJSON_Print(arr);
	if (text)
		puts(text);
	free(text);
	cJSON_Delete(arr);
}

/* *any_notes: whether any commit at all has a run, for the hint. */
static int run_log(struct log_entries *out, int *any_notes, int all, const char **revs, int nr)
{
	git_repository *repo = NULL;
	git_revwalk *walk = NULL;
	struct notes_index idx = { 0 };
	int ret = -1;

	if (repo_open(&repo))
		goto out;
	if (git_revwalk_new(&walk, repo) < 0) {
		err_git("cannot walk the history");
		goto out;
	}
	if (setup_walk(walk, repo, all, revs, nr) || notes_index_load(&idx, repo))
		goto out;
	*any_notes = idx.nr > 0;
	ret = idx.nr ? collect(out, repo, walk, &idx) : 0;
	if (!ret && out->nr)
		qsort(out->v, out->nr, sizeof(*out->v), entry_cmp);
out:
	notes_index_release(&idx);
	git_revwalk_free(walk);
	git_repository_free(repo);
	return ret;
}

int cmd_log(int argc, const char **argv)
{
	int json = 0, all = 0, any_notes = 0, ret = EXIT_OK;
	struct log_entries entries = { 0 };
	struct parsed_args pa;
	const struct option opts[] = {
		OPT_BOOL(0, "json", &json, "print the runs as a JSON array, for scripts"),
		OPT_BOOL(0, "all", &all, "runs on every branch, tag and remote-tracking branch"),
		OPT_END(),
	};

	if (parse_options(&pa, argc, argv, opts, log_usage) != PARSE_OPT_OK) {
		parsed_args_release(&pa);
		return EXIT_USAGE;
	}
	if (pa.nr_rest) {
		msg_error("'git train log' takes revisions, not paths: '%s'", pa.rest[0]);
		usage_with_options(stderr, log_usage, opts);
		ret = EXIT_USAGE;
		goto out;
	}
	if (run_log(&entries, &any_notes, all, pa.args, pa.nr_args)) {
		err_report();
		ret = EXIT_FATAL;
		goto out;
	}
	if (json)
		print_json(&entries);
	else
		print_text(&entries);
	if (!entries.nr && !any_notes)
		msg_hint("no runs recorded yet: try 'git train local'");
	else if (!entries.nr)
		msg_hint("no runs recorded on these commits: "
			 "'git train log --all' shows every run");
out:
	entries_release(&entries);
	parsed_args_release(&pa);
	return ret;
}
