/*
 * role_arn profiles: STS AssumeRole signed with the source credentials, and a
 * cache of the result so that every git-train command does not assume the
 * role again (the AWS CLI keeps a similar cache in ~/.aws/cli/cache).
 *
 * The cache lives in $XDG_CACHE_HOME/git-train/ (else ~/.cache/git-train/),
 * one 0600 JSON file per role, named by a hash of everything that makes the
 * credentials what they are: role, source, session name, duration, external
 * id and STS endpoint. A file that is not ours or readable by others is
 * ignored. Failing to write the cache never fails the command.
 */
#include "aws/creds/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libxml/tree.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aws/creds/profile.h"
#include "util/xml.h"

#define DEFAULT_DURATION 3600

/* What identifies one assumed role, and where its cache file is. */
struct role_call {
	const char *role_arn;
	const char *profile;
	char *session_name;
	long duration;
	const char *external_id;
	char *cache_path; /* NULL: no cache directory (no HOME) */
};

/* git-train-<user>, in the characters STS allows and at most 64 of them. */
static char *session_name(void)
{
	const char *user =
		getenv_nonempty("USER") ? getenv_nonempty("USER") : getenv_nonempty("LOGNAME");
	struct passwd *pw;
	char *name, *p;

	if (!user && (pw = getpwuid(getuid())))
		user = pw->pw_name;
	name = xstrfmt("git-train-%.54s", user ? user : "user");
	for (p = name; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-",
			    *p))
			*p = '-';
	return name;
}

static char *cache_dir(void)
{
	const char *xdg = getenv_nonempty("XDG_CACHE_HOME"), *home = getenv_nonempty("HOME");

	if (xdg && *xdg == '/')
		return xstrfmt("%s/git-train", xdg);
	return home ? xstrfmt("%s/.cache/git-train", home) : NULL;
}

static char *cache_path(const struct role_call *rc, const char *source, const char *endpoint)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char hex[2 * SHA256_DIGEST_LENGTH + 1];
	char *dir = cache_dir(), *path;
	struct buf key = BUF_INIT;
	size_t i;

	if (!dir)
		return NULL;
	buf_printf(&key, "%s\n%s\n%s\n%ld\n%s\n%s", rc->role_arn, source, rc->session_name,
		   rc->duration, rc->external_id ? rc->external_id : "", endpoint);
	SHA256((const unsigned char *)key.ptr, key.len, md);
	for (i = 0; i < sizeof(md); i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	path = xstrfmt("%s/role-%s.json", dir, hex);
	buf_release(&key);
	free(dir);
	return path;
}

static char *source_label(const struct role_call *rc, const char *how)
{
	return xstrfmt("role '%s' of AWS profile '%s'%s", rc->role_arn, rc->profile, how);
}

/* 0 with fresh cached credentials, 1 when there are none worth using. */
static int cache_read(struct aws_credentials *out, const struct role_call *rc)
{
	struct buf text = BUF_INIT;
	struct stat st;
	cJSON *doc = NULL;
	int fd, ret = 1;

	if (!rc->cache_path)
		return 1;
	fd = open(rc->cache_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 1;
	if (fstat(fd, &st) || st.st_uid != getuid() || (st.st_mode & 077) || !S_ISREG(st.st_mode)) {
		close(fd);
		return 1;
	}
	close(fd);
	if (read_file(&text, rc->cache_path)) {
		err_clear();
		goto out;
	}
	doc = cJSON_ParseWithLength(buf_cstr(&text), text.len);
	if (!doc || aws_creds_from_json(out, cJSON_GetObjectItemCaseSensitive(doc, "Credentials"),
					"SessionToken", "cache", source_label(rc, " (cached)"))) {
		err_clear();
		goto out;
	}
	if (!out->expiration || out->expiration - time(NULL) <= AWS_CREDS_MIN_LIFETIME) {
		aws_creds_release(out);
		goto out;
	}
	ret = 0;
out:
	if (doc) {
		aws_creds_wipe_json(doc);
		cJSON_Delete(doc);
	}
	if (text.ptr)
		OPENSSL_cleanse(text.ptr, text.len);
	buf_release(&text);
	return ret;
}

/* Writes a temporary file, then renames it: readers never see half a file. */
static void cache_write(const struct role_call *rc, cJSON *doc)
{
	char *dir = cache_dir(), *text = NULL;

	if (!rc->cache_path || !dir || mkdir_p(dir, 0700))
		goto out;
	text = cJSON_PrintUnformatted(doc);
	if (text)
		write_file_atomic(rc->cache_path, text, strlen(text), 0600);
out:
	err_clear(); /* the cache only saves requests */
	if (text) {
		OPENSSL_cleanse(text, strlen(text));
		free(text);
	}
	free(dir);
}

static void wipe_xml(xmlNodePtr node)
{
	for (; node; node = node->next) {
		if (node->type == XML_TEXT_NODE && node->content)
			OPENSSL_cleanse(node->content, strlen((const char *)node->content));
		wipe_xml(node->children);
	}
}

static void add_xml_string(cJSON *obj, const char *name, xmlNodePtr from, const char *path)
{
	char *v = xml_path_text(from, path);

	if (v) {
		cJSON_AddStringToObject(obj, name, v);
		secret_free(v);
	}
}

/* The AssumeRole response as the cache's JSON document (botocore's layout). */
static int parse_response(cJSON **out, const struct buf *body)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr creds;
	cJSON *c;

	*out = NULL;
	if (xml_parse(&doc, body->ptr ? body->ptr : "", body->len))
		return -1;
	creds = xml_path(xml_root(doc), "AssumeRoleResult/Credentials");
	if (creds) {
		*out = cJSON_CreateObject();
		c = cJSON_AddObjectToObject(*out, "Credentials");
		add_xml_string(c, "AccessKeyId", creds, "AccessKeyId");
		add_xml_string(c, "SecretAccessKey", creds, "SecretAccessKey");
		add_xml_string(c, "SessionToken", creds, "SessionToken");
		add_xml_string(c, "Expiration", creds, "Expiration");
		c = cJSON_AddObjectToObject(*out, "AssumedRoleUser");
		add_xml_string(c, "Arn", xml_root(doc), "AssumeRoleResult/AssumedRoleUser/Arn");
	}
	wipe_xml(xml_root(doc));
	xml_free(doc);
	return *out ? 0 : err_set("STS AssumeRole answered without credentials");
}

static void add_param(struct buf *params, const char *name, const char *value)
{
	buf_printf(params, "&%s=", name);
	buf_uri_encode(params, value, strlen(value), 0);
}

/* The STS call, made by the client (struct aws_sts), and its answer. */
static int call_sts(cJSON **out, const struct aws_sts *sts, const struct aws_settings *s,
		    const struct aws_credentials *source, const struct role_call *rc)
{
	struct buf params = BUF_INIT, body = BUF_INIT;
	char *msg;
	int ret = -1;

	add_param(&params, "RoleArn", rc->role_arn);
	add_param(&params, "RoleSessionName", rc->session_name);
	buf_printf(&params, "&DurationSeconds=%ld", rc->duration);
	if (rc->external_id)
		add_param(&params, "ExternalId", rc->external_id);
	if (sts->assume_role(&body, sts->ctx, s, source, params.ptr + 1)) {
		msg = xstrdup(err_msg());
		err_set("cannot assume role '%s' of AWS profile '%s': %s", rc->role_arn,
			rc->profile, msg);
		err_hint("the role's trust policy must allow %s to assume it", source->source);
		free(msg);
		goto out;
	}
	ret = parse_response(out, &body);
out:
	if (body.ptr)
		OPENSSL_cleanse(body.ptr, body.len);
	buf_release(&body);
	buf_release(&params);
	return ret;
}

static int role_call_init(struct role_call *rc, const struct aws_settings *s,
			  const struct aws_profile *p, const char *source)
{
	const char *d = aws_profile_value(p, "duration_seconds");
	const char *name = aws_profile_value(p, "role_session_name");
	char *end, *endpoint;

	memset(rc, 0, sizeof(*rc));
	rc->role_arn = aws_profile_value(p, "role_arn");
	rc->profile = p->name;
	rc->external_id = aws_profile_value(p, "external_id");
	rc->session_name = name && *name ? xstrdup(name) : session_name();
	rc->duration = DEFAULT_DURATION;
	if (d && *d) {
		errno = 0;
		rc->duration = strtol(d, &end, 10);
		if (errno || *end || rc->duration < 900 || rc->duration > 43200)
			return err_set("bad duration_seconds '%s' in AWS profile '%s': expected "
				       "900 to 43200",
				       d, p->name);
	}
	endpoint = aws_settings_endpoint_url(s, "sts", s->region ? s->region : "us-east-1", NULL);
	rc->cache_path = cache_path(rc, source, endpoint);
	free(endpoint);
	return 0;
}

int aws_creds_assume_role(struct aws_credentials *out, const struct aws_sts *sts,
			  const struct aws_settings *s, const struct aws_profile *profile,
			  const struct aws_credentials *source)
{
	struct role_call rc;
	cJSON *doc = NULL;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (role_call_init(&rc, s, profile, source->source))
		goto out;
	if (!cache_read(out, &rc)) {
		ret = 0;
		goto out;
	}
	if (!sts) {
		err_set("cannot assume role '%s' of AWS profile '%s' here: no AWS client",
			rc.role_arn, profile->name);
		goto out;
	}
	if (call_sts(&doc, sts, s, source, &rc))
		goto out;
	if (aws_creds_from_json(out, cJSON_GetObjectItemCaseSensitive(doc, "Credentials"),
				"SessionToken", "STS AssumeRole's answer", source_label(&rc, "")))
		goto out;
	cache_write(&rc, doc);
	ret = 0;
out:
	if (doc) {
		aws_creds_wipe_json(doc);
		cJSON_Delete(doc);
	}
	free(rc.session_name);
	free(rc.cache_path);
	return ret;
}
