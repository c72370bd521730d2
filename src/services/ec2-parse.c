#include "services/ec2-parse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/time.h"
#include "util/util.h"
#include "util/xml.h"

/* EC2 writes absent values as empty elements (<reason/>): both mean none here. */
static char *text_or_null(xmlNodePtr from, const char *path)
{
	char *s = xml_path_text(from, path);

	if (s && !*s) {
		free(s);
		s = NULL;
	}
	return s;
}

static void parse_tags(struct ec2_tag **tags, size_t *nr_tags, xmlNodePtr set)
{
	xmlNodePtr item;
	size_t n = 0;

	for (item = xml_child(set, "item"); item; item = xml_next(item, "item"))
		n++;
	if (!n)
		return;
	*tags = xcalloc(n, sizeof(**tags));
	for (item = xml_child(set, "item"); item; item = xml_next(item, "item")) {
		char *key = xml_path_text(item, "key");

		if (!key)
			continue;
		(*tags)[*nr_tags].key = key;
		(*tags)[*nr_tags].value = xml_path_text(item, "value");
		if (!(*tags)[*nr_tags].value)
			(*tags)[*nr_tags].value = xstrdup("");
		(*nr_tags)++;
	}
}

static int parse_instance(struct ec2_instance *out, xmlNodePtr item)
{
	char *launched;

	memset(out, 0, sizeof(*out));
	out->id = text_or_null(item, "instanceId");
	if (!out->id)
		return err_set("malformed EC2 response: an instance without instanceId");
	out->type = text_or_null(item, "instanceType");
	out->state = text_or_null(item, "instanceState/name");
	out->az = text_or_null(item, "placement/availabilityZone");
	out->lifecycle = text_or_null(item, "instanceLifecycle");
	out->state_reason = text_or_null(item, "stateReason/message");
	out->spot_request = text_or_null(item, "spotInstanceRequestId");
	out->private_ip = text_or_null(item, "privateIpAddress");
	launched = text_or_null(item, "launchTime");
	if (launched && time_parse_iso8601(&out->launched, launched))
		out->launched = 0;
	free(launched);
	parse_tags(&out->tags, &out->nr_tags, xml_child(item, "tagSet"));
	return 0;
}

static int parse_set(struct ec2_instance **v, size_t *nr, size_t *alloc, xmlNodePtr set)
{
	xmlNodePtr item;

	for (item = xml_child(set, "item"); item; item = xml_next(item, "item")) {
		if (*nr == *alloc) {
			*alloc = *alloc ? 2 * *alloc : 4;
			*v = xrealloc(*v, *alloc * sizeof(**v));
		}
		if (parse_instance(&(*v)[*nr], item)) {
			ec2_instance_release(&(*v)[*nr]);
			return -1;
		}
		(*nr)++;
	}
	return 0;
}

static int parse_doc(xmlDocPtr *out, const char *xml, size_t len)
{
	if (xml_parse(out, xml ? xml : "", len))
		return -1;
	if (!xml_root(*out)) {
		xml_free(*out);
		*out = NULL;
		return err_set("malformed EC2 response: an empty document");
	}
	return 0;
}

int ec2_parse_instances(struct ec2_instance **v, size_t *nr, char **out_next_token, const char *xml,
			size_t len)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root, r;
	size_t alloc = *nr;
	int ret = -1;

	if (out_next_token)
		*out_next_token = NULL;
	if (parse_doc(&doc, xml, len))
		return -1;
	root = xml_root(doc);
	/* RunInstances answers with one reservation, DescribeInstances with a set */
	if (parse_set(v, nr, &alloc, xml_child(root, "instancesSet")))
		goto out;
	for (r = xml_path(root, "reservationSet/item"); r; r = xml_next(r, "item"))
		if (parse_set(v, nr, &alloc, xml_child(r, "instancesSet")))
			goto out;
	if (out_next_token)
		*out_next_token = text_or_null(root, "nextToken");
	ret = 0;
out:
	xml_free(doc);
	return ret;
}

int ec2_parse_zones(struct strvec *out, const char *xml, size_t len)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr item;

	if (parse_doc(&doc, xml, len))
		return -1;
	for (item = xml_path(xml_root(doc), "availabilityZoneInfo/item"); item;
	     item = xml_next(item, "item")) {
		char *name = text_or_null(item, "zoneName");
		char *state = text_or_null(item, "zoneState");
		char *type = text_or_null(item, "zoneType");

		/* Local and Wavelength Zones are no place for a training run. */
		if (name && state && !strcmp(state, "available") &&
		    (!type || !strcmp(type, "availability-zone"))) {
			strvec_push_nodup(out, name);
			name = NULL;
		}
		free(name);
		free(state);
		free(type);
	}
	xml_free(doc);
	return 0;
}

int ec2_parse_root_device(char **out, int *out_gib, const char *xml, size_t len)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr item;

	*out = NULL;
	*out_gib = 0;
	if (parse_doc(&doc, xml, len))
		return -1;
	*out = text_or_null(xml_root(doc), "imagesSet/item/rootDeviceName");
	item = xml_path(xml_root(doc), "imagesSet/item/blockDeviceMapping");
	for (item = item ? xml_child(item, "item") : NULL; item && *out;
	     item = xml_next(item, "item")) {
		char *name = text_or_null(item, "deviceName");
		char *size =
			name && !strcmp(name, *out) ? text_or_null(item, "ebs/volumeSize") : NULL;
		long gib = size ? strtol(size, NULL, 10) : 0;

		if (gib > 0 && gib <= 65536)
			*out_gib = (int)gib;
		free(name);
		free(size);
	}
	xml_free(doc);
	return 0;
}

static int parse_price(double *out, const char *s)
{
	char *end;

	errno = 0;
	*out = s ? strtod(s, &end) : -1;
	if (!s || errno || end == s || *end || !isfinite(*out) || *out < 0)
		return err_set("malformed EC2 response: a spot price of '%s'", s ? s : "");
	return 0;
}

static int parse_spot_entry(struct ec2_spot_entry *out, xmlNodePtr item)
{
	char *price = text_or_null(item, "spotPrice");
	char *when = text_or_null(item, "timestamp");
	int ret = -1;

	memset(out, 0, sizeof(*out));
	out->az = text_or_null(item, "availabilityZone");
	if (!out->az) {
		err_set("malformed EC2 response: a spot price without availabilityZone");
		goto out;
	}
	if (parse_price(&out->price, price))
		goto out;
	if (when && time_parse_iso8601(&out->when, when))
		out->when = 0;
	ret = 0;
out:
	if (ret) {
		free(out->az);
		out->az = NULL;
	}
	free(price);
	free(when);
	return ret;
}

int ec2_parse_spot_prices(struct ec2_spot_entry **v, size_t *nr, char **out_next_token,
			  const char *xml, size_t len)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr item;
	int ret = -1;

	if (out_next_token)
		*out_next_token = NULL;
	if (parse_doc(&doc, xml, len))
		return -1;
	for (item = xml_path(xml_root(doc), "spotPriceHistorySet/item"); item;
	     item = xml_next(item, "item")) {
		*v = xrealloc(*v, (*nr + 1) * sizeof(**v));
		if (parse_spot_entry(&(*v)[*nr], item))
			goto out;
		(*nr)++;
	}
	if (out_next_token)
		*out_next_token = text_or_null(xml_root(doc), "nextToken");
	ret = 0;
out:
	xml_free(doc);
	return ret;
}

/* Whether entry i is its zone's latest (the first of equal ones). */
static int is_latest(const struct ec2_spot_entry *v, size_t nr, size_t i)
{
	size_t j;

	for (j = 0; j < nr; j++) {
		if (j == i || strcmp(v[j].az, v[i].az))
			continue;
		if (v[j].when > v[i].when || (v[j].when == v[i].when && j < i))
			return 0;
	}
	return 1;
}

int ec2_spot_lowest(double *out, const char **out_az, const struct ec2_spot_entry *v, size_t nr)
{
	size_t i, best = nr;

	for (i = 0; i < nr; i++) {
		if (!is_latest(v, nr, i))
			continue;
		if (best == nr || v[i].price < v[best].price ||
		    (v[i].price == v[best].price && strcmp(v[i].az, v[best].az) < 0))
			best = i;
	}
	if (best == nr)
		return 1;
	*out = v[best].price;
	if (out_az)
		*out_az = v[best].az;
	return 0;
}

void ec2_spot_entries_free(struct ec2_spot_entry *v, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++)
		free(v[i].az);
	free(v);
}

static int parse_spot_request(struct ec2_spot_request *out, xmlNodePtr item)
{
	memset(out, 0, sizeof(*out));
	out->id = text_or_null(item, "spotInstanceRequestId");
	if (!out->id)
		return err_set(
			"malformed EC2 response: a spot request without spotInstanceRequestId");
	out->state = text_or_null(item, "state");
	out->status = text_or_null(item, "status/code");
	out->instance_id = text_or_null(item, "instanceId");
	parse_tags(&out->tags, &out->nr_tags, xml_child(item, "tagSet"));
	return 0;
}

int ec2_parse_spot_requests(struct ec2_spot_request **v, size_t *nr, char **out_next_token,
			    const char *xml, size_t len)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr item;
	int ret = -1;

	if (out_next_token)
		*out_next_token = NULL;
	if (parse_doc(&doc, xml, len))
		return -1;
	for (item = xml_path(xml_root(doc), "spotInstanceRequestSet/item"); item;
	     item = xml_next(item, "item")) {
		*v = xrealloc(*v, (*nr + 1) * sizeof(**v));
		/* fails before it allocates anything */
		if (parse_spot_request(&(*v)[*nr], item))
			goto out;
		(*nr)++;
	}
	if (out_next_token)
		*out_next_token = text_or_null(xml_root(doc), "nextToken");
	ret = 0;
out:
	xml_free(doc);
	return ret;
}

static void parse_group(struct ec2_group *out, xmlNodePtr item)
{
	memset(out, 0, sizeof(*out));
	out->id = text_or_null(item, "groupId");
	out->name = text_or_null(item, "groupName");
	out->state = text_or_null(item, "state");
	out->vpc = text_or_null(item, "vpcId");
	parse_tags(&out->tags, &out->nr_tags, xml_child(item, "tagSet"));
}

int ec2_parse_groups(struct ec2_group **v, size_t *nr, char **out_next_token, const char *set,
		     const char *xml, size_t len)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr item;

	if (out_next_token)
		*out_next_token = NULL;
	if (parse_doc(&doc, xml, len))
		return -1;
	for (item = xml_path(xml_root(doc), set); item; item = xml_next(item, "item")) {
		*v = xrealloc(*v, (*nr + 1) * sizeof(**v));
		parse_group(&(*v)[(*nr)++], item);
	}
	if (out_next_token)
		*out_next_token = text_or_null(xml_root(doc), "nextToken");
	xml_free(doc);
	return 0;
}

int ec2_parse_text(char **out, const char *path, const char *xml, size_t len)
{
	xmlDocPtr doc = NULL;

	*out = NULL;
	if (parse_doc(&doc, xml, len))
		return -1;
	*out = text_or_null(xml_root(doc), path);
	xml_free(doc);
	return 0;
}
