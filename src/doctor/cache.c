/*
 * doctor: passing reports kept for a few minutes in <git dir>/train/doctor.json,
 * so that a launch right after `git train doctor` (or after another launch)
 * does not repeat a dozen requests. Only passing reports are kept: a failure
 * must be seen again as soon as the user may have fixed it.
 */
#include "doctor/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "git/repo.h"

#define CACHE_VERSION 1

static void key_part(struct buf *b, const char *s)
{
	/* length-prefixed, so that no two different settings hash alike */
	s = s ? s : "";
	buf_printf(b, "%zu:%s\n", strlen(s), s);
}

char *doctor_cache_key(const struct doctor_ctx *x)
{
	static const char *const services[] = { "s3", "sts", "iam", "ssm", "ec2" };
	const struct aws_settings *s = &x->client->settings;
	struct buf b = BUF_INIT, hex = BUF_INIT;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0, i;

	buf_printf(&b, "git-train doctor %d\n", CACHE_VERSION);
	key_part(&b, s->profile);
	key_part(&b, x->region);
	key_part(&b, s->config_file);
	key_part(&b, s->credentials_file);
	/* which credentials: the key id is not secret, and only its hash is stored */
	key_part(&b, getenv("AWS_ACCESS_KEY_ID"));
	for (i = 0; i < ARRAY_SIZE(services); i++) {
		int custom = 0;
		char *url = aws_settings_endpoint_url(s, services[i], x->region, &custom);

		key_part(&b, url);
		free(url);
	}
	key_part(&b, x->bucket);
	key_part(&b, x->prefix);
	key_part(&b, x->profile);
	key_part(&b, x->instance_type);
	key_part(&b, x->on_demand ? "on-demand" : "spot");
	key_part(&b, x->persistent ? "persistent" : "");
	key_part(&b, x->image ? x->image : "");
	if (x->nodes > 1)
		buf_printf(&b, "nodes %d\n", x->nodes);
	for (i = 0; i < x->inputs.nr_data; i++) {
		char *uri = inputs_data_uri(&x->inputs.data[i]);

		key_part(&b, uri);
		free(uri);
	}
	for (i = 0; i < x->inputs.nr_secrets; i++) {
		key_part(&b, x->inputs.secrets[i].manager ? "secretsmanager" : "ssm");
		key_part(&b, x->inputs.secrets[i].ref);
	}
	EVP_Digest(b.ptr, b.len, md, &md_len, EVP_sha256(), NULL);
	for (i = 0; i < md_len; i++)
		buf_printf(&hex, "%02x", md[i]);
	buf_release(&b);
	return buf_detach(&hex);
}

cJSON *doctor_report_json(const struct doctor_report *r)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < r->nr; i++) {
		const struct doctor_check *chk = &r->checks[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "check", chk->name);
		cJSON_AddBoolToObject(o, "ok",
				      chk->state == DOCTOR_OK || chk->state == DOCTOR_WARNING);
		cJSON_AddBoolToObject(o, "skipped", chk->state == DOCTOR_SKIPPED);
		cJSON_AddBoolToObject(o, "warning", chk->state == DOCTOR_WARNING);
		cJSON_AddStringToObject(o, "detail", chk->detail);
		if (chk->fix)
			cJSON_AddStringToObject(o, "fix", chk->fix);
		else
			cJSON_AddNullToObject(o, "fix");
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static char *cache_path(int create)
{
	git_repository *repo = NULL;
	char *dir = NULL, *path = NULL;

	if (repo_open(&repo) || repo_train_dir(&dir, repo, NULL, create))
		goto out;
	path = xstrfmt("%s/doctor.json", dir);
out:
	err_clear(); /* no repository, no cache: the checks just run */
	free(dir);
	git_repository_free(repo);
	return path;
}

/* Only what a passing report holds: names, details, and warnings with their fix. */
static int report_from_json(struct doctor_report *out, const cJSON *checks)
{
	const cJSON *o;
	size_t n = (size_t)cJSON_GetArraySize(checks), i = 0;

	if (!n)
		return -1;
	out->checks = xcalloc(n, sizeof(*out->checks));
	cJSON_ArrayForEach (o, checks) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "check");
		const cJSON *detail = cJSON_GetObjectItemCaseSensitive(o, "detail");
		const cJSON *fix = cJSON_GetObjectItemCaseSensitive(o, "fix");

		if (!cJSON_IsString(name) || !cJSON_IsString(detail) ||
		    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "ok")))
			return -1;
		out->checks[i].name = xstrdup(name->valuestring);
		out->checks[i].detail = xstrdup(detail->valuestring);
		out->checks[i].state = DOCTOR_OK;
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "warning"))) {
			out->checks[i].state = DOCTOR_WARNING;
			if (cJSON_IsString(fix))
				out->checks[i].fix = xstrdup(fix->valuestring);
		}
		out->nr = ++i;
	}
	out->from_cache = 1;
	return 0;
}

int doctor_cache_load(struct doctor_report *out, const char *key)
{
	struct buf text = BUF_INIT;
	char *path = cache_path(0);
	cJSON *doc = NULL;
	const cJSON *k, *t;
	double now = (double)time(NULL);
	int ret = 1;

	if (!path || read_file(&text, path))
		goto out;
	doc = cJSON_Parse(buf_cstr(&text));
	k = cJSON_GetObjectItemCaseSensitive(doc, "key");
	t = cJSON_GetObjectItemCaseSensitive(doc, "time");
	if (!cJSON_IsString(k) || strcmp(k->valuestring, key) || !cJSON_IsNumber(t) ||
	    t->valuedouble > now || now - t->valuedouble >= DOCTOR_CACHE_SECONDS)
		goto out;
	if (report_from_json(out, cJSON_GetObjectItemCaseSensitive(doc, "checks"))) {
		doctor_report_release(out);
		goto out;
	}
	ret = 0;
out:
	err_clear();
	cJSON_Delete(doc);
	buf_release(&text);
	free(path);
	return ret;
}

void doctor_cache_store(const struct doctor_report *r, const char *key)
{
	char *path = cache_path(doctor_report_ok(r)), *text = NULL;
	cJSON *doc = NULL;

	if (!path)
		goto out;
	if (!doctor_report_ok(r)) {
		unlink(path);
		goto out;
	}
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "key", key);
	cJSON_AddNumberToObject(doc, "time", (double)time(NULL));
	cJSON_AddItemToObject(doc, "checks", doctor_report_json(r));
	text = cJSON_Print(doc);
	if (text && write_file_atomic(path, text, strlen(text), 0666))
		err_clear(); /* the cache only saves requests */
out:
	cJSON_Delete(doc);
	free(text);
	free(path);
}
