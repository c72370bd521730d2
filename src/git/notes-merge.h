/*
 * notes-merge: brings another clone's run history (fetched into
 * refs/notes/remotes/<remote>/train) into refs/notes/train.
 *
 * The result is what `git notes merge -s cat_sort_uniq` gives: per commit,
 * a note only one side has is taken as it is, and where both sides have one
 * the result is the union of their lines, sorted, without duplicates or
 * empty lines. One side's note is kept byte for byte when it already holds
 * every line of the other. Lines git-train cannot parse are lines like any
 * other: kept, never dropped. Local notes are never overwritten: the ref
 * only fast-forwards or gets a merge commit with both tips as parents, and
 * it moves compare-and-swap like every other notes update.
 */
#ifndef GIT_NOTES_MERGE_H
#define GIT_NOTES_MERGE_H

#include <git2.h>

#include "util/util.h"

enum notes_merge_kind {
	NOTES_MERGE_UP_TO_DATE,	  /* theirs already part of ours: nothing written */
	NOTES_MERGE_FAST_FORWARD, /* ours part of theirs, or none: the ref moved to theirs */
	NOTES_MERGE_MERGED,	  /* a merge commit with both tips as parents */
};

struct notes_merge_result {
	enum notes_merge_kind kind;
	size_t new_lines; /* lines (runs) that were not in our notes before */
	size_t commits;	  /* commits whose note changed */
};

/*
 * Merges the notes commit theirs (named theirs_name in the merge commit's
 * message) into refs/notes/train. 0, or -1 with err_set.
 */
int notes_merge(struct notes_merge_result *out, git_repository *repo, const git_oid *theirs,
		const char *theirs_name);

/*
 * What merging to into from would bring: the lines of to's notes that are
 * not in from's, and how many commits' notes differ. from NULL: no notes.
 * 0, or -1 with err_set.
 */
int notes_merge_count(size_t *out_lines, size_t *out_commits, git_repository *repo,
		      const git_oid *from, const git_oid *to);

enum notes_merge_pick {
	NOTES_MERGE_OURS,   /* ours holds every line of theirs: keep it as it is */
	NOTES_MERGE_THEIRS, /* theirs holds every line of ours: take it as it is */
	NOTES_MERGE_UNION,  /* the sorted union of both is in out */
};

/*
 * One commit's note when both sides have one. *out_new gets the number of
 * lines of theirs that ours lacks.
 */
enum notes_merge_pick notes_merge_text(struct buf *out, size_t *out_new, const char *ours,
				       size_t ours_len, const char *theirs, size_t theirs_len);

/*
 * The remote the runs travel to and from: given (checked to be a remote of
 * the repository), else the current branch's upstream remote, else
 * "origin", else the only remote. *out is the name (caller frees). 0, or -1
 * with err_set and hints (unknown remote, none, several to choose from).
 */
int notes_merge_remote(char **out, git_repository *repo, const char *given);

/* "refs/notes/remotes/<remote>/train": where a remote's runs are fetched. Caller frees. */
char *notes_merge_remote_ref(const char *remote);

/*
 * The refspec that fetches them, "+refs/notes/train*:refs/notes/remotes/<remote>/train*".
 * The pattern makes a remote without notes no error for git fetch. Caller frees.
 */
char *notes_merge_refspec(const char *remote);

#endif
