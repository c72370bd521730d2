/*
 * cmd-common: what several commands share on the command line. This is the
 * command layer: it may print.
 *
 * "Which code": every command that runs or ships code takes --rev or --stash
 * (with --include-untracked), checks them the same way and resolves them to
 * one commit, making a snapshot of the working tree for --stash.
 *
 * "Which script": --script and --setup over train.*, and the script checked
 * against the commit before anything runs or costs money.
 */
#ifndef CMD_COMMON_H
#define CMD_COMMON_H

#include <git2.h>
#include <signal.h>

#include "git/config.h"
#include "util/parse-options.h"

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

/* The script's path in the tree: "./train.py" names "train.py"; borrowed from path. */
const char *run_script_path(const char *path);

/* Applies --script and --setup (NULL: not given) over the train.* settings. */
void run_settings_override(struct train_settings *s, const char *script, const char *setup);

/*
 * Fails, before anything runs or costs money, when the script is not a file
 * of the commit: err_set with the commit's top entries and the fix as hints.
 */
int run_script_check(git_commit *commit, const char *script);

/* Warns on stderr when tracked files differ from the commit that runs (HEAD). */
void run_warn_uncommitted(git_repository *repo, git_commit *commit);

/*
 * Ctrl-C and SIGTERM only raise cmd_interrupted (no SA_RESTART, so a pause
 * is cut short): the command then cleans up what it created and decides
 * what to do. cmd_catch_signals saves the previous handlers in saved.
 */
extern volatile sig_atomic_t cmd_interrupted;
void cmd_catch_signals(struct sigaction saved[2]);
void cmd_restore_signals(const struct sigaction saved[2]);

/* Sets key to value in cfg as `git -c key=value` would. 0, or -1 with err_set. */
int cmd_config_override(struct config *cfg, const char *key, const char *value);

#endif
