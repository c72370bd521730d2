#include "aws/http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_CONNECT_TIMEOUT_MS	   10000L
#define HTTP_DEFAULT_STALL_SECONDS 60L
/* Idle handles kept: enough for the S3 engineer's parallel part uploads. */
#define HTTP_POOL_MAX 32

struct http_client {
	pthread_mutex_t lock; /* guards idle[] */
	CURL *idle[HTTP_POOL_MAX];
	size_t nr_idle;
	CURLSH *share;
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
	long stall_seconds;
};

/* What the curl callbacks of one exchange work on. */
struct http_exchange {
	const struct http_request *req;
	struct http_response *res;
	size_t body_pos;   /* in-memory body: bytes sent */
	int caller_failed; /* a read/sink callback failed: its err_set() stands */
	long stall_seconds;
	curl_off_t last_dl, last_ul;
	double last_progress; /* when a byte last moved */
	int stalled;
};

static pthread_once_t http_global_once = PTHREAD_ONCE_INIT;
static CURLcode http_global_rc;

static void http_global_init(void)
{
	http_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void share_lock(CURL *handle, curl_lock_data data, curl_lock_access access, void *ctx)
{
	struct http_client *c = ctx;

	if (data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&c->share_locks[data]);
}

static void share_unlock(CURL *handle, curl_lock_data data, void *ctx)
{
	struct http_client *c = ctx;

	if (data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&c->share_locks[data]);
}

static long stall_seconds_from_env(void)
{
	const char *v = getenv("GIT_TRAIN_HTTP_TIMEOUT");
	char *end;
	long n;

	if (!v || !*v)
		return HTTP_DEFAULT_STALL_SECONDS;
	n = strtol(v, &end, 10);
	if (*end || n <= 0)
		return HTTP_DEFAULT_STALL_SECONDS;
	return n;
}

int http_client_new(struct http_client **out)
{
	struct http_client *c;
	size_t i;

	*out = NULL;
	pthread_once(&http_global_once, http_global_init);
	if (http_global_rc != CURLE_OK)
		return err_set("cannot initialise libcurl: %s", curl_easy_strerror(http_global_rc));
	c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	for (i = 0; i < ARRAY_SIZE(c->share_locks); i++)
		pthread_mutex_init(&c->share_locks[i], NULL);
	c->stall_seconds = stall_seconds_from_env();
	c->share = curl_share_init();
	if (!c->share) {
		http_client_free(c);
		return err_set("cannot initialise libcurl: out of memory");
	}
	/*
	 * Connections stay with each pooled easy handle (a worker keeps its own
	 * warm connection); DNS answers and TLS sessions are shared.
	 */
	curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	*out = c;
	return 0;
}

void http_client_free(struct http_client *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nr_idle; i++)
		curl_easy_cleanup(c->idle[i]);
	if (c->share)
		curl_share_cleanup(c->share);
	for (i = 0; i < ARRAY_SIZE(c->share_locks); i++)
		pthread_mutex_destroy(&c->share_locks[i]);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static CURL *pool_get(struct http_client *c)
{
	CURL *h = NULL;

	pthread_mutex_lock(&c->lock);
	if (c->nr_idle)
		h = c->idle[--c->nr_idle];
	pthread_mutex_unlock(&c->lock);
	if (h)
		curl_easy_reset(h); /* keeps its live connections */
	else
		h = curl_easy_init();
	return h;
}

static void pool_put(struct http_client *c, CURL *h)
{
	pthread_mutex_lock(&c->lock);
	if (c->nr_idle < HTTP_POOL_MAX) {
		c->idle[c->nr_idle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	if (h)
		curl_easy_cleanup(h);
}

static void response_clear_headers(struct http_response *r)
{
	size_t i;

	for (i = 0; i < r->nr_headers; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	r->headers = NULL;
	r->nr_headers = 0;
}

void http_response_release(struct http_response *r)
{
	response_clear_headers(r);
	buf_release(&r->body);
	memset(r, 0, sizeof(*r));
}

const char *http_response_header(const struct http_response *r, const char *name)
{
	size_t i = r->nr_headers;

	while (i--)
		if (!strcmp(r->headers[i].name, name))
			return r->headers[i].value;
	return NULL;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct http_exchange *x = ctx;
	struct http_response *r = x->res;
	size_t len = size * nmemb, n = len, i;
	const char *colon;
	struct http_header *h;

	while (n && (data[n - 1] == '\r' || data[n - 1] == '\n'))
		n--;
	/* A new status line (after "100 Continue"): forget the previous headers. */
	if (n > 5 && !memcmp(data, "HTTP/", 5)) {
		const char *sp = memchr(data, ' ', n);

		response_clear_headers(r);
		r->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		return len;
	}
	colon = memchr(data, ':', n);
	if (!colon || colon == data)
		return len;
	r->headers = xrealloc(r->headers, (r->nr_headers + 1) * sizeof(*r->headers));
	h = &r->headers[r->nr_headers++];
	h->name = xstrndup(data, (size_t)(colon - data));
	for (i = 0; h->name[i]; i++)
		h->name[i] = (char)tolower((unsigned char)h->name[i]);
	colon++;
	while (colon < data + n && (*colon == ' ' || *colon == '\t'))
		colon++;
	h->value = xstrndup(colon, (size_t)(data + n - colon));
	return len;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct http_exchange *x = ctx;
	size_t len = size * nmemb;

	if (x->req->on_body && x->res->status >= 200 && x->res->status < 300) {
		if (x->req->on_body(x->req->on_body_ctx, data, len)) {
			x->caller_failed = 1;
			return 0;
		}
		x->res->body_streamed += (long long)len;
		return len;
	}
	buf_add(&x->res->body, data, len);
	return len;
}

static size_t on_read(char *dst, size_t size, size_t nmemb, void *ctx)
{
	struct http_exchange *x = ctx;
	const struct http_request *req = x->req;
	size_t len = size * nmemb;
	long long n;

	if (!req->read) {
		if (len > req->body_len - x->body_pos)
			len = req->body_len - x->body_pos;
		if (len)
			memcpy(dst, (const char *)req->body + x->body_pos, len);
		x->body_pos += len;
		return len;
	}
	n = req->read(req->read_ctx, dst, len);
	if (n < 0 || (size_t)n > len) {
		if (n >= 0)
			err_set("request body reader returned more than asked for");
		x->caller_failed = 1;
		return CURL_READFUNC_ABORT;
	}
	return (size_t)n;
}

/* curl rewinds the body when it resends on a fresh connection. */
static int on_seek(void *ctx, curl_off_t offset, int origin)
{
	struct http_exchange *x = ctx;
	const struct http_request *req = x->req;

	if (offset != 0 || origin != SEEK_SET)
		return CURL_SEEKFUNC_CANTSEEK;
	if (!req->read) {
		x->body_pos = 0;
		return CURL_SEEKFUNC_OK;
	}
	if (!req->rewind || req->rewind(req->read_ctx))
		return CURL_SEEKFUNC_CANTSEEK;
	return CURL_SEEKFUNC_OK;
}

/*
 * A stall timeout: libcurl's low-speed limit averages over several seconds,
 * so a request whose upload went out fast never trips it while the server
 * sits on the answer. Here any byte in either direction resets the clock.
 */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct http_exchange *x = ctx;
	double now = now_monotonic();

	if (dlnow != x->last_dl || ulnow != x->last_ul) {
		x->last_dl = dlnow;
		x->last_ul = ulnow;
		x->last_progress = now;
		return 0;
	}
	if (now - x->last_progress < (double)x->stall_seconds)
		return 0;
	x->stalled = 1;
	return 1;
}

static int has_body(const struct http_request *req)
{
	return req->read || req->body || !strcmp(req->method, "PUT") ||
	       !strcmp(req->method, "POST");
}

static void set_method(CURL *h, const struct http_request *req)
{
	if (!strcmp(req->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
		return;
	}
	if (has_body(req)) {
		/* UPLOAD sends the body from on_read whatever the method. */
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(
			h, CURLOPT_INFILESIZE_LARGE,
			(curl_off_t)(req->read ? req->read_length : (long long)req->body_len));
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
		if (strcmp(req->method, "PUT"))
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
		return;
	}
	if (strcmp(req->method, "GET"))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
}

static int is_transport_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_HTTP3:
	case CURLE_SEND_FAIL_REWIND:
	case CURLE_WEIRD_SERVER_REPLY:
		return 1;
	default:
		return 0;
	}
}

static struct curl_slist *build_headers(const struct http_request *req)
{
	struct curl_slist *list = NULL, *next;
	size_t i;

	for (i = 0; i < req->nr_headers; i++) {
		next = curl_slist_append(list, req->headers[i]);
		if (!next)
			goto oom;
		list = next;
	}
	/* A round trip per upload for nothing: AWS answers errors at once anyway. */
	next = curl_slist_append(list, "Expect:");
	if (!next)
		goto oom;
	return next;
oom:
	curl_slist_free_all(list);
	return NULL;
}

enum http_result http_send(struct http_response *out, struct http_client *c,
			   const struct http_request *req)
{
	struct http_exchange x = { 0 };
	char curl_err[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	enum http_result ret = HTTP_ERR;
	double start = now_monotonic();
	CURL *h = NULL;
	CURLcode rc;

	memset(out, 0, sizeof(*out));
	x.req = req;
	x.res = out;
	x.stall_seconds = c->stall_seconds;
	x.last_progress = start;
	h = pool_get(c);
	headers = build_headers(req);
	if (!h || !headers) {
		err_set("cannot send a request to '%s': out of memory", req->url);
		goto out;
	}
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(h, CURLOPT_SHARE, c->share);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, HTTP_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(h, CURLOPT_READDATA, &x);
	curl_easy_setopt(h, CURLOPT_SEEKDATA, &x);
	set_method(h, req);

	rc = curl_easy_perform(h);
	out->seconds = now_monotonic() - start;
	if (x.caller_failed) {
		ret = HTTP_ERR; /* the callback's own message stands */
		goto out;
	}
	if (x.stalled) {
		err_set("no data moved for %ld s: the connection stalled", c->stall_seconds);
		ret = HTTP_ERR_TRANSPORT;
		goto out;
	}
	if (rc != CURLE_OK) {
		/* git's style: "failed to connect to ...", not "Failed to ..." */
		if (!curl_err[0])
			snprintf(curl_err, sizeof(curl_err), "%s", curl_easy_strerror(rc));
		if (isupper((unsigned char)curl_err[0]) && islower((unsigned char)curl_err[1]))
			curl_err[0] = (char)tolower((unsigned char)curl_err[0]);
		err_set("%s", curl_err);
		ret = is_transport_error(rc) ? HTTP_ERR_TRANSPORT : HTTP_ERR;
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	ret = HTTP_OK;
out:
	curl_slist_free_all(headers);
	if (h) {
		/* The handle's options point into this frame: drop them before pooling. */
		curl_easy_reset(h);
		pool_put(c, h);
	}
	return ret;
}
