/*
 * aws: one AWS API call, done the way the AWS CLI does it: endpoint, SigV4
 * signature, retries, errors.
 *
 * aws_send() signs the request with the client's credentials (resolved on the
 * first call, refreshed when they expire), sends it over the client's reused
 * HTTP connections, and retries throttling (RequestLimitExceeded, Throttling,
 * ThrottlingException, SlowDown, TooManyRequestsException, HTTP 429), 5xx,
 * timeouts and dropped connections with exponential backoff and full jitter
 * within a retry budget. A clock-skew error (RequestTimeTooSkewed, or a
 * signature error whose response Date is far from ours) corrects the clock
 * offset and retries once. Non-retryable errors return at once.
 *
 * On failure it returns -1 with err_set("<Code>: <Message> (request id <id>)")
 * and the parsed error in out->error: XML (<Error><Code>, or EC2's
 * <Response><Errors><Error>) for query and REST-XML services, JSON
 * (__type/code + message) for JSON services.
 *
 * Either way out holds what came back last (status, body, headers): release
 * it with aws_response_release() in every case. A response without a body
 * (HEAD) or with an unreadable one gets a code from its status (404
 * NotFound, 403 Forbidden, 301 PermanentRedirect naming x-amz-bucket-region)
 * and a message saying what was wrong with the body. Capacity errors
 * (InsufficientInstanceCapacity, ...) are HTTP 500 but never retried here:
 * the caller moves on to another zone. A streamed body is rewound for each
 * retry (no rewind(): no retry); a response already partly given to on_body
 * is not retried. on_body only ever sees 2xx bodies; error documents are
 * collected in out->body and parsed.
 *
 * S3 requests that name their bucket (req->bucket) are addressed as the AWS
 * CLI does (aws/bucket.h) and follow the bucket's region, as botocore's
 * S3RegionRedirector does: an answer that the bucket is elsewhere (HTTP
 * 301/302/307, PermanentRedirect, AuthorizationHeaderMalformed naming the
 * region, IllegalLocationConstraintException, a HEAD's bare 301 or 400),
 * with the region in x-amz-bucket-region or the error's <Region> (else a
 * HeadBucket asks), sends the request once more, to that region's endpoint
 * and signed for it. The client remembers the region of each bucket, so its
 * later requests go there at once.
 *
 * Budget: req->max_attempts, else train.maxAttempts, else AWS_MAX_ATTEMPTS,
 * else 5. Backoff: a uniform delay in [0, min(20 s, base * 2^(n-1))], base
 * 100 ms (GIT_TRAIN_RETRY_BASE_MS, for tests). A transfer that moves no byte
 * for GIT_TRAIN_HTTP_TIMEOUT seconds (default 60) counts as a dropped
 * connection.
 *
 * GIT_TRAIN_TRACE=1 prints each request line, response status and timing,
 * and each retry decision, on stderr; GIT_TRAIN_TRACE=2 adds the headers.
 * Authorization's signature, security tokens, X-Amz-Signature and
 * X-Amz-Credential values, and the secret key wherever it might appear, are
 * redacted.
 */
#ifndef AWS_CLIENT_H
#define AWS_CLIENT_H

#include <stddef.h>

#include "aws/creds/creds.h"
#include "aws/creds/settings.h"
#include "util/util.h"

enum aws_protocol {
	AWS_PROTOCOL_QUERY,    /* EC2, IAM, STS: form-encoded POST, XML response */
	AWS_PROTOCOL_REST_XML, /* S3: method + path + query, XML response */
	AWS_PROTOCOL_JSON,     /* SSM, Pricing: POST, X-Amz-Target, JSON */
};

struct aws_header {
	char *name;
	char *value;
};

/*
 * A body streamed from the caller instead of from memory: read() fills up to
 * len bytes and returns how many (0 at the end, -1 on error with err_set);
 * rewind() restarts it for a retry (NULL: the request is not retried).
 */
struct aws_body_reader {
	long long (*read)(void *ctx, void *dst, size_t len);
	int (*rewind)(void *ctx);
	void *ctx;
	long long length;
	const char *sha256_hex; /* NULL: UNSIGNED-PAYLOAD (S3 over TLS or loopback) */
};

struct aws_request {
	enum aws_protocol protocol;
	const char *service; /* "s3", "ec2", "ssm", "sts", "iam", "pricing" */
	const char *region;  /* NULL: the client's region */
	const char *method;  /* REST-XML only; the others POST */
	/*
	 * S3: the bucket the request is about; path is then within it ("/key",
	 * NULL or "" for the bucket itself). NULL: path names everything
	 * ("/bucket/key", path-style; "/" for ListBuckets).
	 */
	const char *bucket;
	int path_style;	    /* S3: path-style whatever the settings (GetBucketLocation) */
	const char *path;   /* REST-XML: already percent-encoded, e.g. "/key"; else "/" */
	const char *query;  /* REST-XML: already encoded, without '?' */
	const char *target; /* JSON: X-Amz-Target, e.g. "AmazonSSM.GetParameter" */
	const struct aws_header *headers;
	size_t nr_headers;
	const void *body; /* in-memory body (QUERY: the form, JSON: the document) */
	size_t body_len;
	struct aws_body_reader *reader; /* or a streamed one */
	/* Response body sink for large downloads; NULL collects it in out->body. */
	int (*on_body)(void *ctx, const void *data, size_t len);
	void *on_body_ctx;
	int max_attempts; /* 0: the client's default (train.maxAttempts, 5) */
};

struct aws_error {
	long status;
	char *code;
	char *message;
	char *request_id;
	char *region; /* S3: where the bucket is (x-amz-bucket-region, or <Region>) */
};

struct aws_response {
	long status;
	struct buf body;
	struct aws_header *headers; /* names lower-cased */
	size_t nr_headers;
	char *request_id;
	struct aws_error error; /* set when aws_send() fails with an AWS error */
};

struct http_client;
struct aws_client_priv;

/*
 * One client may be used from several threads at once (parallel uploads):
 * credentials, the clock offset and the connection pool are shared under a lock.
 */
struct aws_client {
	struct aws_settings settings;
	struct aws_credentials creds;
	int have_creds;
	double clock_offset; /* seconds to add to our clock */
	int max_attempts;
	struct http_client *http;
	struct aws_client_priv *priv; /* aws.c's lock; NULL in a hand-made client */
};

/* cfg may be NULL. 0, or -1 with err_set. */
int aws_client_init(struct aws_client *out, const struct config *cfg);
void aws_client_release(struct aws_client *c);

/*
 * A copy of the client's credentials, resolved or refreshed as for a call,
 * and its clock offset: for signing outside aws_send() (presigned URLs).
 * Release with aws_creds_release(). 0, or -1 with err_set.
 */
int aws_client_credentials(struct aws_credentials *out, double *out_offset, struct aws_client *c);

int aws_send(struct aws_response *out, struct aws_client *c, const struct aws_request *req);

/*
 * Where aws_send() would send a request about bucket: *out is the URL of
 * key_path ("/key", percent-encoded; NULL: the bucket), without a query, and
 * *out_region the region to sign for (the bucket's, once the client knows
 * it). Both caller-freed. 0, or -1 with err_set.
 */
int aws_s3_url(char **out, char **out_region, struct aws_client *c, const char *bucket,
	       const char *key_path);

void aws_response_release(struct aws_response *r);

/* The value of a response header (name lower-case); borrowed, NULL if absent. */
const char *aws_response_header(const struct aws_response *r, const char *name);

/*
 * A Query-protocol call: action plus "Version=..." and already-encoded
 * "&Name=Value" parameters, e.g.
 *   aws_query(&res, c, "sts", "GetCallerIdentity", "2011-06-15", NULL)
 */
int aws_query(struct aws_response *out, struct aws_client *c, const char *service,
	      const char *action, const char *version, const char *params);

/* A JSON-protocol call: target "AmazonSSM.GetParameter", body a JSON document. */
int aws_json(struct aws_response *out, struct aws_client *c, const char *service,
	     const char *target, const char *json);

#endif
