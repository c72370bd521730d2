/*
 * aws_send(): the attempts of one call, retries with backoff, clock-skew
 * correction, and the error a caller finally sees.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/internal.h"

#define AWS_RETRY_BASE_MS 100
#define AWS_RETRY_CAP_MS  20000
/* AWS rejects requests more than 5 minutes off; correct from 4. */
#define AWS_SKEW_LIMIT 240

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Full jitter: a uniform delay in [0, min(cap, base * 2^(attempt-1))]. */
static long backoff_ms(int attempt)
{
	const char *env = getenv("GIT_TRAIN_RETRY_BASE_MS");
	long base = AWS_RETRY_BASE_MS, ceiling;
	unsigned int r = 0;
	char *end;

	if (env && *env) {
		long v = strtol(env, &end, 10);

		if (!*end && v >= 0)
			base = v;
	}
	ceiling = base;
	while (--attempt > 0 && ceiling < AWS_RETRY_CAP_MS)
		ceiling *= 2;
	if (ceiling > AWS_RETRY_CAP_MS)
		ceiling = AWS_RETRY_CAP_MS;
	if (ceiling <= 0)
		return 0;
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (unsigned int)rand();
	return (long)(r % (unsigned long)(ceiling + 1));
}

/* What one attempt came to, and what to do next. */
enum attempt_result {
	ATTEMPT_DONE,	/* 2xx */
	ATTEMPT_RETRY,	/* worth another try */
	ATTEMPT_SKEWED, /* clock corrected: try again at once */
	ATTEMPT_FAILED, /* give up; err_set done or out->error filled */
};

struct attempt {
	struct aws_call *call;
	struct aws_client *client;
	const char *secrets[3];
	int number;
	int skew_corrected;
	double offset;	  /* the client's clock offset this attempt used */
	time_t signed_at; /* the time it was signed with */
};

static void trace_request(const struct attempt *a, const struct header_list *h)
{
	size_t i;
	int level = aws_trace_level();

	if (!level)
		return;
	if (a->call->attempts > 1 && a->number > 1)
		aws_trace(a->secrets, "%s %s (%s, attempt %d of %d)", a->call->method, a->call->url,
			  a->call->label, a->number, a->call->attempts);
	else
		aws_trace(a->secrets, "%s %s (%s)", a->call->method, a->call->url, a->call->label);
	if (level < 2)
		return;
	for (i = 0; i < h->nr_lines; i++) {
		char *colon = strchr(h->lines[i], ':');
		char *name = xstrndup(h->lines[i], (size_t)(colon - h->lines[i]));

		aws_trace_header(a->secrets, '>', name, colon + 2);
		free(name);
	}
}

static void trace_response(const struct attempt *a, const struct http_response *res,
			   const struct aws_error *e)
{
	const char *id = http_response_header(res, "x-amzn-requestid");
	size_t i;

	if (!aws_trace_level())
		return;
	if (!id)
		id = http_response_header(res, "x-amz-request-id");
	if (!id && e)
		id = e->request_id;
	aws_trace(a->secrets, "%ld%s%s in %.0f ms%s%s%s", res->status, e ? " " : "",
		  e ? e->code : "", res->seconds * 1000, id ? " (request id " : "", id ? id : "",
		  id ? ")" : "");
	if (aws_trace_level() < 2)
		return;
	for (i = 0; i < res->nr_headers; i++)
		aws_trace_header(a->secrets, '<', res->headers[i].name, res->headers[i].value);
}

/*
 * A signature or time error whose response says the server's clock is far
 * from ours: remember the difference, so the next signature uses its time.
 */
static int correct_skew(struct attempt *a, const struct http_response *res,
			const struct aws_error *e)
{
	const char *date = http_response_header(res, "date");
	time_t server;
	double diff;

	if (a->skew_corrected || !aws_error_may_be_clock_skew(e) || !date)
		return 0;
	server = curl_getdate(date, NULL);
	if (server == (time_t)-1)
		return 0;
	/* Against the time this request was signed with, not the client's now. */
	diff = (double)server - (double)a->signed_at;
	if (diff > -AWS_SKEW_LIMIT && diff < AWS_SKEW_LIMIT)
		return 0;
	aws_client_lock(a->client);
	/* Another thread may have corrected it already: then just use its value. */
	if (a->client->clock_offset == a->offset)
		a->client->clock_offset = (double)server - (double)time(NULL);
	aws_client_unlock(a->client);
	a->skew_corrected = 1;
	if (aws_trace_level())
		aws_trace(a->secrets,
			  "clock skew: the server's clock is %.0f s %s ours; "
			  "retrying with its time",
			  diff < 0 ? -diff : diff, diff < 0 ? "behind" : "ahead of");
	return 1;
}

static enum attempt_result classify(struct attempt *a, enum http_result hr,
				    struct http_response *res, struct aws_response *out)
{
	const struct aws_request *req = a->call->req;

	if (hr != HTTP_OK) /* an earlier attempt's AWS error is not what ended this one */
		aws_error_release(&out->error);
	if (hr == HTTP_ERR)
		return ATTEMPT_FAILED;
	if (hr == HTTP_ERR_TRANSPORT) {
		if (aws_trace_level())
			aws_trace(a->secrets, "failed after %.0f ms: %s", res->seconds * 1000,
				  err_msg());
		/* Part of the body already went to the caller's sink: no replay. */
		return res->body_streamed ? ATTEMPT_FAILED : ATTEMPT_RETRY;
	}
	if (res->status >= 200 && res->status < 300) {
		trace_response(a, res, NULL);
		aws_response_take(out, res);
		return ATTEMPT_DONE;
	}
	aws_error_release(&out->error);
	aws_error_parse(&out->error, res, req->protocol, a->call->method);
	trace_response(a, res, &out->error);
	if (correct_skew(a, res, &out->error)) {
		aws_error_release(&out->error);
		return ATTEMPT_SKEWED;
	}
	aws_response_take(out, res);
	return aws_error_is_retryable(&out->error) ? ATTEMPT_RETRY : ATTEMPT_FAILED;
}

static void set_aws_error(const struct aws_error *e)
{
	if (e->request_id)
		err_set("%s: %s (request id %s)", e->code, e->message, e->request_id);
	else
		err_set("%s: %s", e->code, e->message);
}

static int report_aws_error(const struct attempt *a, const struct aws_call_creds *cc,
			    const struct aws_error *e, int gave_up)
{
	set_aws_error(e);
	if (aws_error_is_auth(e)) {
		err_hint("AWS rejected the credentials%s%s: check the access key and secret",
			 cc->source ? " from " : "", cc->source ? cc->source : "");
		err_hint("'aws configure' sets them up; AWS_PROFILE=<name> picks another profile");
	}
	if (gave_up)
		err_hint("gave up after %d attempts; 'git config train.maxAttempts <n>' changes "
			 "the budget",
			 a->number);
	return -1;
}

static int report_transport_error(const struct attempt *a, int gave_up)
{
	char *msg = xstrdup(err_msg());

	err_set("cannot reach %s at %s: %s", a->call->req->service, a->call->endpoint, msg);
	free(msg);
	if (gave_up)
		err_hint("gave up after %d attempts; check the network, or the endpoint "
			 "(AWS_ENDPOINT_URL, train.endpointUrl)",
			 a->number);
	return -1;
}

/* Restarts a streamed body for the next attempt; 0 when there is nothing to do. */
static int rewind_body(const struct aws_request *req)
{
	if (!req->reader)
		return 0;
	if (!req->reader->rewind)
		return -1;
	return req->reader->rewind(req->reader->ctx);
}

static long long reader_read(void *ctx, void *dst, size_t len)
{
	struct aws_body_reader *r = ctx;

	return r->read(r->ctx, dst, len);
}

static int reader_rewind(void *ctx)
{
	struct aws_body_reader *r = ctx;

	return r->rewind ? r->rewind(r->ctx) : -1;
}

static enum attempt_result send_once(struct attempt *a, struct aws_call_creds *cc,
				     struct aws_response *out, int *out_transport)
{
	const struct aws_request *req = a->call->req;
	struct http_request hreq = { 0 };
	struct http_response hres = { 0 };
	struct header_list h = { 0 };
	struct sigv4_auth auth = { 0 };
	enum attempt_result ret = ATTEMPT_FAILED;
	enum http_result hr;

	*out_transport = 0;
	a->secrets[0] = a->secrets[1] = a->secrets[2] = NULL;
	if (aws_get_creds(cc, a->client, &a->offset))
		goto out;
	/* NULL-terminated: an absent secret is "" */
	a->secrets[0] = cc->secret_access_key ? cc->secret_access_key : "";
	a->secrets[1] = cc->session_token ? cc->session_token : "";
	a->signed_at = time(NULL) + (time_t)a->offset;
	if (aws_sign_request(&h, &auth, a->call, cc, a->signed_at))
		goto out;
	trace_request(a, &h);

	hreq.method = a->call->method;
	hreq.url = a->call->url;
	hreq.headers = (const char *const *)h.lines;
	hreq.nr_headers = h.nr_lines;
	hreq.body = req->body;
	hreq.body_len = req->body_len;
	if (req->reader) {
		hreq.read = reader_read;
		hreq.rewind = reader_rewind;
		hreq.read_ctx = req->reader;
		hreq.read_length = req->reader->length;
	}
	hreq.on_body = req->on_body;
	hreq.on_body_ctx = req->on_body_ctx;
	hr = http_send(&hres, a->client->http, &hreq);
	*out_transport = hr == HTTP_ERR_TRANSPORT;
	ret = classify(a, hr, &hres, out);
out:
	sigv4_auth_release(&auth);
	aws_header_list_release(&h);
	http_response_release(&hres);
	return ret;
}

/* The attempts of one call, until success, a final error or the budget's end. */
static int send_call(struct aws_response *out, struct aws_client *c, struct aws_call *call)
{
	const struct aws_request *req = call->req;
	struct aws_call_creds cc = { 0 };
	struct attempt a = { 0 };
	enum attempt_result r;
	int transport = 0, ret = -1;
	long delay;

	a.call = call;
	a.client = c;
	for (a.number = 1;; a.number++) {
		aws_call_creds_release(&cc);
		r = send_once(&a, &cc, out, &transport);
		if (r == ATTEMPT_DONE) {
			ret = 0;
			break;
		}
		if (r == ATTEMPT_SKEWED) {
			a.number--; /* the clock's fault, not the service's: no budget used */
		} else if (r == ATTEMPT_FAILED || a.number >= call->attempts) {
			int gave_up = r == ATTEMPT_RETRY;

			if (gave_up && aws_trace_level())
				aws_trace(a.secrets, "giving up after %d attempts", a.number);
			if (out->error.code)
				report_aws_error(&a, &cc, &out->error, gave_up);
			else if (transport)
				report_transport_error(&a, gave_up);
			break;
		}
		if (rewind_body(req)) {
			if (out->error.code)
				report_aws_error(&a, &cc, &out->error, 0);
			else if (transport)
				report_transport_error(&a, 0);
			err_hint("the request body could not be rewound for another attempt");
			break;
		}
		if (r == ATTEMPT_SKEWED)
			continue;
		delay = backoff_ms(a.number);
		if (aws_trace_level())
			aws_trace(a.secrets, "retrying in %ld ms (attempt %d of %d)", delay,
				  a.number + 1, call->attempts);
		sleep_ms(delay);
	}
	aws_call_creds_release(&cc);
	return ret;
}

/* A region name as botocore's validate_region_name() takes it: it becomes part of a host name. */
static int valid_region(const char *r)
{
	size_t n = strlen(r), i;

	if (!n || n > 63 || r[0] == '-' || r[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)r[i]) && r[i] != '-')
			return 0;
	return 1;
}

/*
 * The answer says the bucket is in another region (botocore's
 * S3RegionRedirector's cases), whether or not it says which.
 */
static int is_wrong_region(const struct aws_call *call, const struct aws_response *res)
{
	const struct aws_error *e = &res->error;
	long status = e->status ? e->status : res->status;

	if (!e->code)
		return 0;
	if (status == 301 || status == 302 || status == 307)
		return 1;
	if (!strcmp(call->method, "HEAD") && status == 400)
		return 1;
	if (!strcmp(e->code, "PermanentRedirect") ||
	    !strcmp(e->code, "IllegalLocationConstraintException"))
		return 1;
	return !strcmp(e->code, "AuthorizationHeaderMalformed") && e->region;
}

/* Where the bucket is, by HeadBucket, whose every answer names it; NULL if none does. */
static char *ask_bucket_region(struct aws_client *c, const struct aws_call *call)
{
	struct aws_request req = { 0 };
	struct aws_response res = { 0 };
	struct aws_call head;
	char *region = NULL;
	const char *h;

	req.protocol = AWS_PROTOCOL_REST_XML;
	req.service = "s3";
	req.method = "HEAD";
	req.bucket = call->req->bucket;
	req.max_attempts = 1;
	if (!aws_call_init(&head, c, &req, call->region)) {
		send_call(&res, c, &head);
		h = aws_response_header(&res, "x-amz-bucket-region");
		if (h && *h)
			region = xstrdup(h);
	}
	aws_call_release(&head);
	aws_response_release(&res);
	return region;
}

/* The region to send a failed S3 request to instead; NULL: none (then it failed). */
static char *redirect_region(struct aws_client *c, const struct aws_call *call,
			     const struct aws_response *res)
{
	char *region;

	if (!call->req->bucket || !is_wrong_region(call, res))
		return NULL;
	if (res->error.region) {
		region = xstrdup(res->error.region);
	} else {
		region = ask_bucket_region(c, call);
		set_aws_error(&res->error); /* not the HeadBucket's, if it failed */
	}
	if (region && (!valid_region(region) || !strcmp(region, call->region))) {
		free(region);
		region = NULL;
	}
	return region;
}

int aws_send(struct aws_response *out, struct aws_client *c, const struct aws_request *req)
{
	struct aws_call call;
	char *region = NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (aws_call_init(&call, c, req, NULL))
		goto out;
	ret = send_call(out, c, &call);
	if (!ret || !(region = redirect_region(c, &call, out)))
		goto out;
	/* once, as botocore does: a second answer that it is elsewhere is final */
	if (aws_trace_level())
		aws_trace(NULL, "the bucket '%s' is in %s, not %s: sending it there", req->bucket,
			  region, call.region);
	aws_client_set_bucket_region(c, req->bucket, region);
	if (rewind_body(req)) {
		/* the error stays the one S3 gave */
		err_hint("the bucket is in %s; the request body could not be rewound to send "
			 "it there",
			 region);
		goto out;
	}
	aws_call_release(&call);
	aws_response_release(out);
	err_clear();
	if (aws_call_init(&call, c, req, region))
		goto out;
	ret = send_call(out, c, &call);
out:
	free(region);
	aws_call_release(&call);
	return ret;
}
