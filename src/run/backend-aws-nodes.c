/*
 * backend-aws-nodes: what a run on several instances (issue 14) adds to a
 * run on one: the placement group and security group created before the
 * launch and deleted once the instances are gone (run/cluster.h), the
 * launch's instances by node rank in run.json, and the end of the log of
 * the node that made the run fail.
 */
#include "run/backend-aws-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "run/layout.h"
#include "services/s3-objects.h"
#include "util/time.h"

/* How long a failed run waits for another node's result, in seconds. */
#define NODE_RESULT_WAIT 15
/* Lines of a failed node's log shown when the run ends. */
#define FAILED_NODE_TAIL_LINES 30
/*
 * How long the end of a run waits for its instances to shut themselves
 * down (node R > 0 stops once node 0's result is there) before it
 * terminates them, in seconds.
 */
#define END_WAIT 120

int backend_aws_nodes(const struct aws_run *x)
{
	return x->o->nodes > 1 ? x->o->nodes : 1;
}

char *backend_aws_instance_list(const struct aws_run *x, const char *sep)
{
	const struct remote_run *r = &x->remote;
	struct buf b = BUF_INIT;
	size_t i;

	if (r->nodes <= 1 || !r->node_instances.nr)
		return xstrdup(r->instance_id ? r->instance_id : "");
	for (i = 0; i < r->node_instances.nr; i++)
		buf_printf(&b, "%s%s", i ? sep : "", r->node_instances.v[i]);
	return buf_detach(&b);
}

int backend_aws_cluster_create(struct aws_run *x)
{
	if (backend_aws_nodes(x) <= 1)
		return 0;
	if (cluster_create(&x->cluster, &x->client, x->remote.run_id, x->o->subnet, x->tags,
			   x->nr_tags))
		return RC_ERROR;
	x->have_cluster = 1;
	x->remote.placement_group = xstrdup(x->cluster.placement_group);
	x->remote.cluster_security_group = xstrdup(x->cluster.security_group);
	ui_say(x->ui, UI_PROGRESS, "placement group %s and security group %s created for %d nodes",
	       x->cluster.placement_group, x->cluster.security_group, backend_aws_nodes(x));
	return 0;
}

void backend_aws_cluster_delete(struct aws_run *x, long timeout)
{
	struct err_saved saved;

	if (!x->have_cluster)
		return;
	/* the run's own error, and its hints, are what the user is told */
	err_save(&saved);
	if (cluster_delete(&x->client, x->remote.run_id, x->ui, timeout)) {
		ui_say(x->ui, UI_WARNING, "%s", err_msg());
		ui_say(x->ui, UI_HINT, "'git train gc' deletes them once the instances are gone");
	} else {
		x->have_cluster = 0;
		ui_say(x->ui, UI_PROGRESS, "deleted placement group and security group %s",
		       x->cluster.placement_group);
	}
	err_restore(&saved);
}

int backend_aws_nodes_record(struct aws_run *x)
{
	const struct launch_result *l = &x->launched;
	struct remote_run *r = &x->remote;
	int n = backend_aws_nodes(x);
	size_t i;

	if (n <= 1)
		return RC_OK;
	strvec_clear(&r->node_instances);
	strvec_clear(&r->node_spot_requests);
	for (i = 0; i < l->nr_nodes; i++)
		if (l->nodes[i].id)
			strvec_push(&r->node_instances, l->nodes[i].id);
	/* each node's persistent request, by rank: cancelled before its instance goes */
	for (i = 0; i < l->nr_nodes && r->spot_request; i++)
		strvec_push(&r->node_spot_requests,
			    l->nodes[i].spot_request ? l->nodes[i].spot_request : "");
	/* whatever happens next, every one of them is terminated with the run */
	r->nodes = (int)r->node_instances.nr;
	if (l->nr_nodes != (size_t)n || r->node_instances.nr != (size_t)n) {
		err_set("the launch gave %zu instances, not the %d of the run", l->nr_nodes, n);
		return RC_ERROR;
	}
	if (!l->nodes[0].private_ip || !*l->nodes[0].private_ip) {
		err_set("instance %s (node 0) has no private address for the others to reach it",
			l->nodes[0].id);
		return RC_ERROR;
	}
	return RC_OK;
}

/* The last lines of text into out. */
static void tail_lines(struct buf *out, const char *text, size_t len, int lines)
{
	size_t start = len;
	int seen = 0;

	if (start && text[start - 1] == '\n')
		start--;
	while (start > 0 && seen < lines) {
		start--;
		if (text[start] == '\n' && ++seen == lines) {
			start++;
			break;
		}
	}
	buf_add(out, text + start, len - start);
	if (out->len && out->ptr[out->len - 1] != '\n')
		buf_putc(out, '\n');
}

/*
 * Node rank's result, when it has one that says it failed: node 0's
 * failure may have been another node's first (a peer gone ends the others'
 * collectives), before node 0's runner saw that node's result.
 */
static int node_failed(struct aws_run *x, int rank)
{
	struct buf body = BUF_INIT;
	struct run_record rec;
	char *key = remote_run_node_key(x->remote.run_prefix, rank, LAYOUT_RESULT);
	int failed = -1; /* no result yet */

	run_record_init(&rec);
	if (!s3_get_object(&body, &x->client, x->remote.bucket, key, 0, NULL, NULL) &&
	    !layout_result_parse(&rec, buf_cstr(&body), body.len, key))
		failed = rec.status && !strcmp(rec.status, "failed");
	err_clear();
	run_record_release(&rec);
	buf_release(&body);
	free(key);
	return failed;
}

static void show_node_log(struct aws_run *x, int fd, long rank, const char *how)
{
	struct buf log = BUF_INIT, tail = BUF_INIT;
	char *key;

	key = remote_run_node_key(x->remote.run_prefix, (int)rank, LAYOUT_LOG);
	ui_say(x->ui, UI_ERROR, "node %ld of %d %s (instance %s); the end of its log:", rank,
	       x->remote.nodes, how,
	       (size_t)rank < x->remote.node_instances.nr ? x->remote.node_instances.v[rank]
							  : "unknown");
	if (s3_get_object(&log, &x->client, x->remote.bucket, key, 0, NULL, NULL)) {
		ui_say(x->ui, UI_WARNING, "cannot read node %ld's log: %s", rank, err_msg());
		err_clear();
	} else {
		tail_lines(&tail, log.ptr ? log.ptr : "", log.len, FAILED_NODE_TAIL_LINES);
		if (write_all(fd, tail.ptr ? tail.ptr : "", tail.len))
			ui_say(x->ui, UI_WARNING, "cannot write the log: %s", strerror(errno));
	}
	ui_say(x->ui, UI_HINT, "all of it: git train logs %s --node %ld", x->remote.run_id, rank);
	buf_release(&tail);
	buf_release(&log);
	free(key);
}

void backend_aws_show_failed_node(struct aws_run *x, int fd)
{
	const char *v = run_record_extra(&x->result, "failed_node");
	char *end;
	long rank;
	int r;

	if (v) {
		rank = strtol(v, &end, 10);
		if (!*end && rank >= 1 && rank < x->remote.nodes)
			show_node_log(x, fd, rank, "failed");
		return;
	}
	if (x->remote.nodes <= 1 || !x->result.status || strcmp(x->result.status, "failed"))
		return;
	/* the others end with node 0: their results come within seconds */
	for (r = 1; r < x->remote.nodes; r++) {
		double until = now_monotonic() + NODE_RESULT_WAIT;
		int f;

		while ((f = node_failed(x, r)) < 0 && now_monotonic() < until &&
		       !sleep_unless_cancelled(x->cancel, 0.5))
			;
		if (f > 0)
			show_node_log(x, fd, r, "failed too");
	}
}

/*
 * The run has ended (collect, with --wait): its instances shut themselves
 * down; once they are gone, the groups go too. Instances still up after
 * END_WAIT are terminated: the run's result is in.
 */
void backend_aws_nodes_end(struct aws_run *x)
{
	struct err_saved saved;

	if (!x->have_cluster || x->o->keep)
		return;
	err_save(&saved);
	if (cluster_delete(&x->client, x->remote.run_id, x->ui, END_WAIT)) {
		err_clear();
		backend_aws_terminate(x, "the run has ended");
	} else {
		x->have_cluster = 0;
		ui_say(x->ui, UI_PROGRESS, "deleted placement group and security group %s",
		       x->cluster.placement_group);
	}
	err_restore(&saved);
	backend_aws_cluster_delete(x, BACKEND_AWS_CLUSTER_TIMEOUT);
}
