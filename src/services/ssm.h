/*
 * ssm: the Systems Manager calls git-train makes (JSON protocol,
 * X-Amz-Target AmazonSSM.<Action>).
 *
 * SSM facts that shape this (DESIGN.md §7): right after SendCommand,
 * GetCommandInvocation can answer InvocationDoesNotExist for a few seconds;
 * its output is capped at 24,000 characters and only complete once the
 * command ends; a command lives at most 48 h. So the command only starts the
 * runner, detached, and everything else goes through S3.
 */
#ifndef SERVICES_SSM_H
#define SERVICES_SSM_H

#include "aws/client.h"
#include "util/strvec.h"

/*
 * DescribeInstanceInformation filtered on instance_id: *out_online is 1 when
 * its PingStatus is Online; *out_ping (caller frees, may be NULL) is the
 * status seen, NULL when SSM does not know the instance yet. 0, or -1.
 */
int ssm_instance_online(int *out_online, char **out_ping, struct aws_client *c,
			const char *instance_id);

/*
 * SendCommand with AWS-RunShellScript on one instance: script is the whole
 * shell script (one "commands" entry), timeout_seconds its
 * executionTimeout. *out is the command id (caller frees). 0, or -1.
 */
int ssm_send_shell(char **out, struct aws_client *c, const char *instance_id, const char *script,
		   int timeout_seconds, const char *comment);

struct ssm_invocation {
	char *status;  /* Pending, InProgress, Delayed, Success, Cancelled, TimedOut, Failed, ... */
	int exit_code; /* ResponseCode; -1 while running */
	char *stdout_text; /* StandardOutputContent (at most 24,000 chars) */
	char *stderr_text;
};

/* GetCommandInvocation. 0, 1 while SSM still says InvocationDoesNotExist, or -1. */
int ssm_get_invocation(struct ssm_invocation *out, struct aws_client *c, const char *command_id,
		       const char *instance_id);
void ssm_invocation_release(struct ssm_invocation *inv);

/*
 * GetParametersByPath, Recursive, every page: the names and values of the
 * parameters under path (public ones too: /aws/service/...), appended to
 * out_names and out_values in the same order. 0, or -1 with err_set.
 */
int ssm_parameters_by_path(struct strvec *out_names, struct strvec *out_values,
			   struct aws_client *c, const char *path);

#endif
