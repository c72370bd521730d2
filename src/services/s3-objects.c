/*
 * s3-objects: GetObject (with a Range, for following a growing log),
 * ListObjectsV2 and DeleteObjects. See s3-objects.h.
 */
#include "services/s3-objects.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "services/s3.h"
#include "util/xml.h"

/* DeleteObjects takes at most 1000 keys. */
#define DELETE_BATCH 1000

static void add_param(struct buf *q, const char *name, const char *value)
{
	if (q->len)
		buf_putc(q, '&');
	buf_puts(q, name);
	buf_putc(q, '=');
	buf_uri_encode(q, value, strlen(value), 0);
}

/*
 * By S3's code: a 404 is also NoSuchBucket, which is no "absent". Only an
 * error without a body (whose code aws_send() made up from the status)
 * goes by the status.
 */
static int error_is(const struct aws_response *res, const char *code, long status)
{
	long st = res->status ? res->status : res->error.status;
	const char *got = res->error.code;

	if (got && !strcmp(got, code))
		return 1;
	return st == status && (!got || !strcmp(got, "NotFound") || !strncmp(got, "HTTP", 4));
}

int s3_get_object(struct buf *out, struct aws_client *c, const char *bucket, const char *key,
		  long long offset, int (*sink)(void *ctx, const void *data, size_t len),
		  void *sink_ctx)
{
	struct aws_request req = { 0 };
	struct aws_response res = { 0 };
	struct aws_header range = { "Range", NULL };
	char *path = s3_key_path(key);
	int ret = -1;

	if (offset > 0) {
		range.value = xstrfmt("bytes=%lld-", offset);
		req.headers = &range;
		req.nr_headers = 1;
	}
	req.protocol = AWS_PROTOCOL_REST_XML;
	req.service = "s3";
	req.method = "GET";
	req.bucket = bucket;
	req.path = path;
	req.on_body = sink;
	req.on_body_ctx = sink_ctx;
	if (aws_send(&res, c, &req)) {
		if (error_is(&res, "NoSuchKey", 404) ||
		    (offset > 0 && error_is(&res, "InvalidRange", 416))) {
			err_clear();
			ret = 1;
		}
		goto out;
	}
	if (!sink && out)
		buf_add(out, res.body.ptr ? res.body.ptr : "", res.body.len);
	ret = 0;
out:
	aws_response_release(&res);
	free(range.value);
	free(path);
	return ret;
}

/* An <Error> document instead of the result (S3 sends some with 200) fails. */
static int parse_doc(xmlDocPtr *out, const struct aws_response *res, const char *what)
{
	xmlNodePtr root;
	char *code, *msg;

	*out = NULL;
	if (xml_parse(out, res->body.ptr ? res->body.ptr : "", res->body.len))
		return err_set("%s: unexpected response from S3", what);
	root = xml_root(*out);
	if (root && !strcmp((const char *)root->name, "Error")) {
		code = xml_path_text(root, "Code");
		msg = xml_path_text(root, "Message");
		err_set("%s: %s: %s (request id %s)", what, code ? code : "InternalError",
			msg ? msg : "no message", res->request_id ? res->request_id : "unknown");
		free(code);
		free(msg);
		xml_free(*out);
		*out = NULL;
		return -1;
	}
	return root ? 0 : err_set("%s: empty response from S3", what);
}

static void add_contents(struct s3_listed **list, size_t *nr, xmlNodePtr root)
{
	xmlNodePtr o;

	for (o = xml_child(root, "Contents"); o; o = xml_next(o, "Contents")) {
		struct s3_listed *e;
		char *size = xml_path_text(o, "Size");

		*list = xrealloc(*list, (*nr + 1) * sizeof(**list));
		e = &(*list)[(*nr)++];
		e->key = xml_path_text(o, "Key");
		e->size = size ? strtoll(size, NULL, 10) : -1;
		e->last_modified = xml_path_text(o, "LastModified");
		e->etag = xml_path_text(o, "ETag");
		if (!e->key)
			e->key = xstrdup("");
		free(size);
	}
}

/* One page; *token is the next page's continuation token, NULL after the last. */
static int list_page(struct s3_listed **list, size_t *nr, char **token, struct aws_client *c,
		     const char *bucket, const char *prefix)
{
	struct aws_request req = { 0 };
	struct aws_response res = { 0 };
	struct buf q = BUF_INIT;
	xmlDocPtr doc = NULL;
	char *truncated = NULL;
	int ret = -1;

	if (*token)
		add_param(&q, "continuation-token", *token);
	add_param(&q, "list-type", "2");
	add_param(&q, "prefix", prefix ? prefix : "");
	req.protocol = AWS_PROTOCOL_REST_XML;
	req.service = "s3";
	req.method = "GET";
	req.bucket = bucket;
	req.query = q.ptr;
	if (aws_send(&res, c, &req) || parse_doc(&doc, &res, "ListObjectsV2"))
		goto out;
	add_contents(list, nr, xml_root(doc));
	truncated = xml_path_text(xml_root(doc), "IsTruncated");
	free(*token);
	*token = NULL;
	if (truncated && !strcmp(truncated, "true")) {
		*token = xml_path_text(xml_root(doc), "NextContinuationToken");
		if (!*token || !**token) {
			err_set("ListObjectsV2: truncated response of bucket '%s' without a "
				"continuation token",
				bucket);
			goto out;
		}
	}
	ret = 0;
out:
	free(truncated);
	xml_free(doc);
	buf_release(&q);
	aws_response_release(&res);
	return ret;
}

int s3_list_objects(struct s3_listed **out, size_t *out_nr, struct aws_client *c,
		    const char *bucket, const char *prefix)
{
	char *token = NULL;
	int ret = -1;

	*out = NULL;
	*out_nr = 0;
	do {
		if (list_page(out, out_nr, &token, c, bucket, prefix))
			goto out;
	} while (token);
	ret = 0;
out:
	if (ret) {
		s3_listed_free(*out, *out_nr);
		*out = NULL;
		*out_nr = 0;
	}
	free(token);
	return ret;
}

void s3_listed_free(struct s3_listed *v, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		free(v[i].key);
		free(v[i].last_modified);
		free(v[i].etag);
	}
	free(v);
}

/* S3 refuses a DeleteObjects request without Content-MD5 (or a checksum header). */
static char *content_md5(const struct buf *body)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char b64[64];

	EVP_Digest(body->ptr, body->len, md, &n, EVP_md5(), NULL);
	EVP_EncodeBlock((unsigned char *)b64, md, (int)n);
	return xstrdup(b64);
}

/* The first <Error> of a DeleteResult, as an error; 0 when every key went. */
static int delete_errors(xmlNodePtr root, const char *bucket)
{
	xmlNodePtr e = xml_child(root, "Error");
	char *key, *code, *msg;

	if (!e)
		return 0;
	key = xml_path_text(e, "Key");
	code = xml_path_text(e, "Code");
	msg = xml_path_text(e, "Message");
	if (code && !strcmp(code, "NoSuchKey")) {
		e = NULL;
	} else {
		err_set("cannot delete 's3://%s/%s': %s: %s", bucket, key ? key : "",
			code ? code : "InternalError", msg ? msg : "no message");
	}
	free(key);
	free(code);
	free(msg);
	return e ? -1 : 0;
}

static int delete_batch(struct aws_client *c, const char *bucket, const char *const *keys,
			size_t nr)
{
	struct aws_request req = { 0 };
	struct aws_response res = { 0 };
	struct aws_header headers[2] = { { "Content-Type", "application/xml" },
					 { "Content-MD5", NULL } };
	struct buf xml = BUF_INIT;
	struct s3_mem_body mem = { 0 };
	struct aws_body_reader body = { s3_mem_read, s3_mem_rewind, &mem, 0, NULL };
	xmlDocPtr doc = NULL;
	size_t i;
	int ret = -1;

	buf_puts(&xml,
		 "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>");
	for (i = 0; i < nr; i++) {
		buf_puts(&xml, "<Object><Key>");
		s3_xml_escape(&xml, keys[i]);
		buf_puts(&xml, "</Key></Object>");
	}
	buf_puts(&xml, "</Delete>");
	headers[1].value = content_md5(&xml);
	mem.data = xml.ptr;
	mem.len = xml.len;
	body.length = (long long)xml.len;
	req.protocol = AWS_PROTOCOL_REST_XML;
	req.service = "s3";
	req.method = "POST";
	req.bucket = bucket;
	req.query = "delete";
	req.headers = headers;
	req.nr_headers = ARRAY_SIZE(headers);
	req.reader = &body;
	if (aws_send(&res, c, &req) || parse_doc(&doc, &res, "DeleteObjects"))
		goto out;
	ret = delete_errors(xml_root(doc), bucket);
out:
	xml_free(doc);
	aws_response_release(&res);
	free(headers[1].value);
	buf_release(&xml);
	return ret;
}

int s3_delete_objects(struct aws_client *c, const char *bucket, const char *const *keys, size_t nr)
{
	size_t i, n;

	for (i = 0; i < nr; i += n) {
		n = nr - i < DELETE_BATCH ? nr - i : DELETE_BATCH;
		if (delete_batch(c, bucket, keys + i, n))
			return -1;
	}
	return 0;
}
