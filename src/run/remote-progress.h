/*
 * remote-progress: how far a run on EC2 has got across its attempts, as
 * status, --wait, `logs -f` and `resume` say it. Three sources: the
 * runner's attempts.json (layout.h; the instance writes it, so it is read
 * checked: layout_attempts_parse()), the instance's state
 * (DescribeInstances) and its persistent spot request's
 * (DescribeSpotInstanceRequests).
 *
 * A stopped instance of a run with a persistent request that is not
 * cancelled and no result is preempted and waiting for capacity: EC2 starts
 * it again when capacity returns, and the runner continues (runner.h). A
 * one-time spot or on-demand instance that is gone, or a stopped one whose
 * request is gone, is not coming back.
 *
 * A run on several instances (issue 14) waits for capacity when any node's
 * instance does (its runner suspends, the others wait for it: runner.h);
 * else it is in node 0's phase.
 */
#ifndef RUN_REMOTE_PROGRESS_H
#define RUN_REMOTE_PROGRESS_H

#include <time.h>

#include "aws/client.h"
#include "run/layout.h"
#include "run/remote-run.h"
#include "services/ec2.h"
#include "util/util.h"

enum remote_phase {
	REMOTE_STARTING, /* the instance is pending, or no attempt began yet */
	REMOTE_RUNNING,	 /* an attempt runs */
	REMOTE_WAITING,	 /* preempted, waiting for capacity */
	REMOTE_GONE,	 /* the instance is gone (or stopped for good) */
};

struct remote_progress {
	enum remote_phase phase;
	int attempt;	     /* the attempt that runs, or ran last; 0: none known */
	time_t since;	     /* REMOTE_WAITING: the last attempt's end; 0 not known */
	char *state;	     /* the instance's state; NULL: not known */
	char *request;	     /* the persistent spot request; NULL: none */
	char *request_state; /* its state (active, disabled, ...); NULL: not known */
	/*
	 * Several instances: the node these describe (REMOTE_WAITING: one that
	 * waits, else 0), and its instance; NULL: one instance.
	 */
	int node;
	char *instance;
};

/*
 * Which phase an instance in state (NULL: not found) is in, with its
 * persistent request in request_state (NULL: no request; "" a request whose
 * state is not known), for a run without a result.
 */
enum remote_phase remote_progress_phase(const char *state, const char *request_state);

/*
 * The phase of a run on n instances, each node's as remote_progress_phase()
 * gives it in phases (by node rank): REMOTE_WAITING when any node waits
 * (*node: the first that does), else node 0's (*node: 0).
 */
enum remote_phase remote_progress_nodes_phase(const enum remote_phase *phases, size_t n, int *node);

/*
 * Reads the run's progress: attempts.json, the instance r->instance_id (inst
 * when the caller has described it already, else DescribeInstances) and its
 * spot request (inst's, else r->spot_request). A run on several instances
 * (r->node_instances) has every node's instance described (inst is then
 * only what is said when that look fails) and the request of each that is
 * stopped (its own, else run.json's for its rank). A look that fails leaves
 * what it would have said unknown (a hint, not a need): 0 always, out filled.
 */
int remote_progress_read(struct remote_progress *out, struct aws_client *c,
			 const struct remote_run *r, const struct ec2_instance *inst);
void remote_progress_release(struct remote_progress *p);

/*
 * The phase in words: "running (attempt 3)" (the attempt only when > 1),
 * "preempted (attempt 2, waiting for capacity since 12:03)" (local time),
 * "starting", "gone".
 */
void remote_progress_describe(struct buf *out, const struct remote_progress *p);
/* "12:03": the local time of t (HH:MM). */
void remote_progress_clock(struct buf *out, time_t t);

#endif
