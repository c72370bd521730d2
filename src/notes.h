/*
 * notes: the run history in refs/notes/train, one line per run.
 *
 * Appending is compare-and-swap on the notes ref: build the new notes commit
 * on the ref's current tip, move the ref only if it still points there, else
 * re-read and retry. Concurrent runs never lose a line.
 */
#ifndef NOTES_H
#define NOTES_H

#include <git2.h>

#define NOTES_REF "refs/notes/train"

/* Appends line (no newline) to the note on commit. 0, or -1 with err_set. */
int notes_append(git_repository *repo, const git_oid *commit, const char *line);

/* The whole note on commit: 0 with *out (caller frees), 1 when there is none, -1 on error. */
int notes_read(char **out, git_repository *repo, const git_oid *commit);

#endif
