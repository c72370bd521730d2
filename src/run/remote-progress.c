/*
 * remote-progress: a run's attempts, its instance and its spot request, as
 * one phase. See remote-progress.h.
 */
#include "run/remote-progress.h"

#include <stdlib.h>
#include <string.h>

#include "services/s3-objects.h"

enum remote_phase remote_progress_phase(const char *state, const char *request_state)
{
	if (!state)
		return REMOTE_GONE;
	if (!strcmp(state, "pending"))
		return REMOTE_STARTING;
	if (!strcmp(state, "running"))
		return REMOTE_RUNNING;
	if (!strcmp(state, "stopping") || !strcmp(state, "stopped")) {
		/* a request that is cancelled or closed brings nothing back */
		if (request_state &&
		    (!*request_state || !strcmp(request_state, "active") ||
		     !strcmp(request_state, "disabled") || !strcmp(request_state, "open")))
			return REMOTE_WAITING;
	}
	return REMOTE_GONE;
}

static void read_attempts(struct layout_attempts *out, struct aws_client *c,
			  const struct remote_run *r)
{
	struct buf body = BUF_INIT;
	char *key = layout_run_key(r->run_prefix, LAYOUT_ATTEMPTS);

	memset(out, 0, sizeof(*out));
	out->lost = -1;
	if (!s3_get_object(&body, c, r->bucket, key, 0, NULL, NULL))
		layout_attempts_parse(out, buf_cstr(&body), body.len, "attempts.json");
	err_clear();
	buf_release(&body);
	free(key);
}

/* The request's state; "" when it cannot be had. Caller frees. */
static char *request_state(struct aws_client *c, const char *id)
{
	struct ec2_spot_request *v = NULL;
	size_t nr = 0;
	char *out;

	if (ec2_describe_spot_requests(&v, &nr, c, &id, 1, NULL, 0)) {
		err_clear();
		return xstrdup("");
	}
	/* a request AWS no longer knows was cancelled long ago */
	out = xstrdup(nr && v[0].state ? v[0].state : "cancelled");
	ec2_spot_requests_free(v, nr);
	return out;
}

enum remote_phase remote_progress_nodes_phase(const enum remote_phase *phases, size_t n, int *node)
{
	size_t i;

	*node = 0;
	for (i = 0; i < n; i++) {
		if (phases[i] == REMOTE_WAITING) {
			*node = (int)i;
			return REMOTE_WAITING;
		}
	}
	return n ? phases[0] : REMOTE_GONE;
}

/* One instance's state, request and phase into out; request the run's for it (NULL: none). */
static void read_one(struct remote_progress *out, struct aws_client *c,
		     const struct ec2_instance *inst, const char *request)
{
	if (inst && inst->state)
		out->state = xstrdup(inst->state);
	if (inst && inst->spot_request)
		out->request = xstrdup(inst->spot_request);
	else if (request && *request)
		out->request = xstrdup(request);
	if (out->request && out->state &&
	    (!strcmp(out->state, "stopping") || !strcmp(out->state, "stopped")))
		out->request_state = request_state(c, out->request);
	out->phase = remote_progress_phase(
		out->state, out->request ? (out->request_state ? out->request_state : "") : NULL);
}

/*
 * Every node's instance (one DescribeInstances), into out as the node that
 * waits, else node 0. 0, or -1 when the look failed (nothing filled).
 */
static int read_nodes(struct remote_progress *out, struct aws_client *c, const struct remote_run *r)
{
	size_t n = r->node_instances.nr, nr = 0, i, j;
	struct remote_progress *each = xcalloc(n, sizeof(*each));
	enum remote_phase *phases = xcalloc(n, sizeof(*phases));
	struct ec2_instance *v = NULL;
	int node;

	if (ec2_describe_instances(&v, &nr, c, (const char *const *)r->node_instances.v, n, NULL,
				   0)) {
		err_clear();
		free(each);
		free(phases);
		return -1;
	}
	for (i = 0; i < n; i++) {
		const struct ec2_instance *inst = NULL;
		const char *req = i == 0 ? r->spot_request : NULL;

		if (i < r->node_spot_requests.nr)
			req = r->node_spot_requests.v[i];

		for (j = 0; j < nr && !inst; j++)
			if (v[j].id && !strcmp(v[j].id, r->node_instances.v[i]))
				inst = &v[j];
		read_one(&each[i], c, inst, req);
		phases[i] = each[i].phase;
		/* the first that waits is the one said: no need to ask after the others' */
		if (phases[i] == REMOTE_WAITING)
			n = i + 1;
	}
	out->phase = remote_progress_nodes_phase(phases, n, &node);
	out->node = node;
	out->instance = xstrdup(r->node_instances.v[node]);
	out->state = each[node].state;
	out->request = each[node].request;
	out->request_state = each[node].request_state;
	each[node].state = each[node].request = each[node].request_state = NULL;
	for (i = 0; i < n; i++)
		remote_progress_release(&each[i]);
	free(each);
	free(phases);
	ec2_instances_free(v, nr);
	return 0;
}

int remote_progress_read(struct remote_progress *out, struct aws_client *c,
			 const struct remote_run *r, const struct ec2_instance *inst)
{
	struct ec2_instance *v = NULL;
	size_t nr = 0;
	struct layout_attempts a;
	const struct layout_attempt *last;
	const char *id = r->instance_id;

	memset(out, 0, sizeof(*out));
	if (r->nodes > 1 && r->node_instances.nr && !read_nodes(out, c, r))
		goto attempts;
	if (!inst && id) {
		if (ec2_describe_instances(&v, &nr, c, &id, 1, NULL, 0))
			err_clear();
		else if (nr)
			inst = &v[0];
	}
	read_one(out, c, inst, r->spot_request);
attempts:
	read_attempts(&a, c, r);
	last = layout_attempts_last(&a);
	if (last) {
		out->attempt = last->attempt;
		/* stopped after its attempt ended: the next one starts when it runs again */
		if (out->phase == REMOTE_RUNNING && last->end && strcmp(last->status, "running") &&
		    last->attempt < LAYOUT_MAX_ATTEMPTS)
			out->attempt++;
		if (out->phase == REMOTE_WAITING)
			out->since = last->end;
	} else if (out->phase == REMOTE_RUNNING) {
		out->attempt = 1;
	}
	layout_attempts_release(&a);
	ec2_instances_free(v, nr);
	return 0;
}

void remote_progress_release(struct remote_progress *p)
{
	free(p->state);
	free(p->request);
	free(p->request_state);
	free(p->instance);
	memset(p, 0, sizeof(*p));
}

void remote_progress_clock(struct buf *out, time_t t)
{
	struct tm tm;

	if (!localtime_r(&t, &tm)) {
		buf_puts(out, "?");
		return;
	}
	buf_printf(out, "%02d:%02d", tm.tm_hour, tm.tm_min);
}

void remote_progress_describe(struct buf *out, const struct remote_progress *p)
{
	switch (p->phase) {
	case REMOTE_STARTING:
		buf_puts(out, "starting");
		break;
	case REMOTE_RUNNING:
		buf_puts(out, "running");
		if (p->attempt > 1)
			buf_printf(out, " (attempt %d)", p->attempt);
		break;
	case REMOTE_WAITING:
		buf_puts(out, "preempted (");
		if (p->attempt > 0)
			buf_printf(out, "attempt %d, ", p->attempt);
		buf_puts(out, "waiting for capacity");
		if (p->since) {
			buf_puts(out, " since ");
			remote_progress_clock(out, p->since);
		}
		buf_putc(out, ')');
		break;
	case REMOTE_GONE:
		buf_puts(out, "gone");
		break;
	}
}
