/*
 * git train resume <run>, for a run on EC2 (cmd/resume.c hands it over):
 * attaches to the run as `git train logs -f` does (the log from its start,
 * then as it comes), with the right to move it: a run whose instance waits
 * for capacity past train.resumeTimeout, or whose instance is gone without
 * a result, is launched again in another zone with the same run id, from
 * its checkpoints in S3 (backend-aws.h: attach). It exits with the run's
 * result, as --wait does.
 *
 * A run on several instances (issue 14) moves whole: every node's request
 * cancelled, every node's instance terminated, N launched and started.
 *
 * A run that has ended (its result is there, preempted included: e.g. a
 * one-time spot run, or one past train.maxInterruptions) has its note and
 * is not resumed: a new run starts from its checkpoints with --resume-from.
 *
 * The launch follows the settings a launch reads (train.spot,
 * train.onDemandFallback, train.spotTimeout, ...), for the run's instance
 * type; the code is the run's commit, uploaded again if it is not in S3
 * (the runner checks its SHA-256), the script's arguments the run's.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/builtin.h"
#include "cmd/common.h"
#include "cmd/parse-options.h"
#include "cmd/run-output.h"
#include "cmd/ui.h"
#include "run/backend-aws.h"
#include "run/remote-runs.h"
#include "run/run.h"
#include "util/shell.h"
#include "util/strvec.h"
#include "util/time.h"

static const char *const resume_ec2_usage[] = {
	"git train resume <run>",
	NULL,
};

struct settings {
	struct script_settings script;
	int have_script;
	struct backend_aws_opts o;
	char *profile, *ami, *subnet, *security_group;
};

static int get_bool(int *out, const struct config *cfg, const char *key, int def)
{
	int r = config_get_bool(out, cfg, key);

	if (r == 1)
		*out = def;
	return r < 0 ? -1 : 0;
}

static int get_duration(long *out, const struct config *cfg, const char *key, const char *def)
{
	char *v = NULL;
	int ret = 0;

	if (config_get_string_or(&v, cfg, key, def) < 0)
		return -1;
	if (time_parse_duration(out, v)) {
		char *e = xstrdup(err_msg());

		err_clear();
		ret = err_set("bad config value '%s' for '%s': %s", v, key, e);
		free(e);
	}
	free(v);
	return ret;
}

static int get_string(char **out, const struct config *cfg, const char *key)
{
	*out = NULL;
	return config_get_string_or(out, cfg, key, NULL) < 0 ? -1 : 0;
}

/* What a launch of the run's type reads, as `git train <type>` does. 0, or -1 with err_set. */
static int load_settings(struct settings *s, const struct config *cfg, const char *type)
{
	struct backend_aws_opts *o = &s->o;
	int spot;

	if (script_settings_load(&s->script, cfg))
		return -1;
	s->have_script = 1;
	if (get_bool(&spot, cfg, "train.spot", 1) ||
	    get_bool(&o->fail_if_no_spot, cfg, "train.failIfNoSpot", 0) ||
	    get_bool(&o->yes, cfg, "train.onDemandFallback", 0) ||
	    get_bool(&o->keep, cfg, "train.keep", 0) ||
	    get_duration(&o->spot_timeout, cfg, "train.spotTimeout", "2m") ||
	    get_duration(&o->max_runtime, cfg, "train.maxRuntime", "8h") ||
	    get_duration(&o->ready_timeout, cfg, "train.readyTimeout", "10m") ||
	    get_duration(&o->idle_timeout, cfg, "train.idleTimeout", REMOTE_IDLE_TIMEOUT) ||
	    get_string(&s->profile, cfg, "train.instanceProfile") ||
	    get_string(&s->ami, cfg, "train.image") ||
	    get_string(&s->subnet, cfg, "train.subnet") ||
	    get_string(&s->security_group, cfg, "train.securityGroup"))
		return -1;
	if (!s->ami && get_string(&s->ami, cfg, "train.ami"))
		return -1;
	o->instance_type = type;
	o->on_demand = !spot;
	o->instance_profile = s->profile;
	o->ami = s->ami;
	o->subnet = s->subnet;
	o->security_group = s->security_group;
	return 0;
}

/*
 * A run on several instances moves whole (nodes of them), with torchrun
 * unless train.launcher says otherwise and node 0's train.masterPort, as
 * `git train <type> --nodes N` launched it. 0, or -1 with err_set.
 */
static int load_nodes(struct settings *s, const struct config *cfg, int nodes)
{
	char *v = NULL, *end;
	long port;
	int r;

	if (nodes <= 1)
		return 0;
	s->o.nodes = nodes;
	if (!s->script.launcher) {
		r = config_get_string(&v, cfg, "train.launcher");
		free(v);
		v = NULL;
		if (r < 0)
			return -1;
		if (r == 1)
			s->script.launcher = xstrdup("torchrun");
	}
	if (get_string(&v, cfg, "train.masterPort"))
		return -1;
	r = 0;
	if (v) {
		port = strtol(v, &end, 10);
		if (*end || port < 1024 || port > 65535)
			r = err_set("bad config value '%s' for 'train.masterPort': use a port "
				    "from 1024 to 65535",
				    v);
		else
			s->o.master_port = (int)port;
	}
	free(v);
	return r;
}

static void settings_release(struct settings *s)
{
	if (s->have_script)
		script_settings_release(&s->script);
	free(s->profile);
	free(s->ami);
	free(s->subnet);
	free(s->security_group);
}

/* The run, found and complete (run.json); NULL with err_set when it cannot be resumed. */
static struct remote_entry *resumable(struct remote_runs *runs, struct remote_runs_ctx *ctx,
				      const char *name)
{
	struct remote_entry *e = remote_runs_find(runs, ctx, name);
	int r;

	if (!e)
		return NULL;
	if (!e->recorded) {
		r = remote_runs_finalize(ctx, e);
		if (r < 0)
			return NULL;
	}
	if (e->recorded) {
		err_set("run %s has ended (%s): there is nothing to resume", e->run.run_id,
			e->note.status ? e->note.status : "recorded");
		err_hint("start a new run from its checkpoints: git train %s --resume-from %s",
			 e->run.instance_type ? e->run.instance_type : "<type>", e->run.run_id);
		return NULL;
	}
	if (!e->run.instance_type || !e->run.commit) {
		err_set("run %s: its run.json does not say what it ran on", e->run.run_id);
		return NULL;
	}
	return e;
}

int cmd_resume_ec2_attach(struct remote_runs_ctx *ctx, struct remote_entry *e, long long shown,
			  int *ended)
{
	struct settings s;
	struct strvec args = STRVEC_INIT;
	struct run_request req;
	struct cmd_ui ui;
	struct run r;
	struct sigaction saved[2];
	int ret, code = EXIT_FAILED;

	memset(&s, 0, sizeof(s));
	memset(&r, 0, sizeof(r));
	cmd_ui_init(&ui, CMD_UI_STAMP, &cmd_interrupted);
	if ((e->run.args && shell_split(&args, e->run.args)) ||
	    cmd_config_override(&ctx->cfg, "train.instanceType", e->run.instance_type) ||
	    load_settings(&s, &ctx->cfg, e->run.instance_type) ||
	    load_nodes(&s, &ctx->cfg, e->run.nodes)) {
		code = EXIT_FATAL;
		err_report();
		goto out;
	}
	s.o.attach = &e->run;
	s.o.log_offset = shown;
	*ended = 0;
	memset(&req, 0, sizeof(req));
	req.repo = ctx->repo;
	req.cfg = &ctx->cfg;
	req.rev = e->run.commit;
	req.verb = "running";
	req.script = &s.script;
	req.args = (const char *const *)args.v;
	req.nr_args = (int)args.nr;
	req.smoke = e->run.smoke;
	req.ui = &ui.ui;
	req.cancel = &cmd_interrupted;
	if (run_init(&r, &req, &backend_aws, &s.o)) {
		err_report();
		goto out;
	}
	/* the run's own id and snapshot parent, not a new run's */
	free(r.rec.id);
	r.rec.id = xstrdup(e->run.run_id);
	if (e->run.parent && !r.rec.parent)
		r.rec.parent = xstrdup(e->run.parent);
	cmd_catch_signals(saved);
	ret = run_prepare(&r);
	if (!ret)
		ret = run_start(&r);
	if (!ret)
		ret = run_follow(&r, STDOUT_FILENO, STDOUT_FILENO);
	if (!ret)
		ret = run_finish(&r);
	cmd_restore_signals(saved);
	if (!ret || (ret == RC_ERROR && r.ended)) {
		if (ret)
			err_report();
		run_output_finished(RUN_OUTPUT_TEXT, &r);
		code = cmd_exit_status(&r.rec);
		*ended = 1;
	} else if (ret == RC_DETACHED) {
		run_output_detached(&r);
		code = EXIT_INTERRUPTED;
	} else {
		err_report();
		code = ret == RC_CANCELLED ? EXIT_INTERRUPTED
		       : ret == RC_NO_SPOT ? EXIT_NO_SPOT
					   : EXIT_FAILED;
	}
out:
	run_release(&r);
	cmd_ui_release(&ui);
	settings_release(&s);
	strvec_clear(&args);
	return code;
}

int cmd_resume_ec2(int argc, const char **argv)
{
	struct parsed_args pa = { 0 };
	struct remote_runs_ctx ctx;
	struct remote_runs runs = { 0 };
	struct remote_entry *e;
	int ret = EXIT_USAGE, ended;
	const struct option opts[] = {
		OPT_END(),
	};

	memset(&ctx, 0, sizeof(ctx));
	if (parse_options(&pa, argc, argv, opts, resume_ec2_usage) != PARSE_OPT_OK)
		goto done;
	if (pa.nr_args != 1 || pa.dashdash) {
		msg_error("name the run to resume ('git train status' lists them)");
		parse_options_usage(stderr, resume_ec2_usage, opts);
		goto done;
	}
	ret = EXIT_FATAL;
	if (remote_runs_ctx_init(&ctx))
		goto fail;
	cmd_warn_metrics_skipped(&ctx.metrics_skipped);
	ret = EXIT_FAILED;
	if (remote_runs_load(&runs, &ctx, 1) || !(e = resumable(&runs, &ctx, pa.args[0])))
		goto fail;
	if (remote_runs_complete(&ctx, e))
		goto fail;
	ret = cmd_resume_ec2_attach(&ctx, e, 0, &ended);
	goto out;
fail:
	err_report();
out:
	remote_runs_release(&runs);
	remote_runs_ctx_release(&ctx);
done:
	parse_options_release(&pa);
	return ret;
}
