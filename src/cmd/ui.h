/*
 * cmd/ui: the one implementation of util/ui.h that prints, for the
 * commands. Lines go to stderr (results go to stdout, never here): progress
 * as it is, stamped "[m:ss] " with the time since cmd_ui_init() when
 * CMD_UI_STAMP is set; warnings, errors and hints as "warning: ", "error: ",
 * "hint: ". The live status line exists only when stderr is a terminal: it
 * is redrawn in place, cut to the terminal's width, and finished (left on a
 * line of its own) before any other line is printed. Questions are asked
 * only when stdin and stderr are both a terminal; a Ctrl-C (the cancel
 * flag) ends the wait for an answer.
 */
#ifndef CMD_UI_H
#define CMD_UI_H

#include <pthread.h>
#include <signal.h>

#include "util/ui.h"

enum {
	CMD_UI_STAMP = 1 << 0
};

struct cmd_ui {
	struct ui ui; /* what modules get: &u->ui */
	unsigned flags;
	int tty;
	double t0;
	const volatile sig_atomic_t *cancel; /* may be NULL */
	pthread_mutex_t lock;
	size_t shown; /* columns the status line shows; 0: none */
};

void cmd_ui_init(struct cmd_ui *out, unsigned flags, const volatile sig_atomic_t *cancel);
/* Finishes a status line still shown. */
void cmd_ui_release(struct cmd_ui *u);

/* The time since cmd_ui_init() as "m:ss" (see util/time.h), for lines of the caller's own. */
void cmd_ui_elapsed(struct buf *out, const struct cmd_ui *u);

#endif
