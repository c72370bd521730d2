/*
 * backend-local: the run on this machine (see backend-local.h).
 */
#include "run/backend-local.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive/archive.h"
#include "git/inputs.h"
#include "git/repo.h"
#include "run/attempts.h"
#include "run/data.h"
#include "run/deps.h"
#include "run/layout.h"
#include "run/metric-patterns.h"
#include "run/outputs.h"
#include "run/run.h"
#include "services/secrets.h"
#include "util/child.h"
#include "util/strvec.h"
#include "util/time.h"

extern char **environ;

/* Run ids tried before giving up on finding a free run directory. */
#define MAX_TRIES 100

struct local {
	char *dir;	/* the run directory, absolute */
	char *work;	/* <dir>/work */
	char *outputs;	/* <work>/<train.outputsDir> */
	char *log_path; /* <dir>/log */
	struct strvec argv, envp;
	struct child_signals saved;
	struct child_log log;
	int installed; /* saved holds the signal dispositions to restore */
	int ran;       /* follow ran the training: the directory is the run's record */
	int code, setup_failed;
	double t0;
	struct run_inputs inputs;	/* train.data, train.env, train.secret */
	struct strvec input_env;	/* their NAME=value, secrets' values included */
	char *data_dir;			/* <dir>/data, when there is data */
	struct metric_patterns metrics; /* train.metric */
	char *checkpoints;		/* <dir>/checkpoints: GIT_TRAIN_CHECKPOINT_DIR */
	char *attempts_path;		/* <dir>/attempts.json */
	struct retry_codes retry;	/* train.retryOnExit */
	int max_interruptions;		/* train.maxInterruptions */
	struct run_attempts attempts;	/* this run's, earlier ones (resume) included */
	int resumed;			/* dir is an ended run's (resume): never removed */
};

/* What a script must not inherit: anything pointing git at the user's repository. */
static const char *const env_removed[] = {
	"GIT_DIR",
	"GIT_WORK_TREE",
	"GIT_INDEX_FILE",
	"GIT_OBJECT_DIRECTORY",
	"GIT_ALTERNATE_OBJECT_DIRECTORIES",
	"GIT_COMMON_DIR",
	"GIT_NAMESPACE",
	"GIT_PREFIX",
	"GIT_CEILING_DIRECTORIES",
	"PYTHONUNBUFFERED",
	"GIT_TRAIN_RUN_ID",
	"GIT_TRAIN_COMMIT",
	"GIT_TRAIN_OUTPUTS",
	"GIT_TRAIN_CHECKPOINT_DIR",
	"GIT_TRAIN_ATTEMPT",
};

static int env_is_removed(const char *entry)
{
	size_t i, n = strcspn(entry, "=");

	for (i = 0; i < ARRAY_SIZE(env_removed); i++)
		if (strlen(env_removed[i]) == n && !strncmp(entry, env_removed[i], n))
			return 1;
	return 0;
}

/* Overwrites what may hold a secret's value (train.secret) before it is freed. */
static void zero_strings(struct strvec *sv)
{
	size_t i;

	for (i = 0; i < sv->nr; i++)
		explicit_bzero(sv->v[i], strlen(sv->v[i]));
}

/* Whether entry (NAME=value) names a variable that set (NAME=value entries) holds too. */
static int env_is_set(const char *entry, const struct strvec *set)
{
	size_t i, n = strcspn(entry, "=");

	for (i = 0; i < set->nr; i++)
		if (!strncmp(set->v[i], entry, n) && set->v[i][n] == '=')
			return 1;
	return 0;
}

static void script_env(struct strvec *out, const struct run *run, const char *run_dir,
		       const char *outputs, const char *checkpoints, const struct strvec *inputs)
{
	const char *ceiling = getenv("GIT_CEILING_DIRECTORIES");
	char **e;
	size_t i;

	for (e = environ; *e; e++)
		if (!env_is_removed(*e) && !env_is_set(*e, inputs))
			strvec_push(out, *e);
	for (i = 0; i < inputs->nr; i++)
		strvec_push(out, inputs->v[i]);
	strvec_push(out, "PYTHONUNBUFFERED=1");
	strvec_push_nodup(out, xstrfmt("GIT_TRAIN_RUN_ID=%s", run->rec.id));
	strvec_push_nodup(out, xstrfmt("GIT_TRAIN_COMMIT=%s", run->hex));
	strvec_push_nodup(out, xstrfmt("GIT_TRAIN_OUTPUTS=%s", outputs));
	strvec_push_nodup(out, xstrfmt("GIT_TRAIN_CHECKPOINT_DIR=%s", checkpoints));
	/*
	 * work/ lies inside .git/train/: without a ceiling, git run by the
	 * script would walk up into the user's repository.
	 */
	strvec_push_nodup(out, xstrfmt("GIT_CEILING_DIRECTORIES=%s%s%s", run_dir,
				       ceiling && *ceiling ? ":" : "", ceiling ? ceiling : ""));
}

/* code.tar.gz is the exact archive; work/ is made from it, not from the repository. */
static int prepare_workdir(const struct run *run, const char *tarball, const char *work)
{
	int fd, ret = -1;

	fd = open(tarball, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0)
		return err_set("cannot create '%s': %s", tarball, strerror(errno));
	if (archive_commit_to_fd(run->req->repo, run->commit, fd))
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
	if (read_file(&json, path) || run_record_parse_metrics(rec, buf_cstr(&json), warnings)) {
		buf_printf(warnings, "%s (no metrics recorded)\n", err_msg());
		err_clear();
	}
out:
	buf_release(&json);
	free(path);
}

static void collect_outputs(struct buf *warnings, const struct local *l, const char *outputs_dir)
{
	char *dest = layout_local_path(l->dir, LAYOUT_OUTPUTS);
	const char *outputs = l->outputs;
	struct stat st;

	if (lstat(outputs, &st))
		goto out;
	if (!S_ISDIR(st.st_mode))
		buf_printf(warnings, "'%s' is not a directory: outputs not kept\n", outputs_dir);
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

/* mkdir, not mkdir -p: two runs must never share a directory. */
static int make_run_dir(struct run *run, struct local *l)
{
	char *runs = NULL;
	int tries, ret = -1;

	if (repo_train_dir(&runs, run->req->repo, "runs", 1))
		return -1;
	for (tries = 0; tries < MAX_TRIES; tries++) {
		if (tries) {
			free(run->rec.id);
			run->rec.id = run_record_new_id(run->short_id, time(NULL));
		}
		l->dir = xstrfmt("%s/%s", runs, run->rec.id);
		if (!mkdir(l->dir, 0777)) {
			ret = 0;
			goto out;
		}
		if (errno != EEXIST) {
			err_set("cannot create the run directory '%s': %s", l->dir,
				strerror(errno));
			goto out;
		}
		free(l->dir);
		l->dir = NULL;
	}
	err_set("cannot find a free run id in '%s'", runs);
out:
	if (ret) {
		free(l->dir);
		l->dir = NULL;
	}
	free(runs);
	return ret;
}

/*
 * The log, opened for appending and locked for as long as the run lasts:
 * a run whose log is locked is running. 0, or -1 with err_set.
 */
static int open_log(struct local *l, const char *id, int fresh)
{
	l->log.log =
		open(l->log_path,
		     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | (fresh ? O_EXCL : 0),
		     0666);
	if (l->log.log < 0)
		return err_set("cannot %s '%s': %s", fresh ? "create" : "open", l->log_path,
			       strerror(errno));
	if (flock(l->log.log, LOCK_EX | LOCK_NB)) {
		if (errno == EWOULDBLOCK) {
			err_set("run %s is still running", id);
			err_hint("wait for it to end, or stop its git train local (Ctrl-C)");
			return -1;
		}
		return err_set("cannot lock '%s': %s", l->log_path, strerror(errno));
	}
	return 0;
}

/* An ended run's directory, to run it again (resume_id). 0, or -1 with err_set. */
static int open_run_dir(struct run *run, struct local *l, const char *id)
{
	char *runs = NULL;
	struct stat st;

	if (!*id || strchr(id, '/') || !strcmp(id, ".") || !strcmp(id, ".."))
		return err_set("bad run id '%s'", id);
	if (repo_train_dir(&runs, run->req->repo, "runs", 0))
		return -1;
	l->dir = xstrfmt("%s/%s", runs, id);
	free(runs);
	l->resumed = 1;
	if (lstat(l->dir, &st) || !S_ISDIR(st.st_mode))
		return err_set("run %s has no run directory '%s'", id, l->dir);
	free(run->rec.id);
	run->rec.id = xstrdup(id);
	return 0;
}

/* Reads a file that is not a symbolic link (the script may have made one). 0, or -1. */
static int read_plain_file(struct buf *out, const char *path)
{
	char chunk[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 && out->len < (1 << 20))
		buf_add(out, chunk, (size_t)n);
	close(fd);
	return n < 0 ? -1 : 0;
}

/*
 * The attempts of the run being resumed: its attempts.json, else what its
 * note line says (one attempt). An attempt left "running" (git-train was
 * killed) counts as interrupted.
 */
static void load_attempts(struct local *l, const char *id, const struct run_record *old)
{
	struct buf text = BUF_INIT;
	struct run_attempt *t;

	if (read_plain_file(&text, l->attempts_path) ||
	    run_attempts_parse(&l->attempts, text.ptr ? text.ptr : "", text.len, id,
			       "attempts.json") ||
	    !l->attempts.nr) {
		err_clear();
		run_attempts_release(&l->attempts);
		t = run_attempts_begin(&l->attempts, "local", old ? old->start : 0);
		t->duration = old && old->duration > 0 ? old->duration : 0;
		t->end = t->start + (time_t)(t->duration + 0.5);
		free(t->status);
		t->status = xstrdup(old && old->status ? old->status : "interrupted");
		t->exit_code = old ? old->exit_code : -1;
	}
	t = &l->attempts.v[l->attempts.nr - 1];
	if (!strcmp(t->status, "running")) {
		free(t->status);
		t->status = xstrdup("interrupted");
		if (t->duration < 0)
			t->duration = 0;
	}
	buf_release(&text);
}

static int local_prepare(struct run *run)
{
	const struct backend_local_opts *o = run->opts;
	struct local *l = xcalloc(1, sizeof(*l));

	run->state = l;
	l->log.log = -1;
	run->rec.backend = xstrdup("local");
	if (metric_patterns_load(&l->metrics, run->req->cfg) ||
	    inputs_load(&l->inputs, run->req->cfg) ||
	    run_retry_codes_parse(&l->retry, run->req->cfg) ||
	    run_max_interruptions(&l->max_interruptions, run->req->cfg))
		return RC_ERROR;
	if (script_check_outputs_dir(run->req->script->outputs_dir))
		return RC_ERROR;
	if (o->resume_id ? open_run_dir(run, l, o->resume_id) : make_run_dir(run, l))
		return RC_ERROR;
	l->work = layout_local_path(l->dir, LAYOUT_WORK);
	l->outputs = xstrfmt("%s/%s", l->work, run->req->script->outputs_dir);
	l->log_path = layout_local_path(l->dir, LAYOUT_LOG);
	l->checkpoints = layout_local_path(l->dir, LAYOUT_CHECKPOINTS);
	l->attempts_path = layout_local_path(l->dir, LAYOUT_ATTEMPTS);
	if (o->resume_id) {
		const char *from = o->resumed ? run_record_extra(o->resumed, "resumed_from") : NULL;

		if (open_log(l, run->rec.id, 0))
			return RC_ERROR;
		load_attempts(l, run->rec.id, o->resumed);
		run->replace_note = 1;
		if (from)
			run_record_add_extra(&run->rec, "resumed_from", from);
	}
	if (o->resume_from_id)
		run_record_add_extra(&run->rec, "resumed_from", o->resume_from_id);
	return 0;
}

/*
 * The data, downloaded through the cache, and the secrets, read with the
 * user's credentials: into l->input_env with train.env's variables, and
 * their names and fingerprints into the note.
 */
static int resolve_inputs(struct run *run, struct local *l)
{
	struct run_inputs *in = &l->inputs;
	struct aws_client client;
	char *cache = NULL;
	size_t i;
	int have_client = 0, ret = -1;

	for (i = 0; i < in->nr_env; i++)
		strvec_push_nodup(&l->input_env,
				  xstrfmt("%s=%s", in->env[i].name, in->env[i].value));
	if (in->nr_data || in->nr_secrets) {
		if (aws_client_init(&client, run->req->cfg))
			goto out;
		have_client = 1;
	}
	if (in->nr_data) {
		if (!(cache = data_cache_dir()))
			goto out;
		l->data_dir = layout_local_path(l->dir, LAYOUT_DATA);
		if (mkdir(l->data_dir, 0777)) {
			err_set("cannot create '%s': %s", l->data_dir, strerror(errno));
			goto out;
		}
	}
	for (i = 0; i < in->nr_data; i++) {
		struct inputs_data *d = &in->data[i];
		struct s3_listed *v = NULL;
		char *dest = xstrfmt("%s/%s", l->data_dir, d->name);
		size_t nr = 0, got = 0;
		int r = data_list(&v, &nr, &client, d) ||
			data_fetch(&got, &client, d, v, nr, cache, dest);

		s3_listed_free(v, nr);
		if (!r) {
			ui_say(run->req->ui, UI_PROGRESS,
			       "data %s: %zu object%s, fingerprint %s (%zu downloaded)", d->name,
			       nr, nr == 1 ? "" : "s", d->fingerprint, got);
			strvec_push_nodup(&l->input_env, xstrfmt("%s=%s", d->var, dest));
			if (in->nr_data == 1)
				strvec_push_nodup(&l->input_env,
						  xstrfmt("GIT_TRAIN_DATA=%s", dest));
		}
		free(dest);
		if (r)
			goto out;
	}
	for (i = 0; i < in->nr_secrets; i++) {
		const struct inputs_secret *sec = &in->secrets[i];
		char *value = NULL, *entry;
		size_t n = strlen(sec->name), m;

		if (secrets_get(&value, &client, sec->manager ? SECRETS_MANAGER : SECRETS_SSM,
				sec->ref))
			goto out;
		/* one allocation, no growing buffer: no copy of the value left behind */
		m = strlen(value);
		entry = xmalloc(n + m + 2);
		memcpy(entry, sec->name, n);
		entry[n] = '=';
		memcpy(entry + n + 1, value, m + 1);
		strvec_push_nodup(&l->input_env, entry);
		secret_free(value);
	}
	inputs_note(&run->rec, in);
	ret = 0;
out:
	if (have_client)
		aws_client_release(&client);
	free(cache);
	return ret;
}

/* This machine's NVIDIA GPUs, as `nvidia-smi -L` lists them; 1 without any (torchrun's nproc). */
static int local_nproc(void)
{
	FILE *f = popen("nvidia-smi -L 2>/dev/null", "r");
	char line[512];
	int n = 0;

	if (!f)
		return 1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "GPU ", 4))
			n++;
	pclose(f);
	return n > 0 ? n : 1;
}

/*
 * A resumed run's directory made ready for the next attempt: what the last
 * one extracted and linked goes (the code is archived again from the
 * commit), its checkpoints, log and outputs stay. 0, or -1 with err_set.
 */
static int clear_for_resume(struct local *l, const char *tarball)
{
	char *data = layout_local_path(l->dir, LAYOUT_DATA);
	int r = 0;

	if (!access(l->work, F_OK) || errno != ENOENT)
		r = remove_tree(l->work);
	if (!r && (!access(data, F_OK) || errno != ENOENT))
		r = remove_tree(data);
	if (!r && unlink(tarball) && errno != ENOENT)
		r = err_set("cannot remove '%s': %s", tarball, strerror(errno));
	free(data);
	return r;
}

/* The outputs an earlier attempt left, back where the script writes them. */
static void restore_outputs(struct run *run, struct local *l)
{
	char *kept = layout_local_path(l->dir, LAYOUT_OUTPUTS);
	struct stat st;

	if (!lstat(kept, &st) && S_ISDIR(st.st_mode) &&
	    (rmdir(l->outputs) || rename(kept, l->outputs)))
		ui_say(run->req->ui, UI_WARNING,
		       "cannot put the earlier outputs back into '%s': %s", l->outputs,
		       strerror(errno));
	free(kept);
}

/* GIT_TRAIN_CHECKPOINT_DIR, a directory of its own (not a link), with --resume-from's files. */
static int prepare_checkpoints(struct run *run, struct local *l)
{
	const struct backend_local_opts *o = run->opts;
	struct outputs_stats st;
	struct stat sb;
	char *title;
	int r;

	if (mkdir(l->checkpoints, 0777) && errno != EEXIST)
		return err_set("cannot create '%s': %s", l->checkpoints, strerror(errno));
	if (lstat(l->checkpoints, &sb) || !S_ISDIR(sb.st_mode))
		return err_set("'%s' is not a directory", l->checkpoints);
	if (!o->resume_from)
		return 0;
	title = xstrfmt("Restoring the checkpoints of %s", o->resume_from_id);
	r = outputs_download(&st, o->resume_from, l->checkpoints, run->req->ui, title);
	free(title);
	if (r)
		return -1;
	ui_say(run->req->ui, UI_PROGRESS, "checkpoints of run %s: %zu file%s restored",
	       o->resume_from_id, st.fetched + st.skipped, st.fetched + st.skipped == 1 ? "" : "s");
	return 0;
}

static int local_start(struct run *run)
{
	struct local *l = run->state;
	char *tarball = layout_local_path(l->dir, LAYOUT_CODE);
	int ret = RC_ERROR;

	if (child_signals_install(&l->saved))
		goto out;
	l->installed = 1;
	if (l->resumed && clear_for_resume(l, tarball))
		goto out;
	if (prepare_workdir(run, tarball, l->work) ||
	    script_argv(&l->argv, run->req->script, l->work, run->req->args, run->req->nr_args) ||
	    mkdir_p(l->outputs, 0777))
		goto out;
	if (l->resumed)
		restore_outputs(run, l);
	if (prepare_checkpoints(run, l) || resolve_inputs(run, l))
		goto out;
	if (run->req->script->launcher)
		script_launcher_argv(&l->argv, run->req->script, local_nproc());
	script_env(&l->envp, run, l->dir, l->outputs, l->checkpoints, &l->input_env);
	if (!l->resumed && open_log(l, run->rec.id, 1))
		goto out;
	ret = 0;
out:
	free(tarball);
	return ret;
}

/*
 * The dependencies (deps.h), before setup: deps.sh in the work directory,
 * its output like setup's. Once they are installed, setup and the script
 * run in their environment. 0, or RC_ERROR when it could not run.
 */
static int local_deps(struct run *run, struct local *l, int err_fd)
{
	struct strvec env = STRVEC_INIT, words = STRVEC_INIT;
	struct deps_result res;
	char *root = deps_local_root(), *out = xstrfmt("%s/deps.out", l->dir);
	char *sh[] = { "/bin/sh", "-c", (char *)deps_sh, "git-train-deps", NULL };
	size_t i;
	int ret = RC_ERROR;

	memset(&res, 0, sizeof(res));
	if (!root) { /* deps.sh says so, if the commit has dependencies */
		root = xstrdup("");
		err_clear();
	}
	script_interpreter(&words, run->req->script);
	strvec_push_nodup(&env,
			  xstrfmt("DEPS_PYTHON=%s",
				  words.nr && deps_is_python(words.v[0]) ? words.v[0] : "python3"));
	strvec_push_nodup(&env, xstrfmt("DEPS_ROOT=%s", root));
	strvec_push_nodup(&env, xstrfmt("DEPS_OUT=%s", out));
	for (i = 0; i < l->envp.nr; i++)
		if (strncmp(l->envp.v[i], "DEPS_", 5))
			strvec_push(&env, l->envp.v[i]);
	if (child_run(&l->code, sh, env.v, l->work, &l->log, err_fd, &l->saved))
		goto out;
	l->setup_failed = l->code != 0;
	if (!l->setup_failed) {
		if (deps_read_result(&res, out))
			goto out;
		if (res.key) {
			run_record_add_extra(&run->rec, "deps", res.key);
			deps_apply(&l->argv, &l->envp, res.venv);
		}
	}
	ret = 0;
out:
	unlink(out);
	deps_result_release(&res);
	strvec_clear(&words);
	zero_strings(&env); /* a copy of the script's environment: secrets included */
	strvec_clear(&env);
	free(root);
	free(out);
	return ret;
}

/* GIT_TRAIN_ATTEMPT=<n> in envp, replacing the one there. */
static void set_attempt_env(struct strvec *envp, int n)
{
	static const char name[] = "GIT_TRAIN_ATTEMPT=";
	char *entry = xstrfmt("%s%d", name, n);
	size_t i;

	for (i = 0; i < envp->nr; i++)
		if (!strncmp(envp->v[i], name, sizeof(name) - 1)) {
			free(envp->v[i]);
			envp->v[i] = entry;
			return;
		}
	strvec_push_nodup(envp, entry);
}

/* attempts.json in the run directory (the script may read it; resume does). */
static void write_attempts(const struct run *run, struct local *l)
{
	struct buf doc = BUF_INIT;

	run_attempts_format(&doc, &l->attempts, run->rec.id);
	if (write_file_atomic(l->attempts_path, doc.ptr, doc.len, 0666)) {
		ui_say(run->req->ui, UI_WARNING, "%s", err_msg());
		err_clear();
	}
	buf_release(&doc);
}

/* A new attempt: its number in the environment, a line between it and the one before. */
static void begin_attempt(struct run *run, struct local *l, int out_fd, const char *why)
{
	struct run_attempt *t = run_attempts_begin(&l->attempts, "local", time(NULL));
	struct buf line = BUF_INIT;

	set_attempt_env(&l->envp, t->attempt);
	if (t->attempt > 1) {
		buf_printf(&line, "git-train: --- attempt %d (%s) ---\n", t->attempt, why);
		if (l->log.log >= 0 && write_all(l->log.log, line.ptr, line.len) &&
		    !l->log.log_failed)
			l->log.log_failed = errno;
		write_all(out_fd, line.ptr, line.len);
	}
	buf_release(&line);
	write_attempts(run, l);
}

static void end_attempt(struct run *run, struct local *l, double t0, const char *status)
{
	run_attempts_end(&l->attempts, time(NULL), now_monotonic() - t0, status, l->code);
	write_attempts(run, l);
}

/* The attempt's status as layout.h names it. */
static const char *attempt_status(const struct local *l)
{
	if (child_interrupt_presses())
		return "interrupted";
	return l->code ? "failed" : "succeeded";
}

/*
 * Dependencies, setup, then the script, again while it exits with a
 * train.retryOnExit code: their output live to the fds and into the log.
 */
static int local_follow(struct run *run, int out_fd, int err_fd)
{
	struct local *l = run->state;
	const char *setup = run->req->script->setup;
	double t0;

	l->code = -1;
	t0 = now_monotonic();
	begin_attempt(run, l, out_fd, "resumed");
	run->rec.start = l->attempts.v[0].start;
	l->t0 = t0;
	if (!child_interrupt_presses() && local_deps(run, l, err_fd))
		return RC_ERROR;
	if (!child_interrupt_presses() && !l->setup_failed && setup && *setup) {
		char *sh[] = { "/bin/sh", "-c", (char *)setup, NULL };

		if (child_run(&l->code, sh, l->envp.v, l->work, &l->log, err_fd, &l->saved))
			return RC_ERROR;
		l->setup_failed = l->code != 0;
	}
	for (;;) {
		if (!child_interrupt_presses() && !l->setup_failed &&
		    child_run(&l->code, l->argv.v, l->envp.v, l->work, &l->log, out_fd, &l->saved))
			return RC_ERROR;
		if (child_interrupt_presses() || l->setup_failed || !l->code ||
		    !run_retry_codes_has(&l->retry, l->code) ||
		    (int)l->attempts.nr - 1 >= l->max_interruptions)
			break;
		end_attempt(run, l, t0, "retried");
		t0 = now_monotonic();
		begin_attempt(run, l, out_fd, "train.retryOnExit");
	}
	end_attempt(run, l, t0, attempt_status(l));
	l->ran = 1;
	run->rec.duration = run_attempts_duration(&l->attempts);
	set_status(&run->rec, l->code, l->setup_failed);
	return 0;
}

/* Each line of warnings as a warning. */
static void say_warnings(const struct ui *ui, const struct buf *warnings)
{
	const char *p = warnings->ptr;

	while (p && *p) {
		size_t n = strcspn(p, "\n");

		if (n)
			ui_say(ui, UI_WARNING, "%.*s", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

static int local_collect(struct run *run)
{
	struct local *l = run->state;
	const struct ui *ui = run->req->ui;
	struct buf warnings = BUF_INIT, doc = BUF_INIT;
	struct layout_args args = { run->req->args, run->req->nr_args };
	char *result = layout_local_path(l->dir, LAYOUT_RESULT);

	if (l->log.log_failed)
		buf_printf(&warnings, "cannot write the log '%s': %s\n", l->log_path,
			   strerror(l->log.log_failed));
	collect_metrics(&run->rec, &warnings, l->work);
	if (metric_patterns_apply_file(&run->rec, &l->metrics, l->log_path)) {
		buf_printf(&warnings, "%s (no metrics from train.metric)\n", err_msg());
		err_clear();
	}
	collect_outputs(&warnings, l, run->req->script->outputs_dir);
	if (!((const struct backend_local_opts *)run->opts)->keep_workdir && remove_tree(l->work)) {
		buf_printf(&warnings, "%s\n", err_msg());
		err_clear();
	}
	/* links into the data cache: the cache keeps the data */
	if (l->data_dir && !((const struct backend_local_opts *)run->opts)->keep_workdir &&
	    remove_tree(l->data_dir)) {
		buf_printf(&warnings, "%s\n", err_msg());
		err_clear();
	}
	free(run->rec.log);
	run->rec.log = note_log_path(run->req->repo, l->log_path);
	say_warnings(ui, &warnings);
	if (l->attempts.nr > 1) {
		struct buf v = BUF_INIT;

		buf_printf(&v, "%zu", l->attempts.nr);
		run_record_add_extra(&run->rec, "attempts", buf_cstr(&v));
		buf_reset(&v);
		buf_printf(&v, "%.0fs", run_attempts_lost(&l->attempts));
		run_record_add_extra(&run->rec, "lost", buf_cstr(&v));
		buf_release(&v);
	}
	layout_result_format(&doc, &run->rec, run->hex, &args);
	run_attempts_add_to_result(&doc, &l->attempts);
	if (write_file_atomic(result, doc.ptr, doc.len, 0666)) {
		ui_say(ui, UI_ERROR, "%s", err_msg());
		err_clear();
	}
	buf_release(&doc);
	buf_release(&warnings);
	free(result);
	return 0;
}

/* Ctrl-C reaches the script through child.h; there is nothing else to stop. */
static int local_stop(struct run *run, const char *why)
{
	(void)run;
	(void)why;
	return 0;
}

static void local_release(struct run *run)
{
	struct local *l = run->state;

	if (!l)
		return;
	if (l->installed)
		child_signals_restore(&l->saved);
	if (l->log.log >= 0)
		close(l->log.log);
	/* a run that never ran leaves nothing behind: no record, no directory */
	if (l->dir && !l->ran && !l->resumed && remove_tree(l->dir))
		err_clear();
	strvec_clear(&l->argv);
	/* the secrets' values */
	zero_strings(&l->envp);
	zero_strings(&l->input_env);
	strvec_clear(&l->envp);
	strvec_clear(&l->input_env);
	inputs_release(&l->inputs);
	free(l->data_dir);
	metric_patterns_release(&l->metrics);
	free(l->dir);
	free(l->work);
	free(l->outputs);
	free(l->log_path);
	free(l->checkpoints);
	free(l->attempts_path);
	run_retry_codes_release(&l->retry);
	run_attempts_release(&l->attempts);
	free(l);
	run->state = NULL;
}

int backend_local_running(git_repository *repo, const char *id)
{
	char *runs = NULL, *log;
	int fd, running = 0;

	if (repo_train_dir(&runs, repo, "runs", 0)) {
		err_clear();
		return 0;
	}
	log = xstrfmt("%s/%s/log", runs, id);
	fd = open(log, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		running = flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK;
		close(fd);
	}
	free(log);
	free(runs);
	return running;
}

const struct run_backend backend_local = {
	.name = "local",
	.prepare = local_prepare,
	.start = local_start,
	.follow = local_follow,
	.collect = local_collect,
	.stop = local_stop,
	.release = local_release,
};
