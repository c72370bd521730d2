#include "run/smoke.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/time.h"
#include "git/clone-id.h"
#include "git/notes.h"
#include "git/run-record.h"
#include "util/shell.h"

extern char **environ;

/* Seconds a timed-out run gets between SIGTERM and SIGKILL. */
#define GRACE_KILL 5.0
/* How often the wait loop looks at the clock. */
#define POLL_SECONDS 0.05
/* An instance's --max-runtime cannot be shorter (see cmd-run.c). */
#define MIN_MAX_RUNTIME 60

/* Re-words the last error as being about key's value, with the fix. */
static int bad_value(const char *key, const char *example)
{
	char *why = xstrdup(err_msg());

	err_set("bad config value for '%s': %s", key, why);
	err_hint("fix it: git config %s %s", key, example);
	free(why);
	return -1;
}

static int load_args(struct smoke_settings *s, const struct config *cfg)
{
	struct buf quoted = BUF_INIT;
	char *text = NULL;
	int r = config_get_string(&text, cfg, "train.smoke.args");

	if (r < 0)
		return -1;
	if (!r && shell_split(&s->args, text)) {
		free(text);
		return bad_value("train.smoke.args", "'--epochs 1 --max-steps 20'");
	}
	shell_quote_argv(&quoted, (const char *const *)s->args.v, (int)s->args.nr);
	s->args_text = buf_detach(&quoted);
	free(text);
	return 0;
}

int smoke_settings_load(struct smoke_settings *out, const struct config *cfg)
{
	char *timeout = NULL;
	int r, ret = -1;

	memset(out, 0, sizeof(*out));
	out->timeout = SMOKE_DEFAULT_TIMEOUT;
	out->required = 1;
	r = config_get_string(&out->backend, cfg, "train.smoke.backend");
	if (r < 0)
		goto out;
	if (r == 1 || !*out->backend) {
		free(out->backend);
		out->backend = xstrdup("local");
	}
	if (load_args(out, cfg))
		goto out;
	r = config_get_string(&timeout, cfg, "train.smoke.timeout");
	if (r < 0 || (!r && time_parse_duration(&out->timeout, timeout))) {
		if (!r)
			bad_value("train.smoke.timeout", "10m");
		goto out;
	}
	if (config_get_bool(&out->required, cfg, "train.smoke.required") < 0)
		goto out;
	ret = 0;
out:
	if (ret)
		smoke_settings_release(out);
	free(timeout);
	return ret;
}

void smoke_settings_release(struct smoke_settings *s)
{
	free(s->backend);
	free(s->args_text);
	strvec_clear(&s->args);
	memset(s, 0, sizeof(*s));
}

/* What a smoke line's seal covers: the tree, the run, its arguments and its outcome. */
static char *seal_text(const git_oid *tree, const char *id, const char *args, const char *status)
{
	return xstrfmt("git-train smoke\ntree %s\nrun %s\nargs %s\nstatus %s\n",
		       git_oid_tostr_s(tree), id, args ? args : "", status ? status : "");
}

int smoke_seal(struct run_record *rec, git_repository *repo, const git_oid *tree)
{
	const char *smoke = run_record_extra(rec, "smoke");
	char *text, *seal = NULL;
	int ret;

	if (!smoke || strcmp(smoke, "1") || run_record_extra(rec, SMOKE_SEAL_KEY))
		return 0;
	text = seal_text(tree, rec->id, run_record_extra(rec, "args"), rec->status);
	ret = clone_id_seal(&seal, repo, text);
	if (!ret)
		run_record_add_extra(rec, SMOKE_SEAL_KEY, seal);
	free(seal);
	free(text);
	return ret;
}

/* Whether rec carries this clone's seal for tree: a pass pulled from elsewhere does not. */
static int sealed_here(const struct run_record *rec, git_repository *repo, const git_oid *tree)
{
	const char *seal = run_record_extra(rec, SMOKE_SEAL_KEY);
	char *text;
	int ok;

	if (!seal)
		return 0;
	text = seal_text(tree, rec->id, run_record_extra(rec, "args"), rec->status);
	ok = clone_id_check(repo, text, seal);
	free(text);
	return ok;
}

/*
 * The id of a passing smoke line with these args in note, sealed by this
 * clone for tree; NULL if none. Caller frees.
 */
static char *passing_run(const char *note, const char *args_text, git_repository *repo,
			 const git_oid *tree)
{
	const char *line = note;
	char *found = NULL;

	while (*line && !found) {
		size_t len = strcspn(line, "\n");
		struct run_record rec;
		const char *smoke, *args;

		run_record_init(&rec);
		if (!run_record_parse(&rec, line, len)) {
			smoke = run_record_extra(&rec, "smoke");
			args = run_record_extra(&rec, "args");
			if (smoke && !strcmp(smoke, "1") && rec.status &&
			    !strcmp(rec.status, "succeeded") &&
			    !strcmp(args ? args : "", args_text) && sealed_here(&rec, repo, tree))
				found = xstrdup(rec.id);
		}
		err_clear(); /* a line that does not parse is someone else's */
		run_record_release(&rec);
		line += len + (line[len] == '\n');
	}
	return found;
}

/* 0 found, 1 not, -1 error: the note of one noted commit, if it has tree. */
static int check_noted_commit(struct smoke_pass *out, git_repository *repo,
			      const struct notes_index *idx, const git_oid *commit,
			      const git_oid *tree, const char *args_text)
{
	git_commit *c = NULL;
	char *note = NULL;
	int ret = 1;

	/* Notes fetched from elsewhere may name commits this clone lacks. */
	if (git_commit_lookup(&c, repo, commit) < 0) {
		git_error_clear();
		return 1;
	}
	if (!git_oid_equal(git_commit_tree_id(c), tree))
		goto out;
	ret = notes_index_read(&note, repo, idx, commit);
	if (ret)
		goto out;
	out->run_id = passing_run(note, args_text, repo, tree);
	ret = out->run_id ? 0 : 1;
	if (!ret)
		git_oid_cpy(&out->commit, commit);
out:
	free(note);
	git_commit_free(c);
	return ret;
}

int smoke_find_pass(struct smoke_pass *out, git_repository *repo, const git_oid *tree,
		    const char *args_text)
{
	struct notes_index idx;
	size_t i;
	int ret = 1;

	memset(out, 0, sizeof(*out));
	if (notes_index_load(&idx, repo))
		return -1;
	for (i = 0; i < idx.nr && ret == 1; i++)
		ret = check_noted_commit(out, repo, &idx, &idx.entries[i].commit, tree, args_text);
	notes_index_release(&idx);
	return ret;
}

void smoke_pass_release(struct smoke_pass *p)
{
	free(p->run_id);
	p->run_id = NULL;
}

void smoke_command(struct strvec *out, const struct smoke_settings *s, const char *hex)
{
	size_t i;

	strvec_push(out, s->backend);
	strvec_push(out, "--smoke");
	if (strcmp(s->backend, "local")) {
		long max = s->timeout < MIN_MAX_RUNTIME ? MIN_MAX_RUNTIME : s->timeout;

		strvec_push(out, "--wait");
		/* The instance must not outlive the time we give the run. */
		if (s->timeout)
			strvec_push_nodup(out, xstrfmt("--max-runtime=%lds", max));
	}
	strvec_push(out, "--rev");
	strvec_push(out, hex);
	strvec_push(out, "--");
	for (i = 0; i < s->args.nr; i++)
		strvec_push(out, s->args.v[i]);
}

void smoke_command_line(struct buf *out, const struct smoke_settings *s, const char *hex)
{
	struct strvec words = STRVEC_INIT;

	smoke_command(&words, s, hex);
	buf_puts(out, "git train ");
	shell_quote_argv(out, (const char *const *)words.v, (int)words.nr);
	strvec_clear(&words);
}

static int spawn_logged(pid_t *out, char *const *argv, int log_fd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, reset;
	int r;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, log_fd, 1);
	posix_spawn_file_actions_adddup2(&fa, log_fd, 2);
	posix_spawnattr_init(&attr);
	/* Its own group, so that a timeout reaches the script it started too. */
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
						POSIX_SPAWN_SETSIGMASK);
	posix_spawnattr_setpgroup(&attr, 0);
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&attr, &none);
	sigemptyset(&reset);
	sigaddset(&reset, SIGINT);
	sigaddset(&reset, SIGTERM);
	sigaddset(&reset, SIGPIPE);
	posix_spawnattr_setsigdefault(&attr, &reset);
	r = posix_spawnp(out, argv[0], &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (r)
		return err_set("cannot run '%s': %s", argv[0], strerror(r));
	return 0;
}

/* Waits for pid; SIGTERM then SIGKILL to its group at the timeout or on *cancel. */
static int wait_bounded(int *out_code, int *out_timed_out, pid_t pid, long timeout,
			const volatile sig_atomic_t *cancel,
			void (*tick)(void *data, double elapsed), void *tick_data)
{
	double start = now_monotonic(), term_at = 0, ticked = start;
	int status = 0, killed = 0;
	pid_t r;

	while ((r = waitpid(pid, &status, WNOHANG)) != pid) {
		double now = now_monotonic();

		if (r < 0 && errno != EINTR)
			return err_set("cannot wait for the smoke run: %s", strerror(errno));
		if (!term_at && ((timeout && now - start >= timeout) || (cancel && *cancel))) {
			*out_timed_out = !(cancel && *cancel);
			kill(-pid, SIGTERM);
			term_at = now;
		} else if (term_at && !killed && now - term_at >= GRACE_KILL) {
			kill(-pid, SIGKILL);
			killed = 1;
		}
		if (tick && now - ticked >= 1) {
			tick(tick_data, now - start);
			ticked = now;
		}
		sleep_unless_cancelled(NULL, POLL_SECONDS);
	}
	if (term_at)
		kill(-pid, SIGKILL); /* whatever of the group is left */
	*out_code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	return 0;
}

int smoke_run(int *out_code, int *out_timed_out, char *const *argv, const char *log_path,
	      long timeout, const volatile sig_atomic_t *cancel,
	      void (*tick)(void *data, double elapsed), void *tick_data)
{
	pid_t pid;
	int fd, ret;

	*out_code = -1;
	*out_timed_out = 0;
	fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0)
		return err_set("cannot create the log '%s': %s", log_path, strerror(errno));
	ret = spawn_logged(&pid, argv, fd);
	close(fd);
	if (!ret)
		ret = wait_bounded(out_code, out_timed_out, pid, timeout, cancel, tick, tick_data);
	return ret;
}

int smoke_log_tail(struct buf *out, const char *path, int n)
{
	struct buf text = BUF_INIT;
	size_t start;

	if (read_file(&text, path))
		return -1;
	start = text.len;
	if (start && text.ptr[start - 1] == '\n')
		start--;
	while (start > 0 && n > 0) {
		if (text.ptr[start - 1] == '\n' && --n == 0)
			break;
		start--;
	}
	buf_add(out, text.ptr + start, text.len - start);
	if (out->len && out->ptr[out->len - 1] != '\n')
		buf_putc(out, '\n');
	buf_release(&text);
	return 0;
}
