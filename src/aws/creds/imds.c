/*
 * The EC2 instance role through IMDSv2: a session token from PUT
 * /latest/api/token, then the role's name and its credentials. IMDSv1 is
 * never tried (our instances require tokens).
 *
 * libcurl directly rather than the http layer: the metadata service must be
 * given up on within a second off EC2, must never go through a proxy, and is
 * not signed.
 */
#include "aws/creds/internal.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define IMDS_DEFAULT_ENDPOINT	 "http://169.254.169.254"
#define IMDS_DEFAULT_ENDPOINT_V6 "http://[fd00:ec2::254]"
#define IMDS_TOKEN_TTL		 "21600"
#define IMDS_MAX_BODY		 (64 * 1024)

static pthread_once_t imds_once = PTHREAD_ONCE_INIT;
static CURLcode imds_global_rc;

static void imds_global_init(void)
{
	imds_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_data(char *data, size_t size, size_t n, void *ctx)
{
	struct buf *body = ctx;

	if (body->len + size * n > IMDS_MAX_BODY)
		return 0;
	buf_add(body, data, size * n);
	return size * n;
}

/* The per-request budget: AWS_METADATA_SERVICE_TIMEOUT seconds, 1 by default. */
static long timeout_ms(void)
{
	const char *v = getenv_nonempty("AWS_METADATA_SERVICE_TIMEOUT");
	long s = v ? strtol(v, NULL, 10) : 0;

	return (s > 0 && s < 60 ? s : 1) * 1000;
}

/* 0 with the HTTP status in *status, -1 when nothing answered (curl's reason in why). */
static int imds_request(long *status, struct buf *body, CURL *curl, const char *method,
			const char *url, const char *header, struct buf *why)
{
	struct curl_slist *headers = header ? curl_slist_append(NULL, header) : NULL;
	CURLcode rc;

	buf_reset(body);
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms());
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 2 * timeout_ms());
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
	rc = curl_easy_perform(curl);
	curl_slist_free_all(headers);
	if (rc != CURLE_OK) {
		buf_puts(why, curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
	return 0;
}

static char *imds_endpoint(void)
{
	const char *ep = getenv_nonempty("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode = getenv_nonempty("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	size_t len;

	if (!ep)
		ep = mode && !strcasecmp(mode, "IPv6") ? IMDS_DEFAULT_ENDPOINT_V6
						       : IMDS_DEFAULT_ENDPOINT;
	len = strlen(ep);
	while (len && ep[len - 1] == '/')
		len--;
	return xstrndup(ep, len);
}

/* The first line of the role list: an instance has at most one role. */
static char *first_line(const struct buf *body)
{
	const char *s = buf_cstr((struct buf *)body);
	size_t len = strcspn(s, "\r\n");

	return len ? xstrndup(s, len) : NULL;
}

static int parse_creds(struct aws_credentials *out, const struct buf *body, const char *role)
{
	char *what = xstrfmt("the instance metadata's credentials for role '%s'", role);
	cJSON *doc = cJSON_ParseWithLength(body->ptr ? body->ptr : "", body->len);
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(doc, "Code");
	int ret = -1;

	if (!doc)
		err_set("%s are not JSON", what);
	else if (cJSON_IsString(code) && strcmp(code->valuestring, "Success"))
		err_set("%s are not available: %s", what, code->valuestring);
	else
		ret = aws_creds_from_json(out, doc, "Token", what,
					  xstrfmt("instance role '%s' (instance metadata)", role));
	if (doc) {
		aws_creds_wipe_json(doc);
		cJSON_Delete(doc);
	}
	free(what);
	return ret;
}

static int fetch(struct aws_credentials *out, CURL *curl, const char *ep, struct buf *why)
{
	struct buf body = BUF_INIT, reason = BUF_INIT;
	char *url = NULL, *token_header = NULL, *role = NULL;
	long status = 0;
	int ret = 1;

	url = xstrfmt("%s/latest/api/token", ep);
	if (imds_request(&status, &body, curl, "PUT", url,
			 "X-aws-ec2-metadata-token-ttl-seconds: " IMDS_TOKEN_TTL, &reason)) {
		buf_printf(why, "no instance metadata at %s (%s): not on EC2", ep,
			   buf_cstr(&reason));
		goto out;
	}
	if (status != 200 || !body.len) {
		buf_printf(why, "the instance metadata at %s gave no IMDSv2 token (HTTP %ld)", ep,
			   status);
		goto out;
	}
	token_header =
		xstrfmt("X-aws-ec2-metadata-token: %.*s", (int)strcspn(body.ptr, "\r\n"), body.ptr);
	free(url);
	url = xstrfmt("%s/latest/meta-data/iam/security-credentials/", ep);
	if (imds_request(&status, &body, curl, "GET", url, token_header, &reason) ||
	    status == 404 || (status == 200 && !(role = first_line(&body)))) {
		buf_printf(why, "this instance has no IAM role (instance metadata at %s)", ep);
		goto out;
	}
	if (status != 200) {
		buf_printf(why, "the instance metadata at %s refused the role list (HTTP %ld)", ep,
			   status);
		goto out;
	}
	free(url);
	url = xstrfmt("%s/latest/meta-data/iam/security-credentials/%s", ep, role);
	if (imds_request(&status, &body, curl, "GET", url, token_header, &reason) ||
	    status != 200) {
		ret = err_set("cannot get the credentials of instance role '%s' from the instance "
			      "metadata at %s: %s",
			      role, ep, reason.len ? buf_cstr(&reason) : "HTTP error");
		goto out;
	}
	ret = parse_creds(out, &body, role);
out:
	if (body.ptr)
		OPENSSL_cleanse(body.ptr, body.len);
	buf_release(&body);
	buf_release(&reason);
	secret_free(token_header);
	free(url);
	free(role);
	return ret;
}

int aws_creds_from_imds(struct aws_credentials *out, struct buf *why_not)
{
	const char *disabled = getenv_nonempty("AWS_EC2_METADATA_DISABLED");
	char *ep;
	CURL *curl;
	int ret;

	memset(out, 0, sizeof(*out));
	if (disabled && !strcasecmp(disabled, "true")) {
		buf_puts(why_not, "instance metadata disabled by AWS_EC2_METADATA_DISABLED");
		return 1;
	}
	pthread_once(&imds_once, imds_global_init);
	if (imds_global_rc != CURLE_OK || !(curl = curl_easy_init()))
		return err_set("cannot ask the instance metadata: libcurl failed to start");
	ep = imds_endpoint();
	ret = fetch(out, curl, ep, why_not);
	curl_easy_cleanup(curl);
	free(ep);
	return ret;
}
