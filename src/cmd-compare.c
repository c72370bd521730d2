/* git train compare: placeholder, being written. */
#include <stdio.h>

#include "builtin.h"
#include "util.h"

int cmd_compare(int argc, const char **argv)
{
	(void)argc;
	(void)argv;
	msg_error("'git train compare' is not written yet");
	return EXIT_FATAL;
}
