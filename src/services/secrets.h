/*
 * secrets: the values that train.secret names by reference, and whether
 * they exist, through Parameter Store (SecureString, GetParameter with
 * decryption) and Secrets Manager (GetSecretValue's SecretString).
 *
 * A value fetched here is the caller's to hand to a child's environment and
 * to zero (secret_free()); nothing in this module prints, logs or keeps it,
 * and its error messages name the reference, never a value. The checks
 * (DescribeParameters, DescribeSecret) never read a value.
 */
#ifndef SERVICES_SECRETS_H
#define SERVICES_SECRETS_H

#include "aws/client.h"

enum secrets_kind {
	SECRETS_SSM,	/* "ssm:<parameter name or ARN>" */
	SECRETS_MANAGER /* "secretsmanager:<secret name or ARN>" */
};

/* "ssm" or "secretsmanager", as the references spell it. */
const char *secrets_kind_name(enum secrets_kind kind);

/*
 * The secret's value into *out (caller frees with secret_free()).
 * 0, 1 when it does not exist (err_set all the same), or -1 with err_set.
 */
int secrets_get(char **out, struct aws_client *c, enum secrets_kind kind, const char *ref);

struct secrets_info {
	char *arn;    /* the secret's or parameter's ARN; NULL when not known */
	char *key_id; /* the KMS key that encrypts it, as described; NULL when not known */
};

/*
 * Whether the secret exists, without reading its value: DescribeParameters
 * (by name) or DescribeSecret. 0 with *out filled (release it), 1 when it
 * does not exist, -1 with err_set.
 */
int secrets_describe(struct secrets_info *out, struct aws_client *c, enum secrets_kind kind,
		     const char *ref);
void secrets_info_release(struct secrets_info *info);

#endif
