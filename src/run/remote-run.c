/*
 * remote-run: run.json, result.json and the note of a run on EC2. See
 * remote-run.h.
 */
#include "run/remote-run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "git/notes.h"
#include "services/s3-objects.h"
#include "services/s3.h"
#include "util/shell-quote.h"
#include "run/upload.h"
#include "util/json.h"

void remote_run_release(struct remote_run *r)
{
	free(r->run_id);
	free(r->commit);
	free(r->parent);
	free(r->instance_id);
	free(r->instance_type);
	free(r->market);
	free(r->az);
	free(r->region);
	free(r->bucket);
	free(r->run_prefix);
	free(r->args);
	memset(r, 0, sizeof(*r));
	r->price = -1;
}

/* As upload_target_init(): "a/b/", "/a/b" and "a/b" are one prefix. */
char *remote_repo_prefix(const struct config *cfg, git_repository *repo)
{
	char *prefix = NULL, *name, *out;
	const char *p;
	size_t n;

	if (config_get_string(&prefix, cfg, "train.prefix")) {
		err_clear();
		free(prefix);
		prefix = xstrdup("git-train");
	}
	for (p = prefix; *p == '/'; p++)
		;
	n = strlen(p);
	while (n && p[n - 1] == '/')
		n--;
	name = upload_repo_name(repo, cfg);
	out = xstrfmt("%.*s%s%s/", (int)n, p, n ? "/" : "", name);
	free(name);
	free(prefix);
	return out;
}

char *remote_run_prefix(const struct config *cfg, git_repository *repo, const char *commit,
			const char *run_id)
{
	char *base = remote_repo_prefix(cfg, repo);
	char *out = xstrfmt("%s%s/runs/%s/", base, commit, run_id);

	free(base);
	return out;
}

int remote_parse_time(time_t *out, const char *s)
{
	struct tm tm;
	int n = 0;

	memset(&tm, 0, sizeof(tm));
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			 &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n != 19)
		return -1;
	s += n;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	if (strcmp(s, "Z") && strcmp(s, "+00:00"))
		return -1;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = timegm(&tm);
	return *out == (time_t)-1 ? -1 : 0;
}

static void format_time(char *out, size_t n, time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void remote_format_usd(struct buf *out, double usd)
{
	char tmp[64];
	size_t n;

	snprintf(tmp, sizeof(tmp), "%.6f", usd < 0 ? 0 : usd);
	n = strlen(tmp);
	while (n > 1 && tmp[n - 1] == '0')
		tmp[--n] = '\0';
	if (tmp[n - 1] == '.')
		tmp[--n] = '\0';
	buf_puts(out, tmp);
}

static cJSON *run_json(const struct remote_run *r, const char *const *args, int nr_args)
{
	cJSON *o = cJSON_CreateObject(), *a;
	char when[32];
	int i;

	json_add_string_or_null(o, "run_id", r->run_id);
	json_add_string_or_null(o, "commit", r->commit);
	json_add_string_or_null(o, "parent", r->parent);
	json_add_string_or_null(o, "instance_id", r->instance_id);
	json_add_string_or_null(o, "instance_type", r->instance_type);
	json_add_string_or_null(o, "market", r->market);
	json_add_string_or_null(o, "az", r->az);
	json_add_number_or_null(o, "price", r->price >= 0, r->price);
	json_add_string_or_null(o, "region", r->region);
	format_time(when, sizeof(when), r->launched);
	json_add_string_or_null(o, "launched", r->launched ? when : NULL);
	a = cJSON_AddArrayToObject(o, "args");
	for (i = 0; i < nr_args; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(args[i]));
	if (r->smoke)
		cJSON_AddTrueToObject(o, "smoke");
	return o;
}

int remote_run_save(struct aws_client *c, const struct remote_run *r, const char *const *args,
		    int nr_args)
{
	cJSON *o = run_json(r, args, nr_args);
	char *text = cJSON_PrintUnformatted(o);
	char *key = xstrfmt("%srun.json", r->run_prefix);
	struct s3_mem_body mem = { text, text ? strlen(text) : 0, 0 };
	struct aws_body_reader body = { s3_mem_read, s3_mem_rewind, &mem, (long long)mem.len, NULL };
	char crc[S3_CRC32_SIZE];
	int ret;

	if (!text) {
		ret = err_set("cannot write run.json of run %s: out of memory", r->run_id);
	} else {
		s3_crc32_base64(crc, s3_crc32_next(0, text, mem.len));
		ret = s3_put_object(c, r->bucket, key, &body, crc, NULL, 0);
	}
	free(key);
	free(text);
	cJSON_Delete(o);
	return ret;
}

/* GETs <run_prefix><name> and parses it. 0, 1 when absent, or -1. */
static int get_json(cJSON **out, struct aws_client *c, const char *bucket,
		    const char *run_prefix, const char *name)
{
	struct buf body = BUF_INIT;
	char *key = xstrfmt("%s%s", run_prefix, name);
	int r = s3_get_object(&body, c, bucket, key, 0, NULL, NULL);

	*out = NULL;
	if (r == 0) {
		*out = cJSON_ParseWithLength(buf_cstr(&body), body.len);
		if (!cJSON_IsObject(*out)) {
			cJSON_Delete(*out);
			*out = NULL;
			r = err_set("s3://%s/%s is not a JSON object", bucket, key);
		}
	}
	buf_release(&body);
	free(key);
	return r;
}

/* run.json's args array as shell words; NULL when there are none. */
static char *args_words(const cJSON *a)
{
	struct buf b = BUF_INIT;
	const cJSON *v;

	cJSON_ArrayForEach(v, a) {
		if (!cJSON_IsString(v))
			continue;
		if (b.len)
			buf_putc(&b, ' ');
		shell_quote(&b, v->valuestring, strlen(v->valuestring));
	}
	if (!b.len) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

int remote_run_load(struct remote_run *out, struct aws_client *c, const char *bucket,
		    const char *run_prefix)
{
	cJSON *o = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	out->price = -1;
	r = get_json(&o, c, bucket, run_prefix, "run.json");
	if (r)
		return r;
	out->run_id = json_strdup(o, "run_id");
	out->commit = json_strdup(o, "commit");
	out->parent = json_strdup(o, "parent");
	out->instance_id = json_strdup(o, "instance_id");
	out->instance_type = json_strdup(o, "instance_type");
	out->market = json_strdup(o, "market");
	out->az = json_strdup(o, "az");
	out->price = json_number(o, "price", -1);
	out->region = json_strdup(o, "region");
	if (remote_parse_time(&out->launched, json_string(o, "launched")))
		out->launched = 0;
	out->bucket = xstrdup(bucket);
	out->run_prefix = xstrdup(run_prefix);
	out->args = args_words(cJSON_GetObjectItemCaseSensitive(o, "args"));
	out->smoke = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "smoke"));
	cJSON_Delete(o);
	if (!out->run_id || !out->commit) {
		remote_run_release(out);
		return err_set("s3://%s/%srun.json names no run id or commit", bucket, run_prefix);
	}
	return 0;
}

void remote_run_describe(struct run_record *out, const struct remote_run *r, time_t start,
			 double duration)
{
	struct buf b = BUF_INIT;
	char *key;

	run_record_init(out);
	out->id = xstrdup(r->run_id);
	out->backend = xstrdup(r->instance_type ? r->instance_type : "ec2");
	out->start = start ? start : r->launched;
	out->duration = duration;
	out->parent = r->parent ? xstrdup(r->parent) : NULL;
	key = xstrfmt("%slog", r->run_prefix);
	out->log = s3_uri(r->bucket, key);
	free(key);
	if (r->market)
		run_record_add_extra(out, "market", r->market);
	if (r->az)
		run_record_add_extra(out, "az", r->az);
	if (r->price >= 0) {
		remote_format_usd(&b, r->price);
		run_record_add_extra(out, "price", buf_cstr(&b));
		if (duration >= 0) {
			buf_reset(&b);
			remote_format_usd(&b, r->price * duration / 3600);
			run_record_add_extra(out, "cost", buf_cstr(&b));
		}
	}
	if (r->instance_id)
		run_record_add_extra(out, "instance", r->instance_id);
	key = xstrfmt("%soutputs/", r->run_prefix);
	buf_reset(&b);
	buf_puts(&b, "s3://");
	buf_puts(&b, r->bucket);
	buf_putc(&b, '/');
	buf_puts(&b, key);
	run_record_add_extra(out, "outputs", buf_cstr(&b));
	if (r->args)
		run_record_add_extra(out, "args", r->args);
	if (r->smoke)
		run_record_add_extra(out, "smoke", "1");
	free(key);
	buf_release(&b);
}

static void add_metrics(struct run_record *rec, const cJSON *o)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "metrics"), *v;

	if (!cJSON_IsObject(m))
		return;
	cJSON_ArrayForEach(v, m)
		if (cJSON_IsNumber(v) && v->string)
			run_record_add_metric(rec, v->string, v->valuedouble);
}

int remote_run_result(struct run_record *out, struct aws_client *c, const struct remote_run *r)
{
	cJSON *o = NULL;
	const char *status;
	time_t start = 0, end = 0;
	double duration;
	int ret;

	run_record_init(out);
	ret = get_json(&o, c, r->bucket, r->run_prefix, "result.json");
	if (ret)
		return ret;
	if (remote_parse_time(&start, json_string(o, "start")))
		start = 0;
	duration = json_number(o, "duration", -1);
	if (duration < 0 && start && !remote_parse_time(&end, json_string(o, "end")) &&
	    end >= start)
		duration = (double)(end - start);
	remote_run_describe(out, r, start, duration);
	status = json_string(o, "status");
	free(out->status);
	out->status = xstrdup(status && *status ? status : "failed");
	out->exit_code = (int)json_number(o, "exit_code", -1);
	add_metrics(out, o);
	cJSON_Delete(o);
	return 0;
}

/* Whether note has a line for run id. */
static int has_line(const char *note, const char *id)
{
	size_t n = strlen(id);
	const char *p = note;

	while (*p) {
		if (!strncmp(p, id, n) && (p[n] == ' ' || p[n] == '\n' || !p[n]))
			return 1;
		p += strcspn(p, "\n");
		p += *p == '\n';
	}
	return 0;
}

/*
 * Check, then append: two processes finalizing the same run at the same
 * moment could both write the line (notes_append is compare-and-swap on the
 * ref, so neither loses the other's). Such twin lines are identical but for
 * the cost of a stopped run, and `cat_sort_uniq` would fold identical ones.
 */
int remote_run_record(git_repository *repo, const struct run_record *rec, const char *commit)
{
	struct buf line = BUF_INIT;
	git_oid oid;
	char *note = NULL;
	int r;

	if (git_oid_fromstr(&oid, commit) < 0)
		return err_set("run %s names a bad commit '%s'", rec->id, commit);
	r = notes_read(&note, repo, &oid);
	if (r < 0)
		return -1;
	if (r == 0 && has_line(note, rec->id)) {
		free(note);
		return 1;
	}
	free(note);
	run_record_format(&line, rec);
	r = notes_append(repo, &oid, buf_cstr(&line));
	buf_release(&line);
	return r;
}

int remote_run_finalize(struct run_record *out, git_repository *repo, struct aws_client *c,
			const struct remote_run *r)
{
	int ret = remote_run_result(out, c, r);

	if (ret)
		return ret;
	if (remote_run_record(repo, out, r->commit) < 0) {
		run_record_release(out);
		return -1;
	}
	return 0;
}
