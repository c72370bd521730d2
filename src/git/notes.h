/*
 * notes: the run history in refs/notes/train, one line per run.
 *
 * Appending is compare-and-swap on the notes ref: build the new notes commit
 * on the ref's current tip, move the ref only if it still points there, else
 * re-read and retry. Concurrent runs never lose a line.
 */
#ifndef GIT_NOTES_H
#define GIT_NOTES_H

#include <git2.h>

#define NOTES_REF "refs/notes/train"

/* Appends line (no newline) to the note on commit. 0, or -1 with err_set. */
int notes_append(git_repository *repo, const git_oid *commit, const char *line);

/*
 * Replaces the lines of run run_id (those starting with "<run_id> ") in the
 * note on commit with line (no newline), appended where they were not: a
 * run tried again (git train resume) has one line, its last outcome. 0, or
 * -1 with err_set.
 */
int notes_replace_run(git_repository *repo, const git_oid *commit, const char *run_id,
		      const char *line);

/*
 * Builds the next notes commit: gets the current tip (NULL when there are no
 * notes yet) and returns 0 with *out the new tip, 1 to leave the ref alone,
 * -1 with err_set. It may be called again when another writer got there first.
 */
typedef int (*notes_update_fn)(git_oid *out, git_repository *repo, git_commit *tip,
			       const git_signature *sig, void *payload);

/*
 * Moves refs/notes/train to what fn builds on its tip, compare-and-swap,
 * retrying while other writers get there first. 0 moved, 1 fn left it alone,
 * -1 with err_set.
 */
int notes_update(git_repository *repo, notes_update_fn fn, void *payload, const char *reflog);

/* Who writes notes commits: the committer from the environment, user.*, else "git-train". */
int notes_signature(git_signature **out, git_repository *repo);

/* The whole note on commit: 0 with *out (caller frees), 1 when there is none, -1 on error. */
int notes_read(char **out, git_repository *repo, const git_oid *commit);

/*
 * Every note at once, for reading the notes of many commits (git train log):
 * one walk of the notes tree instead of a lookup per commit.
 */
struct notes_entry {
	git_oid commit;
	git_oid blob;
};

struct notes_index {
	struct notes_entry *entries; /* sorted by commit */
	size_t nr;
};

/* 0 (an empty index when there are no notes yet), or -1 with err_set. */
int notes_index_load(struct notes_index *out, git_repository *repo);
/* The notes of one notes commit (any notes ref's tip). 0, or -1 with err_set. */
int notes_index_load_commit(struct notes_index *out, git_commit *notes);
/* Like notes_read(), looking the commit up in the index. */
int notes_index_read(char **out, git_repository *repo, const struct notes_index *idx,
		     const git_oid *commit);
void notes_index_release(struct notes_index *idx);

#endif
