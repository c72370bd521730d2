/*
 * iam-policy: whether a role's identity policies allow an action on a
 * resource, decided from the policy documents alone (no I/O).
 *
 * This is the part of IAM's evaluation that a client can see: an explicit
 * Deny wins, otherwise any Allow, otherwise nothing is allowed. Action,
 * NotAction, Resource and NotResource are matched with IAM's wildcards ('*'
 * and '?'; actions case-insensitively). Conditions cannot be evaluated here,
 * so an Allow with a Condition counts and a Deny with one does not: the
 * answer errs towards "allowed", so that a doctor never reports a working
 * setup as broken. Permission boundaries, SCPs and resource policies are
 * not seen.
 */
#ifndef SERVICES_IAM_POLICY_H
#define SERVICES_IAM_POLICY_H

#include <stddef.h>

#include <cjson/cJSON.h>

enum iam_decision {
	IAM_IMPLICIT_DENY = 0, /* no statement allows it */
	IAM_ALLOW = 1,
	IAM_EXPLICIT_DENY = 2,
};

/*
 * Parses a policy document as IAM returns it: URL-encoded (RFC 3986) by the
 * real service, plain JSON by some emulators; both are accepted.
 * *out is the caller's (cJSON_Delete). 0, or -1 with err_set.
 */
int iam_policy_parse(cJSON **out, const char *text);

/* The decision of all the documents together for one action on one resource. */
enum iam_decision iam_policy_decide(const cJSON *const *docs, size_t nr, const char *action,
				    const char *resource);

/* IAM's wildcard match: '*' any run of characters, '?' one character. */
int iam_policy_match(const char *pattern, const char *s, int ignore_case);

#endif
