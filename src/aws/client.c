#include "aws/client.h"

#include <errno.h>
#include <libxml/parser.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aws/internal.h"
#include "aws/http.h"

/* Refresh temporary credentials this long before they expire. */
#define AWS_CREDS_REFRESH_MARGIN 300

struct aws_client_priv {
	/* Recursive: resolving credentials may itself send (STS AssumeRole). */
	pthread_mutex_t lock;
	int resolving;
	/* where S3 said buckets are: bucket, region, bucket, region, ... */
	char **bucket_regions;
	size_t nr_bucket_regions;
};

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static int parse_attempts(int *out, const char *value, const char *what)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(value, &end, 10);
	if (errno || end == value || *end || n < 1 || n > 100) {
		err_set("bad %s '%s': expected a number of attempts from 1 to 100", what, value);
		return -1;
	}
	*out = (int)n;
	return 0;
}

static int load_max_attempts(int *out, const struct config *cfg)
{
	const char *env = getenv("AWS_MAX_ATTEMPTS");
	char *value = NULL;
	int r, ret = -1;

	*out = AWS_DEFAULT_MAX_ATTEMPTS;
	r = cfg ? config_get_string(&value, cfg, "train.maxAttempts") : 1;
	if (r < 0)
		goto out;
	if (r == 0)
		ret = parse_attempts(out, value, "train.maxAttempts");
	else if (env && *env)
		ret = parse_attempts(out, env, "AWS_MAX_ATTEMPTS");
	else
		ret = 0;
out:
	free(value);
	return ret;
}

int aws_client_init(struct aws_client *out, const struct config *cfg)
{
	pthread_mutexattr_t attr;

	memset(out, 0, sizeof(*out));
	/* Error documents are parsed on worker threads: libxml2 wants this first. */
	xmlInitParser();
	if (aws_settings_load(&out->settings, cfg))
		return -1;
	if (load_max_attempts(&out->max_attempts, cfg) || http_client_new(&out->http)) {
		aws_settings_release(&out->settings);
		return -1;
	}
	out->priv = xcalloc(1, sizeof(*out->priv));
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&out->priv->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	return 0;
}

void aws_client_release(struct aws_client *c)
{
	if (c->have_creds)
		aws_creds_release(&c->creds);
	aws_settings_release(&c->settings);
	http_client_free(c->http);
	if (c->priv) {
		size_t i;

		for (i = 0; i < c->priv->nr_bucket_regions; i++)
			free(c->priv->bucket_regions[i]);
		free(c->priv->bucket_regions);
		pthread_mutex_destroy(&c->priv->lock);
		free(c->priv);
	}
	memset(c, 0, sizeof(*c));
}

void aws_client_lock(struct aws_client *c)
{
	if (c->priv)
		pthread_mutex_lock(&c->priv->lock);
}

void aws_client_unlock(struct aws_client *c)
{
	if (c->priv)
		pthread_mutex_unlock(&c->priv->lock);
}

char *aws_client_bucket_region(struct aws_client *c, const char *bucket)
{
	char *region = NULL;
	size_t i;

	if (!c->priv)
		return NULL;
	aws_client_lock(c);
	for (i = 0; i + 1 < c->priv->nr_bucket_regions && !region; i += 2)
		if (!strcmp(c->priv->bucket_regions[i], bucket))
			region = xstrdup(c->priv->bucket_regions[i + 1]);
	aws_client_unlock(c);
	return region;
}

void aws_client_set_bucket_region(struct aws_client *c, const char *bucket, const char *region)
{
	struct aws_client_priv *p = c->priv;
	size_t i;

	if (!p)
		return;
	aws_client_lock(c);
	for (i = 0; i + 1 < p->nr_bucket_regions; i += 2)
		if (!strcmp(p->bucket_regions[i], bucket))
			break;
	if (i + 1 < p->nr_bucket_regions) {
		free(p->bucket_regions[i + 1]);
	} else {
		p->bucket_regions =
			xrealloc(p->bucket_regions, (p->nr_bucket_regions + 2) * sizeof(char *));
		p->bucket_regions[i] = xstrdup(bucket);
		p->nr_bucket_regions += 2;
	}
	p->bucket_regions[i + 1] = xstrdup(region);
	aws_client_unlock(c);
}

static int creds_need_refresh(const struct aws_client *c)
{
	if (!c->have_creds)
		return 1;
	return c->creds.expiration && time(NULL) + AWS_CREDS_REFRESH_MARGIN >= c->creds.expiration;
}

/*
 * The chain's STS call (struct aws_sts), signed with the source credentials:
 * a client of our own sharing the caller's connections, because the
 * caller's client is busy resolving the very credentials we are making.
 */
static int sts_assume_role(struct buf *out, void *ctx, const struct aws_settings *s,
			   const struct aws_credentials *source, const char *params)
{
	static char us_east_1[] = "us-east-1";
	struct aws_client *client = ctx;
	struct aws_response res = { 0 };
	struct aws_client sub;
	int ret = -1;

	memset(&sub, 0, sizeof(sub));
	sub.settings = *s;
	if (!sub.settings.region)
		sub.settings.region = us_east_1; /* STS answers in every region */
	sub.creds = *source;
	sub.creds.expiration = 0; /* never refreshed from here: that would recurse */
	sub.have_creds = 1;
	sub.clock_offset = client->clock_offset;
	sub.max_attempts = client->max_attempts;
	sub.http = client->http;
	if (aws_query(&res, &sub, "sts", "AssumeRole", "2011-06-15", params))
		goto out;
	client->clock_offset = sub.clock_offset;
	buf_add(out, res.body.ptr ? res.body.ptr : "", res.body.len);
	ret = 0;
out:
	if (res.body.ptr)
		OPENSSL_cleanse(res.body.ptr, res.body.len);
	aws_response_release(&res);
	return ret;
}

/* Resolves (or refreshes) the client's credentials and copies them for one attempt. */
int aws_get_creds(struct aws_call_creds *out, struct aws_client *c, double *out_offset)
{
	struct aws_sts sts = { sts_assume_role, c };
	struct aws_credentials fresh;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	aws_client_lock(c);
	if (creds_need_refresh(c)) {
		if (c->priv && c->priv->resolving) {
			err_set("cannot sign a request: credentials are still being resolved");
			goto out;
		}
		if (c->priv)
			c->priv->resolving = 1;
		memset(&fresh, 0, sizeof(fresh));
		ret = aws_creds_resolve(&fresh, &sts, &c->settings);
		if (c->priv)
			c->priv->resolving = 0;
		if (ret)
			goto out;
		ret = -1;
		if (c->have_creds)
			aws_creds_release(&c->creds);
		c->creds = fresh;
		c->have_creds = 1;
	}
	out->access_key_id = dup_or_null(c->creds.access_key_id);
	out->secret_access_key = dup_or_null(c->creds.secret_access_key);
	out->session_token = dup_or_null(c->creds.session_token);
	out->source = c->creds.source;
	ret = 0;
out:
	*out_offset = c->clock_offset;
	aws_client_unlock(c);
	return ret;
}

int aws_client_credentials(struct aws_credentials *out, double *out_offset, struct aws_client *c)
{
	struct aws_call_creds cc;

	memset(out, 0, sizeof(*out));
	if (aws_get_creds(&cc, c, out_offset))
		return -1;
	out->access_key_id = cc.access_key_id;
	out->secret_access_key = cc.secret_access_key;
	out->session_token = cc.session_token;
	out->source = xstrdup(cc.source ? cc.source : "");
	return 0;
}

void aws_call_creds_release(struct aws_call_creds *cc)
{
	secret_free(cc->access_key_id);
	secret_free(cc->secret_access_key);
	secret_free(cc->session_token);
	memset(cc, 0, sizeof(*cc));
}

void aws_response_take(struct aws_response *out, struct http_response *res)
{
	size_t i;

	out->status = res->status;
	buf_release(&out->body);
	out->body = res->body;
	memset(&res->body, 0, sizeof(res->body));
	for (i = 0; i < out->nr_headers; i++) {
		free(out->headers[i].name);
		free(out->headers[i].value);
	}
	free(out->headers);
	out->headers = xcalloc(res->nr_headers ? res->nr_headers : 1, sizeof(*out->headers));
	for (i = 0; i < res->nr_headers; i++) {
		out->headers[i].name = res->headers[i].name;
		out->headers[i].value = res->headers[i].value;
	}
	out->nr_headers = res->nr_headers;
	free(res->headers);
	res->headers = NULL;
	res->nr_headers = 0;
	free(out->request_id);
	out->request_id = NULL;
	if (aws_response_header(out, "x-amzn-requestid"))
		out->request_id = xstrdup(aws_response_header(out, "x-amzn-requestid"));
	else if (aws_response_header(out, "x-amz-request-id"))
		out->request_id = xstrdup(aws_response_header(out, "x-amz-request-id"));
}

const char *aws_response_header(const struct aws_response *r, const char *name)
{
	size_t i = r->nr_headers;

	while (i--)
		if (!strcasecmp(r->headers[i].name, name))
			return r->headers[i].value;
	return NULL;
}

void aws_response_release(struct aws_response *r)
{
	size_t i;

	buf_release(&r->body);
	for (i = 0; i < r->nr_headers; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	free(r->request_id);
	aws_error_release(&r->error);
	memset(r, 0, sizeof(*r));
}

int aws_query(struct aws_response *out, struct aws_client *c, const char *service,
	      const char *action, const char *version, const char *params)
{
	struct aws_request req = { 0 };
	struct buf body = BUF_INIT;
	int ret;

	buf_puts(&body, "Action=");
	buf_uri_encode(&body, action, strlen(action), 0);
	buf_puts(&body, "&Version=");
	buf_uri_encode(&body, version, strlen(version), 0);
	if (params && *params) {
		if (*params != '&')
			buf_putc(&body, '&');
		buf_puts(&body, params);
	}
	req.protocol = AWS_PROTOCOL_QUERY;
	req.service = service;
	req.body = body.ptr;
	req.body_len = body.len;
	ret = aws_send(out, c, &req);
	buf_release(&body);
	return ret;
}

int aws_json(struct aws_response *out, struct aws_client *c, const char *service,
	     const char *target, const char *json)
{
	struct aws_request req = { 0 };

	req.protocol = AWS_PROTOCOL_JSON;
	req.service = service;
	req.target = target;
	req.body = json ? json : "{}";
	req.body_len = strlen(req.body);
	return aws_send(out, c, &req);
}
