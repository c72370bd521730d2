#include "builtin.h"
#include "util.h"

int cmd_log(int argc, const char **argv)
{
	msg_error("'git train log' is not implemented yet");
	return EXIT_FATAL;
}
