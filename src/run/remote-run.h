/*
 * remote-run: a run on EC2, as every command sees it (run, status, logs,
 * stop, gc), and the one place its note is written.
 *
 * The source of truth is where the run lives: the instance's tags
 * (REMOTE_TAG_*, set at launch) and the run's S3 objects (layout.h): the
 * client's run.json at launch (remote_run_save), the runner's log as it
 * grows, its result and outputs at the end (runner.h).
 *
 * run.json: {"run_id", "commit", "parent" (for --stash), "instance_id",
 * "instance_type", "market": "spot" | "on-demand", "az", "price" (USD/h,
 * < 0 unknown), "region", "launched" (ISO 8601), "args": [...]}; a run on
 * several instances (issue 14) adds "nodes": N, "node_instances": [ids by
 * node rank], "node_spot_requests": [each node's persistent spot request or
 * null, by node rank; absent when none has one, as in run.json files from
 * before], "placement_group" (its name) and "cluster_security_group" (its
 * id).
 */
#ifndef RUN_REMOTE_RUN_H
#define RUN_REMOTE_RUN_H

#include <cjson/cJSON.h>
#include <git2.h>
#include <time.h>

#include "aws/client.h"
#include "git/config.h"
#include "git/run-record.h"
#include "run/layout.h"
#include "run/metric-patterns.h"
#include "util/strvec.h"

#define REMOTE_TAG_RUN_ID "git-train:run-id"
#define REMOTE_TAG_COMMIT "git-train:commit"
#define REMOTE_TAG_REPO	  "git-train:repo"
#define REMOTE_TAG_BRANCH "git-train:branch"
#define REMOTE_TAG_USER	  "git-train:user"
#define REMOTE_TAG_MARKET "git-train:market"
#define REMOTE_TAG_PRICE  "git-train:price"
/* Seconds the instance may live (the watchdog's); gc terminates it after that. */
#define REMOTE_TAG_MAX_RUNTIME "git-train:max-runtime"
/*
 * train.idleTimeout's default: how long an instance lives without a runner
 * that reports (its log uploaded, its watchdog moved on: runner.h) before
 * it shuts itself down, and gc terminates it.
 */
#define REMOTE_IDLE_TIMEOUT "15m"
/* train.nodes at most: instances of one run (issue 14) */
#define REMOTE_MAX_NODES 64

/* One instance of a run (run.json's "instances"). */
struct remote_instance {
	char *instance_id;
	char *az;
	char *market;	    /* "spot" or "on-demand" */
	char *spot_request; /* NULL: none */
	double price;	    /* USD/h; < 0 unknown */
};

struct remote_run {
	char *run_id;
	char *commit; /* full hex SHA */
	char *parent; /* NULL unless a --stash snapshot */
	char *instance_id;
	char *instance_type;
	char *market; /* "spot" or "on-demand" */
	char *az;
	double price; /* USD/h; < 0 unknown */
	char *region;
	time_t launched;
	char *bucket;
	char *run_prefix; /* <prefix>/<repo>/<sha>/runs/<run-id>/ */
	char *args;	  /* the script's arguments as shell words; NULL when none */
	int smoke;	  /* a smoke run (the pre-push hook's) */
	/*
	 * Note fields the client decided at launch (run.json's "fields"):
	 * key=value entries, e.g. env=K1,K2 or data.<name>=<fingerprint>
	 * (run/inputs.h). Keys are [A-Za-z0-9._-]; one that the note has
	 * already, or that is one of its own (status, metric.*, ...), is not
	 * added: run.json is in S3, where a run could rewrite it.
	 */
	struct strvec fields;
	char *image; /* the AMI it booted (note field image=); NULL: not known */
	/*
	 * Preemption (issue 13), in run.json as "spot_request", "instances"
	 * and "resumed_from": the persistent spot request of the current
	 * instance (NULL: none, e.g. on-demand or train.maxInterruptions 0);
	 * every instance the run had, in order, the last one instance_id's
	 * (a relaunch elsewhere adds one); the run whose checkpoints it
	 * started from (--resume-from).
	 */
	char *spot_request;
	struct remote_instance *instances;
	size_t nr_instances;
	char *resumed_from;
	/*
	 * Several instances (issue 14): how many (0 or 1: one), their ids by
	 * node rank (node_instances.v[0] is instance_id), the run's placement
	 * group and the security group its instances share (run/cluster.h).
	 * The note says nodes=N and instances=<id>,<id>,...; its cost is that
	 * of every node.
	 */
	int nodes;
	struct strvec node_instances;
	/*
	 * Each node's persistent spot request by node rank ("" for none;
	 * node_spot_requests.v[0] is spot_request), or empty when no node has
	 * one (one-time spot, on-demand, a run.json from before).
	 */
	struct strvec node_spot_requests;
	char *placement_group;
	char *cluster_security_group;
};

void remote_run_release(struct remote_run *r);

/*
 * Adds what the run is to o: run_id, commit, parent, instance_id,
 * instance_type, market, az, price and region (null where unknown).
 */
void remote_run_add_json(cJSON *o, const struct remote_run *r);

/* Writes run.json. 0, or -1. */
int remote_run_save(struct aws_client *c, const struct remote_run *r, const char *const *args,
		    int nr_args);

/* Reads run.json of the run at run_prefix. 0, 1 when absent, or -1. */
int remote_run_load(struct remote_run *out, struct aws_client *c, const char *bucket,
		    const char *run_prefix);

/*
 * Reads the run's result (layout.h) into rec (id, backend = instance type, status, exit
 * code, start, duration, metrics, log = s3://.../log, and extra fields
 * market, az, price, cost, instance, outputs; for a run of several
 * attempts, attempts and lost too, and cost is theirs:
 * remote_run_attempts_cost()). 0, 1 when the run has no result yet, or -1.
 */
int remote_run_result(struct run_record *out, struct aws_client *c, const struct remote_run *r);

/*
 * The fields every note of r has, whatever its status: id, backend, start
 * (r->launched when start is 0), duration, parent, log, the extra fields
 * listed at remote_run_result(), and args and smoke (run_record_describe_args). Status, exit code
 * and metrics are the caller's.
 */
void remote_run_describe(struct run_record *out, const struct remote_run *r, time_t start,
			 double duration);

/*
 * What every command does with a run it sees: reads the result and, when
 * there is one, adds the metrics of patterns (remote_run_log_metrics(); a
 * log that cannot be read loses them, not the note) and writes the note (run.h: run_note_write()).
 * 0 finished (*out filled), 1 not finished yet, -1 error.
 */
int remote_run_finalize(struct run_record *out, git_repository *repo, struct aws_client *c,
			const struct remote_run *r, const struct metric_patterns *patterns);

/*
 * The train.metric patterns over the run's log in S3 (metric-patterns.h),
 * into rec: metrics its result (metrics.json) does not have. patterns may be
 * NULL. 0, or -1 with err_set.
 */
int remote_run_log_metrics(struct run_record *rec, struct aws_client *c, const struct remote_run *r,
			   const struct metric_patterns *patterns);

/*
 * What a run of several attempts cost: the sum of each attempt's duration
 * times the price of its instance (r->instances, matched by the attempt's
 * instance; else r->price), times r->nodes; on several nodes, plus the
 * time between two attempts for all nodes but one (they waited, running,
 * for the one interrupted). < 0 when a price or a duration is not known.
 */
double remote_run_attempts_cost(const struct remote_run *r, const struct layout_attempts *a);

/*
 * The key of node rank's item (LAYOUT_LOG or LAYOUT_RESULT) of the run at
 * run_prefix: the run's own for node 0, nodes/<rank>/<item> for the others
 * (layout.h). Caller frees.
 */
char *remote_run_node_key(const char *run_prefix, int rank, enum layout_item item);

/*
 * Every persistent spot request of the run (spot_request and each node's),
 * each once, appended to out.
 */
void remote_run_spot_requests(struct strvec *out, const struct remote_run *r);

/* Dollars for notes and tables: "0.0031", "1.25" (no exponent, no trailing zeros). */
void remote_run_format_usd(struct buf *out, double usd);

#endif
