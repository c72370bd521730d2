/*
 * cluster: what lets the instances of a run on several nodes (issue 14)
 * work as one: a cluster placement group (the instances close together in
 * one zone) and a security group that lets the run's instances, and only
 * them, reach each other (all TCP from the group itself). Both are named
 * git-train-<run id> and tagged as the run's instances are, created before
 * the launch and deleted once the run's instances are gone; `git train gc`
 * deletes those whose run has no instance left.
 */
#ifndef RUN_CLUSTER_H
#define RUN_CLUSTER_H

#include <stddef.h>

#include "aws/client.h"
#include "services/ec2.h"
#include "util/ui.h"

/* On both groups: when they were made (seconds since the epoch), for gc. */
#define CLUSTER_TAG_CREATED "git-train:created"

struct cluster {
	char *placement_group; /* its name: git-train-<run id> */
	char *security_group;  /* its id, sg-... */
};

/*
 * Creates both for run_id, in the VPC of subnet (NULL: the default VPC),
 * tagged with tags. 0, or -1 with err_set; on failure what was created is
 * deleted again.
 */
int cluster_create(struct cluster *out, struct aws_client *c, const char *run_id,
		   const char *subnet, const struct ec2_tag *tags, size_t nr_tags);

/*
 * Deletes the placement group and the security group of run_id (found by
 * name and tag; either may be gone already), once none of the run's
 * instances is left: it waits up to timeout seconds for them to terminate,
 * saying so through ui. 0, or -1 with err_set naming what is left.
 */
int cluster_delete(struct aws_client *c, const char *run_id, const struct ui *ui, long timeout);

void cluster_release(struct cluster *cl);

#endif
