/*
 * sigv4: AWS Signature Version 4. See sigv4.h for the contract.
 *
 * The pipeline follows the spec's own steps: canonical request -> string to
 * sign -> signature, each built by signing_init() and friends once, then
 * shaped into headers or a presigned URL.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "aws/sigv4.h"

#define ALGORITHM "AWS4-HMAC-SHA256"

/*
 * A header (name lower-cased, value trimmed) or a query parameter (both
 * encoded exactly once), as it goes into the canonical request.
 */
struct entry {
	char *key;
	char *value;
	size_t order; /* repeated headers are joined in the order given */
};

struct entry_list {
	struct entry *v;
	size_t nr, alloc;
};

/* Everything derived from one request, shared by the public functions. */
struct signing {
	char amz_date[SIGV4_AMZ_DATE_LEN + 1];
	struct buf scope;	   /* 20150830/us-east-1/service/aws4_request */
	struct buf signed_headers; /* host;x-amz-date */
	char hash_buf[SIGV4_HEX_LEN + 1];
	const char *payload_hash; /* hash_buf or a literal */
	struct buf creq;
};

static int sha256_hex(char out[SIGV4_HEX_LEN + 1], const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	if (!EVP_Digest(len ? data : "", len, md, &md_len, EVP_sha256(), NULL) ||
	    md_len != SIGV4_KEY_LEN)
		return err_set("cannot sign request: SHA-256 failed in libcrypto");
	hex_encode(out, md, md_len);
	return 0;
}

static int hmac_sha256(unsigned char out[SIGV4_KEY_LEN], const void *key, size_t key_len,
		       const void *data, size_t len)
{
	unsigned int out_len = 0;

	if (!HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &out_len) ||
	    out_len != SIGV4_KEY_LEN)
		return err_set("cannot sign request: HMAC-SHA256 failed in libcrypto");
	return 0;
}

/* Control characters or spaces would break the line-based formats we build. */
static int has_bad_chars(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return 1;
	return 0;
}

/* A scope part ("us-east-1", an access key id): non-empty, no '/' or spaces. */
static int check_scope_part(const char *what, const char *s)
{
	if (!s || !*s)
		return err_set("cannot sign request: no %s", what);
	if (has_bad_chars(s) || strchr(s, '/'))
		return err_set("cannot sign request: invalid %s '%s'", what, s);
	return 0;
}

static int has_token(const struct sigv4_request *req)
{
	return req->creds->session_token && *req->creds->session_token;
}

static int check_request(const struct sigv4_request *req)
{
	const struct sigv4_credentials *c = req->creds;

	if (!req->method || !*req->method || has_bad_chars(req->method))
		return err_set("cannot sign request: invalid method '%s'",
			       req->method ? req->method : "");
	if (check_scope_part("service", req->service) || check_scope_part("region", req->region))
		return -1;
	if (!c)
		return err_set("cannot sign request: no credentials");
	if (check_scope_part("access key id", c->access_key_id))
		return -1;
	if (!req->signing_key && (!c->secret_access_key || !*c->secret_access_key))
		return err_set("cannot sign request: no secret access key");
	if (has_token(req) && strpbrk(c->session_token, "\r\n"))
		return err_set("cannot sign request: session token contains a line break");
	return 0;
}

void sigv4_request_init(struct sigv4_request *req, const char *service)
{
	memset(req, 0, sizeof(*req));
	req->service = service;
	req->expires = 3600;
	if (service && !strcmp(service, "s3")) {
		req->add_content_sha256_header = 1;
	} else {
		req->normalize_path = 1;
		req->double_uri_encode = 1;
	}
}

int sigv4_amz_date(char out[SIGV4_AMZ_DATE_LEN + 1], time_t t)
{
	struct tm tm;

	/* Only years 1000-9999 fit the fixed-width format. */
	if (!gmtime_r(&t, &tm) || tm.tm_year < 1000 - 1900 || tm.tm_year > 9999 - 1900 ||
	    strftime(out, SIGV4_AMZ_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm) != SIGV4_AMZ_DATE_LEN)
		return err_set("cannot sign request: time %lld out of range", (long long)t);
	return 0;
}

int sigv4_derive_key(unsigned char out[SIGV4_KEY_LEN], const char *secret, const char *date,
		     const char *region, const char *service)
{
	unsigned char k[SIGV4_KEY_LEN], t[SIGV4_KEY_LEN];
	size_t len, i;
	char *k_secret = NULL;
	int ret = -1;

	if (!secret || !*secret)
		return err_set("cannot sign request: no secret access key");
	for (i = 0; date && i < 8; i++)
		if (date[i] < '0' || date[i] > '9')
			break;
	if (!date || i != 8 || date[8])
		return err_set("cannot sign request: invalid date '%s' (want YYYYMMDD)",
			       date ? date : "");
	if (check_scope_part("region", region) || check_scope_part("service", service))
		return -1;

	len = strlen(secret) + 4;
	k_secret = xmalloc(len + 1);
	memcpy(k_secret, "AWS4", 4);
	memcpy(k_secret + 4, secret, len - 4 + 1);
	if (hmac_sha256(k, k_secret, len, date, 8) ||
	    hmac_sha256(t, k, sizeof(k), region, strlen(region)) ||
	    hmac_sha256(k, t, sizeof(t), service, strlen(service)) ||
	    hmac_sha256(out, k, sizeof(k), "aws4_request", 12))
		goto out;
	ret = 0;
out:
	OPENSSL_cleanse(k_secret, len);
	free(k_secret);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(t, sizeof(t));
	return ret;
}

/* The request's signing key: the caller's cached one, or derived for its day. */
static int get_signing_key(unsigned char out[SIGV4_KEY_LEN], const struct sigv4_request *req,
			   const char *amz_date)
{
	char date[9];

	if (req->signing_key) {
		memcpy(out, req->signing_key, SIGV4_KEY_LEN);
		return 0;
	}
	if (!req->creds)
		return err_set("cannot sign request: no credentials");
	memcpy(date, amz_date, 8);
	date[8] = '\0';
	return sigv4_derive_key(out, req->creds->secret_access_key, date, req->region,
				req->service);
}

static int is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

/*
 * URI-encodes s[0..len): unreserved bytes stay, a literal '/' stays when
 * keep_slash, everything else becomes %XX. With decode, %XX escapes already
 * in s are decoded first, so the result is encoded exactly once whichever form
 * the caller had; a decoded '/' is re-encoded, since it was data, not a
 * separator.
 */
static void uri_encode(struct buf *out, const char *s, size_t len, int keep_slash, int decode)
{
	size_t i;

	buf_grow(out, len);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int literal = 1;

		if (decode && c == '%' && i + 2 < len && hex_value(s[i + 1]) >= 0 &&
		    hex_value(s[i + 2]) >= 0) {
			c = (unsigned char)(hex_value(s[i + 1]) << 4 | hex_value(s[i + 2]));
			i += 2;
			literal = 0;
		}
		if (is_unreserved(c) || (c == '/' && keep_slash && literal))
			buf_putc(out, (char)c);
		else
			buf_printf(out, "%%%02X", c);
	}
}

static void uri_encode_str(struct buf *out, const char *s, int decode)
{
	uri_encode(out, s, strlen(s), 0, decode);
}

/*
 * Removes "." and ".." segments and empty ones ("//"), keeping a leading and
 * (unless nothing is left) a trailing slash: what botocore and the AWS suite
 * expect, slightly stricter than RFC 3986's remove_dot_segments.
 */
static void normalize_path(struct buf *out, const char *path)
{
	size_t len = strlen(path), nr = 0, i;
	const char **seg = xcalloc(len + 1, sizeof(*seg));
	size_t *seg_len = xcalloc(len + 1, sizeof(*seg_len));
	const char *p = path;

	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 2 && !strncmp(p, "..", 2)) {
			if (nr)
				nr--;
		} else if (n && !(n == 1 && *p == '.')) {
			seg[nr] = p;
			seg_len[nr++] = n;
		}
		p += n;
		if (*p)
			p++;
	}
	if (path[0] == '/')
		buf_putc(out, '/');
	for (i = 0; i < nr; i++) {
		if (i)
			buf_putc(out, '/');
		buf_add(out, seg[i], seg_len[i]);
	}
	if (nr && len && path[len - 1] == '/')
		buf_putc(out, '/');
	free(seg);
	free(seg_len);
}

static void canonical_path(struct buf *out, const struct sigv4_request *req)
{
	const char *path = req->path && *req->path ? req->path : "/";
	struct buf norm = BUF_INIT;
	size_t start = out->len;

	if (req->normalize_path) {
		normalize_path(&norm, path);
		path = buf_cstr(&norm);
	}
	uri_encode(out, path, strlen(path), 1, !req->double_uri_encode);
	if (out->len == start)
		buf_putc(out, '/');
	buf_release(&norm);
}

/* Takes ownership of key and value. */
static void add_entry(struct entry_list *l, char *key, char *value)
{
	if (l->nr == l->alloc) {
		l->alloc = l->alloc ? 2 * l->alloc : 8;
		l->v = xrealloc(l->v, l->alloc * sizeof(*l->v));
	}
	l->v[l->nr].key = key;
	l->v[l->nr].value = value;
	l->v[l->nr].order = l->nr;
	l->nr++;
}

/* Values may hold the session token. */
static void entry_list_release(struct entry_list *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++) {
		OPENSSL_cleanse(l->v[i].value, strlen(l->v[i].value));
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
}

/* Adds a parameter from raw (unencoded) name and value, like X-Amz-Date. */
static void add_raw_param(struct entry_list *l, const char *key, const char *value)
{
	struct buf k = BUF_INIT, v = BUF_INIT;

	uri_encode_str(&k, key, 0);
	uri_encode_str(&v, value, 0);
	add_entry(l, buf_detach(&k), buf_detach(&v));
}

static void parse_query(struct entry_list *l, const char *query)
{
	const char *p = query ? query : "";

	while (*p) {
		size_t n = strcspn(p, "&");
		const char *eq = memchr(p, '=', n);
		struct buf k = BUF_INIT, v = BUF_INIT;

		if (n) {
			uri_encode(&k, p, eq ? (size_t)(eq - p) : n, 0, 1);
			if (eq)
				uri_encode(&v, eq + 1, n - (size_t)(eq + 1 - p), 0, 1);
			add_entry(l, buf_detach(&k), buf_detach(&v));
		}
		p += n;
		if (*p)
			p++;
	}
}

static int cmp_param(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : strcmp(x->value, y->value);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Trims and collapses whitespace runs, which also unfolds multi-line values. */
static char *trim_value(const char *v)
{
	struct buf b = BUF_INIT;
	int pending_space = 0;

	buf_grow(&b, strlen(v));
	for (; *v; v++) {
		if (is_space(*v)) {
			pending_space = 1;
			continue;
		}
		if (pending_space && b.len)
			buf_putc(&b, ' ');
		pending_space = 0;
		buf_putc(&b, *v);
	}
	return buf_detach(&b);
}

static void add_header(struct entry_list *l, const char *name, const char *value)
{
	char *lower = xstrdup(name), *p;

	for (p = lower; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	add_entry(l, lower, trim_value(value));
}

static int cmp_header(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int is_token_char(unsigned char c)
{
	return c > ' ' && c < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", c);
}

/* Headers the signer sets itself, and headers that must never be signed. */
static int skip_header(const char *name, const struct sigv4_request *req)
{
	static const char *const skipped[] = {
		"authorization", "x-amz-date", "x-amz-security-token",
		"user-agent",	 "expect",     "x-amzn-trace-id",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(skipped); i++)
		if (!strcasecmp(name, skipped[i]))
			return 1;
	return req->add_content_sha256_header && !strcasecmp(name, "x-amz-content-sha256");
}

static int collect_headers(struct entry_list *l, const struct sigv4_request *req,
			   enum sigv4_mode mode, const struct signing *s)
{
	int have_host = 0;
	size_t i;

	for (i = 0; i < req->nr_headers; i++) {
		const struct sigv4_header *h = &req->headers[i];
		const char *p;

		for (p = h->name ? h->name : ""; *p && is_token_char((unsigned char)*p); p++)
			;
		if (!h->name || !*h->name || *p)
			return err_set("cannot sign request: invalid header name '%s'",
				       h->name ? h->name : "");
		if (!h->value)
			return err_set("cannot sign request: header '%s' has no value", h->name);
		if (skip_header(h->name, req))
			continue;
		have_host |= !strcasecmp(h->name, "host");
		add_header(l, h->name, h->value);
	}
	if (!have_host)
		return err_set("cannot sign request: no Host header");
	if (mode == SIGV4_HEADERS) {
		add_header(l, "x-amz-date", s->amz_date);
		if (has_token(req) && !req->omit_session_token)
			add_header(l, "x-amz-security-token", req->creds->session_token);
		if (req->add_content_sha256_header)
			add_header(l, "x-amz-content-sha256", s->payload_hash);
	}
	qsort(l->v, l->nr, sizeof(*l->v), cmp_header);
	return 0;
}

/* Appends "name:v1,v2\n" lines and fills signed_headers ("a;b"). */
static void canonical_headers(struct buf *out, struct buf *signed_headers,
			      const struct entry_list *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++) {
		const struct entry *h = &l->v[i];

		if (i && !strcmp(h->key, l->v[i - 1].key)) {
			buf_putc(out, ',');
		} else {
			if (i)
				buf_putc(out, '\n');
			if (signed_headers->len)
				buf_putc(signed_headers, ';');
			buf_puts(signed_headers, h->key);
			buf_puts(out, h->key);
			buf_putc(out, ':');
		}
		buf_puts(out, h->value);
	}
	if (l->nr)
		buf_putc(out, '\n');
}

static int check_payload_hash(const char *hash)
{
	if (!*hash || has_bad_chars(hash))
		return err_set("cannot sign request: invalid payload hash '%s'", hash);
	return 0;
}

static int set_payload_hash(struct signing *s, const struct sigv4_request *req)
{
	if (req->unsigned_payload) {
		s->payload_hash = SIGV4_UNSIGNED_PAYLOAD;
		return 0;
	}
	if (req->payload_hash) {
		s->payload_hash = req->payload_hash;
		return check_payload_hash(req->payload_hash);
	}
	if (!req->payload && req->payload_len)
		return err_set("cannot sign request: payload length without payload");
	s->payload_hash = s->hash_buf;
	return sha256_hex(s->hash_buf, req->payload, req->payload_len);
}

static int make_scope(struct signing *s, const struct sigv4_request *req)
{
	if (check_scope_part("service", req->service) || check_scope_part("region", req->region) ||
	    sigv4_amz_date(s->amz_date, req->time))
		return -1;
	buf_reset(&s->scope);
	buf_printf(&s->scope, "%.8s/%s/%s/aws4_request", s->amz_date, req->region, req->service);
	return 0;
}

/*
 * The X-Amz-* parameters of a presigned URL, in the order they are sent. The
 * token is left out of the signed ones when it is to be added after signing.
 */
static void presign_params(struct entry_list *l, struct signing *s, const struct sigv4_request *req,
			   int with_token)
{
	char *credential = xstrfmt("%s/%s", req->creds->access_key_id, buf_cstr(&s->scope));
	char expires[32];

	snprintf(expires, sizeof(expires), "%ld", req->expires);
	add_raw_param(l, "X-Amz-Algorithm", ALGORITHM);
	add_raw_param(l, "X-Amz-Credential", credential);
	add_raw_param(l, "X-Amz-Date", s->amz_date);
	add_raw_param(l, "X-Amz-Expires", expires);
	if (with_token)
		add_raw_param(l, "X-Amz-Security-Token", req->creds->session_token);
	add_raw_param(l, "X-Amz-SignedHeaders", buf_cstr(&s->signed_headers));
	free(credential);
}

static void canonical_query(struct buf *out, const struct sigv4_request *req, enum sigv4_mode mode,
			    struct signing *s)
{
	struct entry_list l = { NULL, 0, 0 };
	size_t i;

	parse_query(&l, req->query);
	if (mode == SIGV4_QUERY)
		presign_params(&l, s, req, has_token(req) && !req->omit_session_token);
	if (l.nr)
		qsort(l.v, l.nr, sizeof(*l.v), cmp_param);
	for (i = 0; i < l.nr; i++)
		buf_printf(out, "%s%s=%s", i ? "&" : "", l.v[i].key, l.v[i].value);
	entry_list_release(&l);
}

/* For buffers that held the session token. */
static void buf_wipe(struct buf *b)
{
	if (b->ptr)
		OPENSSL_cleanse(b->ptr, b->len);
	buf_release(b);
}

static void signing_release(struct signing *s)
{
	buf_release(&s->scope);
	buf_release(&s->signed_headers);
	buf_wipe(&s->creq);
}

static int signing_init(struct signing *s, const struct sigv4_request *req, enum sigv4_mode mode)
{
	struct entry_list headers = { NULL, 0, 0 };
	struct buf canon_headers = BUF_INIT;
	int ret = -1;

	memset(s, 0, sizeof(*s));
	if (check_request(req) || make_scope(s, req) || set_payload_hash(s, req))
		goto out;
	if (mode == SIGV4_QUERY && (req->expires < 1 || req->expires > SIGV4_MAX_EXPIRES)) {
		err_set("cannot presign request: expiry %ld s is not between 1 s and 7 days",
			req->expires);
		goto out;
	}
	if (collect_headers(&headers, req, mode, s))
		goto out;
	canonical_headers(&canon_headers, &s->signed_headers, &headers);

	buf_printf(&s->creq, "%s\n", req->method);
	canonical_path(&s->creq, req);
	buf_putc(&s->creq, '\n');
	canonical_query(&s->creq, req, mode, s);
	buf_printf(&s->creq, "\n%s\n%s\n%s", buf_cstr(&canon_headers), buf_cstr(&s->signed_headers),
		   s->payload_hash);
	ret = 0;
out:
	entry_list_release(&headers);
	buf_wipe(&canon_headers);
	if (ret)
		signing_release(s);
	return ret;
}

int sigv4_canonical_request(struct buf *out, const struct sigv4_request *req, enum sigv4_mode mode)
{
	struct signing s;

	if (signing_init(&s, req, mode))
		return -1;
	buf_add(out, s.creq.ptr, s.creq.len);
	signing_release(&s);
	return 0;
}

int sigv4_string_to_sign(struct buf *out, const struct sigv4_request *req,
			 const char *canonical_request)
{
	struct signing s;
	char hash[SIGV4_HEX_LEN + 1];
	int ret = -1;

	memset(&s, 0, sizeof(s));
	if (make_scope(&s, req) || sha256_hex(hash, canonical_request, strlen(canonical_request)))
		goto out;
	buf_printf(out, ALGORITHM "\n%s\n%s\n%s", s.amz_date, buf_cstr(&s.scope), hash);
	ret = 0;
out:
	signing_release(&s);
	return ret;
}

int sigv4_signature(char out[SIGV4_HEX_LEN + 1], const struct sigv4_request *req,
		    const char *string_to_sign)
{
	unsigned char key[SIGV4_KEY_LEN], mac[SIGV4_KEY_LEN];
	char amz_date[SIGV4_AMZ_DATE_LEN + 1];
	int ret = -1;

	if (sigv4_amz_date(amz_date, req->time) || get_signing_key(key, req, amz_date) ||
	    hmac_sha256(mac, key, sizeof(key), string_to_sign, strlen(string_to_sign)))
		goto out;
	hex_encode(out, mac, sizeof(mac));
	ret = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	return ret;
}

/* Runs the whole pipeline for mode; the caller releases s. */
static int sign(struct signing *s, char signature[SIGV4_HEX_LEN + 1],
		const struct sigv4_request *req, enum sigv4_mode mode)
{
	struct buf sts = BUF_INIT;
	int ret = -1;

	if (signing_init(s, req, mode))
		return -1;
	if (!sigv4_string_to_sign(&sts, req, buf_cstr(&s->creq)) &&
	    !sigv4_signature(signature, req, buf_cstr(&sts)))
		ret = 0;
	buf_release(&sts);
	if (ret)
		signing_release(s);
	return ret;
}

static void auth_add(struct sigv4_auth *auth, const char *name, char *value)
{
	auth->headers[auth->nr].name = xstrdup(name);
	auth->headers[auth->nr++].value = value;
}

int sigv4_sign_headers(struct sigv4_auth *out, const struct sigv4_request *req)
{
	struct signing s;

	memset(out, 0, sizeof(*out));
	if (sign(&s, out->signature, req, SIGV4_HEADERS))
		return -1;
	if (has_token(req))
		auth_add(out, "X-Amz-Security-Token", xstrdup(req->creds->session_token));
	auth_add(out, "X-Amz-Date", xstrdup(s.amz_date));
	if (req->add_content_sha256_header)
		auth_add(out, "x-amz-content-sha256", xstrdup(s.payload_hash));
	auth_add(out, "Authorization",
		 xstrfmt(ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s",
			 req->creds->access_key_id, buf_cstr(&s.scope), buf_cstr(&s.signed_headers),
			 out->signature));
	signing_release(&s);
	return 0;
}

void sigv4_auth_release(struct sigv4_auth *auth)
{
	size_t i;

	for (i = 0; i < auth->nr; i++) {
		OPENSSL_cleanse(auth->headers[i].value, strlen(auth->headers[i].value));
		free(auth->headers[i].name);
		free(auth->headers[i].value);
	}
	OPENSSL_cleanse(auth->signature, sizeof(auth->signature));
	auth->nr = 0;
}

int sigv4_presign_url(struct buf *out, const struct sigv4_request *req)
{
	struct entry_list l = { NULL, 0, 0 };
	char signature[SIGV4_HEX_LEN + 1];
	struct signing s;
	size_t i;

	if (sign(&s, signature, req, SIGV4_QUERY))
		return -1;
	buf_puts(out, req->path && *req->path ? req->path : "/");
	buf_putc(out, '?');
	if (req->query && *req->query)
		buf_printf(out, "%s&", req->query);
	presign_params(&l, &s, req, has_token(req));
	for (i = 0; i < l.nr; i++)
		buf_printf(out, "%s=%s&", l.v[i].key, l.v[i].value);
	buf_printf(out, "X-Amz-Signature=%s", signature);
	entry_list_release(&l);
	signing_release(&s);
	return 0;
}

int sigv4_chunk_string_to_sign(struct buf *out, const struct sigv4_request *req,
			       const char *prev_signature, const void *data, size_t len)
{
	char empty[SIGV4_HEX_LEN + 1], hash[SIGV4_HEX_LEN + 1];
	struct signing s;
	size_t i;
	int ret = -1;

	for (i = 0; prev_signature && i < SIGV4_HEX_LEN; i++)
		if (hex_value(prev_signature[i]) < 0)
			break;
	if (!prev_signature || i != SIGV4_HEX_LEN || prev_signature[i])
		return err_set("cannot sign chunk: invalid previous signature");
	memset(&s, 0, sizeof(s));
	if (make_scope(&s, req) || sha256_hex(empty, NULL, 0) || sha256_hex(hash, data, len))
		goto out;
	buf_printf(out, ALGORITHM "-PAYLOAD\n%s\n%s\n%s\n%s\n%s", s.amz_date, buf_cstr(&s.scope),
		   prev_signature, empty, hash);
	ret = 0;
out:
	signing_release(&s);
	return ret;
}

int sigv4_chunk_signature(char out[SIGV4_HEX_LEN + 1], const struct sigv4_request *req,
			  const char *prev_signature, const void *data, size_t len)
{
	struct buf sts = BUF_INIT;
	int ret = -1;

	if (!sigv4_chunk_string_to_sign(&sts, req, prev_signature, data, len))
		ret = sigv4_signature(out, req, buf_cstr(&sts));
	buf_release(&sts);
	return ret;
}
