/*
 * git train local: run the training on this machine, on exactly the code of a
 * commit, and record the run in its note. The exit code is the script's
 * (130 when interrupted, 128+N when it was killed by signal N).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/builtin.h"
#include "cmd/common.h"
#include "cmd/ui.h"
#include "git/config.h"
#include "git/repo.h"
#include "run/backend-local.h"
#include "run/run.h"
#include "cmd/parse-options.h"
#include "util/util.h"

static const char *const local_usage[] = {
	"git train local [--rev <commit-ish> | --stash [--include-untracked]] [--script <path>]\n"
	"                [--setup <cmd>] [--keep-workdir] [--download] [-- <script-args>...]",
	NULL,
};

struct local_opts {
	struct code_opts code;
	const char *script;
	const char *setup;
	int keep_workdir;
	int smoke;
	int download; /* -1: train.download */
};

static int check_usage(const struct parsed_args *pa, const struct local_opts *o)
{
	if (cmd_check_script_args(pa, "local"))
		return -1;
	return cmd_code_check(&o->code);
}

/* What follows an ended run: warnings, the note's fate, the summary; returns the exit code. */
static int finish(struct run *run)
{
	struct buf b = BUF_INIT;
	int code;

	if (run_finish(run)) {
		if (!run->ended) {
			err_report();
			return EXIT_FATAL;
		}
		err_report(); /* the note: the run itself is kept in its directory */
		msg_hint("the run's log is kept in %s", run->rec.log);
		code = cmd_exit_status(&run->rec);
		if (!code)
			code = EXIT_FAILED;
	} else {
		code = cmd_exit_status(&run->rec);
	}
	run_summary(&b, &run->rec);
	buf_putc(&b, '\n');
	fflush(stdout);
	write_all(STDERR_FILENO, b.ptr, b.len);
	buf_release(&b);
	return code;
}

static int run_local(const struct local_opts *o, const struct parsed_args *pa)
{
	git_repository *repo = NULL;
	struct config cfg;
	struct script_settings script;
	struct backend_local_opts lo = { o->keep_workdir };
	struct run_request req;
	struct cmd_ui ui;
	struct run run;
	int loaded = 0, code = EXIT_FATAL, download = o->download;

	memset(&cfg, 0, sizeof(cfg));
	memset(&run, 0, sizeof(run));
	cmd_ui_init(&ui, 0, NULL);
	if (repo_open(&repo) || config_load(&cfg, repo) || script_settings_load(&script, &cfg))
		goto fatal;
	loaded = 1;
	if (download < 0 && config_get_bool(&download, &cfg, "train.download") < 0)
		goto fatal;
	download = download > 0;
	script_settings_override(&script, o->script, o->setup);
	cmd_run_request(&req, repo, &cfg, &o->code, &script, pa, o->smoke, &ui.ui, NULL);
	if (run_init(&run, &req, &backend_local, &lo) || run_prepare(&run) || run_start(&run) ||
	    run_follow(&run, STDOUT_FILENO, STDERR_FILENO))
		goto fatal;
	code = finish(&run);
	if (run.ended && download && cmd_download_outputs(&run, &cfg) && !code)
		code = EXIT_FAILED;
	goto out;
fatal:
	err_report();
out:
	run_release(&run);
	if (loaded)
		script_settings_release(&script);
	cmd_ui_release(&ui);
	config_release(&cfg);
	git_repository_free(repo);
	return code;
}

int cmd_local(int argc, const char **argv)
{
	struct local_opts o;
	struct parsed_args pa;
	int r;
	const struct option options[] = {
		OPT_CODE(&o.code),
		OPT_STRING(0, "script", &o.script, "path", "the training script (train.script)"),
		OPT_STRING(0, "setup", &o.setup, "cmd", "shell command run first (train.setup)"),
		OPT_BOOL(0, "keep-workdir", &o.keep_workdir, "keep the extracted code"),
		OPT_BOOL(0, "download", &o.download,
			 "copy the outputs into ./<run-id>/ when it ends (train.download)"),
		OPT_BOOL(0, "smoke", &o.smoke,
			 "record the run as a smoke run (the pre-push hook's)"),
		OPT_END(),
	};

	memset(&o, 0, sizeof(o));
	o.download = -1;
	r = parse_options(&pa, argc, argv, options, local_usage);
	if (r == PARSE_OPT_OK && check_usage(&pa, &o))
		r = PARSE_OPT_ERROR;
	if (r != PARSE_OPT_OK) {
		parse_options_release(&pa);
		return EXIT_USAGE;
	}
	r = run_local(&o, &pa);
	parse_options_release(&pa);
	return r;
}
