/*
 * launch: the AMI, the tags, one RunInstances, and launch_instance()
 * putting the stages together (see launch.h). The spot rounds and the
 * fallback are in launch-spot.c, readiness in launch-ready.c.
 */
#include "run/launch-internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "services/aws-checks.h"

int launch_cancelled(const struct launch_ctx *x)
{
	return x->o->cancel && *x->o->cancel;
}

int launch_sleep(const struct launch_ctx *x, double seconds)
{
	return sleep_unless_cancelled(x->o->cancel, seconds) ? RC_CANCELLED : 0;
}

void launch_line(struct launch_ctx *x, const char *text, int keep)
{
	ui_status(x->o->ui, keep ? UI_STATUS_KEEP : 0, "%s", text);
}

void launch_line_end(struct launch_ctx *x)
{
	ui_status_done(x->o->ui, UI_STATUS_END);
}

int launch_terminate(struct launch_ctx *x, const char *id, const char *request, const char *why)
{
	launch_line_end(x);
	if (request && x->persistent && ec2_cancel_spot_requests(x->c, &request, 1)) {
		ui_say(x->o->ui, UI_WARNING, "cannot cancel spot request %s of %s: %s", request, id,
		       err_msg());
		ui_say(x->o->ui, UI_HINT,
		       "it may start another instance: aws ec2 cancel-spot-instance-requests "
		       "--region %s --spot-instance-request-ids %s",
		       x->region, request);
		err_clear();
	}
	if (ec2_terminate_instances(x->c, &id, 1)) {
		ui_say(x->o->ui, UI_ERROR, "cannot terminate %s (%s): %s", id, why, err_msg());
		ui_say(x->o->ui, UI_HINT,
		       "it may still be running: aws ec2 terminate-instances --region %s "
		       "--instance-ids %s",
		       x->region, id);
		err_clear();
		return -1;
	}
	ui_say(x->o->ui, UI_INFO, "terminated %s (%s)", id, why);
	return 0;
}

void launch_cancel_requests(struct launch_ctx *x, const struct ec2_instance *v, size_t nr)
{
	struct strvec ids = STRVEC_INIT;
	struct buf list = BUF_INIT;
	size_t i;

	if (!x->persistent)
		return; /* a one-time request ends with its instance */
	for (i = 0; i < nr; i++)
		if (v[i].spot_request)
			strvec_push(&ids, v[i].spot_request);
	if (ids.nr && ec2_cancel_spot_requests(x->c, (const char *const *)ids.v, ids.nr)) {
		for (i = 0; i < ids.nr; i++)
			buf_printf(&list, "%s%s", i ? " " : "", ids.v[i]);
		launch_line_end(x);
		ui_say(x->o->ui, UI_WARNING, "cannot cancel spot requests %s: %s", list.ptr,
		       err_msg());
		ui_say(x->o->ui, UI_HINT,
		       "they may start other instances: aws ec2 cancel-spot-instance-requests "
		       "--region %s --spot-instance-request-ids %s",
		       x->region, list.ptr);
		err_clear();
	}
	buf_release(&list);
	strvec_clear(&ids);
}

int launch_terminate_others(struct launch_ctx *x, const char *why)
{
	const char **ids;
	size_t i;
	int r = 0;

	if (!x->nr_others)
		return 0;
	/* else each would start another instance */
	launch_cancel_requests(x, x->others, x->nr_others);
	ids = xcalloc(x->nr_others, sizeof(*ids));
	for (i = 0; i < x->nr_others; i++)
		ids[i] = x->others[i].id;
	launch_line_end(x);
	if (ec2_terminate_instances(x->c, ids, x->nr_others)) {
		for (i = 0; i < x->nr_others; i++)
			ui_say(x->o->ui, UI_ERROR, "cannot terminate %s (%s): %s", ids[i], why,
			       err_msg());
		ui_say(x->o->ui, UI_HINT, "look for instances tagged git-train:run-id=%s",
		       x->o->run_id);
		err_clear();
		r = -1;
	} else {
		for (i = 0; i < x->nr_others; i++)
			ui_say(x->o->ui, UI_INFO, "terminated %s (%s)", ids[i], why);
	}
	free(ids);
	ec2_instances_free(x->others, x->nr_others);
	x->others = NULL;
	x->nr_others = 0;
	return r;
}

/*
 * The type (its architecture and GPUs), then the image train.image names,
 * or the type's default: the PyTorch DLAMI with NVIDIA GPUs, else AL2023.
 */
static int resolve_ami(struct launch_ctx *x)
{
	int r = aws_checks_instance_type_info(&x->type, x->c, x->o->instance_type);

	if (r) {
		char *e = xstrdup(err_msg());

		err_set("cannot look up instance type %s in %s: %s", x->o->instance_type, x->region,
			e);
		if (r == AWS_CHECKS_NOT_FOUND)
			err_hint("`git train doctor` lists the types offered in %s", x->region);
		free(e);
		return -1;
	}
	if (image_resolve(&x->image, x->c, x->o->ami, &x->type))
		return -1;
	x->ami = xstrdup(x->image.ami);
	return 0;
}

/* The root volume: the image's snapshot and room, or train.volumeSize; never less than the
 * snapshot. */
static int choose_volume(struct launch_ctx *x)
{
	int want = x->o->volume_size_gib;

	if (want > 0 && x->root_gib > 0 && want < x->root_gib) {
		err_set("a root volume of %d GiB is smaller than the snapshot of %s (%d GiB): EC2 "
			"would refuse it",
			want, x->ami, x->root_gib);
		err_hint(
			"give it at least %d GiB: git config train.volumeSize %d (or --volume-size)",
			x->root_gib,
			x->root_gib + (x->image.dlami ? IMAGE_ROOM_GPU_GIB : IMAGE_ROOM_GIB));
		return -1;
	}
	x->volume_gib = want > 0 ? want : image_volume_gib(&x->image, x->root_gib);
	if (x->image.kind != IMAGE_AL2023)
		ui_say(x->o->ui, UI_PROGRESS, "image %s (%s), root volume %d GiB", x->ami,
		       x->image.name, x->volume_gib > 0 ? x->volume_gib : x->root_gib);
	return 0;
}

/* The AMI's root device: RunInstances names it to encrypt its volume. */
static int resolve_root_device(struct launch_ctx *x)
{
	char *code = NULL, *e;

	if (!ec2_image_root_device(&x->root_device, &x->root_gib, &code, x->c, x->ami))
		return 0;
	e = xstrdup(err_msg());
	err_set("cannot look up AMI %s in %s: %s", x->ami, x->region, e);
	if (code && !strcmp(code, "UnauthorizedOperation"))
		err_hint("`git train doctor` checks the permissions git-train needs");
	else if (x->image.kind == IMAGE_ID)
		err_hint("check train.image or train.ami (or --image, --ami): AMIs belong to a "
			 "region");
	free(code);
	free(e);
	return -1;
}

static int has_tag(const struct launch_opts *o, const char *key)
{
	size_t i;

	for (i = 0; i < o->nr_tags; i++)
		if (!strcmp(o->tags[i].key, key))
			return 1;
	return 0;
}

static void add_own_tag(struct launch_ctx *x, const char *key, char *value)
{
	if (has_tag(x->o, key)) { /* the caller's says it already, and a key may not repeat */
		free(value);
		return;
	}
	x->tags[x->nr_tags].key = xstrdup(key);
	x->tags[x->nr_tags].value = value;
	x->nr_tags++;
	x->nr_own_tags++;
}

/*
 * o->tags and ours, for the market about to be tried. The run id too: an
 * instance whose RunInstances failed on the way back is found by it.
 */
static void make_tags(struct launch_ctx *x, int spot)
{
	const struct launch_opts *o = x->o;
	double price = !o->prices ? -1 : spot ? o->prices->spot : o->prices->on_demand;
	size_t i;

	for (i = o->nr_tags; i < o->nr_tags + x->nr_own_tags; i++) {
		free(x->tags[i].key);
		free(x->tags[i].value);
	}
	free(x->tags);
	x->tags = xcalloc(o->nr_tags + 5, sizeof(*x->tags));
	for (i = 0; i < o->nr_tags; i++)
		x->tags[i] = o->tags[i]; /* borrowed */
	x->nr_tags = o->nr_tags;
	x->nr_own_tags = 0;
	add_own_tag(x, "Name", xstrfmt("git-train/%s", o->short_sha));
	add_own_tag(x, "git-train:run-id", xstrdup(o->run_id));
	add_own_tag(x, "git-train:market", xstrdup(spot ? "spot" : "on-demand"));
	add_own_tag(x, "git-train:max-runtime", xstrfmt("%ld", o->max_runtime));
	if (price >= 0)
		add_own_tag(x, "git-train:price", xstrfmt("%.6g", price));
}

static void release_ctx(struct launch_ctx *x)
{
	size_t i;

	for (i = x->o->nr_tags; i < x->o->nr_tags + x->nr_own_tags; i++) {
		free(x->tags[i].key);
		free(x->tags[i].value);
	}
	free(x->tags);
	free(x->ami);
	image_release(&x->image);
	aws_instance_type_release(&x->type);
	free(x->root_device);
	free(x->user_data);
	free(x->capacity_error);
	ec2_instances_free(x->others, x->nr_others);
	strvec_clear(&x->zones);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void copy_instance(struct ec2_instance *to, const struct ec2_instance *from)
{
	size_t i;

	memset(to, 0, sizeof(*to));
	to->id = dup_or_null(from->id);
	to->type = dup_or_null(from->type);
	to->state = dup_or_null(from->state);
	to->az = dup_or_null(from->az);
	to->lifecycle = dup_or_null(from->lifecycle);
	to->launched = from->launched;
	to->state_reason = dup_or_null(from->state_reason);
	to->spot_request = dup_or_null(from->spot_request);
	to->private_ip = dup_or_null(from->private_ip);
	if (from->nr_tags)
		to->tags = xcalloc(from->nr_tags, sizeof(*to->tags));
	for (i = 0; i < from->nr_tags; i++) {
		to->tags[i].key = xstrdup(from->tags[i].key);
		to->tags[i].value = xstrdup(from->tags[i].value);
	}
	to->nr_tags = from->nr_tags;
}

/*
 * Node 0 is ready: the others too, one after the other (they boot
 * meanwhile). On a failure the one that failed is terminated by
 * launch_wait_ready(), and the rest here.
 */
static int wait_others_ready(struct launch_ctx *x, struct ec2_instance *node0)
{
	size_t i;
	int r = 0;

	for (i = 0; !r && i < x->nr_others; i++)
		r = launch_wait_ready(x, &x->others[i]);
	if (!r)
		return 0;
	{
		char *e = xstrdup(err_msg());
		int t = launch_terminate(x, node0->id, node0->spot_request, "another node failed");

		if (launch_terminate_others(x, "another node failed") || t) {
			err_set("%s; and some of the run's instances may still be running", e);
			r = r == RC_CANCELLED ? RC_ERROR : r;
		} else {
			err_set("%s", e);
		}
		free(e);
	}
	return r;
}

/* The result of a launch and its price, once the instance is ready. */
static void fill_result(struct launch_result *out, struct launch_ctx *x, struct ec2_instance *inst,
			int spot)
{
	const struct pricing_quote *p = x->o->prices;

	/* a one-time request ends with its instance: only a persistent one is the run's */
	int keep_requests = spot && x->persistent;

	out->instance = *inst;
	memset(inst, 0, sizeof(*inst));
	if (!keep_requests) {
		free(out->instance.spot_request);
		out->instance.spot_request = NULL;
	}
	out->spot = spot;
	out->price = !p ? -1 : spot ? p->spot : p->on_demand;
	out->ami = x->ami;
	x->ami = NULL;
	out->python = x->image.python;
	out->framework = x->image.framework;
	out->gpus = x->type.gpus;
	out->volume_gib = x->volume_gib;
	if (x->count > 1) {
		size_t i;

		out->nr_nodes = 1 + x->nr_others;
		out->nodes = xcalloc(out->nr_nodes, sizeof(*out->nodes));
		copy_instance(&out->nodes[0], &out->instance);
		for (i = 0; i < x->nr_others; i++) {
			out->nodes[i + 1] = x->others[i];
			memset(&x->others[i], 0, sizeof(x->others[i]));
			if (!keep_requests) {
				free(out->nodes[i + 1].spot_request);
				out->nodes[i + 1].spot_request = NULL;
			}
		}
		free(x->others);
		x->others = NULL;
		x->nr_others = 0;
	}
}

static int launch_market(struct launch_ctx *x, struct ec2_instance *inst, int spot)
{
	int r;

	make_tags(x, spot);
	r = spot ? launch_spot(x, inst) : launch_try_zones(x, inst, 0);
	if (r == 1) {
		err_set("no on-demand capacity for %s in any zone of %s: %s", x->o->instance_type,
			x->region, x->capacity_error ? x->capacity_error : "no zone left to try");
		err_hint("try again later, or another instance type or region");
		r = RC_ERROR;
	}
	return r;
}

int launch_instance(struct launch_result *out, struct aws_client *c, const struct launch_opts *o)
{
	struct launch_ctx x;
	struct ec2_instance inst;
	int spot = !o->on_demand, r;

	memset(out, 0, sizeof(*out));
	memset(&inst, 0, sizeof(inst));
	memset(&x, 0, sizeof(x));
	x.c = c;
	x.o = o;
	x.region = c->settings.region ? c->settings.region : "us-east-1";
	x.count = o->count > 1 ? o->count : 1;
	/* with several instances, one request each (launch.h) */
	x.persistent = o->persistent;
	if (!o->run_id || !o->short_sha || !o->instance_type)
		return err_set("cannot launch: no run id, commit or instance type");
	if (launch_cancelled(&x))
		return RC_CANCELLED;
	r = resolve_ami(&x);
	if (!r && !launch_cancelled(&x))
		r = resolve_root_device(&x);
	if (!r)
		r = choose_volume(&x);
	if (r)
		goto out;
	x.user_data = launch_user_data(o->max_runtime, o->idle_timeout);
	/* a run moved elsewhere: its group must forget the old zone first */
	if (x.count > 1 && o->placement_group && o->nr_replaced)
		launch_renew_placement_group(&x, o->replaced, o->nr_replaced);
	r = launch_cancelled(&x) ? RC_CANCELLED : launch_market(&x, &inst, spot);
	if (r == RC_NO_SPOT) {
		r = launch_fallback(&x);
		spot = 0;
		if (!r)
			r = launch_market(&x, &inst, 0);
	}
	if (r)
		goto out;
	r = launch_wait_ready(&x, &inst);
	if (r) {
		launch_terminate_others(&x,
					r == RC_CANCELLED ? "interrupted" : "another node failed");
	} else {
		r = wait_others_ready(&x, &inst);
	}
	if (!r)
		fill_result(out, &x, &inst, spot);
out:
	launch_line_end(&x);
	ec2_instance_release(&inst);
	release_ctx(&x);
	return r;
}

void launch_result_release(struct launch_result *r)
{
	ec2_instance_release(&r->instance);
	ec2_instances_free(r->nodes, r->nr_nodes);
	free(r->ami);
	memset(r, 0, sizeof(*r));
}
