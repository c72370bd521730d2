/*
 * aws-config: where AWS requests go and who makes them, resolved like the AWS
 * CLI does, so that a user's existing setup just works.
 *
 * Settings: profile (train.profile, else AWS_PROFILE, else "default"), region
 * (train.region, AWS_REGION, AWS_DEFAULT_REGION, then the profile's `region`),
 * endpoints (AWS_ENDPOINT_URL_<SERVICE>, then train.endpointUrl, then
 * AWS_ENDPOINT_URL, then the profile's `endpoint_url`, else the public
 * https://<service>.<region>.amazonaws.com; AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
 * or the profile's ignore_configured_endpoint_urls drop all but
 * train.endpointUrl; pricing always signs for us-east-1), shared files
 * (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, defaults under ~/.aws/; see
 * aws-profile.h for how they are read).
 *
 * Credentials, in botocore's order: environment (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN; skipped when train.profile is set,
 * as the CLI skips them for --profile); then the profile: its role_arn with
 * source_profile or credential_source (STS AssumeRole, cached in
 * $XDG_CACHE_HOME/git-train/ or ~/.cache/git-train/ until 5 minutes before
 * they expire), its keys in the credentials file, its credential_process,
 * its keys in the config file; then the EC2 instance role through IMDSv2
 * (AWS_EC2_METADATA_SERVICE_ENDPOINT, default http://169.254.169.254;
 * AWS_EC2_METADATA_DISABLED=true turns it off). A profile named by
 * train.profile or AWS_PROFILE that does not exist is an error of its own.
 * When nothing is found the error's hints name every source tried and the
 * fix ("aws configure", "AWS_PROFILE=...").
 *
 * Secrets are never printed nor put in messages; aws_credentials_release()
 * wipes them.
 */
#ifndef AWS_CREDS_CONFIG_H
#define AWS_CREDS_CONFIG_H

#include <time.h>

#include "git/config.h"
#include "util/util.h"

struct aws_credentials {
	char *access_key_id;
	char *secret_access_key;
	char *session_token; /* NULL for long-term keys */
	time_t expiration;   /* 0: does not expire */
	/* For messages, never a secret: "environment", "profile 'dev' in '<file>'", ... */
	char *source;
};

struct aws_settings {
	char *profile;      /* never NULL */
	char *region;       /* NULL when none is configured */
	char *region_source;
	char *config_file;  /* ~/.aws/config or AWS_CONFIG_FILE */
	char *credentials_file;
	char *train_endpoint; /* train.endpointUrl, NULL if unset */
	char *profile_source; /* "train.profile", "AWS_PROFILE"; NULL: the default */
	char *profile_endpoint; /* the profile's endpoint_url, NULL if unset */
	int ignore_configured_endpoints; /* AWS_IGNORE_CONFIGURED_ENDPOINT_URLS */
};

/* Reads the settings (cfg may be NULL: environment and files only). 0, or -1 with err_set. */
int aws_settings_load(struct aws_settings *out, const struct config *cfg);
void aws_settings_release(struct aws_settings *s);

/*
 * The endpoint URL (no trailing slash) for service ("s3", "ec2", "ssm", "sts",
 * "iam", "pricing") in region (NULL: the settings' region, else us-east-1),
 * and in *out_custom (may be NULL) whether it is a custom one (then S3 uses
 * path-style addressing). Caller frees.
 */
char *aws_endpoint_url(const struct aws_settings *s, const char *service, const char *region,
		       int *out_custom);

/*
 * The one signed call the chain needs and cannot make itself, since it sits
 * below the client: STS AssumeRole (Query protocol, version 2011-06-15) with
 * params ("RoleArn=...&RoleSessionName=...", already encoded) signed with
 * source. The client provides it (aws/client.c), sharing its connections and
 * clock offset. *out gets the response body (it holds secrets: the caller
 * wipes it). 0, or -1 with err_set.
 */
struct aws_sts {
	int (*assume_role)(struct buf *out, void *ctx, const struct aws_settings *s,
			   const struct aws_credentials *source, const char *params);
	void *ctx;
};

/*
 * Resolves credentials. sts makes the STS call of role profiles; it may be
 * NULL when no role is involved, or its credentials are cached. The instance
 * metadata is asked directly. 0, or -1 with err_set naming the sources tried
 * and the fix.
 */
int aws_credentials_resolve(struct aws_credentials *out, const struct aws_sts *sts,
			    const struct aws_settings *s);
void aws_credentials_release(struct aws_credentials *c);

/* A profile value from the config/credentials files; caller frees; NULL if unset. */
char *aws_profile_get(const struct aws_settings *s, const char *key);

#endif
