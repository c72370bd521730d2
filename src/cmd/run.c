/*
 * git train <instance-type>: run the training on an EC2 instance, spot
 * first. This file reads the options (flags beat train.* beat defaults),
 * handles Ctrl-C, prints the results and chooses the exit code; the run
 * itself is backend-aws's.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/builtin.h"
#include "cmd/common.h"
#include "cmd/ui.h"
#include "run/backend-aws.h"
#include "services/image.h"
#include "run/run.h"
#include "git/config.h"
#include "util/time.h"
#include "cmd/parse-options.h"
#include "git/repo.h"
#include "cmd/run-output.h"
#include "cmd/sweep.h"
#include "run/upload.h"
#include "aws/client.h"
#include "util/util.h"

/*
 * The watchdog counts whole minutes; the others only need to be positive
 * (an idle timeout under a minute is a minute on the instance, and gc's).
 */
#define MIN_MAX_RUNTIME	  60
#define MIN_SPOT_TIMEOUT  0
#define MIN_READY_TIMEOUT 1
#define MIN_IDLE_TIMEOUT  1

static const char *const run_usage[] = {
	"git train <instance-type> [--spot | --on-demand] [--fail-if-no-spot] [--yes]\n"
	"                [--spot-timeout <duration>] [--wait] [--keep] [--output <format>]\n"
	"                [--max-runtime <duration>] [--ready-timeout <duration>]\n"
	"                [--idle-timeout <duration>]\n"
	"                [--rev <commit-ish> | --stash [--include-untracked]]\n"
	"                [--script <path>] [--setup <cmd>] [--region <region>]\n"
	"                [--image <pytorch | base | al2023 | ami-id>] [--volume-size <GiB>]\n"
	"                [--subnet <id>] [--security-group <id>]\n"
	"                [--download] [--data <name>=s3://<bucket>/<prefix>/]... [--env <KEY>=<VALUE>]...\n"
	"                [--resume-from <run>] [--nodes <n>]\n"
	"                [--sweep <name>=<value>,<value>...]... [--parallel <K>]\n"
	"                [-- <script-args>...]",
	NULL,
};

/* What the command line said; -1 and NULL: not given. */
struct run_cmd {
	const char *type; /* the instance type */
	struct code_opts code;
	struct inputs_opts inputs;
	const char *script, *setup;
	int spot, on_demand, fail_if_no_spot, yes, wait, keep, smoke;
	const char *spot_timeout, *max_runtime, *ready_timeout, *idle_timeout, *output,
		*volume_size;
	const char *region, *ami, *subnet, *security_group, *image;
	const char *resume_from;
	const char *nodes;
	int download;
	struct sweep_opts sweep;
	/* a sweep's run: the snapshot's parent, the note fields, the code's SHA-256 */
	const char *parent;
	const struct strvec *fields;
	const char *code_sha256;
};

/* Everything resolved. */
struct resolved {
	struct script_settings script;
	int have_script;
	struct backend_aws_opts o;
	enum run_output output;
	int wait;
	char *instance_profile, *ami, *subnet, *security_group;
	int download; /* --download, train.download: the outputs when the run ends (--wait) */
};

/* 1 to REMOTE_MAX_NODES instances. */
static int parse_nodes(int *out, const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < 1 || v > REMOTE_MAX_NODES)
		return -1;
	*out = (int)v;
	return 0;
}

/* 1 to 65536 GiB, as EC2 takes for gp3. */
static int parse_volume_size(int *out, const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < 1 || v > 65536)
		return -1;
	*out = (int)v;
	return 0;
}

static int check_flag_duration(const char *flag, const char *value, long min)
{
	long v;

	if (!value)
		return 0;
	if (time_parse_duration(&v, value)) {
		msg_error("%s: %s", flag, err_msg());
		err_clear();
		return -1;
	}
	if (v < min) {
		msg_error("%s must be at least %ld seconds, not '%s'", flag, min, value);
		return -1;
	}
	return 0;
}

/* Flags alone: every mistake is a usage error (129), before anything runs. */
static int check_usage(const struct run_cmd *c, const struct parsed_args *pa)
{
	enum run_output mode;
	enum image_kind kind;
	int size;

	if (cmd_check_script_args(pa, c->type))
		return -1;
	if (c->spot == 1 && c->on_demand == 1) {
		msg_error("--spot and --on-demand cannot be used together");
		return -1;
	}
	if (c->on_demand == 1 && c->fail_if_no_spot == 1) {
		msg_error("--fail-if-no-spot cannot be used with --on-demand");
		return -1;
	}
	if (c->output && run_output_parse(&mode, c->output)) {
		msg_error("--output takes text, run-id, instance-id or json, not '%s'", c->output);
		return -1;
	}
	if (c->volume_size && parse_volume_size(&size, c->volume_size)) {
		msg_error("--volume-size takes a size in GiB from 1 to 65536, not '%s'",
			  c->volume_size);
		return -1;
	}
	if (c->nodes && parse_nodes(&size, c->nodes)) {
		msg_error("--nodes takes a number of instances from 1 to %d, not '%s'",
			  REMOTE_MAX_NODES, c->nodes);
		return -1;
	}
	if (c->image && c->ami) {
		msg_error("--image and --ami name the same thing: give one");
		return -1;
	}
	if ((c->image || c->ami) && image_parse(&kind, c->image ? c->image : c->ami)) {
		msg_error("%s: %s", c->image ? "--image" : "--ami", err_msg());
		err_clear();
		return -1;
	}
	if (check_flag_duration("--spot-timeout", c->spot_timeout, MIN_SPOT_TIMEOUT) ||
	    check_flag_duration("--max-runtime", c->max_runtime, MIN_MAX_RUNTIME) ||
	    check_flag_duration("--ready-timeout", c->ready_timeout, MIN_READY_TIMEOUT) ||
	    check_flag_duration("--idle-timeout", c->idle_timeout, MIN_IDLE_TIMEOUT))
		return -1;
	return cmd_code_check(&c->code);
}

/* flag (-1: not given) beats the key beats def. 0, or -1 with err_set. */
static int pick_bool(int *out, int flag, const struct config *cfg, const char *key, int def)
{
	int r;

	if (flag >= 0)
		return *out = flag, 0;
	r = config_get_bool(out, cfg, key);
	if (r == 1)
		*out = def;
	return r < 0 ? -1 : 0;
}

/* An empty value counts as unset, as `git config key ""` means to. */
static int pick_string(char **out, const char *flag, const struct config *cfg, const char *key)
{
	int r;

	if (flag)
		return *out = *flag ? xstrdup(flag) : NULL, 0;
	r = config_get_string(out, cfg, key);
	if (r < 0)
		return -1;
	if (r == 1 || !**out) {
		free(*out);
		*out = NULL;
	}
	return 0;
}

static int bad_value(const char *key, const char *value, const char *why)
{
	char *e = xstrdup(why);

	err_set("bad config value '%s' for '%s': %s", value, key, e);
	free(e);
	return -1;
}

/* Flags were checked by check_usage(): only a config value can be bad here. */
static int pick_duration(long *out, const char *flag, const struct config *cfg, const char *key,
			 const char *def, long min)
{
	char *v = NULL;
	int ret = -1;

	if (pick_string(&v, flag, cfg, key))
		return -1;
	if (time_parse_duration(out, v ? v : def)) {
		bad_value(key, v, err_msg());
		goto out;
	}
	if (*out < min) {
		err_set("bad config value '%s' for '%s': at least %ld seconds", v, key, min);
		goto out;
	}
	ret = 0;
out:
	free(v);
	return ret;
}

static int pick_output(enum run_output *out, const char *flag, const struct config *cfg)
{
	char *v = NULL;
	int ret = 0;

	if (pick_string(&v, flag, cfg, "train.output"))
		return -1;
	*out = RUN_OUTPUT_TEXT;
	if (v && run_output_parse(out, v))
		ret = bad_value("train.output", v, "use text, run-id, instance-id or json");
	free(v);
	return ret;
}

static int pick_volume_size(int *out, const char *flag, const struct config *cfg)
{
	char *v = NULL;
	int ret = 0;

	*out = 0;
	if (pick_string(&v, flag, cfg, "train.volumeSize"))
		return -1;
	if (v && parse_volume_size(out, v))
		ret = bad_value("train.volumeSize", v, "use a size in GiB from 1 to 65536");
	free(v);
	return ret;
}

/* train.masterPort: 1024 to 65535; 0 (the default) leaves it to the backend, 29500. */
static int pick_master_port(int *out, const struct config *cfg)
{
	char *v = NULL, *end;
	long port;
	int ret = 0;

	*out = 0;
	if (pick_string(&v, NULL, cfg, "train.masterPort"))
		return -1;
	if (v) {
		port = strtol(v, &end, 10);
		if (*end || port < 1024 || port > 65535)
			ret = bad_value("train.masterPort", v, "use a port from 1024 to 65535");
		else
			*out = (int)port;
	}
	free(v);
	return ret;
}

/* --nodes, train.nodes: 1 by default. */
static int pick_nodes(int *out, const char *flag, const struct config *cfg)
{
	char *v = NULL;
	int ret = 0;

	*out = 1;
	if (pick_string(&v, flag, cfg, "train.nodes"))
		return -1;
	if (v && parse_nodes(out, v)) {
		char *why = xstrfmt("use a number of instances from 1 to %d", REMOTE_MAX_NODES);

		ret = bad_value("train.nodes", v, why);
		free(why);
	}
	free(v);
	return ret;
}

/*
 * A run on several instances runs the script with torchrun unless
 * train.launcher says otherwise (none: the script itself, on every node).
 */
static int pick_launcher(struct script_settings *script, int nodes, const struct config *cfg)
{
	char *v = NULL;
	int r;

	if (nodes <= 1 || script->launcher)
		return 0;
	r = config_get_string(&v, cfg, "train.launcher");
	free(v);
	if (r < 0)
		return -1;
	if (r == 1)
		script->launcher = xstrdup("torchrun");
	return 0;
}

/* train.image, else train.ami (its synonym); NULL: the type's default (image.h). */
static int pick_image(char **out, const char *flag, const struct config *cfg)
{
	enum image_kind kind;
	const char *key = "train.image";

	if (pick_string(out, flag, cfg, key))
		return -1;
	if (!*out && !flag) {
		key = "train.ami";
		if (pick_string(out, NULL, cfg, key))
			return -1;
	}
	if (*out && !flag && image_parse(&kind, *out))
		return bad_value(key, *out, "use pytorch, base, al2023 or an AMI id (ami-...)");
	return 0;
}

/* The command line over the train.* settings over the defaults. 0, or -1 with err_set. */
static int resolve(struct resolved *s, const struct run_cmd *c, const struct config *cfg)
{
	struct backend_aws_opts *o = &s->o;
	int spot;

	if (script_settings_load(&s->script, cfg))
		return -1;
	s->have_script = 1;
	script_settings_override(&s->script, c->script, c->setup);
	if (pick_bool(&spot, c->on_demand >= 0 ? !c->on_demand : c->spot, cfg, "train.spot", 1) ||
	    pick_bool(&o->fail_if_no_spot, c->fail_if_no_spot, cfg, "train.failIfNoSpot", 0) ||
	    pick_bool(&o->yes, c->yes, cfg, "train.onDemandFallback", 0) ||
	    pick_bool(&s->wait, c->wait, cfg, "train.wait", 0) ||
	    pick_bool(&o->keep, c->keep, cfg, "train.keep", 0) ||
	    pick_duration(&o->spot_timeout, c->spot_timeout, cfg, "train.spotTimeout", "2m",
			  MIN_SPOT_TIMEOUT) ||
	    pick_duration(&o->max_runtime, c->max_runtime, cfg, "train.maxRuntime", "8h",
			  MIN_MAX_RUNTIME) ||
	    pick_duration(&o->ready_timeout, c->ready_timeout, cfg, "train.readyTimeout", "10m",
			  MIN_READY_TIMEOUT) ||
	    pick_duration(&o->idle_timeout, c->idle_timeout, cfg, "train.idleTimeout",
			  REMOTE_IDLE_TIMEOUT, MIN_IDLE_TIMEOUT) ||
	    pick_output(&s->output, c->output, cfg) ||
	    pick_volume_size(&o->volume_size_gib, c->volume_size, cfg) ||
	    pick_string(&s->instance_profile, NULL, cfg, "train.instanceProfile") ||
	    pick_image(&s->ami, c->image ? c->image : c->ami, cfg) ||
	    pick_string(&s->subnet, c->subnet, cfg, "train.subnet") ||
	    pick_string(&s->security_group, c->security_group, cfg, "train.securityGroup"))
		return -1;
	if (pick_bool(&s->download, c->download, cfg, "train.download", 0) ||
	    pick_nodes(&o->nodes, c->nodes, cfg) || pick_launcher(&s->script, o->nodes, cfg) ||
	    pick_master_port(&o->master_port, cfg) || backend_aws_settings_check(cfg))
		return -1;
	if (c->download == 1 && !s->wait) {
		err_set("--download needs --wait (or train.wait): the outputs come when the run "
			"ends");
		err_hint("without waiting, get them later with 'git train outputs <run>'");
		return -1;
	}
	o->on_demand = !spot;
	o->instance_profile = s->instance_profile;
	o->ami = s->ami;
	o->subnet = s->subnet;
	o->security_group = s->security_group;
	o->resume_from = c->resume_from;
	return 0;
}

static void resolved_release(struct resolved *s)
{
	if (s->have_script)
		script_settings_release(&s->script);
	free(s->instance_profile);
	free(s->ami);
	free(s->subnet);
	free(s->security_group);
}

/* --wait: the log as it comes, then the result; returns the exit code. */
static int follow(struct run *r, enum run_output mode, int download)
{
	int fd = mode == RUN_OUTPUT_TEXT ? STDOUT_FILENO : STDERR_FILENO;
	int ret, code;

	ret = run_follow(r, fd, fd);
	if (!ret)
		ret = run_finish(r);
	if (!ret || (ret == RC_ERROR && r->ended)) {
		if (ret)
			err_report(); /* the note could not be written; the run is in S3 */
		run_output_finished(mode, r);
		code = cmd_exit_status(&r->rec);
		if (download && cmd_download_outputs(r, r->req->cfg) && !code)
			code = EXIT_FAILED;
		return code;
	}
	if (ret == RC_DETACHED) {
		run_output_detached(r);
		ret = EXIT_INTERRUPTED;
	} else {
		err_report();
		msg_hint("the training may go on: git train logs -f %s, git train stop %s",
			 r->rec.id, r->rec.id);
		ret = EXIT_FAILED;
	}
	/* a script reading --output json gets the run, even without its end */
	if (mode == RUN_OUTPUT_JSON)
		run_output_started(mode, 0, r);
	return ret;
}

static int exit_code_of_start(int ret)
{
	switch (ret) {
	case RC_NOT_READY:
		return EXIT_FAILED; /* the failures are said */
	case RC_NO_SPOT:
		err_report();
		return EXIT_NO_SPOT;
	case RC_CANCELLED:
		err_report();
		return EXIT_INTERRUPTED;
	default:
		err_report();
		return EXIT_FAILED;
	}
}

static int run(const char *type, const struct run_cmd *c, const struct parsed_args *pa)
{
	git_repository *repo = NULL;
	struct config cfg;
	struct resolved s;
	struct run_request req;
	struct cmd_ui ui;
	struct run r;
	struct sigaction saved[2];
	int ret = EXIT_FATAL, caught = 0;

	memset(&cfg, 0, sizeof(cfg));
	memset(&s, 0, sizeof(s));
	memset(&r, 0, sizeof(r));
	cmd_ui_init(&ui, CMD_UI_STAMP, &cmd_interrupted);
	if (repo_open(&repo) || config_load(&cfg, repo) ||
	    cmd_config_override(&cfg, "train.instanceType", type) ||
	    (c->region && cmd_config_override(&cfg, "train.region", c->region)) ||
	    /* doctor checks the image and the quota of the market the launch uses */
	    ((c->image || c->ami) &&
	     cmd_config_override(&cfg, "train.image", c->image ? c->image : c->ami)) ||
	    (c->on_demand == 1 && cmd_config_override(&cfg, "train.spot", "false")) ||
	    /* and the vCPU quota of them all */
	    (c->nodes && cmd_config_override(&cfg, "train.nodes", c->nodes)) ||
	    cmd_inputs_apply(&cfg, &c->inputs) || resolve(&s, c, &cfg))
		goto fatal;
	s.o.instance_type = type;
	s.o.code_sha256 = c->code_sha256;
	cmd_run_request(&req, repo, &cfg, &c->code, &s.script, pa, c->smoke > 0, &ui.ui,
			&cmd_interrupted);
	req.parent = c->parent;
	req.fields = c->fields;
	if (run_init(&r, &req, &backend_aws, &s.o))
		goto fatal;

	cmd_catch_signals(saved);
	caught = 1;
	ret = run_prepare(&r);
	if (!ret)
		ret = run_start(&r);
	if (ret) {
		ret = exit_code_of_start(ret);
	} else {
		cmd_sweep_started(r.rec.id);
		run_output_started(s.output, s.wait, &r);
		ret = s.wait ? follow(&r, s.output, s.download) : EXIT_OK;
	}
	goto out;
fatal:
	err_report();
out:
	if (caught)
		cmd_restore_signals(saved);
	run_release(&r);
	cmd_ui_release(&ui);
	resolved_release(&s);
	config_release(&cfg);
	git_repository_free(repo);
	return ret;
}

/* What each run of a sweep shares: the options, the commit, its code in S3, the sweep. */
struct run_sweep {
	const struct run_cmd *c;
	const struct parsed_args *pa;
	const struct sweep *sweep;
	const char *hex, *parent, *sha256;
	int wait; /* -1: as the options and settings say */
};

/* Run i of the sweep, in its child process: the code as --rev gives it, not uploaded again. */
static int run_sweep_one(void *ctx, size_t i)
{
	struct run_sweep *rs = ctx;
	struct run_cmd c = *rs->c;
	struct parsed_args pa;
	struct strvec args = STRVEC_INIT, fields = STRVEC_INIT;

	cmd_sweep_point(&pa, &args, &fields, rs->sweep, i, rs->pa);
	c.code.rev = rs->hex;
	c.code.stash = c.code.include_untracked = 0;
	c.parent = rs->parent;
	c.fields = &fields;
	c.code_sha256 = rs->sha256;
	if (rs->wait >= 0)
		c.wait = rs->wait;
	return run(c.type, &c, &pa);
}

/*
 * The code once: one snapshot for --stash, one upload for every run
 * (cmd/upload.c's). 0, or an exit status.
 */
static int upload_once(struct s3_upload_stats *st, const char *type, const struct run_cmd *c,
		       git_repository *repo, git_commit *commit)
{
	struct config cfg;
	struct upload_target t = { 0 };
	struct aws_client client;
	struct s3_upload_opts uo = { 0 };
	struct sigaction saved[2];
	struct buf done = BUF_INIT;
	int have_client = 0, skipped, ret = EXIT_FATAL;

	memset(&cfg, 0, sizeof(cfg));
	if (config_load(&cfg, repo) || cmd_config_override(&cfg, "train.instanceType", type) ||
	    (c->region && cmd_config_override(&cfg, "train.region", c->region)) ||
	    upload_target_init(&t, &cfg, repo, commit))
		goto out;
	ret = EXIT_FAILED;
	if (aws_client_init(&client, &cfg))
		goto out;
	have_client = 1;
	uo.cancel = &cmd_interrupted;
	uo.ui = cmd_plain_ui();
	cmd_catch_signals(saved);
	if (upload_commit(st, &skipped, &client, repo, commit, &t, &uo)) {
		cmd_restore_signals(saved);
		if (cmd_interrupted)
			ret = EXIT_INTERRUPTED;
		goto out;
	}
	cmd_restore_signals(saved);
	upload_describe(&done, &t, st, skipped);
	fprintf(stderr, "%s\n", buf_cstr(&done));
	ret = EXIT_OK;
out:
	if (ret != EXIT_OK) {
		err_report();
		msg_hint("no run of the sweep was started");
	}
	buf_release(&done);
	if (have_client)
		aws_client_release(&client);
	upload_target_release(&t);
	config_release(&cfg);
	return ret;
}

static int run_sweep(const char *type, const struct run_cmd *c, const struct parsed_args *pa,
		     const struct sweep *sw)
{
	git_repository *repo = NULL;
	git_commit *commit = NULL;
	char *parent = NULL, hex[GIT_OID_HEXSZ + 1];
	struct s3_upload_stats st;
	struct run_sweep rs = { c, pa, sw, hex, NULL, NULL, -1 };
	int ret = EXIT_FATAL, waits;

	memset(&st, 0, sizeof(st));
	if (repo_open(&repo) ||
	    run_resolve_code(&commit, &parent, repo, c->code.rev, c->code.stash,
			     c->code.include_untracked, "running", cmd_plain_ui())) {
		err_report();
		goto out;
	}
	git_oid_tostr(hex, sizeof(hex), git_commit_id(commit));
	ret = upload_once(&st, type, c, repo, commit);
	if (ret)
		goto out;
	rs.parent = parent;
	rs.sha256 = st.sha256;
	/* a run counts until it ends: with fewer slots than runs, each child follows its run */
	if ((size_t)sw->parallel < sw->total)
		rs.wait = 1;
	/* the runs go on after their children unless these follow them (--wait, train.wait) */
	waits = rs.wait == 1 || c->wait == 1;
	if (!waits && c->wait < 0) {
		struct config cfg;

		memset(&cfg, 0, sizeof(cfg));
		if (!config_load(&cfg, repo) && config_get_bool(&waits, &cfg, "train.wait") != 0)
			waits = 0;
		err_clear();
		config_release(&cfg);
	}
	ret = cmd_sweep_run(sw, run_sweep_one, &rs, type, !waits);
out:
	free(parent);
	git_commit_free(commit);
	git_repository_free(repo);
	return ret;
}

int cmd_run(int argc, const char **argv)
{
	struct sweep sw;
	int swept = 1;
	struct run_cmd c;
	struct parsed_args pa;
	int r;
	const struct option options[] = {
		OPT_BOOL(0, "spot", &c.spot, "spot instance, the default (train.spot)"),
		OPT_BOOL(0, "on-demand", &c.on_demand, "on-demand instance, no spot"),
		OPT_BOOL(0, "fail-if-no-spot", &c.fail_if_no_spot,
			 "never fall back to on-demand (train.failIfNoSpot)"),
		OPT_STRING(0, "spot-timeout", &c.spot_timeout, "duration",
			   "how long to retry spot capacity (train.spotTimeout, 2m)"),
		OPT_BOOL('y', "yes", &c.yes,
			 "on-demand without asking if no spot (train.onDemandFallback)"),
		OPT_BOOL(0, "wait", &c.wait, "follow the log until the run ends (train.wait)"),
		OPT_BOOL(0, "download", &c.download,
			 "with --wait: download the outputs when it ends (train.download)"),
		OPT_STRING(0, "output", &c.output, "format",
			   "text, run-id, instance-id or json (train.output)"),
		OPT_BOOL(0, "keep", &c.keep, "keep the instance up after the run (train.keep)"),
		OPT_BOOL(0, "smoke", &c.smoke,
			 "record the run as a smoke run (the pre-push hook's)"),
		OPT_STRING(0, "max-runtime", &c.max_runtime, "duration",
			   "the instance shuts down after this (train.maxRuntime, 8h)"),
		OPT_STRING(0, "ready-timeout", &c.ready_timeout, "duration",
			   "wait this long for SSM to reach it (train.readyTimeout, 10m)"),
		OPT_STRING(0, "idle-timeout", &c.idle_timeout, "duration",
			   "shut down this long without a live runner (train.idleTimeout, 15m)"),
		OPT_CODE(&c.code),
		OPT_STRING(0, "script", &c.script, "path", "the training script (train.script)"),
		OPT_STRING(0, "setup", &c.setup, "cmd", "shell command run first (train.setup)"),
		OPT_INPUTS(&c.inputs),
		OPT_STRING(0, "region", &c.region, "region", "AWS region (train.region)"),
		OPT_STRING(0, "image", &c.image, "image",
			   "pytorch, base, al2023 or an AMI id (train.image; default: pytorch "
			   "with GPUs, else al2023)"),
		OPT_STRING(0, "ami", &c.ami, "id", "an AMI id: --image <id> (train.ami)"),
		OPT_STRING(0, "volume-size", &c.volume_size, "GiB",
			   "root volume size (train.volumeSize)"),
		OPT_STRING(0, "subnet", &c.subnet, "id", "subnet (train.subnet)"),
		OPT_STRING(0, "resume-from", &c.resume_from, "run",
			   "start from the checkpoints of another run"),
		OPT_STRING(0, "security-group", &c.security_group, "id",
			   "security group (train.securityGroup)"),
		OPT_STRING(0, "nodes", &c.nodes, "n",
			   "instances that run it together with torchrun (train.nodes, 1)"),
		OPT_SWEEP(&c.sweep),
		OPT_END(),
	};

	memset(&c, 0, sizeof(c));
	c.type = argv[0];
	c.spot = c.on_demand = c.fail_if_no_spot = c.yes = c.wait = c.keep = -1;
	c.download = -1;
	r = parse_options(&pa, argc - 1, argv + 1, options, run_usage);
	if (r == PARSE_OPT_OK && check_usage(&c, &pa))
		r = PARSE_OPT_ERROR;
	if (r == PARSE_OPT_OK) {
		swept = cmd_sweep_parse(&sw, &c.sweep, &pa, 0);
		if (swept < 0)
			r = PARSE_OPT_ERROR;
		else if (!swept && c.resume_from) {
			msg_error("--resume-from cannot be used with --sweep");
			cmd_sweep_release(&sw);
			r = PARSE_OPT_ERROR;
		}
	}
	if (r != PARSE_OPT_OK) {
		r = EXIT_USAGE;
	} else if (!swept) {
		r = run_sweep(argv[0], &c, &pa, &sw);
		cmd_sweep_release(&sw);
	} else {
		r = run(argv[0], &c, &pa);
	}
	parse_options_release(&pa);
	cmd_inputs_release(&c.inputs);
	cmd_sweep_opts_release(&c.sweep);
	return r;
}
