/* git train hooks: placeholder, being written. */
#include <stdio.h>

#include "builtin.h"
#include "util.h"

int cmd_hooks(int argc, const char **argv)
{
	(void)argc;
	(void)argv;
	msg_error("'git train hooks' is not written yet");
	return EXIT_FATAL;
}
