/*
 * ui: how a module speaks to the user without printing. Modules never
 * write to the terminal themselves (util.h); a long operation that has
 * something to say (a stage reached, a wait that goes on, a choice that
 * costs money) says it through the struct ui its caller hands it. The
 * command layer provides the one implementation that prints (cmd/ui.h):
 * lines on stderr, the one live status line on a terminal, questions on
 * the terminal. Tests and quiet callers pass NULL: every function here
 * then does nothing, and ui_ask() answers UI_CANNOT_ASK.
 *
 * The functions may be called from any thread.
 */
#ifndef UTIL_UI_H
#define UTIL_UI_H

#include "util/util.h"

enum ui_kind {
	UI_PROGRESS, /* a stage reached: "instance i-0abc is ready" */
	UI_INFO,     /* a plain line: "terminated i-0abc (interrupted)" */
	UI_WARNING,  /* printed as "warning: ..." */
	UI_ERROR,    /* printed as "error: ..." (a failure the caller reports itself) */
	UI_HINT,     /* printed as "hint: ...", after the line it explains */
};

/* Flags of a status line update. */
enum {
	/* Off a terminal, this text is worth a line of its own (a wait starts). */
	UI_STATUS_KEEP = 1 << 0,
	/* On a terminal, the line is finished: what it shows stays, on a line of its own. */
	UI_STATUS_END = 1 << 1,
	/* The line is wiped (text is ignored): something else is about to be printed. */
	UI_STATUS_CLEAR = 1 << 2,
};

/* An answer ui_ask() gives when nobody can be asked (no terminal, no ui). */
#define UI_CANNOT_ASK (-1)

struct ui {
	/* One line of kind (no newline in text). */
	void (*say)(void *ctx, enum ui_kind kind, const char *text);
	/*
	 * The live status line shows text instead of what it showed. On a
	 * terminal it is redrawn in place; off one only UI_STATUS_KEEP texts
	 * are printed, each as a line. text may be NULL with UI_STATUS_END
	 * (finish what is shown) or UI_STATUS_CLEAR.
	 */
	void (*status)(void *ctx, const char *text, unsigned flags);
	/*
	 * A yes/no question (text like "launch on-demand instead? [y/N] "):
	 * 1 yes, 0 no, UI_CANNOT_ASK when there is nobody to ask, RC_CANCELLED
	 * when interrupted while waiting for the answer.
	 */
	int (*ask)(void *ctx, const char *question);
	/* Whether status lines are seen at all (a terminal): callers skip work that only feeds
	 * them. */
	int live;
	/* Whether ask can reach someone (a terminal to answer on). */
	int interactive;
	void *ctx;
};

void ui_say(const struct ui *ui, enum ui_kind kind, const char *fmt, ...) PRINTF_LIKE(3, 4);
void ui_status(const struct ui *ui, unsigned flags, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* A status update without text: UI_STATUS_END or UI_STATUS_CLEAR. */
void ui_status_done(const struct ui *ui, unsigned flags);
int ui_ask(const struct ui *ui, const char *question);
int ui_live(const struct ui *ui);
int ui_interactive(const struct ui *ui);

#endif
