/* aws-request: what a call sends: URL, Host, headers, and their SigV4 signature. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/bucket.h"
#include "aws/internal.h"
#include "aws/sigv4.h"

/* The Query protocol's action, from the form body, for trace lines. */
static char *query_action(const struct aws_request *req)
{
	const char *body = req->body, *p, *end;
	size_t len = req->body_len;

	for (p = body; p && p < body + len; p = end + 1) {
		end = memchr(p, '&', (size_t)(body + len - p));
		if (!end)
			end = body + len;
		if ((size_t)(end - p) > 7 && !memcmp(p, "Action=", 7))
			return xstrndup(p + 7, (size_t)(end - p - 7));
	}
	return NULL;
}

static char *make_label(const struct aws_request *req)
{
	const char *dot;
	char *action, *label;

	if (req->protocol == AWS_PROTOCOL_JSON && req->target) {
		dot = strrchr(req->target, '.');
		return xstrfmt("%s %s", req->service, dot ? dot + 1 : req->target);
	}
	if (req->protocol == AWS_PROTOCOL_QUERY && (action = query_action(req))) {
		label = xstrfmt("%s %s", req->service, action);
		free(action);
		return label;
	}
	return xstrdup(req->service);
}

void aws_call_release(struct aws_call *call)
{
	free(call->endpoint);
	free(call->url);
	free(call->host);
	free(call->path);
	free(call->label);
	free(call->bucket_region);
}

/* Global services sign for us-east-1 wherever the client's region is. */
static const char *signing_region(const struct aws_client *c, const struct aws_request *req)
{
	if (req->region)
		return req->region;
	if (!strcmp(req->service, "pricing") || !strcmp(req->service, "iam"))
		return "us-east-1";
	return c->settings.region;
}

/*
 * Host and path of an S3 request about req->bucket, given the endpoint's
 * authority and its own path (base, without a trailing slash).
 */
static void address_bucket(struct aws_call *call, const struct aws_client *c,
			   const struct aws_request *req, const char *authority, size_t auth_len,
			   const char *base, size_t base_len, int custom)
{
	const char *key = req->path && *req->path ? req->path : "";
	const char *slash = *key && *key != '/' ? "/" : "";
	struct buf b = BUF_INIT;

	if (!req->path_style && aws_bucket_virtual_hosted(req->bucket, call->endpoint, custom,
							  c->settings.s3_addressing)) {
		call->host = xstrfmt("%s.%.*s", req->bucket, (int)auth_len, authority);
		call->path = xstrfmt("%.*s%s%s", (int)base_len, base, *key ? slash : "/", key);
		return;
	}
	call->host = xstrndup(authority, auth_len);
	buf_add(&b, base, base_len);
	buf_putc(&b, '/');
	buf_uri_encode(&b, req->bucket, strlen(req->bucket), 0);
	buf_printf(&b, "%s%s", slash, key);
	call->path = buf_detach(&b);
}

int aws_call_init(struct aws_call *call, struct aws_client *c, const struct aws_request *req,
		  const char *region)
{
	const char *scheme_end, *auth, *auth_end, *base, *rpath;
	struct buf url = BUF_INIT;
	size_t base_len;
	int custom = 0;

	memset(call, 0, sizeof(*call));
	call->req = req;
	call->method = req->protocol == AWS_PROTOCOL_REST_XML && req->method ? req->method : "POST";
	call->label = make_label(req);
	call->attempts = req->max_attempts > 0 ? req->max_attempts
			 : c->max_attempts > 0 ? c->max_attempts
					       : AWS_DEFAULT_MAX_ATTEMPTS;
	call->region = signing_region(c, req);
	if (req->bucket) {
		call->bucket_region =
			region ? xstrdup(region) : aws_client_bucket_region(c, req->bucket);
		if (call->bucket_region)
			call->region = call->bucket_region;
	}
	if (!call->region) {
		err_set("cannot call %s: no AWS region configured", req->service);
		err_hint("set one with 'git config train.region us-east-1', AWS_REGION, or "
			 "'region' in your AWS profile (aws configure)");
		return -1;
	}
	call->endpoint =
		aws_settings_endpoint_url(&c->settings, req->service, call->region, &custom);
	scheme_end = call->endpoint ? strstr(call->endpoint, "://") : NULL;
	if (!scheme_end || !scheme_end[3])
		return err_set("cannot call %s: bad endpoint URL '%s'", req->service,
			       call->endpoint ? call->endpoint : "");
	auth = scheme_end + 3;
	auth_end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(auth_end - auth)))
		return err_set("cannot call %s: endpoint URL '%s' must not hold user information",
			       req->service, call->endpoint);
	base = auth_end;
	base_len = strcspn(base, "?#");
	while (base_len && base[base_len - 1] == '/')
		base_len--;
	if (req->protocol == AWS_PROTOCOL_REST_XML && req->bucket) {
		address_bucket(call, c, req, auth, (size_t)(auth_end - auth), base, base_len,
			       custom);
	} else {
		call->host = xstrndup(auth, (size_t)(auth_end - auth));
		rpath = req->protocol == AWS_PROTOCOL_REST_XML && req->path && *req->path
				? req->path
				: "/";
		call->path =
			xstrfmt("%.*s%s%s", (int)base_len, base, *rpath == '/' ? "" : "/", rpath);
	}

	buf_add(&url, call->endpoint, (size_t)(auth - call->endpoint));
	buf_puts(&url, call->host);
	buf_puts(&url, call->path);
	if (req->protocol == AWS_PROTOCOL_REST_XML && req->query && *req->query)
		buf_printf(&url, "?%s", req->query);
	call->url = buf_detach(&url);
	return 0;
}

int aws_s3_url(char **out, char **out_region, struct aws_client *c, const char *bucket,
	       const char *key_path)
{
	struct aws_request req = { 0 };
	struct aws_call call;
	int ret = -1;

	*out = *out_region = NULL;
	req.protocol = AWS_PROTOCOL_REST_XML;
	req.service = "s3";
	req.method = "GET";
	/* as the AWS CLI: S3 without a region is us-east-1 */
	req.region = c->settings.region ? NULL : "us-east-1";
	req.bucket = bucket;
	req.path = key_path;
	if (!aws_call_init(&call, c, &req, NULL)) {
		*out = xstrdup(call.url);
		*out_region = xstrdup(call.region);
		ret = 0;
	}
	aws_call_release(&call);
	return ret;
}

/* Headers we set ourselves, or that the signer owns: a caller's copy is dropped. */
static int reserved_header(const char *name)
{
	static const char *const names[] = {
		"Host",
		"Authorization",
		"X-Amz-Date",
		"X-Amz-Security-Token",
		"x-amz-content-sha256",
		"User-Agent",
		"Content-Length",
		"Expect",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcasecmp(name, names[i]))
			return 1;
	return 0;
}

static void header_add(struct header_list *l, const char *name, const char *value, int sign)
{
	if (sign) {
		l->v = xrealloc(l->v, (l->nr + 1) * sizeof(*l->v));
		l->v[l->nr].name = name;
		l->v[l->nr].value = value;
		l->nr++;
	}
	l->lines = xrealloc(l->lines, (l->nr_lines + 1) * sizeof(*l->lines));
	l->lines[l->nr_lines++] = xstrfmt("%s: %s", name, value);
}

void aws_header_list_release(struct header_list *l)
{
	size_t i;

	for (i = 0; i < l->nr_lines; i++)
		secret_free(l->lines[i]);
	free(l->lines);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static const char *content_type(enum aws_protocol p)
{
	switch (p) {
	case AWS_PROTOCOL_QUERY:
		return "application/x-www-form-urlencoded; charset=utf-8";
	case AWS_PROTOCOL_JSON:
		return "application/x-amz-json-1.1";
	default:
		return NULL;
	}
}

/* Builds and signs the headers of one attempt at time t. */
int aws_sign_request(struct header_list *out, struct sigv4_auth *auth, const struct aws_call *call,
		     const struct aws_call_creds *cc, time_t t)
{
	const struct aws_request *req = call->req;
	struct sigv4_credentials creds = { cc->access_key_id, cc->secret_access_key,
					   cc->session_token };
	struct sigv4_request sr;
	size_t i;

	memset(out, 0, sizeof(*out));
	memset(auth, 0, sizeof(*auth));
	header_add(out, "Host", call->host, 1);
	header_add(out, "User-Agent", "git-train/" PACKAGE_VERSION, 0);
	if (content_type(req->protocol))
		header_add(out, "Content-Type", content_type(req->protocol), 1);
	if (req->protocol == AWS_PROTOCOL_JSON && req->target)
		header_add(out, "X-Amz-Target", req->target, 1);
	for (i = 0; i < req->nr_headers; i++)
		if (!reserved_header(req->headers[i].name))
			header_add(out, req->headers[i].name, req->headers[i].value, 1);

	sigv4_request_init(&sr, req->service);
	sr.method = call->method;
	sr.path = call->path;
	sr.query = req->protocol == AWS_PROTOCOL_REST_XML ? req->query : NULL;
	sr.headers = out->v;
	sr.nr_headers = out->nr;
	sr.service = req->service;
	sr.region = call->region;
	sr.creds = &creds;
	sr.time = t;
	if (req->reader && req->reader->sha256_hex) {
		sr.payload_hash = req->reader->sha256_hex;
	} else if (req->reader) {
		if (strcmp(req->service, "s3"))
			return err_set("cannot sign a streamed %s request without its SHA-256",
				       req->service);
		sr.unsigned_payload = 1;
	} else {
		sr.payload = req->body;
		sr.payload_len = req->body_len;
	}
	if (sigv4_sign_headers(auth, &sr))
		return -1;
	for (i = 0; i < auth->nr; i++)
		header_add(out, auth->headers[i].name, auth->headers[i].value, 0);
	return 0;
}
