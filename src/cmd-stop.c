#include "builtin.h"
#include "util.h"

int cmd_stop(int argc, const char **argv)
{
	(void)argc;
	(void)argv;
	msg_error("not implemented yet");
	return EXIT_FATAL;
}
