/*
 * shell: words for a POSIX shell that arrive byte for byte, and back.
 *
 * The text goes into an SSM command, which is a JSON string, so it must be
 * valid UTF-8: valid UTF-8 (and ASCII, newlines included) is single-quoted
 * ('it'\''s'), and each byte that is not valid UTF-8 is written as
 * "$(printf '\ooo')" next to the quoted parts, which POSIX sh joins into one
 * word. An empty string is ''. A NUL byte, which no shell word can hold, is
 * left out.
 */
#ifndef UTIL_SHELL_H
#define UTIL_SHELL_H

#include <stddef.h>

#include "util/strvec.h"
#include "util/util.h"

/* Appends s (len bytes) as one shell word. */
void shell_quote(struct buf *out, const char *s, size_t len);
/* Appends each argument as a word, separated by spaces. */
void shell_quote_argv(struct buf *out, const char *const *argv, int argc);

/*
 * The other direction, for a config value such as `--epochs 1 --name 'a b'`:
 * splits s into words at unquoted blanks (space, tab, newline), honouring
 * single quotes, double quotes (where a backslash escapes only $ ` " \ and
 * newline) and backslashes, as a POSIX shell would, but never expands
 * anything: $, `, ~, * and friends stay as they are. Appends the words to
 * out. 0, or -1 with err_set for an unterminated quote or a trailing
 * backslash (out then holds the words before it).
 */
int shell_split(struct strvec *out, const char *s);

#endif
