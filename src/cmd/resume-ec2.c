/*
 * git train resume of a run on EC2: a placeholder until the follow side's
 * cmd_resume_ec2() is merged.
 */
#include "cmd/builtin.h"
#include "util/util.h"

int cmd_resume_ec2(int argc, const char **argv)
{
	(void)argc;
	(void)argv;
	msg_error("git train resume of a run on EC2: not in this build");
	return EXIT_FAILED;
}
