/*
 * aws-config: where AWS requests go and who makes them, resolved like the AWS
 * CLI does, so that a user's existing setup just works.
 *
 * Settings: profile (train.profile, else AWS_PROFILE, else "default"), region
 * (train.region, AWS_REGION, AWS_DEFAULT_REGION, then the profile's `region`),
 * endpoints (AWS_ENDPOINT_URL_<SERVICE>, then train.endpointUrl, then
 * AWS_ENDPOINT_URL, else the public https://<service>.<region>.amazonaws.com;
 * pricing always signs for us-east-1), shared files (AWS_CONFIG_FILE,
 * AWS_SHARED_CREDENTIALS_FILE, defaults under ~/.aws/).
 *
 * Credentials, in the CLI's order: environment (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); the profile from the
 * credentials and config files (aws_access_key_id, ...), its
 * credential_process, or role_arn + source_profile (STS AssumeRole, cached
 * under .git/train/ or ~/.cache until shortly before they expire); the EC2
 * instance role through IMDSv2 (AWS_EC2_METADATA_SERVICE_ENDPOINT, default
 * http://169.254.169.254; AWS_EC2_METADATA_DISABLED=true turns it off).
 * When nothing is found the error names every source tried and the fix
 * ("aws configure", "AWS_PROFILE=...").
 *
 * Secrets are never printed; aws_credentials_release() wipes them.
 */
#ifndef AWS_CONFIG_H
#define AWS_CONFIG_H

#include <time.h>

#include "config.h"

struct aws_client;

struct aws_credentials {
	char *access_key_id;
	char *secret_access_key;
	char *session_token; /* NULL for long-term keys */
	time_t expiration;   /* 0: does not expire */
	char *source;        /* for messages: "environment", "profile 'dev'", ... */
};

struct aws_settings {
	char *profile;      /* never NULL */
	char *region;       /* NULL when none is configured */
	char *region_source;
	char *config_file;  /* ~/.aws/config or AWS_CONFIG_FILE */
	char *credentials_file;
	char *train_endpoint; /* train.endpointUrl, NULL if unset */
};

/* Reads the settings (cfg may be NULL: environment and files only). 0, or -1 with err_set. */
int aws_settings_load(struct aws_settings *out, const struct config *cfg);
void aws_settings_release(struct aws_settings *s);

/*
 * The endpoint URL (no trailing slash) for service ("s3", "ec2", "ssm", "sts",
 * "iam", "pricing"), and whether it is a custom one (then S3 uses path-style
 * addressing). Caller frees.
 */
char *aws_endpoint_url(const struct aws_settings *s, const char *service, const char *region,
		       int *out_custom);

/*
 * Resolves credentials. client is used for the STS and IMDS calls that some
 * sources need (it must have been set up with these settings).
 * 0, or -1 with err_set naming the sources tried and the fix.
 */
int aws_credentials_resolve(struct aws_credentials *out, struct aws_client *client,
			    const struct aws_settings *s);
void aws_credentials_release(struct aws_credentials *c);

/* A profile value from the config/credentials files; caller frees; NULL if unset. */
char *aws_profile_get(const struct aws_settings *s, const char *key);

#endif
