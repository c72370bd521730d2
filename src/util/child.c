#include "util/child.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"

/*
 * Seconds the script gets to end after Ctrl-C (saving a checkpoint of a
 * large model takes a while; a second Ctrl-C cuts it short), then after SIGTERM.
 */
#define GRACE_TERM 10.0
#define GRACE_KILL 2.0

/*
 * Signals. The handler only records and wakes the poll loop through a pipe
 * (the self-pipe trick), so that a signal arriving just before poll() is
 * never lost; everything else happens in the loop.
 */
static int wake_pipe[2] = { -1, -1 };
static volatile sig_atomic_t nr_signals; /* SIGINT and SIGTERM received */
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

int child_interrupt_presses(void)
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

int child_signals_install(struct child_signals *out)
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

void child_signals_restore(const struct child_signals *saved)
{
	sigaction(SIGINT, &saved->intr, NULL);
	sigaction(SIGTERM, &saved->term, NULL);
	sigaction(SIGCHLD, &saved->chld, NULL);
	sigaction(SIGPIPE, &saved->pipe, NULL);
	close(wake_pipe[0]);
	close(wake_pipe[1]);
	wake_pipe[0] = wake_pipe[1] = -1;
}

struct child {
	pid_t pid;
	int fd[2];   /* read ends of its stdout and stderr pipes, -1 at EOF */
	int dest[2]; /* where each goes: our fd, -1 once that broke */
	double interrupted_at, termed_at;
	int forwarded, sent_term, sent_kill;
};

/* Between fork and exec: async-signal-safe calls only. */
static void child_exec(int out_w, int err_w, int errno_w, const char *dir, char *const *argv,
		       char *const *envp, const struct child_signals *saved)
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
		       const struct child_signals *saved)
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
static void child_drain(struct child *c, int i, struct child_log *s)
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
	int presses = child_interrupt_presses();
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
static int child_finish(struct child *c, struct child_log *s)
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

int child_run(int *out, char *const *argv, char *const *envp, const char *dir, struct child_log *s,
	      int stdout_dest, const struct child_signals *saved)
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
