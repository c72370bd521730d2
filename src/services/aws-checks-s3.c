/* aws-checks: the S3 calls (REST-XML), kept to what the doctor needs. */
#include "services/aws-checks.h"

#include <stdlib.h>
#include <string.h>

#include "util/xml.h"

/* "/key" (percent-encoded, its slashes kept) within the bucket. */
static void object_path(struct buf *out, const char *key)
{
	buf_putc(out, '/');
	buf_uri_encode(out, key, strlen(key), 1);
}

/* bucket NULL: ListBuckets. */
static int s3_send(struct aws_response *out, struct aws_client *c, const char *method,
		   const char *bucket, const char *path, const char *query)
{
	struct aws_request req;

	memset(&req, 0, sizeof(req));
	memset(out, 0, sizeof(*out));
	req.protocol = AWS_PROTOCOL_REST_XML;
	req.service = "s3";
	req.method = method;
	req.bucket = bucket;
	req.path = path;
	req.query = query;
	/* as botocore: GetBucketLocation path-style, which any region answers */
	req.path_style = query && !strcmp(query, "location");
	return aws_send(out, c, &req);
}

static long status_of(const struct aws_response *res)
{
	return res->error.status ? res->error.status : res->status;
}

int aws_checks_list_buckets(struct strvec *out, struct aws_client *c)
{
	struct aws_response res;
	xmlDocPtr doc = NULL;
	xmlNodePtr b;
	int ret = -1;

	if (s3_send(&res, c, "GET", NULL, "/", NULL) ||
	    xml_parse(&doc, res.body.ptr ? res.body.ptr : "", res.body.len))
		goto out;
	for (b = xml_path(xml_root(doc), "Buckets/Bucket"); b; b = xml_next(b, "Bucket")) {
		char *name = xml_path_text(b, "Name");

		if (name)
			strvec_push_nodup(out, name);
	}
	ret = 0;
out:
	xml_free(doc);
	aws_response_release(&res);
	return ret;
}

int aws_checks_head_bucket(char **out, struct aws_client *c, const char *bucket)
{
	struct aws_response res;
	const char *region;
	long status;
	int ret = 0;

	*out = NULL;
	if (s3_send(&res, c, "HEAD", bucket, NULL, NULL)) {
		/* a HEAD response has no body: the status is all S3 says */
		status = status_of(&res);
		if (status == 404) {
			err_set("NoSuchBucket: the bucket '%s' does not exist", bucket);
			ret = AWS_CHECKS_NOT_FOUND;
		} else if (status == 403) {
			err_set("AccessDenied: access to the bucket '%s' is denied (HTTP 403)",
				bucket);
			ret = AWS_CHECKS_FORBIDDEN;
		} else if (status != 301) {
			ret = -1;
		}
		/*
		 * 301: it exists, in another region (x-amz-bucket-region says
		 * which), and aws_send() could not follow it there
		 */
	}
	region = aws_response_header(&res, "x-amz-bucket-region");
	if (ret >= 0 && region && *region)
		*out = xstrdup(region);
	if (!ret)
		err_clear();
	aws_response_release(&res);
	return ret;
}

int aws_checks_bucket_region(char **out, struct aws_client *c, const char *bucket)
{
	struct aws_response res;
	xmlDocPtr doc = NULL;
	char *loc = NULL;
	int ret = -1;

	*out = NULL;
	if (s3_send(&res, c, "GET", bucket, NULL, "location") ||
	    xml_parse(&doc, res.body.ptr ? res.body.ptr : "", res.body.len))
		goto out;
	loc = xml_text(xml_root(doc));
	/* S3 kept the names of its first two regions' location constraints */
	if (!loc || !*loc)
		*out = xstrdup("us-east-1");
	else if (!strcmp(loc, "EU"))
		*out = xstrdup("eu-west-1");
	else
		*out = xstrdup(loc);
	ret = 0;
out:
	free(loc);
	xml_free(doc);
	aws_response_release(&res);
	return ret;
}

int aws_checks_put_object(struct aws_client *c, const char *bucket, const char *key,
			  const void *data, size_t len)
{
	struct aws_header headers[] = {
		{ (char *)"content-type", (char *)"text/plain" },
		{ (char *)"x-amz-server-side-encryption", (char *)"AES256" },
	};
	struct aws_response res;
	struct aws_request req;
	struct buf path = BUF_INIT;
	int ret;

	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	object_path(&path, key);
	req.protocol = AWS_PROTOCOL_REST_XML;
	req.service = "s3";
	req.method = "PUT";
	req.bucket = bucket;
	req.path = buf_cstr(&path);
	req.headers = headers;
	req.nr_headers = ARRAY_SIZE(headers);
	req.body = data;
	req.body_len = len;
	ret = aws_send(&res, c, &req);
	aws_response_release(&res);
	buf_release(&path);
	return ret;
}

int aws_checks_delete_object(struct aws_client *c, const char *bucket, const char *key)
{
	struct aws_response res;
	struct buf path = BUF_INIT;
	int ret;

	object_path(&path, key);
	ret = s3_send(&res, c, "DELETE", bucket, buf_cstr(&path), NULL);
	aws_response_release(&res);
	buf_release(&path);
	return ret;
}
