/*
 * git train smoke: a short training run of each commit (the pre-push hook's
 * work, also run by hand). One result line per commit on stdout; progress,
 * and on failure the end of the log and the command that reruns it, on
 * stderr. Exit 0 when every commit passed or was skipped, 1 when one failed
 * (or is not set up and train.smoke.required is on), 130 when interrupted.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/builtin.h"
#include "cmd/common.h"
#include "git/config.h"
#include "git/history.h"
#include "run/script.h"
#include "cmd/parse-options.h"
#include "git/repo.h"
#include "git/run-record.h"
#include "run/smoke.h"
#include "util/time.h"
#include "util/util.h"

/* How much of a failed run's log is shown. */
#define TAIL_LINES 20

static const char *const smoke_usage[] = {
	"git train smoke [--force] [<commit>...]",
	NULL,
};

struct smoke_ctx {
	git_repository *repo;
	struct script_settings settings;
	struct smoke_settings smoke;
	char *self;    /* this git-train's executable, NULL: `git train` from PATH */
	char *log_dir; /* <train dir>/smoke */
	char *cwd;     /* to show paths relative to it; NULL: unknown */
	int force;
};

enum smoke_outcome {
	SMOKE_OK,
	SMOKE_FAILED,
	SMOKE_INTERRUPTED
};

/*
 * The smoke run is this very git-train (/proc/self/exe), not whichever
 * `git train` PATH finds: under the hook they are the same program (git
 * found us on PATH), but `git train smoke` run by hand from a build
 * directory must not test with an older installed copy that may not know
 * --smoke. Without /proc, `git train` it is.
 */
static char *self_exe(void)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

	if (n <= 0)
		return NULL;
	path[n] = '\0';
	return xstrdup(path);
}

/* Under the hook, the top of the work tree: ".git/train/smoke/<sha>.log" reads better. */
static const char *shown_path(const struct smoke_ctx *c, const char *path)
{
	const char *rest;

	if (c->cwd && skip_prefix(path, c->cwd, &rest) && rest[0] == '/' && rest[1])
		return rest + 1;
	return path;
}

static void build_argv(struct strvec *argv, const struct smoke_ctx *c, const char *hex)
{
	if (c->self) {
		strvec_push(argv, c->self);
	} else {
		strvec_push(argv, "git");
		strvec_push(argv, "train");
	}
	smoke_command(argv, &c->smoke, hex);
}

/* The commit has no training script: git-train is not set up for it. */
static enum smoke_outcome not_set_up(const struct smoke_ctx *c, const char *short_id)
{
	char *why = xstrdup(err_msg());

	err_clear();
	if (c->smoke.required)
		msg_error("cannot smoke-train %s: %s", short_id, why);
	else
		msg_warning("not smoke-training %s: %s", short_id, why);
	msg_hint("git-train is not set up for this commit: name its training script with "
		 "git config train.script <path>");
	msg_hint("or switch the smoke run off: git config train.smoke.skip true");
	if (c->smoke.required)
		msg_hint("or let commits without a script through: "
			 "git config train.smoke.required false");
	printf("smoke %s %s (not set up)\n", short_id, c->smoke.required ? "failed" : "skipped");
	free(why);
	return c->smoke.required ? SMOKE_FAILED : SMOKE_OK;
}

static void show_failure(const struct smoke_ctx *c, const char *hex, const char *short_id,
			 const char *log)
{
	struct buf tail = BUF_INIT, rerun = BUF_INIT;
	const char *line, *end;

	fflush(stdout);
	if (smoke_log_tail(&tail, log, TAIL_LINES)) {
		err_report();
	} else {
		msg_error("the smoke run of %s failed; the end of its log (%s):", short_id,
			  shown_path(c, log));
		for (line = buf_cstr(&tail); *line; line = end + 1) {
			end = strchr(line, '\n');
			fprintf(stderr, "    %.*s\n", (int)(end - line), line);
		}
	}
	smoke_command_line(&rerun, &c->smoke, hex);
	msg_hint("rerun it: %s", buf_cstr(&rerun));
	msg_hint("to push without the smoke run: git push --no-verify");
	buf_release(&tail);
	buf_release(&rerun);
}

/* The last non-blank line of the log so far, from its last few KiB. */
static void last_log_line(struct buf *out, const char *path)
{
	char tail[4096];
	struct stat st;
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && !fstat(fd, &st)) {
		off_t from =
			st.st_size > (off_t)sizeof(tail) ? st.st_size - (off_t)sizeof(tail) : 0;

		n = pread(fd, tail, sizeof(tail), from);
	}
	if (fd >= 0)
		close(fd);
	while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r' || tail[n - 1] == ' '))
		n--;
	if (n > 0) {
		ssize_t start = n;

		while (start > 0 && tail[start - 1] != '\n' && tail[start - 1] != '\r')
			start--;
		char *line = xstrndup(tail + start, (size_t)(n - start));

		history_put_clean(out, line);
		free(line);
	}
}

struct watch {
	const struct ui *ui;
	const char *short_id;
	const char *log;
	int shown; /* the status line shows the run */
};

/* On a terminal, the status line says the run is alive: time so far and its latest output. */
static void watch_tick(void *data, double elapsed)
{
	struct watch *w = data;
	struct buf line = BUF_INIT, last = BUF_INIT;

	buf_printf(&line, "smoke %s: ", w->short_id);
	time_format_duration(&line, (double)(long)elapsed);
	last_log_line(&last, w->log);
	ui_status(w->ui, 0, "%s  %s", buf_cstr(&line), buf_cstr(&last));
	w->shown = 1;
	buf_release(&line);
	buf_release(&last);
}

/* Runs the smoke command for commit and prints its result line. */
static enum smoke_outcome run_one(const struct smoke_ctx *c, git_commit *commit,
				  const char *short_id)
{
	struct strvec argv = STRVEC_INIT;
	struct buf took = BUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	char *log;
	int code, timed_out, r;
	struct watch watch = { NULL, NULL, NULL, 0 };
	double start = now_monotonic();
	enum smoke_outcome ret = SMOKE_FAILED;

	git_oid_tostr(hex, sizeof(hex), git_commit_id(commit));
	log = xstrfmt("%s/%s.log", c->log_dir, hex);
	build_argv(&argv, c, hex);
	fprintf(stderr, "smoke %s: running on %s (%s), log: %s\n", short_id, c->smoke.backend,
		git_commit_summary(commit) ? git_commit_summary(commit) : "", shown_path(c, log));
	watch.ui = cmd_plain_ui();
	watch.short_id = short_id;
	watch.log = log;
	r = smoke_run(&code, &timed_out, argv.v, log, c->smoke.timeout, &cmd_interrupted,
		      ui_live(watch.ui) ? watch_tick : NULL, &watch);
	if (watch.shown)
		ui_status_done(watch.ui, UI_STATUS_CLEAR);
	if (r) {
		err_report();
		printf("smoke %s failed (could not start)\n", short_id);
		goto out;
	}
	time_format_duration(&took, timed_out ? (double)c->smoke.timeout : now_monotonic() - start);
	if (cmd_interrupted) {
		printf("smoke %s interrupted after %s\n", short_id, buf_cstr(&took));
		ret = SMOKE_INTERRUPTED;
		goto out;
	}
	if (!code && !timed_out) {
		printf("smoke %s passed in %s\n", short_id, buf_cstr(&took));
		ret = SMOKE_OK;
		goto out;
	}
	if (timed_out)
		printf("smoke %s timed out after %s\n", short_id, buf_cstr(&took));
	else
		printf("smoke %s failed (exit %d) in %s\n", short_id, code, buf_cstr(&took));
	show_failure(c, hex, short_id, log);
out:
	fflush(stdout);
	strvec_clear(&argv);
	buf_release(&took);
	free(log);
	return ret;
}

static enum smoke_outcome smoke_one(const struct smoke_ctx *c, git_commit *commit)
{
	struct smoke_pass pass;
	char *short_id = repo_short_id(c->repo, git_commit_id(commit)), *short_tree;
	enum smoke_outcome ret = SMOKE_FAILED;
	int r;

	if (script_check(commit, c->settings.script)) {
		ret = not_set_up(c, short_id);
		goto out;
	}
	r = c->force ? 1
		     : smoke_find_pass(&pass, c->repo, git_commit_tree_id(commit),
				       c->smoke.args_text);
	if (r < 0) {
		err_report();
		goto out;
	}
	if (r == 0) {
		short_tree = repo_short_id(c->repo, git_commit_tree_id(commit));
		printf("smoke %s already passed (tree %s, run %s): skipped\n", short_id, short_tree,
		       pass.run_id);
		free(short_tree);
		smoke_pass_release(&pass);
		ret = SMOKE_OK;
		goto out;
	}
	ret = run_one(c, commit, short_id);
out:
	free(short_id);
	return ret;
}

/* A tag of a tree or a blob, say: there is nothing to train, and nothing wrong. */
static int names_other_object(git_repository *repo, const char *rev)
{
	git_object *obj = NULL;
	int r = git_revparse_single(&obj, repo, rev);

	git_object_free(obj);
	git_error_clear();
	return r == 0;
}

/* Each distinct commit once, in order; stops at an interruption. */
static int smoke_all(struct smoke_ctx *c, const char **revs, int nr)
{
	git_oid *seen = xcalloc((size_t)nr, sizeof(*seen));
	int i, k, nr_seen = 0, code = EXIT_OK;

	for (i = 0; i < nr && code != EXIT_INTERRUPTED; i++) {
		git_commit *commit = NULL;
		enum smoke_outcome r;

		if (repo_resolve_commit(&commit, c->repo, revs[i])) {
			if (names_other_object(c->repo, revs[i])) {
				err_clear();
				printf("smoke %s skipped (not a commit)\n", revs[i]);
				continue;
			}
			err_report();
			code = EXIT_FAILED;
			continue;
		}
		for (k = 0; k < nr_seen && !git_oid_equal(&seen[k], git_commit_id(commit)); k++)
			;
		if (k == nr_seen) {
			git_oid_cpy(&seen[nr_seen++], git_commit_id(commit));
			r = smoke_one(c, commit);
			if (r == SMOKE_INTERRUPTED)
				code = EXIT_INTERRUPTED;
			else if (r == SMOKE_FAILED)
				code = EXIT_FAILED;
		}
		git_commit_free(commit);
	}
	free(seen);
	return code;
}

static int smoke_main(const char **revs, int nr, int force)
{
	struct smoke_ctx c;
	struct config cfg;
	struct sigaction saved[2];
	int settings = 0, smoke = 0, code = EXIT_FATAL;

	memset(&c, 0, sizeof(c));
	memset(&cfg, 0, sizeof(cfg));
	c.force = force;
	if (repo_open(&c.repo) || config_load(&cfg, c.repo))
		goto out;
	if (script_settings_load(&c.settings, &cfg))
		goto out;
	settings = 1;
	if (smoke_settings_load(&c.smoke, &cfg))
		goto out;
	smoke = 1;
	if (repo_train_dir(&c.log_dir, c.repo, "smoke", 1))
		goto out;
	c.self = self_exe();
	c.cwd = getcwd(NULL, 0);
	cmd_catch_signals(saved);
	code = smoke_all(&c, revs, nr);
	cmd_restore_signals(saved);
out:
	if (code == EXIT_FATAL)
		err_report();
	if (smoke)
		smoke_settings_release(&c.smoke);
	if (settings)
		script_settings_release(&c.settings);
	config_release(&cfg);
	git_repository_free(c.repo);
	free(c.self);
	free(c.cwd);
	free(c.log_dir);
	return code;
}

int cmd_smoke(int argc, const char **argv)
{
	struct parsed_args pa;
	const char **revs;
	const char *head = "HEAD";
	int force = 0, nr, r;
	const struct option options[] = {
		OPT_BOOL(0, "force", &force, "run even when the tree already passed"),
		OPT_END(),
	};

	r = parse_options(&pa, argc, argv, options, smoke_usage);
	if (r != PARSE_OPT_OK) {
		parse_options_release(&pa);
		return EXIT_USAGE;
	}
	/* The hook passes its commits after "--"; by hand they come before. */
	nr = pa.nr_args + pa.nr_rest;
	revs = xcalloc((size_t)(nr ? nr : 1), sizeof(*revs));
	if (pa.nr_args)
		memcpy(revs, pa.args, (size_t)pa.nr_args * sizeof(*revs));
	if (pa.nr_rest)
		memcpy(revs + pa.nr_args, pa.rest, (size_t)pa.nr_rest * sizeof(*revs));
	if (!nr) {
		revs[0] = head;
		nr = 1;
	}
	r = smoke_main(revs, nr, force);
	free(revs);
	parse_options_release(&pa);
	return r;
}
