/* git train smoke: placeholder, being written. */
#include <stdio.h>

#include "builtin.h"
#include "util.h"

int cmd_smoke(int argc, const char **argv)
{
	(void)argc;
	(void)argv;
	msg_error("'git train smoke' is not written yet");
	return EXIT_FATAL;
}
