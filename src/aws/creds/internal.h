/*
 * aws/creds/internal: the credential providers behind aws_creds_resolve(),
 * for creds.c (the chain), process.c (credential_process and the JSON that
 * several sources share), assume-role.c (STS AssumeRole and its cache) and
 * imds.c (the EC2 instance role). Not for other modules: they use creds.h.
 *
 * Providers return 0 with *out filled, or -1 with err_set; a source that is
 * simply absent is the chain's business, not theirs, except for IMDS, which
 * returns 1 and says why in *why_not.
 */
#ifndef AWS_CREDS_INTERNAL_H
#define AWS_CREDS_INTERNAL_H

#include <cjson/cJSON.h>
#include <time.h>

#include "aws/creds/creds.h"
#include "util/util.h"

/* Temporary credentials are not used when they expire within this many seconds. */
#define AWS_CREDS_MIN_LIFETIME 300

/* Fills out from copies of the strings; takes source (allocated). */
void aws_creds_fill(struct aws_credentials *out, const char *access_key_id,
		    const char *secret_access_key, const char *session_token, time_t expiration,
		    char *source);

/* Overwrites every string in a cJSON tree (before cJSON_Delete). */
void aws_creds_wipe_json(cJSON *item);

/*
 * Credentials from a JSON object with AccessKeyId, SecretAccessKey, the
 * session token under token_key, and Expiration (absent: no expiry). what
 * names the source in messages; source is taken (allocated) for out.
 * 0, or -1 with err_set (never quoting a value).
 */
int aws_creds_from_json(struct aws_credentials *out, const cJSON *obj, const char *token_key,
			const char *what, char *source);

/* Runs command through /bin/sh -c and parses its JSON output. 0, or -1 with err_set. */
int aws_creds_from_process(struct aws_credentials *out, const char *command, const char *profile);

/*
 * STS AssumeRole of role_arn in profile (whose settings give the session
 * name, duration and external id), signed with source, through sts; the
 * result is cached on disk until shortly before it expires. 0, or -1 with err_set.
 */
struct aws_profile;
int aws_creds_assume_role(struct aws_credentials *out, const struct aws_sts *sts,
			  const struct aws_settings *s, const struct aws_profile *profile,
			  const struct aws_credentials *source);

/*
 * The EC2 instance role through IMDSv2. 0 with *out; 1 when there is none
 * (disabled, not on EC2, no role), with the reason appended to why_not;
 * -1 with err_set when the metadata service answered nonsense.
 */
int aws_creds_from_imds(struct aws_credentials *out, struct buf *why_not);

#endif
