/*
 * backend-aws: prepare, start and stop a run on EC2 (see backend-aws.h).
 * The upload thread and the runner's start are in backend-aws-start.c,
 * following a run in backend-aws-follow.c.
 */
#include "run/backend-aws-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "doctor/doctor.h"
#include "git/repo.h"
#include "run/data.h"
#include "run/layout.h"
#include "services/secrets.h"
#include "util/time.h"

/* AWS's words are not ours: keep them from moving the cursor. */
static void put_clean(struct buf *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && s[i]; i++)
		buf_putc(out, ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i]);
}

static void say_failure(const struct ui *ui, const struct doctor_check *chk)
{
	struct buf b = BUF_INIT;
	const char *p = chk->fix;

	put_clean(&b, chk->detail, strlen(chk->detail));
	ui_say(ui, UI_ERROR, "%s: %s", chk->name, buf_cstr(&b));
	while (p && *p) {
		size_t n = strcspn(p, "\n");

		buf_reset(&b);
		put_clean(&b, p, n);
		ui_say(ui, UI_HINT, "%s%s", p == chk->fix ? "fix: " : "     ", buf_cstr(&b));
		p += n + (p[n] == '\n');
	}
	buf_release(&b);
}

/* A risk doctor saw (a role broader than it needs): one line each, the fix in `doctor`. */
static void say_warnings(const struct ui *ui, const struct doctor_report *rep)
{
	struct buf b = BUF_INIT;
	size_t i;
	int any = 0;

	for (i = 0; i < rep->nr; i++) {
		const struct doctor_check *chk = &rep->checks[i];

		if (chk->state != DOCTOR_WARNING)
			continue;
		buf_reset(&b);
		put_clean(&b, chk->detail, strlen(chk->detail));
		ui_say(ui, UI_WARNING, "%s: %s", chk->name, buf_cstr(&b));
		any = 1;
	}
	if (any)
		ui_say(ui, UI_HINT, "'git train doctor' shows how to narrow it");
	buf_release(&b);
}

/* Doctor's checks, from its cache when they passed in the last minutes. */
static int check_prerequisites(struct aws_run *x)
{
	struct doctor_report rep;
	size_t i;
	int ret = 0;

	memset(&rep, 0, sizeof(rep));
	if (doctor_run(&rep, &x->client, x->run->req->cfg, DOCTOR_USE_CACHE))
		return RC_ERROR;
	if (doctor_report_ok(&rep)) {
		say_warnings(x->ui, &rep);
		ui_say(x->ui, UI_PROGRESS, "prerequisites ok%s",
		       rep.from_cache ? " (checked recently)" : "");
		goto out;
	}
	for (i = 0; i < rep.nr; i++)
		if (rep.checks[i].state == DOCTOR_FAILED)
			say_failure(x->ui, &rep.checks[i]);
	ui_say(x->ui, UI_HINT, "nothing was launched; 'git train doctor' shows every check");
	ret = RC_NOT_READY;
out:
	doctor_report_release(&rep);
	return ret;
}

/* The estimate the user sees before anything costs money. */
static void quote_prices(struct aws_run *x)
{
	struct buf warnings = BUF_INIT, line = BUF_INIT;
	const char *region = x->remote.region;
	const char *p;
	double price;

	pricing_quote(&x->prices, &warnings, &x->client,
		      git_repository_commondir(x->run->req->repo), region, x->o->instance_type);
	for (p = warnings.ptr; p && *p; p += strcspn(p, "\n"), p += *p == '\n')
		if (*p != '\n')
			ui_say(x->ui, UI_WARNING, "%.*s", (int)strcspn(p, "\n"), p);
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
	if (backend_aws_nodes(x) > 1 && price >= 0) {
		buf_printf(&line, "; %d instances: ", backend_aws_nodes(x));
		pricing_format(&line, price * backend_aws_nodes(x));
	}
	ui_say(x->ui, UI_PROGRESS, "%s", buf_cstr(&line));
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

static void add_tag(struct aws_run *x, const char *key, char *value)
{
	x->tags[x->nr_tags].key = xstrdup(key);
	x->tags[x->nr_tags].value = value;
	x->nr_tags++;
}

/* The run as run.json, the tags and every later command know it. */
static void describe_run(struct aws_run *x)
{
	struct remote_run *remote = &x->remote;
	struct run *run = x->run;
	const char *args = run_record_extra(&run->rec, "args");
	size_t i;

	remote->commit = xstrdup(run->hex);
	remote->parent = run->rec.parent ? xstrdup(run->rec.parent) : NULL;
	remote->run_id = xstrdup(run->rec.id);
	remote->smoke = run->req->smoke;
	remote->args = args ? xstrdup(args) : NULL;
	remote->instance_type = xstrdup(x->o->instance_type);
	remote->region =
		xstrdup(x->client.settings.region ? x->client.settings.region : "us-east-1");
	remote->bucket = xstrdup(x->target.bucket);
	remote->run_prefix = layout_run_prefix(&x->target.layout, run->hex, remote->run_id);
	remote->price = -1;
	/* the request's own note fields (a sweep's) live in run.json for every later command */
	for (i = 0; run->req->fields && i < run->req->fields->nr; i++)
		strvec_push(&remote->fields, run->req->fields->v[i]);

	add_tag(x, REMOTE_TAG_RUN_ID, xstrdup(remote->run_id));
	add_tag(x, REMOTE_TAG_COMMIT, xstrdup(run->hex));
	add_tag(x, REMOTE_TAG_REPO, xstrdup(x->target.layout.repo_name));
	add_tag(x, REMOTE_TAG_BRANCH, repo_branch_name(run->req->repo));
	add_tag(x, REMOTE_TAG_USER, caller(run->req->cfg));
}

static int launch(struct aws_run *x)
{
	const struct backend_aws_opts *o = x->o;
	struct launch_opts lo;
	struct remote_run *remote = &x->remote;
	struct launch_result *l = &x->launched;
	int r;

	memset(&lo, 0, sizeof(lo));
	lo.run_id = remote->run_id;
	lo.short_sha = x->run->short_id;
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
	lo.idle_timeout = o->idle_timeout;
	lo.ready_timeout = o->ready_timeout;
	lo.prices = &x->prices;
	lo.tags = x->tags;
	lo.nr_tags = x->nr_tags;
	lo.persistent = x->persistent;
	lo.cancel = x->cancel;
	lo.ui = x->ui;
	lo.avoid_az = x->avoid_az;
	lo.token_id = x->token_id;
	if (backend_aws_nodes(x) > 1) {
		lo.count = backend_aws_nodes(x);
		lo.placement_group = x->cluster.placement_group;
		lo.cluster_security_group = x->cluster.security_group;
		if (x->replaced) {
			lo.replaced = (const char *const *)x->replaced->v;
			lo.nr_replaced = x->replaced->nr;
		}
	}
	r = launch_instance(l, &x->client, &lo);
	if (r == RC_NO_SPOT || r == RC_CANCELLED)
		return r;
	if (r)
		return RC_ERROR;
	x->have_instance = 1;
	remote->instance_id = xstrdup(l->instance.id);
	remote->market = xstrdup(l->spot ? "spot" : "on-demand");
	remote->az = l->instance.az ? xstrdup(l->instance.az) : NULL;
	remote->price = l->price;
	remote->image = l->ami ? xstrdup(l->ami) : NULL;
	remote->launched = l->instance.launched ? l->instance.launched : time(NULL);
	remote->spot_request = l->instance.spot_request ? xstrdup(l->instance.spot_request) : NULL;
	backend_aws_record_instance(x);
	return backend_aws_nodes_record(x);
}

int backend_aws_launch(struct aws_run *x)
{
	time_t first = x->remote.launched;
	int r = launch(x);

	/* a run moved elsewhere started at its first launch: its max runtime counts from there */
	if (!r && first)
		x->remote.launched = first;
	return r;
}

static void say_ready(struct aws_run *x)
{
	const struct remote_run *run = &x->remote;
	struct buf price = BUF_INIT;

	if (run->price >= 0) {
		buf_puts(&price, ", est. ");
		pricing_format(&price, run->price * backend_aws_nodes(x));
	}
	if (run->nodes > 1) {
		struct buf ids = BUF_INIT;
		size_t i;

		for (i = 0; i < run->node_instances.nr; i++)
			buf_printf(&ids, "%s%s", i ? ", " : "", run->node_instances.v[i]);
		ui_say(x->ui, UI_PROGRESS, "instances %s are ready: %d %s%s %s in %s%s",
		       buf_cstr(&ids), run->nodes, x->launched.spot ? "" : "ON-DEMAND ",
		       run->instance_type, x->launched.spot ? "spot" : "instances",
		       run->az ? run->az : run->region, buf_cstr(&price));
		buf_release(&ids);
		buf_release(&price);
		return;
	}
	ui_say(x->ui, UI_PROGRESS, "instance %s is ready: %s%s %s in %s%s", run->instance_id,
	       x->launched.spot ? "" : "ON-DEMAND ", run->instance_type,
	       x->launched.spot ? "spot" : "instance", run->az ? run->az : run->region,
	       buf_cstr(&price));
	buf_release(&price);
}

int backend_aws_terminate(struct aws_run *x, const char *why)
{
	const char *one = x->remote.instance_id;
	const char *const *ids = &one;
	size_t nr = 1;
	char *saved = xstrdup(err_msg()), *list;
	int ret = 0;

	if (!x->have_instance)
		goto out;
	x->have_instance = 0;
	/* a run on several instances: all of them */
	if (x->remote.nodes > 1 && x->remote.node_instances.nr) {
		ids = (const char *const *)x->remote.node_instances.v;
		nr = x->remote.node_instances.nr;
	}
	/* else the request would start another instance */
	backend_aws_cancel_request(x);
	list = backend_aws_instance_list(x, " ");
	if (ec2_terminate_instances(&x->client, ids, nr)) {
		ui_say(x->ui, UI_ERROR, "cannot terminate %s (%s): %s", list, why, err_msg());
		ui_say(x->ui, UI_HINT,
		       "it may still be running: aws ec2 terminate-instances --region %s "
		       "--instance-ids %s",
		       x->remote.region, list);
		err_set("%s", saved);
		ret = RC_ERROR;
	} else {
		ui_say(x->ui, UI_PROGRESS, "terminated %s (%s)", list, why);
	}
	free(list);
out:
	free(saved);
	return ret;
}

/* The stages with an instance: run.json, the code, the runner. */
static int start_on_instance(struct aws_run *x)
{
	int r;

	say_ready(x);
	if (remote_run_save(&x->client, &x->remote, x->run->req->args, x->run->req->nr_args)) {
		backend_aws_upload_stop(x);
		return RC_ERROR;
	}
	r = backend_aws_upload_join(x);
	if (r)
		return r;
	if (backend_aws_resume_upload(x))
		return RC_ERROR;
	if (*x->cancel)
		return RC_CANCELLED;
	return backend_aws_start_runner(x);
}

/* What a Ctrl-C before the start cleaned up, for the message. */
static void say_cancelled(struct aws_run *x, const char *terminated)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "interrupted");
	if (terminated)
		buf_printf(&b, ": instance%s %s terminated", strchr(terminated, ',') ? "s" : "",
			   terminated);
	else if (x->upload.started)
		buf_puts(&b, ": no instance is left running");
	else
		buf_puts(&b, " before anything was launched");
	if (x->upload.started && x->upload.ret && !x->upload.skipped)
		buf_puts(&b, ", upload of the code aborted");
	err_set("%s", buf_cstr(&b));
	buf_release(&b);
}

/*
 * With the user's credentials, before anything is launched: each data
 * source can be listed, is not empty and holds no key that would land
 * outside its directory (its fingerprint is then what the run must find),
 * and each secret exists (described, never read). The note's fields go
 * into run.json.
 */
static int check_inputs(struct aws_run *x)
{
	struct run_inputs *in = &x->inputs;
	struct run_record fields;
	size_t i;
	int ret = RC_ERROR;

	run_record_init(&fields);
	for (i = 0; i < in->nr_data; i++) {
		char *uri = inputs_data_uri(&in->data[i]);

		if (data_list(NULL, NULL, &x->client, &in->data[i])) {
			free(uri);
			goto out;
		}
		ui_say(x->ui, UI_PROGRESS, "data %s: %s, fingerprint %s", in->data[i].name, uri,
		       in->data[i].fingerprint);
		free(uri);
	}
	for (i = 0; i < in->nr_secrets; i++) {
		const struct inputs_secret *s = &in->secrets[i];
		struct secrets_info info;

		if (secrets_describe(&info, &x->client, s->manager ? SECRETS_MANAGER : SECRETS_SSM,
				     s->ref))
			goto out;
		secrets_info_release(&info);
	}
	inputs_note(&fields, in);
	for (i = 0; i < fields.nr_extra; i++) {
		strvec_push_nodup(&x->remote.fields,
				  xstrfmt("%s=%s", fields.extra[i].key, fields.extra[i].value));
		run_record_add_extra(&x->run->rec, fields.extra[i].key, fields.extra[i].value);
	}
	ret = 0;
out:
	if (ret)
		err_hint("nothing was launched");
	run_record_release(&fields);
	return ret;
}

static int aws_prepare(struct run *run)
{
	struct aws_run *x = xcalloc(1, sizeof(*x));
	int ret;

	run->state = x;
	x->run = run;
	x->o = run->opts;
	x->ui = run->req->ui;
	x->cancel = run->req->cancel;
	x->remote.price = -1;
	run->rec.backend = xstrdup(x->o->instance_type);
	if (metric_patterns_load(&x->metrics, run->req->cfg) ||
	    inputs_load(&x->inputs, run->req->cfg) || backend_aws_resume_settings(x))
		return RC_ERROR;
	if (aws_client_init(&x->client, run->req->cfg))
		return RC_ERROR;
	x->have_client = 1;
	ret = check_prerequisites(x);
	if (ret)
		return ret;
	if (upload_target_init(&x->target, run->req->cfg, run->req->repo, run->commit))
		return RC_ERROR;
	describe_run(x);
	if (backend_aws_resume_from(x))
		return RC_ERROR;
	if (x->o->attach)
		backend_aws_attach(x);
	if (x->remote.resumed_from)
		run_record_add_extra(&run->rec, "resumed_from", x->remote.resumed_from);
	if (check_inputs(x) || backend_aws_resume_timeout(x))
		return RC_ERROR;
	quote_prices(x);
	return 0;
}

static int aws_start(struct run *run)
{
	struct aws_run *x = run->state;
	char *terminated = NULL;
	int ret;

	ret = RC_CANCELLED;
	if (*x->cancel)
		goto out;
	if (x->o->attach)
		return backend_aws_attach_start(x);
	ret = RC_ERROR;
	if (x->o->code_sha256)
		snprintf(x->upload.stats.sha256, sizeof(x->upload.stats.sha256), "%s",
			 x->o->code_sha256);
	else if (backend_aws_upload_start(x))
		goto out;
	ret = backend_aws_cluster_create(x);
	if (ret) {
		backend_aws_upload_stop(x);
		goto out;
	}
	ret = launch(x);
	if (ret) {
		backend_aws_upload_stop(x);
		if (ret == RC_CANCELLED && x->upload.raised) {
			err_set("%s", x->upload.error);
			ret = RC_ERROR;
		}
		goto out;
	}
	ret = start_on_instance(x);
out:
	if (ret && x->have_instance) {
		terminated = backend_aws_instance_list(x, ", ");
		backend_aws_terminate(x, ret == RC_CANCELLED ? "interrupted"
							     : "the run could not start");
	}
	/* a launch that got fewer than all terminated those it got: the groups go too */
	if (ret && x->have_cluster)
		backend_aws_cluster_delete(x, BACKEND_AWS_CLUSTER_TIMEOUT);
	if (x->upload.started && !x->upload.joined)
		backend_aws_upload_stop(x);
	if (ret == RC_CANCELLED)
		say_cancelled(x, terminated);
	free(terminated);
	return ret;
}

static int aws_stop(struct run *run, const char *why)
{
	struct aws_run *x = run->state;
	int r;

	if (!x)
		return 0;
	r = backend_aws_terminate(x, why);
	if (x->have_cluster)
		backend_aws_cluster_delete(x, BACKEND_AWS_CLUSTER_TIMEOUT);
	return r;
}

static void aws_release(struct run *run)
{
	struct aws_run *x = run->state;
	size_t i;

	if (!x)
		return;
	if (x->upload.started && !x->upload.joined)
		backend_aws_upload_stop(x);
	for (i = 0; i < x->nr_tags; i++) {
		free(x->tags[i].key);
		free(x->tags[i].value);
	}
	free(x->upload.error);
	free(x->avoid_az);
	free(x->token_id);
	free(x->retry_on_exit);
	free(x->resume_from_key);
	free(x->resume_from_dir);
	upload_target_release(&x->target);
	pricing_quote_release(&x->prices);
	launch_result_release(&x->launched);
	cluster_release(&x->cluster);
	run_record_release(&x->result);
	metric_patterns_release(&x->metrics);
	remote_run_release(&x->remote);
	inputs_release(&x->inputs);
	if (x->have_client)
		aws_client_release(&x->client);
	free(x);
	run->state = NULL;
}

const struct remote_run *backend_aws_remote(const struct run *run)
{
	const struct aws_run *x = run->state;

	return &x->remote;
}

const struct run_backend backend_aws = {
	.name = "aws",
	.prepare = aws_prepare,
	.start = aws_start,
	.follow = backend_aws_follow,
	.collect = backend_aws_collect,
	.stop = aws_stop,
	.release = aws_release,
};
