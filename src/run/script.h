/*
 * script: what a run runs. The training script's path in the tree, the
 * interpreter, the setup command and the outputs directory (train.*, with
 * --script and --setup over them), checked against the commit before
 * anything runs or costs money, and turned into the command line that runs
 * it, the same way wherever it runs.
 *
 * The interpreter: train.interpreter (words, split on white space), else
 * by the script's extension (.py python3, .sh sh, .bash bash, .pl perl,
 * .rb ruby, .js node, .R Rscript, .jl julia), else the script itself by its
 * #! line (made executable first: a script committed as 644 would
 * otherwise fail). A script whose name starts with '-' is run as ./name, so
 * that no interpreter takes it for an option.
 */
#ifndef RUN_SCRIPT_H
#define RUN_SCRIPT_H

#include <git2.h>

#include "git/config.h"
#include "util/strvec.h"

struct script_settings {
	char *script;	   /* train.script, default "train.py"; "./" removed */
	char *interpreter; /* train.interpreter; NULL: by extension or #! line */
	char *setup;	   /* train.setup; NULL: none */
	char *outputs_dir; /* train.outputsDir, default "outputs" */
	char *launcher;	   /* train.launcher: "torchrun"; NULL: the interpreter */
};

/* Reads train.*. 0, or -1 with err_set (nothing to release then). */
int script_settings_load(struct script_settings *out, const struct config *cfg);
/* Applies --script and --setup (NULL: not given) over the settings. */
void script_settings_override(struct script_settings *s, const char *script, const char *setup);
void script_settings_release(struct script_settings *s);

/* The path in the tree: "./train.py" names "train.py". Borrowed from path. */
const char *script_path(const char *path);

/*
 * Whether the script is a file in commit. 0, or -1 with err_set naming the
 * commit and hints listing what its top directory has and how to name the
 * script.
 */
int script_check(git_commit *commit, const char *script);

/*
 * The interpreter words by train.interpreter or the extension into out;
 * nothing when neither decides (the script runs by its #! line).
 */
void script_interpreter(struct strvec *out, const struct script_settings *s);

/*
 * The command that runs the script in work (where the code is extracted),
 * with args: interpreter words and script, or ./script by its #! line.
 * 0, or -1 with err_set (no interpreter known and no #! line).
 */
int script_argv(struct strvec *out, const struct script_settings *s, const char *work,
		const char *const *args, int nr_args);

/*
 * train.launcher = torchrun: argv (script_argv()'s) becomes `torchrun
 * --nproc_per_node <nproc> <script> <args>` (with --no-python for a script
 * run by its #! line), torchrun from the directory of an interpreter given
 * as a path when it has one there, else from PATH. Nothing without a launcher.
 */
void script_launcher_argv(struct strvec *argv, const struct script_settings *s, int nproc);

/*
 * Whether dir (train.outputsDir) is a relative path inside the script's
 * directory. 0, or -1 with err_set and the fix.
 */
int script_check_outputs_dir(const char *dir);

#endif
