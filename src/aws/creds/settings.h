/*
 * aws/creds/settings: where AWS requests go, resolved like the AWS CLI does,
 * so that a user's existing setup just works. Who makes them: creds.h.
 *
 * Settings: profile (train.profile, else AWS_PROFILE, else "default"), region
 * (train.region, AWS_REGION, AWS_DEFAULT_REGION, then the profile's `region`),
 * endpoints (AWS_ENDPOINT_URL_<SERVICE>, then train.endpointUrl, then
 * AWS_ENDPOINT_URL, then the profile's `endpoint_url`, else the public
 * https://<service>.<region>.amazonaws.com; AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
 * or the profile's ignore_configured_endpoint_urls drop all but
 * train.endpointUrl; pricing always signs for us-east-1), shared files
 * (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, defaults under ~/.aws/; see
 * profile.h for how they are read).
 */
#ifndef AWS_CREDS_SETTINGS_H
#define AWS_CREDS_SETTINGS_H

#include <time.h>

#include "git/config.h"
#include "util/util.h"

/* The profile's s3.addressing_style, as botocore reads it. */
enum aws_s3_addressing {
	AWS_S3_AUTO,	/* virtual-hosted when the bucket allows, path-style on custom endpoints */
	AWS_S3_VIRTUAL, /* virtual-hosted when the bucket allows, custom endpoints too */
	AWS_S3_PATH,	/* always path-style */
};

struct aws_settings {
	char *profile; /* never NULL */
	char *region;  /* NULL when none is configured */
	char *region_source;
	char *config_file; /* ~/.aws/config or AWS_CONFIG_FILE */
	char *credentials_file;
	char *train_endpoint;		 /* train.endpointUrl, NULL if unset */
	char *profile_source;		 /* "train.profile", "AWS_PROFILE"; NULL: the default */
	char *profile_endpoint;		 /* the profile's endpoint_url, NULL if unset */
	int ignore_configured_endpoints; /* AWS_IGNORE_CONFIGURED_ENDPOINT_URLS */
	enum aws_s3_addressing s3_addressing;
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
char *aws_settings_endpoint_url(const struct aws_settings *s, const char *service,
				const char *region, int *out_custom);

/* A profile value from the config/credentials files; caller frees; NULL if unset. */
char *aws_settings_profile_value(const struct aws_settings *s, const char *key);

#endif
