/*
 * launch-internal: what the launch*.c files share, and the pure parts
 * (texts, tokens, the retry schedule) that tests/unit/test-launch.c checks.
 */
#ifndef RUN_LAUNCH_INTERNAL_H
#define RUN_LAUNCH_INTERNAL_H

#include "services/image.h"
#include "run/launch.h"
#include "util/strvec.h"

/* ClientToken's limit (EC2 ignores nothing: a longer one is an error). */
#define LAUNCH_TOKEN_MAX 64

/* One launch in progress. */
struct launch_ctx {
	struct aws_client *c;
	const struct launch_opts *o;
	const char *region;
	char *ami;
	char *root_device; /* the AMI's, whose volume is encrypted */
	int root_gib;	   /* its size */
	struct aws_instance_type type;
	struct image image;
	int volume_gib; /* the root volume to ask for; 0: the AMI's */
	char *user_data;
	struct ec2_tag *tags; /* o->tags and ours; ours own their strings */
	size_t nr_tags, nr_own_tags;
	struct strvec zones; /* to try, in order; none: one try where EC2 picks */
	int zones_loaded;
	int attempts[2];      /* RunInstances calls so far, on-demand [0] and spot [1] */
	int spot_rounds;      /* rounds over every zone that found no spot capacity */
	double spot_seconds;  /* how long they took */
	char *capacity_error; /* the last capacity error seen, for messages */
	int count;	      /* instances wanted, all or none in one zone (>= 1) */
	int persistent;	      /* persistent spot requests, one per instance */
	int last_zone;	      /* launch_run() tries the round's last zone */
	/* with count > 1: the instances of node ranks 1.. (node 0's is the launch's own) */
	struct ec2_instance *others;
	size_t nr_others;
};

/* launch.c */
int launch_cancelled(const struct launch_ctx *x);
/* Sleeps up to seconds, waking at least every second to check cancel. 0, or RC_CANCELLED. */
int launch_sleep(const struct launch_ctx *x, double seconds);
/*
 * Shows text on the ui's status line; keep: off a terminal it gets a line
 * of its own (a wait starts, or it has been a while).
 */
void launch_line(struct launch_ctx *x, const char *text, int keep);
/* Finishes the status line: what it shows stays, and other output starts clean. */
void launch_line_end(struct launch_ctx *x);
/*
 * One RunInstances of the market in zone (NULL: EC2 picks), with the next
 * ClientToken. 0 with *out filled; 1 when the zone has no capacity; -1 with
 * err_set (quota, price, anything else); RC_CANCELLED. With count > 1 it
 * asks for up to count instances in the placement group: fewer are
 * terminated (said through the ui) and count as no capacity; all of them
 * are node 0 in *out and the others in x->others, by instance id.
 */
int launch_run(struct launch_ctx *x, struct ec2_instance *out, int spot, const char *zone);
/*
 * Terminates a launched instance and says so: "terminated i-... (why)",
 * after cancelling its spot request when the launch is persistent (NULL:
 * none; a one-time request ends with its instance).
 */
int launch_terminate(struct launch_ctx *x, const char *id, const char *request, const char *why);
/*
 * Terminates x->others (count > 1) and says so, their persistent requests
 * cancelled first; 0, or -1 when some may still run.
 */
int launch_terminate_others(struct launch_ctx *x, const char *why);
/*
 * Cancels the persistent requests of v (those that have one), saying so on
 * failure: before their instances are terminated, else EC2 starts others.
 */
void launch_cancel_requests(struct launch_ctx *x, const struct ec2_instance *v, size_t nr);

/* launch-spot.c */
/* Every zone once, in order. 0 launched, 1 no capacity anywhere, or < 0. */
int launch_try_zones(struct launch_ctx *x, struct ec2_instance *out, int spot);
/*
 * Waits (up to 5 minutes) for ids to be terminated, then deletes the
 * placement group and makes it again with its tags; a failure is a warning.
 */
void launch_renew_placement_group(struct launch_ctx *x, const char *const *ids, size_t nr);
/* Spot rounds until spot_timeout. 0 launched, RC_NO_SPOT, or < 0. */
int launch_spot(struct launch_ctx *x, struct ec2_instance *out);
/* The fallback policy: 0 to go on-demand, else RC_NO_SPOT or RC_CANCELLED (err_set). */
int launch_fallback(struct launch_ctx *x);

/* launch-ready.c */
/* Waits for running, then SSM Online, refreshing *inst. 0, -1 (err_set), RC_CANCELLED. */
int launch_wait_ready(struct launch_ctx *x, struct ec2_instance *inst);

/* launch-text.c: pure */

/* "<run-id>-<s|o><attempt>", printable ASCII, at most LAUNCH_TOKEN_MAX (caller frees). */
char *launch_client_token(const char *run_id, int spot, int attempt);
/*
 * "waiting for spot capacity: g5.xlarge in us-east-1 (attempt 3, 0:40 of
 * 2:00, next try in 10s)".
 */
void launch_spot_wait_text(struct buf *out, const char *type, const char *region, int attempt,
			   long elapsed, long timeout, long next_try);
/* Seconds to wait after round (1-based) found no capacity: 5, 10, then 15, at most remaining. */
long launch_spot_delay(int round, long remaining);
/* "3.3x" when both prices are known (and spot > 0); 0 with "" otherwise. */
int launch_price_ratio(char *out, size_t size, const struct pricing_quote *p);
/* "spot capacity unavailable: on-demand g5.xlarge is $1.006/h, spot was $0.302/h (3.3x)" */
void launch_fallback_text(struct buf *out, const char *type, const struct pricing_quote *p);
/* "launching ON-DEMAND g5.xlarge at $1.006/h (3.3x the spot price)" */
void launch_on_demand_text(struct buf *out, const char *type, const struct pricing_quote *p);
/*
 * The EC2 quota that limits type in that market, by its Service Quotas
 * name; *out_code is its quota code, NULL where the name is all we know.
 */
const char *launch_quota_name(const char **out_code, const char *type, int spot);

#endif
