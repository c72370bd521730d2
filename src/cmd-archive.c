#include "builtin.h"
#include "util.h"

int cmd_archive(int argc, const char **argv)
{
	msg_error("'git train archive' is not implemented yet");
	return EXIT_FATAL;
}
