/* aws-error: AWS error documents (XML or JSON) into struct aws_error; retry classes. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "aws/internal.h"
#include "util/xml.h"

static const char *const throttling_codes[] = {
	"Throttling",
	"ThrottlingException",
	"ThrottledException",
	"RequestThrottledException",
	"TooManyRequestsException",
	"ProvisionedThroughputExceededException",
	"TransactionInProgressException",
	"RequestLimitExceeded",
	"BandwidthLimitExceeded",
	"RequestThrottled",
	"SlowDown",
	"PriorRequestNotComplete",
	"EC2ThrottledException",
	"TooManyRequests",
};

static const char *const transient_codes[] = {
	"InternalError",
	"InternalFailure",
	"InternalServerError",
	"InternalServiceError",
	"InternalServerException",
	"ServiceUnavailable",
	"ServiceUnavailableException",
	"Unavailable",
	"RequestTimeout",
	"RequestTimeoutException",
	"IDPCommunicationError",
};

/*
 * HTTP 500 by EC2's choice, but retrying the same request in the same place
 * only burns the budget: the launcher moves to another zone instead.
 */
static const char *const capacity_codes[] = {
	"InsufficientInstanceCapacity",
	"InsufficientCapacity",
	"UnfulfillableCapacity",
	"InsufficientHostCapacity",
	"InsufficientReservedInstanceCapacity",
};

static const char *const skew_codes[] = {
	"RequestTimeTooSkewed",	     "RequestExpired",	      "RequestInTheFuture",
	"InvalidSignatureException", "SignatureDoesNotMatch", "AuthFailure",
};

static const char *const auth_codes[] = {
	"SignatureDoesNotMatch", "InvalidSignatureException",
	"InvalidClientTokenId",	 "InvalidAccessKeyId",
	"AuthFailure",		 "UnrecognizedClientException",
	"IncompleteSignature",	 "MissingAuthenticationToken",
	"InvalidToken",		 "ExpiredToken",
	"ExpiredTokenException",
};

static int in_list(const char *code, const char *const *list, size_t n)
{
	size_t i;

	if (!code)
		return 0;
	for (i = 0; i < n; i++)
		if (!strcmp(code, list[i]))
			return 1;
	return 0;
}

int aws_error_is_retryable(const struct aws_error *e)
{
	if (in_list(e->code, capacity_codes, ARRAY_SIZE(capacity_codes)))
		return 0;
	if (in_list(e->code, throttling_codes, ARRAY_SIZE(throttling_codes)) ||
	    in_list(e->code, transient_codes, ARRAY_SIZE(transient_codes)))
		return 1;
	return e->status == 429 || e->status >= 500;
}

int aws_error_may_be_clock_skew(const struct aws_error *e)
{
	return in_list(e->code, skew_codes, ARRAY_SIZE(skew_codes));
}

int aws_error_is_auth(const struct aws_error *e)
{
	return in_list(e->code, auth_codes, ARRAY_SIZE(auth_codes));
}

void aws_error_release(struct aws_error *e)
{
	free(e->code);
	free(e->message);
	free(e->request_id);
	free(e->region);
	memset(e, 0, sizeof(*e));
}

/* For responses without a body (HEAD) or with an unreadable one. */
static const struct {
	long status;
	const char *code;
	const char *reason;
} status_names[] = {
	{ 301, "PermanentRedirect", "Moved Permanently" },
	{ 304, "NotModified", "Not Modified" },
	{ 307, "TemporaryRedirect", "Temporary Redirect" },
	{ 400, "BadRequest", "Bad Request" },
	{ 403, "Forbidden", "Forbidden" },
	{ 404, "NotFound", "Not Found" },
	{ 405, "MethodNotAllowed", "Method Not Allowed" },
	{ 409, "Conflict", "Conflict" },
	{ 412, "PreconditionFailed", "Precondition Failed" },
	{ 429, "TooManyRequests", "Too Many Requests" },
	{ 500, "InternalError", "Internal Server Error" },
	{ 502, "BadGateway", "Bad Gateway" },
	{ 503, "ServiceUnavailable", "Service Unavailable" },
	{ 504, "GatewayTimeout", "Gateway Timeout" },
};

static size_t status_index(long status)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(status_names); i++)
		if (status_names[i].status == status)
			break;
	return i;
}

/* A short printable excerpt of a body that could not be parsed. */
static void add_excerpt(struct buf *out, const struct buf *body)
{
	size_t i, n = body->len < 60 ? body->len : 60;

	buf_puts(out, " '");
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)body->ptr[i];

		buf_putc(out, isprint(ch) ? (char)ch : ' ');
	}
	buf_puts(out, body->len > n ? "...'" : "'");
}

static void set_malformed(struct aws_error *e, const struct http_response *res, const char *what)
{
	struct buf msg = BUF_INIT;

	buf_printf(&msg, "HTTP %ld with a malformed error response (%s):", res->status, what);
	add_excerpt(&msg, &res->body);
	free(e->message);
	e->message = buf_detach(&msg);
}

static void take(char **dst, char *value)
{
	if (value && *value && !*dst) {
		*dst = value;
		return;
	}
	free(value);
}

static void parse_xml(struct aws_error *e, const struct http_response *res)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root, err = NULL;
	char *saved = xstrdup(err_msg());

	if (xml_parse(&doc, res->body.ptr, res->body.len)) {
		set_malformed(e, res, "not XML");
		goto out;
	}
	/*
	 * S3: <Error>; IAM, STS: <ErrorResponse><Error>; EC2:
	 * <Response><Errors><Error>. Emulators mix them (moto answers
	 * <ErrorResponse><Errors><Error>), so any of the shapes under any root.
	 */
	root = xml_root(doc);
	if (root && !strcmp((const char *)root->name, "Error"))
		err = root;
	else if (root && !(err = xml_child(root, "Error")))
		err = xml_path(root, "Errors/Error");
	if (!err) {
		set_malformed(e, res, "no <Error> element");
		goto out;
	}
	take(&e->code, xml_path_text(err, "Code"));
	take(&e->message, xml_path_text(err, "Message"));
	take(&e->request_id, xml_path_text(err, "RequestId"));
	take(&e->request_id, xml_path_text(root, "RequestId"));
	take(&e->request_id, xml_path_text(root, "RequestID"));
	take(&e->region, xml_path_text(err, "Region"));
	if (!e->code)
		set_malformed(e, res, "no error code");
out:
	xml_free(doc);
	/* xml_parse() may have replaced the caller's message; this is no failure. */
	if (*saved)
		err_set("%s", saved);
	else
		err_clear();
	free(saved);
}

static char *json_string(const cJSON *obj, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, a);

	if (!cJSON_IsString(v) && b)
		v = cJSON_GetObjectItemCaseSensitive(obj, b);
	return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

/* "com.amazon.coral#ThrottlingException" or "ThrottlingException:http://..." */
static char *json_code(const char *type)
{
	const char *hash = strrchr(type, '#'), *colon;

	if (hash)
		type = hash + 1;
	colon = strchr(type, ':');
	return colon ? xstrndup(type, (size_t)(colon - type)) : xstrdup(type);
}

static void parse_json(struct aws_error *e, const struct http_response *res)
{
	cJSON *doc = cJSON_ParseWithLength(res->body.ptr, res->body.len);
	const char *header = http_response_header(res, "x-amzn-errortype");
	char *type;

	if (!cJSON_IsObject(doc)) {
		set_malformed(e, res, "not a JSON object");
		goto out;
	}
	type = json_string(doc, "__type", "code");
	if (!type)
		type = json_string(doc, "Code", NULL);
	if (type) {
		take(&e->code, json_code(type));
		free(type);
	}
	if (!e->code && header)
		take(&e->code, json_code(header));
	take(&e->message, json_string(doc, "message", "Message"));
	if (!e->code)
		set_malformed(e, res, "no error code");
out:
	cJSON_Delete(doc);
}

void aws_error_parse(struct aws_error *out, const struct http_response *res,
		     enum aws_protocol protocol, const char *method)
{
	static const char *const id_headers[] = {
		"x-amzn-requestid",
		"x-amz-request-id",
		"x-amzn-request-id",
	};
	const char *region = http_response_header(res, "x-amz-bucket-region");
	size_t i;
	int known;

	memset(out, 0, sizeof(*out));
	out->status = res->status;
	for (i = 0; i < ARRAY_SIZE(id_headers) && !out->request_id; i++)
		if (http_response_header(res, id_headers[i]))
			out->request_id = xstrdup(http_response_header(res, id_headers[i]));

	if (res->body.len && strcmp(method, "HEAD")) {
		if (protocol == AWS_PROTOCOL_JSON)
			parse_json(out, res);
		else
			parse_xml(out, res);
	}
	known = status_index(res->status) < ARRAY_SIZE(status_names);
	if (!out->code)
		out->code = known ? xstrdup(status_names[status_index(res->status)].code)
				  : xstrfmt("HTTP%ld", res->status);
	if (!out->message)
		out->message = known ? xstrfmt("HTTP %ld %s", res->status,
					       status_names[status_index(res->status)].reason)
				     : xstrfmt("HTTP %ld", res->status);
	if (region && *region) {
		free(out->region);
		out->region = xstrdup(region);
	}
	if ((res->status == 301 || res->status == 307) && region) {
		char *m = xstrfmt("%s (the bucket is in region '%s')", out->message, region);

		free(out->message);
		out->message = m;
	}
}
