/*
 * child: run a process to completion while its output streams live, and
 * handle Ctrl-C the way a user expects of a training run.
 *
 * The child's stdout and stderr go, as they arrive, to a destination fd of
 * ours and to the log (interleaved as they came). Between
 * child_signals_install() and child_signals_restore(), SIGINT and SIGTERM
 * are caught: a terminal's Ctrl-C already reached the child (same process
 * group) and is not passed on again, one sent to us alone is forwarded; the
 * child then gets a grace period, SIGTERM, and finally SIGKILL. Signals less
 * than a second apart count as one press (under `git train`, git passes its
 * own copy on). A closed stdout never kills the run (SIGPIPE ignored).
 */
#ifndef UTIL_CHILD_H
#define UTIL_CHILD_H

#include <signal.h>

/* The dispositions before the run: children get them back. */
struct child_signals {
	struct sigaction intr, term, chld, pipe;
};

/* The run's log, which gets everything the children write. */
struct child_log {
	int log;
	int log_failed; /* errno of the first failed write, 0 */
};

/* 0, or -1 with err_set. */
int child_signals_install(struct child_signals *out);
void child_signals_restore(const struct child_signals *saved);

/* How many Ctrl-C presses (or SIGTERMs) arrived since install; 0 if none. */
int child_interrupt_presses(void);

/*
 * Runs argv (execvp-style, never through a shell) in dir with envp, its
 * stdout to stdout_dest, its stderr to our stderr, both to log. 0 with *out
 * its exit code (128+N when killed by signal N), -1 with err_set when it
 * could not start.
 */
int child_run(int *out, char *const *argv, char *const *envp, const char *dir,
	      struct child_log *log, int stdout_dest, const struct child_signals *saved);

#endif
