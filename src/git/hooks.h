/*
 * hooks: git-train's pre-push hook in a repository's hooks directory.
 *
 * The hooks directory is the one git uses: core.hooksPath (a relative path
 * is taken from the top of the work tree, or from the git directory of a bare
 * repository; a leading ~ or ~user is expanded), else <common git dir>/hooks.
 *
 * The hook is contrib/hooks/pre-push, embedded at build time as
 * hook_pre_push, and recognised by its marker line. Someone else's pre-push
 * hook is never silently replaced: installing refuses, or, asked to chain,
 * renames it to pre-push.chained, which git-train's hook runs first with the
 * same arguments and input. Uninstalling puts it back.
 */
#ifndef GIT_HOOKS_H
#define GIT_HOOKS_H

#include <git2.h>

#include "git/config.h"

/* contrib/hooks/pre-push (generated into hook-embed.c). */
extern const char hook_pre_push[];

/* A line every version of git-train's pre-push hook has. */
#define HOOKS_MARKER "# git-train pre-push hook:"

#define HOOKS_FILE	   "pre-push"
#define HOOKS_CHAINED_FILE "pre-push.chained"

/* The hooks directory (absolute or relative to the current directory). Caller frees. 0 or -1. */
int hooks_dir(char **out, git_repository *repo, const struct config *cfg);

enum hooks_action {
	HOOKS_INSTALLED,  /* there was no pre-push hook */
	HOOKS_UPDATED,	  /* an older git-train hook was replaced */
	HOOKS_UP_TO_DATE, /* nothing to do */
	HOOKS_CHAINED,	  /* the other hook became pre-push.chained, ours runs it */
	HOOKS_REMOVED,	  /* uninstalled */
	HOOKS_RESTORED,	  /* uninstalled, and pre-push.chained is pre-push again */
	HOOKS_ABSENT,	  /* uninstall: there was no pre-push hook */
};

/* Refused (someone else's hook): err_set and hints say why and the ways out. */
#define HOOKS_REFUSED (-2)

/* Installs (or updates) the hook in dir, created if needed. 0, HOOKS_REFUSED, or -1 (err_set). */
int hooks_install(enum hooks_action *out, const char *dir, int chain);
/* Removes git-train's hook from dir. 0, HOOKS_REFUSED, or -1 (err_set). */
int hooks_uninstall(enum hooks_action *out, const char *dir);

#endif
