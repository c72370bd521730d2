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

/* 0, or -1 with err_set ("not a git repository ..."). */
int repo_open(git_repository **out);

/* rev NULL means HEAD. 0, or -1 with err_set and hints. */
int repo_resolve_commit(git_commit **out, git_repository *repo, const char *rev);

/*
 * Where git-train keeps its local state: <common git dir>/train, created on
 * demand when create is set. Caller frees.
 */
int repo_train_dir(char **out, git_repository *repo, const char *sub, int create);

/* Short, unique abbreviation of an object id (at least 7 hex digits). Caller frees. */
char *repo_short_id(git_repository *repo, const git_oid *id);

/* The branch HEAD points at ("main"), "HEAD" when detached; caller frees. */
char *repo_branch_name(git_repository *repo);

#endif
