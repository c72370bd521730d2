/*
 * layout: names and keys (see layout.h). Nothing else in git-train spells
 * a run's file names or composes its keys.
 */
#include "run/layout.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "git/repo.h"
#include "run/deps.h"
#include "services/s3.h"
#include "util/json.h"
#include "util/time.h"

static const char *const names[] = {
	[LAYOUT_CODE] = "code.tar.gz",
	[LAYOUT_RUN_JSON] = "run.json",
	[LAYOUT_LOG] = "log",
	[LAYOUT_RESULT] = "result.json",
	[LAYOUT_OUTPUTS] = "outputs",
	[LAYOUT_WORK] = "work",
	[LAYOUT_OUTPUTS_SUMS] = "outputs.sha256",
	[LAYOUT_ENVS] = "envs",
	[LAYOUT_DATA] = "data",
	[LAYOUT_CHECKPOINTS] = "checkpoints",
	[LAYOUT_ATTEMPTS] = "attempts.json",
	[LAYOUT_NODES] = "nodes",
};

/* Keeps key segments plain: letters, digits, '.', '_' and '-'; anything else becomes '-'. */
static char *key_segment(const char *s, size_t len)
{
	char *out = xstrndup(s, len), *p;

	for (p = out; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
			*p = '-';
	return out;
}

/* The last component of a URL or path, without ".git": "git@host:team/repo.git" gives "repo". */
static char *last_component(const char *s)
{
	size_t end = strlen(s), start;

	for (;;) {
		while (end && s[end - 1] == '/')
			end--;
		start = end;
		while (start && s[start - 1] != '/' && s[start - 1] != ':')
			start--;
		/* "/home/me/repo/.git/": the directory holding it */
		if (start && end - start == 4 && !memcmp(s + start, ".git", 4)) {
			end = start;
			continue;
		}
		break;
	}
	if (end - start > 4 && !memcmp(s + end - 4, ".git", 4))
		end -= 4;
	return start == end ? NULL : key_segment(s + start, end - start);
}

/* remote.origin.url from the config: git_remote_lookup() leaks in libgit2 1.5 */
char *layout_repo_name(git_repository *repo, const struct config *cfg)
{
	const char *dir;
	char *url = NULL, *name = NULL;

	if (!config_get_string(&url, cfg, "remote.origin.url"))
		name = last_component(url);
	err_clear();
	free(url);
	if (name)
		return name;
	dir = git_repository_workdir(repo);
	name = last_component(dir ? dir : git_repository_path(repo));
	return name ? name : xstrdup("repo");
}

static char *config_or(const struct config *cfg, const char *key, const char *def)
{
	char *v = NULL;

	if (config_get_string(&v, cfg, key)) {
		err_clear();
		free(v);
		return xstrdup(def);
	}
	return v;
}

/* train.repo, when set: one plain key segment, else -1 with err_set. */
static int valid_repo_id(const char *v)
{
	size_t n = strlen(v);

	if (n && n <= 200 && strcmp(v, ".") && strcmp(v, "..") &&
	    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n)
		return 0;
	err_set("bad train.repo '%s': it names the repository in one S3 key segment and a tag", v);
	err_hint("use letters, digits, '.', '_' and '-' only, like 'model-1a2b3c4d5e6f'");
	return -1;
}

int layout_repo_id(char **out, git_repository *repo, const struct config *cfg)
{
	char *name, hex[GIT_OID_HEXSZ + 1];
	git_oid root;
	int r;

	*out = NULL;
	r = config_get_string(out, cfg, "train.repo");
	if (r < 0)
		return -1;
	if (r == 0) {
		if (!valid_repo_id(*out))
			return 0;
		free(*out);
		*out = NULL;
		return -1;
	}
	free(*out);
	*out = NULL;
	if (repo_root_commit(&root, repo))
		return -1;
	git_oid_tostr(hex, LAYOUT_ROOT_HEX + 1, &root);
	name = layout_repo_name(repo, cfg);
	*out = xstrfmt("%s-%s", name, hex);
	free(name);
	return 0;
}

/* "<train.prefix>/<repo>/" */
static char *repo_prefix(const char *prefix, const char *repo)
{
	const char *p;
	size_t n;

	for (p = prefix; *p == '/'; p++)
		;
	n = strlen(p);
	while (n && p[n - 1] == '/')
		n--;
	return xstrfmt("%.*s%s%s/", (int)n, p, n ? "/" : "", repo);
}

int layout_init(struct layout *out, const struct config *cfg, git_repository *repo)
{
	char *prefix;
	int r;

	memset(out, 0, sizeof(*out));
	r = config_get_string(&out->bucket, cfg, "train.bucket");
	if (r < 0)
		return -1;
	if (r == 1 || !*out->bucket) {
		free(out->bucket);
		out->bucket = NULL;
		err_set("no S3 bucket: train.bucket is not set");
		err_hint("set it with: git config train.bucket <name>");
		return -1;
	}
	if (layout_repo_id(&out->repo_name, repo, cfg)) {
		layout_release(out);
		return -1;
	}
	prefix = config_or(cfg, "train.prefix", "git-train");
	out->repo_prefix = repo_prefix(prefix, out->repo_name);
	out->legacy_name = layout_repo_name(repo, cfg);
	if (strcmp(out->legacy_name, out->repo_name)) {
		out->legacy_prefix = repo_prefix(prefix, out->legacy_name);
	} else {
		free(out->legacy_name);
		out->legacy_name = NULL;
	}
	free(prefix);
	return 0;
}

void layout_release(struct layout *l)
{
	free(l->bucket);
	free(l->repo_name);
	free(l->repo_prefix);
	free(l->legacy_name);
	free(l->legacy_prefix);
	memset(l, 0, sizeof(*l));
}

char *layout_code_key(const struct layout *l, const char *commit)
{
	return xstrfmt("%s%s/%s", l->repo_prefix, commit, names[LAYOUT_CODE]);
}

char *layout_run_prefix(const struct layout *l, const char *commit, const char *run_id)
{
	return xstrfmt("%s%s/runs/%s/", l->repo_prefix, commit, run_id);
}

char *layout_legacy_run_prefix(const struct layout *l, const char *commit, const char *run_id)
{
	return l->legacy_prefix ? xstrfmt("%s%s/runs/%s/", l->legacy_prefix, commit, run_id) : NULL;
}

size_t layout_run_prefixes(char *out[LAYOUT_MAX_PREFIXES], const struct layout *l,
			   const char *commit, const char *run_id)
{
	out[0] = layout_run_prefix(l, commit, run_id);
	out[1] = layout_legacy_run_prefix(l, commit, run_id);
	return out[1] ? 2 : 1;
}

int layout_is_run_prefix(const struct layout *l, const char *commit, const char *run_id,
			 const char *prefix)
{
	char *v[LAYOUT_MAX_PREFIXES];
	size_t n = layout_run_prefixes(v, l, commit, run_id), i;
	int found = 0;

	for (i = 0; i < n; i++) {
		found |= !strcmp(v[i], prefix);
		free(v[i]);
	}
	return found;
}

int layout_run_prefix_is(const char *run_prefix, const char *commit, const char *run_id)
{
	char *tail;
	size_t n, t;
	int ret;

	if (!run_prefix || !commit || !run_id || !*commit || !*run_id || strchr(commit, '/') ||
	    strchr(run_id, '/'))
		return 0;
	tail = xstrfmt("%s/runs/%s/", commit, run_id);
	n = strlen(run_prefix);
	t = strlen(tail);
	ret = n >= t && !strcmp(run_prefix + n - t, tail) &&
	      (n == t || run_prefix[n - t - 1] == '/');
	free(tail);
	return ret;
}

char *layout_envs_prefix(const struct layout *l)
{
	return xstrfmt("%s%s/", l->repo_prefix, names[LAYOUT_ENVS]);
}

char *layout_run_key(const char *run_prefix, enum layout_item item)
{
	return xstrfmt("%s%s%s", run_prefix, names[item],
		       item == LAYOUT_OUTPUTS || item == LAYOUT_CHECKPOINTS ? "/" : "");
}

char *layout_run_uri(const char *bucket, const char *run_prefix, enum layout_item item)
{
	char *key = layout_run_key(run_prefix, item), *uri = s3_uri(bucket, key);

	free(key);
	return uri;
}

char *layout_local_path(const char *run_dir, enum layout_item item)
{
	return xstrfmt("%s/%s", run_dir, names[item]);
}

const char *layout_code_commit(size_t *out_len, const char *repo_prefix, const char *key)
{
	const char *rest;
	size_t n;

	if (!skip_prefix(key, repo_prefix, &rest))
		return NULL;
	n = strspn(rest, "0123456789abcdef");
	if ((n != 40 && n != 64) || rest[n] != '/' || strcmp(rest + n + 1, names[LAYOUT_CODE]))
		return NULL;
	*out_len = n;
	return rest;
}

int layout_key_of_commit(const char *repo_prefix, const char *key, const char *sha, size_t sha_len)
{
	const char *rest;

	return skip_prefix(key, repo_prefix, &rest) && !strncmp(rest, sha, sha_len) &&
	       rest[sha_len] == '/';
}

void layout_result_format(struct buf *out, const struct run_record *rec, const char *commit,
			  const struct layout_args *args)
{
	cJSON *root = cJSON_CreateObject(), *metrics, *a;
	const char *stage = run_record_extra(rec, "stage");
	const char *deps = run_record_extra(rec, "deps");
	char when[TIME_ISO8601_SIZE];
	char *text;
	size_t i;
	int k;

	json_add_string_or_null(root, "run_id", rec->id);
	json_add_string_or_null(root, "id", rec->id);
	json_add_string_or_null(root, "commit", commit);
	json_add_string_or_null(root, "parent", rec->parent);
	json_add_string_or_null(root, "backend", rec->backend);
	json_add_string_or_null(root, "status", rec->status);
	cJSON_AddNumberToObject(root, "exit_code", rec->exit_code);
	if (stage)
		cJSON_AddStringToObject(root, "stage", stage);
	time_format_iso8601(when, rec->start);
	cJSON_AddStringToObject(root, "start", when);
	time_format_iso8601(when, rec->start + (time_t)(rec->duration + 0.5));
	cJSON_AddStringToObject(root, "end", when);
	cJSON_AddNumberToObject(root, "duration", rec->duration);
	cJSON_AddNumberToObject(root, "duration_seconds", rec->duration);
	metrics = cJSON_AddObjectToObject(root, "metrics");
	for (i = 0; i < rec->nr_metrics; i++)
		cJSON_AddNumberToObject(metrics, rec->metrics[i].name, rec->metrics[i].value);
	if (deps)
		cJSON_AddStringToObject(root, "deps", deps);
	a = cJSON_AddArrayToObject(root, "args");
	for (k = 0; args && k < args->nr; k++)
		cJSON_AddItemToArray(a, cJSON_CreateString(args->v[k]));
	text = cJSON_Print(root);
	buf_puts(out, text ? text : "{}");
	buf_putc(out, '\n');
	free(text);
	cJSON_Delete(root);
}

/* A run of more than one attempt: their number and the time lost between them. */
static void result_attempts(struct run_record *out, const char *text, size_t len, const char *what)
{
	struct layout_attempts a;
	char tmp[32];
	size_t i;
	double sum = 0;

	if (layout_attempts_parse(&a, text, len, what) || a.nr < 2)
		goto out;
	snprintf(tmp, sizeof(tmp), "%d", a.v[a.nr - 1].attempt);
	if (!run_record_extra(out, "attempts"))
		run_record_add_extra(out, "attempts", tmp);
	if (a.lost >= 0 && !run_record_extra(out, "lost")) {
		snprintf(tmp, sizeof(tmp), "%lds", (long)(a.lost + 0.5));
		run_record_add_extra(out, "lost", tmp);
	}
	/* the runner sums them into "duration"; a result without one still has them */
	for (i = 0; i < a.nr && out->duration < 0; i++)
		sum += a.v[i].duration > 0 ? a.v[i].duration : 0;
	if (out->duration < 0)
		out->duration = sum;
out:
	err_clear();
	layout_attempts_release(&a);
}

int layout_result_parse(struct run_record *out, const char *text, size_t len, const char *what)
{
	cJSON *o = cJSON_ParseWithLength(text, len);
	const cJSON *m, *v;
	const char *status, *stage, *deps;
	time_t start = 0, end = 0;
	double duration;
	int failed_node;

	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return err_set("%s is not a JSON object", what);
	}
	if (!time_parse_iso8601(&start, json_string(o, "start")))
		out->start = start;
	duration = json_number(o, "duration", json_number(o, "duration_seconds", -1));
	if (duration < 0 && start && !time_parse_iso8601(&end, json_string(o, "end")) &&
	    end >= start)
		duration = (double)(end - start);
	if (duration >= 0)
		out->duration = duration;
	status = json_string(o, "status");
	free(out->status);
	out->status = xstrdup(status && *status ? status : "failed");
	out->exit_code = json_int(o, "exit_code", 0, INT_MAX, -1);
	stage = json_string(o, "stage");
	if (stage && *stage && !run_record_extra(out, "stage"))
		run_record_add_extra(out, "stage", stage);
	/* written by the instance: only a key, never anything else, reaches the note */
	deps = json_string(o, "deps");
	if (deps_valid_key(deps) && !run_record_extra(out, "deps"))
		run_record_add_extra(out, "deps", deps);
	/* a run on several instances that failed because of node R > 0 (issue 14) */
	failed_node = json_int(o, "failed_node", 1, 4096, 0);
	if (failed_node && !run_record_extra(out, "failed_node")) {
		char n[16];

		snprintf(n, sizeof(n), "%d", failed_node);
		run_record_add_extra(out, "failed_node", n);
	}
	result_attempts(out, text, len, what);
	m = cJSON_GetObjectItemCaseSensitive(o, "metrics");
	if (cJSON_IsObject(m))
		cJSON_ArrayForEach (v, m)
			if (cJSON_IsNumber(v) && v->string)
				run_record_add_metric(out, v->string, v->valuedouble);
	cJSON_Delete(o);
	return 0;
}
