/*
 * aws-profile: one profile of the AWS CLI's shared files, read the way
 * botocore reads them (Python's configparser), so that what `aws` sees is
 * what git-train sees.
 *
 * - The config file names profiles `[default]` and `[profile NAME]` (other
 *   sections such as `[sso-session x]` or `[services x]` are not profiles);
 *   the credentials file names them `[NAME]`.
 * - Whole-line comments start with '#' or ';'. Keys are lower-cased; keys and
 *   values are trimmed; '=' or ':' separates them.
 * - An indented line continues the value above it. Under an empty value it is
 *   a nested setting (`s3 =` then `  max_concurrent_requests = 10`), kept as
 *   "s3.max_concurrent_requests".
 * - A key set in the credentials file wins over the same key in the config
 *   file, as in botocore.
 *
 * Values may be secrets: aws_profile_release() wipes them.
 */
#ifndef AWS_CREDS_PROFILE_H
#define AWS_CREDS_PROFILE_H

#include <stddef.h>

#include "util/strvec.h"

struct aws_config_entry {
	char *key;
	char *value;
};

/* One profile's settings from one file. */
struct aws_profile_section {
	struct aws_config_entry *v;
	size_t nr, alloc;
	int found; /* the file has a section for the profile (maybe empty) */
};

struct aws_profile {
	char *name;
	struct aws_profile_section credentials; /* from the credentials file */
	struct aws_profile_section config;	/* from the config file */
	struct strvec names; /* every profile either file defines, for suggestions */
};

/*
 * Collects profile name's settings from INI text (file names it in messages;
 * is_config: config-file section names). Values of a repeated key replace
 * earlier ones. Every profile name seen is added to names (if not NULL).
 * 0, or -1 with err_set on a line that is neither a section, a setting nor
 * a comment (the message never quotes the line: it may hold a secret).
 */
int aws_profile_parse(struct aws_profile_section *out, struct strvec *names, const char *text,
		      const char *file, int is_config, const char *name);

/*
 * Reads profile name from both files; a file that does not exist is empty.
 * Either path may be NULL. 0, or -1 with err_set.
 */
int aws_profile_load(struct aws_profile *out, const char *config_file, const char *credentials_file,
		     const char *name);
void aws_profile_release(struct aws_profile *p);

/* The profile has a section in either file. */
int aws_profile_exists(const struct aws_profile *p);

/* key's value, the credentials file's first; borrowed; NULL if unset. */
const char *aws_profile_value(const struct aws_profile *p, const char *key);
/* key's value in one file's section; borrowed; NULL if unset. */
const char *aws_profile_section_value(const struct aws_profile_section *s, const char *key);

#endif
