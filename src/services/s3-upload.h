/*
 * s3-upload: a stream of bytes into one S3 object, whatever its size.
 *
 * The producer's bytes fill parts of S3_UPLOAD_PART_SIZE; a short object
 * goes in one PUT, a longer one as a multipart upload whose parts a few
 * worker threads send in parallel, each on its own connection. At most jobs
 * parts exist at once, so memory stays flat whatever the size. Each part is
 * signed with its SHA-256 and carries it as its checksum (see s3.h), so S3
 * rejects a corrupted one and keeps the object's checksum. The SHA-256 of
 * the whole stream is computed on the way, for whoever will read the object
 * back and must know it is these bytes. Any failure, or the cancel flag (set from a SIGINT/SIGTERM
 * handler), aborts the multipart upload: no incomplete upload is left
 * behind to be billed.
 */
#ifndef SERVICES_S3_UPLOAD_H
#define SERVICES_S3_UPLOAD_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "aws/client.h"
#include "services/s3.h"
#include "util/ui.h"

#define S3_UPLOAD_PART_SIZE (8u << 20)
#define S3_UPLOAD_JOBS	    4

struct s3_upload_opts {
	const volatile sig_atomic_t *cancel; /* non-zero: stop and abort; may be NULL */
	const struct ui *ui;		     /* where the progress meter goes; NULL: none */
	const char *progress_title;	     /* the meter's title; NULL: no meter */
	uint64_t size_hint;		     /* expected size for the meter, 0: unknown */
	int jobs;			     /* parallel parts; 0: S3_UPLOAD_JOBS */
	size_t part_size;		     /* 0: S3_UPLOAD_PART_SIZE */
};

struct s3_upload_stats {
	uint64_t bytes; /* bytes uploaded */
	int parts;	/* 0 for a single PUT */
	double seconds;
	char sha256[65]; /* hex SHA-256 of the whole object */
	/* the ChecksumSHA256 S3 keeps for it, as a HEAD shows it (see s3.h) */
	char checksum[S3_CHECKSUM_SIZE];
};

/* Takes the next len bytes of the object. 0, or non-zero to stop (having set the error). */
typedef int (*s3_upload_sink_fn)(void *ctx, const void *data, size_t len);
/* Writes the object's bytes, in order, through sink. 0, or -1 with err_set. */
typedef int (*s3_upload_producer_fn)(void *ctx, s3_upload_sink_fn sink, void *sink_ctx);

/*
 * Streams produce()'s bytes to bucket/key with metadata meta (names without
 * x-amz-meta-). 0, or -1 with err_set("cannot upload '<name>': ...");
 * after a cancel the message says "interrupted".
 */
int s3_upload_stream(struct s3_upload_stats *out, struct aws_client *c, const char *bucket,
		     const char *key, const struct aws_header *meta, size_t nr_meta,
		     s3_upload_producer_fn produce, void *ctx, const struct s3_upload_opts *opts);

/*
 * What s3_upload_stream() with opts would report of produce()'s bytes
 * (bytes, parts, sha256 and checksum), sending nothing: the checksum S3
 * keeps depends on how the bytes are cut into parts. 0, or -1 with
 * produce()'s error.
 */
int s3_upload_digest(struct s3_upload_stats *out, s3_upload_producer_fn produce, void *ctx,
		     const struct s3_upload_opts *opts);

/*
 * 1 when an object whose HEAD shows size and checksum (its
 * x-amz-checksum-sha256; NULL: none) holds the bytes st describes, else 0.
 * S3 computes that checksum from the bytes it holds, so whoever can write
 * the object cannot forge it. A multipart upload's checksum may come
 * without its "-<parts>" (moto's HEAD drops it); the size then tells it
 * from the one other object with that SHA-256: the parts' digests end to end.
 */
int s3_upload_matches(const struct s3_upload_stats *st, const char *checksum, long long size);

#endif
