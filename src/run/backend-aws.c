/*
 * backend-aws: from the prerequisites to a started training (the stages
 * are in backend-aws.h). The upload thread and the runner's start are in
 * backend-aws-start.c, following a run in backend-aws-follow.c.
 */
#include "run/backend-aws-internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "doctor/doctor.h"
#include "run/launch.h"
#include "git/repo.h"
#include "util/shell-quote.h"

void backend_aws_elapsed(struct buf *out, const struct backend_aws_run *r)
{
	long s = (long)(now_monotonic() - r->t0);

	if (s >= 3600)
		buf_printf(out, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
	else
		buf_printf(out, "%ld:%02ld", s / 60, s % 60);
}

void backend_aws_say(const struct backend_aws_run *r, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	buf_putc(&b, '[');
	backend_aws_elapsed(&b, r);
	buf_puts(&b, "] ");
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	buf_putc(&b, '\n');
	fflush(stdout);
	write_all(STDERR_FILENO, b.ptr, b.len);
	buf_release(&b);
}

int backend_aws_sleep(const volatile sig_atomic_t *cancel, double seconds)
{
	return sleep_unless_cancelled(cancel, seconds);
}

/* AWS's words are not ours: keep them from moving the cursor. */
static void put_clean(struct buf *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && s[i]; i++)
		buf_putc(out, ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i]);
}

static void print_failure(const struct doctor_check *chk)
{
	struct buf b = BUF_INIT;
	const char *p = chk->fix;

	put_clean(&b, chk->detail, strlen(chk->detail));
	msg_error("%s: %s", chk->name, buf_cstr(&b));
	while (p && *p) {
		size_t n = strcspn(p, "\n");

		buf_reset(&b);
		put_clean(&b, p, n);
		msg_hint("%s%s", p == chk->fix ? "fix: " : "     ", buf_cstr(&b));
		p += n + (p[n] == '\n');
	}
	buf_release(&b);
}

/* Doctor's checks, from its cache when they passed in the last minutes. */
static int check_prerequisites(struct start_ctx *x)
{
	struct doctor_report rep;
	size_t i;
	int ret = 0;

	memset(&rep, 0, sizeof(rep));
	if (doctor_run(&rep, &x->r->client, x->cfg, DOCTOR_USE_CACHE))
		return BACKEND_AWS_ERROR;
	if (doctor_report_ok(&rep)) {
		backend_aws_say(x->r, "prerequisites ok%s",
				rep.from_cache ? " (checked recently)" : "");
		goto out;
	}
	for (i = 0; i < rep.nr; i++)
		if (rep.checks[i].state == DOCTOR_FAILED)
			print_failure(&rep.checks[i]);
	msg_hint("nothing was launched; 'git train doctor' shows every check");
	ret = BACKEND_AWS_NOT_READY;
out:
	doctor_report_release(&rep);
	return ret;
}

/* The estimate the user sees before anything costs money. */
static void quote_prices(struct start_ctx *x)
{
	struct buf warnings = BUF_INIT, line = BUF_INIT;
	const char *region = x->r->run.region ? x->r->run.region : "us-east-1";
	double price;

	pricing_quote(&x->prices, &warnings, &x->r->client,
		      git_repository_commondir(x->repo), region, x->o->instance_type);
	msg_warning_lines(&warnings);
	price = x->o->on_demand ? x->prices.on_demand : x->prices.spot;
	buf_printf(&line, "%s %s in %s: ", x->o->on_demand ? "on-demand" : "spot",
		   x->o->instance_type, region);
	if (price >= 0) {
		buf_puts(&line, "est. ");
		pricing_format(&line, price);
	} else {
		buf_puts(&line, "price unknown");
	}
	if (!x->o->on_demand && x->prices.on_demand >= 0) {
		buf_puts(&line, " (on-demand ");
		pricing_format(&line, x->prices.on_demand);
		buf_putc(&line, ')');
	}
	backend_aws_say(x->r, "%s", buf_cstr(&line));
	buf_release(&warnings);
	buf_release(&line);
}

/* Who started it, for the tag: never a secret, and no request needed. */
static char *caller(const struct config *cfg)
{
	char *v = NULL;
	const char *env = getenv("USER");

	if (!config_get_string(&v, cfg, "user.email") && v && *v)
		return v;
	free(v);
	return xstrdup(env && *env ? env : "unknown");
}

static void add_tag(struct start_ctx *x, const char *key, char *value)
{
	x->tags[x->nr_tags].key = xstrdup(key);
	x->tags[x->nr_tags].value = value;
	x->nr_tags++;
}

/* The run as run.json, the tags and every later command know it. */
static void describe_run(struct start_ctx *x)
{
	struct remote_run *run = &x->r->run;
	struct aws_client *c = &x->r->client;

	run->commit = xstrdup(x->hex);
	run->parent = x->o->parent ? xstrdup(x->o->parent) : NULL;
	run->run_id = run_id_new(x->short_id, time(NULL));
	run->smoke = x->o->smoke;
	if (x->o->nr_args) {
		struct buf words = BUF_INIT;

		shell_quote_argv(&words, x->o->args, x->o->nr_args);
		run->args = buf_detach(&words);
	}
	run->instance_type = xstrdup(x->o->instance_type);
	run->region = xstrdup(c->settings.region ? c->settings.region : "us-east-1");
	run->bucket = xstrdup(x->target.bucket);
	run->run_prefix = remote_run_prefix(x->cfg, x->repo, x->hex, run->run_id);
	run->price = -1;
	x->r->log_uri = xstrfmt("s3://%s/%slog", run->bucket, run->run_prefix);
	x->r->outputs_uri = xstrfmt("s3://%s/%soutputs/", run->bucket, run->run_prefix);

	add_tag(x, REMOTE_TAG_RUN_ID, xstrdup(run->run_id));
	add_tag(x, REMOTE_TAG_COMMIT, xstrdup(x->hex));
	add_tag(x, REMOTE_TAG_REPO, upload_repo_name(x->repo, x->cfg));
	add_tag(x, REMOTE_TAG_BRANCH, repo_branch_name(x->repo));
	add_tag(x, REMOTE_TAG_USER, caller(x->cfg));
}

static int launch(struct start_ctx *x)
{
	const struct backend_aws_opts *o = x->o;
	struct launch_opts lo;
	struct remote_run *run = &x->r->run;
	struct launch_result *l = &x->launched;
	int r;

	memset(&lo, 0, sizeof(lo));
	lo.run_id = run->run_id;
	lo.short_sha = x->short_id;
	lo.instance_type = o->instance_type;
	lo.ami = o->ami;
	lo.subnet = o->subnet;
	lo.security_group = o->security_group;
	lo.instance_profile = o->instance_profile;
	lo.volume_size_gib = o->volume_size_gib;
	lo.on_demand = o->on_demand;
	lo.fail_if_no_spot = o->fail_if_no_spot;
	lo.yes = o->yes;
	lo.spot_timeout = o->spot_timeout;
	lo.max_runtime = o->max_runtime;
	lo.ready_timeout = o->ready_timeout;
	lo.prices = &x->prices;
	lo.tags = x->tags;
	lo.nr_tags = x->nr_tags;
	lo.cancel = x->cancel;
	r = launch_instance(l, &x->r->client, &lo);
	if (r == LAUNCH_NO_SPOT)
		return BACKEND_AWS_NO_SPOT;
	if (r == LAUNCH_CANCELLED)
		return BACKEND_AWS_CANCELLED;
	if (r)
		return BACKEND_AWS_ERROR;
	x->have_instance = 1;
	run->instance_id = xstrdup(l->instance.id);
	run->market = xstrdup(l->spot ? "spot" : "on-demand");
	run->az = l->instance.az ? xstrdup(l->instance.az) : NULL;
	run->price = l->price;
	run->launched = l->instance.launched ? l->instance.launched : time(NULL);
	return BACKEND_AWS_OK;
}

static void say_ready(struct start_ctx *x)
{
	const struct remote_run *run = &x->r->run;
	struct buf price = BUF_INIT;

	if (run->price >= 0) {
		buf_puts(&price, ", est. ");
		pricing_format(&price, run->price);
	}
	backend_aws_say(x->r, "instance %s is ready: %s%s %s in %s%s", run->instance_id,
			x->launched.spot ? "" : "ON-DEMAND ", run->instance_type,
			x->launched.spot ? "spot" : "instance", run->az ? run->az : run->region,
			buf_cstr(&price));
	buf_release(&price);
}

void backend_aws_terminate(struct start_ctx *x, const char *why)
{
	const char *id = x->r->run.instance_id;
	char *saved = xstrdup(err_msg());

	if (!x->have_instance)
		goto out;
	x->have_instance = 0;
	if (ec2_terminate_instances(&x->r->client, &id, 1)) {
		msg_error("cannot terminate %s (%s): %s", id, why, err_msg());
		msg_hint("it may still be running: aws ec2 terminate-instances --region %s "
			 "--instance-ids %s",
			 x->r->run.region, id);
		err_set("%s", saved);
		goto out;
	}
	backend_aws_say(x->r, "terminated %s (%s)", id, why);
out:
	free(saved);
}

/* The stages with an instance: run.json, the code, the runner. */
static int start_on_instance(struct start_ctx *x)
{
	int r;

	say_ready(x);
	if (remote_run_save(&x->r->client, &x->r->run, x->o->args, x->o->nr_args)) {
		backend_aws_upload_stop(x);
		return BACKEND_AWS_ERROR;
	}
	r = backend_aws_upload_join(x);
	if (r)
		return r;
	if (*x->cancel)
		return BACKEND_AWS_CANCELLED;
	return backend_aws_start_runner(x);
}

/* What a Ctrl-C before the start cleaned up, for the message. */
static void say_cancelled(struct start_ctx *x, const char *terminated)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "interrupted");
	if (terminated)
		buf_printf(&b, ": instance %s terminated", terminated);
	else if (x->upload.started)
		buf_puts(&b, ": no instance is left running");
	else
		buf_puts(&b, " before anything was launched");
	if (x->upload.started && x->upload.ret && !x->upload.skipped)
		buf_puts(&b, ", upload of the code aborted");
	err_set("%s", buf_cstr(&b));
	buf_release(&b);
}

static void start_release(struct start_ctx *x)
{
	size_t i;

	for (i = 0; i < x->nr_tags; i++) {
		free(x->tags[i].key);
		free(x->tags[i].value);
	}
	free(x->short_id);
	free(x->upload.error);
	upload_target_release(&x->target);
	price_quote_release(&x->prices);
	launch_result_release(&x->launched);
}

int backend_aws_start(struct backend_aws_run *out, git_repository *repo, git_commit *commit,
		      const struct config *cfg, const struct backend_aws_opts *o,
		      volatile sig_atomic_t *cancel)
{
	struct start_ctx x;
	char *terminated = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	memset(&x, 0, sizeof(x));
	out->t0 = now_monotonic();
	out->run.price = -1;
	x.r = out;
	x.repo = repo;
	x.commit = commit;
	x.cfg = cfg;
	x.o = o;
	x.cancel = cancel;
	git_oid_tostr(x.hex, sizeof(x.hex), git_commit_id(commit));
	x.short_id = repo_short_id(repo, git_commit_id(commit));
	ret = BACKEND_AWS_ERROR;
	if (aws_client_init(&out->client, cfg))
		goto out;
	out->have_client = 1;
	ret = check_prerequisites(&x);
	if (ret)
		goto out;
	ret = BACKEND_AWS_ERROR;
	if (upload_target_init(&x.target, cfg, repo, commit))
		goto out;
	describe_run(&x);
	quote_prices(&x);
	backend_aws_say(out, "run %s: %s %s", out->run.run_id, x.short_id,
			git_commit_summary(commit) ? git_commit_summary(commit) : "");
	ret = BACKEND_AWS_CANCELLED;
	if (*cancel)
		goto out;
	ret = BACKEND_AWS_ERROR;
	if (backend_aws_upload_start(&x))
		goto out;
	ret = launch(&x);
	if (ret) {
		backend_aws_upload_stop(&x);
		if (ret == BACKEND_AWS_CANCELLED && x.upload.raised) {
			err_set("%s", x.upload.error);
			ret = BACKEND_AWS_ERROR;
		}
		goto out;
	}
	ret = start_on_instance(&x);
out:
	if (ret && x.have_instance) {
		terminated = xstrdup(out->run.instance_id);
		backend_aws_terminate(&x, ret == BACKEND_AWS_CANCELLED ? "interrupted"
								       : "the run could not start");
	}
	if (x.upload.started && !x.upload.joined)
		backend_aws_upload_stop(&x);
	if (ret == BACKEND_AWS_CANCELLED)
		say_cancelled(&x, terminated);
	free(terminated);
	start_release(&x);
	return ret;
}

void backend_aws_release(struct backend_aws_run *r)
{
	if (r->have_client)
		aws_client_release(&r->client);
	remote_run_release(&r->run);
	free(r->log_uri);
	free(r->outputs_uri);
	memset(r, 0, sizeof(*r));
}
