/*
 * pipeline: the stages of run.h around the backend's operations. This file
 * is the one place a run's commit is resolved, its note is written and its
 * outcome is put into words, for every backend.
 */
#include "run/run.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive/archive.h"
#include "git/notes.h"
#include "git/repo.h"
#include "git/snapshot.h"
#include "run/smoke.h"
#include "util/shell.h"
#include "util/time.h"

int run_resolve_code(git_commit **out, char **out_parent, git_repository *repo, const char *rev,
		     int stash, int include_untracked, const char *verb, const struct ui *ui)
{
	git_oid id;
	char *s;
	int c;

	*out = NULL;
	if (out_parent)
		*out_parent = NULL;
	if (!stash)
		return repo_resolve_commit(out, repo, rev);
	c = snapshot_create(&id, repo, include_untracked);
	if (c < 0)
		return -1;
	if (git_commit_lookup(out, repo, &id) < 0)
		return err_git("cannot read the snapshot commit");
	s = repo_short_id(repo, &id);
	if (c == 1) {
		ui_say(ui, UI_INFO,
		       "nothing to snapshot: the working tree matches HEAD, %s HEAD (%s)", verb, s);
	} else {
		ui_say(ui, UI_INFO, "%s snapshot %s of the working tree", verb, s);
		if (out_parent && git_commit_parentcount(*out) > 0)
			*out_parent = xstrdup(git_oid_tostr_s(git_commit_parent_id(*out, 0)));
	}
	free(s);
	return 0;
}

/* Tracked files that differ from HEAD are not part of a run of HEAD: say so. */
static void warn_uncommitted(struct run *r)
{
	const struct ui *ui = r->req->ui;
	size_t tracked = 0, untracked = 0;

	if (snapshot_count_changes(&tracked, &untracked, r->req->repo)) {
		ui_say(ui, UI_WARNING, "cannot check for uncommitted changes: %s", err_msg());
		err_clear();
		return;
	}
	if (!tracked)
		return;
	ui_say(ui, UI_WARNING, "%zu changed file%s not part of this run (it uses commit %s)",
	       tracked, tracked == 1 ? " is" : "s are", r->short_id);
	ui_say(ui, UI_HINT,
	       "commit them, or run the working tree with --stash "
	       "(add --include-untracked for new files)");
}

int run_init(struct run *out, const struct run_request *req, const struct run_backend *backend,
	     const void *opts)
{
	const git_oid *id;
	size_t i;

	memset(out, 0, sizeof(*out));
	run_record_init(&out->rec);
	out->req = req;
	out->backend = backend;
	out->opts = opts;
	if (run_resolve_code(&out->commit, &out->rec.parent, req->repo, req->rev, req->stash,
			     req->include_untracked, req->verb, req->ui))
		return RC_ERROR;
	if (req->parent && !out->rec.parent)
		out->rec.parent = xstrdup(req->parent);
	id = git_commit_id(out->commit);
	git_oid_tostr(out->hex, sizeof(out->hex), id);
	out->short_id = repo_short_id(req->repo, id);
	if (!req->stash && !req->rev)
		warn_uncommitted(out);
	if (script_check(out->commit, req->script->script))
		return RC_ERROR;
	out->rec.id = run_record_new_id(out->short_id, time(NULL));
	if (req->nr_args) {
		struct buf words = BUF_INIT;

		shell_quote_argv(&words, req->args, req->nr_args);
		run_record_add_extra(&out->rec, "args", buf_cstr(&words));
		buf_release(&words);
	}
	if (req->smoke)
		run_record_add_extra(&out->rec, "smoke", "1");
	for (i = 0; req->fields && i < req->fields->nr; i++) {
		const char *f = req->fields->v[i], *eq = strchr(f, '=');
		char *key = xstrndup(f, (size_t)(eq - f));

		run_record_add_extra(&out->rec, key, eq + 1);
		free(key);
	}
	return 0;
}

int run_prepare(struct run *r)
{
	const char *subject = git_commit_summary(r->commit);
	int ret;

	/* the code's filters (Git LFS) must run here, before anything is launched */
	if (archive_check(r->req->repo, r->commit))
		return RC_ERROR;
	ret = r->backend->prepare(r);
	if (ret)
		return ret;
	ui_say(r->req->ui, UI_PROGRESS, "run %s: %s %s (%s)", r->rec.id, r->short_id,
	       subject ? subject : "", r->rec.backend ? r->rec.backend : r->backend->name);
	return 0;
}

int run_start(struct run *r)
{
	int ret = r->backend->start(r);

	if (ret)
		return ret;
	r->started = 1;
	/* the note will sit on the snapshot: keep it from git gc */
	if (r->rec.parent && snapshot_keep(r->req->repo, git_commit_id(r->commit))) {
		ui_say(r->req->ui, UI_WARNING, "%s", err_msg());
		err_clear();
	}
	return 0;
}

int run_follow(struct run *r, int out_fd, int err_fd)
{
	return r->backend->follow(r, out_fd, err_fd);
}

int run_finish(struct run *r)
{
	int ret = r->backend->collect(r);

	if (ret)
		return ret;
	r->ended = 1;
	/* unsealed, the pass only counts for nobody: worth a warning, not the note */
	if (smoke_seal(&r->rec, r->req->repo, git_commit_tree_id(r->commit))) {
		ui_say(r->req->ui, UI_WARNING, "%s", err_msg());
		err_clear();
	}
	if (r->replace_note) {
		struct buf line = BUF_INIT;

		run_record_format(&line, &r->rec);
		ret = notes_replace_run(r->req->repo, git_commit_id(r->commit), r->rec.id,
					buf_cstr(&line));
		buf_release(&line);
		return ret < 0 ? RC_ERROR : 0;
	}
	return run_note_write(r->req->repo, &r->rec, r->hex) < 0 ? RC_ERROR : 0;
}

int run_stop(struct run *r, const char *why)
{
	return r->backend->stop(r, why);
}

void run_release(struct run *r)
{
	if (r->backend && r->backend->release)
		r->backend->release(r);
	run_record_release(&r->rec);
	git_commit_free(r->commit);
	free(r->short_id);
	memset(r, 0, sizeof(*r));
}

/* Whether note has exactly this line. */
static int has_line(const char *note, const char *line)
{
	size_t n = strlen(line);
	const char *p = note;

	while (*p) {
		if (!strncmp(p, line, n) && (p[n] == '\n' || !p[n]))
			return 1;
		p += strcspn(p, "\n");
		p += *p == '\n';
	}
	return 0;
}

/*
 * Check, then append: two processes finalizing the same run at the same
 * moment could both write the line (notes_append is compare-and-swap on the
 * ref, so neither loses the other's). Such twin lines are identical but for
 * the cost of a stopped run, and `cat_sort_uniq` would fold identical ones.
 * A different line for the same run (pulled from another clone, or forged)
 * does not stop ours: both stay, and status and log show the conflict.
 */
int run_note_write(git_repository *repo, const struct run_record *rec, const char *commit)
{
	struct buf line = BUF_INIT;
	git_oid oid;
	char *note = NULL;
	int r;

	if (git_oid_fromstr(&oid, commit) < 0)
		return err_set("run %s names a bad commit '%s'", rec->id, commit);
	r = notes_read(&note, repo, &oid);
	if (r < 0)
		return -1;
	run_record_format(&line, rec);
	if (r == 0 && has_line(note, buf_cstr(&line)))
		r = 1;
	else
		r = notes_append(repo, &oid, buf_cstr(&line));
	free(note);
	buf_release(&line);
	return r;
}

void run_outcome(struct buf *out, const struct run_record *rec)
{
	const char *stage = run_record_extra(rec, "stage");
	const char *status = rec->status ? rec->status : "failed";
	struct buf d = BUF_INIT;

	time_format_duration(&d, rec->duration);
	if (!strcmp(status, "succeeded"))
		buf_printf(out, "succeeded in %s", buf_cstr(&d));
	else if (!strcmp(status, "failed") && rec->exit_code >= 0)
		buf_printf(out, "failed (%sexit %d) in %s",
			   stage && !strcmp(stage, "setup") ? "setup " : "", rec->exit_code,
			   buf_cstr(&d));
	else if (!strcmp(status, "preempted"))
		buf_printf(out, "was preempted after %s: EC2 reclaimed the spot instance",
			   buf_cstr(&d));
	else
		buf_printf(out, "%s after %s", status, buf_cstr(&d));
	buf_release(&d);
}

void run_summary(struct buf *out, const struct run_record *rec)
{
	const char *market = run_record_extra(rec, "market");
	const char *cost = run_record_extra(rec, "cost");
	size_t i;

	buf_printf(out, "run %s ", rec->id);
	run_outcome(out, rec);
	if (market)
		buf_printf(out, " (%s %s%s%s)", rec->backend, market, cost ? ", $" : "",
			   cost ? cost : "");
	for (i = 0; i < rec->nr_metrics; i++)
		buf_printf(out, "%s%s=%g", i ? " " : ": ", rec->metrics[i].name,
			   rec->metrics[i].value);
	if (rec->status && strcmp(rec->status, "succeeded") && rec->log)
		buf_printf(out, "\nlog: %s", rec->log);
}
