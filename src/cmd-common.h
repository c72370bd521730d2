/*
 * cmd-common: what several commands share on the command line. This is the
 * command layer: it may print.
 *
 * "Which code": every command that runs or ships code takes --rev or --stash
 * (with --include-untracked), checks them the same way and resolves them to
 * one commit, making a snapshot of the working tree for --stash.
 */
#ifndef CMD_COMMON_H
#define CMD_COMMON_H

#include <git2.h>

#include "parse-options.h"

struct code_opts {
	const char *rev;       /* NULL: HEAD */
	int stash;
	int include_untracked;
};

#define OPT_CODE(o)                                                                       \
	OPT_STRING(0, "rev", &(o)->rev, "commit-ish", "use this commit (default: HEAD)"), \
	OPT_BOOL(0, "stash", &(o)->stash, "use a snapshot of the working tree"),          \
	OPT_BOOL('u', "include-untracked", &(o)->include_untracked,                       \
		 "with --stash: include untracked, non-ignored files")

/* Checks the combination; prints the error (the caller shows usage). 0 or -1. */
int code_opts_check(const struct code_opts *o);

/*
 * The commit to use. For --stash, makes the snapshot and says on stderr what
 * is used ("<verb> snapshot 1a2b3c4 of the working tree", or HEAD when nothing
 * changed); *out_parent (when not NULL) gets the hex id of the commit the
 * snapshot was made on, NULL when no snapshot was made. 0, or -1 with err_set.
 */
int code_opts_resolve(git_commit **out, char **out_parent, git_repository *repo,
		      const struct code_opts *o, const char *verb);

#endif
