/*
 * layout-attempts: the attempts of a run as the instance writes them
 * (attempts.json, result.json's "attempts"; see layout.h). The instance is
 * untrusted: every value is checked or clamped before anyone uses it.
 */
#include "run/layout.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "util/time.h"

/* Longer than any run's max runtime: a duration past it is junk. */
#define MAX_SECONDS (400.0 * 24 * 3600)
/* More entries than this are junk too: the runner writes one per attempt. */
#define MAX_ENTRIES 1000

static const char *const statuses[] = {
	"running", "preempted", "retried", "interrupted", "succeeded", "failed",
};

static void copy_instance(char *out, size_t size, const char *s)
{
	size_t n;

	out[0] = '\0';
	if (!s)
		return;
	if (!strcmp(s, "local")) {
		memcpy(out, "local", 6);
		return;
	}
	if (strncmp(s, "i-", 2))
		return;
	for (n = 2; s[n]; n++)
		if (!strchr("0123456789abcdef", s[n]))
			return;
	if (n > 2 && n < size)
		memcpy(out, s, n + 1);
}

static void copy_status(char *out, size_t size, const char *s)
{
	size_t i;

	out[0] = '\0';
	for (i = 0; s && i < ARRAY_SIZE(statuses); i++)
		if (!strcmp(s, statuses[i]) && strlen(s) < size)
			memcpy(out, s, strlen(s) + 1);
}

static double seconds(const cJSON *o, const char *key)
{
	double v = json_number(o, key, -1);

	return v >= 0 && v <= MAX_SECONDS ? v : -1;
}

static int parse_one(struct layout_attempt *out, const cJSON *o, int before)
{
	memset(out, 0, sizeof(*out));
	out->attempt = json_int(o, "attempt", 1, LAYOUT_MAX_ATTEMPTS, 0);
	if (!out->attempt || out->attempt <= before)
		return -1;
	copy_instance(out->instance, sizeof(out->instance), json_string(o, "instance"));
	copy_status(out->status, sizeof(out->status), json_string(o, "status"));
	if (time_parse_iso8601(&out->start, json_string(o, "start")))
		out->start = 0;
	if (time_parse_iso8601(&out->end, json_string(o, "end")) ||
	    (out->start && out->end < out->start))
		out->end = 0;
	out->duration = seconds(o, "duration");
	if (out->duration < 0 && out->start && out->end)
		out->duration = (double)(out->end - out->start);
	out->exit_code = json_int(o, "exit_code", 0, 255, -1);
	return 0;
}

int layout_attempts_parse(struct layout_attempts *out, const char *text, size_t len,
			  const char *what)
{
	cJSON *o = cJSON_ParseWithLength(text, len);
	const cJSON *arr, *v;
	int before = 0;

	memset(out, 0, sizeof(*out));
	out->lost = -1;
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return err_set("%s is not a JSON object", what);
	}
	out->lost = seconds(o, "lost");
	arr = cJSON_GetObjectItemCaseSensitive(o, "attempts");
	if (cJSON_IsArray(arr)) {
		cJSON_ArrayForEach (v, arr) {
			struct layout_attempt a;

			if (out->nr >= MAX_ENTRIES)
				break;
			if (!cJSON_IsObject(v) || parse_one(&a, v, before))
				continue;
			before = a.attempt;
			out->v = xrealloc(out->v, (out->nr + 1) * sizeof(*out->v));
			out->v[out->nr++] = a;
		}
	}
	cJSON_Delete(o);
	return 0;
}

void layout_attempts_release(struct layout_attempts *a)
{
	free(a->v);
	memset(a, 0, sizeof(*a));
	a->lost = -1;
}

const struct layout_attempt *layout_attempts_last(const struct layout_attempts *a)
{
	return a->nr ? &a->v[a->nr - 1] : NULL;
}
