/*
 * launch: one EC2 instance for a run, spot first, honestly, and reachable.
 *
 * launch_instance():
 *   1. The AMI: the image o->ami names (image.h: pytorch, base, al2023 or an
 *      AMI id), by default the newest PyTorch Deep Learning AMI for a type
 *      with NVIDIA GPUs (DescribeInstanceTypes' GpuInfo), else Amazon Linux
 *      2023, for the type's architecture; the root volume its snapshot plus
 *      room (image.h), or volume_size_gib, refused when smaller than the
 *      snapshot before anything is launched.
 *   2. Spot (unless on-demand was asked for): RunInstances with a spot
 *      InstanceMarketOptions in each availability zone in turn (the zone of
 *      the lowest spot price first). Capacity errors move on to the next
 *      zone; when every zone said no, it waits and tries again until
 *      spot_timeout, with a status line ("waiting for spot
 *      capacity: g5.xlarge in us-east-1 (attempt 3, 0:40 of 2:00, next try
 *      in 10s)"). Quota errors fail at once naming the quota and how to
 *      raise it; SpotMaxPriceTooLow names the price. Every attempt has its
 *      own ClientToken (the run id, the market and the attempt number), so
 *      a retried request never starts a second instance.
 *   3. No spot capacity: the fallback policy. fail_if_no_spot: fail
 *      (RC_NO_SPOT). Else the warning, with both prices and their ratio
 *      ("spot capacity unavailable: on-demand g5.xlarge is $1.006/h, spot
 *      was $0.302/h (3.3x)"); then on-demand if yes (--yes or
 *      train.onDemandFallback), else the question when the ui can ask
 *      (a terminal), else fail (RC_NO_SPOT) saying how to allow it.
 *   4. Tags at launch (l->tags plus Name=git-train/<short sha> and
 *      git-train:market), IMDSv2 only, shutdown behaviour terminate, the
 *      root volume encrypted (its device from DescribeImages), and
 *      user data that schedules `shutdown -h +<idle_timeout minutes>` (the
 *      max runtime when shorter): an instance whose runner never starts,
 *      because no client is left to start it, shuts down within minutes; the
 *      runner then keeps the watchdog moving, never past the max runtime.
 *   5. Ready means reachable: it waits for "running", then for SSM to say
 *      Online, with progress and the elapsed time; on ready_timeout it names
 *      the likely causes (no instance profile, an AMI without the SSM agent,
 *      no route from the subnet to SSM) and terminates the instance.
 *
 * Cancel (the flag set by a SIGINT/SIGTERM handler) is checked between
 * every request and every second of waiting: whatever was launched is then
 * terminated before it returns RC_CANCELLED. Any failure after an
 * instance exists terminates it too: an error never leaves an instance
 * running. A persistent request is cancelled before its instance is
 * terminated (else EC2 would start another one for it). Progress, warnings and the question go
 * through o->ui: waits on its status line, lines for what happened.
 */
#ifndef RUN_LAUNCH_H
#define RUN_LAUNCH_H

#include <signal.h>

#include "aws/client.h"
#include "services/ec2.h"
#include "services/pricing.h"
#include "util/ui.h"

struct launch_opts {
	const char *run_id;
	const char *short_sha;
	const char *instance_type;
	const char *ami;    /* train.image: pytorch, base, al2023, an AMI id; NULL: by the type */
	const char *subnet; /* NULL: default VPC */
	const char *security_group;
	const char *instance_profile;
	int volume_size_gib; /* 0: the image's snapshot and room (image.h) */
	int on_demand;	     /* 1: skip spot */
	int fail_if_no_spot;
	int yes;			    /* fallback to on-demand allowed without asking */
	long spot_timeout;		    /* seconds of retrying spot capacity */
	long max_runtime;		    /* seconds; the user-data watchdog */
	long idle_timeout;		    /* seconds until the runner takes over; 0: none */
	long ready_timeout;		    /* seconds to wait for SSM Online */
	const struct pricing_quote *prices; /* may have unknown (< 0) prices */
	const struct ec2_tag *tags;
	size_t nr_tags;
	/*
	 * A spot launch as a persistent request that stops on interruption
	 * (EC2 restarts the instance when capacity returns), valid until the
	 * launch plus max_runtime and tagged as the instance is: a run that
	 * can resume (issue 13). On-demand ignores it.
	 */
	int persistent;
	const char *avoid_az; /* tried only after every other zone (a relaunch elsewhere); NULL */
	/*
	 * What the ClientTokens start with; NULL: run_id. A relaunch of the
	 * same run elsewhere gives its own, else EC2 would take it for a retry
	 * of the first launch (IdempotentParameterMismatch).
	 */
	const char *token_id;
	/*
	 * Several instances (issue 14): count (0 or 1: one) instances of the
	 * type in one zone, all or none, in the cluster placement group
	 * placement_group (NULL: none) and, besides security_group, in
	 * cluster_security_group (NULL: none), the group that lets the run's
	 * instances reach each other. Each zone gets one RunInstances with
	 * MinCount 1 and MaxCount count: a zone that gives fewer terminates
	 * those it gave and the launch goes on as when a zone has no capacity,
	 * saying how many it got ("got 1 of 2 spot c5.xlarge in us-east-1a");
	 * the placement group is then deleted and made again with its tags once
	 * they are terminated (a cluster group keeps the zone of its
	 * instances). Node ranks follow the instance ids; every node waits for
	 * running and SSM Online, and any failure or cancel terminates them all.
	 * persistent holds for count > 1 too: EC2 makes one request per
	 * instance, each cancelled before its instance is terminated, whatever
	 * ends the launch (a zone that gave too few, a node not ready, cancel).
	 */
	int count;
	const char *placement_group;
	const char *cluster_security_group;
	/*
	 * A relaunch of a run on several instances elsewhere: the run's old
	 * instances, terminated by the caller, which were in placement_group.
	 * The launch waits for them to be terminated and renews the group
	 * first (deleted and made again with its tags), as after a zone that
	 * gave too few: the group keeps the old zone while any is left.
	 */
	const char *const *replaced;
	size_t nr_replaced;
	const volatile sig_atomic_t *cancel;
	const struct ui *ui; /* progress, warnings and the on-demand question */
};

struct launch_result {
	struct ec2_instance
		instance; /* id, type, az, lifecycle; spot_request: the persistent one */
	/*
	 * With count > 1: every instance, by node rank (nodes[0] is a copy of
	 * instance), each with its private_ip and, with persistent spot, its
	 * own spot_request. NULL and 0 for one instance.
	 */
	struct ec2_instance *nodes;
	size_t nr_nodes;
	int spot;     /* 1 spot, 0 on-demand */
	double price; /* USD/h of what was launched; < 0 unknown */
	char *ami;
	const char *python;    /* the image's framework Python (static); NULL: none known */
	const char *framework; /* "torch" on the PyTorch DLAMI; NULL */
	int gpus;	       /* the type's NVIDIA GPUs */
	int volume_gib;	       /* the root volume asked for; 0: the AMI's */
};

int launch_instance(struct launch_result *out, struct aws_client *c, const struct launch_opts *o);
void launch_result_release(struct launch_result *r);

/*
 * The user data of a run: the watchdog's first stage, `shutdown -h +<m>`
 * with m the minutes of idle_timeout (0: none) or of max_runtime when that
 * is shorter, rounded up, at least 1. The runner, once it runs, moves it on
 * (runner.h). Caller frees.
 */
char *launch_user_data(long max_runtime, long idle_timeout);

#endif
