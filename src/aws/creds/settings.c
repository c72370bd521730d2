#include "aws/creds/settings.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/creds/profile.h"
#include "util/util.h"

/* A path from the environment, with a leading "~/" expanded as botocore does. */
static char *expand_home(const char *path)
{
	const char *home = getenv_nonempty("HOME");

	if (home && (!strcmp(path, "~") || !strncmp(path, "~/", 2)))
		return xstrfmt("%s%s", home, path + 1);
	return xstrdup(path);
}

static char *shared_file(const char *var, const char *name)
{
	const char *home = getenv_nonempty("HOME");

	if (getenv_nonempty(var))
		return expand_home(getenv_nonempty(var));
	return home ? xstrfmt("%s/.aws/%s", home, name) : NULL;
}

/* 0 with *out set (maybe NULL), or -1 with err_set for a broken git config value. */
static int train_setting(char **out, const struct config *cfg, const char *key)
{
	*out = NULL;
	if (!cfg)
		return 0;
	if (config_get_string(out, cfg, key) < 0)
		return -1;
	if (*out && !**out) {
		free(*out);
		*out = NULL;
	}
	return 0;
}

static int check_region(const char *region, const char *source)
{
	const char *p;

	for (p = region; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-')
			break;
	if (!*p && p - region <= 64)
		return 0;
	err_set("bad AWS region '%s' in %s", region, source);
	err_hint("a region looks like 'us-east-1'; 'aws ec2 describe-regions' lists them");
	return -1;
}

static int check_endpoint(const char *url, const char *source)
{
	if (!strncasecmp(url, "https://", 8) || !strncasecmp(url, "http://", 7))
		return 0;
	err_set("bad endpoint URL '%s' in %s: expected http:// or https://", url, source);
	return -1;
}

static int is_true(const char *v)
{
	return v && !strcasecmp(v, "true");
}

static int load_addressing(struct aws_settings *s, const char *v)
{
	if (!v || !*v || !strcmp(v, "auto"))
		s->s3_addressing = AWS_S3_AUTO;
	else if (!strcmp(v, "virtual"))
		s->s3_addressing = AWS_S3_VIRTUAL;
	else if (!strcmp(v, "path"))
		s->s3_addressing = AWS_S3_PATH;
	else
		return err_set("bad addressing_style '%s' in the s3 settings of the AWS profile "
			       "'%s': expected auto, virtual or path",
			       v, s->profile);
	return 0;
}

/* What the settings take from the profile: region, endpoint_url, S3 addressing. */
static int load_from_profile(struct aws_settings *s)
{
	struct aws_profile p;
	const char *v;
	int ret = -1;

	if (aws_profile_load(&p, s->config_file, s->credentials_file, s->profile))
		return -1;
	if (!s->region && (v = aws_profile_value(&p, "region")) && *v) {
		s->region = xstrdup(v);
		s->region_source = xstrfmt("profile '%s'", s->profile);
	}
	if ((v = aws_profile_value(&p, "endpoint_url")) && *v) {
		s->profile_endpoint = xstrdup(v);
		if (check_endpoint(v, "the AWS profile's endpoint_url"))
			goto out;
	}
	if (is_true(aws_profile_value(&p, "ignore_configured_endpoint_urls")))
		s->ignore_configured_endpoints = 1;
	if (load_addressing(s, aws_profile_value(&p, "s3.addressing_style")))
		goto out;
	ret = 0;
out:
	aws_profile_release(&p);
	return ret;
}

static int load_region(struct aws_settings *s, const struct config *cfg)
{
	static const char *const vars[] = { "AWS_REGION", "AWS_DEFAULT_REGION" };
	size_t i;

	if (train_setting(&s->region, cfg, "train.region"))
		return -1;
	if (s->region) {
		s->region_source = xstrdup("train.region");
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(vars); i++) {
		if (getenv_nonempty(vars[i])) {
			s->region = xstrdup(getenv_nonempty(vars[i]));
			s->region_source = xstrdup(vars[i]);
			return 0;
		}
	}
	return 0;
}

int aws_settings_load(struct aws_settings *out, const struct config *cfg)
{
	memset(out, 0, sizeof(*out));
	if (train_setting(&out->profile, cfg, "train.profile"))
		goto fail;
	if (out->profile) {
		out->profile_source = xstrdup("train.profile");
	} else if (getenv_nonempty("AWS_PROFILE")) {
		out->profile = xstrdup(getenv_nonempty("AWS_PROFILE"));
		out->profile_source = xstrdup("AWS_PROFILE");
	} else {
		out->profile = xstrdup("default");
	}
	out->config_file = shared_file("AWS_CONFIG_FILE", "config");
	out->credentials_file = shared_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
	out->ignore_configured_endpoints =
		is_true(getenv_nonempty("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"));
	if (train_setting(&out->train_endpoint, cfg, "train.endpointUrl") ||
	    (out->train_endpoint && check_endpoint(out->train_endpoint, "train.endpointUrl")) ||
	    (getenv_nonempty("AWS_ENDPOINT_URL") &&
	     check_endpoint(getenv_nonempty("AWS_ENDPOINT_URL"), "AWS_ENDPOINT_URL")))
		goto fail;
	if (load_region(out, cfg) || load_from_profile(out))
		goto fail;
	if (out->region && check_region(out->region, out->region_source))
		goto fail;
	return 0;
fail:
	aws_settings_release(out);
	return -1;
}

void aws_settings_release(struct aws_settings *s)
{
	free(s->profile);
	free(s->region);
	free(s->region_source);
	free(s->config_file);
	free(s->credentials_file);
	free(s->train_endpoint);
	free(s->profile_source);
	free(s->profile_endpoint);
	memset(s, 0, sizeof(*s));
}

static char *public_endpoint(const char *service, const char *region)
{
	/* The China partition has its own domain. */
	const char *domain = !strncmp(region, "cn-", 3) ? "amazonaws.com.cn" : "amazonaws.com";

	if (!strcmp(service, "iam"))
		return !strcmp(domain, "amazonaws.com")
			       ? xstrdup("https://iam.amazonaws.com")
			       : xstrfmt("https://iam.%s.%s", region, domain);
	if (!strcmp(service, "pricing"))
		return xstrdup("https://api.pricing.us-east-1.amazonaws.com");
	return xstrfmt("https://%s.%s.%s", service, region, domain);
}

/* The configured endpoint for service, in the AWS CLI's order; borrowed; NULL: none. */
static const char *configured_endpoint(const struct aws_settings *s, const char *service)
{
	struct buf var = BUF_INIT;
	const char *p, *v;

	buf_puts(&var, "AWS_ENDPOINT_URL_");
	for (p = service; *p; p++)
		buf_putc(&var, isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_');
	v = s->ignore_configured_endpoints ? NULL : getenv_nonempty(buf_cstr(&var));
	buf_release(&var);
	if (v)
		return v;
	if (s->train_endpoint)
		return s->train_endpoint;
	if (s->ignore_configured_endpoints)
		return NULL;
	return getenv_nonempty("AWS_ENDPOINT_URL") ? getenv_nonempty("AWS_ENDPOINT_URL")
						   : s->profile_endpoint;
}

char *aws_settings_endpoint_url(const struct aws_settings *s, const char *service,
				const char *region, int *out_custom)
{
	const char *url = configured_endpoint(s, service);
	size_t len;

	if (out_custom)
		*out_custom = url != NULL;
	if (!url)
		return public_endpoint(service, region	    ? region
						: s->region ? s->region
							    : "us-east-1");
	len = strlen(url);
	while (len && url[len - 1] == '/')
		len--;
	return xstrndup(url, len);
}

char *aws_settings_profile_value(const struct aws_settings *s, const char *key)
{
	struct aws_profile p;
	const char *v;
	char *ret;

	if (aws_profile_load(&p, s->config_file, s->credentials_file, s->profile)) {
		err_clear();
		return NULL;
	}
	v = aws_profile_value(&p, key);
	ret = v ? xstrdup(v) : NULL;
	aws_profile_release(&p);
	return ret;
}
