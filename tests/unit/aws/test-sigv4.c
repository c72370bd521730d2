/*
 * Unit tests for sigv4: a few hand-written checks, then every vector case.
 *
 * Vector suites, found at run time (new case directories are picked up):
 *   tests/unit/aws/sigv4-vectors/       ours, aws-c-auth's layout, expected files
 *                                   written by botocore (generate.py); required
 *   <shared>/aws-sig-v4-test-suite/ the classic AWS suite (NAME/NAME.req, ...)
 *   <shared>/aws-c-auth-v4/         AWS CRT's suite, header and query variants
 *   <shared>/s3-doc-examples/       the S3 API Reference examples
 * where <shared> is $GIT_TRAIN_SIGV4_VECTORS or $SRCDIR/../shared/sigv4-vectors;
 * when it is absent those suites are reported as skipped, never as passed.
 *
 * Each case is one test named "<suite>/<case>". Stages are checked
 * independently: the string to sign from the *expected* canonical request, the
 * signature from the *expected* string to sign, then the whole pipeline, so a
 * failure names the first stage that is wrong and every stage after it that
 * is wrong on its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "aws/sigv4.h"
#include "util/util.h"

#ifndef SIGV4_TEST_SRCDIR
#define SIGV4_TEST_SRCDIR "."
#endif

/* The classic suite's parameters are not in its files (see its README). */
#define CLASSIC_KEY    "AKIDEXAMPLE"
#define CLASSIC_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define CLASSIC_TIME   1440938160 /* 2015-08-30T12:36:00Z */
/* Nor is the token of its get-vanilla-with-session-token (it shows in the .creq). */
#define CLASSIC_VANILLA_TOKEN "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"

/*
 * Stages not compared, by test name and stage, and why. Whole cases are
 * never excluded: the four cases botocore skips (normalize-path/get-space,
 * get-vanilla-query-order-key, -key-case, -value) all pass here.
 */
static const struct {
	const char *test, *stage, *why;
} excluded_stages[] = {
	{ "aws-sig-v4-test-suite/get-vanilla-with-session-token", "signed request (.sreq)",
	  "upstream .sreq carries get-vanilla's signature; its .authz (checked) is right" },
};

/* ---- small helpers ---- */

static char *path_join(const char *a, const char *b)
{
	return xstrfmt("%s/%s", a, b);
}

static int is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

static int is_file(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode);
}

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static char *vslurp(size_t *len, const char *dir, const char *fmt, va_list ap)
{
	struct buf path = BUF_INIT, b = BUF_INIT;
	char *ret = NULL;

	buf_printf(&path, "%s/", dir);
	buf_vprintf(&path, fmt, ap);
	if (!read_file(&b, buf_cstr(&path))) {
		if (len)
			*len = b.len;
		buf_cstr(&b);
		ret = buf_detach(&b);
	}
	err_clear();
	buf_release(&b);
	buf_release(&path);
	return ret;
}

/* The file's contents (caller frees), or NULL when it cannot be read. */
static char *slurp(size_t *len, const char *dir, const char *fmt, ...) PRINTF_LIKE(3, 4);
static char *slurp(size_t *len, const char *dir, const char *fmt, ...)
{
	va_list ap;
	char *ret;

	va_start(ap, fmt);
	ret = vslurp(len, dir, fmt, ap);
	va_end(ap);
	return ret;
}

/* The same without its trailing newline: for one-value and canonical files. */
static char *slurp_chomped(const char *dir, const char *fmt, ...) PRINTF_LIKE(2, 3);
static char *slurp_chomped(const char *dir, const char *fmt, ...)
{
	va_list ap;
	char *ret;

	va_start(ap, fmt);
	ret = vslurp(NULL, dir, fmt, ap);
	va_end(ap);
	if (ret)
		chomp(ret);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the subdirectories of dir. */
static size_t list_subdirs(char ***out, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t nr = 0;

	while (d && (e = readdir(d))) {
		char *p;

		if (e->d_name[0] == '.')
			continue;
		p = path_join(dir, e->d_name);
		if (is_dir(p)) {
			v = xrealloc(v, (nr + 1) * sizeof(*v));
			v[nr++] = xstrdup(e->d_name);
		}
		free(p);
	}
	if (d)
		closedir(d);
	if (nr)
		qsort(v, nr, sizeof(*v), cmp_str);
	*out = v;
	return nr;
}

static void free_list(char **v, size_t nr)
{
	while (nr)
		free(v[--nr]);
	free(v);
}

/* ---- raw HTTP requests as the suites write them ---- */

struct raw_header {
	char *name;
	char *value; /* leading whitespace dropped; folded lines kept with '\n' */
};

struct raw_request {
	char *method;
	char *target; /* path and query, as sent */
	char *path;
	char *query; /* NULL without '?' */
	struct raw_header *headers;
	size_t nr_headers;
	char *body;
	size_t body_len;
	struct sigv4_header *view; /* headers as sigv4 takes them */
};

static void raw_add_header(struct raw_request *r, char *name, char *value)
{
	r->headers = xrealloc(r->headers, (r->nr_headers + 1) * sizeof(*r->headers));
	r->headers[r->nr_headers].name = name;
	r->headers[r->nr_headers++].value = value;
}

/*
 * Request line, headers (continuation lines appended to the previous value),
 * blank line, body. Lines end in "\n" or "\r\n". The target runs to the last
 * " HTTP/", so that the suites' unencoded spaces survive.
 */
static int raw_parse(struct raw_request *r, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	int first = 1;

	memset(r, 0, sizeof(*r));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = xstrndup(p, n > 0 && p[n - 1] == '\r' ? n - 1 : n);

		p = nl ? nl + 1 : end;
		if (first) {
			char *sp = strchr(line, ' '), *ver = NULL, *q;

			for (q = line; (q = strstr(q, " HTTP/")); q++)
				ver = q;
			if (!sp) {
				free(line);
				return -1;
			}
			r->method = xstrndup(line, (size_t)(sp - line));
			r->target = ver && ver > sp ? xstrndup(sp + 1, (size_t)(ver - sp - 1))
						    : xstrdup(sp + 1);
			first = 0;
		} else if (!*line) {
			free(line);
			break;
		} else if ((*line == ' ' || *line == '\t') && r->nr_headers) {
			char **v = &r->headers[r->nr_headers - 1].value;
			char *joined = xstrfmt("%s\n%s", *v, line);

			free(*v);
			*v = joined;
		} else {
			char *colon = strchr(line, ':'), *v;

			if (!colon) {
				free(line);
				return -1;
			}
			for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
				;
			raw_add_header(r, xstrndup(line, (size_t)(colon - line)), xstrdup(v));
		}
		free(line);
	}
	if (!r->method)
		return -1;
	r->body_len = (size_t)(end - p);
	r->body = xmalloc(r->body_len + 1); /* bodies may hold NUL bytes */
	memcpy(r->body, p, r->body_len);
	r->body[r->body_len] = '\0';
	r->path = xstrdup(r->target);
	if ((r->query = strchr(r->path, '?')))
		*r->query++ = '\0';
	return 0;
}

static void raw_release(struct raw_request *r)
{
	size_t i;

	for (i = 0; i < r->nr_headers; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	free(r->method);
	free(r->target);
	free(r->path);
	free(r->body);
	free(r->view);
}

/* Points req at r: method, path, query, headers and payload. */
static void raw_to_request(struct sigv4_request *req, struct raw_request *r)
{
	size_t i;

	r->view = xcalloc(r->nr_headers + 1, sizeof(*r->view));
	for (i = 0; i < r->nr_headers; i++) {
		r->view[i].name = r->headers[i].name;
		r->view[i].value = r->headers[i].value;
	}
	req->method = r->method;
	req->path = r->path;
	req->query = r->query;
	req->headers = r->view;
	req->nr_headers = r->nr_headers;
	req->payload = r->body;
	req->payload_len = r->body_len;
}

/* ---- comparing signed requests without caring for header or parameter order ---- */

/* "path?p1&p2" with the parameters sorted: servers sort them too. */
static void canonical_target(struct buf *out, const char *target)
{
	const char *q = strchr(target, '?');
	char **v = NULL;
	size_t nr = 0, i;

	buf_add(out, target, q ? (size_t)(q - target) : strlen(target));
	if (!q)
		return;
	for (q++; *q; q += *q == '&') {
		size_t n = strcspn(q, "&");

		v = xrealloc(v, (nr + 1) * sizeof(*v));
		v[nr++] = xstrndup(q, n);
		q += n;
	}
	if (nr)
		qsort(v, nr, sizeof(*v), cmp_str);
	buf_putc(out, '?');
	for (i = 0; i < nr; i++)
		buf_printf(out, "%s%s", i ? "&" : "", v[i]);
	free_list(v, nr);
}

/* s, without the spaces after its commas when on (the S3 docs print none). */
static char *squeeze_commas(const char *s, int on)
{
	struct buf b = BUF_INIT;

	if (!s)
		return NULL;
	for (buf_puts(&b, ""); *s; s++)
		if (!(on && *s == ' ' && b.len && b.ptr[b.len - 1] == ','))
			buf_putc(&b, *s);
	return buf_detach(&b);
}

struct kv {
	char *name;
	const char *value;
	size_t order;
};

static int cmp_kv(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->order > y->order) - (x->order < y->order);
}

/*
 * A request with header names lower-cased and sorted (same-name headers keep
 * their order) and the query sorted. squeeze_auth drops the spaces after the
 * commas of Authorization: the S3 documentation prints it without them.
 */
static char *canonical_form(const struct raw_request *r, int squeeze_auth)
{
	struct kv *kv = xcalloc(r->nr_headers + 1, sizeof(*kv));
	struct buf b = BUF_INIT;
	size_t i;

	buf_printf(&b, "%s ", r->method);
	canonical_target(&b, r->target);
	buf_putc(&b, '\n');
	for (i = 0; i < r->nr_headers; i++) {
		char *p;

		kv[i].name = xstrdup(r->headers[i].name);
		for (p = kv[i].name; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		kv[i].value = r->headers[i].value;
		kv[i].order = i;
	}
	qsort(kv, r->nr_headers, sizeof(*kv), cmp_kv);
	for (i = 0; i < r->nr_headers; i++) {
		char *v = squeeze_commas(kv[i].value,
					 squeeze_auth && !strcmp(kv[i].name, "authorization"));

		buf_printf(&b, "%s:%s", kv[i].name, v);
		buf_rtrim(&b);
		free(v);
		buf_putc(&b, '\n');
		free(kv[i].name);
	}
	free(kv);
	buf_putc(&b, '\n');
	buf_add(&b, r->body, r->body_len);
	return buf_detach(&b);
}

static char *canonical_form_text(const char *text, size_t len, int squeeze_auth)
{
	struct raw_request r;
	char *ret = NULL;

	if (!raw_parse(&r, text, len))
		ret = canonical_form(&r, squeeze_auth);
	raw_release(&r);
	return ret;
}

/* r with the signer's headers set (replacing same-named ones), in canonical form. */
static char *signed_form(const struct raw_request *r, const struct sigv4_auth *auth,
			 int squeeze_auth)
{
	struct raw_request s = *r;
	size_t i, j;
	char *ret;

	s.headers = xcalloc(r->nr_headers + auth->nr, sizeof(*s.headers));
	s.nr_headers = 0;
	for (i = 0; i < r->nr_headers; i++) {
		for (j = 0; j < auth->nr; j++)
			if (!strcasecmp(r->headers[i].name, auth->headers[j].name))
				break;
		if (j == auth->nr)
			s.headers[s.nr_headers++] = r->headers[i];
	}
	for (j = 0; j < auth->nr; j++) {
		s.headers[s.nr_headers].name = auth->headers[j].name;
		s.headers[s.nr_headers++].value = auth->headers[j].value;
	}
	ret = canonical_form(&s, squeeze_auth);
	free(s.headers);
	return ret;
}

/* r with its target replaced by a presigned one, in canonical form. */
static char *presigned_form(const struct raw_request *r, const char *target)
{
	struct raw_request s = *r;

	s.target = (char *)target;
	return canonical_form(&s, 0);
}

/* ---- stage checks ---- */

struct check {
	const char *test;
	int failed, passed;
};

static const char *stage_excluded(const char *test, const char *stage)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(excluded_stages); i++)
		if (!strcmp(excluded_stages[i].test, test) &&
		    !strcmp(excluded_stages[i].stage, stage))
			return excluded_stages[i].why;
	return NULL;
}

/* want NULL: the expected file is missing; got NULL: the signer failed. */
static void check(struct check *c, const char *stage, const char *want, const char *got)
{
	const char *why = stage_excluded(c->test, stage);

	if (why) {
		print_message("# %s: stage '%s' skipped (known exclusion: %s)\n", c->test, stage,
			      why);
		return;
	}
	if (!want) {
		print_error("%s: %s: expected file missing or unreadable\n", c->test, stage);
		c->failed++;
	} else if (!got) {
		print_error("%s: %s: signer failed: %s\n", c->test, stage, err_msg());
		c->failed++;
	} else if (strcmp(want, got)) {
		print_error("%s: %s differs\n--- expected\n%s\n--- got\n%s\n---\n", c->test, stage,
			    want, got);
		c->failed++;
	} else {
		c->passed++;
	}
	err_clear();
}

static void check_done(struct check *c)
{
	if (c->failed)
		fail_msg("%s: %d stage(s) wrong, %d right", c->test, c->failed, c->passed);
	if (!c->passed)
		fail_msg("%s: no stage was checked", c->test);
}

static char *run_creq(const struct sigv4_request *req, enum sigv4_mode mode)
{
	struct buf b = BUF_INIT;

	if (sigv4_canonical_request(&b, req, mode)) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

static char *run_sts(const struct sigv4_request *req, const char *creq)
{
	struct buf b = BUF_INIT;

	if (!creq || sigv4_string_to_sign(&b, req, creq)) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

static char *run_sig(const struct sigv4_request *req, const char *sts)
{
	char sig[SIGV4_HEX_LEN + 1];

	return sts && !sigv4_signature(sig, req, sts) ? xstrdup(sig) : NULL;
}

static char *run_presign(const struct sigv4_request *req)
{
	struct buf b = BUF_INIT;

	if (sigv4_presign_url(&b, req)) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

static const char *auth_value(const struct sigv4_auth *auth, const char *name)
{
	size_t i;

	for (i = 0; i < auth->nr; i++)
		if (!strcasecmp(auth->headers[i].name, name))
			return auth->headers[i].value;
	return NULL;
}

/*
 * The stages common to every header-signed case: canonical request, string to
 * sign (from the expected canonical request), signature (from the expected
 * string to sign), and the pipeline end to end.
 */
struct expected {
	char *creq, *sts, *signature, *authz, *signed_request;
	size_t signed_request_len;
	const char *sreq_stage; /* how the suite names its signed request */
};

static void check_header_signing(struct check *c, struct sigv4_request *req,
				 const struct raw_request *raw, const struct expected *e,
				 int squeeze_auth)
{
	struct sigv4_auth auth;
	char *creq = run_creq(req, SIGV4_HEADERS);
	char *sts = run_sts(req, e->creq);
	char *sig = run_sig(req, e->sts);

	check(c, "canonical request", e->creq, creq);
	check(c, "string to sign", e->sts, sts);
	check(c, "signature", e->signature, sig);
	if (sigv4_sign_headers(&auth, req)) {
		check(c, "signed headers", "", NULL);
	} else {
		char *want_req = e->signed_request
					 ? canonical_form_text(e->signed_request,
							       e->signed_request_len, squeeze_auth)
					 : NULL;
		char *got_req = signed_form(raw, &auth, squeeze_auth);

		check(c, "signature (end to end)", e->signature, auth.signature);
		if (e->authz) {
			char *want = squeeze_commas(e->authz, squeeze_auth);
			char *got =
				squeeze_commas(auth_value(&auth, "Authorization"), squeeze_auth);

			check(c, "authorization", want, got);
			free(want);
			free(got);
		}
		if (e->sreq_stage)
			check(c, e->sreq_stage, want_req, got_req);
		free(want_req);
		free(got_req);
		sigv4_auth_release(&auth);
	}
	free(creq);
	free(sts);
	free(sig);
}

static void expected_release(struct expected *e)
{
	free(e->creq);
	free(e->sts);
	free(e->signature);
	free(e->authz);
	free(e->signed_request);
}

/* ---- test cases found on disk ---- */

enum case_kind {
	CASE_CLASSIC,
	CASE_CRT_HEADER, /* aws-c-auth layout (and ours), header variant */
	CASE_CRT_QUERY,	 /* ... query (presigned) variant */
	CASE_S3DOC,
	CASE_MISSING_SUITE,
	CASE_EMPTY_SUITE,
};

struct vcase {
	enum case_kind kind;
	char *dir;  /* the case directory; the suite directory for MISSING/EMPTY */
	char *name; /* e.g. "normalize-path/get-space" */
	char *test; /* "<suite>/<name>", the test's name */
	const char *why;
};

static struct vcase **cases;
static size_t nr_cases;

/*
 * cmocka 1.1.5 prints a skipped test in TAP as "not ok N # SKIP", which
 * automake's tap-driver counts as a failure. Under TAP a missing suite's test
 * therefore carries the directive in its name instead ("ok N - suite # SKIP
 * why"), which TAP readers count as skipped; other outputs use skip().
 */
static int tap_output;

static struct vcase *add_case(enum case_kind kind, const char *suite, const char *dir,
			      const char *name, const char *variant)
{
	struct vcase *c = xcalloc(1, sizeof(*c));

	c->kind = kind;
	c->dir = xstrdup(dir);
	c->name = xstrdup(name);
	c->test = xstrfmt("%s/%s%s", suite, name, variant ? variant : "");
	cases = xrealloc(cases, (nr_cases + 1) * sizeof(*cases));
	cases[nr_cases++] = c;
	return c;
}

static void load_classic_dir(const char *suite, const char *dir, const char *prefix, size_t *found)
{
	char **subs;
	size_t nr = list_subdirs(&subs, dir), i;

	for (i = 0; i < nr; i++) {
		char *sub = path_join(dir, subs[i]);
		char *req = xstrfmt("%s/%s.req", sub, subs[i]);
		char *name = xstrfmt("%s%s", prefix, subs[i]);

		if (is_file(req)) {
			add_case(CASE_CLASSIC, suite, sub, name, NULL);
			(*found)++;
		} else {
			char *deeper = xstrfmt("%s/", name);

			load_classic_dir(suite, sub, deeper, found);
			free(deeper);
		}
		free(name);
		free(req);
		free(sub);
	}
	free_list(subs, nr);
}

static void load_classic(const char *suite, const char *dir, size_t *found)
{
	load_classic_dir(suite, dir, "", found);
}

static void load_crt_dir(const char *suite, const char *dir, size_t *found)
{
	char **subs;
	size_t nr = list_subdirs(&subs, dir), i;

	for (i = 0; i < nr; i++) {
		char *sub = path_join(dir, subs[i]);
		char *ctx = path_join(sub, "context.json");
		char *req = path_join(sub, "request.txt");

		if (is_file(ctx) && is_file(req)) {
			add_case(CASE_CRT_HEADER, suite, sub, subs[i], " (header)");
			add_case(CASE_CRT_QUERY, suite, sub, subs[i], " (query)");
			(*found)++;
		}
		free(ctx);
		free(req);
		free(sub);
	}
	free_list(subs, nr);
}

static void load_s3doc_dir(const char *suite, const char *dir, size_t *found)
{
	char **subs;
	size_t nr = list_subdirs(&subs, dir), i;

	for (i = 0; i < nr; i++) {
		char *sub = path_join(dir, subs[i]);
		char *ctx = path_join(sub, "context.json");

		if (is_file(ctx)) {
			add_case(CASE_S3DOC, suite, sub, subs[i], NULL);
			(*found)++;
		}
		free(ctx);
		free(sub);
	}
	free_list(subs, nr);
}

static void load_suite(const char *root, const char *suite, int required,
		       void (*load)(const char *, const char *, size_t *))
{
	char *dir = root ? path_join(root, suite) : NULL;
	size_t found = 0;

	if (!dir || !is_dir(dir)) {
		struct vcase *c = add_case(CASE_MISSING_SUITE, suite, dir ? dir : "", "", NULL);

		c->test[strlen(c->test) - 1] = '\0';
		if (required)
			c->why = "the project's own vectors are missing";
		else if (!root)
			c->why = "shared SigV4 vectors not found (set GIT_TRAIN_SIGV4_VECTORS "
				 "or put them in $SRCDIR/../shared/sigv4-vectors)";
		else
			c->why = "this suite is not in the shared SigV4 vectors";
		if (required)
			c->kind = CASE_EMPTY_SUITE;
	} else {
		load(suite, dir, &found);
		if (!found) {
			struct vcase *c = add_case(CASE_EMPTY_SUITE, suite, dir, "", NULL);

			c->test[strlen(c->test) - 1] = '\0';
			c->why = "suite directory holds no cases";
		}
		print_message("# %s: %zu case(s) in %s\n", suite, found, dir);
	}
	free(dir);
}

/* ---- running one case ---- */

static time_t parse_time(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!s || (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			  &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6 &&
		   sscanf(s, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			  &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6))
		return (time_t)-1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

static const char *json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* 1/0 for a JSON boolean, def when the key is absent. */
static int json_bool(const cJSON *o, const char *key, int def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : def;
}

static long json_long(const cJSON *o, const char *key, long def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? (long)v->valuedouble : def;
}

static cJSON *load_json(const char *dir)
{
	char *text = slurp(NULL, dir, "context.json");
	cJSON *ctx = text ? cJSON_Parse(text) : NULL;

	free(text);
	if (!ctx)
		fail_msg("%s/context.json: missing or not JSON", dir);
	return ctx;
}

static void load_raw(struct raw_request *raw, const char *dir, const char *name, const char *ext)
{
	size_t len;
	char *text = slurp(&len, dir, "%s%s", name, ext);

	if (!text)
		fail_msg("%s/%s%s: missing", dir, name, ext);
	if (raw_parse(raw, text, len))
		fail_msg("%s/%s%s: not an HTTP request", dir, name, ext);
	free(text);
}

/* The last non-empty line of the classic suite's post-sts-token/readme.txt. */
static char *classic_readme_token(const char *case_dir)
{
	char *text = slurp(NULL, case_dir, "../readme.txt");
	char *line, *last = NULL, *save = NULL, *ret;

	for (line = text ? strtok_r(text, "\r\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\r\n", &save))
		last = line;
	ret = last ? xstrdup(last) : NULL;
	free(text);
	return ret;
}

static void test_classic(struct vcase *vc)
{
	struct check c = { vc->test, 0, 0 };
	struct sigv4_credentials creds = { CLASSIC_KEY, CLASSIC_SECRET, NULL };
	const char *base = strrchr(vc->name, '/') ? strrchr(vc->name, '/') + 1 : vc->name;
	char *token = NULL, *sig;
	struct expected e = { 0 };
	struct sigv4_request req;
	struct raw_request raw;

	load_raw(&raw, vc->dir, base, ".req");
	sigv4_request_init(&req, "service");
	req.region = "us-east-1";
	req.creds = &creds;
	req.time = CLASSIC_TIME;
	raw_to_request(&req, &raw);
	if (!strcmp(vc->name, "get-vanilla-with-session-token")) {
		creds.session_token = CLASSIC_VANILLA_TOKEN;
	} else if (!strncmp(vc->name, "post-sts-token/", 15)) {
		creds.session_token = token = classic_readme_token(vc->dir);
		assert_non_null(token);
		req.omit_session_token = !!strstr(vc->name, "header-after");
	}

	e.creq = slurp_chomped(vc->dir, "%s.creq", base);
	e.sts = slurp_chomped(vc->dir, "%s.sts", base);
	e.authz = slurp_chomped(vc->dir, "%s.authz", base);
	e.signed_request = slurp(&e.signed_request_len, vc->dir, "%s.sreq", base);
	e.sreq_stage = "signed request (.sreq)";
	sig = e.authz ? strstr(e.authz, "Signature=") : NULL;
	e.signature = sig ? xstrdup(sig + 10) : NULL;
	check_header_signing(&c, &req, &raw, &e, 0);

	expected_release(&e);
	raw_release(&raw);
	free(token);
	check_done(&c);
}

/* The request a context.json describes (aws-c-auth's keys, plus ours). */
static void crt_request(struct sigv4_request *req, struct sigv4_credentials *creds,
			const cJSON *ctx, enum sigv4_mode mode)
{
	const cJSON *cr = cJSON_GetObjectItemCaseSensitive(ctx, "credentials");

	creds->access_key_id = json_str(cr, "access_key_id");
	creds->secret_access_key = json_str(cr, "secret_access_key");
	creds->session_token = json_str(cr, "token");
	sigv4_request_init(req, json_str(ctx, "service"));
	req->region = json_str(ctx, "region");
	req->creds = creds;
	req->time = parse_time(json_str(ctx, "timestamp"));
	req->expires = json_long(ctx, "expiration_in_seconds", 3600);
	req->normalize_path = json_bool(ctx, "normalize", req->normalize_path);
	req->double_uri_encode = json_bool(ctx, "double_uri_encode", req->double_uri_encode);
	req->add_content_sha256_header =
		json_bool(ctx, "sign_body", req->add_content_sha256_header);
	req->omit_session_token = json_bool(ctx, "omit_session_token", 0);
	req->unsigned_payload = json_bool(
		ctx, mode == SIGV4_QUERY ? "presign_unsigned_payload" : "unsigned_payload", 0);
	assert_true(req->time != (time_t)-1);
}

static void test_crt(struct vcase *vc)
{
	int query = vc->kind == CASE_CRT_QUERY;
	const char *pfx = query ? "query" : "header";
	struct check c = { vc->test, 0, 0 };
	struct sigv4_credentials creds;
	struct sigv4_request req;
	struct raw_request raw;
	struct expected e = { 0 };
	cJSON *ctx = load_json(vc->dir);

	load_raw(&raw, vc->dir, "request", ".txt");
	crt_request(&req, &creds, ctx, query ? SIGV4_QUERY : SIGV4_HEADERS);
	raw_to_request(&req, &raw);
	e.creq = slurp_chomped(vc->dir, "%s-canonical-request.txt", pfx);
	e.sts = slurp_chomped(vc->dir, "%s-string-to-sign.txt", pfx);
	e.signature = slurp_chomped(vc->dir, "%s-signature.txt", pfx);
	e.signed_request = slurp(&e.signed_request_len, vc->dir, "%s-signed-request.txt", pfx);
	if (!query) {
		e.sreq_stage = "signed request (header-signed-request.txt)";
		check_header_signing(&c, &req, &raw, &e, 0);
	} else {
		char *creq = run_creq(&req, SIGV4_QUERY), *sts = run_sts(&req, e.creq);
		char *sig = run_sig(&req, e.sts), *url = run_presign(&req);
		char *want = e.signed_request ? canonical_form_text(e.signed_request,
								    e.signed_request_len, 0)
					      : NULL;
		char *got = url ? presigned_form(&raw, url) : NULL;

		check(&c, "canonical request", e.creq, creq);
		check(&c, "string to sign", e.sts, sts);
		check(&c, "signature", e.signature, sig);
		check(&c, "presigned request (query-signed-request.txt)", want, got);
		free(creq);
		free(sts);
		free(sig);
		free(url);
		free(want);
		free(got);
	}
	expected_release(&e);
	raw_release(&raw);
	cJSON_Delete(ctx);
	check_done(&c);
}

static void s3doc_request(struct sigv4_request *req, struct sigv4_credentials *creds,
			  const cJSON *ctx)
{
	creds->access_key_id = json_str(ctx, "access_key_id");
	creds->secret_access_key = json_str(ctx, "secret_access_key");
	creds->session_token = NULL;
	sigv4_request_init(req, json_str(ctx, "service"));
	req->region = json_str(ctx, "region");
	req->creds = creds;
	req->time = parse_time(json_str(ctx, "timestamp"));
	req->normalize_path = json_bool(ctx, "normalize_path", req->normalize_path);
	assert_true(req->time != (time_t)-1);
}

/* Header-signed S3 examples: .req, .creq, .sts, .authz, .sreq, published_signature. */
static void s3doc_header(struct check *c, const struct vcase *vc, const cJSON *ctx)
{
	struct sigv4_credentials creds;
	struct sigv4_request req;
	struct raw_request raw;
	struct expected e = { 0 };

	load_raw(&raw, vc->dir, vc->name, ".req");
	s3doc_request(&req, &creds, ctx);
	raw_to_request(&req, &raw);
	e.creq = slurp_chomped(vc->dir, "%s.creq", vc->name);
	e.sts = slurp_chomped(vc->dir, "%s.sts", vc->name);
	e.authz = slurp_chomped(vc->dir, "%s.authz", vc->name);
	e.signed_request = slurp(&e.signed_request_len, vc->dir, "%s.sreq", vc->name);
	e.signature = json_str(ctx, "published_signature")
			      ? xstrdup(json_str(ctx, "published_signature"))
			      : NULL;
	e.sreq_stage = "signed request (.sreq)";
	check_header_signing(c, &req, &raw, &e, 1);
	expected_release(&e);
	raw_release(&raw);
}

/* The presigned S3 example: .creq, .sts, .url, published_signature. */
static void s3doc_presign(struct check *c, const struct vcase *vc, const cJSON *ctx)
{
	struct sigv4_credentials creds;
	struct sigv4_request req;
	struct sigv4_header host = { "Host", json_str(ctx, "host") };
	char *want_creq, *want_sts, *want_url, *creq, *sts, *sig, *url;
	struct buf full = BUF_INIT, a = BUF_INIT, b = BUF_INIT;

	s3doc_request(&req, &creds, ctx);
	req.method = json_str(ctx, "method");
	req.path = json_str(ctx, "path");
	req.headers = &host;
	req.nr_headers = 1;
	req.expires = json_long(ctx, "expires_in", 0);
	req.unsigned_payload = 1;
	want_creq = slurp_chomped(vc->dir, "%s.creq", vc->name);
	want_sts = slurp_chomped(vc->dir, "%s.sts", vc->name);
	want_url = slurp_chomped(vc->dir, "%s.url", vc->name);

	creq = run_creq(&req, SIGV4_QUERY);
	sts = run_sts(&req, want_creq);
	sig = run_sig(&req, want_sts);
	url = run_presign(&req);
	check(c, "canonical request", want_creq, creq);
	check(c, "string to sign", want_sts, sts);
	check(c, "signature", json_str(ctx, "published_signature"), sig);
	if (url)
		buf_printf(&full, "https://%s%s", host.value, url);
	if (want_url)
		canonical_target(&a, want_url);
	canonical_target(&b, buf_cstr(&full));
	check(c, "presigned URL (.url)", want_url ? buf_cstr(&a) : NULL, url ? buf_cstr(&b) : NULL);
	buf_release(&full);
	buf_release(&a);
	buf_release(&b);
	free(want_creq);
	free(want_sts);
	free(want_url);
	free(creq);
	free(sts);
	free(sig);
	free(url);
}

/*
 * The aws-chunked example. It ships no .req, so the request is the one the S3
 * API Reference describes (its canonical request lists the same headers).
 */
static void s3doc_chunked(struct check *c, const struct vcase *vc, const cJSON *ctx)
{
	static const struct sigv4_header headers[] = {
		{ "Host", "s3.amazonaws.com" },
		{ "x-amz-date", "20130524T000000Z" },
		{ "x-amz-storage-class", "REDUCED_REDUNDANCY" },
		{ "Authorization", "SignatureToBeCalculated" },
		{ "Content-Encoding", "aws-chunked" },
		{ "x-amz-decoded-content-length", "66560" },
		{ "Content-Length", "66824" },
	};
	static const size_t chunk_len[] = { 65536, 1024, 0 };
	struct sigv4_credentials creds;
	struct sigv4_request req;
	struct sigv4_auth auth;
	char *want_creq, *want_sts, *want_sigs, *want_chunk_sts, *creq, *sts, *sig;
	char *sigs[ARRAY_SIZE(chunk_len) + 1] = { NULL };
	char *chunk_sts[ARRAY_SIZE(chunk_len)] = { NULL };
	char *data = xmalloc(65536), *save = NULL, *p;
	char prev[SIGV4_HEX_LEN + 1];
	size_t i;

	memset(data, 'a', 65536);
	s3doc_request(&req, &creds, ctx);
	req.method = "PUT";
	req.path = "/examplebucket/chunkObject.txt";
	req.headers = headers;
	req.nr_headers = ARRAY_SIZE(headers);
	req.payload_hash = SIGV4_STREAMING_PAYLOAD;
	want_creq = slurp_chomped(vc->dir, "%s.creq", vc->name);
	want_sts = slurp_chomped(vc->dir, "%s.sts", vc->name);
	want_sigs = slurp_chomped(vc->dir, "%s.signatures", vc->name);
	want_chunk_sts = slurp_chomped(vc->dir, "%s.chunk-sts", vc->name);
	for (i = 0, p = want_sigs ? strtok_r(want_sigs, "\n", &save) : NULL;
	     p && i < ARRAY_SIZE(sigs); p = strtok_r(NULL, "\n", &save))
		sigs[i++] = p;
	for (i = 0, p = want_chunk_sts; p && i < ARRAY_SIZE(chunk_sts); i++) {
		char *end = strstr(p, "\n\n");

		chunk_sts[i] = p;
		if (end)
			*end = '\0';
		p = end ? end + 2 : NULL;
	}

	creq = run_creq(&req, SIGV4_HEADERS);
	sts = run_sts(&req, want_creq);
	sig = run_sig(&req, want_sts);
	check(c, "canonical request", want_creq, creq);
	check(c, "string to sign", want_sts, sts);
	check(c, "seed signature", json_str(ctx, "seed_signature"), sig);
	check(c, "seed signature (.signatures)", sigs[0], sig);
	if (sigv4_sign_headers(&auth, &req)) {
		check(c, "seed signature (end to end)", sigs[0], NULL);
	} else {
		check(c, "seed signature (end to end)", sigs[0], auth.signature);
		check(c, "x-amz-content-sha256", SIGV4_STREAMING_PAYLOAD,
		      auth_value(&auth, "x-amz-content-sha256"));
		sigv4_auth_release(&auth);
	}
	/* Each chunk is signed over the expected previous signature, stage by stage. */
	for (i = 0; i < ARRAY_SIZE(chunk_len); i++) {
		struct buf b = BUF_INIT;
		char *stage = xstrfmt("chunk %zu string to sign", i + 1);
		const char *prev_sig = sigs[i] ? sigs[i] : "";

		if (sigv4_chunk_string_to_sign(&b, &req, prev_sig, data, chunk_len[i]))
			check(c, stage, chunk_sts[i], NULL);
		else
			check(c, stage, chunk_sts[i], buf_cstr(&b));
		free(stage);
		stage = xstrfmt("chunk %zu signature", i + 1);
		check(c, stage, sigs[i + 1],
		      sigv4_chunk_signature(prev, &req, prev_sig, data, chunk_len[i]) ? NULL
										      : prev);
		free(stage);
		buf_release(&b);
	}
	free(want_creq);
	free(want_sts);
	free(want_sigs);
	free(want_chunk_sts);
	free(creq);
	free(sts);
	free(sig);
	free(data);
}

static void test_s3doc(struct vcase *vc)
{
	struct check c = { vc->test, 0, 0 };
	cJSON *ctx = load_json(vc->dir);
	char *req = xstrfmt("%s/%s.req", vc->dir, vc->name);
	char *url = xstrfmt("%s/%s.url", vc->dir, vc->name);
	char *chunks = xstrfmt("%s/%s.signatures", vc->dir, vc->name);

	if (is_file(req))
		s3doc_header(&c, vc, ctx);
	else if (is_file(url))
		s3doc_presign(&c, vc, ctx);
	else if (is_file(chunks))
		s3doc_chunked(&c, vc, ctx);
	else
		print_error("%s: neither .req, .url nor .signatures: unknown kind of case\n",
			    vc->test);
	free(req);
	free(url);
	free(chunks);
	cJSON_Delete(ctx);
	check_done(&c);
}

static void run_vector_case(void **state)
{
	struct vcase *vc = *state;

	switch (vc->kind) {
	case CASE_CLASSIC:
		test_classic(vc);
		break;
	case CASE_CRT_HEADER:
	case CASE_CRT_QUERY:
		test_crt(vc);
		break;
	case CASE_S3DOC:
		test_s3doc(vc);
		break;
	case CASE_MISSING_SUITE:
		if (!tap_output) {
			print_message("skipped %s: %s\n", vc->test, vc->why);
			skip();
		}
		break;
	case CASE_EMPTY_SUITE:
		fail_msg("%s (%s): %s", vc->test, vc->dir, vc->why);
		break;
	}
}

/* ---- hand-written checks ---- */

static struct sigv4_credentials test_creds = { "AKIDEXAMPLE", CLASSIC_SECRET, NULL };
static struct sigv4_header host_only[] = { { "Host", "example.amazonaws.com" } };

static void init_req(struct sigv4_request *req, const char *service)
{
	sigv4_request_init(req, service);
	req->method = "GET";
	req->path = "/";
	req->region = "us-east-1";
	req->creds = &test_creds;
	req->time = CLASSIC_TIME;
	req->headers = host_only;
	req->nr_headers = ARRAY_SIZE(host_only);
}

/* Line n (0-based) of the canonical request. */
static char *creq_line(const struct sigv4_request *req, enum sigv4_mode mode, int n)
{
	char *creq = run_creq(req, mode), *p = creq, *ret;

	assert_non_null(creq);
	while (n-- > 0) {
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
	}
	ret = xstrndup(p, strcspn(p, "\n"));
	free(creq);
	return ret;
}

static void assert_line(const struct sigv4_request *req, int n, const char *want)
{
	char *got = creq_line(req, SIGV4_HEADERS, n);

	assert_string_equal(got, want);
	free(got);
}

static void test_derive_key(void **state)
{
	unsigned char key[SIGV4_KEY_LEN];
	char hex[2 * SIGV4_KEY_LEN + 1];
	size_t i;

	(void)state;
	/* AWS General Reference, "Examples of how to derive a signing key". */
	assert_int_equal(sigv4_derive_key(key, CLASSIC_SECRET, "20120215", "us-east-1", "iam"), 0);
	for (i = 0; i < sizeof(key); i++)
		sprintf(hex + 2 * i, "%02x", key[i]);
	assert_string_equal(hex,
			    "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
	assert_int_equal(sigv4_derive_key(key, CLASSIC_SECRET, "2012-02-15", "us-east-1", "iam"),
			 -1);
	assert_non_null(strstr(err_msg(), "YYYYMMDD"));
	assert_int_equal(sigv4_derive_key(key, "", "20120215", "us-east-1", "iam"), -1);
	assert_int_equal(sigv4_derive_key(key, CLASSIC_SECRET, "20120215", "us/east", "iam"), -1);
	err_clear();
}

static void test_cached_key_same_signature(void **state)
{
	unsigned char key[SIGV4_KEY_LEN];
	struct sigv4_request req;
	struct sigv4_auth a, b;

	(void)state;
	init_req(&req, "service");
	assert_int_equal(sigv4_sign_headers(&a, &req), 0);
	assert_int_equal(sigv4_derive_key(key, CLASSIC_SECRET, "20150830", "us-east-1", "service"),
			 0);
	req.signing_key = key;
	req.creds = &(struct sigv4_credentials){ "AKIDEXAMPLE", NULL, NULL };
	assert_int_equal(sigv4_sign_headers(&b, &req), 0);
	assert_string_equal(a.signature, b.signature);
	assert_string_equal(a.signature,
			    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	sigv4_auth_release(&a);
	sigv4_auth_release(&b);
}

static void test_amz_date(void **state)
{
	char d[SIGV4_AMZ_DATE_LEN + 1];

	(void)state;
	assert_int_equal(sigv4_amz_date(d, CLASSIC_TIME), 0);
	assert_string_equal(d, "20150830T123600Z");
	assert_int_equal(sigv4_amz_date(d, 0), 0);
	assert_string_equal(d, "19700101T000000Z");
	assert_int_equal(sigv4_amz_date(d, (time_t)300000LL * 365 * 86400), -1);
	err_clear();
}

static void test_path_encoding(void **state)
{
	struct sigv4_request req;

	(void)state;
	init_req(&req, "s3");
	/* S3: encoded exactly once, whichever form came in; %2F stays data. */
	req.path = "/b/a%2Fb/%7e$x%c3%a9 +//./..";
	assert_line(&req, 1, "/b/a%2Fb/~%24x%C3%A9%20%2B//./..");
	req.path = "";
	assert_line(&req, 1, "/");

	init_req(&req, "service");
	/* Others: the path as sent, encoded once more, after normalisation. */
	req.path = "/a%20b/./c//d/../e%2F/";
	assert_line(&req, 1, "/a%2520b/c/e%252F/");
	req.path = "/..";
	assert_line(&req, 1, "/");
	req.normalize_path = 0;
	req.path = "//a/./";
	assert_line(&req, 1, "//a/./");
}

static void test_query_canonical(void **state)
{
	struct sigv4_request req;

	(void)state;
	init_req(&req, "service");
	req.query = "b=2&a=&a=1&&c&%41=x+y&k=%e1%88%b4&u=\xe1\x88\xb4&s=a b";
	assert_line(&req, 2, "A=x%2By&a=&a=1&b=2&c=&k=%E1%88%B4&s=a%20b&u=%E1%88%B4");
	req.query = "";
	assert_line(&req, 2, "");
}

static void test_header_canonical(void **state)
{
	static const struct sigv4_header h[] = {
		{ "Host", "example.amazonaws.com" }, { "X-B", "  two   words \t here  " },
		{ "x-a", "folded\r\n   line" },	     { "X-B", "second" },
		{ "User-Agent", "curl/8" },	     { "X-Amz-Date", "19990101T000000Z" },
		{ "Authorization", "stale" },	     { "Empty", "" },
	};
	struct sigv4_request req;

	(void)state;
	init_req(&req, "service");
	req.headers = h;
	req.nr_headers = ARRAY_SIZE(h);
	assert_line(&req, 3, "empty:");
	assert_line(&req, 4, "host:example.amazonaws.com");
	assert_line(&req, 5, "x-a:folded line");
	assert_line(&req, 6, "x-amz-date:20150830T123600Z");
	assert_line(&req, 7, "x-b:two words here,second");
	assert_line(&req, 9, "empty;host;x-a;x-amz-date;x-b");
}

static void test_s3_headers(void **state)
{
	struct sigv4_credentials creds = { "AKIDEXAMPLE", CLASSIC_SECRET, "TOKEN/+=" };
	struct sigv4_request req;
	struct sigv4_auth auth;

	(void)state;
	init_req(&req, "s3");
	req.creds = &creds;
	req.method = "PUT";
	req.payload = "abc";
	req.payload_len = 3;
	assert_int_equal(sigv4_sign_headers(&auth, &req), 0);
	assert_int_equal(auth.nr, 4);
	assert_string_equal(auth.headers[0].name, "X-Amz-Security-Token");
	assert_string_equal(auth.headers[0].value, "TOKEN/+=");
	assert_string_equal(auth.headers[1].name, "X-Amz-Date");
	assert_string_equal(auth.headers[2].name, "x-amz-content-sha256");
	assert_string_equal(auth.headers[2].value,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_string_equal(auth.headers[3].name, "Authorization");
	assert_non_null(strstr(auth.headers[3].value,
			       "SignedHeaders=host;x-amz-content-sha256;x-amz-date;"
			       "x-amz-security-token, Signature="));
	sigv4_auth_release(&auth);

	req.unsigned_payload = 1;
	assert_int_equal(sigv4_sign_headers(&auth, &req), 0);
	assert_string_equal(auth_value(&auth, "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
	sigv4_auth_release(&auth);
}

static void test_presign_token_after_signing(void **state)
{
	struct sigv4_credentials creds = { "AKIDEXAMPLE", CLASSIC_SECRET, "T+K" };
	struct sigv4_request req;
	struct buf url = BUF_INIT;
	char *query;

	(void)state;
	init_req(&req, "s3");
	req.creds = &creds;
	req.path = "/bucket/my%20key";
	req.query = "versionId=1";
	req.unsigned_payload = 1;
	req.expires = 900;
	req.omit_session_token = 1;
	query = creq_line(&req, SIGV4_QUERY, 2);
	assert_null(strstr(query, "Security-Token"));
	assert_non_null(strstr(query, "X-Amz-Expires=900&X-Amz-SignedHeaders=host&versionId=1"));
	free(query);
	assert_int_equal(sigv4_presign_url(&url, &req), 0);
	assert_true(!strncmp(buf_cstr(&url), "/bucket/my%20key?versionId=1&X-Amz-Algorithm=", 45));
	assert_non_null(strstr(buf_cstr(&url), "&X-Amz-Security-Token=T%2BK&"));
	assert_non_null(strstr(buf_cstr(&url), "&X-Amz-Signature="));
	buf_release(&url);
}

static void test_errors(void **state)
{
	static const struct sigv4_header bad_name[] = { { "Host", "h" }, { "Bad Name", "v" } };
	struct sigv4_credentials crlf = { "AKIDEXAMPLE", CLASSIC_SECRET, "a\r\nX-Evil: 1" };
	struct sigv4_request req;
	struct sigv4_auth auth;
	struct buf b = BUF_INIT;

	(void)state;
	init_req(&req, "service");
	req.nr_headers = 0;
	assert_int_equal(sigv4_sign_headers(&auth, &req), -1);
	assert_string_equal(err_msg(), "cannot sign request: no Host header");

	init_req(&req, "service");
	req.headers = bad_name;
	req.nr_headers = ARRAY_SIZE(bad_name);
	assert_int_equal(sigv4_canonical_request(&b, &req, SIGV4_HEADERS), -1);
	assert_non_null(strstr(err_msg(), "invalid header name 'Bad Name'"));

	init_req(&req, "service");
	req.expires = 0;
	assert_int_equal(sigv4_presign_url(&b, &req), -1);
	req.expires = SIGV4_MAX_EXPIRES + 1;
	assert_int_equal(sigv4_presign_url(&b, &req), -1);
	assert_non_null(strstr(err_msg(), "7 days"));
	req.expires = SIGV4_MAX_EXPIRES;
	assert_int_equal(sigv4_presign_url(&b, &req), 0);
	buf_reset(&b);

	init_req(&req, "service");
	req.creds = NULL;
	assert_int_equal(sigv4_sign_headers(&auth, &req), -1);
	assert_string_equal(err_msg(), "cannot sign request: no credentials");
	req.creds = &crlf;
	assert_int_equal(sigv4_sign_headers(&auth, &req), -1);
	req.creds = &test_creds;
	req.region = "us east";
	assert_int_equal(sigv4_sign_headers(&auth, &req), -1);
	req.region = "us-east-1";
	req.payload_hash = "";
	assert_int_equal(sigv4_sign_headers(&auth, &req), -1);
	assert_int_equal(b.len, 0);
	buf_release(&b);
	err_clear();
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_derive_key),
		cmocka_unit_test(test_cached_key_same_signature),
		cmocka_unit_test(test_amz_date),
		cmocka_unit_test(test_path_encoding),
		cmocka_unit_test(test_query_canonical),
		cmocka_unit_test(test_header_canonical),
		cmocka_unit_test(test_s3_headers),
		cmocka_unit_test(test_presign_token_after_signing),
		cmocka_unit_test(test_errors),
	};
	const char *env_vectors = getenv("GIT_TRAIN_SIGV4_VECTORS");
	const char *srcdir = getenv("SRCDIR");
	char *own, *shared;
	struct CMUnitTest *tests;
	size_t i, nr;
	int ret;

	if (!srcdir || !*srcdir)
		srcdir = SIGV4_TEST_SRCDIR;
	tap_output = getenv("CMOCKA_MESSAGE_OUTPUT") &&
		     !strcasecmp(getenv("CMOCKA_MESSAGE_OUTPUT"), "TAP");
	own = path_join(srcdir, "tests/unit/aws");
	shared = env_vectors && *env_vectors ? xstrdup(env_vectors)
					     : path_join(srcdir, "../shared/sigv4-vectors");
	if (!is_dir(shared))
		print_message("# shared SigV4 suites not found at %s: skipped\n", shared);
	load_suite(own, "sigv4-vectors", 1, load_crt_dir);
	load_suite(is_dir(shared) ? shared : NULL, "aws-sig-v4-test-suite", 0, load_classic);
	load_suite(is_dir(shared) ? shared : NULL, "aws-c-auth-v4", 0, load_crt_dir);
	load_suite(is_dir(shared) ? shared : NULL, "s3-doc-examples", 0, load_s3doc_dir);

	nr = ARRAY_SIZE(fixed) + nr_cases;
	tests = xcalloc(nr, sizeof(*tests));
	memcpy(tests, fixed, sizeof(fixed));
	for (i = 0; i < nr_cases; i++) {
		struct CMUnitTest *t = &tests[ARRAY_SIZE(fixed) + i];

		if (tap_output && cases[i]->kind == CASE_MISSING_SUITE) {
			char *name = xstrfmt("%s # SKIP %s", cases[i]->test, cases[i]->why);

			free(cases[i]->test);
			cases[i]->test = name;
		}
		t->name = cases[i]->test;
		t->test_func = run_vector_case;
		t->initial_state = cases[i];
	}
	ret = _cmocka_run_group_tests("sigv4", tests, nr, NULL, NULL);

	for (i = 0; i < nr_cases; i++) {
		free(cases[i]->dir);
		free(cases[i]->name);
		free(cases[i]->test);
		free(cases[i]);
	}
	free(cases);
	free(tests);
	free(own);
	free(shared);
	return ret;
}
