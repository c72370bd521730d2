/*
 * attempts: train.retryOnExit, train.maxInterruptions and a run's attempts
 * (see attempts.h).
 */
#include "run/attempts.h"

#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "util/strvec.h"
#include "util/time.h"

/* One code: decimal digits only, 1..255. */
static int parse_code(int *out, const char *s, size_t n)
{
	int v = 0;
	size_t i;

	if (!n || n > 3)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 255)
		return -1;
	*out = v;
	return 0;
}

int run_retry_codes_parse_value(struct retry_codes *out, const char *value)
{
	const char *p = value;

	if (!*value) { /* an empty value drops what came before, as git's lists do */
		out->nr = 0;
		return 0;
	}
	while (*p) {
		size_t n;
		int code;

		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		if (!n)
			break;
		if (parse_code(&code, p, n)) {
			err_set("bad train.retryOnExit entry '%.*s' in '%s': exit codes are numbers "
				"from 1 to 255",
				(int)n, p, value);
			err_hint("separate them with commas or spaces, e.g. "
				 "'git config train.retryOnExit 75,76'");
			return -1;
		}
		if (!run_retry_codes_has(out, code)) {
			out->v = xrealloc(out->v, (out->nr + 1) * sizeof(*out->v));
			out->v[out->nr++] = code;
		}
		p += n;
	}
	return 0;
}

int run_retry_codes_parse(struct retry_codes *out, const struct config *cfg)
{
	struct strvec values = STRVEC_INIT;
	size_t i;
	int r;

	memset(out, 0, sizeof(*out));
	r = config_get_all(&values, cfg, "train.retryOnExit");
	if (r < 0)
		return -1;
	r = 0; /* 1: unset, no codes */
	for (i = 0; !r && i < values.nr; i++)
		r = run_retry_codes_parse_value(out, values.v[i]);
	strvec_clear(&values);
	if (r)
		run_retry_codes_release(out);
	return r ? -1 : 0;
}

int run_retry_codes_has(const struct retry_codes *c, int code)
{
	size_t i;

	for (i = 0; i < c->nr; i++)
		if (c->v[i] == code)
			return 1;
	return 0;
}

void run_retry_codes_format(struct buf *out, const struct retry_codes *c)
{
	size_t i;

	for (i = 0; i < c->nr; i++)
		buf_printf(out, "%s%d", i ? " " : "", c->v[i]);
}

void run_retry_codes_release(struct retry_codes *c)
{
	free(c->v);
	memset(c, 0, sizeof(*c));
}

int run_max_interruptions(int *out, const struct config *cfg)
{
	char *v = NULL, *end;
	long n;

	*out = RUN_MAX_INTERRUPTIONS_DEFAULT;
	if (config_get_string_or(&v, cfg, "train.maxInterruptions", NULL))
		return -1;
	if (!v)
		return 0;
	n = strtol(v, &end, 10);
	if (end == v || *end || n < 0 || n > 1000 || v[0] == '-' || v[0] == '+' || v[0] == ' ') {
		err_set("bad train.maxInterruptions '%s': a number of attempts from 0 to 1000", v);
		free(v);
		return -1;
	}
	free(v);
	*out = (int)n;
	return 0;
}

struct run_attempt *run_attempts_begin(struct run_attempts *a, const char *instance, time_t start)
{
	struct run_attempt *t;

	a->v = xrealloc(a->v, (a->nr + 1) * sizeof(*a->v));
	t = &a->v[a->nr];
	memset(t, 0, sizeof(*t));
	t->attempt = a->nr ? a->v[a->nr - 1].attempt + 1 : 1;
	t->instance = xstrdup(instance);
	t->start = start;
	t->duration = -1;
	t->status = xstrdup("running");
	t->exit_code = -1;
	a->nr++;
	return t;
}

void run_attempts_end(struct run_attempts *a, time_t end, double duration, const char *status,
		      int exit_code)
{
	struct run_attempt *t;

	if (!a->nr)
		return;
	t = &a->v[a->nr - 1];
	t->end = end;
	t->duration = duration < 0 ? 0 : duration;
	free(t->status);
	t->status = xstrdup(status);
	t->exit_code = exit_code;
}

double run_attempts_duration(const struct run_attempts *a)
{
	double d = 0;
	size_t i;

	for (i = 0; i < a->nr; i++)
		if (a->v[i].duration > 0)
			d += a->v[i].duration;
	return d;
}

double run_attempts_lost(const struct run_attempts *a)
{
	double lost = 0;
	size_t i;

	for (i = 1; i < a->nr; i++) {
		time_t end = a->v[i - 1].end;

		if (!end && a->v[i - 1].duration >= 0)
			end = a->v[i - 1].start + (time_t)(a->v[i - 1].duration + 0.5);
		if (end && a->v[i].start > end)
			lost += (double)(a->v[i].start - end);
	}
	return lost;
}

static cJSON *attempts_json(const struct run_attempts *a)
{
	cJSON *arr = cJSON_CreateArray();
	char when[TIME_ISO8601_SIZE];
	size_t i;

	for (i = 0; i < a->nr; i++) {
		const struct run_attempt *t = &a->v[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddNumberToObject(o, "attempt", t->attempt);
		json_add_string_or_null(o, "instance", t->instance);
		time_format_iso8601(when, t->start);
		cJSON_AddStringToObject(o, "start", when);
		if (t->end) {
			time_format_iso8601(when, t->end);
			cJSON_AddStringToObject(o, "end", when);
		}
		if (t->duration >= 0)
			cJSON_AddNumberToObject(o, "duration", t->duration);
		json_add_string_or_null(o, "status", t->status);
		cJSON_AddNumberToObject(o, "exit_code", t->exit_code);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

void run_attempts_format(struct buf *out, const struct run_attempts *a, const char *run_id)
{
	cJSON *root = cJSON_CreateObject();
	char *text;

	json_add_string_or_null(root, "run_id", run_id);
	cJSON_AddItemToObject(root, "attempts", attempts_json(a));
	text = cJSON_Print(root);
	buf_puts(out, text ? text : "{}");
	buf_putc(out, '\n');
	free(text);
	cJSON_Delete(root);
}

static const char *const statuses[] = {
	"running", "preempted", "retried", "interrupted", "succeeded", "failed",
};

static int status_ok(const char *s)
{
	size_t i;

	for (i = 0; s && i < ARRAY_SIZE(statuses); i++)
		if (!strcmp(s, statuses[i]))
			return 1;
	return 0;
}

int run_attempts_parse(struct run_attempts *out, const char *text, size_t len, const char *run_id,
		       const char *what)
{
	cJSON *root = cJSON_ParseWithLength(text, len);
	const cJSON *arr, *o;
	const char *id = cJSON_IsObject(root) ? json_string(root, "run_id") : NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (!id || strcmp(id, run_id)) {
		err_set("%s is not the attempts of run %s", what, run_id);
		goto out;
	}
	arr = cJSON_GetObjectItemCaseSensitive(root, "attempts");
	if (!cJSON_IsArray(arr)) {
		err_set("%s has no attempts", what);
		goto out;
	}
	cJSON_ArrayForEach (o, arr) {
		const char *status = json_string(o, "status");
		const char *instance = json_string(o, "instance");
		int n = json_int(o, "attempt", 1, 100000, 0);
		time_t start = 0, end = 0;
		struct run_attempt *t;

		if (n != (int)out->nr + 1 || !status_ok(status) ||
		    time_parse_iso8601(&start, json_string(o, "start"))) {
			err_set("%s has a bad attempt %zu", what, out->nr + 1);
			goto out;
		}
		if (json_string(o, "end") && time_parse_iso8601(&end, json_string(o, "end")))
			end = 0;
		t = run_attempts_begin(out, instance ? instance : "", start);
		t->end = end;
		t->duration = json_number(o, "duration", -1);
		if (t->duration > TIME_DURATION_MAX)
			t->duration = -1;
		free(t->status);
		t->status = xstrdup(status);
		t->exit_code = json_int(o, "exit_code", -1, 255, -1);
	}
	ret = 0;
out:
	if (ret)
		run_attempts_release(out);
	cJSON_Delete(root);
	return ret;
}

void run_attempts_add_to_result(struct buf *doc, const struct run_attempts *a)
{
	cJSON *root;
	char *text;

	if (a->nr < 2)
		return;
	root = cJSON_ParseWithLength(doc->ptr, doc->len);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return;
	}
	cJSON_AddItemToObject(root, "attempts", attempts_json(a));
	cJSON_AddNumberToObject(root, "lost", run_attempts_lost(a));
	text = cJSON_Print(root);
	if (text) {
		buf_reset(doc);
		buf_puts(doc, text);
		buf_putc(doc, '\n');
	}
	free(text);
	cJSON_Delete(root);
}

void run_attempts_release(struct run_attempts *a)
{
	size_t i;

	for (i = 0; i < a->nr; i++) {
		free(a->v[i].instance);
		free(a->v[i].status);
	}
	free(a->v);
	memset(a, 0, sizeof(*a));
}
