/*
 * test-tool: one helper binary for the shell tests, with a subcommand per
 * module it drives (as git's t/helper/test-tool). Built by `make check`,
 * never installed. Each subcommand gets its own name as argv[0] and returns
 * the exit code.
 */
#ifndef TEST_TOOL_H
#define TEST_TOOL_H

int cmd__ec2(int argc, char **argv);
int cmd__launch(int argc, char **argv);
int cmd__runner(int argc, char **argv);

#endif
