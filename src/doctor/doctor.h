/*
 * doctor: is this account ready to train, checked before a cent is spent.
 *
 * doctor_run() checks, in this order: credentials (sts:GetCallerIdentity),
 * region, train.bucket set, the bucket exists, is in the region and is
 * writable (a tiny object is put and deleted under train.prefix),
 * train.instanceProfile set and existing with a role, that role can use SSM
 * and reach the bucket (from its attached and inline policies), the image
 * resolves (train.image, else the type's default: the newest PyTorch Deep
 * Learning AMI for types with NVIDIA GPUs, else AL2023's public SSM
 * parameter; arm64 for Graviton types), and the
 * instance type (train.instanceType, default t3.micro) exists and is offered
 * in the region, and its vCPUs fit the EC2 vCPU quota of its family (Service
 * Quotas GetServiceQuota): the spot one, or the on-demand one when
 * train.spot is false; a failure names the quota and how to raise it. A check whose prerequisite
 * failed is skipped, never passed. Every failure carries the fix: a command to run where there is
 * one. A check that passes with a risk (a role that may read every Parameter Store value, or
 * overwrite other commits' code) is a warning, with its fix.
 *
 * The instance type comes from cfg; a command that takes one on its command
 * line passes it as `git -c train.instanceType=<type>` would (a config param).
 *
 * Reports where every check passed are kept for DOCTOR_CACHE_SECONDS in
 * <git dir>/train/doctor.json, keyed by a hash of the settings that decide
 * the answers (never by a secret); any failure removes it. With
 * DOCTOR_USE_CACHE a fresh, matching, passing report is returned without a
 * request. The cache is an optimisation: when it cannot be read or written,
 * the checks simply run.
 */
#ifndef DOCTOR_DOCTOR_H
#define DOCTOR_DOCTOR_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "aws/client.h"
#include "git/config.h"

#define DOCTOR_CACHE_SECONDS	     600
#define DOCTOR_DEFAULT_INSTANCE_TYPE "t3.micro"

enum doctor_state {
	DOCTOR_OK,
	DOCTOR_FAILED,
	DOCTOR_SKIPPED,
	DOCTOR_WARNING /* passes, but something is risky: detail says what, fix how to do better */
};

struct doctor_check {
	char *name; /* "credentials", "bucket exists", ... */
	enum doctor_state state;
	char *detail; /* what was found, why it failed, or why it was skipped */
	char *fix; /* failures and warnings: what to do, one or more lines; NULL if nothing helps */
};

struct doctor_report {
	struct doctor_check *checks;
	size_t nr;
	int from_cache;
};

enum {
	DOCTOR_USE_CACHE = 1 << 0,
};

/*
 * Runs the checks with client c (which must have been set up from cfg).
 * A failing check is a result, not an error: 0 whenever the checks ran,
 * -1 with err_set only when they could not (a malformed setting).
 */
int doctor_run(struct doctor_report *out, struct aws_client *c, const struct config *cfg,
	       unsigned flags);
/* True when every check passed (a warning passes). */
int doctor_report_ok(const struct doctor_report *r);
void doctor_report_release(struct doctor_report *r);

/*
 * [{"check", "ok", "skipped", "warning", "detail", "fix"}, ...]; a warning
 * is ok. Caller cJSON_Deletes.
 */
cJSON *doctor_report_json(const struct doctor_report *r);

#endif
