/*
 * attempts: train.retryOnExit, train.maxInterruptions and a run's attempts
 * (see attempts.h).
 */
#include "run/attempts.h"

#include <stdlib.h>
#include <string.h>

#include "run/layout.h"
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
			err_set("bad config value for 'train.retryOnExit': '%.*s' is not an exit "
				"code from 1 to 255",
				(int)(n < 32 ? n : 32), p);
			err_hint("give exit codes from 1 to 255, comma- or space-separated, e.g. "
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
	if (end == v || *end || n < 0 || n > RUN_MAX_INTERRUPTIONS_LIMIT || v[0] == '-' ||
	    v[0] == '+' || v[0] == ' ') {
		err_set("bad config value '%s' for 'train.maxInterruptions': use a number of "
			"attempts from 0 to %d",
			v, RUN_MAX_INTERRUPTIONS_LIMIT);
		free(v);
		return -1;
	}
	free(v);
	*out = (int)n;
	return 0;
}

int run_checkpoint_interval(long *out, const struct config *cfg)
{
	char *v = NULL;
	int ret = 0;

	if (config_get_string_or(&v, cfg, "train.checkpointInterval", NULL))
		return -1;
	if (time_parse_duration(out, v ? v : RUN_CHECKPOINT_INTERVAL_DEFAULT)) {
		char *why = xstrdup(err_msg()); /* err_set overwrites it */

		err_set("bad config value '%s' for 'train.checkpointInterval': %s", v, why);
		free(why);
		ret = -1;
	} else if (*out < 1) {
		err_set("bad config value '%s' for 'train.checkpointInterval': at least 1 second",
			v);
		ret = -1;
	}
	free(v);
	return ret;
}

int run_attempt_settings(struct run_attempt_settings *out, const struct config *cfg)
{
	memset(out, 0, sizeof(*out));
	if (run_checkpoint_interval(&out->checkpoint_interval, cfg) ||
	    run_max_interruptions(&out->max_interruptions, cfg) ||
	    run_retry_codes_parse(&out->retry, cfg))
		return -1;
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
	const char *id = cJSON_IsObject(root) ? json_string(root, "run_id") : NULL;
	struct layout_attempts read;
	size_t i;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (!id || strcmp(id, run_id)) {
		cJSON_Delete(root);
		return err_set("%s is not the attempts of run %s", what, run_id);
	}
	cJSON_Delete(root);
	/* checked as any attempts a run wrote (layout.h), then in order, with a status */
	if (layout_attempts_parse(&read, text, len, what))
		return -1;
	for (i = 0; i < read.nr; i++) {
		const struct layout_attempt *r = &read.v[i];
		struct run_attempt *t;

		if (r->attempt != (int)i + 1 || !status_ok(r->status) || !r->start) {
			err_set("%s has a bad attempt %zu", what, i + 1);
			goto out;
		}
		t = run_attempts_begin(out, r->instance, r->start);
		t->end = r->end;
		t->duration = r->duration;
		free(t->status);
		t->status = xstrdup(r->status);
		t->exit_code = r->exit_code;
	}
	ret = 0;
out:
	if (ret)
		run_attempts_release(out);
	layout_attempts_release(&read);
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
