/*
 * http: one HTTP exchange over libcurl, with connections kept for reuse.
 *
 * A struct http_client is a small pool of curl easy handles, each keeping its
 * own connections alive between requests, and a share handle for DNS and TLS
 * sessions. http_send() takes a handle from the pool (or makes one) and puts
 * it back afterwards, so several threads may send through one client at the
 * same time, each on its own warm connection: what parallel part uploads need.
 *
 * Requests are sent exactly as given: the path is not normalised
 * (CURLOPT_PATH_AS_IS: SigV4 signs the path as sent), no "Expect:
 * 100-continue", no redirects followed, no decompression. The body comes from
 * memory or from a read callback; the response body goes into a buf, or for a
 * 2xx status to a sink callback (error documents are always collected, so the
 * caller can parse them).
 *
 * Timeouts: 10 s to connect, and a transfer that moves no byte for
 * GIT_TRAIN_HTTP_TIMEOUT seconds (default 60) is abandoned.
 *
 * http_send() returns HTTP_OK when a response arrived (whatever its status),
 * HTTP_ERR_TRANSPORT (err_set) when the exchange failed in a way worth
 * retrying (refused, reset, timed out, closed without a response), and
 * HTTP_ERR (err_set) otherwise: a bad URL, a TLS certificate problem, or the
 * caller's callback failed (its message is kept). The message is libcurl's
 * ("failed to connect to 127.0.0.1 port 9 ...") without the URL: callers say
 * what they were doing.
 */
#ifndef AWS_HTTP_H
#define AWS_HTTP_H

#include <stddef.h>

#include "util/util.h"

enum http_result {
	HTTP_OK = 0,
	HTTP_ERR = -1,
	HTTP_ERR_TRANSPORT = -2,
};

struct http_header {
	char *name; /* lower-cased */
	char *value;
};

struct http_request {
	const char *method;	    /* "GET", "PUT", "POST", "HEAD", "DELETE", ... */
	const char *url;	    /* scheme://authority/path?query, sent as is */
	const char *const *headers; /* "Name: value" lines */
	size_t nr_headers;

	/*
	 * The body: from memory, or from read() (0 at the end, -1 with err_set).
	 * rewind() (optional) restarts read() when curl must resend the body.
	 */
	const void *body;
	size_t body_len;
	long long (*read)(void *ctx, void *dst, size_t len);
	int (*rewind)(void *ctx);
	void *read_ctx;
	long long read_length; /* bytes read() gives; -1: unknown (chunked) */

	/* Optional sink for a 2xx response body; non-zero (err_set) aborts. */
	int (*on_body)(void *ctx, const void *data, size_t len);
	void *on_body_ctx;
};

struct http_response {
	long status;
	struct buf body;	 /* everything not given to on_body */
	long long body_streamed; /* bytes given to on_body */
	struct http_header *headers;
	size_t nr_headers;
	double seconds; /* from sending to the last byte */
};

struct http_client;

/* 0, or -1 with err_set. */
int http_client_new(struct http_client **out);
void http_client_free(struct http_client *c);

/* out is reset first; release it with http_response_release() in any case. */
enum http_result http_send(struct http_response *out, struct http_client *c,
			   const struct http_request *req);
void http_response_release(struct http_response *r);

/* The last value of a response header (name lower-case); borrowed, NULL if absent. */
const char *http_response_header(const struct http_response *r, const char *name);

#endif
