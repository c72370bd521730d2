#include "services/secrets.h"

#include <cjson/cJSON.h>
#include <string.h>

#include <openssl/crypto.h>

#include "util/json.h"

const char *secrets_kind_name(enum secrets_kind kind)
{
	return kind == SECRETS_SSM ? "ssm" : "secretsmanager";
}

/*
 * One JSON call; req is deleted. The body of the answer may hold a secret:
 * it is zeroed before it is freed, here and in the caller's *out.
 */
static int call(cJSON **out, struct aws_client *c, enum secrets_kind kind, const char *action,
		cJSON *req, const char *ref, int *out_missing)
{
	const char *service = kind == SECRETS_SSM ? "ssm" : "secretsmanager";
	char *target =
		xstrfmt("%s.%s", kind == SECRETS_SSM ? "AmazonSSM" : "secretsmanager", action);
	char *body = cJSON_PrintUnformatted(req);
	struct aws_response res;
	int ret = -1;

	*out = NULL;
	*out_missing = 0;
	memset(&res, 0, sizeof(res));
	if (!body) {
		err_set("%s: cannot encode the request", action);
		goto out;
	}
	if (aws_json(&res, c, service, target, body)) {
		const char *code = res.error.code ? res.error.code : "";

		if (!strcmp(code, "ParameterNotFound") ||
		    !strcmp(code, "ResourceNotFoundException")) {
			err_clear();
			err_set("the secret %s:%s does not exist", secrets_kind_name(kind), ref);
			*out_missing = 1;
		} else {
			err_set("cannot read the secret %s:%s: %s", secrets_kind_name(kind), ref,
				err_msg());
		}
		goto out;
	}
	*out = cJSON_ParseWithLength(res.body.ptr ? res.body.ptr : "", res.body.len);
	if (!cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		err_set("cannot read the secret %s:%s: %s's answer is not a JSON object",
			secrets_kind_name(kind), ref, action);
		goto out;
	}
	ret = 0;
out:
	if (res.body.ptr)
		OPENSSL_cleanse(res.body.ptr, res.body.len);
	aws_response_release(&res);
	cJSON_Delete(req);
	free(body);
	free(target);
	return ret;
}

/* Zeroes every string of a parsed answer that held a value, before it is deleted. */
static void zero_strings(cJSON *item)
{
	for (; item; item = item->next) {
		if (item->valuestring)
			OPENSSL_cleanse(item->valuestring, strlen(item->valuestring));
		zero_strings(item->child);
	}
}

int secrets_get(char **out, struct aws_client *c, enum secrets_kind kind, const char *ref)
{
	cJSON *req = cJSON_CreateObject(), *doc = NULL;
	const char *value = NULL;
	int missing, ret = -1;

	*out = NULL;
	if (kind == SECRETS_SSM) {
		cJSON_AddStringToObject(req, "Name", ref);
		cJSON_AddBoolToObject(req, "WithDecryption", 1);
	} else {
		cJSON_AddStringToObject(req, "SecretId", ref);
	}
	if (call(&doc, c, kind, kind == SECRETS_SSM ? "GetParameter" : "GetSecretValue", req, ref,
		 &missing))
		return missing ? 1 : -1;
	if (kind == SECRETS_SSM)
		value = json_string(cJSON_GetObjectItemCaseSensitive(doc, "Parameter"), "Value");
	else
		value = json_string(doc, "SecretString");
	if (!value) {
		err_set("cannot read the secret %s:%s: it has no %s", secrets_kind_name(kind), ref,
			kind == SECRETS_SSM ? "value"
					    : "SecretString (binary secrets are not supported)");
		goto out;
	}
	*out = xstrdup(value);
	ret = 0;
out:
	zero_strings(doc);
	cJSON_Delete(doc);
	return ret;
}

/* The parameter's name in an ARN (arn:...:parameter/name gives /name), or ref itself. */
static char *parameter_name(const char *ref)
{
	const char *p = strstr(ref, ":parameter/");

	if (strncmp(ref, "arn:", 4) || !p)
		return xstrdup(ref);
	return xstrfmt("/%s", p + strlen(":parameter/"));
}

static int describe_parameter(struct secrets_info *out, struct aws_client *c, const char *ref)
{
	cJSON *req = cJSON_CreateObject(), *doc = NULL, *filter, *values;
	char *name = parameter_name(ref);
	const cJSON *p;
	int missing, ret = -1;

	filter = cJSON_CreateObject();
	cJSON_AddStringToObject(filter, "Key", "Name");
	cJSON_AddStringToObject(filter, "Option", "Equals");
	values = cJSON_AddArrayToObject(filter, "Values");
	cJSON_AddItemToArray(values, cJSON_CreateString(name));
	cJSON_AddItemToArray(cJSON_AddArrayToObject(req, "ParameterFilters"), filter);
	if (call(&doc, c, SECRETS_SSM, "DescribeParameters", req, ref, &missing))
		goto out;
	ret = 1;
	cJSON_ArrayForEach (p, cJSON_GetObjectItemCaseSensitive(doc, "Parameters")) {
		const char *n = json_string(p, "Name");

		/* names are given with or without their leading slash */
		if (!n || (strcmp(n, name) && (*name != '/' || strcmp(n, name + 1))))
			continue;
		out->arn = json_strdup(p, "ARN");
		out->key_id = json_strdup(p, "KeyId");
		ret = 0;
		break;
	}
	if (ret == 1)
		err_set("the secret ssm:%s does not exist", ref);
out:
	cJSON_Delete(doc);
	free(name);
	return ret;
}

int secrets_describe(struct secrets_info *out, struct aws_client *c, enum secrets_kind kind,
		     const char *ref)
{
	cJSON *req, *doc = NULL;
	int missing;

	memset(out, 0, sizeof(*out));
	if (kind == SECRETS_SSM)
		return describe_parameter(out, c, ref);
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "SecretId", ref);
	if (call(&doc, c, kind, "DescribeSecret", req, ref, &missing))
		return missing ? 1 : -1;
	out->arn = json_strdup(doc, "ARN");
	out->key_id = json_strdup(doc, "KmsKeyId");
	cJSON_Delete(doc);
	return 0;
}

void secrets_info_release(struct secrets_info *info)
{
	free(info->arn);
	free(info->key_id);
	memset(info, 0, sizeof(*info));
}
