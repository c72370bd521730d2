/*
 * doctor-internal: what the doctor's source files share; not for other modules.
 *
 * doctor.c runs the checks in order and owns the report; doctor-role.c checks
 * the instance profile and its role's policies; doctor-ec2.c the AMI, the
 * instance type and its vCPU quota; doctor-cache.c keeps passing reports for a few minutes;
 * inputs.c the data and secrets a run brings in.
 */
#ifndef DOCTOR_INTERNAL_H
#define DOCTOR_INTERNAL_H

#include "doctor/doctor.h"
#include "git/inputs.h"
#include "services/secrets.h"
#include "util/util.h"

/* The settings the checks read, and what earlier checks learned. */
struct doctor_ctx {
	struct doctor_report *report;
	struct aws_client *client;
	char *bucket;	     /* train.bucket, NULL if unset */
	char *prefix;	     /* train.prefix, default "git-train", no slashes around it */
	char *profile;	     /* train.instanceProfile, NULL if unset */
	char *instance_type; /* train.instanceType, default t3.micro */
	const char *region;  /* the client's, NULL if none */
	char *partition;     /* "aws", or the caller's from its ARN ("aws-cn", ...) */
	char *caller_arn;
	char *account;
	char *role; /* the profile's role once found */
	int profile_found;
	int have_creds;
	int bucket_usable; /* set and exists: the role can be checked against it */
	int on_demand;	   /* train.spot false: the on-demand vCPU quota is the one that counts */
	int persistent;	   /* spot and train.maxInterruptions > 0: the role cancels its request */
	char *image;	   /* train.image, else train.ami; NULL: the type's default */
	int nodes;	   /* train.nodes: instances of the type a launch starts at once */
	struct run_inputs inputs;	  /* train.data, train.secret (and train.env) */
	struct secrets_info *secret_info; /* per inputs.secrets, once described (inputs.c) */
};

/* Appends a result. detail and fix are taken over (may be NULL). */
void doctor_add(struct doctor_ctx *x, const char *name, enum doctor_state state, char *detail,
		char *fix);
/* Appends a skipped check: "skipped (<why>)". */
void doctor_skip(struct doctor_ctx *x, const char *name, const char *why);

void doctor_check_instance_profile(struct doctor_ctx *x);
void doctor_check_role(struct doctor_ctx *x);
void doctor_check_ami_and_type(struct doctor_ctx *x);

/*
 * inputs.c, only when train.data or train.secret is set: "data" (each
 * source can be listed with the user's credentials and is not empty),
 * "secrets" (each exists: described, never read), and from the role's
 * policies (role.c) "role data access" (s3:ListBucket on the bucket,
 * s3:GetObject on its prefix) and "role secret access" (ssm:GetParameter
 * or secretsmanager:GetSecretValue on each, kms:Decrypt on a customer
 * managed key when the secret names one).
 */
void doctor_check_inputs(struct doctor_ctx *x);
void doctor_check_inputs_access(struct doctor_ctx *x, const cJSON *const *docs, size_t nr);
/* Skips the role's input checks (that are due) with why. */
void doctor_skip_inputs_access(struct doctor_ctx *x, const char *why);

/* The cache key of these settings: a lower-case hex SHA-256. Caller frees. */
char *doctor_cache_key(const struct doctor_ctx *x);
/* 0 with *out filled from a fresh cache entry for key, 1 when there is none. */
int doctor_cache_load(struct doctor_report *out, const char *key);
/* Stores a passing report under key, or removes the entry for a failing one. */
void doctor_cache_store(const struct doctor_report *r, const char *key);

#endif
