/*
 * cmd/common: what several commands share on the command line. This is the
 * command layer: it may print.
 *
 * "Which code": every command that runs or ships code takes --rev or --stash
 * (with --include-untracked), checks them the same way and resolves them to
 * one commit (run.h: run_resolve_code()).
 *
 * "Which exit status": a run's outcome becomes git-train's exit status in
 * one place, cmd_exit_status().
 */
#ifndef CMD_COMMON_H
#define CMD_COMMON_H

#include <git2.h>
#include <signal.h>

#include "git/config.h"
#include "git/run-record.h"
#include "run/run.h"
#include "cmd/parse-options.h"
#include "util/ui.h"

struct code_opts {
	const char *rev; /* NULL: HEAD */
	int stash;
	int include_untracked;
};

#define OPT_CODE(o)                                                                                \
	OPT_STRING(0, "rev", &(o)->rev, "commit-ish", "use this commit (default: HEAD)"),          \
		OPT_BOOL(0, "stash", &(o)->stash, "use a snapshot of the working tree"),           \
		OPT_BOOL('u', "include-untracked", &(o)->include_untracked,                        \
			 "with --stash: include untracked, non-ignored files")

/* Checks the combination; prints the error (the caller shows usage). 0 or -1. */
int cmd_code_check(const struct code_opts *o);

/* --data and --env (repeatable): train.data and train.env entries for this run. */
struct inputs_opts {
	struct strvec data, env;
};

#define OPT_INPUTS(o)                                                                              \
	OPT_STRING_LIST(0, "data", &(o)->data, "name=s3://bucket/prefix/",                         \
			"bring S3 data to the run (train.data; repeatable)"),                      \
		OPT_STRING_LIST(0, "env", &(o)->env, "KEY=VALUE",                                  \
				"set a variable for setup and the script (train.env; repeatable)")

/*
 * Adds the options' entries after the config's, as `-c` settings would be:
 * run/inputs.h reads them, a later entry of a name replacing an earlier one,
 * and doctor sees the data the run asks for. 0, or -1 with err_set.
 */
int cmd_inputs_apply(struct config *cfg, const struct inputs_opts *o);
void cmd_inputs_release(struct inputs_opts *o);

/*
 * A command that runs a script takes no words before "--": they are the
 * script's. Prints the error and how to write it (`git train <what> --
 * <words>`) when there are some (the caller shows usage). 0 or -1.
 */
int cmd_check_script_args(const struct parsed_args *pa, const char *what);

/*
 * The commit to use: run_resolve_code() with the options, saying on stderr
 * what is used for --stash. 0, or -1 with err_set.
 */
int cmd_code_resolve(git_commit **out, git_repository *repo, const struct code_opts *o,
		     const char *verb);

/*
 * The request of a command that runs a script: the code it names, its
 * script settings, the script's arguments (what follows "--"), "running"
 * as the snapshot's verb. ui and cancel may be NULL.
 */
void cmd_run_request(struct run_request *out, git_repository *repo, const struct config *cfg,
		     const struct code_opts *code, const struct script_settings *script,
		     const struct parsed_args *pa, int smoke, const struct ui *ui,
		     volatile sig_atomic_t *cancel);

/*
 * The exit status of a run that ended: 0 when it succeeded, 130 when it was
 * interrupted, the script's own when it failed with one (1 to 255), else 1
 * (a preemption, a script that never ran).
 */
int cmd_exit_status(const struct run_record *rec);

/*
 * --download (train.download): the outputs of the ended run r (local or on
 * EC2) into ./<run id>/, as `git train outputs <run>` does (cmd/outputs.c),
 * saying how it went on stderr, with the command to try again when it
 * failed. 0 or -1.
 */
int cmd_download_outputs(const struct run *r, const struct config *cfg);

/* A ui (cmd/ui.h) that prints plain lines on stderr, for commands that need no more. */
const struct ui *cmd_plain_ui(void);

/*
 * Ctrl-C and SIGTERM only raise cmd_interrupted (no SA_RESTART, so a pause
 * is cut short): the command then cleans up what it created and decides
 * what to do. cmd_catch_signals saves the previous handlers in saved.
 */
extern volatile sig_atomic_t cmd_interrupted;
void cmd_catch_signals(struct sigaction saved[2]);
void cmd_restore_signals(const struct sigaction saved[2]);

/*
 * Warns of the train.metric entries a command that looks at runs left out
 * (remote_runs_ctx's metrics_skipped): runs it records get no metric from
 * them.
 */
void cmd_warn_metrics_skipped(const struct buf *skipped);

/* Sets key to value in cfg as `git -c key=value` would. 0, or -1 with err_set. */
int cmd_config_override(struct config *cfg, const char *key, const char *value);

#endif
