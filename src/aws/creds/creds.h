/*
 * aws/creds/creds: who makes AWS requests: the credential chain.
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
 * Secrets are never printed nor put in messages; aws_creds_release()
 * wipes them.
 *
 * The providers of the chain are in creds.c (the chain and the
 * environment), process.c (credential_process and the JSON several sources
 * share), assume-role.c (STS AssumeRole and its cache) and imds.c (the EC2
 * instance role); internal.h is what they share.
 */
#ifndef AWS_CREDS_CREDS_H
#define AWS_CREDS_CREDS_H

#include <time.h>

#include "aws/creds/settings.h"
#include "util/util.h"

struct aws_credentials {
	char *access_key_id;
	char *secret_access_key;
	char *session_token; /* NULL for long-term keys */
	time_t expiration;   /* 0: does not expire */
	/* For messages, never a secret: "environment", "profile 'dev' in '<file>'", ... */
	char *source;
};

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
int aws_creds_resolve(struct aws_credentials *out, const struct aws_sts *sts,
		      const struct aws_settings *s);
void aws_creds_release(struct aws_credentials *c);

#endif
