/*
 * sigv4: AWS Signature Version 4, as a pure function of its inputs.
 *
 * No I/O, no clock, no globals: the caller describes the request (including
 * the time) in a struct sigv4_request, and gets back either the headers to add
 * (sigv4_sign_headers) or a presigned request target (sigv4_presign_url). The
 * stages in between (canonical request, string to sign, signature) are public
 * too, so that tests check them one by one against the AWS vector suites.
 *
 * Paths and query strings are taken *as sent* on the wire, i.e. already
 * percent-encoded once; bytes that should have been escaped (spaces, UTF-8,
 * as the AWS suites write them) are accepted and encoded like any other. The
 * HTTP layer must send the path exactly as given (libcurl: CURLOPT_PATH_AS_IS,
 * or it drops "." and ".." segments that S3 signs). The canonical path is:
 *   - double_uri_encode (every service but S3): the path as sent, encoded once
 *     more ('%' becomes %25), after normalisation if normalize_path is set;
 *   - otherwise (S3): the path encoded exactly once: escapes are decoded and
 *     everything but unreserved characters and '/' re-encoded, so "%7e" and
 *     "~" both give "~" and "$" gives "%24" (a decoded %2F stays %2F).
 * Normalisation removes "." and ".." segments and empty segments ("//"); S3
 * must not have it (its keys may contain them).
 *
 * Query parameters are decoded and re-encoded the same way ('+' is a literal
 * plus, not a space), sorted by key then value; a key without '=' is "key=".
 *
 * The signer owns some headers: Authorization, X-Amz-Date,
 * X-Amz-Security-Token, and x-amz-content-sha256 when add_content_sha256_header
 * is set. Any of them in req->headers is ignored; the signer's values are the
 * ones signed and returned (callers set them, replacing any of the same name).
 * User-Agent, Expect and X-Amzn-Trace-Id are never signed (proxies and HTTP
 * libraries change them), as in botocore. A Host header must be given.
 * Repeated headers are signed in the order given.
 *
 * Secrets: the derived keys, every buffer that held the secret, and the
 * module's own copies of the session token are wiped (OPENSSL_cleanse) before
 * being freed; sigv4_auth_release() wipes what it hands out.
 *
 * All functions return 0, or -1 with err_set() on an invalid request.
 */
#ifndef AWS_SIGV4_H
#define AWS_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "util/util.h"

#define SIGV4_KEY_LEN	   32	  /* bytes of a derived signing key */
#define SIGV4_HEX_LEN	   64	  /* hex digits of a signature or a SHA-256 */
#define SIGV4_AMZ_DATE_LEN 16	  /* "20150830T123600Z" */
#define SIGV4_MAX_EXPIRES  604800 /* presigned URLs live at most 7 days */

#define SIGV4_UNSIGNED_PAYLOAD	"UNSIGNED-PAYLOAD"
#define SIGV4_STREAMING_PAYLOAD "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"

struct sigv4_credentials {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token; /* NULL for long-term credentials */
};

struct sigv4_header {
	const char *name;
	const char *value; /* may hold folded lines; trimmed when signed */
};

enum sigv4_mode {
	SIGV4_HEADERS, /* Authorization header */
	SIGV4_QUERY,   /* presigned URL: X-Amz-* query parameters */
};

struct sigv4_request {
	const char *method;
	const char *path;  /* as sent, e.g. "/bucket/my%20key"; NULL or "" is "/" */
	const char *query; /* as sent, without '?'; NULL or "" for none */
	const struct sigv4_header *headers;
	size_t nr_headers;

	/*
	 * The payload, as its lower-case hex SHA-256 or a literal such as
	 * SIGV4_STREAMING_PAYLOAD. NULL: hashed from payload/payload_len.
	 */
	const char *payload_hash;
	const void *payload;
	size_t payload_len;

	const char *service;
	const char *region;
	const struct sigv4_credentials *creds;
	/*
	 * Optional: sigv4_derive_key() for this date, region and service, so that
	 * callers signing many requests derive it once a day. NULL: derived from
	 * creds->secret_access_key for this request.
	 */
	const unsigned char *signing_key;
	time_t time;
	long expires; /* presigned URLs: seconds, 1 .. SIGV4_MAX_EXPIRES */

	unsigned normalize_path : 1;
	unsigned double_uri_encode : 1;
	/* Sign "UNSIGNED-PAYLOAD" instead of the payload (S3 only). */
	unsigned unsigned_payload : 1;
	/* Send and sign x-amz-content-sha256 (S3 requires it on every request). */
	unsigned add_content_sha256_header : 1;
	/*
	 * Leave X-Amz-Security-Token out of the signature and add it afterwards
	 * (services that want it so); it is still returned / put in the URL.
	 */
	unsigned omit_session_token : 1;
};

/*
 * Zeroes req and sets the defaults for service: S3 ("s3") gets no path
 * normalisation, single encoding and x-amz-content-sha256; every other
 * service gets normalisation and double encoding. Expiry defaults to 3600 s.
 */
void sigv4_request_init(struct sigv4_request *req, const char *service);

/* "YYYYMMDDTHHMMSSZ" for t. -1 (err_set) when t is not in the years 1000-9999. */
int sigv4_amz_date(char out[SIGV4_AMZ_DATE_LEN + 1], time_t t);

/*
 * The signing key for one day ("YYYYMMDD"), region and service:
 * HMAC chain over "AWS4" + secret. Callers that cache it must wipe it
 * (OPENSSL_cleanse) when done.
 */
int sigv4_derive_key(unsigned char out[SIGV4_KEY_LEN], const char *secret, const char *date,
		     const char *region, const char *service);

/* The canonical request for mode (in SIGV4_QUERY, with the X-Amz-* parameters). */
int sigv4_canonical_request(struct buf *out, const struct sigv4_request *req, enum sigv4_mode mode);

/* "AWS4-HMAC-SHA256\n<date>\n<scope>\n<hex sha256 of canonical_request>". */
int sigv4_string_to_sign(struct buf *out, const struct sigv4_request *req,
			 const char *canonical_request);

/* Lower-case hex HMAC of string_to_sign with the request's signing key. */
int sigv4_signature(char out[SIGV4_HEX_LEN + 1], const struct sigv4_request *req,
		    const char *string_to_sign);

struct sigv4_auth_header {
	char *name;
	char *value;
};

/*
 * What sigv4_sign_headers() gives back, in the order to send them:
 * X-Amz-Security-Token (with a session token), X-Amz-Date,
 * x-amz-content-sha256 (when asked), Authorization.
 */
struct sigv4_auth {
	struct sigv4_auth_header headers[4];
	size_t nr;
	char signature[SIGV4_HEX_LEN + 1]; /* also the seed of aws-chunked uploads */
};

/* The headers to add to the request. Caller releases *out. */
int sigv4_sign_headers(struct sigv4_auth *out, const struct sigv4_request *req);
void sigv4_auth_release(struct sigv4_auth *auth);

/*
 * Appends the presigned request target to out: the path and query as given,
 * then X-Amz-Algorithm, -Credential, -Date, -Expires, -Security-Token (with a
 * session token), -SignedHeaders and -Signature. The caller puts the scheme and
 * host in front. S3 callers set unsigned_payload (the payload is unknown).
 */
int sigv4_presign_url(struct buf *out, const struct sigv4_request *req);

/*
 * aws-chunked uploads (x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD):
 * each chunk is signed over the previous signature (the first time, the
 * request's own) and the chunk's bytes; the final chunk is empty.
 */
int sigv4_chunk_string_to_sign(struct buf *out, const struct sigv4_request *req,
			       const char *prev_signature, const void *data, size_t len);
int sigv4_chunk_signature(char out[SIGV4_HEX_LEN + 1], const struct sigv4_request *req,
			  const char *prev_signature, const void *data, size_t len);

#endif
