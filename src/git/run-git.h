/*
 * run-git: runs the user's own git (from PATH, with an argv, never through
 * a shell) on the repository, for what must behave exactly as git does:
 * fetch and push (remotes, URLs, insteadOf, credentials, ssh) and config
 * writes (git's file format, multi-valued keys). libgit2 1.5's regex-based
 * config writes also leak.
 */
#ifndef GIT_RUN_GIT_H
#define GIT_RUN_GIT_H

#include <git2.h>

#include "util/util.h"

/*
 * Runs `git --git-dir=<repo's git dir> args...` (args NULL-terminated).
 * With out set, git's stdout and stderr both go there; else both go to our
 * stderr, our stdout being for results. Returns git's exit status (128 + N
 * when killed by signal N), or -1 with err_set when git did not start.
 */
int run_git(struct buf *out, git_repository *repo, const char *const *args);

#endif
