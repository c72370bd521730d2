/* git train notes: placeholder, being written. */
#include <stdio.h>

#include "builtin.h"
#include "util.h"

int cmd_notes(int argc, const char **argv)
{
	(void)argc;
	(void)argv;
	msg_error("'git train notes' is not written yet");
	return EXIT_FATAL;
}
