/*
 * strvec: a NULL-terminated, growable array of owned strings, for the argv
 * and envp of child processes.
 */
#ifndef UTIL_STRVEC_H
#define UTIL_STRVEC_H

#include <stddef.h>

struct strvec {
	char **v; /* NULL-terminated once anything was pushed */
	size_t nr, alloc;
};
#define STRVEC_INIT                                                                                \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void strvec_push(struct strvec *sv, const char *s);
/* Takes ownership of s. */
void strvec_push_nodup(struct strvec *sv, char *s);
void strvec_clear(struct strvec *sv);

#endif
