/*
 * git train local: run the training on this machine, on exactly the code of a
 * commit, and record the run in its note. The exit code is the script's
 * (130 when interrupted, 128+N when it was killed by signal N).
 *
 * --resume-from <run> starts with another run's checkpoints (a local run's
 * directory, or an EC2 run's checkpoints/ in S3, found as `git train
 * outputs` finds a run: cmd/run-target.h), copied before attempt 1.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/builtin.h"
#include "cmd/common.h"
#include "cmd/ui.h"
#include "git/config.h"
#include "git/repo.h"
#include "cmd/run-target.h"
#include "cmd/sweep.h"
#include "run/attempts.h"
#include "run/backend-local.h"
#include "run/outputs.h"
#include "run/run.h"
#include "cmd/parse-options.h"
#include "util/util.h"

static const char *const local_usage[] = {
	"git train local [--rev <commit-ish> | --stash [--include-untracked]] [--script <path>]\n"
	"                [--setup <cmd>] [--data <name>=s3://<bucket>/<prefix>/]... [--env <KEY>=<VALUE>]...\n"
	"                [--keep-workdir] [--download] [--resume-from <run>]\n"
	"                [--sweep <name>=<value>,<value>...]... [--parallel <K>] [-- <script-args>...]",
	NULL,
};

struct local_opts {
	struct code_opts code;
	struct inputs_opts inputs;
	const char *script;
	const char *setup;
	int keep_workdir;
	int smoke;
	int download; /* -1: train.download */
	const char *resume_from;
	struct sweep_opts sweep;
	/* a sweep's run: the snapshot's parent and the note fields (cmd/sweep.h) */
	const char *parent;
	const struct strvec *fields;
};

static int check_usage(const struct parsed_args *pa, const struct local_opts *o)
{
	if (cmd_check_script_args(pa, "local"))
		return -1;
	return cmd_code_check(&o->code);
}

int cmd_local_finish(struct run *run)
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

/*
 * --resume-from's run and its checkpoints, listed: before anything runs.
 * 0, or -1 with err_set.
 */
static int find_resume_from(struct run_target *t, struct outputs *ck, const char *name)
{
	char *runs = NULL, *dir;
	size_t i;
	int r;

	if (run_target_find(t, name))
		return -1;
	if (t->local_id) {
		if (repo_train_dir(&runs, t->repo, "runs", 0))
			return -1;
		dir = xstrfmt("%s/%s", runs, t->local_id);
		r = outputs_list_local_item(ck, dir, LAYOUT_CHECKPOINTS);
		free(dir);
		free(runs);
	} else {
		r = outputs_list_s3_item(ck, &t->ctx.client, t->remote->run.bucket,
					 t->remote->run.run_prefix, LAYOUT_CHECKPOINTS);
	}
	if (r)
		return -1;
	/* the names are the other run's: checked before anything runs */
	for (i = 0; i < ck->nr; i++)
		if (!outputs_name_ok(ck->v[i].name))
			return err_set(
				"run %s has a checkpoint whose name is not a safe file name "
				"('%s' would be written outside the checkpoint directory, or "
				"holds a control character): nothing runs",
				t->local_id ? t->local_id : t->remote->run.run_id, ck->v[i].name);
	for (i = 0; i < ck->nr_skipped; i++)
		msg_warning("checkpoint '%s' of run %s is not a regular file: not copied",
			    ck->skipped[i], t->local_id ? t->local_id : t->remote->run.run_id);
	if (!ck->nr)
		msg_warning("run %s has no checkpoints: this run starts without any",
			    t->local_id ? t->local_id : t->remote->run.run_id);
	return 0;
}

/* train.retryOnExit, train.maxInterruptions and train.checkpointInterval, checked. */
static int check_attempt_settings(const struct config *cfg)
{
	struct run_attempt_settings s;

	if (run_attempt_settings(&s, cfg))
		return -1;
	run_retry_codes_release(&s.retry);
	return 0;
}

static int run_local(const struct local_opts *o, const struct parsed_args *pa)
{
	struct run_target from;
	struct outputs ck;
	git_repository *repo = NULL;
	struct config cfg;
	struct script_settings script;
	struct backend_local_opts lo = { o->keep_workdir, NULL, NULL, NULL, NULL };
	struct run_request req;
	struct cmd_ui ui;
	struct run run;
	int loaded = 0, code = EXIT_FATAL, download = o->download;

	memset(&cfg, 0, sizeof(cfg));
	memset(&run, 0, sizeof(run));
	memset(&from, 0, sizeof(from));
	memset(&ck, 0, sizeof(ck));
	cmd_ui_init(&ui, 0, NULL);
	if (repo_open(&repo) || config_load(&cfg, repo) || cmd_inputs_apply(&cfg, &o->inputs) ||
	    script_settings_load(&script, &cfg))
		goto fatal;
	loaded = 1;
	/* bad settings of the attempts: fatal, as any bad setting, before anything runs */
	if (check_attempt_settings(&cfg))
		goto fatal;
	if (download < 0 && config_get_bool(&download, &cfg, "train.download") < 0)
		goto fatal;
	download = download > 0;
	script_settings_override(&script, o->script, o->setup);
	if (o->resume_from) {
		if (find_resume_from(&from, &ck, o->resume_from))
			goto fatal;
		lo.resume_from = &ck;
		lo.resume_from_id = from.local_id ? from.local_id : from.remote->run.run_id;
	}
	cmd_run_request(&req, repo, &cfg, &o->code, &script, pa, o->smoke, &ui.ui, NULL);
	req.parent = o->parent;
	req.fields = o->fields;
	if (run_init(&run, &req, &backend_local, &lo) || run_prepare(&run) || run_start(&run))
		goto fatal;
	cmd_sweep_started(run.rec.id);
	if (run_follow(&run, STDOUT_FILENO, STDERR_FILENO))
		goto fatal;
	code = cmd_local_finish(&run);
	if (run.ended && download && cmd_download_outputs(&run, &cfg) && !code)
		code = EXIT_FAILED;
	goto out;
fatal:
	err_report();
out:
	run_release(&run);
	outputs_release(&ck); /* before the client it borrows */
	run_target_release(&from);
	if (loaded)
		script_settings_release(&script);
	cmd_ui_release(&ui);
	config_release(&cfg);
	git_repository_free(repo);
	return code;
}

/* What each run of a sweep shares: the options, the commit, the sweep. */
struct local_sweep {
	const struct local_opts *o;
	const struct parsed_args *pa;
	const struct sweep *sweep;
	const char *hex, *parent;
};

/* Run i of the sweep, in its child process: the code as --rev gives it. */
static int local_sweep_one(void *ctx, size_t i)
{
	struct local_sweep *ls = ctx;
	struct local_opts o = *ls->o;
	struct parsed_args pa;
	struct strvec args = STRVEC_INIT, fields = STRVEC_INIT;

	cmd_sweep_point(&pa, &args, &fields, ls->sweep, i, ls->pa);
	o.code.rev = ls->hex;
	o.code.stash = o.code.include_untracked = 0;
	o.parent = ls->parent;
	o.fields = &fields;
	return run_local(&o, &pa);
}

/* The code once (one snapshot for --stash), then a run for each point of the sweep. */
static int local_sweep(const struct local_opts *o, const struct parsed_args *pa,
		       const struct sweep *sw)
{
	git_repository *repo = NULL;
	git_commit *commit = NULL;
	char *parent = NULL, hex[GIT_OID_HEXSZ + 1];
	struct local_sweep ls = { o, pa, sw, hex, NULL };
	int ret = EXIT_FATAL;

	if (repo_open(&repo) ||
	    run_resolve_code(&commit, &parent, repo, o->code.rev, o->code.stash,
			     o->code.include_untracked, "running", cmd_plain_ui())) {
		err_report();
		goto out;
	}
	git_oid_tostr(hex, sizeof(hex), git_commit_id(commit));
	ls.parent = parent;
	ret = cmd_sweep_run(sw, local_sweep_one, &ls, "local", 0);
out:
	free(parent);
	git_commit_free(commit);
	git_repository_free(repo);
	return ret;
}

int cmd_local(int argc, const char **argv)
{
	struct sweep sw;
	struct local_opts o;
	struct parsed_args pa;
	int r;
	const struct option options[] = {
		OPT_CODE(&o.code),
		OPT_STRING(0, "script", &o.script, "path", "the training script (train.script)"),
		OPT_STRING(0, "setup", &o.setup, "cmd", "shell command run first (train.setup)"),
		OPT_INPUTS(&o.inputs),
		OPT_BOOL(0, "keep-workdir", &o.keep_workdir, "keep the extracted code"),
		OPT_BOOL(0, "download", &o.download,
			 "copy the outputs into ./<run-id>/ when it ends (train.download)"),
		OPT_STRING(0, "resume-from", &o.resume_from, "run",
			   "start with the checkpoints of another run"),
		OPT_BOOL(0, "smoke", &o.smoke,
			 "record the run as a smoke run (the pre-push hook's)"),
		OPT_SWEEP(&o.sweep),
		OPT_END(),
	};
	int swept = 1;

	memset(&o, 0, sizeof(o));
	o.download = -1;
	r = parse_options(&pa, argc, argv, options, local_usage);
	if (r == PARSE_OPT_OK && check_usage(&pa, &o))
		r = PARSE_OPT_ERROR;
	if (r == PARSE_OPT_OK) {
		swept = cmd_sweep_parse(&sw, &o.sweep, &pa, 1);
		if (swept < 0)
			r = PARSE_OPT_ERROR;
	}
	if (r != PARSE_OPT_OK) {
		r = EXIT_USAGE;
	} else if (!swept) {
		r = local_sweep(&o, &pa, &sw);
		cmd_sweep_release(&sw);
	} else {
		r = run_local(&o, &pa);
	}
	parse_options_release(&pa);
	cmd_inputs_release(&o.inputs);
	cmd_sweep_opts_release(&o.sweep);
	return r;
}
