#include "git/run-record.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "util/time.h"

void run_record_init(struct run_record *r)
{
	memset(r, 0, sizeof(*r));
	r->exit_code = -1;
	r->duration = -1;
}

void run_record_release(struct run_record *r)
{
	size_t i;

	free(r->id);
	free(r->backend);
	free(r->status);
	free(r->log);
	free(r->parent);
	for (i = 0; i < r->nr_metrics; i++)
		free(r->metrics[i].name);
	free(r->metrics);
	for (i = 0; i < r->nr_extra; i++) {
		free(r->extra[i].key);
		free(r->extra[i].value);
	}
	free(r->extra);
	run_record_init(r);
}

/* A metric is set once: a second value for the same name replaces the first. */
void run_record_add_metric(struct run_record *r, const char *name, double value)
{
	size_t i;

	for (i = 0; i < r->nr_metrics; i++) {
		if (!strcmp(r->metrics[i].name, name)) {
			r->metrics[i].value = value;
			return;
		}
	}
	r->metrics = xrealloc(r->metrics, (r->nr_metrics + 1) * sizeof(*r->metrics));
	r->metrics[r->nr_metrics].name = xstrdup(name);
	r->metrics[r->nr_metrics].value = value;
	r->nr_metrics++;
}

void run_record_add_extra(struct run_record *r, const char *key, const char *value)
{
	r->extra = xrealloc(r->extra, (r->nr_extra + 1) * sizeof(*r->extra));
	r->extra[r->nr_extra].key = xstrdup(key);
	r->extra[r->nr_extra].value = xstrdup(value);
	r->nr_extra++;
}

/* Length of the valid UTF-8 sequence at s (2 to 4 bytes), 0 if there is none. */
static size_t utf8_seq_len(const unsigned char *s)
{
	size_t n, i;
	uint32_t cp;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	/* U+0085, U+2028 and U+2029 end lines in some viewers: keep them encoded. */
	if (cp == 0x85 || cp == 0x2028 || cp == 0x2029)
		return 0;
	return n;
}

/*
 * Valid UTF-8 stays readable in `git log --notes=train`; everything that
 * would split the line or the field, and bytes that are not UTF-8, is %XX.
 */
static void put_encoded(struct buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = *p >= 0x80 ? utf8_seq_len(p) : 0;

		if (n) {
			buf_add(out, p, n);
			p += n;
		} else if (*p <= 0x20 || *p >= 0x7f || *p == '%' || *p == '=') {
			buf_printf(out, "%%%02X", *p++);
		} else {
			buf_putc(out, (char)*p++);
		}
	}
}

/* Decodes s[0..len) into a new string; NULL on a bad or NUL-producing escape. */
static char *decode(const char *s, size_t len)
{
	struct buf b = BUF_INIT;
	size_t i;

	buf_grow(&b, len);
	for (i = 0; i < len; i++) {
		int hi, lo;

		if (s[i] != '%') {
			buf_putc(&b, s[i]);
			continue;
		}
		hi = i + 1 < len ? hex_value((unsigned char)s[i + 1]) : -1;
		lo = i + 2 < len ? hex_value((unsigned char)s[i + 2]) : -1;
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			buf_release(&b);
			return NULL;
		}
		buf_putc(&b, (char)(hi * 16 + lo));
		i += 2;
	}
	return buf_detach(&b);
}

/* The shortest of %.15g and %.17g that reads back as the same double. */
/* r's line without its seal field (values are encoded: a field holds no space). */
static void format_unsealed(struct buf *out, const struct run_record *r)
{
	const char *at;

	run_record_format(out, r);
	at = strstr(buf_cstr(out), " " RUN_RECORD_SEAL_KEY "=");
	if (at) {
		size_t from = (size_t)(at - out->ptr), to = from + 1 + strcspn(at + 1, " ");

		memmove(out->ptr + from, out->ptr + to, out->len - to + 1);
		out->len -= to - from;
	}
}

int run_record_same(const struct run_record *a, const struct run_record *b)
{
	struct buf x = BUF_INIT, y = BUF_INIT;
	int same;

	format_unsealed(&x, a);
	format_unsealed(&y, b);
	same = !strcmp(buf_cstr(&x), buf_cstr(&y));
	buf_release(&x);
	buf_release(&y);
	return same;
}

void run_record_put_number(struct buf *out, double v)
{
	char tmp[64];
	int precision;

	for (precision = 15; precision < 17; precision++) {
		snprintf(tmp, sizeof(tmp), "%.*g", precision, v);
		if (v != v || strtod(tmp, NULL) == v)
			break;
	}
	if (precision == 17)
		snprintf(tmp, sizeof(tmp), "%.17g", v);
	buf_puts(out, tmp);
}

static void put_field(struct buf *out, const char *key, const char *value)
{
	if (!value)
		return;
	buf_putc(out, ' ');
	put_encoded(out, key);
	buf_putc(out, '=');
	put_encoded(out, value);
}

void run_record_format(struct buf *out, const struct run_record *r)
{
	size_t i;

	buf_grow(out, 0);
	put_encoded(out, r->id ? r->id : "");
	put_field(out, "backend", r->backend);
	put_field(out, "status", r->status);
	if (r->exit_code >= 0)
		buf_printf(out, " exit=%d", r->exit_code);
	if (r->start) {
		char when[TIME_ISO8601_SIZE];

		time_format_iso8601(when, r->start);
		buf_printf(out, " start=%s", when);
	}
	if (r->duration >= 0) {
		/*
		 * Milliseconds are plenty, and "12.3s" reads better than
		 * 12.300000000000001. (In a buf: 1e300 seconds has 301 digits.)
		 */
		struct buf tmp = BUF_INIT;

		buf_printf(&tmp, "%.3f", r->duration);
		if (strchr(tmp.ptr, '.')) {
			while (tmp.ptr[tmp.len - 1] == '0')
				tmp.ptr[--tmp.len] = '\0';
			if (tmp.ptr[tmp.len - 1] == '.')
				tmp.ptr[--tmp.len] = '\0';
		}
		buf_printf(out, " duration=%ss", tmp.ptr);
		buf_release(&tmp);
	}
	put_field(out, "parent", r->parent);
	for (i = 0; i < r->nr_metrics; i++) {
		buf_puts(out, " metric.");
		put_encoded(out, r->metrics[i].name);
		buf_putc(out, '=');
		run_record_put_number(out, r->metrics[i].value);
	}
	put_field(out, "log", r->log);
	for (i = 0; i < r->nr_extra; i++)
		put_field(out, r->extra[i].key, r->extra[i].value);
}

static int is_hex_run(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	return 1;
}

static int is_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* YYYYMMDD-HHMMSS-<7 to 40 hex>-<4 hex>. */
static int is_run_id(const char *s, size_t n)
{
	size_t sha;

	if (n < 16 + 7 + 5 || n > 16 + 40 + 5)
		return 0;
	sha = n - 16 - 5;
	return is_digits(s, 8) && s[8] == '-' && is_digits(s + 9, 6) && s[15] == '-' &&
	       is_hex_run(s + 16, sha) && s[16 + sha] == '-' && is_hex_run(s + 17 + sha, 4);
}

static int parse_int(int *out, const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

static int parse_double(double *out, const char *s, const char *suffix)
{
	char *end;

	if (!*s || isspace((unsigned char)*s))
		return -1;
	*out = strtod(s, &end);
	if (end == s || strcmp(end, suffix))
		return -1;
	return 0;
}

static int set_once(char **field, const char *value)
{
	if (*field)
		return -1;
	*field = xstrdup(value);
	return 0;
}

static int parse_field(struct run_record *r, const char *key, const char *value)
{
	const char *name;

	if (skip_prefix(key, "metric.", &name)) {
		double v;

		if (parse_double(&v, value, ""))
			return err_set("bad value for metric '%s': '%s'", name, value);
		run_record_add_metric(r, name, v);
		return 0;
	}
	if (!strcmp(key, "backend"))
		return set_once(&r->backend, value) ? err_set("'backend' given twice") : 0;
	if (!strcmp(key, "status"))
		return set_once(&r->status, value) ? err_set("'status' given twice") : 0;
	if (!strcmp(key, "log"))
		return set_once(&r->log, value) ? err_set("'log' given twice") : 0;
	if (!strcmp(key, "parent"))
		return set_once(&r->parent, value) ? err_set("'parent' given twice") : 0;
	if (!strcmp(key, "exit"))
		return parse_int(&r->exit_code, value) ? err_set("bad exit code '%s'", value) : 0;
	if (!strcmp(key, "start"))
		return time_parse_iso8601(&r->start, value) ? err_set("bad start time '%s'", value)
							    : 0;
	if (!strcmp(key, "duration"))
		return time_parse_formatted_duration(&r->duration, value)
			       ? err_set("bad duration '%s'", value)
			       : 0;
	run_record_add_extra(r, key, value);
	return 0;
}

/* One "key=value" word. 0, or -1 with err_set. */
static int parse_word(struct run_record *r, const char *w, size_t n)
{
	const char *eq = memchr(w, '=', n);
	char *key = NULL, *value = NULL;
	int ret = -1;

	if (!eq || eq == w) {
		err_set("'%.*s' is not a key=value field", (int)n, w);
		goto out;
	}
	key = decode(w, (size_t)(eq - w));
	value = decode(eq + 1, n - (size_t)(eq + 1 - w));
	if (!key || !value) {
		err_set("bad percent-encoding in '%.*s'", (int)n, w);
		goto out;
	}
	ret = parse_field(r, key, value);
out:
	free(key);
	free(value);
	return ret;
}

int run_record_parse(struct run_record *out, const char *line, size_t len)
{
	size_t i = 0, n;

	run_record_init(out);
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	for (n = 0; n < len && line[n] != ' '; n++)
		;
	if (!is_run_id(line, n))
		return 1;
	if (memchr(line, '\0', len) || memchr(line, '\t', len) || memchr(line, '\n', len)) {
		err_set("a note line holds a control character");
		return -1;
	}
	out->id = xstrndup(line, n);
	for (i = n; i < len; i += n) {
		if (line[i] == ' ') {
			n = 1;
			continue;
		}
		for (n = 0; i + n < len && line[i + n] != ' '; n++)
			;
		if (parse_word(out, line + i, n)) {
			run_record_release(out);
			return -1;
		}
	}
	return 0;
}

/*
 * Ids made by one process never repeat (the random suffix is a counter after
 * the first call); two processes in the same second share a suffix with a
 * chance of 1 in 65536, so callers still create the run directory exclusively.
 */
char *run_record_new_id(const char *short_sha, time_t now)
{
	static uint16_t next;
	static int seeded;
	char when[64];
	uint16_t suffix;
	struct tm tm;

	if (!__atomic_exchange_n(&seeded, 1, __ATOMIC_SEQ_CST)) {
		uint16_t seed;

		if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
			seed = (uint16_t)(getpid() ^ (unsigned)now ^
					  (unsigned)(now_monotonic() * 1e6));
		__atomic_store_n(&next, seed, __ATOMIC_SEQ_CST);
	}
	suffix = __atomic_fetch_add(&next, 1, __ATOMIC_SEQ_CST);
	gmtime_r(&now, &tm);
	/* four digits of year, as is_run_id() wants, where strftime's %Y would write 999 */
	snprintf(when, sizeof(when), "%04d%02d%02d-%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return xstrfmt("%s-%s-%04x", when, short_sha, (unsigned)suffix);
}

static const char *json_kind(const cJSON *v)
{
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNull(v))
		return "null";
	if (cJSON_IsArray(v))
		return "an array";
	return "an object";
}

int run_record_parse_metrics(struct run_record *r, const char *json, struct buf *warnings)
{
	cJSON *root = cJSON_ParseWithOpts(json, NULL, 1);
	const cJSON *v;
	int ret = 0;

	if (!root)
		return err_set("metrics.json is not valid JSON (near '%.20s')",
			       cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "");
	if (!cJSON_IsObject(root)) {
		ret = err_set("metrics.json must be a JSON object of numbers, "
			      "like {\"loss\": 0.25}");
		goto out;
	}
	cJSON_ArrayForEach (v, root) {
		if (cJSON_IsNumber(v))
			run_record_add_metric(r, v->string, v->valuedouble);
		else if (warnings)
			buf_printf(warnings, "metrics.json: ignoring '%s': %s, not a number\n",
				   v->string, json_kind(v));
	}
out:
	cJSON_Delete(root);
	return ret;
}

const char *run_record_extra(const struct run_record *r, const char *key)
{
	size_t i;

	for (i = 0; i < r->nr_extra; i++)
		if (!strcmp(r->extra[i].key, key))
			return r->extra[i].value;
	return NULL;
}
