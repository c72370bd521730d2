/*
 * git train stop <run>...: terminates the runs' instances (one
 * TerminateInstances call) and records each run: as stopped, with its log
 * and how long it ran, or with its real result when it had finished
 * already. Only instances tagged for this repository are ever touched.
 * A run's persistent spot requests (run.json's, every node's of a run on
 * several instances, its instances', and any tagged with its run id) are
 * cancelled first: terminating an instance of a live one would make EC2
 * start another. A run whose instance is
 * stopped (interrupted, waiting for capacity) is stopped the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/builtin.h"
#include "cmd/common.h"
#include "cmd/parse-options.h"
#include "cmd/ui.h"
#include "run/cluster.h"
#include "run/remote-runs.h"
#include "run/run.h"
#include "util/util.h"

/* Seconds stop waits for a run's instances to be gone before deleting its groups. */
#define STOP_CLUSTER_TIMEOUT 300

static const char *const stop_usage[] = {
	"git train stop <run>...",
	NULL,
};

/* The named runs, each once. NULL entries never: -1 on the first unknown one. */
static int resolve(struct remote_entry ***out, size_t *out_nr, struct remote_runs *l,
		   struct remote_runs_ctx *ctx, const char **names, int nr)
{
	int i;
	size_t j;

	*out = xcalloc((size_t)nr + 1, sizeof(**out));
	*out_nr = 0;
	for (i = 0; i < nr; i++) {
		struct remote_entry *e = remote_runs_find(l, ctx, names[i]);

		if (!e)
			return -1;
		for (j = 0; j < *out_nr && (*out)[j] != e; j++)
			;
		if (j == *out_nr)
			(*out)[(*out_nr)++] = e;
	}
	return 0;
}

static void add_request(struct strvec *ids, const char *id)
{
	size_t i;

	if (!id)
		return;
	for (i = 0; i < ids->nr; i++)
		if (!strcmp(ids->v[i], id))
			return;
	strvec_push(ids, id);
}

/* Whether inst is tagged with the id of one of the runs. */
static int of_runs(const struct ec2_instance *inst, struct remote_entry **v, size_t nr)
{
	const char *id = ec2_instance_tag(inst, REMOTE_TAG_RUN_ID);
	size_t i;

	for (i = 0; id && i < nr; i++)
		if (!strcmp(v[i]->run.run_id, id))
			return 1;
	return 0;
}

/*
 * The runs' spot requests that may still start an instance: those run.json
 * names (every node's of a run on several instances), those of the runs'
 * instances, and those tagged with a run's id (open, active or disabled),
 * cancelled in one call. 0, or -1 with err_set.
 */
static int cancel_requests(struct remote_runs_ctx *ctx, const struct remote_runs *l,
			   struct remote_entry **v, size_t nr)
{
	struct ec2_tag *f = xcalloc(nr + 3, sizeof(*f));
	struct ec2_spot_request *reqs = NULL;
	struct strvec ids = STRVEC_INIT;
	size_t i, n = 0, nr_reqs = 0;
	int r;

	for (i = 0; i < nr; i++) {
		if (remote_runs_complete(ctx, v[i])) {
			/* run.json only adds what the tags may miss */
			msg_warning("cannot read run.json of %s: %s", v[i]->run.run_id, err_msg());
			err_clear();
		}
		remote_run_spot_requests(&ids, &v[i]->run);
		if (v[i]->instance)
			add_request(&ids, v[i]->instance->spot_request);
		f[n].key = (char *)"tag:" REMOTE_TAG_RUN_ID;
		f[n++].value = v[i]->run.run_id;
	}
	for (i = 0; i < l->nr_instances; i++)
		if (remote_runs_instance_alive(&l->instances[i]) &&
		    of_runs(&l->instances[i], v, nr))
			add_request(&ids, l->instances[i].spot_request);
	f[n].key = (char *)"state";
	f[n++].value = (char *)"open";
	f[n].key = (char *)"state";
	f[n++].value = (char *)"active";
	f[n].key = (char *)"state";
	f[n++].value = (char *)"disabled";
	r = ec2_describe_spot_requests(&reqs, &nr_reqs, &ctx->client, NULL, 0, f, n);
	for (i = 0; !r && i < nr_reqs; i++)
		add_request(&ids, reqs[i].id);
	if (!r && ids.nr)
		r = ec2_cancel_spot_requests(&ctx->client, (const char *const *)ids.v, ids.nr);
	if (r) {
		char *why = xstrdup(err_msg());

		err_set("cannot cancel the spot requests of the runs: %s", why);
		err_hint("nothing was terminated: terminating an instance of a live persistent "
			 "request would start another one");
		free(why);
	}
	ec2_spot_requests_free(reqs, nr_reqs);
	strvec_clear(&ids);
	free(f);
	return r;
}

/* Every live instance of the runs: one per run, or one per node (issue 14). */
static int terminate(struct remote_runs_ctx *ctx, const struct remote_runs *l,
		     struct remote_entry **v, size_t nr)
{
	const char **ids = xcalloc(l->nr_instances + nr + 1, sizeof(*ids));
	size_t i, n = 0;
	int r = 0;

	for (i = 0; i < nr; i++)
		if (v[i]->instance && remote_runs_instance_alive(v[i]->instance))
			ids[n++] = v[i]->instance->id;
	for (i = 0; i < l->nr_instances; i++) {
		const struct ec2_instance *inst = &l->instances[i];
		size_t j;

		if (!remote_runs_instance_alive(inst) || !of_runs(inst, v, nr))
			continue;
		for (j = 0; j < n && strcmp(ids[j], inst->id); j++)
			;
		if (j == n)
			ids[n++] = inst->id;
	}
	if (n)
		r = ec2_terminate_instances(&ctx->client, ids, n);
	free(ids);
	return r;
}

/*
 * A run on several instances: its placement group and security group go
 * once its instances are gone (cluster.h waits for them). A failure is a
 * warning: gc deletes them later.
 */
static void delete_clusters(struct remote_runs_ctx *ctx, struct remote_entry **v, size_t nr)
{
	struct cmd_ui ui;
	size_t i;

	cmd_ui_init(&ui, 0, &cmd_interrupted);
	for (i = 0; i < nr; i++) {
		if (v[i]->run.nodes <= 1 && !v[i]->run.placement_group)
			continue;
		if (cluster_delete(&ctx->client, v[i]->run.run_id, &ui.ui, STOP_CLUSTER_TIMEOUT)) {
			msg_warning("run %s: %s", v[i]->run.run_id, err_msg());
			msg_hint("'git train gc' deletes them once the instances are gone");
			err_clear();
		}
	}
	cmd_ui_release(&ui);
}

/* The run's note: its result if it has one, else "stopped" after so long. */
static int record(struct remote_runs_ctx *ctx, struct remote_entry *e, time_t now)
{
	struct run_record rec;
	int r = remote_runs_finalize(ctx, e);

	if (r < 0) {
		/* a runner killed while it uploaded its result: the run was stopped */
		msg_warning("run %s: %s: recording it as stopped", e->run.run_id, err_msg());
		err_clear();
		r = 1;
	}
	if (r == 0 || remote_runs_complete(ctx, e))
		return r == 0 ? 0 : -1;
	remote_run_describe(&rec, &e->run, 0,
			    e->run.launched ? difftime(now, e->run.launched) : -1);
	rec.status = xstrdup("stopped");
	r = run_note_write(ctx->repo, &rec, e->run.commit);
	if (r >= 0) {
		run_record_release(&e->note);
		e->note = rec;
		e->recorded = 1;
		return 0;
	}
	run_record_release(&rec);
	return -1;
}

static void say(const struct remote_entry *e, int was_alive)
{
	const char *status = e->recorded && e->note.status ? e->note.status : "no result";
	struct buf what = BUF_INIT;
	size_t i;

	if (e->run.nodes > 1 && e->run.node_instances.nr) {
		buf_puts(&what, "instances ");
		for (i = 0; i < e->run.node_instances.nr; i++)
			buf_printf(&what, "%s%s", i ? ", " : "", e->run.node_instances.v[i]);
	} else {
		buf_printf(&what, "instance %s", e->run.instance_id);
	}
	if (was_alive && !strcmp(status, "stopped"))
		printf("stopped %s: %s terminated\n", e->run.run_id, buf_cstr(&what));
	else if (was_alive)
		printf("%s had already finished (%s): %s terminated\n", e->run.run_id, status,
		       buf_cstr(&what));
	else
		printf("%s had already ended (%s)\n", e->run.run_id, status);
	buf_release(&what);
}

static int stop(const char **names, int nr)
{
	struct remote_runs_ctx ctx;
	struct remote_runs runs = { 0 };
	struct remote_entry **v = NULL;
	time_t now = time(NULL);
	size_t nr_v = 0, i;
	int ret = EXIT_FATAL;

	if (remote_runs_ctx_init(&ctx))
		goto out;
	cmd_warn_metrics_skipped(&ctx.metrics_skipped);
	ret = EXIT_FAILED;
	if (remote_runs_load(&runs, &ctx, 1) || resolve(&v, &nr_v, &runs, &ctx, names, nr) ||
	    cancel_requests(&ctx, &runs, v, nr_v) || terminate(&ctx, &runs, v, nr_v))
		goto out;
	ret = EXIT_OK;
	for (i = 0; i < nr_v; i++) {
		int alive = v[i]->instance && remote_runs_instance_alive(v[i]->instance);

		if (!v[i]->recorded &&
		    (alive ? record(&ctx, v[i], now) : remote_runs_finalize(&ctx, v[i])) < 0) {
			msg_error("cannot record run %s: %s", v[i]->run.run_id, err_msg());
			err_clear();
			ret = EXIT_FAILED;
			continue;
		}
		say(v[i], alive);
	}
	delete_clusters(&ctx, v, nr_v);
out:
	if (ret != EXIT_OK)
		err_report();
	free(v);
	remote_runs_release(&runs);
	remote_runs_ctx_release(&ctx);
	return ret;
}

int cmd_stop(int argc, const char **argv)
{
	int ret = EXIT_USAGE;
	struct parsed_args pa = { 0 };
	const struct option opts[] = {
		OPT_END(),
	};

	if (parse_options(&pa, argc, argv, opts, stop_usage) != PARSE_OPT_OK)
		goto out;
	if (!pa.nr_args || pa.dashdash) {
		msg_error("which runs? name them ('git train status' lists them)");
		parse_options_usage(stderr, stop_usage, opts);
		goto out;
	}
	ret = stop(pa.args, pa.nr_args);
out:
	parse_options_release(&pa);
	return ret;
}
