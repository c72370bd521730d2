#include "builtin.h"
#include "util.h"

int cmd_run(int argc, const char **argv)
{
	(void)argc;
	(void)argv;
	msg_error("not implemented yet");
	return EXIT_FATAL;
}
