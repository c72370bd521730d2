/*
 * s3: objects, multipart uploads, addressing and presigned URLs. See s3.h.
 */
#include "services/s3.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "aws/sigv4.h"
#include "util/xml.h"

/*
 * No x-amz-acl: objects are private without one, and buckets with ACLs
 * disabled (the default since 2023) refuse any ACL but the owner's.
 */
static const struct aws_header sse_header = { "x-amz-server-side-encryption", S3_SSE };

void s3_sha256_base64(char out[S3_SHA256_SIZE], const unsigned char md[32])
{
	EVP_EncodeBlock((unsigned char *)out, md, 32);
}

void s3_sha256_of(char out[S3_SHA256_SIZE], const void *data, size_t len)
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256(data, len, md);
	s3_sha256_base64(out, md);
}

static char *encode_param(const char *s)
{
	struct buf b = BUF_INIT;

	buf_uri_encode(&b, s, strlen(s), 0);
	return buf_detach(&b);
}

char *s3_key_path(const char *key)
{
	struct buf b = BUF_INIT;

	if (!key)
		return NULL;
	buf_putc(&b, '/');
	buf_uri_encode(&b, key, strlen(key), 1);
	return buf_detach(&b);
}

static int s3_call(struct aws_response *out, struct aws_client *c, const char *method,
		   const char *bucket, const char *key, const char *query,
		   const struct aws_header *headers, size_t nr_headers,
		   struct aws_body_reader *body)
{
	struct aws_request req = { 0 };
	char *path = s3_key_path(key);
	int r;

	req.protocol = AWS_PROTOCOL_REST_XML;
	req.service = "s3";
	req.method = method;
	req.bucket = bucket;
	req.path = path;
	req.query = query;
	req.headers = headers;
	req.nr_headers = nr_headers;
	req.reader = body;
	r = aws_send(out, c, &req);
	free(path);
	return r;
}

/* The write headers: encryption, then extra, then x-amz-meta-<name> for each of meta. */
static struct aws_header *write_headers(size_t *out_nr, const struct aws_header *extra,
					size_t nr_extra, const struct aws_header *meta,
					size_t nr_meta)
{
	struct aws_header *h = xcalloc(1 + nr_extra + nr_meta, sizeof(*h));
	size_t i, n = 0;

	h[n].name = xstrdup(sse_header.name);
	h[n++].value = xstrdup(sse_header.value);
	for (i = 0; i < nr_extra; i++) {
		h[n].name = xstrdup(extra[i].name);
		h[n++].value = xstrdup(extra[i].value);
	}
	for (i = 0; i < nr_meta; i++) {
		h[n].name = xstrfmt("x-amz-meta-%s", meta[i].name);
		h[n++].value = xstrdup(meta[i].value);
	}
	*out_nr = n;
	return h;
}

/*
 * A body's checksum headers; 2, or 0 without sha256. S3 only needs the value;
 * the SDKs send x-amz-sdk-checksum-algorithm along, and emulators look for it.
 */
static size_t checksum_headers(struct aws_header h[2], const char *sha256)
{
	if (!sha256)
		return 0;
	h[0].name = "x-amz-checksum-sha256";
	h[0].value = (char *)sha256;
	h[1].name = "x-amz-sdk-checksum-algorithm";
	h[1].value = "SHA256";
	return 2;
}

static void headers_free(struct aws_header *h, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
}

/* S3 shows an object's stored checksum only when asked. */
static const struct aws_header checksum_mode = { "x-amz-checksum-mode", "ENABLED" };

int s3_head_object(struct s3_object *out, struct aws_client *c, const char *bucket, const char *key)
{
	struct aws_response res = { 0 };
	const char *v;
	size_t i;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (s3_call(&res, c, "HEAD", bucket, key, NULL, &checksum_mode, 1, NULL)) {
		long status = res.status ? res.status : res.error.status;

		if (status == 404 || status == 403) {
			err_clear();
			ret = status == 404 ? 1 : 2;
		}
		goto out;
	}
	v = aws_response_header(&res, "content-length");
	out->size = v ? strtoll(v, NULL, 10) : -1;
	v = aws_response_header(&res, "etag");
	out->etag = v ? xstrdup(v) : NULL;
	v = aws_response_header(&res, "x-amz-server-side-encryption");
	out->sse = v ? xstrdup(v) : NULL;
	v = aws_response_header(&res, "x-amz-checksum-sha256");
	out->checksum_sha256 = v ? xstrdup(v) : NULL;
	out->meta = xcalloc(res.nr_headers + 1, sizeof(*out->meta));
	for (i = 0; i < res.nr_headers; i++) {
		const char *name;

		if (!skip_prefix(res.headers[i].name, "x-amz-meta-", &name))
			continue;
		out->meta[out->nr_meta].name = xstrdup(name);
		out->meta[out->nr_meta].value = xstrdup(res.headers[i].value);
		out->nr_meta++;
	}
	ret = 0;
out:
	aws_response_release(&res);
	return ret;
}

const char *s3_object_meta(const struct s3_object *o, const char *name)
{
	size_t i;

	for (i = 0; i < o->nr_meta; i++)
		if (!strcasecmp(o->meta[i].name, name))
			return o->meta[i].value;
	return NULL;
}

void s3_object_release(struct s3_object *o)
{
	headers_free(o->meta, o->nr_meta);
	free(o->etag);
	free(o->sse);
	free(o->checksum_sha256);
	memset(o, 0, sizeof(*o));
}

int s3_put_object(struct aws_client *c, const char *bucket, const char *key,
		  struct aws_body_reader *body, const char *sha256, const struct aws_header *meta,
		  size_t nr_meta)
{
	struct aws_response res = { 0 };
	struct aws_header sum[2];
	size_t nr, nr_sum = checksum_headers(sum, sha256);
	struct aws_header *h = write_headers(&nr, sum, nr_sum, meta, nr_meta);
	int r = s3_call(&res, c, "PUT", bucket, key, NULL, h, nr, body);

	aws_response_release(&res);
	headers_free(h, nr);
	return r;
}

/* Parses an XML response body; an <Error> document (S3 sends some with 200) fails. */
static int parse_result(xmlDocPtr *out, const struct aws_response *res, const char *what)
{
	xmlNodePtr root;
	char *code, *msg;

	if (xml_parse(out, res->body.ptr ? res->body.ptr : "", res->body.len))
		return err_set("%s: unexpected response from S3", what);
	root = xml_root(*out);
	if (!root || strcmp((const char *)root->name, "Error"))
		return 0;
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

int s3_create_multipart_upload(char **out, struct aws_client *c, const char *bucket,
			       const char *key, const struct aws_header *meta, size_t nr_meta)
{
	struct aws_response res = { 0 };
	xmlDocPtr doc = NULL;
	static const struct aws_header algorithm = { "x-amz-checksum-algorithm", "SHA256" };
	size_t nr;
	struct aws_header *h = write_headers(&nr, &algorithm, 1, meta, nr_meta);
	int ret = -1;

	*out = NULL;
	if (s3_call(&res, c, "POST", bucket, key, "uploads", h, nr, NULL))
		goto out;
	if (parse_result(&doc, &res, "CreateMultipartUpload"))
		goto out;
	*out = xml_path_text(xml_root(doc), "UploadId");
	if (!*out || !**out) {
		err_set("CreateMultipartUpload: no UploadId in S3's response");
		goto out;
	}
	ret = 0;
out:
	if (ret) {
		free(*out);
		*out = NULL;
	}
	xml_free(doc);
	headers_free(h, nr);
	aws_response_release(&res);
	return ret;
}

int s3_upload_part(char **out, struct aws_client *c, const char *bucket, const char *key,
		   const char *upload_id, int number, struct aws_body_reader *body,
		   const char *sha256)
{
	struct aws_response res = { 0 };
	struct aws_header sum[2];
	size_t nr_sum = checksum_headers(sum, sha256);
	char *id = encode_param(upload_id);
	char *query = xstrfmt("partNumber=%d&uploadId=%s", number, id);
	const char *etag;
	int ret = -1;

	*out = NULL;
	if (s3_call(&res, c, "PUT", bucket, key, query, sum, nr_sum, body))
		goto out;
	etag = aws_response_header(&res, "etag");
	if (!etag) {
		err_set("UploadPart: no ETag in S3's response for part %d", number);
		goto out;
	}
	*out = xstrdup(etag);
	ret = 0;
out:
	aws_response_release(&res);
	free(query);
	free(id);
	return ret;
}

long long s3_mem_read(void *ctx, void *dst, size_t len)
{
	struct s3_mem_body *m = ctx;

	if (len > m->len - m->pos)
		len = m->len - m->pos;
	memcpy(dst, m->data + m->pos, len);
	m->pos += len;
	return (long long)len;
}

int s3_mem_rewind(void *ctx)
{
	((struct s3_mem_body *)ctx)->pos = 0;
	return 0;
}

void s3_xml_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '&')
			buf_puts(b, "&amp;");
		else if (*s == '<')
			buf_puts(b, "&lt;");
		else if (*s == '>')
			buf_puts(b, "&gt;");
		else if (*s == '"')
			buf_puts(b, "&quot;");
		else if (*s == '\'')
			buf_puts(b, "&apos;");
		else if (*s == '\r')
			buf_puts(b, "&#13;");
		else if (*s == '\n')
			buf_puts(b, "&#10;");
		else
			buf_putc(b, *s);
	}
}

int s3_complete_multipart_upload(struct aws_client *c, const char *bucket, const char *key,
				 const char *upload_id, const struct s3_part *parts, size_t nr)
{
	static const struct aws_header xml_type = { "Content-Type", "application/xml" };
	struct aws_response res = { 0 };
	struct buf xml = BUF_INIT;
	struct s3_mem_body mem = { 0 };
	struct aws_body_reader body = { s3_mem_read, s3_mem_rewind, &mem, 0, NULL };
	xmlDocPtr doc = NULL;
	char *id = encode_param(upload_id);
	char *query = xstrfmt("uploadId=%s", id);
	size_t i;
	int ret = -1;

	buf_puts(&xml,
		 "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	for (i = 0; i < nr; i++) {
		buf_printf(&xml, "<Part><PartNumber>%d</PartNumber><ETag>", parts[i].number);
		s3_xml_escape(&xml, parts[i].etag);
		buf_puts(&xml, "</ETag>");
		if (parts[i].sha256[0])
			buf_printf(&xml, "<ChecksumSHA256>%s</ChecksumSHA256>", parts[i].sha256);
		buf_puts(&xml, "</Part>");
	}
	buf_puts(&xml, "</CompleteMultipartUpload>");
	mem.data = xml.ptr;
	mem.len = xml.len;
	body.length = (long long)xml.len;
	if (s3_call(&res, c, "POST", bucket, key, query, &xml_type, 1, &body))
		goto out;
	if (parse_result(&doc, &res, "CompleteMultipartUpload"))
		goto out;
	ret = 0;
out:
	xml_free(doc);
	aws_response_release(&res);
	buf_release(&xml);
	free(query);
	free(id);
	return ret;
}

int s3_abort_multipart_upload(struct aws_client *c, const char *bucket, const char *key,
			      const char *upload_id)
{
	struct aws_response res = { 0 };
	char *id = encode_param(upload_id);
	char *query = xstrfmt("uploadId=%s", id);
	int r = s3_call(&res, c, "DELETE", bucket, key, query, NULL, 0, NULL);

	if (r && res.error.code && !strcmp(res.error.code, "NoSuchUpload")) {
		err_clear();
		r = 0;
	}
	aws_response_release(&res);
	free(query);
	free(id);
	return r;
}

static void add_uploads(struct s3_upload **list, size_t *nr, xmlNodePtr root)
{
	xmlNodePtr u;

	for (u = xml_child(root, "Upload"); u; u = xml_next(u, "Upload")) {
		struct s3_upload *e;

		*list = xrealloc(*list, (*nr + 1) * sizeof(**list));
		e = &(*list)[(*nr)++];
		e->key = xml_path_text(u, "Key");
		e->upload_id = xml_path_text(u, "UploadId");
		e->initiated = xml_path_text(u, "Initiated");
	}
}

int s3_list_multipart_uploads(struct s3_upload **out, size_t *out_nr, struct aws_client *c,
			      const char *bucket, const char *prefix)
{
	char *key_marker = NULL, *id_marker = NULL;
	int truncated = 1, ret = -1;

	*out = NULL;
	*out_nr = 0;
	while (truncated) {
		struct aws_response res = { 0 };
		struct buf q = BUF_INIT;
		xmlDocPtr doc = NULL;
		char *p = encode_param(prefix ? prefix : ""), *t;
		int r;

		buf_printf(&q, "prefix=%s&uploads", p);
		free(p);
		if (key_marker) {
			p = encode_param(key_marker);
			buf_printf(&q, "&key-marker=%s", p);
			free(p);
		}
		if (id_marker) {
			p = encode_param(id_marker);
			buf_printf(&q, "&upload-id-marker=%s", p);
			free(p);
		}
		r = s3_call(&res, c, "GET", bucket, NULL, q.ptr, NULL, 0, NULL);
		if (!r)
			r = parse_result(&doc, &res, "ListMultipartUploads");
		buf_release(&q);
		aws_response_release(&res);
		if (r)
			goto out;
		add_uploads(out, out_nr, xml_root(doc));
		t = xml_path_text(xml_root(doc), "IsTruncated");
		truncated = t && !strcmp(t, "true");
		free(t);
		free(key_marker);
		free(id_marker);
		key_marker = xml_path_text(xml_root(doc), "NextKeyMarker");
		id_marker = xml_path_text(xml_root(doc), "NextUploadIdMarker");
		xml_free(doc);
		if (truncated && (!key_marker || !*key_marker)) {
			err_set("ListMultipartUploads: truncated response without NextKeyMarker");
			goto out;
		}
	}
	ret = 0;
out:
	if (ret) {
		s3_uploads_free(*out, *out_nr);
		*out = NULL;
		*out_nr = 0;
	}
	free(key_marker);
	free(id_marker);
	return ret;
}

void s3_uploads_free(struct s3_upload *u, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		free(u[i].key);
		free(u[i].upload_id);
		free(u[i].initiated);
	}
	free(u);
}

char *s3_uri(const char *bucket, const char *key)
{
	return xstrfmt("s3://%s/%s", bucket, key);
}

/* Splits url into host (with port) and path; both point into copies the caller frees. */
static int split_url(char **out_host, char **out_path, const char *url)
{
	const char *h = strstr(url, "://"), *p;

	if (!h)
		return err_set("malformed S3 URL '%s'", url);
	h += 3;
	p = strchr(h, '/');
	*out_host = p ? xstrndup(h, (size_t)(p - h)) : xstrdup(h);
	*out_path = xstrdup(p ? p : "/");
	return 0;
}

int s3_presign(char **out, struct aws_client *c, const char *method, const char *bucket,
	       const char *key, long expires)
{
	struct sigv4_request req;
	struct sigv4_credentials creds;
	struct aws_credentials mine;
	double offset;
	struct sigv4_header headers[2];
	struct buf target = BUF_INIT;
	char *url = NULL, *host = NULL, *path = NULL, *base, *region = NULL, *key_path;
	int ret = -1;

	*out = NULL;
	if (aws_client_credentials(&mine, &offset, c))
		return -1;
	key_path = s3_key_path(key);
	if (aws_s3_url(&url, &region, c, bucket, key_path) || split_url(&host, &path, url))
		goto out;
	creds.access_key_id = mine.access_key_id;
	creds.secret_access_key = mine.secret_access_key;
	creds.session_token = mine.session_token;
	headers[0].name = "Host";
	headers[0].value = host;
	headers[1].name = "x-amz-server-side-encryption";
	headers[1].value = S3_SSE;
	sigv4_request_init(&req, "s3");
	req.method = method;
	req.path = path;
	req.headers = headers;
	req.nr_headers = strcmp(method, "PUT") ? 1 : 2;
	req.service = "s3";
	req.region = region;
	req.creds = &creds;
	req.time = time(NULL) + (time_t)offset;
	req.expires = expires;
	req.unsigned_payload = 1;
	req.add_content_sha256_header = 0;
	if (sigv4_presign_url(&target, &req))
		goto out;
	base = strstr(url, "://") + 3;
	*out = xstrfmt("%.*s%s%s", (int)(base - url), url, host, target.ptr);
	ret = 0;
out:
	aws_creds_release(&mine);
	buf_release(&target);
	free(url);
	free(region);
	free(key_path);
	free(host);
	free(path);
	return ret;
}
