#include "builtin.h"
#include "util.h"

int cmd_local(int argc, const char **argv)
{
	msg_error("'git train local' is not implemented yet");
	return EXIT_FATAL;
}
