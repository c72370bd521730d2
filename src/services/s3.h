/*
 * s3: the S3 calls git-train makes, each one aws_send() away: HEAD and PUT of
 * an object, the multipart upload calls, and presigned URLs.
 *
 * Addressing: every call names its bucket (struct aws_request's bucket), and
 * the client addresses it as the AWS CLI does (aws/bucket.h): virtual-hosted
 * (https://bucket.s3.region.amazonaws.com/key) on AWS, path-style
 * (http://127.0.0.1:5000/bucket/key) on a custom endpoint or when the bucket
 * name is no host name, and follows the bucket to its region.
 *
 * Keys are sent percent-encoded with '/' kept, exactly once.
 *
 * Every write asks for server-side encryption (x-amz-server-side-encryption:
 * AES256) and a private ACL, so nothing git-train uploads is ever public or
 * stored in the clear, whatever the bucket's defaults.
 *
 * Integrity: a body is signed with its SHA-256 and also carries it as an
 * additional checksum (x-amz-checksum-sha256), which S3 checks (BadDigest)
 * and keeps with the object. Multipart uploads are created with the SHA256
 * algorithm, so each part names its SHA-256 and CompleteMultipartUpload
 * lists them: S3 then stores a checksum of the checksums ("COMPOSITE",
 * base64 of the SHA-256 of the parts' digests, "-<parts>" after it), which
 * a HEAD shows (s3_head_object() asks for it). Whoever can write an object
 * can set its x-amz-meta-*, but not a stored checksum that differs from its
 * bytes: S3 computes or verifies it. (moto keeps a single PUT's checksum as
 * sent, and computes a multipart upload's from the parts it holds.)
 *
 * Errors: -1 with err_set("<Code>: <Message> (request id <id>)") from
 * aws_send(), or a description of a malformed response.
 */
#ifndef SERVICES_S3_H
#define SERVICES_S3_H

#include <stddef.h>
#include <stdint.h>

#include "aws/client.h"

#define S3_SSE "AES256"
/* S3 refuses parts under 5 MiB but the last, and more than 10,000 parts. */
#define S3_MIN_PART_SIZE (5u << 20)
#define S3_MAX_PARTS	 10000
/* base64 of a SHA-256, with its NUL */
#define S3_SHA256_SIZE 45
/* an object's ChecksumSHA256 as a HEAD shows it: base64, "-<parts>" after a multipart upload's */
#define S3_CHECKSUM_SIZE (S3_SHA256_SIZE + 12)

struct s3_object {
	long long size;
	char *etag;		 /* as S3 sends it, with its quotes */
	char *sse;		 /* x-amz-server-side-encryption, NULL when absent */
	char *checksum_sha256;	 /* x-amz-checksum-sha256, NULL when S3 keeps none */
	struct aws_header *meta; /* x-amz-meta-*, names lower-case without the prefix */
	size_t nr_meta;
};

/*
 * HEAD of bucket/key, with x-amz-checksum-mode: ENABLED. 0 with *out filled when it exists, 1 when
 * it does not (404), 2 when S3 will not say (403: without s3:ListBucket a missing key is 403, and a
 * HEAD error has no body to tell why; a caller about to write can go on and get the write's own,
 * fuller error), -1 with err_set on any other failure. *out is zeroed unless 0.
 */
int s3_head_object(struct s3_object *out, struct aws_client *c, const char *bucket,
		   const char *key);
/* A metadata value by name (lower-case, without x-amz-meta-); borrowed, NULL if absent. */
const char *s3_object_meta(const struct s3_object *o, const char *name);
void s3_object_release(struct s3_object *o);

/* A SHA-256 digest as x-amz-checksum-sha256 wants it: base64. */
void s3_sha256_base64(char out[S3_SHA256_SIZE], const unsigned char md[32]);
/* The base64 SHA-256 of len bytes at data. */
void s3_sha256_of(char out[S3_SHA256_SIZE], const void *data, size_t len);

/*
 * PUT of a whole object from body (its length known) whose SHA-256 is
 * sha256 (s3_sha256_base64(); NULL: none sent), with metadata given as
 * names without the x-amz-meta- prefix. 0, or -1 with err_set.
 */
int s3_put_object(struct aws_client *c, const char *bucket, const char *key,
		  struct aws_body_reader *body, const char *sha256, const struct aws_header *meta,
		  size_t nr_meta);

/* CreateMultipartUpload, SHA256 checksums; *out is the upload id (caller frees). */
int s3_create_multipart_upload(char **out, struct aws_client *c, const char *bucket,
			       const char *key, const struct aws_header *meta, size_t nr_meta);

/*
 * UploadPart number (1-based) whose SHA-256 is sha256 (s3_sha256_base64());
 * *out is the part's ETag (caller frees).
 */
int s3_upload_part(char **out, struct aws_client *c, const char *bucket, const char *key,
		   const char *upload_id, int number, struct aws_body_reader *body,
		   const char *sha256);

struct s3_part {
	int number;
	char *etag;
	char sha256[S3_SHA256_SIZE]; /* "": none */
};

/* CompleteMultipartUpload with parts in ascending order. */
int s3_complete_multipart_upload(struct aws_client *c, const char *bucket, const char *key,
				 const char *upload_id, const struct s3_part *parts, size_t nr);

/* AbortMultipartUpload: S3 drops the parts. A missing upload counts as aborted. */
int s3_abort_multipart_upload(struct aws_client *c, const char *bucket, const char *key,
			      const char *upload_id);

struct s3_upload {
	char *key;
	char *upload_id;
	char *initiated; /* ISO 8601, as S3 sends it */
};

/* The incomplete multipart uploads under prefix (all pages). Caller frees with s3_uploads_free. */
int s3_list_multipart_uploads(struct s3_upload **out, size_t *out_nr, struct aws_client *c,
			      const char *bucket, const char *prefix);
void s3_uploads_free(struct s3_upload *u, size_t nr);

/* "/key" (struct aws_request's path of an object), encoded once, '/' kept; key NULL: NULL.
 * Caller frees. */
char *s3_key_path(const char *key);

/* "s3://bucket/key" (caller frees): how users and the AWS CLI name an object. */
char *s3_uri(const char *bucket, const char *key);

/*
 * A presigned URL for method ("GET" or "PUT") on bucket/key, addressed as
 * the client's requests are (aws_s3_url(): in the bucket's region once the
 * client knows it), valid for expires seconds (1 .. 7 days), signed with
 * UNSIGNED-PAYLOAD and the session token when there is one. A presigned PUT
 * also signs S3_PRESIGN_PUT_HEADER, which the request must send, so that the
 * object is encrypted. *out is the URL (caller frees). 0, or -1 with err_set.
 */
#define S3_PRESIGN_PUT_HEADER "x-amz-server-side-encryption: " S3_SSE
int s3_presign(char **out, struct aws_client *c, const char *method, const char *bucket,
	       const char *key, long expires);

/*
 * A small request body from memory: an aws_body_reader of
 * { s3_mem_read, s3_mem_rewind, &m, length, NULL } reads m.data[0, m.len).
 */
struct s3_mem_body {
	const char *data;
	size_t len, pos;
};
long long s3_mem_read(void *ctx, void *dst, size_t len);
int s3_mem_rewind(void *ctx);

/* Appends s escaped for XML text (&, <, >, quotes, CR and LF as references). */
void s3_xml_escape(struct buf *out, const char *s);

#endif
