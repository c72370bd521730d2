/* aws-checks: STS, IAM, SSM and EC2 (the Query and JSON services). S3 is in aws-checks-s3.c. */
#include "services/aws-checks.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "util/xml.h"

#define IAM_VERSION "2010-05-08"
#define EC2_VERSION "2016-11-15"

static void param(struct buf *b, const char *name, const char *value)
{
	buf_printf(b, "&%s=", name);
	buf_uri_encode(b, value, strlen(value), 0);
}

static int code_is(const struct aws_response *res, const char *code)
{
	return res->error.code && !strcmp(res->error.code, code);
}

/*
 * One Query call and its parsed response. Returns AWS_CHECKS_NOT_FOUND when
 * the service answered with not_found_code (err_msg() says what), else 0 or -1.
 */
static int query_xml(xmlDocPtr *out, struct aws_client *c, const char *service, const char *action,
		     const char *version, const char *params, const char *not_found_code)
{
	struct aws_response res;
	int ret = -1;

	*out = NULL;
	memset(&res, 0, sizeof(res));
	if (aws_query(&res, c, service, action, version, params)) {
		if (not_found_code && code_is(&res, not_found_code))
			ret = AWS_CHECKS_NOT_FOUND;
		goto out;
	}
	ret = xml_parse(out, res.body.ptr ? res.body.ptr : "", res.body.len);
out:
	aws_response_release(&res);
	return ret;
}

int aws_checks_identity(struct aws_identity *out, struct aws_client *c)
{
	static const char body[] = "Action=GetCallerIdentity&Version=2011-06-15";
	struct aws_request req;
	struct aws_response res;
	xmlDocPtr doc = NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	memset(&res, 0, sizeof(res));
	memset(&req, 0, sizeof(req));
	req.protocol = AWS_PROTOCOL_QUERY;
	req.service = "sts";
	/* STS answers in every region: without one, who the caller is can still be told */
	if (!c->settings.region || !*c->settings.region)
		req.region = "us-east-1";
	req.body = body;
	req.body_len = strlen(body);
	if (aws_send(&res, c, &req)) {
		if (res.error.code)
			out->error_code = xstrdup(res.error.code);
		goto out;
	}
	if (xml_parse(&doc, res.body.ptr ? res.body.ptr : "", res.body.len))
		goto out;
	out->arn = xml_path_text(xml_root(doc), "GetCallerIdentityResult/Arn");
	out->account = xml_path_text(xml_root(doc), "GetCallerIdentityResult/Account");
	if (!out->arn || !out->account) {
		err_set("GetCallerIdentity: no Arn or Account in the response");
		goto out;
	}
	ret = 0;
out:
	xml_free(doc);
	aws_response_release(&res);
	return ret;
}

void aws_checks_identity_release(struct aws_identity *id)
{
	free(id->account);
	free(id->arn);
	free(id->error_code);
	memset(id, 0, sizeof(*id));
}

/* The text of every <member>/<item> below list, or of its child field when field is set. */
static void collect(struct strvec *out, xmlNodePtr list, const char *member, const char *field)
{
	xmlNodePtr m;

	for (m = xml_child(list, member); m; m = xml_next(m, member)) {
		char *s = field ? xml_path_text(m, field) : xml_text(m);

		if (s)
			strvec_push_nodup(out, s);
	}
}

/* An IAM listing, following IsTruncated/Marker to the end. */
static int iam_list(struct strvec *out, struct aws_client *c, const char *action, const char *role,
		    const char *list, const char *field)
{
	struct buf params = BUF_INIT, path = BUF_INIT;
	char *marker = NULL, *truncated = NULL;
	xmlDocPtr doc = NULL;
	int ret = -1;

	do {
		buf_reset(&params);
		param(&params, "RoleName", role);
		if (marker)
			param(&params, "Marker", marker);
		xml_free(doc);
		if (query_xml(&doc, c, "iam", action, IAM_VERSION, buf_cstr(&params), NULL))
			goto out;
		buf_reset(&path);
		buf_printf(&path, "%sResult/%s", action, list);
		collect(out, xml_path(xml_root(doc), buf_cstr(&path)), "member", field);
		free(marker);
		free(truncated);
		buf_reset(&path);
		buf_printf(&path, "%sResult/Marker", action);
		marker = xml_path_text(xml_root(doc), buf_cstr(&path));
		buf_reset(&path);
		buf_printf(&path, "%sResult/IsTruncated", action);
		truncated = xml_path_text(xml_root(doc), buf_cstr(&path));
	} while (truncated && !strcmp(truncated, "true") && marker && *marker);
	ret = 0;
out:
	xml_free(doc);
	free(marker);
	free(truncated);
	buf_release(&params);
	buf_release(&path);
	return ret;
}

int aws_checks_instance_profile_roles(struct strvec *out, struct aws_client *c, const char *profile)
{
	struct buf params = BUF_INIT;
	xmlDocPtr doc = NULL;
	int ret;

	param(&params, "InstanceProfileName", profile);
	ret = query_xml(&doc, c, "iam", "GetInstanceProfile", IAM_VERSION, buf_cstr(&params),
			"NoSuchEntity");
	if (!ret)
		collect(out,
			xml_path(xml_root(doc), "GetInstanceProfileResult/InstanceProfile/Roles"),
			"member", "RoleName");
	xml_free(doc);
	buf_release(&params);
	return ret;
}

int aws_checks_attached_policies(struct strvec *out, struct aws_client *c, const char *role)
{
	return iam_list(out, c, "ListAttachedRolePolicies", role, "AttachedPolicies", "PolicyArn");
}

int aws_checks_inline_policies(struct strvec *out, struct aws_client *c, const char *role)
{
	return iam_list(out, c, "ListRolePolicies", role, "PolicyNames", NULL);
}

/* One text field of a Query response; a response without it is an error. */
static int iam_text(char **out, struct aws_client *c, const char *action, struct buf *params,
		    const char *path)
{
	xmlDocPtr doc = NULL;
	int ret;

	*out = NULL;
	ret = query_xml(&doc, c, "iam", action, IAM_VERSION, buf_cstr(params), NULL);
	if (!ret) {
		*out = xml_path_text(xml_root(doc), path);
		if (!*out)
			ret = err_set("%s: no %s in the response", action, path);
	}
	xml_free(doc);
	return ret;
}

int aws_checks_role_policy(char **out, struct aws_client *c, const char *role, const char *name)
{
	struct buf params = BUF_INIT;
	int ret;

	param(&params, "RoleName", role);
	param(&params, "PolicyName", name);
	ret = iam_text(out, c, "GetRolePolicy", &params, "GetRolePolicyResult/PolicyDocument");
	buf_release(&params);
	return ret;
}

int aws_checks_policy_document(char **out, struct aws_client *c, const char *policy_arn)
{
	struct buf params = BUF_INIT;
	char *version = NULL;
	int ret;

	*out = NULL;
	param(&params, "PolicyArn", policy_arn);
	ret = iam_text(&version, c, "GetPolicy", &params,
		       "GetPolicyResult/Policy/DefaultVersionId");
	if (ret)
		goto out;
	param(&params, "VersionId", version);
	ret = iam_text(out, c, "GetPolicyVersion", &params,
		       "GetPolicyVersionResult/PolicyVersion/Document");
out:
	free(version);
	buf_release(&params);
	return ret;
}

int aws_checks_ssm_parameter(char **out, struct aws_client *c, const char *name)
{
	struct aws_response res;
	cJSON *req = cJSON_CreateObject(), *doc = NULL;
	const cJSON *value;
	char *body = NULL;
	int ret = -1;

	*out = NULL;
	memset(&res, 0, sizeof(res));
	cJSON_AddStringToObject(req, "Name", name);
	body = cJSON_PrintUnformatted(req);
	if (aws_json(&res, c, "ssm", "AmazonSSM.GetParameter", body)) {
		if (res.error.code && ends_with(res.error.code, "ParameterNotFound"))
			ret = AWS_CHECKS_NOT_FOUND;
		goto out;
	}
	doc = cJSON_ParseWithLength(res.body.ptr ? res.body.ptr : "", res.body.len);
	value = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "Parameter"),
						 "Value");
	if (!cJSON_IsString(value)) {
		err_set("GetParameter: no Parameter.Value in the response");
		goto out;
	}
	*out = xstrdup(value->valuestring);
	ret = 0;
out:
	cJSON_Delete(req);
	cJSON_Delete(doc);
	free(body);
	aws_response_release(&res);
	return ret;
}

static int path_int(xmlNodePtr from, const char *path)
{
	char *s = xml_path_text(from, path);
	int v = s ? atoi(s) : 0;

	free(s);
	return v > 0 ? v : 0;
}

/* GpuInfo: the NVIDIA GPUs only, those the DLAMIs' driver runs. */
static void gpu_info(struct aws_instance_type *out, xmlNodePtr item)
{
	xmlNodePtr gpu;

	for (gpu = xml_child(xml_path(item, "gpuInfo/gpus"), "item"); gpu;
	     gpu = xml_next(gpu, "item")) {
		char *maker = xml_path_text(gpu, "manufacturer");
		int nvidia = maker && !strcasecmp(maker, "NVIDIA");

		free(maker);
		if (!nvidia)
			continue;
		out->gpus += path_int(gpu, "count");
		if (!out->gpu_name) {
			out->gpu_name = xml_path_text(gpu, "name");
			out->gpu_mib = path_int(gpu, "memoryInfo/sizeInMiB");
		}
	}
}

int aws_checks_instance_type_info(struct aws_instance_type *out, struct aws_client *c,
				  const char *type)
{
	struct buf params = BUF_INIT;
	xmlDocPtr doc = NULL;
	xmlNodePtr item;
	int ret;

	memset(out, 0, sizeof(*out));
	param(&params, "InstanceType.1", type);
	ret = query_xml(&doc, c, "ec2", "DescribeInstanceTypes", EC2_VERSION, buf_cstr(&params),
			"InvalidInstanceType");
	if (ret)
		goto out;
	item = xml_path(xml_root(doc), "instanceTypeSet/item");
	if (!item) {
		/* some regions answer an unknown type with an empty set */
		err_set("the instance type '%s' does not exist", type);
		ret = AWS_CHECKS_NOT_FOUND;
		goto out;
	}
	collect(&out->archs, xml_path(item, "processorInfo/supportedArchitectures"), "item", NULL);
	out->vcpus = path_int(item, "vCpuInfo/defaultVCpus");
	gpu_info(out, item);
out:
	xml_free(doc);
	buf_release(&params);
	return ret;
}

void aws_instance_type_release(struct aws_instance_type *t)
{
	strvec_clear(&t->archs);
	free(t->gpu_name);
	memset(t, 0, sizeof(*t));
}

const char *aws_instance_type_arch(const struct aws_instance_type *t)
{
	size_t i;

	for (i = 0; i < t->archs.nr; i++)
		if (!strcmp(t->archs.v[i], "x86_64"))
			return "x86_64";
	for (i = 0; i < t->archs.nr; i++)
		if (!strcmp(t->archs.v[i], "arm64"))
			return "arm64";
	return "x86_64";
}

int aws_checks_instance_type(struct strvec *out, struct aws_client *c, const char *type)
{
	struct aws_instance_type t;
	size_t i;
	int ret = aws_checks_instance_type_info(&t, c, type);

	for (i = 0; i < t.archs.nr; i++)
		strvec_push(out, t.archs.v[i]);
	aws_instance_type_release(&t);
	return ret;
}

int aws_checks_offered_types(struct strvec *out, struct aws_client *c, const char *type)
{
	struct buf params = BUF_INIT;
	char *token = NULL;
	xmlDocPtr doc = NULL;
	int ret = -1;

	do {
		buf_reset(&params);
		buf_puts(&params, "&LocationType=region");
		if (type) {
			param(&params, "Filter.1.Name", "instance-type");
			param(&params, "Filter.1.Value.1", type);
		} else {
			buf_puts(&params, "&MaxResults=1000");
		}
		if (token)
			param(&params, "NextToken", token);
		xml_free(doc);
		if (query_xml(&doc, c, "ec2", "DescribeInstanceTypeOfferings", EC2_VERSION,
			      buf_cstr(&params), NULL))
			goto out;
		collect(out, xml_path(xml_root(doc), "instanceTypeOfferingSet"), "item",
			"instanceType");
		free(token);
		token = xml_path_text(xml_root(doc), "nextToken");
	} while (token && *token);
	ret = 0;
out:
	xml_free(doc);
	free(token);
	buf_release(&params);
	return ret;
}
