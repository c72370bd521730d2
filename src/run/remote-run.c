/*
 * remote-run: run.json, the result and the note of a run on EC2. See
 * remote-run.h.
 */
#include "run/remote-run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "run/layout.h"
#include "run/run.h"
#include "services/s3-objects.h"
#include "services/s3.h"
#include "util/json.h"
#include "util/shell.h"
#include "util/time.h"
#include "util/time.h"

void remote_run_release(struct remote_run *r)
{
	size_t i;

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
	strvec_clear(&r->fields);
	free(r->image);
	free(r->spot_request);
	for (i = 0; i < r->nr_instances; i++) {
		free(r->instances[i].instance_id);
		free(r->instances[i].az);
		free(r->instances[i].market);
		free(r->instances[i].spot_request);
	}
	free(r->instances);
	free(r->resumed_from);
	strvec_clear(&r->node_instances);
	strvec_clear(&r->node_spot_requests);
	free(r->placement_group);
	free(r->cluster_security_group);
	memset(r, 0, sizeof(*r));
	r->price = -1;
}

char *remote_run_node_key(const char *run_prefix, int rank, enum layout_item item)
{
	char *nodes, *dir, *key;

	if (rank <= 0)
		return layout_run_key(run_prefix, item);
	nodes = layout_run_key(run_prefix, LAYOUT_NODES);
	dir = xstrfmt("%s/%d", nodes, rank);
	key = layout_local_path(dir, item); /* <dir>/<item>, as in a run directory */
	free(dir);
	free(nodes);
	return key;
}

void remote_run_format_usd(struct buf *out, double usd)
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

void remote_run_add_json(cJSON *o, const struct remote_run *r)
{
	json_add_string_or_null(o, "run_id", r->run_id);
	json_add_string_or_null(o, "commit", r->commit);
	json_add_string_or_null(o, "parent", r->parent);
	json_add_string_or_null(o, "instance_id", r->instance_id);
	json_add_string_or_null(o, "instance_type", r->instance_type);
	json_add_string_or_null(o, "market", r->market);
	json_add_string_or_null(o, "az", r->az);
	json_add_number_or_null(o, "price", r->price >= 0, r->price);
	json_add_string_or_null(o, "region", r->region);
}

/* run.json's "spot_request", "instances" and "resumed_from" (issue 13). */
static void add_preemption_json(cJSON *o, const struct remote_run *r)
{
	cJSON *a;
	size_t i;

	if (r->spot_request)
		cJSON_AddStringToObject(o, "spot_request", r->spot_request);
	if (r->nr_instances) {
		a = cJSON_AddArrayToObject(o, "instances");
		for (i = 0; i < r->nr_instances; i++) {
			const struct remote_instance *in = &r->instances[i];
			cJSON *e = cJSON_CreateObject();

			json_add_string_or_null(e, "instance_id", in->instance_id);
			json_add_string_or_null(e, "az", in->az);
			json_add_string_or_null(e, "market", in->market);
			json_add_string_or_null(e, "spot_request", in->spot_request);
			json_add_number_or_null(e, "price", in->price >= 0, in->price);
			cJSON_AddItemToArray(a, e);
		}
	}
	if (r->resumed_from)
		cJSON_AddStringToObject(o, "resumed_from", r->resumed_from);
}

/* run.json's "nodes", "node_instances", "placement_group", "cluster_security_group". */
static void add_nodes_json(cJSON *o, const struct remote_run *r)
{
	cJSON *a;
	size_t i;

	if (r->nodes <= 1)
		return;
	cJSON_AddNumberToObject(o, "nodes", r->nodes);
	a = cJSON_AddArrayToObject(o, "node_instances");
	for (i = 0; i < r->node_instances.nr; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(r->node_instances.v[i]));
	if (r->node_spot_requests.nr) {
		a = cJSON_AddArrayToObject(o, "node_spot_requests");
		for (i = 0; i < r->node_spot_requests.nr; i++) {
			const char *sir = r->node_spot_requests.v[i];

			cJSON_AddItemToArray(a,
					     *sir ? cJSON_CreateString(sir) : cJSON_CreateNull());
		}
	}
	json_add_string_or_null(o, "placement_group", r->placement_group);
	json_add_string_or_null(o, "cluster_security_group", r->cluster_security_group);
}

static cJSON *run_json(const struct remote_run *r, const char *const *args, int nr_args)
{
	cJSON *o = cJSON_CreateObject(), *a;
	char when[TIME_ISO8601_SIZE];
	int i;

	remote_run_add_json(o, r);
	time_format_iso8601(when, r->launched);
	json_add_string_or_null(o, "launched", r->launched ? when : NULL);
	a = cJSON_AddArrayToObject(o, "args");
	for (i = 0; i < nr_args; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(args[i]));
	if (r->smoke)
		cJSON_AddTrueToObject(o, "smoke");
	if (r->fields.nr) {
		cJSON *f = cJSON_AddObjectToObject(o, "fields");
		size_t j;

		for (j = 0; j < r->fields.nr; j++) {
			const char *eq = strchr(r->fields.v[j], '=');
			char *k = xstrndup(r->fields.v[j], (size_t)(eq - r->fields.v[j]));

			cJSON_AddStringToObject(f, k, eq + 1);
			free(k);
		}
	}
	if (r->image)
		cJSON_AddStringToObject(o, "image", r->image);
	add_preemption_json(o, r);
	add_nodes_json(o, r);
	return o;
}

int remote_run_save(struct aws_client *c, const struct remote_run *r, const char *const *args,
		    int nr_args)
{
	cJSON *o = run_json(r, args, nr_args);
	char *text = cJSON_PrintUnformatted(o);
	char *key = layout_run_key(r->run_prefix, LAYOUT_RUN_JSON);
	struct s3_mem_body mem = { text, text ? strlen(text) : 0, 0 };
	struct aws_body_reader body = { s3_mem_read, s3_mem_rewind, &mem, (long long)mem.len,
					NULL };
	char sum[S3_SHA256_SIZE];
	int ret;

	if (!text) {
		ret = err_set("cannot write run.json of run %s: out of memory", r->run_id);
	} else {
		s3_sha256_of(sum, text, mem.len);
		ret = s3_put_object(c, r->bucket, key, &body, sum, NULL, 0);
	}
	free(key);
	free(text);
	cJSON_Delete(o);
	return ret;
}

/* GETs the run's item and parses it. 0, 1 when absent, or -1. */
static int get_json(cJSON **out, struct aws_client *c, const char *bucket, const char *run_prefix,
		    enum layout_item item)
{
	struct buf body = BUF_INIT;
	char *key = layout_run_key(run_prefix, item);
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

/* run.json's fields: string values under keys of [A-Za-z0-9._-] only. */
static void load_fields(struct strvec *out, const cJSON *f)
{
	const cJSON *v;

	cJSON_ArrayForEach (v, f) {
		const char *k = v->string;

		if (!k || !*k ||
		    k[strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				"0123456789._-")] ||
		    !cJSON_IsString(v))
			continue;
		strvec_push_nodup(out, xstrfmt("%s=%s", k, v->valuestring));
	}
}

/* An AMI id ("ami-" and hex), copied; anything else NULL: run.json is anyone's to write. */
static char *ami_id(const char *s)
{
	size_t n;

	if (!s || strncmp(s, "ami-", 4))
		return NULL;
	for (n = 4; s[n]; n++)
		if (!strchr("0123456789abcdef", s[n]))
			return NULL;
	return n > 4 && n <= 21 ? xstrdup(s) : NULL;
}

/*
 * An id of EC2 ("i-", "sir-") or a run's, copied when it is only
 * [A-Za-z0-9._-] after its prefix and not too long; else NULL: run.json is
 * anyone's to write, and these end up in requests and notes.
 */
static char *plain_id(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	if (!s || strncmp(s, prefix, n) || !s[n] || strlen(s) > 128 ||
	    s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")])
		return NULL;
	return xstrdup(s);
}

static void load_preemption(struct remote_run *out, const cJSON *o)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "instances"), *e;
	size_t n = 0;

	out->spot_request = plain_id(json_string(o, "spot_request"), "sir-");
	out->resumed_from = plain_id(json_string(o, "resumed_from"), "");
	if (!cJSON_IsArray(a))
		return;
	out->instances = xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof(*out->instances));
	cJSON_ArrayForEach (e, a) {
		struct remote_instance *in = &out->instances[n];

		if (!cJSON_IsObject(e) ||
		    !(in->instance_id = plain_id(json_string(e, "instance_id"), "i-")))
			continue;
		in->az = plain_id(json_string(e, "az"), "");
		in->market = plain_id(json_string(e, "market"), "");
		in->spot_request = plain_id(json_string(e, "spot_request"), "sir-");
		in->price = json_number(e, "price", -1);
		if (!(in->price >= 0 && in->price < 1e6))
			in->price = -1;
		n++;
	}
	out->nr_instances = n;
}

/* The nodes of a run on several instances, each id checked as instance ids are. */
static void load_nodes(struct remote_run *out, const cJSON *o)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "node_instances"), *e;
	int n = json_int(o, "nodes", 2, REMOTE_MAX_NODES, 0);
	char *id;

	if (!n || !cJSON_IsArray(a))
		return;
	cJSON_ArrayForEach (e, a) {
		if (!cJSON_IsString(e) || !(id = plain_id(e->valuestring, "i-")))
			break;
		strvec_push_nodup(&out->node_instances, id);
	}
	if (out->node_instances.nr != (size_t)n) {
		strvec_clear(&out->node_instances);
		return;
	}
	out->nodes = n;
	/* by node rank, so all or none: a request taken for another node's would do harm */
	a = cJSON_GetObjectItemCaseSensitive(o, "node_spot_requests");
	if (cJSON_IsArray(a) && cJSON_GetArraySize(a) == n) {
		cJSON_ArrayForEach (e, a) {
			char *sir = NULL;

			if (cJSON_IsNull(e))
				sir = xstrdup("");
			else if (cJSON_IsString(e))
				sir = plain_id(e->valuestring, "sir-");
			if (!sir) {
				strvec_clear(&out->node_spot_requests);
				break;
			}
			strvec_push_nodup(&out->node_spot_requests, sir);
		}
	}
	out->placement_group = plain_id(json_string(o, "placement_group"), "git-train-");
	out->cluster_security_group = plain_id(json_string(o, "cluster_security_group"), "sg-");
}

/* run.json's args array as shell words; NULL when there are none. */
static char *args_words(const cJSON *a)
{
	struct buf b = BUF_INIT;
	const cJSON *v;

	cJSON_ArrayForEach (v, a) {
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
	r = get_json(&o, c, bucket, run_prefix, LAYOUT_RUN_JSON);
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
	if (time_parse_iso8601(&out->launched, json_string(o, "launched")))
		out->launched = 0;
	out->bucket = xstrdup(bucket);
	out->run_prefix = xstrdup(run_prefix);
	out->args = args_words(cJSON_GetObjectItemCaseSensitive(o, "args"));
	out->smoke = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "smoke"));
	load_fields(&out->fields, cJSON_GetObjectItemCaseSensitive(o, "fields"));
	out->image = ami_id(json_string(o, "image"));
	load_preemption(out, o);
	load_nodes(out, o);
	cJSON_Delete(o);
	if (!out->run_id || !out->commit) {
		remote_run_release(out);
		return err_set("the run.json of s3://%s/%s names no run id or commit", bucket,
			       run_prefix);
	}
	/* any run can write any run's run.json: it only counts where it belongs */
	if (!layout_run_prefix_is(run_prefix, out->commit, out->run_id)) {
		err_set("the run.json of s3://%s/%s names run %s of commit %s, not the run "
			"it belongs to: not trusted",
			bucket, run_prefix, out->run_id, out->commit);
		remote_run_release(out);
		return -1;
	}
	return 0;
}

/* The note's own fields, which run.json's fields may not stand for. */
static int own_field(const char *k)
{
	static const char *const own[] = { "backend",  "status", "exit",      "start",
					   "duration", "log",	 "parent",    "stage",
					   "clone",    "nodes",	 "instances", "failed_node" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(own); i++)
		if (!strcmp(k, own[i]))
			return 1;
	return !strncmp(k, "metric.", 7);
}

void remote_run_describe(struct run_record *out, const struct remote_run *r, time_t start,
			 double duration)
{
	struct buf b = BUF_INIT;
	char *key;
	size_t i;

	run_record_init(out);
	out->id = xstrdup(r->run_id);
	out->backend = xstrdup(r->instance_type ? r->instance_type : "ec2");
	out->start = start ? start : r->launched;
	out->duration = duration;
	out->parent = r->parent ? xstrdup(r->parent) : NULL;
	out->log = layout_run_uri(r->bucket, r->run_prefix, LAYOUT_LOG);
	if (r->market)
		run_record_add_extra(out, "market", r->market);
	if (r->az)
		run_record_add_extra(out, "az", r->az);
	if (r->price >= 0) {
		remote_run_format_usd(&b, r->price);
		run_record_add_extra(out, "price", buf_cstr(&b));
		if (duration >= 0) {
			buf_reset(&b);
			/* every node ran as long as node 0, at the same price */
			remote_run_format_usd(&b, r->price * (r->nodes > 1 ? r->nodes : 1) *
							  duration / 3600);
			run_record_add_extra(out, "cost", buf_cstr(&b));
		}
	}
	if (r->instance_id)
		run_record_add_extra(out, "instance", r->instance_id);
	if (r->nodes > 1) {
		buf_reset(&b);
		buf_printf(&b, "%d", r->nodes);
		run_record_add_extra(out, "nodes", buf_cstr(&b));
		buf_reset(&b);
		for (i = 0; i < r->node_instances.nr; i++)
			buf_printf(&b, "%s%s", i ? "," : "", r->node_instances.v[i]);
		run_record_add_extra(out, "instances", buf_cstr(&b));
	}
	key = layout_run_uri(r->bucket, r->run_prefix, LAYOUT_OUTPUTS);
	run_record_add_extra(out, "outputs", key);
	if (r->args)
		run_record_add_extra(out, "args", r->args);
	if (r->smoke)
		run_record_add_extra(out, "smoke", "1");
	if (r->image)
		run_record_add_extra(out, "image", r->image);
	if (r->resumed_from)
		run_record_add_extra(out, "resumed_from", r->resumed_from);
	for (i = 0; i < r->fields.nr; i++) {
		const char *eq = strchr(r->fields.v[i], '=');
		char *k = xstrndup(r->fields.v[i], (size_t)(eq - r->fields.v[i]));

		if (!run_record_extra(out, k) && !own_field(k))
			run_record_add_extra(out, k, eq + 1);
		free(k);
	}
	free(key);
	buf_release(&b);
}

static double instance_price(const struct remote_run *r, const char *id)
{
	size_t i;

	for (i = 0; *id && i < r->nr_instances; i++)
		if (r->instances[i].instance_id && !strcmp(r->instances[i].instance_id, id) &&
		    r->instances[i].price >= 0)
			return r->instances[i].price;
	return r->price;
}

double remote_run_attempts_cost(const struct remote_run *r, const struct layout_attempts *a)
{
	int nodes = r->nodes > 1 ? r->nodes : 1;
	double sum = 0, price, gap;
	size_t i;

	for (i = 0; i < a->nr; i++) {
		price = instance_price(r, a->v[i].instance);
		if (price < 0 || a->v[i].duration < 0)
			return -1;
		sum += nodes * price * a->v[i].duration / 3600;
		/*
		 * Between two attempts of a run on several instances, the nodes
		 * that were not interrupted waited for the one that was, running.
		 */
		if (nodes > 1 && i && a->v[i - 1].end && a->v[i].start > a->v[i - 1].end) {
			gap = difftime(a->v[i].start, a->v[i - 1].end);
			sum += (nodes - 1) * price * gap / 3600;
		}
	}
	return sum;
}

static void push_unique(struct strvec *v, const char *s)
{
	size_t i;

	for (i = 0; i < v->nr; i++)
		if (!strcmp(v->v[i], s))
			return;
	strvec_push(v, s);
}

void remote_run_spot_requests(struct strvec *out, const struct remote_run *r)
{
	size_t i;

	if (r->spot_request)
		push_unique(out, r->spot_request);
	for (i = 0; i < r->node_spot_requests.nr; i++)
		if (*r->node_spot_requests.v[i])
			push_unique(out, r->node_spot_requests.v[i]);
}

static void set_extra(struct run_record *rec, const char *key, const char *value)
{
	size_t i;

	for (i = 0; i < rec->nr_extra; i++) {
		if (!strcmp(rec->extra[i].key, key)) {
			free(rec->extra[i].value);
			rec->extra[i].value = xstrdup(value);
			return;
		}
	}
	run_record_add_extra(rec, key, value);
}

/* A run of several attempts: how many, the time lost, and the cost of them all. */
static void add_attempts(struct run_record *out, const struct run_record *res,
			 const struct remote_run *r, const char *text, size_t len)
{
	struct layout_attempts a;
	struct buf b = BUF_INIT;
	double cost;

	if (!run_record_extra(res, "attempts"))
		return;
	run_record_add_extra(out, "attempts", run_record_extra(res, "attempts"));
	if (run_record_extra(res, "lost"))
		run_record_add_extra(out, "lost", run_record_extra(res, "lost"));
	if (layout_attempts_parse(&a, text, len, "result.json")) {
		err_clear();
		return;
	}
	cost = remote_run_attempts_cost(r, &a);
	if (cost >= 0) {
		remote_run_format_usd(&b, cost);
		set_extra(out, "cost", buf_cstr(&b));
	}
	buf_release(&b);
	layout_attempts_release(&a);
}

int remote_run_result(struct run_record *out, struct aws_client *c, const struct remote_run *r)
{
	struct run_record res;
	struct buf body = BUF_INIT;
	char *key = layout_run_key(r->run_prefix, LAYOUT_RESULT), *what;
	const char *stage;
	int ret;

	run_record_init(out);
	run_record_init(&res);
	res.duration = -1;
	ret = s3_get_object(&body, c, r->bucket, key, 0, NULL, NULL);
	if (ret)
		goto out;
	what = xstrfmt("s3://%s/%s", r->bucket, key);
	ret = layout_result_parse(&res, buf_cstr(&body), body.len, what);
	free(what);
	if (ret)
		goto out;
	remote_run_describe(out, r, res.start, res.duration);
	free(out->status);
	out->status = res.status;
	res.status = NULL;
	out->exit_code = res.exit_code;
	out->metrics = res.metrics;
	out->nr_metrics = res.nr_metrics;
	res.metrics = NULL;
	res.nr_metrics = 0;
	stage = run_record_extra(&res, "stage");
	if (stage)
		run_record_add_extra(out, "stage", stage);
	if (run_record_extra(&res, "deps"))
		run_record_add_extra(out, "deps", run_record_extra(&res, "deps"));
	if (run_record_extra(&res, "failed_node"))
		run_record_add_extra(out, "failed_node", run_record_extra(&res, "failed_node"));
	add_attempts(out, &res, r, buf_cstr(&body), body.len);
out:
	run_record_release(&res);
	buf_release(&body);
	free(key);
	return ret;
}

int remote_run_log_metrics(struct run_record *rec, struct aws_client *c, const struct remote_run *r,
			   const struct metric_patterns *patterns)
{
	char *key;
	int ret;

	if (!patterns || !patterns->nr)
		return 0;
	key = layout_run_key(r->run_prefix, LAYOUT_LOG);
	ret = metric_patterns_apply_s3(rec, patterns, c, r->bucket, key);
	free(key);
	return ret;
}

int remote_run_finalize(struct run_record *out, git_repository *repo, struct aws_client *c,
			const struct remote_run *r, const struct metric_patterns *patterns)
{
	int ret = remote_run_result(out, c, r);

	if (ret)
		return ret;
	if (remote_run_log_metrics(out, c, r, patterns))
		err_clear();
	if (run_note_write(repo, out, r->commit) < 0) {
		run_record_release(out);
		return -1;
	}
	return 0;
}
