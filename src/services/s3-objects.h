/*
 * s3-objects: reading back what runs leave in S3, and cleaning it up.
 * Same addressing, encoding and errors as s3.h.
 */
#ifndef SERVICES_S3_OBJECTS_H
#define SERVICES_S3_OBJECTS_H

#include <stddef.h>

#include "aws/client.h"

/*
 * GetObject of bucket/key from byte offset on (0: all). Bytes go to sink
 * when given, else into *out (may be NULL when sink is given). 0, 1 when
 * the object does not exist (or offset is at or past its end: nothing new),
 * or -1.
 */
int s3_get_object(struct buf *out, struct aws_client *c, const char *bucket, const char *key,
		  long long offset, int (*sink)(void *ctx, const void *data, size_t len),
		  void *sink_ctx);

struct s3_listed {
	char *key;
	long long size;
	char *last_modified; /* ISO 8601, as S3 sends it */
	char *etag;	     /* as S3 sends it, with its quotes; NULL when absent */
};

/* ListObjectsV2 under prefix, every page. Caller frees with s3_listed_free. */
int s3_list_objects(struct s3_listed **out, size_t *out_nr, struct aws_client *c,
		    const char *bucket, const char *prefix);
void s3_listed_free(struct s3_listed *v, size_t nr);

/* DeleteObjects (1000 keys per request) or DeleteObject; a missing key counts as deleted. */
int s3_delete_objects(struct aws_client *c, const char *bucket, const char *const *keys, size_t nr);

#endif
