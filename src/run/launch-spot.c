/*
 * launch: RunInstances zone by zone, the spot rounds and the fallback
 * policy. No capacity is an answer, not a state: RunInstances fails at
 * once, nothing is left waiting, so a round can simply be tried again.
 */
#include "run/launch-internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util/time.h"

/* A persistent request the failed launch may have left, with or without an instance. */
static void sweep_failed_requests(struct launch_ctx *x)
{
	struct ec2_tag f[] = {
		{ (char *)"tag:git-train:run-id", (char *)x->o->run_id },
		{ (char *)"state", (char *)"open" },
		{ (char *)"state", (char *)"active" },
		{ (char *)"state", (char *)"disabled" },
	};
	struct ec2_spot_request *v = NULL;
	struct strvec ids = STRVEC_INIT;
	size_t n = 0, i;

	int r = ec2_describe_spot_requests(&v, &n, x->c, NULL, 0, f, ARRAY_SIZE(f));

	for (i = 0; !r && i < n; i++)
		strvec_push(&ids, v[i].id);
	if (!r)
		r = ec2_cancel_spot_requests(x->c, (const char *const *)ids.v, ids.nr);
	if (r) {
		ui_say(x->o->ui, UI_WARNING, "cannot cancel the failed launch's spot requests: %s",
		       err_msg());
		ui_say(x->o->ui, UI_HINT, "look for spot requests tagged git-train:run-id=%s",
		       x->o->run_id);
		err_clear();
	}
	strvec_clear(&ids);
	ec2_spot_requests_free(v, n);
}

static void sweep_failed_launch(struct launch_ctx *x)
{
	struct ec2_tag by_run = { (char *)"tag:git-train:run-id", (char *)x->o->run_id };
	struct ec2_instance *v = NULL;
	size_t n = 0, i;

	if (ec2_describe_instances(&v, &n, x->c, NULL, 0, &by_run, 1)) {
		ui_say(x->o->ui, UI_WARNING,
		       "cannot check whether the failed launch started an instance: %s", err_msg());
		ui_say(x->o->ui, UI_HINT, "look for instances tagged git-train:run-id=%s",
		       x->o->run_id);
		err_clear();
		return;
	}
	for (i = 0; i < n; i++)
		if (v[i].state && strcmp(v[i].state, "terminated") &&
		    strcmp(v[i].state, "shutting-down"))
			launch_terminate(x, v[i].id, v[i].spot_request, "its launch failed");
	ec2_instances_free(v, n);
	if (x->persistent)
		sweep_failed_requests(x);
}

static void quota_error(struct launch_ctx *x, int spot, const char *aws)
{
	const char *code, *name = launch_quota_name(&code, x->o->instance_type, spot);

	err_set("cannot launch %s %s: %s", spot ? "spot" : "on-demand", x->o->instance_type, aws);
	err_hint("the limit is the EC2 quota \"%s\" (vCPUs) in %s", name, x->region);
	if (code)
		err_hint("ask for more in the Service Quotas console, or: aws service-quotas "
			 "request-service-quota-increase --region %s --service-code ec2 "
			 "--quota-code %s --desired-value <vCPUs>",
			 x->region, code);
	else
		err_hint("ask for more in the Service Quotas console; its quota code: aws "
			 "service-quotas list-service-quotas --region %s --service-code ec2 "
			 "--query \"Quotas[?QuotaName=='%s'].QuotaCode\"",
			 x->region, name);
	if (spot)
		err_hint("on-demand instances have a quota of their own: --on-demand tries it");
}

static void price_error(struct launch_ctx *x, const char *aws)
{
	const struct pricing_quote *p = x->o->prices;
	struct buf spot = BUF_INIT, on_demand = BUF_INIT;

	if (p && p->spot >= 0)
		pricing_format(&spot, p->spot);
	if (p && p->on_demand >= 0)
		pricing_format(&on_demand, p->on_demand);
	err_set("cannot launch spot %s: %s", x->o->instance_type, aws);
	err_hint("the spot price of %s is %s, above what a spot launch may pay (at most the "
		 "on-demand price, %s)",
		 x->o->instance_type, spot.len ? spot.ptr : "unknown",
		 on_demand.len ? on_demand.ptr : "unknown");
	err_hint("--on-demand launches at the on-demand price");
	buf_release(&spot);
	buf_release(&on_demand);
}

/* After a failed RunInstances: 1 to try another zone, else -1 with err_set. */
static int run_error(struct launch_ctx *x, int spot, const char *zone, const char *code)
{
	char *aws = xstrdup(err_msg());
	const char *market = spot ? "spot" : "on-demand";
	int r = -1;

	switch (code ? ec2_error_class(code) : EC2_ERR_TRANSIENT) {
	case EC2_ERR_CAPACITY:
		free(x->capacity_error);
		x->capacity_error = aws;
		aws = NULL;
		err_clear();
		r = 1;
		break;
	case EC2_ERR_QUOTA:
		quota_error(x, spot, aws);
		break;
	case EC2_ERR_PRICE:
		price_error(x, aws);
		break;
	case EC2_ERR_TRANSIENT:
		/* retried with the same token until the budget ran out: it may have started one */
		sweep_failed_launch(x);
		err_set("cannot launch %s %s%s%s: %s", market, x->o->instance_type,
			zone ? " in " : "", zone ? zone : "", aws);
		err_hint("EC2 or the connection to it failed; try again in a moment");
		break;
	default:
		err_set("cannot launch %s %s%s%s: %s", market, x->o->instance_type,
			zone ? " in " : "", zone ? zone : "", aws);
		if (code && !strcmp(code, "UnauthorizedOperation"))
			err_hint("`git train doctor` checks the permissions git-train needs");
	}
	free(aws);
	return r;
}

static int cmp_instance_id(const void *a, const void *b)
{
	return strcmp(((const struct ec2_instance *)a)->id, ((const struct ec2_instance *)b)->id);
}

/*
 * A cluster placement group lives in the zone of its first instance, and
 * keeps it while any instance of it is left (shutting-down included): after
 * a zone gave too few, the next zone needs an empty group. Once those
 * instances are terminated, the group is deleted and created again, as
 * cluster_create() made it (same name and tags).
 */
void launch_renew_placement_group(struct launch_ctx *x, const char *const *ids, size_t nr)
{
	const char *name = x->o->placement_group;
	struct ec2_group *v = NULL;
	struct ec2_tag f = { (char *)"group-name", (char *)name };
	size_t n = 0;
	int r;

	ec2_wait_terminated(x->c, ids, nr, 300, x->o->cancel); /* 5 minutes at most */
	if (launch_cancelled(x))
		return;
	r = ec2_describe_placement_groups(&v, &n, x->c, &f, 1);
	if (!r)
		r = ec2_delete_placement_group(NULL, x->c, name);
	if (!r)
		r = ec2_create_placement_group(NULL, x->c, name, n ? v[0].tags : NULL,
					       n ? v[0].nr_tags : 0);
	if (r) {
		/* the next zone's RunInstances says what is wrong, if anything is */
		ui_say(x->o->ui, UI_WARNING, "cannot renew placement group %s: %s", name,
		       err_msg());
		err_clear();
	}
	ec2_groups_free(v, n);
}

/*
 * A zone gave n of count: terminates them, says so, and keeps it as the
 * capacity error that the messages give.
 */
static void too_few(struct launch_ctx *x, struct ec2_instance *v, size_t n, int spot,
		    const char *zone)
{
	const char *market = spot ? "spot" : "on-demand";
	const char **ids = xcalloc(n, sizeof(*ids));
	size_t i;

	for (i = 0; i < n; i++)
		ids[i] = v[i].id;
	free(x->capacity_error);
	x->capacity_error = xstrfmt("got %zu of %d %s %s in %s", n, x->count, market,
				    x->o->instance_type, zone ? zone : x->region);
	launch_line_end(x);
	/* persistent: each has its request, which would start another */
	launch_cancel_requests(x, v, n);
	if (ec2_terminate_instances(x->c, ids, n)) {
		ui_say(x->o->ui, UI_ERROR, "%s: cannot terminate them: %s", x->capacity_error,
		       err_msg());
		ui_say(x->o->ui, UI_HINT, "look for instances tagged git-train:run-id=%s",
		       x->o->run_id);
		err_clear();
	} else {
		ui_say(x->o->ui, UI_INFO, "%s: terminated %s%s", x->capacity_error,
		       n == 1 ? "it" : "them", x->last_zone ? "" : ", trying another zone");
	}
	if (x->o->placement_group)
		launch_renew_placement_group(x, ids, n);
	free(ids);
}

int launch_run(struct launch_ctx *x, struct ec2_instance *out, int spot, const char *zone)
{
	const struct launch_opts *o = x->o;
	struct ec2_launch l;
	struct ec2_instance *v = NULL;
	size_t n = 0, i;
	char *code = NULL, *token;
	int r;

	if (launch_cancelled(x))
		return RC_CANCELLED;
	token = launch_client_token(o->token_id ? o->token_id : o->run_id, spot,
				    ++x->attempts[!!spot]);
	memset(&l, 0, sizeof(l));
	l.instance_type = o->instance_type;
	l.ami = x->ami;
	l.spot = spot;
	l.az = zone;
	l.subnet = o->subnet;
	l.security_group = o->security_group;
	l.instance_profile = o->instance_profile;
	l.user_data = x->user_data;
	l.client_token = token;
	l.root_device = x->root_device;
	l.root_gib = x->root_gib;
	l.volume_size_gib = x->volume_gib;
	l.tags = x->tags;
	l.nr_tags = x->nr_tags;
	l.persistent = spot && x->persistent;
	if (l.persistent && o->max_runtime > 0)
		l.valid_until = time(NULL) + o->max_runtime;
	l.count = x->count;
	if (x->count > 1) {
		l.placement_group = o->placement_group;
		l.extra_security_group = o->cluster_security_group;
	}
	r = ec2_run_instances(&v, &n, &code, x->c, &l);
	if (r) {
		r = run_error(x, spot, zone, code);
	} else if (n < (size_t)x->count) {
		too_few(x, v, n, spot, zone);
		r = 1;
	} else {
		/* node ranks by instance id: any fixed order does, this one is stable */
		qsort(v, n, sizeof(*v), cmp_instance_id);
		*out = v[0];
		memset(&v[0], 0, sizeof(v[0]));
		ec2_instances_free(x->others, x->nr_others);
		x->others = n > 1 ? xcalloc(n - 1, sizeof(*x->others)) : NULL;
		for (i = 1; i < n; i++) {
			x->others[i - 1] = v[i];
			memset(&v[i], 0, sizeof(v[i]));
		}
		x->nr_others = n - 1;
	}
	ec2_instances_free(v, n);
	free(code);
	free(token);
	return r;
}

/*
 * The subnet's zone, else every available zone with the cheapest spot
 * price's first, and the zone to avoid (a relaunch elsewhere) last.
 */
static void load_zones(struct launch_ctx *x)
{
	const char *first = x->o->prices ? x->o->prices->spot_az : NULL;
	const char *last = x->o->avoid_az;
	struct strvec all = STRVEC_INIT;
	size_t i;

	if (first && last && !strcmp(first, last))
		first = NULL;

	x->zones_loaded = 1;
	if (x->o->subnet)
		return;
	if (ec2_availability_zones(&all, x->c)) {
		err_clear(); /* EC2 picks a zone: one try per round instead of several */
		return;
	}
	for (i = 0; first && i < all.nr; i++)
		if (!strcmp(all.v[i], first))
			strvec_push(&x->zones, first);
	for (i = 0; i < all.nr; i++)
		if ((!first || strcmp(all.v[i], first)) && (!last || strcmp(all.v[i], last)))
			strvec_push(&x->zones, all.v[i]);
	for (i = 0; last && i < all.nr; i++)
		if (!strcmp(all.v[i], last))
			strvec_push(&x->zones, last);
	strvec_clear(&all);
}

int launch_try_zones(struct launch_ctx *x, struct ec2_instance *out, int spot)
{
	size_t i, n;
	int r = 1;

	if (!x->zones_loaded)
		load_zones(x);
	n = x->zones.nr ? x->zones.nr : 1;
	for (i = 0; i < n && r == 1; i++) {
		x->last_zone = i == n - 1;
		r = launch_run(x, out, spot, x->zones.nr ? x->zones.v[i] : NULL);
	}
	return r;
}

/* The wait after a round, with its line: redrawn each second on a TTY, once otherwise. */
static int wait_round(struct launch_ctx *x, int round, double start, long delay)
{
	double until = now_monotonic() + delay, now;
	struct buf text = BUF_INIT;
	int drawn = 0, r = 0;

	while (!r && (now = now_monotonic()) < until) {
		buf_reset(&text);
		launch_spot_wait_text(&text, x->o->instance_type, x->region, round,
				      (long)(now - start), x->o->spot_timeout,
				      (long)(until - now + 0.5));
		launch_line(x, text.ptr, !drawn);
		drawn = 1;
		r = launch_sleep(x, until - now < 1 ? until - now : 1);
	}
	buf_release(&text);
	return r;
}

int launch_spot(struct launch_ctx *x, struct ec2_instance *out)
{
	long timeout = x->o->spot_timeout > 0 ? x->o->spot_timeout : 0, remaining;
	double start = now_monotonic();
	int round, r;

	for (round = 1;; round++) {
		r = launch_try_zones(x, out, 1);
		x->spot_seconds = now_monotonic() - start;
		if (r != 1)
			break;
		x->spot_rounds = round;
		remaining = timeout - (long)x->spot_seconds;
		if (remaining <= 0) {
			r = RC_NO_SPOT;
			break;
		}
		r = wait_round(x, round, start, launch_spot_delay(round, remaining));
		if (r)
			break;
	}
	launch_line_end(x);
	return r;
}

static void no_spot_reason(struct buf *out, struct launch_ctx *x)
{
	if (x->count > 1)
		buf_printf(out, "no spot capacity for %d %s in one zone", x->count,
			   x->o->instance_type);
	else
		buf_printf(out, "no spot capacity for %s", x->o->instance_type);
	buf_printf(out, " in %s after %d attempt%s in ", x->region, x->spot_rounds,
		   x->spot_rounds == 1 ? "" : "s");
	time_format_elapsed(out, (long)x->spot_seconds);
	if (x->capacity_error)
		buf_printf(out, " (%s)", x->capacity_error);
}

int launch_fallback(struct launch_ctx *x)
{
	const struct launch_opts *o = x->o;
	struct buf text = BUF_INIT, why = BUF_INIT;
	int r = RC_NO_SPOT;

	launch_fallback_text(&text, o->instance_type, o->prices);
	no_spot_reason(&why, x);
	if (o->fail_if_no_spot) {
		err_set("%s", why.ptr);
		err_hint("%s", text.ptr);
		err_hint("--fail-if-no-spot (train.failIfNoSpot) is set: no fallback to on-demand");
		err_hint("to wait longer for spot capacity: --spot-timeout=<duration>");
	} else if (o->yes) {
		ui_say(o->ui, UI_WARNING, "%s", text.ptr);
		r = 0;
	} else if (ui_interactive(o->ui)) {
		ui_say(o->ui, UI_WARNING, "%s", text.ptr);
		r = ui_ask(o->ui, "launch on-demand instead? [y/N] ");
		if (r == 1) {
			r = 0;
		} else if (r == 0 || r == UI_CANNOT_ASK) {
			err_set("%s, and on-demand was declined", why.ptr);
			r = RC_NO_SPOT;
		}
	} else {
		err_set("%s", text.ptr);
		err_hint("%s", why.ptr);
		err_hint("to launch on-demand when spot has no capacity: --yes, or "
			 "git config train.onDemandFallback true");
		err_hint("to never fall back to on-demand: --fail-if-no-spot");
	}
	if (!r) {
		buf_reset(&text);
		launch_on_demand_text(&text, o->instance_type, o->prices);
		ui_say(o->ui, UI_WARNING, "%s", text.ptr);
	}
	buf_release(&text);
	buf_release(&why);
	return r;
}
