/*
 * The credential chain, in botocore's order: environment; the profile's
 * role_arn (AssumeRole), its keys in the credentials file, its
 * credential_process, its keys in the config file; the EC2 instance role.
 * train.profile acts like the CLI's --profile: it skips the environment's keys.
 */
#include "aws/creds/internal.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/creds/profile.h"
#include "util/strvec.h"
#include "util/time.h"

/* Role chains longer than this are surely a mistake. */
#define MAX_ROLE_CHAIN 8

struct chain {
	const struct aws_sts *sts;
	const struct aws_settings *s;
	struct strvec visited; /* profiles on the way, for the loop guard */
	struct buf tried;      /* "hint" lines for the no-credentials error */
};

void aws_creds_fill(struct aws_credentials *out, const char *access_key_id,
		    const char *secret_access_key, const char *session_token, time_t expiration,
		    char *source)
{
	memset(out, 0, sizeof(*out));
	out->access_key_id = xstrdup(access_key_id);
	out->secret_access_key = xstrdup(secret_access_key);
	out->session_token = session_token && *session_token ? xstrdup(session_token) : NULL;
	out->expiration = expiration;
	out->source = source;
}

void aws_creds_release(struct aws_credentials *c)
{
	secret_free(c->access_key_id);
	secret_free(c->secret_access_key);
	secret_free(c->session_token);
	free(c->source);
	memset(c, 0, sizeof(*c));
}

/* 0 found, 1 not set, -1 (err_set) only one of the two keys is set. */
static int from_env(struct aws_credentials *out)
{
	const char *id = getenv_nonempty("AWS_ACCESS_KEY_ID"),
		   *secret = getenv_nonempty("AWS_SECRET_ACCESS_KEY");
	const char *token = getenv_nonempty("AWS_SESSION_TOKEN");
	time_t expiration = 0;

	if (!id && !secret)
		return 1;
	if (!id || !secret) {
		err_set("incomplete AWS credentials in the environment: %s is set but %s is not",
			id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
			id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
		err_hint("set both, or unset both to use a profile ('aws configure')");
		return -1;
	}
	if (!token)
		/* the older name, still honoured by the CLI */
		token = getenv_nonempty("AWS_SECURITY_TOKEN");
	if (getenv_nonempty("AWS_CREDENTIAL_EXPIRATION") &&
	    time_parse_iso8601(&expiration, getenv_nonempty("AWS_CREDENTIAL_EXPIRATION")))
		return err_set("bad AWS_CREDENTIAL_EXPIRATION '%s': expected a time like "
			       "2024-05-01T12:00:00Z",
			       getenv_nonempty("AWS_CREDENTIAL_EXPIRATION"));
	aws_creds_fill(out, id, secret, token, expiration, xstrdup("environment"));
	return 0;
}

/* 0 found, 1 none in this file, -1 (err_set) only one of the two keys. */
static int from_keys(struct aws_credentials *out, const struct aws_profile_section *sec,
		     const char *profile, const char *file)
{
	const char *id = aws_profile_section_value(sec, "aws_access_key_id");
	const char *secret = aws_profile_section_value(sec, "aws_secret_access_key");
	const char *token = aws_profile_section_value(sec, "aws_session_token");

	if (id && !*id)
		id = NULL;
	if (secret && !*secret)
		secret = NULL;
	if (!id && !secret)
		return 1;
	if (!id || !secret) {
		err_set("incomplete AWS credentials in profile '%s' in '%s': "
			"%s is set but %s is not",
			profile, file, id ? "aws_access_key_id" : "aws_secret_access_key",
			id ? "aws_secret_access_key" : "aws_access_key_id");
		err_hint("fix them with 'aws configure%s%s'",
			 strcmp(profile, "default") ? " --profile " : "",
			 strcmp(profile, "default") ? profile : "");
		return -1;
	}
	if (!token)
		token = aws_profile_section_value(sec, "aws_security_token");
	aws_creds_fill(out, id, secret, token, 0, xstrfmt("profile '%s' in '%s'", profile, file));
	return 0;
}

static int from_profile(struct aws_credentials *out, struct chain *ch, const struct aws_profile *p,
			int skip_role);

static int role_source_named(struct aws_credentials *out, struct chain *ch,
			     const struct aws_profile *p, const char *name)
{
	struct aws_profile src;
	size_t i;
	int r;

	/* A profile may name itself to assume a role with its own keys. */
	if (!strcmp(name, p->name)) {
		r = from_profile(out, ch, p, 1);
		if (r > 0)
			r = err_set("AWS profile '%s' is its own source_profile but has no keys",
				    p->name);
		return r;
	}
	for (i = 0; i < ch->visited.nr; i++) {
		if (!strcmp(ch->visited.v[i], name)) {
			err_set("AWS profile '%s' names '%s' as source_profile, which leads back to it",
				p->name, name);
			err_hint(
				"one profile in the chain needs its own keys or credential_source");
			return -1;
		}
	}
	if (ch->visited.nr >= MAX_ROLE_CHAIN)
		return err_set("AWS profile '%s': role chain longer than %d profiles", p->name,
			       MAX_ROLE_CHAIN);
	if (aws_profile_load(&src, ch->s->config_file, ch->s->credentials_file, name))
		return -1;
	if (!aws_profile_exists(&src)) {
		r = err_set("AWS profile '%s' names source_profile '%s', which does not exist",
			    p->name, name);
	} else {
		r = from_profile(out, ch, &src, 0);
		if (r > 0)
			r = err_set("AWS profile '%s' names source_profile '%s', which has no "
				    "credentials",
				    p->name, name);
	}
	aws_profile_release(&src);
	return r;
}

static int role_source(struct aws_credentials *out, struct chain *ch, const struct aws_profile *p)
{
	const char *name = aws_profile_value(p, "source_profile");
	const char *cs = aws_profile_value(p, "credential_source");
	struct buf why = BUF_INIT;
	int r;

	if (name && *name)
		return role_source_named(out, ch, p, name);
	if (!cs || !*cs) {
		err_set("AWS profile '%s' has role_arn but neither source_profile nor "
			"credential_source",
			p->name);
		err_hint("add 'source_profile = <profile with keys>' to it in '%s'",
			 ch->s->config_file ? ch->s->config_file : "~/.aws/config");
		return -1;
	}
	if (!strcasecmp(cs, "Environment")) {
		r = from_env(out);
		if (r > 0)
			r = err_set("AWS profile '%s' takes credentials from the environment, but "
				    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set",
				    p->name);
		return r;
	}
	if (!strcasecmp(cs, "Ec2InstanceMetadata")) {
		r = aws_creds_from_imds(out, &why);
		if (r > 0)
			r = err_set(
				"AWS profile '%s' takes credentials from the instance metadata: "
				"%s",
				p->name, buf_cstr(&why));
		buf_release(&why);
		return r;
	}
	return err_set("AWS profile '%s': credential_source '%s' is not supported by git-train "
		       "(Environment and Ec2InstanceMetadata are)",
		       p->name, cs);
}

static int from_role(struct aws_credentials *out, struct chain *ch, const struct aws_profile *p)
{
	struct aws_credentials source;
	int r;

	if (aws_profile_value(p, "mfa_serial")) {
		err_set("AWS profile '%s' needs an MFA code to assume its role, and git-train "
			"cannot ask for one",
			p->name);
		err_hint("export temporary credentials first, e.g. with "
			 "'eval \"$(aws configure export-credentials --profile %s --format env)\"'",
			 p->name);
		return -1;
	}
	if (aws_profile_value(p, "web_identity_token_file") &&
	    !aws_profile_value(p, "source_profile") && !aws_profile_value(p, "credential_source")) {
		err_set("AWS profile '%s' assumes its role with a web identity token, which "
			"git-train does not support",
			p->name);
		err_hint("export temporary credentials first, e.g. with "
			 "'eval \"$(aws configure export-credentials --profile %s --format env)\"'",
			 p->name);
		return -1;
	}
	memset(&source, 0, sizeof(source));
	strvec_push(&ch->visited, p->name);
	r = role_source(out, ch, p);
	if (r)
		return r;
	source = *out;
	memset(out, 0, sizeof(*out));
	r = aws_creds_assume_role(out, ch->sts, ch->s, p, &source);
	aws_creds_release(&source);
	return r;
}

/* 0 found, 1 nothing in this profile, -1 err_set. */
static int from_profile(struct aws_credentials *out, struct chain *ch, const struct aws_profile *p,
			int skip_role)
{
	const char *process = aws_profile_value(p, "credential_process");
	const char *role = aws_profile_value(p, "role_arn");
	int r;

	if (!skip_role && role && *role)
		return from_role(out, ch, p);
	r = from_keys(out, &p->credentials, p->name, ch->s->credentials_file);
	if (r <= 0)
		return r;
	if (process && *process)
		return aws_creds_from_process(out, process, p->name);
	return from_keys(out, &p->config, p->name, ch->s->config_file);
}

/* Why the profile gave nothing, for the hint; names what git-train cannot use. */
static void explain_profile(struct chain *ch, const struct aws_profile *p)
{
	buf_printf(&ch->tried, "tried profile '%s' in '%s' and '%s': ", p->name,
		   ch->s->credentials_file ? ch->s->credentials_file : "~/.aws/credentials",
		   ch->s->config_file ? ch->s->config_file : "~/.aws/config");
	if (!aws_profile_exists(p))
		buf_puts(&ch->tried, "no such profile\n");
	else if (aws_profile_value(p, "sso_session") || aws_profile_value(p, "sso_start_url"))
		buf_puts(&ch->tried,
			 "it uses AWS SSO, which git-train cannot log in to; export "
			 "credentials with 'aws configure export-credentials --format env'\n");
	else if (aws_profile_value(p, "web_identity_token_file"))
		buf_puts(&ch->tried, "web identity tokens are not supported\n");
	else
		buf_puts(&ch->tried, "no keys, credential_process or role_arn in it\n");
}

static int profile_not_found(const struct aws_settings *s, const struct aws_profile *p)
{
	const char *best = NULL;
	size_t i, d, best_d = 3;

	for (i = 0; i < p->names.nr; i++) {
		d = levenshtein(p->name, p->names.v[i]);
		if (d < best_d) {
			best_d = d;
			best = p->names.v[i];
		}
	}
	err_set("AWS profile '%s' (from %s) not found in '%s' or '%s'", p->name, s->profile_source,
		s->config_file ? s->config_file : "~/.aws/config",
		s->credentials_file ? s->credentials_file : "~/.aws/credentials");
	if (best)
		err_hint("did you mean '%s'?", best);
	err_hint("create it with 'aws configure --profile %s', or choose another with "
		 "AWS_PROFILE=<name> or 'git config train.profile <name>'",
		 p->name);
	return -1;
}

static int none_found(struct chain *ch)
{
	const char *h = buf_cstr(&ch->tried), *nl;

	err_set("no AWS credentials found");
	for (; *h; h = nl + 1) {
		nl = strchr(h, '\n');
		err_hint("%.*s", (int)(nl - h), h);
	}
	err_hint("set up credentials with 'aws configure', or choose a profile with "
		 "AWS_PROFILE=<name> or 'git config train.profile <name>'");
	return -1;
}

int aws_creds_resolve(struct aws_credentials *out, const struct aws_sts *sts,
		      const struct aws_settings *s)
{
	struct chain ch = { sts, s, STRVEC_INIT, BUF_INIT };
	struct aws_profile p;
	struct buf why = BUF_INIT;
	int r;

	memset(out, 0, sizeof(*out));
	if (aws_profile_load(&p, s->config_file, s->credentials_file, s->profile))
		return -1;
	if (s->profile_source && !aws_profile_exists(&p)) {
		r = profile_not_found(s, &p);
		goto out;
	}
	if (s->profile_source && !strcmp(s->profile_source, "train.profile")) {
		buf_puts(&ch.tried, "skipped the environment's keys: train.profile is set\n");
		r = 1;
	} else {
		r = from_env(out);
		if (r > 0)
			buf_puts(&ch.tried, "tried environment variables: AWS_ACCESS_KEY_ID and "
					    "AWS_SECRET_ACCESS_KEY are not set\n");
	}
	if (r > 0) {
		r = from_profile(out, &ch, &p, 0);
		if (r > 0)
			explain_profile(&ch, &p);
	}
	if (r > 0) {
		r = aws_creds_from_imds(out, &why);
		if (r > 0)
			buf_printf(&ch.tried, "tried the EC2 instance role: %s\n", buf_cstr(&why));
	}
	if (r > 0)
		r = none_found(&ch);
out:
	if (r)
		aws_creds_release(out);
	aws_profile_release(&p);
	strvec_clear(&ch.visited);
	buf_release(&ch.tried);
	buf_release(&why);
	return r;
}
