/*
 * test-tool <subcommand> [<args>...]: see test-tool.h.
 *
 *   ec2      the ec2 and pricing modules (tests/t0550-ec2.sh)
 *   launch   launch_instance() (tests/t0560-launch.sh)
 *   runner   runner_command(), printed or sent (tests/t0600-runner.sh)
 */
#include <git2.h>
#include <stdio.h>
#include <string.h>

#include "test-tool.h"
#include "util/util.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} tools[] = {
	{ "ec2", cmd__ec2 },
	{ "launch", cmd__launch },
	{ "runner", cmd__runner },
};

int main(int argc, char **argv)
{
	size_t i;
	int ret;

	if (argc >= 2) {
		for (i = 0; i < ARRAY_SIZE(tools); i++) {
			if (strcmp(argv[1], tools[i].name))
				continue;
			git_libgit2_init();
			ret = tools[i].fn(argc - 1, argv + 1);
			git_libgit2_shutdown();
			return ret;
		}
	}
	fputs("usage: test-tool <subcommand> [<args>...]\nsubcommands:", stderr);
	for (i = 0; i < ARRAY_SIZE(tools); i++)
		fprintf(stderr, " %s", tools[i].name);
	fputc('\n', stderr);
	return 129;
}
