/*
 * aws-internal: what aws.c shares with aws-error.c and aws-trace.c; not for
 * other modules (they use aws.h).
 *
 * aws-error: turns an HTTP error response into a struct aws_error, whatever
 * the protocol and however broken the body, and classifies it for retries.
 * aws-trace: the GIT_TRAIN_TRACE lines, with secrets redacted.
 */
#ifndef AWS_INTERNAL_H
#define AWS_INTERNAL_H

#include "aws/client.h"
#include "aws/http.h"
#include "aws/sigv4.h"

#define AWS_DEFAULT_MAX_ATTEMPTS 5

/* Everything about one call that does not change between attempts. */
struct aws_call {
	const struct aws_request *req;
	const char *method;
	const char *region;
	char *endpoint;
	char *url;	     /* endpoint + path + query */
	char *host;	     /* the URL's authority, for the Host header */
	char *path;	     /* as signed: the endpoint's own path + the request's */
	char *label;	     /* for trace: "sts GetCallerIdentity" */
	char *bucket_region; /* the region an S3 bucket request signs for (call->region) */
	int attempts;	     /* budget */
};

/* A private copy of the credentials for one attempt, wiped afterwards. */
struct aws_call_creds {
	char *access_key_id;
	char *secret_access_key;
	char *session_token;
	const char *source;
};

struct header_list {
	struct sigv4_header *v; /* what is signed */
	size_t nr;
	char **lines; /* what is sent: "Name: value" */
	size_t nr_lines;
};

/*
 * Endpoint, URL, Host, signing region and label of a call; an S3 request
 * about a bucket goes to region (NULL: where the client knows the bucket is,
 * else req->region, else the client's). 0, or -1 with err_set.
 */
int aws_call_init(struct aws_call *call, struct aws_client *c, const struct aws_request *req,
		  const char *region);
void aws_call_release(struct aws_call *call);

/* The headers of one attempt, signed at time t. 0, or -1 with err_set. */
int aws_sign_request(struct header_list *out, struct sigv4_auth *auth, const struct aws_call *call,
		     const struct aws_call_creds *cc, time_t t);
void aws_header_list_release(struct header_list *l);

/*
 * The region S3 said bucket is in (caller frees), NULL if it has not said;
 * remembering one. A client without priv remembers nothing.
 */
char *aws_client_bucket_region(struct aws_client *c, const char *bucket);
void aws_client_set_bucket_region(struct aws_client *c, const char *bucket, const char *region);

/* The client's lock (no-op for a client without priv), recursive. */
void aws_client_lock(struct aws_client *c);
void aws_client_unlock(struct aws_client *c);
/*
 * Resolves the client's credentials if it has none or they are about to
 * expire, and copies them into out for one attempt (release with
 * aws_call_creds_release(), which wipes them); *out_offset is the clock
 * offset to sign with. 0, or -1 with err_set.
 */
int aws_get_creds(struct aws_call_creds *out, struct aws_client *c, double *out_offset);
void aws_call_creds_release(struct aws_call_creds *cc);
/* Moves a 2xx (or final error) response into out. */
void aws_response_take(struct aws_response *out, struct http_response *res);

/*
 * Fills out (reset first) from a non-2xx response. Never fails: a missing or
 * malformed body gives a code made from the status and a message saying what
 * was wrong with the body.
 */
void aws_error_parse(struct aws_error *out, const struct http_response *res,
		     enum aws_protocol protocol, const char *method);
void aws_error_release(struct aws_error *e);

/* Throttling, 429, 5xx (except capacity errors, which callers handle). */
int aws_error_is_retryable(const struct aws_error *e);
/* An error that a wrong clock causes (then the response Date tells). */
int aws_error_may_be_clock_skew(const struct aws_error *e);
/* The credentials themselves were refused. */
int aws_error_is_auth(const struct aws_error *e);

/* 0 when GIT_TRAIN_TRACE is off, 1 for request lines, 2 with headers too. */
int aws_trace_level(void);

/*
 * Prints one trace line (a "trace: " prefix and a newline are added) with
 * every occurrence of the given secrets replaced, and X-Amz-Signature,
 * X-Amz-Credential and X-Amz-Security-Token query values redacted.
 * secrets: NULL-terminated, entries may be NULL or "".
 */
void aws_trace(const char *const *secrets, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* A header line for trace level 2: "> Name: value", Authorization and tokens redacted. */
void aws_trace_header(const char *const *secrets, char dir, const char *name, const char *value);

#endif
