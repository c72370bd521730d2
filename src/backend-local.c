#include "backend-local.h"

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

#include "archive.h"

extern char **environ;

/* Seconds the script gets to end after Ctrl-C, then after SIGTERM. */
#define GRACE_TERM 3.0
#define GRACE_KILL 2.0

/* A NULL-terminated, growable array of owned strings (argv, envp). */
struct strvec {
	char **v;
	size_t nr, alloc;
};
#define STRVEC_INIT { NULL, 0, 0 }

static void strvec_push_nodup(struct strvec *sv, char *s)
{
	if (sv->nr + 2 > sv->alloc) {
		sv->alloc = sv->alloc ? sv->alloc * 2 : 8;
		sv->v = xrealloc(sv->v, sv->alloc * sizeof(*sv->v));
	}
	sv->v[sv->nr++] = s;
	sv->v[sv->nr] = NULL;
}

static void strvec_push(struct strvec *sv, const char *s)
{
	strvec_push_nodup(sv, xstrdup(s));
}

static void strvec_clear(struct strvec *sv)
{
	size_t i;

	for (i = 0; i < sv->nr; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->nr = sv->alloc = 0;
}

/*
 * Signals. The handler only records and wakes the poll loop through a pipe
 * (the self-pipe trick), so that a signal arriving just before poll() is
 * never lost; everything else happens in the loop.
 */
static int wake_pipe[2] = { -1, -1 };
static volatile sig_atomic_t nr_signals;    /* SIGINT and SIGTERM received */
static volatile sig_atomic_t last_signal;
static volatile sig_atomic_t from_terminal; /* one came from the terminal */

static void on_signal(int sig, siginfo_t *si, void *ucontext)
{
	int saved_errno = errno;
	char c = 0;

	(void)ucontext;
	if (sig != SIGCHLD) {
		/*
		 * A terminal's Ctrl-C (SI_KERNEL) reaches the whole foreground
		 * process group, script included, so it must not be passed on.
		 */
		if (si->si_code == SI_KERNEL)
			from_terminal = 1;
		last_signal = sig;
		nr_signals++;
	}
	if (write(wake_pipe[1], &c, 1) < 0) {
		/* the pipe is full: the loop is already due to wake up */
	}
	errno = saved_errno;
}

/*
 * Ctrl-C "presses": signals less than a second apart are one press, because
 * a single Ctrl-C under `git train` reaches us twice, from the terminal and
 * from git, which passes it on to its child.
 */
static struct {
	int seen;
	int presses;
	double last;
} interrupts;

static int interrupt_presses(void)
{
	while (interrupts.seen < nr_signals) {
		double t = now_monotonic();

		interrupts.seen++;
		if (!interrupts.presses || t - interrupts.last > 1.0)
			interrupts.presses++;
		interrupts.last = t;
	}
	return interrupts.presses;
}

/* The dispositions before the run: the script gets them back. */
struct saved_signals {
	struct sigaction intr, term, chld, pipe;
};

static void catch_signal(int sig, struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_NOCLDSTOP; /* no SA_RESTART: poll() must wake */
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, old);
	/* Started with it ignored (a background job of a script): leave it so. */
	if (sig != SIGCHLD && old->sa_handler == SIG_IGN)
		sigaction(sig, old, NULL);
}

static int signals_install(struct saved_signals *out)
{
	struct sigaction sa;

	if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK))
		return err_set("cannot create a pipe: %s", strerror(errno));
	nr_signals = 0;
	from_terminal = 0;
	memset(&interrupts, 0, sizeof(interrupts));
	catch_signal(SIGINT, &out->intr);
	catch_signal(SIGTERM, &out->term);
	catch_signal(SIGCHLD, &out->chld);
	/* A closed stdout (git train local | head) must not kill the run. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, &out->pipe);
	return 0;
}

static void signals_restore(const struct saved_signals *saved)
{
	sigaction(SIGINT, &saved->intr, NULL);
	sigaction(SIGTERM, &saved->term, NULL);
	sigaction(SIGCHLD, &saved->chld, NULL);
	sigaction(SIGPIPE, &saved->pipe, NULL);
	close(wake_pipe[0]);
	close(wake_pipe[1]);
	wake_pipe[0] = wake_pipe[1] = -1;
}

/* The run's log, which gets everything the children write. */
struct sinks {
	int log;
	int log_failed; /* errno of the first failed write, 0 */
};

struct child {
	pid_t pid;
	int fd[2];    /* read ends of its stdout and stderr pipes, -1 at EOF */
	int dest[2];  /* where each goes: our fd, -1 once that broke */
	double interrupted_at, termed_at;
	int forwarded, sent_term, sent_kill;
};

/* Between fork and exec: async-signal-safe calls only. */
static void child_exec(int out_w, int err_w, int errno_w, const char *dir,
		       char *const *argv, char *const *envp, const struct saved_signals *saved)
{
	sigset_t none;
	int e;

	sigaction(SIGINT, &saved->intr, NULL);
	sigaction(SIGTERM, &saved->term, NULL);
	sigaction(SIGCHLD, &saved->chld, NULL);
	sigaction(SIGPIPE, &saved->pipe, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (chdir(dir) || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
		goto fail;
	execvpe(argv[0], argv, envp);
fail:
	e = errno;
	if (write(errno_w, &e, sizeof(e)) < 0) {
		/* nothing left to tell it with */
	}
	_exit(127);
}

static int child_start(struct child *out, char *const *argv, char *const *envp, const char *dir,
		       const struct saved_signals *saved)
{
	int o[2] = { -1, -1 }, e[2] = { -1, -1 }, x[2] = { -1, -1 };
	int child_errno = 0, ret = -1;
	ssize_t n;

	out->pid = -1;
	out->fd[0] = out->fd[1] = -1;
	if (pipe2(o, O_CLOEXEC) || pipe2(e, O_CLOEXEC) || pipe2(x, O_CLOEXEC)) {
		err_set("cannot create a pipe: %s", strerror(errno));
		goto out;
	}
	out->pid = fork();
	if (out->pid < 0) {
		err_set("cannot start '%s': fork: %s", argv[0], strerror(errno));
		goto out;
	}
	if (!out->pid)
		child_exec(o[1], e[1], x[1], dir, argv, envp, saved);
	close(x[1]);
	x[1] = -1;
	/* EOF means exec succeeded (the pipe is close-on-exec). */
	while ((n = read(x[0], &child_errno, sizeof(child_errno))) < 0 && errno == EINTR)
		;
	if (n > 0) {
		while (waitpid(out->pid, NULL, 0) < 0 && errno == EINTR)
			;
		out->pid = -1;
		err_set("cannot run '%s': %s", argv[0], strerror(child_errno));
		if (child_errno == ENOENT && !strchr(argv[0], '/'))
			err_hint("install it, or name the interpreter: "
				 "git config train.interpreter <command>");
		goto out;
	}
	out->fd[0] = o[0];
	out->fd[1] = e[0];
	o[0] = e[0] = -1;
	fcntl(out->fd[0], F_SETFL, O_NONBLOCK);
	fcntl(out->fd[1], F_SETFL, O_NONBLOCK);
	ret = 0;
out:
	if (o[0] >= 0)
		close(o[0]);
	if (e[0] >= 0)
		close(e[0]);
	if (x[0] >= 0)
		close(x[0]);
	if (o[1] >= 0)
		close(o[1]);
	if (e[1] >= 0)
		close(e[1]);
	if (x[1] >= 0)
		close(x[1]);
	return ret;
}

/* Copies what is readable on fd[i] to its destination and the log; until EAGAIN. */
static void child_drain(struct child *c, int i, struct sinks *s)
{
	char chunk[65536];
	ssize_t n;

	while (c->fd[i] >= 0) {
		n = read(c->fd[i], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close(c->fd[i]);
			c->fd[i] = -1;
			return;
		}
		if (c->dest[i] >= 0 && write_all(c->dest[i], chunk, (size_t)n))
			c->dest[i] = -1; /* our stdout went away; keep logging */
		if (!s->log_failed && write_all(s->log, chunk, (size_t)n))
			s->log_failed = errno ? errno : EIO;
	}
}

/* After Ctrl-C: pass it on if needed, then SIGTERM, then SIGKILL. */
static void child_escalate(struct child *c)
{
	int presses = interrupt_presses();
	double now = now_monotonic();

	if (!presses)
		return;
	if (!c->interrupted_at)
		c->interrupted_at = now;
	if (!c->forwarded && !from_terminal)
		kill(c->pid, last_signal);
	c->forwarded = 1;
	if (!c->sent_term && (now - c->interrupted_at >= GRACE_TERM || presses >= 2)) {
		kill(c->pid, SIGTERM);
		c->sent_term = 1;
		c->termed_at = now;
	}
	if (c->sent_term && !c->sent_kill && (now - c->termed_at >= GRACE_KILL || presses >= 3)) {
		kill(c->pid, SIGKILL);
		c->sent_kill = 1;
	}
}

static int poll_timeout(const struct child *c)
{
	double left;

	if (!c->interrupted_at || c->sent_kill)
		return -1;
	if (c->sent_term)
		left = c->termed_at + GRACE_KILL - now_monotonic();
	else
		left = c->interrupted_at + GRACE_TERM - now_monotonic();
	return left <= 0 ? 0 : (int)(left * 1000) + 1;
}

/*
 * Streams the child's output until it exits (not until its pipes close: a
 * daemon it left behind may hold them open) and returns its exit code,
 * 128+N when it was killed by signal N.
 */
static int child_finish(struct child *c, struct sinks *s)
{
	int status = 0;
	pid_t r;

	for (;;) {
		struct pollfd p[3];
		char junk[64];
		int i;

		child_escalate(c);
		p[0].fd = wake_pipe[0];
		p[1].fd = c->fd[0];
		p[2].fd = c->fd[1];
		for (i = 0; i < 3; i++) {
			p[i].events = POLLIN;
			p[i].revents = 0;
		}
		if (poll(p, 3, poll_timeout(c)) < 0 && errno != EINTR) {
			while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
				;
			break;
		}
		while (read(wake_pipe[0], junk, sizeof(junk)) > 0)
			;
		for (i = 0; i < 2; i++)
			if (p[i + 1].revents)
				child_drain(c, i, s);
		r = waitpid(c->pid, &status, WNOHANG);
		if (r == c->pid || (r < 0 && errno != EINTR))
			break;
	}
	child_drain(c, 0, s);
	child_drain(c, 1, s);
	if (c->fd[0] >= 0)
		close(c->fd[0]);
	if (c->fd[1] >= 0)
		close(c->fd[1]);
	c->fd[0] = c->fd[1] = -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* Runs argv to completion in dir: 0 with *out its exit code, -1 when it could not start. */
static int run_child(int *out, char *const *argv, char *const *envp, const char *dir,
		     struct sinks *s, int stdout_dest, const struct saved_signals *saved)
{
	struct child c;

	memset(&c, 0, sizeof(c));
	if (child_start(&c, argv, envp, dir, saved))
		return -1;
	c.dest[0] = stdout_dest;
	c.dest[1] = 2;
	*out = child_finish(&c, s);
	return 0;
}

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
	if (interrupt_presses())
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
	struct sinks s = { -1, 0 };
	struct saved_signals saved;
	int installed = 0, code = -1, setup_failed = 0, ret = -1;
	double t0;

	if (check_outputs_dir(run->settings->outputs_dir) || signals_install(&saved))
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
	if (!interrupt_presses() && run->settings->setup && *run->settings->setup) {
		char *sh[] = { "/bin/sh", "-c", run->settings->setup, NULL };

		if (run_child(&code, sh, envp.v, work, &s, 2, &saved))
			goto out;
		setup_failed = code != 0;
	}
	if (!interrupt_presses() && !setup_failed &&
	    run_child(&code, argv.v, envp.v, work, &s, 1, &saved))
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
		signals_restore(&saved);
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
