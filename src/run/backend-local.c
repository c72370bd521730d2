#include "run/backend-local.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "archive/archive.h"
#include "util/child.h"
#include "util/strvec.h"

extern char **environ;

static const struct {
	const char *ext;
	const char *interpreter;
} interpreters[] = {
	{ ".py", "python3" }, { ".sh", "sh" },   { ".bash", "bash" },  { ".pl", "perl" },
	{ ".rb", "ruby" },    { ".js", "node" }, { ".R", "Rscript" }, { ".jl", "julia" },
};

static void split_words(struct strvec *out, const char *s)
{
	const char *ws = " \t\n\r\v\f";

	for (;;) {
		size_t n;

		s += strspn(s, ws);
		n = strcspn(s, ws);
		if (!n)
			break;
		strvec_push_nodup(out, xstrndup(s, n));
		s += n;
	}
}

/*
 * No interpreter known: run the file itself if it starts with "#!", making
 * it executable first (a script committed as 644 would otherwise fail).
 */
static int use_shebang(struct strvec *out, const char *script, const char *work)
{
	char *path = xstrfmt("%s/%s", work, script);
	char magic[2] = { 0, 0 };
	struct stat st;
	int fd, ret = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_set("cannot open the script '%s': %s", script, strerror(errno));
		goto out;
	}
	if (read(fd, magic, 2) != 2 || memcmp(magic, "#!", 2)) {
		err_set(
		    "cannot tell how to run '%s': its extension is not known and it has no #! line",
		    script);
		err_hint("name the interpreter: "
			 "git config train.interpreter <command> (for example python3)");
		goto out;
	}
	if (fstat(fd, &st) ||
	    (!(st.st_mode & S_IXUSR) && fchmod(fd, (st.st_mode & 07777) | S_IXUSR))) {
		err_set("cannot make '%s' executable: %s", script, strerror(errno));
		goto out;
	}
	strvec_push_nodup(out, xstrfmt("./%s", script));
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return ret;
}

static int script_argv(struct strvec *out, const struct local_run *run, const char *work)
{
	const char *script = run->settings->script;
	const char *interpreter = run->settings->interpreter;
	size_t i;
	int k;

	if (interpreter)
		split_words(out, interpreter);
	for (i = 0; !out->nr && i < ARRAY_SIZE(interpreters); i++)
		if (ends_with(script, interpreters[i].ext))
			strvec_push(out, interpreters[i].interpreter);
	if (!out->nr) {
		if (use_shebang(out, script, work))
			return -1;
	} else if (script[0] == '-') {
		/* an interpreter would take it for an option */
		strvec_push_nodup(out, xstrfmt("./%s", script));
	} else {
		strvec_push(out, script);
	}
	for (k = 0; k < run->nr_args; k++)
		strvec_push(out, run->args[k]);
	return 0;
}

/* What a script must not inherit: anything pointing git at the user's repository. */
static const char *const env_removed[] = {
	"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
	"GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_PREFIX",
	"GIT_CEILING_DIRECTORIES", "PYTHONUNBUFFERED", "GIT_TRAIN_RUN_ID", "GIT_TRAIN_COMMIT",
	"GIT_TRAIN_OUTPUTS",
};

static int env_is_removed(const char *entry)
{
	size_t i, n = strcspn(entry, "=");

	for (i = 0; i < ARRAY_SIZE(env_removed); i++)
		if (strlen(env_removed[i]) == n && !strncmp(entry, env_removed[i], n))
			return 1;
	return 0;
}

static void script_env(struct strvec *out, const struct local_run *run, const char *id,
		       const char *outputs)
{
	const char *ceiling = getenv("GIT_CEILING_DIRECTORIES");
	char sha[GIT_OID_HEXSZ + 1];
	char **e;

	for (e = environ; *e; e++)
		if (!env_is_removed(*e))
			strvec_push(out, *e);
	git_oid_tostr(sha, sizeof(sha), git_commit_id(run->commit));
	strvec_push(out, "PYTHONUNBUFFERED=1");
	strvec_push_nodup(out, xstrfmt("GIT_TRAIN_RUN_ID=%s", id));
	strvec_push_nodup(out, xstrfmt("GIT_TRAIN_COMMIT=%s", sha));
	strvec_push_nodup(out, xstrfmt("GIT_TRAIN_OUTPUTS=%s", outputs));
	/*
	 * work/ lies inside .git/train/: without a ceiling, git run by the
	 * script would walk up into the user's repository.
	 */
	strvec_push_nodup(out, xstrfmt("GIT_CEILING_DIRECTORIES=%s%s%s", run->run_dir,
				       ceiling && *ceiling ? ":" : "", ceiling ? ceiling : ""));
}

static int check_outputs_dir(const char *dir)
{
	const char *p = dir;

	if (!*dir || *dir == '/')
		goto bad;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && !strncmp(p, "..", 2))
			goto bad;
		p += n;
		p += strspn(p, "/");
	}
	return 0;
bad:
	err_set("train.outputsDir must be a relative path inside the script's directory, not '%s'",
		dir);
	err_hint("for example: git config train.outputsDir outputs");
	return -1;
}

/* code.tar.gz is the exact archive; work/ is made from it, not from the repository. */
static int prepare_workdir(const struct local_run *run, const char *tarball, const char *work)
{
	int fd, ret = -1;

	fd = open(tarball, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0)
		return err_set("cannot create '%s': %s", tarball, strerror(errno));
	if (archive_commit_to_fd(run->repo, run->commit, fd))
		goto out;
	if (close(fd)) {
		fd = -1;
		err_set("cannot write '%s': %s", tarball, strerror(errno));
		goto out;
	}
	fd = -1;
	if (mkdir(work, 0777)) {
		err_set("cannot create directory '%s': %s", work, strerror(errno));
		goto out;
	}
	ret = archive_extract(tarball, work);
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static void collect_metrics(struct run_record *rec, struct buf *warnings, const char *work)
{
	char *path = xstrfmt("%s/metrics.json", work);
	struct buf json = BUF_INIT;

	if (access(path, F_OK))
		goto out;
	if (read_file(&json, path) || metrics_parse_json(rec, buf_cstr(&json), warnings)) {
		buf_printf(warnings, "%s (no metrics recorded)\n", err_msg());
		err_clear();
	}
out:
	buf_release(&json);
	free(path);
}

static void collect_outputs(struct buf *warnings, const struct local_run *run, const char *outputs)
{
	char *dest = xstrfmt("%s/outputs", run->run_dir);
	struct stat st;

	if (lstat(outputs, &st))
		goto out;
	if (!S_ISDIR(st.st_mode))
		buf_printf(warnings, "'%s' is not a directory: outputs not kept\n",
			   run->settings->outputs_dir);
	else if (rename(outputs, dest))
		buf_printf(warnings, "cannot move the outputs to '%s': %s\n", dest,
			   strerror(errno));
out:
	free(dest);
}

/* The note shows the log relative to the working tree when it lies inside it. */
static char *note_log_path(git_repository *repo, const char *log)
{
	const char *wd = git_repository_workdir(repo), *rel;

	if (wd && skip_prefix(log, wd, &rel) && *rel)
		return xstrdup(rel);
	return xstrdup(log);
}

static void set_status(struct run_record *rec, int code, int setup_failed)
{
	free(rec->status);
	if (child_interrupt_presses())
		rec->status = xstrdup("interrupted");
	else
		rec->status = xstrdup(code ? "failed" : "succeeded");
	rec->exit_code = code;
	if (setup_failed)
		run_record_add_extra(rec, "stage", "setup");
}

int backend_local_run(struct run_record *rec, struct buf *warnings, const struct local_run *run)
{
	char *work = xstrfmt("%s/work", run->run_dir);
	char *tarball = xstrfmt("%s/code.tar.gz", run->run_dir);
	char *log = xstrfmt("%s/log", run->run_dir);
	char *outputs = xstrfmt("%s/%s", work, run->settings->outputs_dir);
	struct strvec argv = STRVEC_INIT, envp = STRVEC_INIT;
	struct child_log s = { -1, 0 };
	struct child_signals saved;
	int installed = 0, code = -1, setup_failed = 0, ret = -1;
	double t0;

	if (check_outputs_dir(run->settings->outputs_dir) || child_signals_install(&saved))
		goto out;
	installed = 1;
	if (prepare_workdir(run, tarball, work) || script_argv(&argv, run, work) ||
	    mkdir_p(outputs, 0777))
		goto out;
	script_env(&envp, run, rec->id, outputs);
	s.log = open(log, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0666);
	if (s.log < 0) {
		err_set("cannot create '%s': %s", log, strerror(errno));
		goto out;
	}

	rec->start = time(NULL);
	t0 = now_monotonic();
	if (!child_interrupt_presses() && run->settings->setup && *run->settings->setup) {
		char *sh[] = { "/bin/sh", "-c", run->settings->setup, NULL };

		if (child_run(&code, sh, envp.v, work, &s, 2, &saved))
			goto out;
		setup_failed = code != 0;
	}
	if (!child_interrupt_presses() && !setup_failed &&
	    child_run(&code, argv.v, envp.v, work, &s, 1, &saved))
		goto out;
	rec->duration = now_monotonic() - t0;
	set_status(rec, code, setup_failed);

	if (s.log_failed)
		buf_printf(warnings, "cannot write the log '%s': %s\n", log,
			   strerror(s.log_failed));
	collect_metrics(rec, warnings, work);
	collect_outputs(warnings, run, outputs);
	if (!run->keep_workdir && remove_tree(work)) {
		buf_printf(warnings, "%s\n", err_msg());
		err_clear();
	}
	free(rec->log);
	rec->log = note_log_path(run->repo, log);
	ret = 0;
out:
	if (installed)
		child_signals_restore(&saved);
	if (s.log >= 0)
		close(s.log);
	strvec_clear(&argv);
	strvec_clear(&envp);
	free(work);
	free(tarball);
	free(log);
	free(outputs);
	return ret;
}
