#include "services/ssm.h"
#include "util/json.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/*
 * How long SSM may wait to deliver a command to the instance (SendCommand's
 * TimeoutSeconds, 30 s at least): the instance is Online when we send, so a
 * command not started within this is not going to start.
 */
#define SSM_DELIVERY_TIMEOUT 600
/* executionTimeout's cap: 48 h. */
#define SSM_MAX_EXECUTION 172800
/* Comment is at most 100 characters. */
#define SSM_MAX_COMMENT 100

/* One JSON call: req is sent and deleted; *out is the parsed response. */
static int ssm_call(cJSON **out, struct aws_response *res, struct aws_client *c, const char *action,
		    cJSON *req)
{
	char *target = xstrfmt("AmazonSSM.%s", action);
	char *body = cJSON_PrintUnformatted(req);
	int ret = -1;

	*out = NULL;
	memset(res, 0, sizeof(*res));
	if (!body) {
		err_set("%s: cannot encode the request", action);
		goto out;
	}
	if (aws_json(res, c, "ssm", target, body))
		goto out;
	*out = cJSON_ParseWithLength(res->body.ptr ? res->body.ptr : "", res->body.len);
	if (!cJSON_IsObject(*out)) {
		err_set("%s: the response is not a JSON object (request id %s)", action,
			res->request_id ? res->request_id : "unknown");
		goto out;
	}
	ret = 0;
out:
	cJSON_Delete(req);
	free(body);
	free(target);
	return ret;
}

int ssm_instance_online(int *out_online, char **out_ping, struct aws_client *c,
			const char *instance_id)
{
	cJSON *req = cJSON_CreateObject(), *doc = NULL, *filter, *values;
	const cJSON *list, *info;
	struct aws_response res;
	const char *ping = NULL;
	int ret = -1;

	*out_online = 0;
	if (out_ping)
		*out_ping = NULL;
	filter = cJSON_CreateObject();
	cJSON_AddStringToObject(filter, "Key", "InstanceIds");
	values = cJSON_AddArrayToObject(filter, "Values");
	cJSON_AddItemToArray(values, cJSON_CreateString(instance_id));
	cJSON_AddItemToArray(cJSON_AddArrayToObject(req, "Filters"), filter);
	if (ssm_call(&doc, &res, c, "DescribeInstanceInformation", req)) {
		/* an instance whose agent has not registered yet */
		if (res.error.code && !strcmp(res.error.code, "InvalidInstanceId")) {
			err_clear();
			ret = 0;
		}
		goto out;
	}
	list = cJSON_GetObjectItemCaseSensitive(doc, "InstanceInformationList");
	cJSON_ArrayForEach (info, list) {
		const char *id = json_string(info, "InstanceId");

		if (id && !strcmp(id, instance_id))
			ping = json_string(info, "PingStatus");
	}
	if (ping) {
		*out_online = !strcmp(ping, "Online");
		if (out_ping)
			*out_ping = xstrdup(ping);
	}
	ret = 0;
out:
	cJSON_Delete(doc);
	aws_response_release(&res);
	return ret;
}

/* The first SSM_MAX_COMMENT characters of s, cut between UTF-8 characters. */
static char *short_comment(const char *s)
{
	size_t len = 0, chars = 0;

	while (s[len] && chars < SSM_MAX_COMMENT) {
		len++;
		while ((s[len] & 0xc0) == 0x80)
			len++;
		chars++;
	}
	return xstrndup(s, len);
}

int ssm_send_shell(char **out, struct aws_client *c, const char *instance_id, const char *script,
		   int timeout_seconds, const char *comment)
{
	cJSON *req = cJSON_CreateObject(), *doc = NULL, *params;
	struct aws_response res;
	const char *id;
	char seconds[32];
	int ret = -1;

	*out = NULL;
	if (timeout_seconds < 1)
		timeout_seconds = 1;
	if (timeout_seconds > SSM_MAX_EXECUTION)
		timeout_seconds = SSM_MAX_EXECUTION;
	snprintf(seconds, sizeof(seconds), "%d", timeout_seconds);
	cJSON_AddStringToObject(req, "DocumentName", "AWS-RunShellScript");
	cJSON_AddItemToArray(cJSON_AddArrayToObject(req, "InstanceIds"),
			     cJSON_CreateString(instance_id));
	params = cJSON_AddObjectToObject(req, "Parameters");
	cJSON_AddItemToArray(cJSON_AddArrayToObject(params, "commands"),
			     cJSON_CreateString(script));
	cJSON_AddItemToArray(cJSON_AddArrayToObject(params, "executionTimeout"),
			     cJSON_CreateString(seconds));
	if (comment && *comment) {
		char *s = short_comment(comment);

		cJSON_AddStringToObject(req, "Comment", s);
		free(s);
	}
	cJSON_AddNumberToObject(req, "TimeoutSeconds", SSM_DELIVERY_TIMEOUT);
	if (ssm_call(&doc, &res, c, "SendCommand", req))
		goto out;
	id = json_string(cJSON_GetObjectItemCaseSensitive(doc, "Command"), "CommandId");
	if (!id) {
		err_set("SendCommand: no Command.CommandId in the response");
		goto out;
	}
	*out = xstrdup(id);
	ret = 0;
out:
	cJSON_Delete(doc);
	aws_response_release(&res);
	return ret;
}

int ssm_get_invocation(struct ssm_invocation *out, struct aws_client *c, const char *command_id,
		       const char *instance_id)
{
	cJSON *req = cJSON_CreateObject(), *doc = NULL;
	struct aws_response res;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	out->exit_code = -1;
	cJSON_AddStringToObject(req, "CommandId", command_id);
	cJSON_AddStringToObject(req, "InstanceId", instance_id);
	if (ssm_call(&doc, &res, c, "GetCommandInvocation", req)) {
		/* SSM needs a few seconds after SendCommand to know the invocation */
		if (res.error.code && !strcmp(res.error.code, "InvocationDoesNotExist")) {
			err_clear();
			ret = 1;
		}
		goto out;
	}
	out->status = json_strdup(doc, "Status");
	if (!out->status) {
		err_set("GetCommandInvocation: no Status in the response");
		goto out;
	}
	out->exit_code = json_int(doc, "ResponseCode", INT_MIN, INT_MAX, -1);
	out->stdout_text = json_strdup(doc, "StandardOutputContent");
	out->stderr_text = json_strdup(doc, "StandardErrorContent");
	ret = 0;
out:
	if (ret)
		ssm_invocation_release(out);
	cJSON_Delete(doc);
	aws_response_release(&res);
	return ret;
}

void ssm_invocation_release(struct ssm_invocation *inv)
{
	free(inv->status);
	free(inv->stdout_text);
	free(inv->stderr_text);
	memset(inv, 0, sizeof(*inv));
	inv->exit_code = -1;
}

int ssm_parameters_by_path(struct strvec *out_names, struct strvec *out_values,
			   struct aws_client *c, const char *path)
{
	char *token = NULL;
	int ret = -1;

	do {
		cJSON *req = cJSON_CreateObject(), *doc = NULL;
		const cJSON *list, *p, *next;
		struct aws_response res;

		cJSON_AddStringToObject(req, "Path", path);
		cJSON_AddTrueToObject(req, "Recursive");
		if (token)
			cJSON_AddStringToObject(req, "NextToken", token);
		free(token);
		token = NULL;
		if (ssm_call(&doc, &res, c, "GetParametersByPath", req)) {
			aws_response_release(&res);
			cJSON_Delete(doc);
			goto out;
		}
		list = cJSON_GetObjectItemCaseSensitive(doc, "Parameters");
		cJSON_ArrayForEach (p, list) {
			const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "Name");
			const cJSON *value = cJSON_GetObjectItemCaseSensitive(p, "Value");

			if (!cJSON_IsString(name) || !cJSON_IsString(value))
				continue;
			strvec_push(out_names, name->valuestring);
			strvec_push(out_values, value->valuestring);
		}
		next = cJSON_GetObjectItemCaseSensitive(doc, "NextToken");
		if (cJSON_IsString(next) && *next->valuestring)
			token = xstrdup(next->valuestring);
		cJSON_Delete(doc);
		aws_response_release(&res);
	} while (token);
	ret = 0;
out:
	free(token);
	return ret;
}
