/*
 * snapshot: the working tree as a commit, like `git stash create`, touching
 * nothing: the working tree, the index file, HEAD and refs/stash are left as
 * they were. Only new objects are written to the object database.
 */
#ifndef GIT_SNAPSHOT_H
#define GIT_SNAPSHOT_H

#include <git2.h>
#include <stddef.h>

/*
 * Builds a commit whose tree is HEAD's tree plus the staged and unstaged
 * changes to tracked files (plus untracked, non-ignored files when
 * include_untracked), and whose parent is HEAD.
 * Returns 0 with *out the snapshot; 1 with *out = HEAD when there is nothing
 * to snapshot; -1 with err_set (bare repository, unborn HEAD, conflicts, ...).
 */
int snapshot_create(git_oid *out, git_repository *repo, int include_untracked);

/*
 * Keeps a snapshot that was run reachable, as refs/train/snapshots/<sha>:
 * its note would otherwise sit on an unreachable commit that `git gc` prunes
 * and `git notes prune` drops, and `git log --notes=train --all` could not
 * show it. Leaves HEAD, branches and refs/stash alone. 0, or -1 with err_set.
 */
int snapshot_keep(git_repository *repo, const git_oid *snapshot);

/*
 * Counts tracked files whose working tree or index state differs from HEAD
 * (and untracked files, separately), for the "not part of this run" warning.
 * Bare repositories have none. 0, or -1 with err_set.
 */
int snapshot_count_changes(size_t *out_tracked, size_t *out_untracked, git_repository *repo);

#endif
