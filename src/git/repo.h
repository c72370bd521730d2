/*
 * repo: opening the repository and naming commits, with git's messages.
 *
 * repo_open() finds the repository the way git does (GIT_DIR, then the current
 * directory upwards, honouring GIT_CEILING_DIRECTORIES). repo_resolve_commit()
 * turns a revision into a commit and explains an unborn HEAD or a bad revision.
 */
#ifndef GIT_REPO_H
#define GIT_REPO_H

#include <git2.h>
#include <stddef.h>

/* 0, or -1 with err_set ("not a git repository ..."). */
int repo_open(git_repository **out);

/* rev NULL means HEAD. 0, or -1 with err_set and hints. */
int repo_resolve_commit(git_commit **out, git_repository *repo, const char *rev);

/*
 * Where git-train keeps its local state: <common git dir>/train, created on
 * demand when create is set. Caller frees.
 */
int repo_train_dir(char **out, git_repository *repo, const char *sub, int create);

/*
 * The repository's root commit: the one HEAD's first-parent chain ends at
 * (the first commit of the main line, whatever merges brought in later).
 * Walking the chain is slow on a long history, so it is done once and the
 * root kept in <common git dir>/train/root; a kept root is used only while
 * it is a parentless commit of this repository, else the chain is walked
 * again. A shallow clone cannot walk to its root: it uses a kept root, else
 * fails. 0, or -1 with err_set and a hint (no commit yet, shallow clone).
 */
int repo_root_commit(git_oid *out, git_repository *repo);

/* Whether hex (len hex digits, a whole object id) names a commit of repo. */
int repo_has_commit(git_repository *repo, const char *hex, size_t len);

/* Short, unique abbreviation of an object id (at least 7 hex digits). Caller frees. */
char *repo_short_id(git_repository *repo, const git_oid *id);

/* The branch HEAD points at ("main"), "HEAD" when detached; caller frees. */
char *repo_branch_name(git_repository *repo);

#endif
