/*
 * aws-checks: the small, mostly read-only AWS calls that `git train doctor`
 * makes to see whether an account is ready, each one request (or one
 * paginated listing) on aws_send()/aws_query()/aws_json().
 *
 * Every function returns 0 on success and -1 with err_set() ("<Code>:
 * <Message> (request id ...)") on failure. Where a caller must tell "it does
 * not exist" apart from "the call failed", the header says which positive
 * value means that; err_msg() then holds the service's message.
 * Strings and strvecs given back are the caller's.
 */
#ifndef SERVICES_AWS_CHECKS_H
#define SERVICES_AWS_CHECKS_H

#include <stddef.h>

#include "aws/client.h"
#include "util/strvec.h"

/* sts:GetCallerIdentity. */
struct aws_identity {
	char *account;
	char *arn;
	char *error_code; /* on failure: the AWS error code, NULL if there was none */
};

int aws_checks_identity(struct aws_identity *out, struct aws_client *c);
void aws_checks_identity_release(struct aws_identity *id);

/* s3:ListBuckets: the names of the caller's buckets. */
int aws_checks_list_buckets(struct strvec *out, struct aws_client *c);

enum {
	AWS_CHECKS_NOT_FOUND = 1, /* 404, NoSuchEntity, ParameterNotFound, InvalidInstanceType */
	AWS_CHECKS_FORBIDDEN = 2, /* 403 on a request whose response has no body to say why */
};

/*
 * s3:HeadBucket. *out is the region S3 says the bucket is in
 * (x-amz-bucket-region), NULL if it did not say. 0, AWS_CHECKS_NOT_FOUND,
 * AWS_CHECKS_FORBIDDEN, or -1.
 */
int aws_checks_head_bucket(char **out, struct aws_client *c, const char *bucket);

/* s3:GetBucketLocation, normalised: "" and "EU" become us-east-1 and eu-west-1. */
int aws_checks_bucket_region(char **out, struct aws_client *c, const char *bucket);

/* s3:PutObject (private, server-side encrypted) and s3:DeleteObject. */
int aws_checks_put_object(struct aws_client *c, const char *bucket, const char *key,
			  const void *data, size_t len);
int aws_checks_delete_object(struct aws_client *c, const char *bucket, const char *key);

/*
 * iam:GetInstanceProfile: the names of the profile's roles (none is possible).
 * 0, AWS_CHECKS_NOT_FOUND, or -1.
 */
int aws_checks_instance_profile_roles(struct strvec *out, struct aws_client *c,
				      const char *profile);

/* iam:ListAttachedRolePolicies: the ARNs of the managed policies attached to role. */
int aws_checks_attached_policies(struct strvec *out, struct aws_client *c, const char *role);
/* iam:ListRolePolicies: the names of role's inline policies. */
int aws_checks_inline_policies(struct strvec *out, struct aws_client *c, const char *role);
/* iam:GetRolePolicy: an inline policy's document, as IAM returns it (URL-encoded). */
int aws_checks_role_policy(char **out, struct aws_client *c, const char *role, const char *name);
/* iam:GetPolicy + iam:GetPolicyVersion: a managed policy's default version's document. */
int aws_checks_policy_document(char **out, struct aws_client *c, const char *policy_arn);

/* ssm:GetParameter. 0, AWS_CHECKS_NOT_FOUND, or -1. */
int aws_checks_ssm_parameter(char **out, struct aws_client *c, const char *name);

/*
 * ec2:DescribeInstanceTypes for one type: its architectures ("x86_64",
 * "arm64", ...). 0, AWS_CHECKS_NOT_FOUND (an unknown type), or -1.
 */
int aws_checks_instance_type(struct strvec *out, struct aws_client *c, const char *type);

/* ec2:DescribeInstanceTypes for one type: what git-train needs of it. */
struct aws_instance_type {
	struct strvec archs; /* "x86_64", "arm64", ... */
	int vcpus;	     /* VCpuInfo.DefaultVCpus; 0: not said */
	int gpus;	     /* NVIDIA GPUs (GpuInfo); 0: none */
	char *gpu_name;	     /* the first NVIDIA GPU's ("A10G"); NULL: none */
	int gpu_mib;	     /* its memory */
};

/* 0, AWS_CHECKS_NOT_FOUND (an unknown type), or -1. */
int aws_checks_instance_type_info(struct aws_instance_type *out, struct aws_client *c,
				  const char *type);
void aws_instance_type_release(struct aws_instance_type *t);
/* The architecture of its AMIs: x86_64 when it runs it, else arm64 (Graviton); borrowed. */
const char *aws_instance_type_arch(const struct aws_instance_type *t);

/*
 * ec2:DescribeInstanceTypeOfferings in the client's region: with type, *out
 * holds it when it is offered and is empty when not; with type NULL, every
 * type offered.
 */
int aws_checks_offered_types(struct strvec *out, struct aws_client *c, const char *type);

#endif
