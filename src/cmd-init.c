/* git train init: placeholder, being written. */
#include <stdio.h>

#include "builtin.h"
#include "util.h"

int cmd_init(int argc, const char **argv)
{
	(void)argc;
	(void)argv;
	msg_error("'git train init' is not written yet");
	return EXIT_FATAL;
}
