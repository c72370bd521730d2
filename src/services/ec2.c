#include "services/ec2.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "services/ec2-parse.h"
#include "util/time.h"

#define EC2_VERSION	    "2016-11-15"
#define DEFAULT_ROOT_DEVICE "/dev/xvda"
#define SPOT_OPTIONS	    "InstanceMarketOptions.SpotOptions"

/* "&<name>=<value>", the name built from fmt (never needs encoding), the value encoded. */
static void param(struct buf *b, const char *value, const char *fmt, ...) PRINTF_LIKE(3, 4);
static void param(struct buf *b, const char *value, const char *fmt, ...)
{
	va_list ap;

	buf_putc(b, '&');
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
	buf_putc(b, '=');
	buf_uri_encode(b, value, strlen(value), 0);
}

/* One EC2 call: 0 with the response body in *out, or -1 with err_set and *out_code. */
static int ec2_call(struct buf *out, char **out_code, struct aws_client *c, const char *action,
		    struct buf *params)
{
	struct aws_response res;
	int ret = -1;

	memset(&res, 0, sizeof(res));
	if (out_code)
		*out_code = NULL;
	if (aws_query(&res, c, "ec2", action, EC2_VERSION, buf_cstr(params))) {
		if (out_code && res.error.code)
			*out_code = xstrdup(res.error.code);
		goto out;
	}
	buf_release(out);
	*out = res.body;
	memset(&res.body, 0, sizeof(res.body));
	ret = 0;
out:
	aws_response_release(&res);
	return ret;
}

int ec2_image_root_device(char **out, int *out_gib, char **out_code, struct aws_client *c,
			  const char *ami)
{
	struct buf params = BUF_INIT, body = BUF_INIT;
	int ret = -1;

	*out = NULL;
	*out_gib = 0;
	param(&params, ami, "ImageId.1");
	if (ec2_call(&body, out_code, c, "DescribeImages", &params) ||
	    ec2_parse_root_device(out, out_gib, body.ptr, body.len))
		goto out;
	if (!*out)
		*out = xstrdup(DEFAULT_ROOT_DEVICE);
	ret = 0;
out:
	buf_release(&params);
	buf_release(&body);
	return ret;
}

static void tags_spec(struct buf *b, int n, const char *type, const struct ec2_tag *tags,
		      size_t nr_tags)
{
	size_t i;

	param(b, type, "TagSpecification.%d.ResourceType", n);
	for (i = 0; i < nr_tags; i++) {
		param(b, tags[i].key, "TagSpecification.%d.Tag.%zu.Key", n, i + 1);
		param(b, tags[i].value, "TagSpecification.%d.Tag.%zu.Value", n, i + 1);
	}
}

static void tag_specification(struct buf *b, int n, const char *type, const struct ec2_launch *l)
{
	tags_spec(b, n, type, l->tags, l->nr_tags);
}

static void user_data(struct buf *b, const char *text)
{
	size_t len = strlen(text);
	unsigned char *b64 = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock(b64, (const unsigned char *)text, (int)len);
	param(b, (const char *)b64, "UserData");
	free(b64);
}

/* "&Filter.N.Name=...&Filter.N.Value.M=..." as ec2_describe_instances() documents them */
static void filter_params(struct buf *b, const struct ec2_tag *filters, size_t nr_filters)
{
	size_t i, n, v;

	for (i = 0, n = 0, v = 0; i < nr_filters; i++) {
		if (!i || strcmp(filters[i].key, filters[i - 1].key)) {
			param(b, filters[i].key, "Filter.%zu.Name", ++n);
			v = 0;
		}
		param(b, filters[i].value, "Filter.%zu.Value.%zu", n, ++v);
	}
}

static int run_params(struct buf *b, char **out_code, struct aws_client *c,
		      const struct ec2_launch *l)
{
	int gib;

	param(b, l->ami, "ImageId");
	param(b, l->instance_type, "InstanceType");
	buf_printf(b, "&MinCount=1&MaxCount=%d", l->count > 1 ? l->count : 1);
	if (l->client_token)
		param(b, l->client_token, "ClientToken");
	if (l->spot && l->persistent) {
		buf_puts(b, "&InstanceMarketOptions.MarketType=spot");
		buf_puts(b, "&" SPOT_OPTIONS ".SpotInstanceType=persistent");
		buf_puts(b, "&" SPOT_OPTIONS ".InstanceInterruptionBehavior=stop");
		if (l->valid_until > 0) {
			char until[TIME_ISO8601_SIZE];

			time_format_iso8601(until, l->valid_until);
			param(b, until, SPOT_OPTIONS ".ValidUntil");
		}
	} else if (l->spot) {
		buf_puts(b, "&InstanceMarketOptions.MarketType=spot");
		buf_puts(b, "&" SPOT_OPTIONS ".SpotInstanceType=one-time");
		buf_puts(b, "&" SPOT_OPTIONS ".InstanceInterruptionBehavior=terminate");
	}
	if (l->az)
		param(b, l->az, "Placement.AvailabilityZone");
	if (l->placement_group)
		param(b, l->placement_group, "Placement.GroupName");
	if (l->subnet)
		param(b, l->subnet, "SubnetId");
	if (l->security_group)
		param(b, l->security_group, "SecurityGroupId.1");
	if (l->extra_security_group)
		param(b, l->extra_security_group, "SecurityGroupId.%d", l->security_group ? 2 : 1);
	if (l->instance_profile)
		param(b, l->instance_profile, "IamInstanceProfile.Name");
	if (l->user_data)
		user_data(b, l->user_data);
	/* IMDSv2 only; the endpoint stays on for the runner's spot notices */
	buf_puts(b, "&MetadataOptions.HttpTokens=required&MetadataOptions.HttpEndpoint=enabled");
	buf_puts(b, "&InstanceInitiatedShutdownBehavior=terminate");
	/*
	 * The root volume: encrypted, even in an account that does not by
	 * default. The AMI's size unless told otherwise, said (EC2 would keep
	 * it anyway; emulators want a size or a snapshot).
	 */
	if (l->root_device) {
		param(b, l->root_device, "BlockDeviceMapping.1.DeviceName");
		gib = l->root_gib;
	} else {
		char *dev;

		if (ec2_image_root_device(&dev, &gib, out_code, c, l->ami))
			return -1;
		param(b, dev, "BlockDeviceMapping.1.DeviceName");
		free(dev);
	}
	buf_puts(b, "&BlockDeviceMapping.1.Ebs.Encrypted=true"
		    "&BlockDeviceMapping.1.Ebs.DeleteOnTermination=true");
	if (l->volume_size_gib > 0) {
		buf_printf(b, "&BlockDeviceMapping.1.Ebs.VolumeSize=%d", l->volume_size_gib);
		buf_puts(b, "&BlockDeviceMapping.1.Ebs.VolumeType=gp3");
	} else if (gib > 0) {
		buf_printf(b, "&BlockDeviceMapping.1.Ebs.VolumeSize=%d", gib);
	}
	if (l->nr_tags) {
		tag_specification(b, 1, "instance", l);
		tag_specification(b, 2, "volume", l);
		/* the request is found, and the instance role may cancel it, by these */
		if (l->spot && l->persistent)
			tag_specification(b, 3, "spot-instances-request", l);
	}
	return 0;
}

int ec2_run_instances(struct ec2_instance **out, size_t *out_nr, char **out_code,
		      struct aws_client *c, const struct ec2_launch *l)
{
	struct buf params = BUF_INIT, body = BUF_INIT;
	struct ec2_instance *v = NULL;
	size_t nr = 0;
	int ret = -1;

	*out = NULL;
	*out_nr = 0;
	if (out_code)
		*out_code = NULL;
	if (run_params(&params, out_code, c, l) ||
	    ec2_call(&body, out_code, c, "RunInstances", &params) ||
	    ec2_parse_instances(&v, &nr, NULL, body.ptr, body.len))
		goto out;
	if (!nr) {
		err_set("RunInstances: no instance in the response");
		goto out;
	}
	*out = v;
	*out_nr = nr;
	v = NULL;
	nr = 0;
	ret = 0;
out:
	ec2_instances_free(v, nr);
	buf_release(&params);
	buf_release(&body);
	return ret;
}

int ec2_run_instance(struct ec2_instance *out, char **out_code, struct aws_client *c,
		     const struct ec2_launch *l)
{
	struct ec2_launch one = *l;
	struct ec2_instance *v = NULL;
	size_t nr = 0;

	memset(out, 0, sizeof(*out));
	one.count = 1;
	if (ec2_run_instances(&v, &nr, out_code, c, &one))
		return -1;
	*out = v[0];
	memset(&v[0], 0, sizeof(v[0]));
	ec2_instances_free(v, nr);
	return 0;
}

/* One page of a Describe* answer into the caller's array (ec2-parse.h). */
typedef int (*page_parser)(void *out, size_t *out_nr, char **token, const char *body, size_t len);

/*
 * Describe<action>, every page: ids as <id_param>.N, then the filters.
 * 0, or -1 with nothing in *out_nr (the caller frees what *out holds).
 */
static int describe_pages(void *out, size_t *out_nr, struct aws_client *c, const char *action,
			  const char *id_param, const char *const *ids, size_t nr_ids,
			  const struct ec2_tag *filters, size_t nr_filters, page_parser parse)
{
	struct buf params = BUF_INIT, body = BUF_INIT;
	char *token = NULL;
	size_t i;
	int ret = -1;

	do {
		buf_reset(&params);
		for (i = 0; i < nr_ids; i++)
			param(&params, ids[i], "%s.%zu", id_param, i + 1);
		filter_params(&params, filters, nr_filters);
		if (token)
			param(&params, token, "NextToken");
		free(token);
		token = NULL;
		if (ec2_call(&body, NULL, c, action, &params) ||
		    parse(out, out_nr, &token, body.ptr, body.len))
			goto out;
	} while (token);
	ret = 0;
out:
	free(token);
	buf_release(&params);
	buf_release(&body);
	return ret;
}

static int parse_instances(void *out, size_t *out_nr, char **token, const char *body, size_t len)
{
	return ec2_parse_instances(out, out_nr, token, body, len);
}

int ec2_describe_instances(struct ec2_instance **out, size_t *out_nr, struct aws_client *c,
			   const char *const *ids, size_t nr_ids, const struct ec2_tag *filters,
			   size_t nr_filters)
{
	*out = NULL;
	*out_nr = 0;
	if (!describe_pages(out, out_nr, c, "DescribeInstances", "InstanceId", ids, nr_ids, filters,
			    nr_filters, parse_instances))
		return 0;
	ec2_instances_free(*out, *out_nr);
	*out = NULL;
	*out_nr = 0;
	return -1;
}

static int ids_call_once(char **out_code, struct aws_client *c, const char *action,
			 const char *id_param, const char *const *ids, size_t nr)
{
	struct buf params = BUF_INIT, body = BUF_INIT;
	size_t i;
	int ret;

	for (i = 0; i < nr; i++)
		param(&params, ids[i], "%s.%zu", id_param, i + 1);
	ret = ec2_call(&body, out_code, c, action, &params);
	buf_release(&params);
	buf_release(&body);
	return ret;
}

/*
 * <action> of ids (<id_param>.N), where an id the service does not know
 * (not_found, its error code) counts as done. 0, or -1.
 */
static int ids_call(struct aws_client *c, const char *action, const char *id_param,
		    const char *not_found, const char *const *ids, size_t nr)
{
	char *code = NULL;
	size_t i;
	int ret = 0;

	if (!nr || !ids_call_once(&code, c, action, id_param, ids, nr))
		goto out;
	if (!code || strcmp(code, not_found)) {
		ret = -1;
		goto out;
	}
	err_clear();
	/* one unknown id fails the whole call: the others still have to go */
	for (i = 0; nr > 1 && i < nr && !ret; i++) {
		free(code);
		code = NULL;
		if (ids_call_once(&code, c, action, id_param, &ids[i], 1) &&
		    (!code || strcmp(code, not_found)))
			ret = -1;
		else
			err_clear();
	}
out:
	free(code);
	return ret;
}

/* TerminateInstances. A missing instance (InvalidInstanceID.NotFound) counts as terminated. */
int ec2_terminate_instances(struct aws_client *c, const char *const *ids, size_t nr)
{
	return ids_call(c, "TerminateInstances", "InstanceId", "InvalidInstanceID.NotFound", ids,
			nr);
}

static int parse_spot_requests(void *out, size_t *out_nr, char **token, const char *body,
			       size_t len)
{
	return ec2_parse_spot_requests(out, out_nr, token, body, len);
}

int ec2_describe_spot_requests(struct ec2_spot_request **out, size_t *out_nr, struct aws_client *c,
			       const char *const *ids, size_t nr_ids, const struct ec2_tag *filters,
			       size_t nr_filters)
{
	*out = NULL;
	*out_nr = 0;
	if (!describe_pages(out, out_nr, c, "DescribeSpotInstanceRequests", "SpotInstanceRequestId",
			    ids, nr_ids, filters, nr_filters, parse_spot_requests))
		return 0;
	ec2_spot_requests_free(*out, *out_nr);
	*out = NULL;
	*out_nr = 0;
	return -1;
}

/* CancelSpotInstanceRequests. An unknown request counts as cancelled. */
int ec2_cancel_spot_requests(struct aws_client *c, const char *const *ids, size_t nr)
{
	return ids_call(c, "CancelSpotInstanceRequests", "SpotInstanceRequestId",
			"InvalidSpotInstanceRequestID.NotFound", ids, nr);
}

void ec2_spot_requests_free(struct ec2_spot_request *v, size_t nr)
{
	size_t i, n;

	for (i = 0; i < nr; i++) {
		free(v[i].id);
		free(v[i].state);
		free(v[i].status);
		free(v[i].instance_id);
		for (n = 0; n < v[i].nr_tags; n++) {
			free(v[i].tags[n].key);
			free(v[i].tags[n].value);
		}
		free(v[i].tags);
	}
	free(v);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ec2_availability_zones(struct strvec *out, struct aws_client *c)
{
	struct buf params = BUF_INIT, body = BUF_INIT;
	int ret = -1;

	buf_puts(&params, "&Filter.1.Name=state&Filter.1.Value.1=available");
	if (ec2_call(&body, NULL, c, "DescribeAvailabilityZones", &params) ||
	    ec2_parse_zones(out, body.ptr, body.len))
		goto out;
	if (out->nr)
		qsort(out->v, out->nr, sizeof(*out->v), cmp_str);
	ret = 0;
out:
	buf_release(&params);
	buf_release(&body);
	return ret;
}

int ec2_spot_price(double *out, char **out_az, struct aws_client *c, const char *type)
{
	struct buf params = BUF_INIT, body = BUF_INIT;
	struct ec2_spot_entry *v = NULL;
	const char *az = NULL;
	char *token = NULL, now[TIME_ISO8601_SIZE];
	time_t t = time(NULL);
	size_t nr = 0;
	int ret = -1;

	*out = -1;
	if (out_az)
		*out_az = NULL;
	time_format_iso8601(now, t);
	do {
		buf_reset(&params);
		param(&params, type, "InstanceType.1");
		param(&params, "Linux/UNIX", "ProductDescription.1");
		param(&params, now, "StartTime");
		if (token)
			param(&params, token, "NextToken");
		free(token);
		token = NULL;
		if (ec2_call(&body, NULL, c, "DescribeSpotPriceHistory", &params) ||
		    ec2_parse_spot_prices(&v, &nr, &token, body.ptr, body.len))
			goto out;
	} while (token);
	ret = ec2_spot_lowest(out, &az, v, nr);
	if (!ret && out_az)
		*out_az = xstrdup(az);
out:
	free(token);
	ec2_spot_entries_free(v, nr);
	buf_release(&params);
	buf_release(&body);
	return ret;
}

/* One call whose answer is a single value at path (NULL: none wanted). */
static int call_text(char **out, char **out_code, struct aws_client *c, const char *action,
		     struct buf *params, const char *path)
{
	struct buf body = BUF_INIT;
	int ret = ec2_call(&body, out_code, c, action, params);

	if (!ret && out)
		ret = ec2_parse_text(out, path, body.ptr, body.len);
	buf_release(&body);
	buf_release(params);
	return ret;
}

/* A call that fails with not_found for what is already gone: that counts as done. */
static int call_gone_ok(char **out_code, struct aws_client *c, const char *action,
			struct buf *params, const char *not_found)
{
	char *code = NULL;
	int ret = call_text(NULL, &code, c, action, params, NULL);

	if (ret && code && !strcmp(code, not_found)) {
		err_clear();
		ret = 0;
	}
	if (out_code)
		*out_code = code;
	else
		free(code);
	return ret;
}

int ec2_create_placement_group(char **out_code, struct aws_client *c, const char *name,
			       const struct ec2_tag *tags, size_t nr_tags)
{
	struct buf params = BUF_INIT;

	param(&params, name, "GroupName");
	buf_puts(&params, "&Strategy=cluster");
	if (nr_tags)
		tags_spec(&params, 1, "placement-group", tags, nr_tags);
	return call_text(NULL, out_code, c, "CreatePlacementGroup", &params, NULL);
}

int ec2_delete_placement_group(char **out_code, struct aws_client *c, const char *name)
{
	struct buf params = BUF_INIT;

	param(&params, name, "GroupName");
	return call_gone_ok(out_code, c, "DeletePlacementGroup", &params,
			    "InvalidPlacementGroup.Unknown");
}

static int parse_placement_groups(void *out, size_t *out_nr, char **token, const char *body,
				  size_t len)
{
	return ec2_parse_groups(out, out_nr, token, "placementGroupSet/item", body, len);
}

static int parse_security_groups(void *out, size_t *out_nr, char **token, const char *body,
				 size_t len)
{
	return ec2_parse_groups(out, out_nr, token, "securityGroupInfo/item", body, len);
}

int ec2_describe_placement_groups(struct ec2_group **out, size_t *out_nr, struct aws_client *c,
				  const struct ec2_tag *filters, size_t nr_filters)
{
	*out = NULL;
	*out_nr = 0;
	if (!describe_pages(out, out_nr, c, "DescribePlacementGroups", "GroupName", NULL, 0,
			    filters, nr_filters, parse_placement_groups))
		return 0;
	ec2_groups_free(*out, *out_nr);
	*out = NULL;
	*out_nr = 0;
	return -1;
}

int ec2_describe_security_groups(struct ec2_group **out, size_t *out_nr, struct aws_client *c,
				 const struct ec2_tag *filters, size_t nr_filters)
{
	*out = NULL;
	*out_nr = 0;
	if (!describe_pages(out, out_nr, c, "DescribeSecurityGroups", "GroupId", NULL, 0, filters,
			    nr_filters, parse_security_groups))
		return 0;
	ec2_groups_free(*out, *out_nr);
	*out = NULL;
	*out_nr = 0;
	return -1;
}

int ec2_vpc_of(char **out, struct aws_client *c, const char *subnet)
{
	struct buf params = BUF_INIT;

	*out = NULL;
	if (subnet) {
		param(&params, subnet, "SubnetId.1");
		if (call_text(out, NULL, c, "DescribeSubnets", &params, "subnetSet/item/vpcId"))
			return -1;
		if (!*out)
			return err_set("no subnet %s in this region", subnet);
		return 0;
	}
	buf_puts(&params, "&Filter.1.Name=isDefault&Filter.1.Value.1=true");
	if (call_text(out, NULL, c, "DescribeVpcs", &params, "vpcSet/item/vpcId"))
		return -1;
	if (!*out)
		return err_set("this region has no default VPC");
	return 0;
}

int ec2_create_security_group(char **out_id, char **out_code, struct aws_client *c,
			      const char *name, const char *description, const char *vpc,
			      const struct ec2_tag *tags, size_t nr_tags)
{
	struct buf params = BUF_INIT;

	*out_id = NULL;
	param(&params, name, "GroupName");
	param(&params, description, "GroupDescription");
	if (vpc)
		param(&params, vpc, "VpcId");
	if (nr_tags)
		tags_spec(&params, 1, "security-group", tags, nr_tags);
	if (call_text(out_id, out_code, c, "CreateSecurityGroup", &params, "groupId"))
		return -1;
	if (!*out_id)
		return err_set("CreateSecurityGroup: no groupId in the response");
	return 0;
}

int ec2_authorize_group_ingress(struct aws_client *c, const char *group)
{
	struct buf params = BUF_INIT;

	param(&params, group, "GroupId");
	buf_puts(&params, "&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=0"
			  "&IpPermissions.1.ToPort=65535");
	param(&params, group, "IpPermissions.1.Groups.1.GroupId");
	return call_text(NULL, NULL, c, "AuthorizeSecurityGroupIngress", &params, NULL);
}

int ec2_delete_security_group(char **out_code, struct aws_client *c, const char *group)
{
	struct buf params = BUF_INIT;

	param(&params, group, "GroupId");
	return call_gone_ok(out_code, c, "DeleteSecurityGroup", &params, "InvalidGroup.NotFound");
}

void ec2_groups_free(struct ec2_group *v, size_t nr)
{
	size_t i, n;

	for (i = 0; i < nr; i++) {
		free(v[i].id);
		free(v[i].name);
		free(v[i].state);
		free(v[i].vpc);
		for (n = 0; n < v[i].nr_tags; n++) {
			free(v[i].tags[n].key);
			free(v[i].tags[n].value);
		}
		free(v[i].tags);
	}
	free(v);
}

const char *ec2_instance_tag(const struct ec2_instance *i, const char *key)
{
	size_t n;

	for (n = 0; n < i->nr_tags; n++)
		if (!strcmp(i->tags[n].key, key))
			return i->tags[n].value;
	return NULL;
}

void ec2_instance_release(struct ec2_instance *i)
{
	size_t n;

	free(i->id);
	free(i->type);
	free(i->state);
	free(i->az);
	free(i->lifecycle);
	free(i->state_reason);
	free(i->spot_request);
	free(i->private_ip);
	for (n = 0; n < i->nr_tags; n++) {
		free(i->tags[n].key);
		free(i->tags[n].value);
	}
	free(i->tags);
	memset(i, 0, sizeof(*i));
}

void ec2_instances_free(struct ec2_instance *v, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++)
		ec2_instance_release(&v[i]);
	free(v);
}

enum ec2_error_class ec2_error_class(const char *code)
{
	static const struct {
		const char *code;
		enum ec2_error_class class;
	} table[] = {
		{ "InsufficientInstanceCapacity", EC2_ERR_CAPACITY },
		{ "InsufficientCapacity", EC2_ERR_CAPACITY },
		{ "UnfulfillableCapacity", EC2_ERR_CAPACITY },
		{ "MaxSpotInstanceCountExceeded", EC2_ERR_QUOTA },
		{ "VcpuLimitExceeded", EC2_ERR_QUOTA },
		{ "InstanceLimitExceeded", EC2_ERR_QUOTA },
		{ "SpotMaxPriceTooLow", EC2_ERR_PRICE },
		{ "RequestLimitExceeded", EC2_ERR_TRANSIENT },
		{ "InternalError", EC2_ERR_TRANSIENT },
		{ "ServiceUnavailable", EC2_ERR_TRANSIENT },
		{ "Unavailable", EC2_ERR_TRANSIENT },
	};
	size_t i;

	for (i = 0; code && i < ARRAY_SIZE(table); i++)
		if (!strcmp(code, table[i].code))
			return table[i].class;
	return EC2_ERR_OTHER;
}

int ec2_wait_terminated(struct aws_client *c, const char *const *ids, size_t nr, double timeout,
			const volatile sig_atomic_t *cancel)
{
	double until = now_monotonic() + timeout;
	struct ec2_instance *v = NULL;
	size_t n = 0, i, left;

	for (;;) {
		if (ec2_describe_instances(&v, &n, c, ids, nr, NULL, 0)) {
			err_clear();
			left = nr;
		} else {
			for (i = 0, left = 0; i < n; i++)
				if (!v[i].state || strcmp(v[i].state, "terminated"))
					left++;
		}
		ec2_instances_free(v, n);
		v = NULL;
		n = 0;
		if (!left)
			return 0;
		if (now_monotonic() >= until || sleep_unless_cancelled(cancel, poll_interval(2)))
			return 1;
	}
}
