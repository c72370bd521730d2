/*
 * ec2: the EC2 calls git-train makes, each one aws_send() away (Query
 * protocol, API version 2016-11-15, XML responses read with xml.h).
 *
 * Errors: -1 with err_set("<Code>: <Message> (request id <id>)"). Callers
 * that must tell errors apart (spot capacity, quotas) get the code through
 * out_code and classify it with ec2_error_class(): by code, never by status
 * (no capacity is an HTTP 500).
 */
#ifndef SERVICES_EC2_H
#define SERVICES_EC2_H

#include <signal.h>
#include <stddef.h>
#include <time.h>

#include "aws/client.h"
#include "util/strvec.h"

struct ec2_tag {
	char *key;
	char *value;
};

struct ec2_launch {
	const char *instance_type;
	const char *ami;
	int spot;		      /* InstanceMarketOptions: spot, one-time, terminate */
	const char *az;		      /* Placement.AvailabilityZone; NULL: EC2 picks */
	const char *subnet;	      /* NULL: the default VPC's subnet in az */
	const char *security_group;   /* NULL: the VPC's default group */
	const char *instance_profile; /* IamInstanceProfile.Name */
	const char *user_data;	      /* plain text, base64-encoded here */
	const char *client_token;     /* <= 64 ASCII: a retry never starts a second instance */
	const char *root_device;      /* the AMI's (ec2_image_root_device); NULL: looked up */
	int root_gib;		    /* the AMI's root volume size, with root_device; 0: not said */
	int volume_size_gib;	    /* root volume (gp3); 0: the AMI's default */
	const struct ec2_tag *tags; /* TagSpecifications for the instance and its volume */
	size_t nr_tags;
	/*
	 * With spot: a persistent request whose interruption behaviour is
	 * stop (EC2 restarts the instance when capacity returns), valid until
	 * valid_until (0: AWS's default), tagged with tags as well.
	 */
	int persistent;
	time_t valid_until;
	/*
	 * Several instances (ec2_run_instances): MinCount=1, MaxCount=count
	 * (0 or 1: one), EC2 giving as many as it can; in the cluster
	 * placement group placement_group (Placement.GroupName; NULL: none)
	 * and in extra_security_group besides security_group (NULL: none).
	 */
	int count;
	const char *placement_group;
	const char *extra_security_group;
};

struct ec2_instance {
	char *id;
	char *type;
	char *state; /* pending, running, shutting-down, terminated, stopping, stopped */
	char *az;
	char *lifecycle;    /* "spot", or NULL for on-demand */
	time_t launched;    /* 0 when unknown */
	char *state_reason; /* StateReason/Message, NULL if none */
	char *spot_request; /* spotInstanceRequestId, NULL if none */
	char *private_ip;   /* privateIpAddress, NULL if none */
	struct ec2_tag *tags;
	size_t nr_tags;
};

/*
 * RunInstances for one instance: IMDSv2 only (HttpTokens=required, and
 * HttpEndpoint enabled so the runner sees spot notices),
 * InstanceInitiatedShutdownBehavior=terminate, MinCount=MaxCount=1, and
 * the root volume (the AMI's root device) encrypted (Encrypted=true, the
 * account's default EBS key) and deleted on termination, whatever the
 * account's default encryption says.
 * 0 with *out filled; -1 with err_set and *out_code the AWS error code
 * (caller frees; NULL when the failure was not an AWS error).
 */
int ec2_run_instance(struct ec2_instance *out, char **out_code, struct aws_client *c,
		     const struct ec2_launch *l);

/*
 * RunInstances as ec2_run_instance() does it, with MinCount=1 and
 * MaxCount=l->count: every instance EC2 started, in the order of its
 * answer (at least one), in *out (caller frees with ec2_instances_free).
 */
int ec2_run_instances(struct ec2_instance **out, size_t *out_nr, char **out_code,
		      struct aws_client *c, const struct ec2_launch *l);

/*
 * DescribeImages of ami: the name of its root device (*out, caller frees),
 * /dev/xvda when it names none, and that volume's size (*out_gib, 0 when
 * not said). 0, or -1 with err_set and *out_code.
 */
int ec2_image_root_device(char **out, int *out_gib, char **out_code, struct aws_client *c,
			  const char *ami);

/*
 * DescribeInstances, every page, in one logical call. ids (may be NULL)
 * restricts to those instances; each filter is "tag:<key>" or another
 * DescribeInstances filter name with one value. Consecutive filters of one
 * name are one filter with several values: an instance matches any of them.
 * *out is an array (caller frees with ec2_instances_free).
 */
int ec2_describe_instances(struct ec2_instance **out, size_t *out_nr, struct aws_client *c,
			   const char *const *ids, size_t nr_ids, const struct ec2_tag *filters,
			   size_t nr_filters);

/* TerminateInstances. A missing instance (InvalidInstanceID.NotFound) counts as terminated. */
int ec2_terminate_instances(struct aws_client *c, const char *const *ids, size_t nr);

/*
 * Until DescribeInstances says every one of ids is terminated, looking every
 * 2 seconds (poll_interval()), for at most timeout seconds or until *cancel
 * (may be NULL). A failed look counts as none terminated. 0 when all are,
 * 1 when not (the time ran out, or cancelled).
 */
int ec2_wait_terminated(struct aws_client *c, const char *const *ids, size_t nr, double timeout,
			const volatile sig_atomic_t *cancel);

/* The region's availability zones in state "available", sorted by name. */
int ec2_availability_zones(struct strvec *out, struct aws_client *c);

/*
 * DescribeSpotPriceHistory for type, Linux/UNIX, StartTime now: the lowest
 * current price over the zones (*out, USD per hour) and its zone (*out_az,
 * caller frees; may be NULL). 1 when no zone has a price, 0, or -1.
 */
int ec2_spot_price(double *out, char **out_az, struct aws_client *c, const char *type);

/* A spot instance request (DescribeSpotInstanceRequests). */
struct ec2_spot_request {
	char *id;	   /* sir-... */
	char *state;	   /* open, active, disabled, cancelled, closed, failed */
	char *status;	   /* Status/Code, e.g. fulfilled, instance-stopped-no-capacity */
	char *instance_id; /* NULL if none */
	struct ec2_tag *tags;
	size_t nr_tags;
};

/*
 * DescribeSpotInstanceRequests, every page: ids (may be NULL) and filters
 * as ec2_describe_instances() takes them (e.g. "tag-key" git-train:run-id,
 * "state" open/active/disabled). *out: caller frees with
 * ec2_spot_requests_free.
 */
int ec2_describe_spot_requests(struct ec2_spot_request **out, size_t *out_nr, struct aws_client *c,
			       const char *const *ids, size_t nr_ids, const struct ec2_tag *filters,
			       size_t nr_filters);
/* CancelSpotInstanceRequests. An unknown request counts as cancelled. 0, or -1. */
int ec2_cancel_spot_requests(struct aws_client *c, const char *const *ids, size_t nr);
void ec2_spot_requests_free(struct ec2_spot_request *v, size_t nr);

/* A placement group or a security group, as Describe* lists it. */
struct ec2_group {
	char *id;    /* pg-... or sg-... */
	char *name;  /* groupName */
	char *state; /* a placement group's: pending, available, deleting, deleted; else NULL */
	char *vpc;   /* a security group's vpcId; else NULL */
	struct ec2_tag *tags;
	size_t nr_tags;
};

/*
 * CreatePlacementGroup name, strategy cluster, tagged with tags
 * (TagSpecification placement-group). 0, or -1 with err_set and *out_code.
 */
int ec2_create_placement_group(char **out_code, struct aws_client *c, const char *name,
			       const struct ec2_tag *tags, size_t nr_tags);
/*
 * DeletePlacementGroup name. An unknown group (InvalidPlacementGroup.Unknown)
 * counts as deleted; one with instances fails with *out_code
 * InvalidPlacementGroup.InUse.
 */
int ec2_delete_placement_group(char **out_code, struct aws_client *c, const char *name);
/* DescribePlacementGroups by filters (as ec2_describe_instances() takes them). */
int ec2_describe_placement_groups(struct ec2_group **out, size_t *out_nr, struct aws_client *c,
				  const struct ec2_tag *filters, size_t nr_filters);
/*
 * The VPC of subnet, or the region's default VPC when subnet is NULL
 * (DescribeSubnets, DescribeVpcs): *out, caller frees. 0, or -1 with err_set
 * (also when there is no such subnet or no default VPC).
 */
int ec2_vpc_of(char **out, struct aws_client *c, const char *subnet);
/*
 * CreateSecurityGroup name in vpc with description, tagged with tags: its
 * id in *out_id (caller frees). 0, or -1 with err_set and *out_code.
 */
int ec2_create_security_group(char **out_id, char **out_code, struct aws_client *c,
			      const char *name, const char *description, const char *vpc,
			      const struct ec2_tag *tags, size_t nr_tags);
/* AuthorizeSecurityGroupIngress: all TCP into group from the group itself. 0, or -1. */
int ec2_authorize_group_ingress(struct aws_client *c, const char *group);
/*
 * DeleteSecurityGroup group (an id). An unknown group (InvalidGroup.NotFound)
 * counts as deleted; one still used by an instance fails with *out_code
 * DependencyViolation.
 */
int ec2_delete_security_group(char **out_code, struct aws_client *c, const char *group);
/* DescribeSecurityGroups by filters (e.g. tag:git-train:run-id, group-name), every page. */
int ec2_describe_security_groups(struct ec2_group **out, size_t *out_nr, struct aws_client *c,
				 const struct ec2_tag *filters, size_t nr_filters);
void ec2_groups_free(struct ec2_group *v, size_t nr);

/* A tag's value; borrowed, NULL if absent. */
const char *ec2_instance_tag(const struct ec2_instance *i, const char *key);
void ec2_instance_release(struct ec2_instance *i);
void ec2_instances_free(struct ec2_instance *v, size_t nr);

enum ec2_error_class {
	EC2_ERR_OTHER, /* InvalidParameter*, UnauthorizedOperation, InvalidAMIID.*: never retried */
	EC2_ERR_CAPACITY, /* InsufficientInstanceCapacity, InsufficientCapacity,
			     UnfulfillableCapacity */
	EC2_ERR_QUOTA, /* MaxSpotInstanceCountExceeded, VcpuLimitExceeded, InstanceLimitExceeded */
	EC2_ERR_PRICE, /* SpotMaxPriceTooLow */
	EC2_ERR_TRANSIENT, /* RequestLimitExceeded, InternalError, ServiceUnavailable, Unavailable
			    */
};
enum ec2_error_class ec2_error_class(const char *code);

#endif
